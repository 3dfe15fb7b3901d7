"""The run record: what one run did, written to ``runs/<run_id>.json`` and read back by the
dataset card, the lineage, the loaders, the backfill and the command line.

One model for writing and reading: a field is renamed or added here, and every reader
follows. Records of earlier versions read with the defaults of the fields they lack.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from dossier_pipeline.tasks.diskfull import DiskSpace
from dossier_pipeline.tasks.schema import UrlState

COUNTED_STATES = tuple(state for state in UrlState if state is not UrlState.WRITTEN)  # written counts updated too


class RunRecord(BaseModel):
    """One run's record (times are ISO 8601 strings in UTC, as written)."""

    model_config = ConfigDict(extra="allow")  # a newer version's fields survive a read and a rewrite

    run_id: str
    dossier: str
    title: str | None = None
    started_at: str = ""
    finished_at: str = ""
    parameters: dict[str, Any] = Field(default_factory=dict)
    config_path: str = ""
    config_sha256: str = ""
    versions: dict[str, str] = Field(default_factory=dict)
    python: str = ""
    # expected (None: the sources did not say), discovered, fetched, extracted, written, one
    # per URL state, merged_duplicates; a reextract adds replayed and kept_without_archive
    counts: dict[str, int | None] = Field(default_factory=dict)
    incomplete: bool = False  # fewer URLs discovered than the sources announced
    window: dict[str, str] | None = None  # a backfill window: key, since, until (tasks/windows.py)
    reasons: dict[str, int] = Field(default_factory=dict)
    blocked_by_host: dict[str, dict[str, int]] = Field(default_factory=dict)
    source_failures: list[dict[str, str]] = Field(default_factory=list)
    failures: list[dict[str, Any]] = Field(default_factory=list)  # the first 1,000
    durations_seconds: dict[str, float] = Field(default_factory=dict)
    ledger_files: list[str] = Field(default_factory=list)
    # publication dates of the rows the run wrote or updated (UTC; undated rows aside)
    published_range: dict[str, str] | None = None
    dataset: str = ""
    kind: str = "scrape"  # or "reextract"
    # or "interrupted": stopped on request; "disk_full": stopped by a full disk (the rest left for the next run)
    state: str = "completed"
    disk_full: DiskSpace | None = None  # the write that found no space: path, needed_bytes, free_bytes
    warc_files: list[str] = Field(default_factory=list)
    warc_bytes: int = 0
    warc_recovered: list[str] = Field(default_factory=list)
    edits: dict[str, int] = Field(default_factory=dict)
    archive_requests: int = 0  # to web archives (tasks/cdx.py)
    # the files of warc sources read, and the HTTP response records in them (tasks/warcfiles.py)
    warc_read: dict[str, int] = Field(default_factory=lambda: {"files": 0, "records": 0})
    edit_files: list[str] = Field(default_factory=list)
    # every data file the run added, replaced (rewritten) or removed, relative to the dossier
    files: dict[str, list[str]] = Field(default_factory=dict)
    source_runs: list[str] | None = None  # a reextract: the runs whose archived fetches it replayed

    def count(self, name: str) -> int:
        return self.counts.get(name) or 0

    def as_json(self) -> dict[str, Any]:
        """The record as written (a scrape's has no ``source_runs``)."""
        return self.model_dump(mode="json", exclude=None if self.source_runs is not None else {"source_runs"})
