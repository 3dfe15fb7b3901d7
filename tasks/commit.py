"""The commit: settle each extracted page's URL (new, changed, unchanged, duplicate, out of
the window) and write the rows, with their history and the duplicates merged into them.

A URL settled already (in the ledger) is passed over: a commit retried by Prefect after
settling part of its batch writes and counts nothing twice.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from dossier_pipeline.tasks.cdx import ArchivedResult
from dossier_pipeline.tasks.config import Settings
from dossier_pipeline.tasks.contracts import ArticleRow, Extraction, ExtractionStatus
from dossier_pipeline.tasks.dedup import index_for, with_merged_duplicates
from dossier_pipeline.tasks.discover import DiscoveredURL
from dossier_pipeline.tasks.distributed import unstage
from dossier_pipeline.tasks.fetch import FetchResult
from dossier_pipeline.tasks.history import (
    GONE_STATUSES,
    History,
    Observation,
    changed_fields,
    set_pointer,
    version_time,
)
from dossier_pipeline.tasks.ledger import Ledger
from dossier_pipeline.tasks.schema import UrlState
from dossier_pipeline.tasks.sources import Fetched
from dossier_pipeline.tasks.store import PAYWALL_SKIPPED, Store
from dossier_pipeline.tasks.windows import Window, outside_by_date


@dataclass
class Held:
    """Batches settled but not yet written. Each batch written alone adds a file to every
    partition (publication month) it touches: a dossier spread over years gets files of a
    few rows, and merges to match. Batches are written together instead, every
    ``commit_seconds`` (and at the end of the run); a kill loses at most that much work,
    which the next run does again (nothing of it is in the ledger either)."""

    records: list[ArticleRow] = field(default_factory=list)  # new and changed rows
    items: list[tuple[DiscoveredURL, FetchResult, ArticleRow]] = field(default_factory=list)  # their URLs
    touched: dict[str, ArticleRow] = field(default_factory=dict)  # stored rows whose history columns change
    merged_into: set[str] = field(default_factory=set)  # kept rows that gained duplicate URLs
    urls: set[tuple[str, str]] = field(default_factory=set)  # (origin, URL) of ``items``: settled when written
    since: float | None = None  # when the oldest batch held was settled (time.monotonic)


class Committer:
    """Turns extracted batches into rows of ``store`` and states of ``ledger``."""

    def __init__(self, store: Store, ledger: Ledger, history: History, settings: Settings, *,
                 window: Window | None, observes: bool) -> None:
        self.store = store
        self.ledger = ledger
        self.history = history
        self.window = window  # a backfill window (tasks/windows.py): only articles published in it are written
        # Only a refresh (or a reextract replaying one) sees 304s and 404s of stored articles,
        # which may be of rows written earlier in the run: other runs keep no URL map.
        self.observes = observes
        self.settings = settings  # the dossier's: commit_seconds, keep_paywalled
        self.held = Held()
        self.written_ids: set[str] = set()  # of the run whose batches are committed (``origin``)
        self.origin = ""
        self.article_of: dict[str, str] = {}  # url, final and canonical URL -> id, of the rows written
        self.published: tuple[datetime, datetime] | None = None  # publication dates of the rows written
        self.edit_files: list[str] = []
        self.compared: set[tuple[str, str]] = set()  # (origin, URL) of the archived copies compared with a live row

    def commit(self, fetched: Fetched, results: list[Extraction]) -> None:
        """Settle a batch's URLs and hold its rows; write what is held when it is due (see
        Held): articles first, then the ledger rows (a kill between the two leaves rows
        whose URLs the next run sees as already stored)."""
        started = time.monotonic()
        if fetched.origin != self.origin:  # each original run had its own "written in this run" set
            self.write()
            self.origin, self.written_ids = fetched.origin, set()
        results = unstage(self.store, results)  # rows a Dask worker staged (tasks/distributed.py)
        held, ledger, origin = self.held, self.ledger, fetched.origin
        held.since = held.since or started
        records, merged_into, touched = held.records, held.merged_into, held.touched
        duplicates = index_for(self.store)
        index = self.store.article_files()
        stored = self.stored_rows(fetched, results)
        for result in results:
            item, fetch = fetched.items[result["key"]]
            if ledger.is_settled(item.url, origin) or (origin, item.url) in held.urls:
                if isinstance(fetch, ArchivedResult) and result["status"] == ExtractionStatus.OK:
                    # an archived copy of a URL this run settled (a file's copy of a live page): compared only
                    set_pointer(result["record"], fetch.archived)
                    self.earlier_version(result["record"], index, origin)
                continue
            status = result["status"]
            if status == ExtractionStatus.NOT_ARTICLE:
                ledger.mark(item, UrlState.NOT_ARTICLE, stage="extract", reason=result["reason"], fetch=fetch,
                            origin=origin)
                continue
            if status == ExtractionStatus.BLOCKED:
                ledger.mark(item, UrlState.BLOCKED, stage="extract", reason=result["reason"], fetch=fetch,
                            origin=origin)
                continue
            if status != ExtractionStatus.OK:
                ledger.mark(item, UrlState.FAILED, stage="extract", reason=result["reason"], fetch=fetch,
                            origin=origin)
                continue
            ledger.counts["extracted"] += 1
            record = result["record"]
            set_pointer(record, fetch.archived)
            aid = record["article_id"]
            if record["access"] != "free" and not self.settings.keep_paywalled:
                ledger.mark(item, UrlState.SKIPPED, stage="extract", reason=f"access: {record['access']} "
                            f"{PAYWALL_SKIPPED}", fetch=fetch, origin=origin)
            elif self.window is not None and (outside := outside_by_date(record, self.window)):
                ledger.mark(item, UrlState.SKIPPED, stage="extract", reason=outside, fetch=fetch, origin=origin)
            elif fetched.rows is not None and (why := fetched.rows.why_not(record)):
                ledger.mark(item, UrlState.SKIPPED, stage="extract", reason=why, fetch=fetch, origin=origin)
            elif aid in self.written_ids or (aid in index and (not fetched.refresh or archived_copy_of_live(
                    record, stored.get(aid)))):
                if record["archive_captured_at"] is not None:  # the live version wins
                    self.earlier_version(record, index, origin)
                ledger.mark(item, UrlState.DUPLICATE, reason=f"same article as {record['canonical_url']}",
                            article_id=aid, fetch=fetch, origin=origin)
            elif aid not in index and (match := duplicates.match(record)):
                # another article with the same or nearly the same text: merged into the kept row
                duplicates.merge(match, record)
                merged_into.add(match.article_id)
                ledger.counts["merged_duplicates"] += 1
                ledger.mark(item, UrlState.DUPLICATE, reason=match.reason, article_id=match.article_id, fetch=fetch,
                            origin=origin)
            elif aid in index and not (changed := changed_fields(stored[aid], record)) and not (
                    stored[aid]["archive_captured_at"] is not None and record["archive_captured_at"] is None):
                self.written_ids.add(aid)
                touched[aid] = self.history.seen(stored[aid], item.url, record["fetched_at"],
                                                 record["http_status"], fetch.archived, origin)
                ledger.mark(item, UrlState.UNCHANGED, reason="refreshed, content unchanged", article_id=aid,
                            fetch=fetch, origin=origin)
            else:
                self.written_ids.add(aid)
                if aid in index and changed:
                    self.history.changed(stored[aid], record, changed, fetch.archived, origin)
                elif aid in index:  # the same content, now live: the live row replaces the archived copy
                    self.history.replaced(stored[aid], record, fetch.archived, origin)
                else:
                    self.history.first(record)
                    if isinstance(fetch, ArchivedResult) and (live := fetch.live) and live.status in GONE_STATUSES:
                        assert live.fetched_at is not None and live.status is not None
                        self.history.observe(record, Observation("gone", item.url, aid, live.fetched_at,
                                                                 live.status, live.archived), origin)
                if self.observes:
                    self.article_of.update({record[k]: aid for k in ("url", "final_url", "canonical_url")
                                            if record[k]})
                duplicates.add(record)
                records.append(record)
                held.items.append((item, fetch, record))
                held.urls.add((origin, item.url))
        new_ids = {r["article_id"] for r in records}
        for seen in fetched.observations:
            aid = seen.article_id if seen.article_id in index else self.article_of.get(seen.url)
            row = None if aid in new_ids else (touched.get(aid or "") or stored.get(aid or ""))
            if row is not None and (row := self.history.observe(row, seen, origin)) is not None:
                touched[row["article_id"]] = row
        # A refresh compares with stored rows, and so must see the rows it changed: no holding.
        if fetched.refresh or fetched.observations or time.monotonic() - held.since >= self.settings.commit_seconds:
            self.write()

    def earlier_version(self, archived: ArticleRow, index: dict[str, str], origin: str) -> None:
        """An archived copy of an article the run or the dataset has live: an edit row when
        it is an older version with other content."""
        aid = archived["article_id"]
        if (origin, archived["url"]) in self.compared:  # (a retried commit)
            return
        self.compared.add((origin, archived["url"]))
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
        ledger = self.ledger
        states: dict[str, UrlState]
        try:
            edits = self.history.take()
            if edits:
                self.edit_files.append(str(self.store.write_edits(edits, ledger.run_id, len(self.edit_files))))
            rows = held.records + list(held.touched.values())
            states = self.store.commit_articles(with_merged_duplicates(self.store, index_for(self.store), rows,
                                                                       held.merged_into))
        except OSError as exc:
            states = {}
            for item, fetch, _ in held.items:
                ledger.mark(item, UrlState.FAILED, stage="write", reason=f"write_error: {exc}", fetch=fetch,
                            origin=self.origin)
        for item, fetch, record in held.items:
            if record["article_id"] in states:
                ledger.mark(item, UrlState(states[record["article_id"]]), article_id=record["article_id"],
                            fetch=fetch, origin=self.origin)
                if (when := record["published_at"]) is not None:
                    first, last = self.published or (when, when)
                    self.published = (min(first, when), max(last, when))
        ledger.flush()

    def stored_rows(self, fetched: Fetched, results: list[Extraction]) -> dict[str, ArticleRow]:
        """The stored rows a batch may compare with or update (only a refresh has any)."""
        index = self.store.article_files()
        ids = {s.article_id for s in fetched.observations} | {self.article_of.get(s.url) for s in fetched.observations}
        if fetched.refresh:
            ids |= {r["record"]["article_id"] for r in results if r["status"] == ExtractionStatus.OK}
        found = {i for i in ids if i is not None and i in index}
        if not found:
            return {}
        rows: list[dict[str, Any]] = self.store.read_articles(ids=found).to_pylist()
        return {row["article_id"]: row for row in rows}


def archived_copy_of_live(record: ArticleRow, stored: ArticleRow | None) -> bool:
    """Whether ``record``, read from an archive, is a copy of the stored live row (which
    wins, also on a refresh that reads the archive again)."""
    return record["archive_captured_at"] is not None and stored is not None and stored["archive_captured_at"] is None
