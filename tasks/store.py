"""The dataset on disk: articles (hive-partitioned Parquet), the urls ledger, run records.

Layout under ``<output>/<slug>/``::

    articles/year=YYYY/month=MM/part-0.parquet   one file per partition, one row per article_id
    urls/<run_id>-<batch>.parquet                every discovered URL's state in each run
    runs/<run_id>.json                           the run record
    edits/<run_id>-<batch>.parquet               changes a --refresh observed (tasks/history.py)
    raw/<start>-<run_id>-<serial>.warc.gz        every HTTP exchange (tasks/archive.py)

Writes are atomic: a partition is rewritten to a hidden temporary file in the same
directory and ``os.replace``d over the old one, so a reader sees the old or the new file,
never a partial one; temporaries left by a killed run are removed by the next run. Only
this module knows the layout.
"""

from __future__ import annotations

import json
import os
import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from tasks.schema import ARTICLE_SCHEMA, EDITS_SCHEMA, PARTITIONING, SCHEMA_VERSION, URL_SCHEMA

PART_FILE = "part-0.parquet"
# articles/ as read: the declared columns, then the partition columns
ARTICLE_COLUMNS = pa.schema(list(ARTICLE_SCHEMA) + list(PARTITIONING), metadata=ARTICLE_SCHEMA.metadata)
SETTLED_BLOCKS = ["paywall", "error_page"]


class OutputError(Exception):
    """The output directory cannot be used; the message is meant for the user."""


def conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """Bring a table written under an older schema to ``schema``: missing columns become
    nulls, columns the schema no longer has are dropped."""
    columns = [table.column(f.name).cast(f.type) if f.name in table.column_names
               else pa.nulls(table.num_rows, f.type) for f in schema]
    return pa.Table.from_arrays(columns, schema=schema)


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


