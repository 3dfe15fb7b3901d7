"""A run of one dossier: its state, the per-URL ledger, counts, and the steps' batch logic.

Every discovered URL ends the run in exactly one state (see schema.URL_STATES); the
ledger is flushed to ``urls/`` after every batch, so a killed run keeps what it did.
"""

from __future__ import annotations

import asyncio
import platform
import time
from collections import Counter, defaultdict, deque
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from tasks.config import Config, Dossier
from tasks.discover import DiscoveredURL, Discovery
from tasks.extract import Page
from tasks.fetch import FetchResult, Politeness, fetch_all
from tasks.store import Store
from tasks.urls import host_of
from tasks.workers import ExtractorPool


def package_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "unknown"


PIPELINE_VERSION = package_version("dossier-pipeline")
BATCH_SECONDS = 30.0  # the longest one host may keep a fetch batch busy
VERSIONED_PACKAGES = ("dossier-pipeline", "prefect", "httpx", "trafilatura", "pyarrow", "lxml", "courlan",
                      "htmldate")


@dataclass
class Fetched:
    """A fetch batch handed from the fetch step to the extract step."""

    pages: list[Page]
    items: dict[int, tuple[DiscoveredURL, FetchResult]]


def fetch_host(fetch: FetchResult) -> str:
    return host_of(fetch.final_url or fetch.url) or "?"


