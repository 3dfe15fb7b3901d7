"""The Prefect tasks of a run: each a call of one piece of the run (tasks/run.py).

Each task run handles a whole batch (never one URL): Prefect task runs cost milliseconds
each; their names say which batch (``fetch-batch-12``). Caching is off: inputs are raw page
bodies, and a rerun's incrementality comes from the dataset itself, not from Prefect's
result cache.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from typing import Any, TypeVar, cast
from uuid import UUID

from prefect import get_client, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
from prefect.client.schemas.objects import TERMINAL_STATES
from prefect.events.worker import EventsWorker
from prefect.utilities.annotations import quote

from dossier_pipeline.tasks.archive import Event
from dossier_pipeline.tasks.config import Dossier
from dossier_pipeline.tasks.contracts import Extraction
from dossier_pipeline.tasks.discover import DiscoveredURL, Discovery, discover
from dossier_pipeline.tasks.diskfull import DiskFull
from dossier_pipeline.tasks.distributed import extract_file_staged, extract_staged
from dossier_pipeline.tasks.extract import Page
from dossier_pipeline.tasks.interrupt import record_written, stop_requested
from dossier_pipeline.tasks.planner import plan
from dossier_pipeline.tasks.replay import ArchiveSource
from dossier_pipeline.tasks.run import Run
from dossier_pipeline.tasks.sources import Fetched, LiveSource, PageSource
from dossier_pipeline.tasks.warcfiles import FileRead, FileSpec, Items, WarcFiles

Extracted = tuple[Fetched, list[Extraction]]
T = TypeVar("T")


def unvisited(value: T) -> T:
    """``value`` handed to a task as it is, without Prefect walking it for futures (a batch's
    pages, its extraction results). Prefect unwraps the quote before the task runs, so the
    task gets a T: the cast says so, which Prefect's signatures cannot."""
    return cast(T, quote(value))


@task(name="discover", cache_policy=NO_CACHE)
def discover_task(run: Run, source: LiveSource) -> Discovery:
    return discover(run.spec.dossier, source.politeness, run.window, source.archives)


@task(name="plan", cache_policy=NO_CACHE)
def plan_task(run: Run, source: LiveSource, discovery: Discovery, limit: int | None) -> deque[DiscoveredURL]:
    queue = plan(discovery, source.known, run.ledger, refresh=run.spec.refresh, limit=limit, window=run.window)
    run.ledger.progress.plan(len(discovery.urls), len(queue))
    return queue


@task(name="scan-archive", cache_policy=NO_CACHE)
def scan_task(source: ArchiveSource) -> deque[Event]:
    return source.scan()


# A retried batch settles nothing twice: the ledger takes one state per URL, the commit
# passes over the URLs settled or held already.
@task(name="pages-batch", task_run_name="{source.step}-batch-{number}", cache_policy=NO_CACHE, retries=1,
      retry_delay_seconds=5)
def pages_task(run: Run, source: PageSource[Any], batch: list[Any], number: int) -> Fetched | None:
    """The batch's pages; None when the disk is full (the run stops: Run.stops_when_full)."""
    with run.stops_when_full():
        return source.pages(batch)
    return None


@task(name="extract-batch", task_run_name="extract-batch-{number}", cache_policy=NO_CACHE)
def extract_task(run: Run, fetched: Fetched, number: int) -> Extracted:
    return run.extract(fetched)


@task(name="extract-batch-dask", task_run_name="extract-batch-dask-{number}", cache_policy=NO_CACHE,
      retries=2)
def extract_staged_task(pages: list[Page], seconds: float, output: str, slug: str, path: str,
                        number: int) -> list[Extraction]:
    return extract_staged(pages, seconds, output, slug, path)


@task(name="write-batch", task_run_name="write-batch-{number}", cache_policy=NO_CACHE, retries=1,
      retry_delay_seconds=5)
def commit_task(run: Run, extracted: Extracted, number: int) -> None:
    if run.disk_full is not None:  # a full disk stopped the run: nothing more is written
        return
    with run.stops_when_full():
        run.commit(extracted)


