"""What a run fetches, and in which batches: the URLs discovery found that the dataset does
not hold yet (all of them with ``refresh``), taken per batch at each host's pace."""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Mapping
from typing import Any, Protocol

from dossier_pipeline.tasks.discover import DiscoveredURL, Discovery
from dossier_pipeline.tasks.ledger import Ledger
from dossier_pipeline.tasks.schema import UrlState
from dossier_pipeline.tasks.urls import host_of
from dossier_pipeline.tasks.windows import Window, outside_by_hints

BATCH_SECONDS = 30.0  # the longest one host may keep a fetch batch busy


class Paced(Protocol):
    """Each host's request interval (fetch.Politeness)."""

    def interval(self, host: str) -> float: ...


def plan(discovery: Discovery, known: Mapping[str, Mapping[str, Any]], ledger: Ledger, *, refresh: bool,
         limit: int | None, window: Window | None) -> deque[DiscoveredURL]:
    """Record discovery; settle the URLs not to fetch (stored, outside the window, over
    ``limit``) and return the others in the queue batches are taken from: each URL is let
    go once its batch is written (and Prefect tracks a returned queue as one object, a list
    item by item)."""
    ledger.discovered(discovery)
    todo: deque[DiscoveredURL] = deque()
    for item in discovery.urls:
        stored = known.get(item.url)
        if stored is not None and not refresh:
            ledger.mark(item, UrlState(stored.get("state", UrlState.UNCHANGED)), article_id=stored.get("article_id"),
                        reason=stored.get("reason") or "already in the dataset")
        elif window is not None and (outside := outside_by_hints(item.hints, window)):
            ledger.mark(item, UrlState.SKIPPED, stage="discover", reason=outside)  # not settled: another window's
        elif limit is not None and len(todo) >= limit:
            ledger.mark(item, UrlState.SKIPPED, stage="discover", reason="limit: over --limit for this run")
        else:
            todo.append(item)
    ledger.flush()
    return todo


def next_batch(queue: deque[DiscoveredURL], size: int, pace: Paced) -> list[DiscoveredURL]:
    """Take up to ``size`` URLs from ``queue``, at most as many per host as the host's
    rate allows in BATCH_SECONDS: a slow host (a long Crawl-delay) is spread over many
    batches instead of holding up one batch, and every other host, until it is done.
    When only slow hosts are left, batches are small rather than stalled."""
    per_host: Counter[str] = Counter()
    batch: list[DiscoveredURL] = []
    kept: list[DiscoveredURL] = []
    while queue and len(batch) < size:
        item = queue.popleft()
        host = host_of(item.url) or ""
        if per_host[host] < max(1, int(BATCH_SECONDS / pace.interval(host))):
            per_host[host] += 1
            batch.append(item)
        else:
            kept.append(item)
    queue.extendleft(reversed(kept))
    return batch