class Run:
    """Mutable state of one run (kept out of Prefect's parameter handling on purpose:
    it is passed to tasks as an opaque object)."""

    def __init__(self, run_id: str, config: Config, dossier: Dossier, output: str, parameters: dict[str, Any],
                 pool: ExtractorPool) -> None:
        self.run_id = run_id
        self.config = config
        self.dossier = dossier
        self.parameters = parameters
        self.store = Store(output, dossier.slug, PIPELINE_VERSION)
        self.politeness = Politeness(dossier.settings)
        self.domains = dossier.domains
        self.pool = pool
        self.started_at = datetime.now(UTC)
        self.counts: Counter[str] = Counter()
        self.reasons: Counter[str] = Counter()
        self.blocked: defaultdict[str, Counter[str]] = defaultdict(Counter)  # host -> kind -> pages
        self.durations: Counter[str] = Counter()
        self.expected: int | None = None
        self.source_failures: list[dict[str, str]] = []
        self.failures: list[dict[str, Any]] = []
        self.known: dict[str, dict[str, Any]] = {}
        self.written_ids: set[str] = set()
        self.ledger: list[dict[str, Any]] = []
        self.ledger_files: list[str] = []
        self.batches = 0

    # -- ledger -------------------------------------------------------------------------
    def mark(self, item: DiscoveredURL, state: str, *, stage: str | None = None, reason: str | None = None,
             article_id: str | None = None, fetch: FetchResult | None = None) -> None:
        self.counts[state] += 1
        if reason and state in ("failed", "skipped", "not_article", "blocked"):
            self.reasons[f"{state}: {reason.split(':')[0]}"] += 1
        row = {
            "run_id": self.run_id, "url": item.url, "state": state, "stage": stage, "reason": reason,
            "article_id": article_id, "source_kind": item.source_kind, "source_url": item.source_url,
            "final_url": fetch.final_url if fetch else None, "http_status": fetch.status if fetch else None,
            "recorded_at": datetime.now(UTC),
        }
        if state == "failed":
            self.failures.append({k: row[k] for k in ("url", "stage", "reason", "http_status")})
        self.ledger.append(row)

    def flush_ledger(self) -> None:
        path = self.store.write_ledger(self.ledger, self.run_id, len(self.ledger_files))
        if path is not None:
            self.ledger_files.append(str(path))
        self.ledger = []

    # -- steps --------------------------------------------------------------------------
    def prepare(self) -> None:
        self.store.prepare()
        self.known = self.store.known_urls()

    def plan(self, discovery: Discovery, refresh: bool, limit: int | None) -> list[DiscoveredURL]:
        """Record discovery; return the URLs to fetch (new ones, or all with ``refresh``)."""
        self.expected = discovery.expected
        self.source_failures = discovery.failures
        self.counts["discovered"] = len(discovery.urls)
        todo = []
        for item in discovery.urls:
            stored = self.known.get(item.url)
            if stored is not None and not refresh:
                self.mark(item, stored.get("state", "unchanged"),
                          article_id=stored.get("article_id"),
                          reason=stored.get("reason") or "already in the dataset")
            elif limit is not None and len(todo) >= limit:
                self.mark(item, "skipped", stage="discover", reason="limit: over --limit for this run")
            else:
                todo.append(item)
        self.flush_ledger()
        return todo

    def next_batch(self, queue: deque[DiscoveredURL], size: int) -> list[DiscoveredURL]:
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
            if per_host[host] < max(1, int(BATCH_SECONDS / self.politeness.interval(host))):
                per_host[host] += 1
                batch.append(item)
            else:
                kept.append(item)
        queue.extendleft(reversed(kept))
        return batch

    def fetch(self, batch: list[DiscoveredURL]) -> Fetched:
        """Fetch a batch (conditional GET for stored URLs); failures go to the ledger."""
        started = time.monotonic()
        validators = {i.url: {"etag": s.get("etag"), "last_modified": s.get("last_modified")}
                      for i in batch if (s := self.known.get(i.url)) and "state" not in s}
        results = asyncio.run(fetch_all([i.url for i in batch], self.politeness, self.domains,
                                        validators=validators))
        pages: list[Page] = []
        items: dict[int, tuple[DiscoveredURL, FetchResult]] = {}
        settings = self.dossier.settings
        for key, (item, result) in enumerate(zip(batch, results, strict=True)):
            if result.not_modified:
                self.counts["fetched"] += 1
                self.mark(item, "unchanged", reason="http 304 not modified", fetch=result,
                          article_id=self.known[item.url].get("article_id"))
            elif result.stage == "robots":
                self.mark(item, "skipped", stage="robots", reason=result.reason, fetch=result)
            elif not result.ok:
                self.mark(item, "failed", stage="fetch", reason=result.reason, fetch=result)
            else:
                self.counts["fetched"] += 1
                items[key] = (item, result)
                ctx = {
                    "dossier": self.dossier.slug, "url": item.url, "final_url": result.final_url,
                    "source_kind": item.source_kind, "source_url": item.source_url,
                    "fetched_at": result.fetched_at, "http_status": result.status,
                    "content_type": result.headers.get("content-type"), "etag": result.headers.get("etag"),
                    "last_modified": result.headers.get("last-modified"), "pipeline_version": PIPELINE_VERSION,
                    "run_id": self.run_id, "domains": self.domains, "timezone": settings.timezone,
                }
                pages.append(Page(key, result.final_url or item.url, result.body,
                                  result.headers.get("content-type"), self.dossier.language, ctx))
        self.durations["fetch"] += time.monotonic() - started
        return Fetched(pages, items)

    def extract(self, fetched: Fetched) -> tuple[Fetched, list[dict[str, Any]]]:
        started = time.monotonic()
        results = self.pool.extract(fetched.pages)
        self.durations["extract"] += time.monotonic() - started
        return fetched, results

    def commit(self, extracted: tuple[Fetched, list[dict[str, Any]]]) -> None:
        """Write a batch's articles, then its ledger rows (articles first: a kill between
        the two leaves rows whose URLs the next run sees as already stored)."""
        started = time.monotonic()
        fetched, results = extracted
        records: list[dict[str, Any]] = []
        pending: list[tuple[DiscoveredURL, FetchResult, dict[str, Any]]] = []
        for result in results:
            item, fetch = fetched.items[result["key"]]
            if result["status"] == "not_article":
                self.mark(item, "not_article", stage="extract", reason=result["reason"], fetch=fetch)
            elif result["status"] == "blocked":
                self.blocked[fetch_host(fetch)][result["reason"]] += 1
                self.mark(item, "blocked", stage="extract", reason=result["reason"], fetch=fetch)
            elif result["status"] != "ok":
                self.mark(item, "failed", stage="extract", reason=result["reason"], fetch=fetch)
                continue
            else:
                self.counts["extracted"] += 1
                record = result["record"]
                aid = record["article_id"]
                refresh = self.parameters.get("refresh")
                if aid in self.written_ids or (aid in self.store.partition_index() and not refresh):
                    self.mark(item, "duplicate", reason=f"same article as {record['canonical_url']}",
                              article_id=aid, fetch=fetch)
                elif refresh and self.store.text_hash.get(aid) == record["text_sha256"]:
                    self.written_ids.add(aid)
                    self.mark(item, "unchanged", reason="refreshed, text unchanged", article_id=aid, fetch=fetch)
                else:
                    self.written_ids.add(aid)
                    records.append(record)
                    pending.append((item, fetch, record))
        try:
            states = self.store.commit_articles(records)
        except OSError as exc:
            states = {}
            for item, fetch, _ in pending:
                self.mark(item, "failed", stage="write", reason=f"write_error: {exc}", fetch=fetch)
        for item, fetch, record in pending:
            if record["article_id"] in states:
                self.mark(item, states[record["article_id"]], article_id=record["article_id"], fetch=fetch)
        self.flush_ledger()
        self.batches += 1
        self.durations["write"] += time.monotonic() - started

    def summary(self) -> dict[str, Any]:
        """The run record written to runs/<run_id>.json."""
        counts = dict(self.counts)
        written = self.counts["written"] + self.counts["updated"]
        return {
            "run_id": self.run_id,
            "dossier": self.dossier.slug,
            "title": self.dossier.title,
            "started_at": self.started_at.isoformat(),
            "finished_at": datetime.now(UTC).isoformat(),
            "parameters": self.parameters,
            "config_path": str(self.config.path),
            "config_sha256": self.config.digest,
            "versions": {name: package_version(name) for name in VERSIONED_PACKAGES},
            "python": platform.python_version(),
            "counts": {"expected": self.expected, "discovered": counts.get("discovered", 0),
                       "fetched": counts.get("fetched", 0), "extracted": counts.get("extracted", 0),
                       "written": written, **{s: counts.get(s, 0) for s in
                                              ("updated", "unchanged", "duplicate", "skipped", "not_article",
                                               "blocked", "failed")}},
            "incomplete": self.expected is not None and counts.get("discovered", 0) < self.expected,
            "reasons": dict(self.reasons.most_common()),
            "blocked_by_host": {host: dict(kinds) for host, kinds in self.blocked.items()},
            "source_failures": self.source_failures,
            "failures": self.failures[:1000],
            "durations_seconds": {k: round(v, 3) for k, v in self.durations.items()},
            # discover, plan and finish, plus fetch, extract and write per batch (flows/scrape.py)
            "prefect_task_runs": 3 + 3 * self.batches,
            "ledger_files": self.ledger_files,
            "dataset": str(self.store.articles),
        }
