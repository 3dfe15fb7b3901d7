"""Re-extraction: rebuild a dossier's articles/ and edits/ from its WARC archive alone.

The archive's metadata records are the fetches of every run, in the order they were
committed; replaying them through ``Run.commit`` (same duplicate handling, same refresh
comparison, same history columns) with the current extractor and config rebuilds what
the runs would have written with today's code. Nothing is fetched: the pages are the
archived responses. Rows keep their fetch provenance (URL, source, fetched_at, HTTP
headers, WARC pointer) and get the new extractor, pipeline version and run_id; rows whose
response is not in the archive (written with ``archive = false``, or before it existed)
are kept as they are. The new tables are built in a hidden staging directory and
swapped in at the end, so a failed reextract leaves the dataset as it was.
"""

from __future__ import annotations

import os
import shutil
import time
from collections import deque
from datetime import datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from dossier_pipeline.tasks.archive import Event, events, open_record, recover
from dossier_pipeline.tasks.cdx import ArchivedResult
from dossier_pipeline.tasks.config import Config, Dossier
from dossier_pipeline.tasks.discover import DiscoveredURL
from dossier_pipeline.tasks.extract import Page
from dossier_pipeline.tasks.fetch import FetchResult
from dossier_pipeline.tasks.history import History, Observation
from dossier_pipeline.tasks.run import DATA_DIRS, PIPELINE_VERSION, Fetched, Run
from dossier_pipeline.tasks.store import OutputError, Store
from dossier_pipeline.tasks.workers import ExtractorPool

REBUILT = ("articles", "edits")
STAGING = ".reextract-"
REPLACED = "-replaced-"


class Replay(Run):
    """A reextract run: batches come from the archive instead of the network."""

    def __init__(self, run_id: str, config: Config, dossier: Dossier, output: str, parameters: dict[str, Any],
                 pool: ExtractorPool) -> None:
        super().__init__(run_id, config, dossier, output, parameters, pool)
        self.kind = "reextract"
        self.observes = True  # the archive may hold a refresh's observations
        self.distributed = False  # reads a local archive, extracts on the local pool
        if not self.store.local:
            raise OutputError(f"{self.store.location}: reextract needs a local dataset (copy it from object storage)")
        self.target = self.store  # the dataset; self.store is the staging copy until the swap
        self.origin = ""  # the run whose batches are being replayed
        self.source_runs: list[str] = []
        self.kept = 0

    def prepare(self) -> None:
        root = self.target.root
        for backup in root.glob(f".*{REPLACED}*"):  # a reextract killed during its swap
            original = root / backup.name[1:].split(REPLACED)[0]
            if original.exists():
                shutil.rmtree(backup, ignore_errors=True)
            else:
                os.replace(backup, original)
        for stale in root.glob(f"{STAGING}*"):  # a reextract killed before its swap
            shutil.rmtree(stale, ignore_errors=True)
        self.files_before = self.target.snapshot(DATA_DIRS)
        self.target.prepare()
        self.recovered_warcs = recover(self.target.root)
        self.store = Store(self.target.root / f"{STAGING}{self.run_id}", "", PIPELINE_VERSION)
        self.store.prepare()
        self.history = History(set())
        # Rows the archive cannot rebuild (no WARC pointer, or its file is gone) are kept.
        table = self.target.read_articles()
        present = [bool(f) and (self.target.root / f).exists() for f in table["warc_file"].to_pylist()]
        kept = table.filter(pc.invert(pa.array(present, type=pa.bool_()))) if table.num_rows else table
        self.kept = kept.num_rows
        if self.kept:
            self.store.commit_articles(kept.to_pylist())

    def scan(self) -> list[Event]:
        started = time.monotonic()
        found = list(events(self.target.root))
        self.source_runs = list(dict.fromkeys(e.data["run_id"] for e in found))
        self.durations["scan"] += time.monotonic() - started
        return found

    @staticmethod
    def take(queue: deque[Event], size: int) -> list[Event]:
        """Up to ``size`` events of one original run (a batch never mixes runs)."""
        batch = [queue.popleft()]
        while queue and len(batch) < size and queue[0].data["run_id"] == batch[0].data["run_id"]:
            batch.append(queue.popleft())
        return batch

    def load(self, batch: list[Event]) -> Fetched:
        """The archived responses of a batch, as the fetch step had them."""
        started = time.monotonic()
        pages: list[Page] = []
        items: dict[int, tuple[DiscoveredURL, FetchResult]] = {}
        observations: list[Observation] = []
        for key, event in enumerate(batch):
            data, pointer = event.data, event.response
            when = datetime.fromisoformat(data["fetched_at"])
            if data["event"] != "fetched":
                observations.append(Observation(data["event"], data["url"], data.get("article_id"), when,
                                                data["http_status"], pointer))
                continue
            record = open_record(self.target.root, pointer.file, pointer.offset)
            item = DiscoveredURL(data["url"], data["source_kind"], data["source_url"], data.get("hints") or {})
            result = FetchResult(data["url"], data.get("final_url"), record.status, record.http_headers,
                                 record.payload, when, archived=pointer)
            if data.get("archive_url"):  # read from a web archive (tasks/wayback.py)
                result = ArchivedResult(**vars(result), archive_url=data["archive_url"],
                                        captured_at=datetime.fromisoformat(str(data["archive_captured_at"])))
            items[key] = (item, result)
            pages.append(self.page(key, item, result))
        self.counts["replayed"] += len(batch)
        self.durations["load"] += time.monotonic() - started
        return Fetched(pages, items, bool(batch[0].data.get("refresh")), observations, batch[0].data["run_id"])

    def commit(self, extracted: tuple[Fetched, list[dict[str, Any]]]) -> None:
        fetched = extracted[0]
        if fetched.origin != self.origin:  # each original run had its own "written in this run" set
            self.write()
            self.origin, self.written_ids = fetched.origin, set()
        super().commit(extracted)

    def flush_ledger(self) -> None:
        """The ledger records fetches: a reextract fetches nothing, its counts are in its run record."""
        self.ledger = []

    def swap(self) -> None:
        """Put the rebuilt tables in place of the old ones (each by one rename)."""
        if self.store is self.target:
            return
        for name in REBUILT:
            new, old = self.store.root / name, self.target.root / name
            backup = self.target.root / f".{name}{REPLACED}{self.run_id}"
            if old.exists():
                os.replace(old, backup)
            new.mkdir(parents=True, exist_ok=True)
            os.replace(new, old)
            shutil.rmtree(backup, ignore_errors=True)
        shutil.rmtree(self.store.root, ignore_errors=True)
        self.store = self.target

    def discard(self) -> None:
        """A failed reextract: drop the staging copy, leave the dataset as it was."""
        if self.store is not self.target:
            shutil.rmtree(self.store.root, ignore_errors=True)
            self.store = self.target

    def summary(self) -> dict[str, Any]:
        self.write()
        self.store.compact()  # the staging copy's partitions, before they are swapped in
        self.swap()
        record = super().summary()
        record["counts"]["replayed"] = self.counts["replayed"]
        record["counts"]["kept_without_archive"] = self.kept
        record["source_runs"] = self.source_runs
        record["prefect_task_runs"] = 2 + 3 * self.batches  # scan and finish, plus load, extract, write per batch
        return record