def submit_extract(run: Run, fetched: Fetched, number: int) -> Callable[[], Extracted]:
    """Start extracting a batch in the background (local process pool, or a Dask worker
    with plain data in and staged rows out); returns the call that waits for it."""
    if not run.distributed:
        return extract_task.submit(run, unvisited(fetched), number).result
    assert run.runner is not None
    future = run.runner.submit(extract_staged_task, parameters={
        "pages": fetched.pages, "seconds": run.spec.dossier.settings.extract_timeout_seconds,
        "output": run.spec.parameters["output"], "slug": run.spec.dossier.slug,
        "path": run.store.staged_path(run.spec.run_id, number), "number": number})
    future.add_done_callback(lambda _: run.ledger.progress.extracted(len(fetched.pages)))  # a whole batch: one chunk
    return lambda: (fetched, future.result())


def extract_and_commit(run: Run, source: PageSource[T], queue: deque[T], batch_size: int) -> None:
    """Take, extract and write batches while ``queue`` has work, so that both cores stay
    busy: batch n+1 is fetched (loaded) while batch n is extracted, and handed to
    extraction *before* batch n is awaited and written, so the workers always have the
    next pages queued (a batch's last chunks would otherwise leave one core idle).
    A stop request (tasks/interrupt.py) ends the loop: the batch being extracted is written
    whole; a batch fetched meanwhile is not extracted, and its URLs, with those left in
    ``queue``, are left for the next run (only its failed fetches are in the ledger).
    A full disk ends it too, and nothing more is written."""
    pending: tuple[int, Callable[[], Extracted]] | None = None
    stopped = False
    while len(queue) and not (stopped := stop_requested()) and run.disk_full is None:
        number = run.next_stage()
        fetched = pages_task(run, source, unvisited(source.take(queue, batch_size)), number)
        if (stopped := stop_requested()) or fetched is None:
            break
        submitted = number, submit_extract(run, fetched, number)
        if pending is not None:
            commit_task(run, unvisited(pending[1]()), pending[0])
        pending = submitted
    run.interrupted = stopped
    if pending is not None:
        extracted = pending[1]()
        if run.disk_full is None:
            commit_task(run, unvisited(extracted), pending[0])


@task(name="scan-warc-files", cache_policy=NO_CACHE)
def scan_warc_task(source: WarcFiles) -> deque[FileSpec]:
    return source.scan()


@task(name="warc-file-dask", task_run_name="warc-file-dask-{number}", cache_policy=NO_CACHE, retries=2)
def warc_file_dask_task(spec: FileSpec, dossier: Dossier, run_id: str, seconds: float, output: str, path: str,
                        number: int) -> tuple[Items, list[Extraction], FileRead]:
    return extract_file_staged(spec, dossier, run_id, seconds, output, path)


def read_warc_files(run: Run, source: WarcFiles, batch_size: int) -> None:
    """One task per file of the dossier's ``warc`` sources: read in this process and
    extracted on the run's process pool (the next file read while one is extracted; a file
    with more than ``batch_size`` of the dossier's pages, a batch of them at a time), or
    read and extracted by a Dask worker each (the cluster reads many files at once); the
    rows are committed in order, by the same committer as live pages'."""
    queue = scan_warc_task(source)
    if not run.distributed:
        extract_and_commit(run, source, queue, batch_size)
        return
    assert run.runner is not None
    pending: deque[tuple[int, FileSpec, Callable[[], tuple[Items, list[Extraction], FileRead]]]] = deque()
    while queue and not stop_requested():
        spec, number = queue.popleft(), run.next_stage()
        future = run.runner.submit(warc_file_dask_task, parameters={
            "spec": spec, "dossier": run.spec.dossier, "run_id": run.spec.run_id,
            "seconds": run.spec.dossier.settings.extract_timeout_seconds, "output": run.spec.parameters["output"],
            "path": run.store.staged_path(run.spec.run_id, number), "number": number})
        pending.append((number, spec, future.result))
    run.interrupted = run.interrupted or bool(queue)
    while pending:
        number, spec, wait = pending.popleft()
        items, results, read = wait()
        run.ledger.progress.extracted(len(results))
        commit_task(run, unvisited((source.fetched(spec, read, [], items), results)), number)


