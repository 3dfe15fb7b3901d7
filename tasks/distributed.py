"""Extraction on a Dask cluster ([execution] task_runner = "dask", via prefect-dask).

Only extraction, the CPU-bound step, goes to the cluster: fetching stays in the flow run's
process, the one place that knows every host's rate, connection and Crawl-delay budget,
so politeness holds however many workers there are. A worker gets a batch's pages as
plain data, extracts them, writes the rows it extracted to a staging file next to the
dataset (any filesystem the dataset is on, e.g. S3) and returns only their states; the
flow's commit step then writes them into the dataset and removes the staging file. A lost
worker leaves at most a staging file, which no reader sees and the next run removes; Prefect
retries its batch on another worker.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from prefect.task_runners import TaskRunner

from dossier_pipeline.tasks.config import Dossier, Execution
from dossier_pipeline.tasks.contracts import ArticleRow, Extraction, ExtractionStatus
from dossier_pipeline.tasks.extract import Page
from dossier_pipeline.tasks.store import Store
from dossier_pipeline.tasks.warcfiles import CHUNK, FileRead, FileSpec, Items, file_pages
from dossier_pipeline.tasks.workers import process_chunk


def dask_runner(execution: Execution) -> TaskRunner[Any]:
    """A started prefect-dask task runner connected to the [execution] cluster. The run
    holds it (and submits extraction to it) whatever started the flow: the CLI, a served
    or deployed schedule, a backfill's child run."""
    from prefect_dask.task_runners import DaskTaskRunner  # local import: only Dask users pay for it

    runner: TaskRunner[Any] = DaskTaskRunner(address=execution.address)  # its __enter__ is untyped; the base's is
    return runner.__enter__()


def extract_staged(pages: list[Page], seconds: float, output: str, slug: str, path: str) -> list[Extraction]:
    """Extract pages on this worker; rows go to the staging file ``path``, results keep a
    pointer to them (``staged``)."""
    results = process_chunk(pages, seconds)
    stage(results, Store(output, slug, ""), path)
    return results


def extract_file_staged(spec: FileSpec, dossier: Dossier, run_id: str, seconds: float, output: str,
                        path: str) -> tuple[Items, list[Extraction], FileRead]:
    """Read and extract a WARC file on this worker (tasks/warcfiles.py), CHUNK pages at a
    time, each chunk's rows staged at once (``path`` numbered by chunk): the worker holds one
    chunk's pages and rows, however long the file."""
    store = Store(output, dossier.slug, "")
    read = FileRead()
    items: Items = {}
    results: list[Extraction] = []
    for n, (pages, chunk_items, _) in enumerate(file_pages(spec, dossier, run_id, read, CHUNK)):
        if not pages:
            continue
        extracted = process_chunk(pages, seconds)
        stage(extracted, store, f"{path.removesuffix('.parquet')}-{n:05d}.parquet")
        results += extracted
        items.update(chunk_items)
    return items, results, read


def stage(results: list[Extraction], store: Store, path: str) -> None:
    """Move the rows of ``results`` to the staging file ``path``, leaving a pointer (``staged``)."""
    records: list[ArticleRow] = []
    for result in results:
        if result["status"] == ExtractionStatus.OK:
            result["staged"] = (path, len(records))
            records.append(result.pop("record"))
    if records:
        store.write_staged(records, path)


def unstage(store: Store, results: list[Extraction]) -> list[Extraction]:
    """Put the staged rows back into their results (and remove the staging files)."""
    staged: dict[str, list[Extraction]] = defaultdict(list)
    for result in results:
        if "staged" in result:
            staged[result["staged"][0]].append(result)
    for path, waiting in staged.items():
        rows = store.take_staged(path)
        for result in waiting:
            result["record"] = rows[result.pop("staged")[1]]
    return results
