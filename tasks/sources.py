"""Where a run's pages come from: the ``PageSource`` protocol, and live fetching.

A source turns a batch of its work items (discovered URLs for live fetching, archived
fetch events for a reextract, captures for a web archive) into a ``Fetched`` batch: the
pages to extract and, for each, the URL it settles and the response it came from. The
stages after it (extraction, tasks/workers.py; the commit, tasks/commit.py) see only
``Fetched`` and never know which source fed them. A source settles in the ledger the
items that yield no page (a failed fetch, a robots.txt refusal, a 304).
"""

from __future__ import annotations

import time
from collections import defaultdict, deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from dossier_pipeline.tasks.archive import ArchiveWriter
from dossier_pipeline.tasks.config import Dossier
from dossier_pipeline.tasks.contracts import ArticleRow
from dossier_pipeline.tasks.discover import DiscoveredURL
from dossier_pipeline.tasks.extract import Page
from dossier_pipeline.tasks.fetch import FetchResult, FetchSession, Politeness
from dossier_pipeline.tasks.history import GONE_STATUSES, Observation
from dossier_pipeline.tasks.ledger import Ledger
from dossier_pipeline.tasks.planner import next_batch
from dossier_pipeline.tasks.progress import Progress
from dossier_pipeline.tasks.schema import UrlState
from dossier_pipeline.tasks.version import PIPELINE_VERSION
from dossier_pipeline.tasks.wayback import Archives, provenance
from dossier_pipeline.tasks.windows import Window, outside_by_date

ItemT = TypeVar("ItemT")


@dataclass(frozen=True)
class RowFilter:
    """A source's own conditions on its extracted articles (a warc source's period, by each
    article's publication date, and its keywords); checked at the commit."""

    period: Window | None = None
    keywords: tuple[str, ...] = ()

    def why_not(self, record: ArticleRow) -> str | None:
        """Why an extracted article is not the source's; None to keep it."""
        if self.period is not None and (outside := outside_by_date(record, self.period)) is not None:
            return outside.replace("outside_window", "outside_period")
        if self.keywords:
            text = f"{record.get('title') or ''}\n{record.get('text') or ''}".casefold()
            if not any(k.casefold() in text for k in self.keywords):
                return "no_keyword: none of " + ", ".join(self.keywords)
        return None


@dataclass
class Fetched:
    """A batch of pages handed from a source to extraction, then to the commit."""

    pages: list[Page]
    items: dict[int, tuple[DiscoveredURL, FetchResult]]  # Page.key -> the URL it settles, the response
    refresh: bool = False  # compare with the stored rows (a --refresh, or a reextract replaying one)
    observations: list[Observation] = field(default_factory=list)  # 304s and 404/410s of stored articles
    origin: str = ""  # the run that fetched it (a reextract replays other runs' batches)
    rows: RowFilter | None = None  # the source's own conditions on its articles


class PageSource(Protocol[ItemT]):
    """Where pages come from. ``step`` names the batch task runs (``fetch-batch-12``)."""

    step: str

    def take(self, queue: deque[ItemT], size: int) -> list[ItemT]:
        """The next batch of work items, removed from ``queue``."""
        ...

    def pages(self, batch: list[ItemT]) -> Fetched:
        """The batch's pages; items that yield none are settled in the ledger."""
        ...

    def close(self) -> None:
        """Release what the source holds (connections, files)."""
        ...

    def source_runs(self) -> list[str] | None:
        """The runs whose fetches the source replays (None: it fetches pages itself)."""
        ...

    def archive_requests(self) -> int:
        """Requests made to web archives (tasks/cdx.py)."""
        ...


def page_for(dossier: Dossier, run_id: str, key: int, item: DiscoveredURL, result: FetchResult) -> Page:
    """What extraction gets for a fetched page: the body and its context (every source
    builds it here, with the current config, so that a reextract's rows match a scrape's)."""
    settings = dossier.settings
    ctx = {
        "dossier": dossier.slug, "url": item.url, "final_url": result.final_url,
        "source_kind": item.source_kind, "source_url": item.source_url,
        "fetched_at": result.fetched_at, "http_status": result.status,
        "content_type": result.headers.get("content-type"), "etag": result.headers.get("etag"),
        "last_modified": result.headers.get("last-modified"), "pipeline_version": PIPELINE_VERSION,
        "run_id": run_id, "domains": dossier.domains, "timezone": settings.timezone,
        "hints": dict(item.hints),  # dates seen at discovery: kept as date evidence
        "furniture": dossier.furniture,
        **provenance(result),
    }
    return Page(key, result.final_url or item.url, result.body, result.headers.get("content-type"),
                dossier.language, ctx)


