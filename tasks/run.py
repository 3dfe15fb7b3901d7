"""A run of one dossier: its state, the per-URL ledger, counts, and the steps' batch logic.

Every discovered URL ends the run in exactly one state (see schema.URL_STATES); the
ledger is written to ``urls/`` after the rows of its batches (Held), so a killed run keeps
what it wrote and the next run does the rest.
"""

from __future__ import annotations

import platform
import time
from collections import Counter, defaultdict, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from prefect.task_runners import TaskRunner

from dossier_pipeline.tasks import memory
from dossier_pipeline.tasks.archive import ArchiveWriter, recover
from dossier_pipeline.tasks.card import write_card
from dossier_pipeline.tasks.cdx import ArchivedResult
from dossier_pipeline.tasks.config import Config, Dossier, WaybackSource
from dossier_pipeline.tasks.dedup import index_for, with_merged_duplicates
from dossier_pipeline.tasks.discover import DiscoveredURL, Discovery
from dossier_pipeline.tasks.distributed import dask_runner, unstage
from dossier_pipeline.tasks.extract import Page
from dossier_pipeline.tasks.fetch import FetchResult, FetchSession, Politeness
from dossier_pipeline.tasks.history import (
    GONE_STATUSES,
    History,
    Observation,
    changed_fields,
    file_changes,
    gone_articles,
    set_pointer,
    version_time,
)
from dossier_pipeline.tasks.progress import Progress, for_run
from dossier_pipeline.tasks.store import Store
from dossier_pipeline.tasks.urls import host_of
from dossier_pipeline.tasks.wayback import Archives, provenance
from dossier_pipeline.tasks.windows import outside_by_date, outside_by_hints, window_of
from dossier_pipeline.tasks.workers import ExtractorPool


def package_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "unknown"


PIPELINE_VERSION = package_version("dossier-pipeline")
BATCH_SECONDS = 30.0  # the longest one host may keep a fetch batch busy
VERSIONED_PACKAGES = ("dossier-pipeline", "prefect", "httpx", "trafilatura", "pyarrow", "lxml", "courlan",
                      "htmldate", "warcio")
DATA_DIRS = ("articles", "urls", "edits", "raw")  # what a run may add files to (its lineage lists them)


@dataclass
class Held:
    """Batches settled but not yet written. Each batch written alone adds a file to every
    partition (publication month) it touches: a dossier spread over years gets files of a
    few rows, and merges to match. Batches are written together instead, every
    ``commit_seconds`` (and at the end of the run); a kill loses at most that much work,
    which the next run does again (nothing of it is in the ledger either)."""

    records: list[dict[str, Any]] = field(default_factory=list)  # new and changed rows
    items: list[tuple[DiscoveredURL, FetchResult, dict[str, Any]]] = field(default_factory=list)  # their URLs
    touched: dict[str, dict[str, Any]] = field(default_factory=dict)  # stored rows whose history columns change
    merged_into: set[str] = field(default_factory=set)  # kept rows that gained duplicate URLs
    since: float | None = None  # when the oldest batch held was settled (time.monotonic)


