"""Changes over time: each row's first_seen/last_seen/last_changed, the edits table, and
which dataset files a run added, replaced or removed.

News sites edit published articles silently (a headline, a paragraph, a byline) and take
some down. A ``--refresh`` compares what it fetches with the stored row: a difference in
any of ``COMPARED`` replaces the row and adds an ``edit`` row to ``edits/``; a 404/410 for
a stored article is a ``takedown`` (the row is kept); an article answering again after a
takedown is ``restored``. The comparison is between extractions, so after upgrading the
extractor run ``dossier reextract`` before the next ``--refresh``, or the new extractor's
differences would read as edits.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from dossier_pipeline.tasks.archive import WarcPointer

COMPARED = ("title", "text", "authors", "agency", "published_at", "modified_at", "section", "tags", "description")
GONE_STATUSES = (404, 410)
POINTER = ("warc_file", "warc_record_id", "warc_offset")


def version_time(row: dict[str, Any]) -> datetime:
    """When a row's version was seen: captured, for a version read from an archive."""
    captured: datetime | None = row.get("archive_captured_at")
    return captured or cast(datetime, row["fetched_at"])


def changed_fields(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    return [name for name in COMPARED if (old.get(name) or None) != (new.get(name) or None)]


def set_pointer(row: dict[str, Any], pointer: WarcPointer | None) -> None:
    row.update(zip(POINTER, pointer or (None, None, None), strict=True))


@dataclass
class Observation:
    """A refresh's news about a stored article without a new version: a 304 (still there,
    unchanged) or a 404/410 (gone)."""

    kind: str  # "not_modified" or "gone"
    url: str
    article_id: str | None  # the stored row the URL belonged to when fetched
    fetched_at: datetime
    http_status: int
    archived: WarcPointer | None


class History:
    """The history columns of the rows a run writes, and the edit rows it observes."""

    def __init__(self, gone: set[str]) -> None:
        self.gone = gone  # article ids whose last observation was a takedown
        self.edits: list[dict[str, Any]] = []
        self.counts: Counter[str] = Counter()  # edit rows per kind

    def _back(self, article_id: str) -> bool:
        """Whether the article was taken down until now."""
        if article_id in self.gone:
            self.gone.discard(article_id)
            return True
        return False

    @staticmethod
    def first(record: dict[str, Any]) -> None:
        record["first_seen"] = record["last_seen"] = record["fetched_at"]
        record["last_changed"] = None

    def _edit(self, kind: str, old: dict[str, Any], url: str, fields: list[str], new_sha: str | None,
              when: datetime, status: int | None, pointer: WarcPointer | None, run_id: str) -> None:
        row = {"article_id": old["article_id"], "canonical_url": old["canonical_url"], "url": url, "kind": kind,
               "fields": fields, "old_text_sha256": old["text_sha256"], "new_text_sha256": new_sha,
               "old_fetched_at": version_time(old), "observed_at": when, "http_status": status, "run_id": run_id}
        row.update({f"old_{k}": old.get(k) for k in POINTER})
        set_pointer(row, pointer)
        self.edits.append(row)
        self.counts[kind] += 1

    def changed(self, old: dict[str, Any], record: dict[str, Any], fields: list[str], pointer: WarcPointer | None,
                run_id: str) -> None:
        """``record`` replaces ``old``: it keeps the article's first_seen."""
        kind = "restored" if self._back(old["article_id"]) else "edit"
        self._edit(kind, old, record["url"], fields, record["text_sha256"], record["fetched_at"],
                   record["http_status"], pointer, run_id)
        record["first_seen"] = old.get("first_seen") or old["fetched_at"]
        record["last_seen"] = record["last_changed"] = record["fetched_at"]

    def replaced(self, old: dict[str, Any], record: dict[str, Any], pointer: WarcPointer | None, run_id: str) -> None:
        """``record``, fetched live, replaces ``old``, an archived copy with the same content."""
        if self._back(old["article_id"]):
            self._edit("restored", old, record["url"], [], record["text_sha256"], record["fetched_at"],
                       record["http_status"], pointer, run_id)
            record["last_changed"] = record["fetched_at"]
        else:
            record["last_changed"] = old.get("last_changed")
        record["first_seen"] = old.get("first_seen") or old["fetched_at"]
        record["last_seen"] = record["fetched_at"]

    def seen(self, row: dict[str, Any], url: str, when: datetime, status: int, pointer: WarcPointer | None,
             run_id: str) -> dict[str, Any]:
        """The stored ``row`` found unchanged (a 304, or the same content) at ``when``."""
        if self._back(row["article_id"]):
            self._edit("restored", row, url, [], row["text_sha256"], when, status, pointer, run_id)
            row["last_changed"] = when
        row["last_seen"] = max(when, row.get("last_seen") or when)
        return row

    def observe(self, row: dict[str, Any], seen: Observation, run_id: str) -> dict[str, Any] | None:
        """Apply a 304 or 404/410 to the stored ``row``; the row to write back, if any."""
        if seen.kind == "not_modified":
            return self.seen(row, seen.url, seen.fetched_at, seen.http_status, seen.archived, run_id)
        if row["article_id"] in self.gone:
            return None  # already recorded as taken down
        self.gone.add(row["article_id"])
        self._edit("takedown", row, seen.url, [], None, seen.fetched_at, seen.http_status, seen.archived, run_id)
        row["last_changed"] = seen.fetched_at
        return row

    def earlier(self, live: dict[str, Any], archived: dict[str, Any], fields: list[str], run_id: str) -> None:
        """An archived version older than the live row, with other content: an edit row
        whose old version is the archived one (its capture time, its WARC pointer)."""
        self._edit("edit", archived, archived["url"], fields, live["text_sha256"], live["fetched_at"],
                   live["http_status"], None, run_id)
        self.edits[-1].update({k: live.get(k) for k in POINTER})

    def take(self) -> list[dict[str, Any]]:
        edits, self.edits = self.edits, []
        return edits


def gone_articles(edits: list[dict[str, Any]]) -> set[str]:
    """Article ids whose latest edit row is a takedown (``edits`` in observation order)."""
    last: dict[str, str] = {}
    for row in edits:
        last[row["article_id"]] = row["kind"]
    return {aid for aid, kind in last.items() if kind == "takedown"}


# -- lineage: the files a run changed ------------------------------------------------------
def file_changes(before: dict[str, tuple[int, int, int]], after: dict[str, tuple[int, int, int]]
                 ) -> dict[str, list[str]]:
    return {"added": sorted(after.keys() - before.keys()),
            "replaced": sorted(k for k in after.keys() & before.keys() if after[k] != before[k]),
            "removed": sorted(before.keys() - after.keys())}
