"""The URL ledger: the state each discovered URL ends a run in, and the run's counters.

A URL settles once per run (per replayed run, in a reextract): a second state for it is
refused, so that a Prefect task retried after settling part of a batch counts nothing
twice. Rows are written to ``urls/`` after the articles of their batches (tasks/commit.py):
a killed run keeps what it wrote and the next run does the rest.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, datetime
from typing import Any, Protocol

from dossier_pipeline.tasks.discover import DiscoveredURL, Discovery
from dossier_pipeline.tasks.fetch import FetchResult
from dossier_pipeline.tasks.progress import Progress
from dossier_pipeline.tasks.schema import UrlState
from dossier_pipeline.tasks.urls import host_of

# states whose reason is counted in the run record's "reasons"
EXPLAINED = (UrlState.FAILED, UrlState.SKIPPED, UrlState.NOT_ARTICLE, UrlState.BLOCKED)


class LedgerSink(Protocol):
    """Where ledger rows go (Store.write_ledger)."""

    def write_ledger(self, rows: list[dict[str, Any]], run_id: str, part: int) -> Any: ...


def fetch_host(fetch: FetchResult) -> str:
    return host_of(fetch.final_url or fetch.url) or "?"


class Ledger:
    """Every URL's state in the run, with its counters; ``sink`` None keeps the counts only
    (a reextract fetches nothing: its ledger would record no fetch)."""

    def __init__(self, run_id: str, sink: LedgerSink | None, progress: Progress) -> None:
        self.run_id = run_id
        self.sink = sink
        self.progress = progress
        self.counts: Counter[str] = Counter()  # states, and discovered/fetched/extracted/... per stage
        self.reasons: Counter[str] = Counter()
        self.blocked: defaultdict[str, Counter[str]] = defaultdict(Counter)  # host -> kind -> pages
        self.failures: list[dict[str, Any]] = []
        self.rows: list[dict[str, Any]] = []  # not yet written
        self.files: list[str] = []
        self.settled: set[tuple[str, str]] = set()  # (origin run, URL)
        self.discovery = Discovery()  # what discovery reported (its URLs are not kept)

    def discovered(self, discovery: Discovery) -> None:
        self.discovery = Discovery(expected=discovery.expected, failures=discovery.failures)
        self.counts["discovered"] = len(discovery.urls)

    def mark(self, item: DiscoveredURL, state: UrlState, *, stage: str | None = None, reason: str | None = None,
             article_id: str | None = None, fetch: FetchResult | None = None, origin: str = "") -> bool:
        """Settle ``item`` in ``state``; False (and nothing recorded) when it was settled already."""
        key = (origin or self.run_id, item.url)
        if key in self.settled:
            return False
        self.settled.add(key)
        self.counts[state] += 1
        self.progress.settled(state)
        if reason and state in EXPLAINED:
            self.reasons[f"{state}: {reason.split(':')[0]}"] += 1
        if state is UrlState.BLOCKED and fetch is not None and reason:
            self.blocked[fetch_host(fetch)][reason] += 1
        row = {
            "run_id": self.run_id, "url": item.url, "state": str(state), "stage": stage, "reason": reason,
            "article_id": article_id, "source_kind": item.source_kind, "source_url": item.source_url,
            "final_url": fetch.final_url if fetch else None, "http_status": fetch.status if fetch else None,
            "recorded_at": datetime.now(UTC),
        }
        if state is UrlState.FAILED:
            self.failures.append({k: row[k] for k in ("url", "stage", "reason", "http_status")})
        if self.sink is not None:
            self.rows.append(row)
        return True

    def is_settled(self, url: str, origin: str = "") -> bool:
        return (origin or self.run_id, url) in self.settled

    def flush(self) -> None:
        """Write the rows recorded since the last flush."""
        if self.sink is not None:
            path = self.sink.write_ledger(self.rows, self.run_id, len(self.files))
            if path is not None:
                self.files.append(str(path))
        self.rows = []