class Store:
    """One dossier's dataset directory."""

    def __init__(self, output: str | Path, slug: str, pipeline_version: str) -> None:
        self.root = Path(output) / slug
        self.articles = self.root / "articles"
        self.urls = self.root / "urls"
        self.runs = self.root / "runs"
        self.edits = self.root / "edits"
        self.pipeline_version = pipeline_version
        self._partition_of: dict[str, tuple[int, int]] | None = None
        self.text_hash: dict[str, str] = {}

    def prepare(self) -> None:
        """Create the directories and remove temporaries a killed run left behind."""
        try:
            for directory in (self.articles, self.urls, self.runs):
                directory.mkdir(parents=True, exist_ok=True)
            probe = self.root / f".probe-{uuid.uuid4().hex}"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            raise OutputError(f"output directory {self.root} is not usable: {exc}") from None
        for tmp in self.root.rglob(".*.tmp"):
            tmp.unlink(missing_ok=True)
        self._upgrade_partitions()

    def _upgrade_partitions(self) -> None:
        """Rewrite partition files of an older schema version under the current one (new
        columns null), so every reader sees one schema, not only those that pass it."""
        for path in self.articles.rglob(PART_FILE):
            if (pq.read_schema(path).metadata or {}).get(b"schema_version") != SCHEMA_VERSION.encode():
                self._write_parquet(conform(pq.read_table(path), ARTICLE_SCHEMA), path)

    # -- reading ----------------------------------------------------------------------
    def read_articles(self, columns: list[str] | None = None, ids: Iterable[str] | None = None) -> pa.Table:
        """Article rows (with ``year``/``month`` partition columns), all or those of ``ids``.
        Read with the declared schema: files of an older schema give nulls in new columns."""
        dataset = self._article_dataset()
        if dataset is None:
            table = ARTICLE_COLUMNS.empty_table()
            return table.select(columns) if columns else table
        return dataset.to_table(columns=columns, filter=None if ids is None else pc.field("article_id").isin(list(ids)))

    def _article_dataset(self) -> ds.Dataset | None:
        """articles/ as one dataset with the declared schema; None before the first row."""
        if not any(self.articles.rglob("*.parquet")):
            return None
        return ds.dataset(self.articles, schema=ARTICLE_COLUMNS, format="parquet",
                          partitioning=ds.partitioning(PARTITIONING, flavor="hive"))

    def read_urls(self, columns: list[str] | None = None) -> pa.Table:
        files = sorted(self.urls.glob("*.parquet"))
        if not files:
            return URL_SCHEMA.empty_table().select(columns) if columns else URL_SCHEMA.empty_table()
        return ds.dataset(files, format="parquet", schema=URL_SCHEMA).to_table(columns=columns)

    def known_urls(self) -> dict[str, dict[str, Any]]:
        """URL -> what the dataset holds for it (article id and HTTP validators), for every
        URL, final URL and canonical URL of a stored article and every URL a previous run
        settled as not an article, a duplicate, a paywall or an error page (bot challenges
        and consent walls are tried again: they come and go)."""
        table = self.read_articles(["article_id", "url", "final_url", "canonical_url", "etag", "last_modified"])
        known: dict[str, dict[str, Any]] = {}
        for row in table.to_pylist():
            for key in ("url", "final_url", "canonical_url"):
                if row[key]:
                    known.setdefault(row[key], row)
        ledger = self.read_urls(["url", "state", "reason", "article_id"])
        settled = ledger.filter(pc.or_(
            pc.is_in(ledger["state"], pa.array(["not_article", "duplicate"])),
            pc.and_(pc.equal(ledger["state"], "blocked"), pc.is_in(ledger["reason"], pa.array(SETTLED_BLOCKS)))))
        for row in settled.to_pylist():
            known.setdefault(row["url"], {"article_id": row["article_id"], "state": row["state"],
                                          "reason": row["reason"]})
        return known

    def partition_index(self) -> dict[str, tuple[int, int]]:
        if self._partition_of is None:
            table = self.read_articles(["article_id", "text_sha256", "year", "month"])
            self.text_hash = dict(zip(table["article_id"].to_pylist(), table["text_sha256"].to_pylist(),
                                      strict=True))
            self._partition_of = {
                a: (y, m) for a, y, m in zip(table["article_id"].to_pylist(), table["year"].to_pylist(),
                                             table["month"].to_pylist(), strict=True)
            }
        return self._partition_of

    # -- writing ----------------------------------------------------------------------
    def _partition_dir(self, year: int, month: int) -> Path:
        return self.articles / f"year={year}" / f"month={month:02d}"

    def _write_parquet(self, table: pa.Table, path: Path) -> None:
        metadata = {**(table.schema.metadata or {}), b"schema_version": SCHEMA_VERSION.encode(),
                    b"pipeline_version": self.pipeline_version.encode()}
        table = table.replace_schema_metadata(metadata)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
        pq.write_table(table, tmp, compression="zstd")
        os.replace(tmp, path)

    def commit_articles(self, records: list[dict[str, Any]]) -> dict[str, str]:
        """Insert or replace rows (keyed by article_id); returns article_id -> 'written'
        or 'updated'. Each touched partition file is replaced atomically."""
        if not records:
            return {}
        index = self.partition_index()
        new = pa.Table.from_pylist(records, schema=ARTICLE_SCHEMA)
        ids = pa.array([r["article_id"] for r in records])
        target: dict[tuple[int, int], list[int]] = defaultdict(list)
        for i, record in enumerate(records):
            published = record["published_at"]
            target[(published.year, published.month) if published else (0, 0)].append(i)
        touched = set(target) | {index[r["article_id"]] for r in records if r["article_id"] in index}
        states = {r["article_id"]: ("updated" if r["article_id"] in index else "written") for r in records}
        for year, month in sorted(touched):
            path = self._partition_dir(year, month) / PART_FILE
            parts = []
            if path.exists():
                old = conform(pq.read_table(path), ARTICLE_SCHEMA)
                parts.append(old.filter(pc.invert(pc.is_in(old["article_id"], ids))))
            if target.get((year, month)):
                parts.append(new.take(target[(year, month)]))
            table = pa.concat_tables(parts) if parts else ARTICLE_SCHEMA.empty_table()
            if table.num_rows == 0:
                path.unlink(missing_ok=True)
                continue
            table = table.sort_by([("published_at", "ascending"), ("article_id", "ascending")])
            self._write_parquet(table, path)
        for (year, month), rows in target.items():
            for i in rows:
                index[records[i]["article_id"]] = (year, month)
                self.text_hash[records[i]["article_id"]] = records[i]["text_sha256"]
        return states

    def write_ledger(self, rows: list[dict[str, Any]], run_id: str, batch: int) -> Path | None:
        if not rows:
            return None
        path = self.urls / f"{run_id}-{batch:05d}.parquet"
        self._write_parquet(pa.Table.from_pylist(rows, schema=URL_SCHEMA), path)
        return path

    def write_run(self, record: dict[str, Any]) -> Path:
        path = self.runs / f"{record['run_id']}.json"
        _atomic_write_bytes(path, json.dumps(record, indent=2, default=str, ensure_ascii=False).encode())
        return path

    def write_card(self, markdown: str) -> Path:
        """The dossier's dataset card, README.md at the top of its directory (tasks/card.py)."""
        path = self.root / "README.md"
        _atomic_write_bytes(path, markdown.encode("utf-8"))
        return path

    def read_runs(self) -> list[dict[str, Any]]:
        runs = []
        for path in sorted(self.runs.glob("*.json")):
            try:
                runs.append(json.loads(path.read_text(encoding="utf-8")))
            except (OSError, ValueError):
                continue
        return sorted(runs, key=lambda r: r.get("started_at", ""))

    def article_batches(self, batch_size: int = 4096) -> Iterator[pa.RecordBatch]:
        """The articles a batch at a time (declared schema, partition columns last), for
        readers that must not hold the whole table."""
        dataset = self._article_dataset()
        return iter(()) if dataset is None else dataset.to_batches(batch_size=batch_size)

    def write_edits(self, rows: list[dict[str, Any]], run_id: str, batch: int) -> Path | None:
        if not rows:
            return None
        path = self.edits / f"{run_id}-{batch:05d}.parquet"
        self._write_parquet(pa.Table.from_pylist(rows, schema=EDITS_SCHEMA), path)
        return path

    def read_edits(self) -> pa.Table:
        """Every observed change, oldest first."""
        files = sorted(self.edits.glob("*.parquet"))
        if not files:
            return EDITS_SCHEMA.empty_table()
        table = ds.dataset(files, format="parquet", schema=EDITS_SCHEMA).to_table()
        return table.sort_by([("observed_at", "ascending")])