class LiveSource:
    """Pages fetched from the web now, politely (tasks/fetch.py), with a conditional GET for
    the URLs the dataset holds; every response archived when the run keeps a WARC archive.
    With ``archives`` (a dossier with wayback sources, tasks/wayback.py), the articles the
    site no longer serves are read from the web archive that listed them. With
    ``defer_gone`` (a dossier with warc sources, read after the live pages), a 404/410 of
    an article the dataset does not hold is settled only after the files (``settle_gone``):
    a file's copy of it is then its row, and the 404/410 its takedown, not a failure."""

    step = "fetch"

    def __init__(self, run_id: str, dossier: Dossier, ledger: Ledger, progress: Progress,
                 durations: defaultdict[str, float], *,
                 known: Mapping[str, Mapping[str, Any]], refresh: bool, archive: ArchiveWriter | None,
                 archives: Archives | None = None, defer_gone: bool = False) -> None:
        self.run_id = run_id
        self.dossier = dossier
        self.ledger = ledger
        self.progress = progress
        self.durations = durations
        self.known = known  # URL -> what the dataset holds for it (Store.known_urls)
        self.refresh = refresh
        self.archive = archive
        self.archives = archives
        self.defer_gone = defer_gone
        self.gone: dict[str, tuple[DiscoveredURL, FetchResult]] = {}  # URL -> its 404/410, until settle_gone
        self.politeness = Politeness(dossier.settings, archive)
        self.session: FetchSession | None = None  # opened by the first batch

    def take(self, queue: deque[DiscoveredURL], size: int) -> list[DiscoveredURL]:
        return next_batch(queue, size, self.politeness)

    def pages(self, batch: list[DiscoveredURL]) -> Fetched:
        """Fetch a batch (conditional GET for stored URLs); failures go to the ledger."""
        started = time.monotonic()
        validators = {i.fetch_url: {"etag": s.get("etag"), "last_modified": s.get("last_modified")}
                      for i in batch if (s := self.known.get(i.url)) and "state" not in s}
        if self.session is None:
            self.session = FetchSession(self.politeness, self.dossier.domains)
        results = self.session.fetch_all([i.fetch_url for i in batch], validators=validators,
                                         on_result=self.fetched_one)
        if self.archives is not None:  # articles the site no longer serves, from the archive that listed them
            results = self.archives.fallback(batch, results, self.known)
        pages: list[Page] = []
        items: dict[int, tuple[DiscoveredURL, FetchResult]] = {}
        observations: list[Observation] = []
        mark = self.ledger.mark
        for key, (item, result) in enumerate(zip(batch, results, strict=True)):
            stored = self.known.get(item.url)
            if result.not_modified:
                assert stored is not None
                self.ledger.counts["fetched"] += 1
                mark(item, UrlState.UNCHANGED, reason="http 304 not modified", fetch=result,
                     article_id=stored.get("article_id"))
                observations.append(self.observe("not_modified", item, result, stored.get("article_id")))
            elif result.stage == "robots":
                mark(item, UrlState.SKIPPED, stage="robots", reason=result.reason, fetch=result)
            elif not result.ok and self.defer_gone and result.status in GONE_STATUSES and stored is None:
                self.gone[item.url] = (item, result)
            elif not result.ok:
                mark(item, UrlState.FAILED, stage="fetch", reason=result.reason, fetch=result)
                if result.status in GONE_STATUSES and stored is not None and "state" not in stored:
                    observations.append(self.observe("gone", item, result, stored.get("article_id")))
            else:
                self.ledger.counts["fetched"] += 1
                items[key] = (item, result)
                pages.append(page_for(self.dossier, self.run_id, key, item, result))
                result.body = b""  # the page holds it, and lets go of it once extracted (extract)
                assert result.fetched_at is not None
                self.describe(result, {"event": "fetched", "url": item.url, "source_kind": item.source_kind,
                                       "source_url": item.source_url, "hints": item.hints,
                                       "final_url": result.final_url, "fetched_at": result.fetched_at.isoformat(),
                                       "http_status": result.status, **provenance(result)})
        self.durations["fetch"] += time.monotonic() - started
        return Fetched(pages, items, self.refresh, observations, self.run_id)

    def settle_gone(self) -> None:
        """The 404/410s no file had a copy of are failures, as without warc sources."""
        for item, result in self.gone.values():
            self.ledger.mark(item, UrlState.FAILED, stage="fetch", reason=result.reason, fetch=result)
        self.gone.clear()
        self.ledger.flush()

    def fetched_one(self, result: FetchResult) -> None:
        """Progress as each response completes, classified as ``pages`` will record it."""
        self.progress.fetched("page" if result.ok else "unchanged" if result.not_modified else "failed")

    def describe(self, result: FetchResult, event: dict[str, Any]) -> None:
        """Archive the pipeline's account of a response next to it: what a reextract needs."""
        if self.archive is not None and result.archived is not None:
            self.archive.write_metadata(result.archived, result.final_url or result.url,
                                        {"run_id": self.run_id, "refresh": self.refresh, **event})

    def observe(self, kind: str, item: DiscoveredURL, result: FetchResult, article_id: str | None) -> Observation:
        """A 304 or 404/410 of a stored article: archived now, applied to its row at commit."""
        assert result.fetched_at is not None and result.status is not None
        self.describe(result, {"event": kind, "url": item.url, "article_id": article_id,
                               "fetched_at": result.fetched_at.isoformat(), "http_status": result.status})
        return Observation(kind, item.url, article_id, result.fetched_at, result.status, result.archived)

    def source_runs(self) -> None:
        return None

    def archive_requests(self) -> int:
        return self.archives.requests if self.archives else 0

    def close(self) -> None:
        if self.session is not None:
            self.session.close()
            self.session = None
        if self.archives is not None:
            self.archives.close()
