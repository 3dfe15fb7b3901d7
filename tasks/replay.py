"""Re-extraction: rebuild a dossier's articles/ and edits/ from its WARC archive alone.

The archive's metadata records are the fetches of every run, in the order they were
committed; ``ArchiveSource`` yields them as the batches those runs fetched, and the same
commit as a scrape's (same duplicate handling, same refresh comparison, same history
columns) rebuilds, with the current extractor and config, what the runs would have
written with today's code. Nothing is fetched: the pages are the archived responses.
Rows keep their fetch provenance (URL, source, fetched_at, HTTP headers, WARC pointer)
and get the new extractor, pipeline version and run_id; rows whose response is not in the
archive (written with ``archive = false``, or before it existed) are kept as they are.
The new tables are built in a hidden staging directory (``tasks/staging.py``) and swapped
in at the end, so a failed reextract leaves the dataset as it was.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict, deque
from datetime import datetime

from dossier_pipeline.tasks.archive import Event, events, open_record
from dossier_pipeline.tasks.cdx import ArchivedResult
from dossier_pipeline.tasks.config import Dossier
from dossier_pipeline.tasks.discover import DiscoveredURL
from dossier_pipeline.tasks.extract import Page
from dossier_pipeline.tasks.fetch import FetchResult
from dossier_pipeline.tasks.history import Observation
from dossier_pipeline.tasks.sources import Fetched, page_for
from dossier_pipeline.tasks.store import Store


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
