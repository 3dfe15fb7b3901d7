"""Re-extraction: rebuild a dossier's articles/ and edits/ from its WARC archive alone.

The archive's metadata records are the fetches of every run, in the order they were
committed; ``ArchiveSource`` yields them as the batches those runs fetched, and the same
commit as a scrape's (same duplicate handling, same refresh comparison, same history
columns) rebuilds, with the current extractor and config, what the runs would have
written with today's code. Nothing is fetched: the pages are the archived responses.
Rows keep their fetch provenance (URL, source, fetched_at, HTTP headers, WARC pointer)
and get the new extractor, pipeline version and run_id; rows whose response is not in the
archive (written with ``archive = false``, or before it existed) are kept as they are.
The new tables are built in a hidden staging directory (``Staging``) and swapped in at
the end, so a failed reextract leaves the dataset as it was.
"""

from __future__ import annotations

import os
import shutil
import time
from collections import Counter, defaultdict, deque
from datetime import datetime

import pyarrow as pa
import pyarrow.compute as pc

from dossier_pipeline.tasks.archive import RAW_DIR, Event, events, open_record
from dossier_pipeline.tasks.cdx import ArchivedResult
from dossier_pipeline.tasks.config import Dossier
from dossier_pipeline.tasks.discover import DiscoveredURL
from dossier_pipeline.tasks.extract import Page
from dossier_pipeline.tasks.fetch import FetchResult
from dossier_pipeline.tasks.history import Observation
from dossier_pipeline.tasks.sources import Fetched, page_for
from dossier_pipeline.tasks.store import OutputError, Store
from dossier_pipeline.tasks.version import PIPELINE_VERSION

REBUILT = ("articles", "edits")
STAGING = ".reextract-"
REPLACED = "-replaced-"


class ArchiveSource:
    """Pages from the dataset's WARC archive, batch by batch as their runs fetched them."""

    step = "load"

    def __init__(self, store: Store, dossier: Dossier, run_id: str, counts: Counter[str],
                 durations: defaultdict[str, float]) -> None:
        self.store = store
        self.dossier = dossier
        self.run_id = run_id
        self.counts = counts
        self.durations = durations
        self.runs: list[str] = []  # the runs whose fetches are replayed

    def scan(self) -> deque[Event]:
        """Every archived fetch, in the order the runs committed them."""
        started = time.monotonic()
        found = list(events(self.store.root))
        self.runs = list(dict.fromkeys(e.data["run_id"] for e in found))
        self.durations["scan"] += time.monotonic() - started
        return deque(found)

    def take(self, queue: deque[Event], size: int) -> list[Event]:
        """Up to ``size`` events of one original run (a batch never mixes runs)."""
        batch = [queue.popleft()]
        while queue and len(batch) < size and queue[0].data["run_id"] == batch[0].data["run_id"]:
            batch.append(queue.popleft())
        return batch

    def pages(self, batch: list[Event]) -> Fetched:
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
            record = open_record(self.store.root, pointer.file, pointer.offset)
            item = DiscoveredURL(data["url"], data["source_kind"], data["source_url"], data.get("hints") or {})
            result = FetchResult(data["url"], data.get("final_url"), record.status, record.http_headers,
                                 record.payload, when, archived=pointer)
            if data.get("archive_url"):  # read from a web archive (tasks/wayback.py)
                result = ArchivedResult(**vars(result), archive_url=data["archive_url"],
                                        captured_at=datetime.fromisoformat(str(data["archive_captured_at"])))
            items[key] = (item, result)
            pages.append(page_for(self.dossier, self.run_id, key, item, result))
        self.counts["replayed"] += len(batch)
        self.durations["load"] += time.monotonic() - started
        return Fetched(pages, items, bool(batch[0].data.get("refresh")), observations, batch[0].data["run_id"])

    def source_runs(self) -> list[str]:
        return self.runs

    def archive_requests(self) -> int:
        return 0

    def close(self) -> None:
        return None


class Staging:
    """A reextract's new articles/ and edits/, built in a hidden directory of the dataset
    and put in place of the old ones at the end (each by one rename)."""

    def __init__(self, target: Store, run_id: str) -> None:
        if not target.local:
            raise OutputError(f"{target.location}: reextract needs a local dataset (copy it from object storage)")
        self.target = target
        self.run_id = run_id
        self.store: Store | None = None  # the staging copy, until the swap
        self.kept = 0  # rows the archive cannot rebuild, kept as they are

    def clean(self) -> None:
        """Undo what a killed reextract left: a half-done swap, a staging directory."""
        root = self.target.root
        for backup in root.glob(f".*{REPLACED}*"):  # a reextract killed during its swap
            original = root / backup.name[1:].split(REPLACED)[0]
            if original.exists():
                shutil.rmtree(backup, ignore_errors=True)
            else:
                os.replace(backup, original)
        for stale in root.glob(f"{STAGING}*"):  # a reextract killed before its swap
            shutil.rmtree(stale, ignore_errors=True)

    def open(self) -> Store:
        """The staging copy, holding already the rows the archive cannot rebuild (no WARC
        pointer, or its file is gone)."""
        store = self.store = Store(self.target.root / f"{STAGING}{self.run_id}", "", PIPELINE_VERSION)
        store.prepare()
        table = self.target.read_articles()
        # (a row read from someone else's WARC file, a warc source, is not in the archive: kept)
        present = [bool(f) and f.startswith(f"{RAW_DIR}/") and (self.target.root / f).exists()
                   for f in table["warc_file"].to_pylist()]
        kept = table.filter(pc.invert(pa.array(present, type=pa.bool_()))) if table.num_rows else table
        self.kept = kept.num_rows
        if self.kept:
            store.commit_articles(kept.to_pylist())
        return store

    def swap(self) -> None:
        """Put the rebuilt tables in place of the old ones (each by one rename)."""
        if self.store is None:
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
        self.store = None

    def discard(self) -> None:
        """A failed reextract: drop the staging copy, leave the dataset as it was."""
        if self.store is not None:
            shutil.rmtree(self.store.root, ignore_errors=True)
            self.store = None