@dataclass
class Fetched:
    """A fetch batch handed from the fetch step to the extract step."""

    pages: list[Page]
    items: dict[int, tuple[DiscoveredURL, FetchResult]]
    refresh: bool = False
    observations: list[Observation] = field(default_factory=list)  # 304s and 404/410s of stored articles
    origin: str = ""  # the run that fetched it (a reextract replays other runs' batches)


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
        memory.configure()
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
        self.kind = "scrape"
        self.archive: ArchiveWriter | None = None
        self.session: FetchSession | None = None  # created by the first fetch
        self.archives: Archives | None = None  # the web archives of wayback sources (tasks/wayback.py)
        self.recovered_warcs: list[str] = []
        self.history = History(set())
        self.article_of: dict[str, str] = {}  # url, final and canonical URL -> id, of the rows written
        # Only a refresh (or a reextract replaying one) sees 304s and 404s of stored articles,
        # which may be of rows written earlier in the run: other runs keep no URL map.
        self.observes = bool(parameters.get("refresh"))
        self.edit_files: list[str] = []
        self.files_before: dict[str, tuple[int, int, int]] = {}
        self.staged = 0
        self.distributed = config.execution.task_runner == "dask"  # extraction on Dask workers
        self.runner: TaskRunner[Any] | None = None  # their task runner, while the run lasts
        self.published: tuple[datetime, datetime] | None = None  # publication dates of the rows written
        self.progress: Progress = for_run(dossier.slug)  # a no-op unless a front end displays it
        # a backfill window (tasks/windows.py): only articles published in it are written
        self.window = window_of(parameters)
        self.held = Held()
        self.commit_seconds = dossier.settings.commit_seconds
        self.interrupted = False  # stopped early on request (tasks/interrupt.py): the rest is left for the next run

    # -- ledger -------------------------------------------------------------------------
    def mark(self, item: DiscoveredURL, state: str, *, stage: str | None = None, reason: str | None = None,
             article_id: str | None = None, fetch: FetchResult | None = None) -> None:
        self.counts[state] += 1
        self.progress.settled(state)
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
        self.files_before = self.store.snapshot(DATA_DIRS)
        self.store.prepare()
        if self.distributed:
            self.runner = dask_runner(self.config.execution)
        self.known = self.store.known_urls()
        self.history = History(gone_articles(self.store.read_edits().select(["article_id", "kind"]).to_pylist()))
        self.recovered_warcs = recover(self.store.root)
        if self.dossier.settings.archive:
            settings = self.dossier.settings
            self.archive = ArchiveWriter(self.store.root, self.run_id, {
                "pipeline_version": PIPELINE_VERSION, "run_id": self.run_id, "dossier": self.dossier.slug,
                "isPartOf": self.dossier.slug, "config_sha256": self.config.digest,
                "http-header-user-agent": settings.user_agent,
                "robots": "obey" if settings.respect_robots_txt else "ignore"}, self.started_at)
            self.politeness.archive = self.archive
        if any(isinstance(source, WaybackSource) for source in self.dossier.sources):
            self.archives = Archives(self.store, self.dossier, self.archive)

    def close(self) -> None:
        """Close the run's connections, finish its WARC files (also when the run fails: what
        they hold is valid) and, for a dataset in object storage, upload them from the local
        spool."""
        if self.session is not None:
            self.session.close()
        if self.archives is not None:
            self.archives.close()
        if self.archive is not None:
            self.archive.close()
        self.store.publish_raw()
        if self.runner is not None:
            self.runner.__exit__(None, None, None)
            self.runner = None

    def describe(self, result: FetchResult, event: dict[str, Any]) -> None:
        """Archive the pipeline's account of a response next to it: what a reextract needs."""
        if self.archive is not None and result.archived is not None:
            self.archive.write_metadata(result.archived, result.final_url or result.url,
                                        {"run_id": self.run_id, "refresh": bool(self.parameters.get("refresh")),
                                         **event})

    def observe(self, kind: str, item: DiscoveredURL, result: FetchResult, article_id: str | None) -> Observation:
        """A 304 or 404/410 of a stored article: archived now, applied to its row at commit."""
        assert result.fetched_at is not None and result.status is not None
        self.describe(result, {"event": kind, "url": item.url, "article_id": article_id,
                               "fetched_at": result.fetched_at.isoformat(), "http_status": result.status})
        return Observation(kind, item.url, article_id, result.fetched_at, result.status, result.archived)

    def plan(self, discovery: Discovery, refresh: bool, limit: int | None) -> deque[DiscoveredURL]:
        """Record discovery; return the URLs to fetch (new ones, or all with ``refresh``), in
        the queue batches are taken from: each URL is let go once its batch is written (and
        Prefect tracks a returned queue as one object, a list item by item)."""
        self.expected = discovery.expected
        self.source_failures = discovery.failures
        self.counts["discovered"] = len(discovery.urls)
        todo: deque[DiscoveredURL] = deque()
        for item in discovery.urls:
            stored = self.known.get(item.url)
            if stored is not None and not refresh:
                self.mark(item, stored.get("state", "unchanged"),
                          article_id=stored.get("article_id"),
                          reason=stored.get("reason") or "already in the dataset")
            elif self.window is not None and (outside := outside_by_hints(item.hints, self.window)):
                self.mark(item, "skipped", stage="discover", reason=outside)  # not settled: another window's
            elif limit is not None and len(todo) >= limit:
                self.mark(item, "skipped", stage="discover", reason="limit: over --limit for this run")
            else:
                todo.append(item)
        self.flush_ledger()
        self.progress.plan(len(discovery.urls), len(todo))
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

    def next_stage(self) -> int:
        """A new staging file number (batches extracted on Dask workers)."""
        self.staged += 1
        return self.staged

    def fetch(self, batch: list[DiscoveredURL]) -> Fetched:
        """Fetch a batch (conditional GET for stored URLs); failures go to the ledger."""
        started = time.monotonic()
        validators = {i.fetch_url: {"etag": s.get("etag"), "last_modified": s.get("last_modified")}
                      for i in batch if (s := self.known.get(i.url)) and "state" not in s}
        if self.session is None:
            self.session = FetchSession(self.politeness, self.domains)
        results = self.session.fetch_all([i.fetch_url for i in batch], validators=validators,
                                         on_result=self.fetched_one)
        if self.archives is not None:  # articles the site no longer serves, from the archive that listed them
            results = self.archives.fallback(batch, results, self.known)
        pages: list[Page] = []
        items: dict[int, tuple[DiscoveredURL, FetchResult]] = {}
        observations: list[Observation] = []
        for key, (item, result) in enumerate(zip(batch, results, strict=True)):
            stored = self.known.get(item.url)
            if result.not_modified:
                self.counts["fetched"] += 1
                self.mark(item, "unchanged", reason="http 304 not modified", fetch=result,
                          article_id=self.known[item.url].get("article_id"))
                observations.append(self.observe("not_modified", item, result, self.known[item.url].get("article_id")))
            elif result.stage == "robots":
                self.mark(item, "skipped", stage="robots", reason=result.reason, fetch=result)
            elif not result.ok:
                self.mark(item, "failed", stage="fetch", reason=result.reason, fetch=result)
                if result.status in GONE_STATUSES and stored is not None and "state" not in stored:
                    observations.append(self.observe("gone", item, result, stored.get("article_id")))
            else:
                self.counts["fetched"] += 1
                items[key] = (item, result)
                pages.append(self.page(key, item, result))
                result.body = b""  # the page holds it, and lets go of it once extracted (extract)
                assert result.fetched_at is not None
                self.describe(result, {"event": "fetched", "url": item.url, "source_kind": item.source_kind,
                                       "source_url": item.source_url, "hints": item.hints,
                                       "final_url": result.final_url, "fetched_at": result.fetched_at.isoformat(),
                                       "http_status": result.status, **provenance(result)})
        self.durations["fetch"] += time.monotonic() - started
        return Fetched(pages, items, bool(self.parameters.get("refresh")), observations, self.run_id)

    def fetched_one(self, result: FetchResult) -> None:
        """Progress as each response completes, classified as ``fetch`` will record it."""
        self.progress.fetched("page" if result.ok else "unchanged" if result.not_modified else "failed")

    def page(self, key: int, item: DiscoveredURL, result: FetchResult) -> Page:
        """What extraction gets for a fetched page: the body and its context (a reextract
        rebuilds the same from the archive, with the current config)."""
        settings = self.dossier.settings
        ctx = {
            "dossier": self.dossier.slug, "url": item.url, "final_url": result.final_url,
            "source_kind": item.source_kind, "source_url": item.source_url,
            "fetched_at": result.fetched_at, "http_status": result.status,
            "content_type": result.headers.get("content-type"), "etag": result.headers.get("etag"),
            "last_modified": result.headers.get("last-modified"), "pipeline_version": PIPELINE_VERSION,
            "run_id": self.run_id, "domains": self.domains, "timezone": settings.timezone,
            "hints": dict(item.hints),  # dates seen at discovery: kept as date evidence
            "furniture": self.dossier.furniture,
            **provenance(result),
        }
        return Page(key, result.final_url or item.url, result.body, result.headers.get("content-type"),
                    self.dossier.language, ctx)

    def extract(self, fetched: Fetched) -> tuple[Fetched, list[dict[str, Any]]]:
        started = time.monotonic()
        results = self.pool.extract(fetched.pages, on_chunk=self.progress.extracted)
        fetched.pages = []  # the bodies are not needed after extraction: free them before the commit
        self.durations["extract"] += time.monotonic() - started
        return fetched, results

    def commit(self, extracted: tuple[Fetched, list[dict[str, Any]]]) -> None:
        """Settle a batch's URLs and hold its rows; write what is held when it is due (see
        Held): articles first, then the ledger rows (a kill between the two leaves rows
        whose URLs the next run sees as already stored)."""
        started = time.monotonic()
        fetched, results = extracted
        results = unstage(self.store, results)  # rows a Dask worker staged (tasks/distributed.py)
        held = self.held
        held.since = held.since or started
        records, merged_into, touched = held.records, held.merged_into, held.touched
        duplicates = index_for(self.store)
        index = self.store.article_files()
        stored = self.stored_rows(fetched, results)
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
                set_pointer(record, fetch.archived)
                aid = record["article_id"]
                if record["access"] != "free" and not self.dossier.settings.keep_paywalled:
                    self.mark(item, "skipped", stage="extract", reason=f"access: {record['access']} "
                              "(keep_paywalled = false)", fetch=fetch)
                elif self.window is not None and (outside := outside_by_date(record, self.window)):
                    self.mark(item, "skipped", stage="extract", reason=outside, fetch=fetch)
                elif aid in self.written_ids or (aid in index and not fetched.refresh):
                    if record["archive_captured_at"] is not None:  # the live version wins
                        self.earlier_version(record, index, fetched.origin)
                    self.mark(item, "duplicate", reason=f"same article as {record['canonical_url']}",
                              article_id=aid, fetch=fetch)
                elif aid not in index and (match := duplicates.match(record)):
                    # another article with the same or nearly the same text: merged into the kept row
                    duplicates.merge(match, record)
                    merged_into.add(match.article_id)
                    self.counts["merged_duplicates"] += 1
                    self.mark(item, "duplicate", reason=match.reason, article_id=match.article_id, fetch=fetch)
                elif aid in index and not (changed := changed_fields(stored[aid], record)) and not (
                        stored[aid]["archive_captured_at"] is not None and record["archive_captured_at"] is None):
                    self.written_ids.add(aid)
                    touched[aid] = self.history.seen(stored[aid], item.url, record["fetched_at"],
                                                     record["http_status"], fetch.archived, fetched.origin)
                    self.mark(item, "unchanged", reason="refreshed, content unchanged", article_id=aid, fetch=fetch)
                else:
                    self.written_ids.add(aid)
                    if aid in index and changed:
                        self.history.changed(stored[aid], record, changed, fetch.archived, fetched.origin)
                    elif aid in index:  # the same content, now live: the live row replaces the archived copy
                        self.history.replaced(stored[aid], record, fetch.archived, fetched.origin)
                    else:
                        self.history.first(record)
                        if isinstance(fetch, ArchivedResult) and (live := fetch.live) and live.status in GONE_STATUSES:
                            assert live.fetched_at is not None and live.status is not None
                            self.history.observe(record, Observation("gone", item.url, aid, live.fetched_at,
                                                                     live.status, live.archived), fetched.origin)
                    if self.observes:
                        self.article_of.update({record[k]: aid for k in ("url", "final_url", "canonical_url")
                                                if record[k]})
                    duplicates.add(record)
                    records.append(record)
                    held.items.append((item, fetch, record))
        new_ids = {r["article_id"] for r in records}
        for seen in fetched.observations:
            aid = seen.article_id if seen.article_id in index else self.article_of.get(seen.url)
            row = None if aid in new_ids else (touched.get(aid) or stored.get(aid))
            if row is not None and (row := self.history.observe(row, seen, fetched.origin)) is not None:
                touched[row["article_id"]] = row
        self.batches += 1
        # A refresh compares with stored rows, and so must see the rows it changed: no holding.
        if fetched.refresh or fetched.observations or time.monotonic() - held.since >= self.commit_seconds:
            self.write()
        memory.release()
        self.durations["write"] += time.monotonic() - started

    def earlier_version(self, archived: dict[str, Any], index: dict[str, str], origin: str) -> None:
        """An archived copy of an article the run or the dataset has live: an edit row when
        it is an older version with other content."""
        aid = archived["article_id"]
        live = next((r for r in reversed(self.held.records) if r["article_id"] == aid), None)
        if live is None and aid in index:
            live = next(iter(self.store.read_articles(ids={aid}).to_pylist()), None)
        if (live is not None and live.get("archive_captured_at") is None
                and version_time(archived) < live["fetched_at"] and (fields := changed_fields(archived, live))):
            self.history.earlier(live, archived, fields, origin)

    def write(self) -> None:
        """Write the rows held (with the duplicates merged into them and their edits), then
        the ledger rows of the batches held."""
        held, self.held = self.held, Held()
        if held.since is None:
            return
        try:
            edits = self.history.take()
            if edits:
                self.edit_files.append(str(self.store.write_edits(edits, self.run_id, len(self.edit_files))))
            rows = held.records + list(held.touched.values())
            states = self.store.commit_articles(with_merged_duplicates(self.store, index_for(self.store), rows,
                                                                       held.merged_into))
        except OSError as exc:
            states = {}
            for item, fetch, _ in held.items:
                self.mark(item, "failed", stage="write", reason=f"write_error: {exc}", fetch=fetch)
        for item, fetch, record in held.items:
            if record["article_id"] in states:
                self.mark(item, states[record["article_id"]], article_id=record["article_id"], fetch=fetch)
                if (when := record["published_at"]) is not None:
                    first, last = self.published or (when, when)
                    self.published = (min(first, when), max(last, when))
        self.flush_ledger()

    def stored_rows(self, fetched: Fetched, results: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        """The stored rows a batch may compare with or update (only a refresh has any)."""
        index = self.store.article_files()
        ids = {s.article_id for s in fetched.observations} | {self.article_of.get(s.url) for s in fetched.observations}
        if fetched.refresh:
            ids |= {r["record"]["article_id"] for r in results if r["status"] == "ok"}
        ids = {i for i in ids if i in index}
        if not ids:
            return {}
        return {row["article_id"]: row for row in self.store.read_articles(ids=ids).to_pylist()}

    def summary(self) -> dict[str, Any]:
        """The run record written to runs/<run_id>.json; the dataset card is rewritten with it.
        Writes the rows still held, compacts the partitions the run wrote and closes its WARC
        files first, so that the record lists the files as they stay."""
        started = time.monotonic()
        self.write()
        self.store.compact()
        self.durations["write"] += time.monotonic() - started
        self.close()
        if self.archive is not None:
            self.durations["archive"] = self.archive.seconds  # spent in the fetch step, included in it
        counts = dict(self.counts)
        written = self.counts["written"] + self.counts["updated"]
        record = {
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
                                               "blocked", "failed")},
                       # other articles with the same or nearly the same text, merged into a kept row
                       "merged_duplicates": counts.get("merged_duplicates", 0)},
            # (a window's run reads only the part of a listing its dates need)
            "incomplete": self.window is None and self.expected is not None
            and counts.get("discovered", 0) < self.expected,
            # a backfill window: the UTC days whose articles the run wrote (tasks/windows.py)
            "window": self.window.as_dict() if self.window else None,
            "reasons": dict(self.reasons.most_common()),
            "blocked_by_host": {host: dict(kinds) for host, kinds in self.blocked.items()},
            "source_failures": self.source_failures,
            "failures": self.failures[:1000],
            "durations_seconds": {k: round(v, 3) for k, v in self.durations.items()},
            # discover, plan and finish, plus fetch, extract and write per batch (flows/scrape.py)
            "prefect_task_runs": 3 + 3 * self.batches,
            "ledger_files": self.ledger_files,
            # publication dates of the rows this run wrote or updated (UTC; undated rows aside)
            "published_range": {"min": self.published[0].isoformat(), "max": self.published[1].isoformat()}
            if self.published else None,
            "dataset": f"{self.store.location}/articles",
            "kind": self.kind,
            "state": "interrupted" if self.interrupted else "completed",
            "warc_files": self.archive.files if self.archive else [],
            "warc_bytes": self.archive.bytes if self.archive else 0,
            "warc_recovered": self.recovered_warcs,
            "edits": dict(self.history.counts),
            "archive_requests": self.archives.requests if self.archives else 0,  # to web archives (tasks/cdx.py)
            "edit_files": self.edit_files,
            # every data file this run added, replaced (rewritten) or removed, relative to the dossier
            "files": file_changes(self.files_before, self.store.snapshot(DATA_DIRS)),
        }
        write_card(self.store, self.dossier, record)
        return record