@task(name="finish", cache_policy=NO_CACHE)
def finish_task(run: Run, source: PageSource[Any] | None) -> dict[str, Any]:
    """Write the run record, and publish its summary where Prefect users look: the run's
    log and a table artifact in the UI. On a full disk, the record returned says whether
    it could not be written (``disk_full.record_written`` false)."""
    record = run.summary(source).as_json()
    try:
        run.store.write_run(record)
    except DiskFull as exc:
        run.disk_full = full = run.disk_full or exc
        record = {**record, "state": "disk_full", "disk_full": {**full.as_dict(), "record_written": False}}
    record_written()
    rows = summary_rows(record)
    get_run_logger().info("Run summary of %s:\n%s", record["dossier"],
                          "\n".join(f"  {row['measure']}: {row['value']}" for row in rows))
    dates = record["published_range"]
    create_table_artifact(rows, key=f"{record['dossier']}-run-summary",
                          description=f"**{record['dossier']}**, run `{record['run_id']}` → `{record['dataset']}`"
                          + (f"; published {dates['min'][:10]} … {dates['max'][:10]}" if dates else ""))
    return record


def summary_rows(record: dict[str, Any]) -> list[dict[str, Any]]:
    """The run record as two columns, measure and value (a table the UI shows as is):
    counts per stage, reasons, blocked hosts, source problems, dates written, dataset."""
    rows = [{"measure": k, "value": "not stated" if v is None else v} for k, v in record["counts"].items()]
    rows += [{"measure": f"reason: {k}", "value": v} for k, v in record["reasons"].items()]
    rows += [{"measure": f"blocked at {host}: {kind}", "value": n}
             for host, kinds in record["blocked_by_host"].items() for kind, n in kinds.items()]
    rows += [{"measure": f"source problem: {f['source_url']}", "value": f["reason"]} for f in record["source_failures"]]
    dates = record["published_range"] or dict.fromkeys(("min", "max"), "no dated row written")
    rows += [{"measure": "published from", "value": dates["min"]}, {"measure": "published to", "value": dates["max"]},
             {"measure": "dataset", "value": record["dataset"]}]
    return rows


def wait_for_task_run_records(flow_run_id: str, timeout: float = 60.0, settle: float = 0.6) -> bool:
    """Wait until the Prefect API has recorded the final state of the flow run's task runs.

    Prefect 3 records task runs from events, one database write at a time. When a process
    that used the embedded API exits, the API is stopped at once: task runs still in its
    queue are lost and its recorder, cancelled mid-write, logs CancelledError tracebacks.
    Waiting here, before exit, makes the records complete and the exit clean. Once this
    process has sent its events (``drain_all``), the records are complete when every task
    run recorded is in a final state and no new one has appeared for ``settle`` seconds.
    """
    EventsWorker.drain_all(timeout=timeout)  # send what this process still holds
    flow_runs = FlowRunFilter(id=FlowRunFilterId(any_=[UUID(flow_run_id)]))
    deadline = time.monotonic() + timeout
    seen: tuple[int, int] | None = None
    since = time.monotonic()
    with get_client(sync_client=True) as client:
        while time.monotonic() < deadline:
            recorded = final = offset = 0
            while batch := client.read_task_runs(flow_run_filter=flow_runs, limit=200, offset=offset):
                recorded += len(batch)
                final += sum(t.state_type in TERMINAL_STATES for t in batch)
                offset += len(batch)
            if (recorded, final) != seen:
                seen, since = (recorded, final), time.monotonic()
            elif recorded == final and time.monotonic() - since >= settle:
                return True
            time.sleep(0.1)
    return False
