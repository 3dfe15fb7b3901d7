"""Thin Prefect task wrappers around the plain step functions.

Each task run handles a whole batch (never one URL): Prefect task runs cost milliseconds
each. Caching is off: inputs are raw page bodies, and a rerun's incrementality comes from
the dataset itself, not from Prefect's result cache.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Sized
from typing import Any
from uuid import UUID

from prefect import get_client, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.filters import (
    FlowRunFilter,
    FlowRunFilterId,
    TaskRunFilter,
    TaskRunFilterState,
    TaskRunFilterStateType,
)
from prefect.client.schemas.objects import TERMINAL_STATES
from prefect.events.worker import EventsWorker
from prefect.utilities.annotations import quote

from dossier_pipeline.tasks.archive import Event
from dossier_pipeline.tasks.discover import DiscoveredURL, Discovery, discover
from dossier_pipeline.tasks.distributed import extract_staged
from dossier_pipeline.tasks.extract import Page
from dossier_pipeline.tasks.interrupt import stop_requested
from dossier_pipeline.tasks.replay import Replay
from dossier_pipeline.tasks.run import Fetched, Run


@task(name="discover", cache_policy=NO_CACHE)
def discover_task(run: Run) -> Discovery:
    return discover(run.dossier, run.politeness, run.window, run.archives)


@task(name="plan", cache_policy=NO_CACHE)
def plan_task(run: Run, discovery: Discovery, refresh: bool, limit: int | None) -> deque[DiscoveredURL]:
    return run.plan(discovery, refresh, limit)


@task(name="fetch-batch", cache_policy=NO_CACHE)
def fetch_task(run: Run, batch: list[DiscoveredURL]) -> Fetched:
    return run.fetch(batch)


@task(name="extract-batch", cache_policy=NO_CACHE)
def extract_task(run: Run, fetched: Fetched) -> tuple[Fetched, list[dict[str, Any]]]:
    return run.extract(fetched)


@task(name="extract-batch-dask", cache_policy=NO_CACHE, retries=2)
def extract_staged_task(pages: list[Page], seconds: float, output: str, slug: str, path: str) -> list[dict[str, Any]]:
    return extract_staged(pages, seconds, output, slug, path)


def submit_extract(run: Run, fetched: Fetched) -> Callable[[], tuple[Fetched, list[dict[str, Any]]]]:
    """Start extracting a batch in the background (local process pool, or a Dask worker
    with plain data in and staged rows out); returns the call that waits for it."""
    if not run.distributed:
        return extract_task.submit(run, quote(fetched)).result
    assert run.runner is not None
    future = run.runner.submit(extract_staged_task, parameters={
        "pages": fetched.pages, "seconds": run.dossier.settings.extract_timeout_seconds,
        "output": run.parameters["output"], "slug": run.dossier.slug,
        "path": run.store.staged_path(run.run_id, run.next_stage())})
    future.add_done_callback(lambda _: run.progress.extracted(len(fetched.pages)))  # a whole batch: one chunk
    return lambda: (fetched, future.result())


def extract_and_commit(run: Run, queue: Sized, fetch_next: Callable[[], Fetched]) -> None:
    """Fetch (``fetch_next``), extract and write batches while ``queue`` has URLs, so that
    both cores stay busy: batch n+1 is fetched while batch n is extracted, and handed to
    extraction *before* batch n is awaited and written, so the workers always have the
    next pages queued (a batch's last chunks would otherwise leave one core idle).
    A stop request (tasks/interrupt.py) ends the loop: the batch being extracted is written
    whole; a batch fetched meanwhile is not extracted, and its URLs, with those left in
    ``queue``, are left for the next run (only its failed fetches are in the ledger)."""
    pending = None
    stopped = False
    while len(queue) and not (stopped := stop_requested()):
        fetched = fetch_next()
        if stopped := stop_requested():
            break
        submitted = submit_extract(run, fetched)
        if pending is not None:
            commit_task(run, quote(pending()))
        pending = submitted
    run.interrupted = stopped
    if pending is not None:
        commit_task(run, quote(pending()))


@task(name="write-batch", cache_policy=NO_CACHE)
def commit_task(run: Run, extracted: tuple[Fetched, list[dict[str, Any]]]) -> None:
    run.commit(extracted)


@task(name="scan-archive", cache_policy=NO_CACHE)
def scan_task(replay: Replay) -> list[Event]:
    return replay.scan()


@task(name="load-batch", cache_policy=NO_CACHE)
def load_task(replay: Replay, batch: list[Event]) -> Fetched:
    return replay.load(batch)


@task(name="finish", cache_policy=NO_CACHE)
def finish_task(run: Run) -> dict[str, Any]:
    """Write the run record, and publish its summary where Prefect users look: the run's
    log and a table artifact in the UI."""
    record = run.summary()
    run.store.write_run(record)
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


def wait_for_task_run_records(flow_run_id: str, expected: int, timeout: float = 60.0) -> bool:
    """Wait until the Prefect API has recorded the final state of the flow run's task runs.

    Prefect 3 records task runs from events, one database write at a time. When a process
    that used the embedded API exits, the API is stopped at once: task runs still in its
    queue are lost and its recorder, cancelled mid-write, logs CancelledError tracebacks.
    Waiting here, before exit, makes the records complete and the exit clean.
    """
    EventsWorker.drain_all(timeout=timeout)  # send what this process still holds
    flow_runs = FlowRunFilter(id=FlowRunFilterId(any_=[UUID(flow_run_id)]))
    final = TaskRunFilter(state=TaskRunFilterState(type=TaskRunFilterStateType(any_=list(TERMINAL_STATES))))
    deadline = time.monotonic() + timeout
    with get_client(sync_client=True) as client:
        while time.monotonic() < deadline:
            recorded, offset = 0, 0
            while batch := client.read_task_runs(flow_run_filter=flow_runs, task_run_filter=final, limit=200,
                                                 offset=offset):
                recorded += len(batch)
                offset += len(batch)
            if recorded >= expected:
                return True
            time.sleep(0.2)
    return False
