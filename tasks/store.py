"""The dataset on disk or in object storage: articles (hive-partitioned Parquet), the urls
ledger, run records.

Layout under ``<output>/<slug>/``::

    articles/year=YYYY/month=MM/part-<time>-<id>.parquet   one row per article_id overall
    urls/<run_id>-<batch>.parquet                          every discovered URL's state in each run
    runs/<run_id>.json                                     the run record
    edits/<run_id>-<batch>.parquet                         changes a --refresh observed (tasks/history.py)
    raw/<start>-<run_id>-<serial>.warc.gz                  every HTTP exchange (tasks/archive.py)

``output`` is a local directory or any URI pyarrow or fsspec can open (``s3://bucket/prefix``,
``gs://…``): every read and write goes through one pyarrow filesystem.

Articles are written append-only: each write (batches held together, run.Held) adds one
new file per partition it touches, so its cost does not grow with the dossier. A row that
changes (a --refresh saw a new version, a duplicate was merged into it) is written in the
new file first, then removed from the file that held it; partitions are kept to a few
files by merging files of similar size (a log-structured merge, so each row is rewritten
O(log n) times at most), and at the end of a run the files each partition gained are
merged into one (``compact``). A file appears whole or not at all: locally it is written
to a hidden temporary file and renamed, in object storage a PUT is atomic. A kill between
two such steps can leave a row in two files: the next run keeps the newest and removes the
other before anything else. Only this module knows the layout.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import time
import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path, PurePath, PurePosixPath
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.fs as pafs
import pyarrow.parquet as pq
from pydantic import ValidationError

from dossier_pipeline.tasks import memory
from dossier_pipeline.tasks.diskfull import writing
from dossier_pipeline.tasks.record import RunRecord
from dossier_pipeline.tasks.schema import (
    ARTICLE_SCHEMA,
    EDITS_SCHEMA,
    PARTITIONING,
    SCHEMA_VERSION,
    URL_SCHEMA,
    UrlState,
)
from dossier_pipeline.tasks.textcount import count_words

# articles/ as read: the declared columns, then the partition columns
ARTICLE_COLUMNS = pa.schema(list(ARTICLE_SCHEMA) + list(PARTITIONING), metadata=ARTICLE_SCHEMA.metadata)
SETTLED_BLOCKS = ["error_page"]  # (a paywall, ledgered blocked before schema 4, is fetched again: now kept)
# The end of the ledger reason of a paywalled article skipped by the dossier's setting.
PAYWALL_SKIPPED = "(keep_paywalled = false)"
MERGE_FANOUT = 8  # files of one size class merged together (each row rewritten log8(n) times at most)
MAX_MERGED_ROWS = 50_000  # a file this large is final: merging it would cost more than it saves
STAGING_DIR = "_staging"
NO_DATE = datetime.min.replace(tzinfo=UTC)  # sorts undated rows (all in the year=0 partition)
ROW_GROUP_ROWS = 1_024  # merges stream a row group at a time: memory stays flat however large the file


class OutputError(Exception):
    """The output directory cannot be used; the message is meant for the user."""


def conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """Bring a table written under an older schema to ``schema``: missing columns become
    nulls, columns the schema no longer has are dropped."""
    columns = [table.column(f.name).cast(f.type) if f.name in table.column_names
               else pa.nulls(table.num_rows, f.type) for f in schema]
    return pa.Table.from_arrays(columns, schema=schema)


def upgrade_articles(table: pa.Table) -> pa.Table:
    """Article rows of an older schema under the current one: the new columns null, except
    those computed from the row's own text (char_count, and word_count as textcount counts
    it, since schema 4)."""
    table = conform(table, ARTICLE_SCHEMA)
    words = pa.array([None if t is None else count_words(t) for t in table["text"].to_pylist()], pa.int32())
    for name, values in (("word_count", words), ("char_count", pc.utf8_length(table["text"]).cast(pa.int32()))):
        index = table.schema.get_field_index(name)
        table = table.set_column(index, table.schema.field(index), values)
    return table


def filesystem_for(output: str | Path) -> tuple[pafs.FileSystem, str]:
    """The filesystem and the path in it of an output location: a local path, a URI pyarrow
    opens itself (s3://, gs://, abfs://, hdfs://, file://; credentials and endpoints from
    the usual environment variables, e.g. AWS_ENDPOINT_URL) or one fsspec opens."""
    text = str(output)
    if "://" not in text:
        return pafs.LocalFileSystem(), text
    try:
        fs, path = pafs.FileSystem.from_uri(text)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError):
        try:
            import fsspec

            fsspec_fs, path = fsspec.core.url_to_fs(text)
        except (ImportError, ValueError) as exc:
            raise OutputError(f"output {text!r}: no filesystem for this URI ({exc})") from None
        fs = pafs.PyFileSystem(pafs.FSSpecHandler(fsspec_fs))
    except OSError as exc:
        raise OutputError(f"output {text!r}: cannot open: {exc}") from None
    return fs, path.rstrip("/")


def _token() -> str:
    """A file name part that sorts in write order: the newest copy of a row wins a repair."""
    return f"{time.time_ns()}-{uuid.uuid4().hex[:8]}"


def _parent(path: str) -> str:
    return str(PurePosixPath(path).parent)


def _name(path: str) -> str:
    return PurePosixPath(path).name


def _size_class(rows: int) -> int:
    return int(math.log(max(rows, 1), MERGE_FANOUT))


class Store:
    """One dossier's dataset directory (local, or under a URI)."""

    def __init__(self, output: str | Path, slug: str, pipeline_version: str) -> None:
        self.fs, base = filesystem_for(output)
        self.local = isinstance(self.fs, pafs.LocalFileSystem)
        path: PurePath = Path(base) / slug if self.local else PurePosixPath(base) / slug
        self.location = str(path) if self.local else f"{str(output).rstrip('/')}/{slug}".rstrip("/")
        # Where the WARC files are written: the dataset itself, or for object storage (no
        # appends there) a local spool whose finished files publish_raw() uploads.
        self.root = Path(path) if self.local else Path.home() / ".cache" / "dossier-pipeline" / "spool" / uuid.uuid5(
            uuid.NAMESPACE_URL, self.location).hex
        self.path = path
        self.articles = path / "articles"
        self.urls = path / "urls"
        self.runs = path / "runs"
        self.edits = path / "edits"
        self.pipeline_version = pipeline_version
        self._file_of: dict[str, str] | None = None  # article_id -> file holding its row
        self._rows: defaultdict[str, dict[str, int]] = defaultdict(dict)  # partition dir -> article file -> rows
        self._touched: set[str] = set()  # partition dirs written to since the last compact()

    # -- filesystem -------------------------------------------------------------------
    def _files(self, directory: PurePath, suffix: str = ".parquet") -> list[str]:
        """Data files under ``directory`` (recursive), sorted; hidden temporaries excluded."""
        selector = pafs.FileSelector(str(directory), allow_not_found=True, recursive=True)
        return sorted(info.path for info in self.fs.get_file_info(selector)
                      if info.type == pafs.FileType.File and info.path.endswith(suffix)
                      and not info.base_name.startswith("."))

    def has(self, name: str) -> bool:
        """Whether the dossier's ``name`` directory (articles, runs, …) exists."""
        return bool(self.fs.get_file_info(str(self.path / name)).type == pafs.FileType.Directory)

    def _temporary(self, path: str) -> str:
        """Where ``path`` is written before it appears whole: a hidden temporary beside it,
        renamed once complete; in object storage the file itself (a PUT, or a multipart
        upload, is shown only once complete)."""
        target = PurePosixPath(path)
        return str(target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")) if self.local else path

    def _discard(self, tmp: str, path: str) -> None:
        """Remove the temporary file of a failed write (never the file it stood in for)."""
        if tmp != path and self.fs.get_file_info(tmp).type == pafs.FileType.File:
            self.fs.delete_file(tmp)

    def _put(self, path: str, data: bytes) -> None:
        """Write a file whole or not at all (see the module docstring); without space for
        it, DiskFull (tasks/diskfull.py), its temporary file removed."""
        tmp = self._temporary(path)
        with writing(path, len(data), lambda: self._discard(tmp, path)):
            self.fs.create_dir(str(PurePosixPath(path).parent), recursive=True)
            with self.fs.open_output_stream(tmp) as out:
                out.write(data)
            if tmp != path:
                self.fs.move(tmp, path)

    def _metadata(self, schema: pa.Schema) -> dict[bytes, bytes]:
        """The schema's metadata, with the versions every file of the dataset carries."""
        return {**(schema.metadata or {}), b"schema_version": SCHEMA_VERSION.encode(),
                b"pipeline_version": self.pipeline_version.encode()}

    def _write_parquet(self, table: pa.Table, path: str) -> None:
        sink = pa.BufferOutputStream()
        pq.write_table(table.replace_schema_metadata(self._metadata(table.schema)), sink, compression="zstd",
                       row_group_size=ROW_GROUP_ROWS)
        self._put(path, sink.getvalue().to_pybytes())

    def _read_parquet(self, path: str, columns: list[str] | None = None) -> pa.Table:
        return pq.read_table(path, columns=columns, filesystem=self.fs)

    def check(self) -> None:
        """Create the directories and prove they can be written (a clear error before any
        work starts, when they cannot)."""
        try:
            for directory in (self.articles, self.urls, self.runs):
                self.fs.create_dir(str(directory), recursive=True)
        except (OSError, pa.ArrowException) as exc:
            raise OutputError(f"output directory {self.location} is not usable: {exc}") from None
        probe = str(self.path / f".probe-{uuid.uuid4().hex}")
        try:
            self._put(probe, b"")
            self.fs.delete_file(probe)
        except (OSError, pa.ArrowException) as exc:
            # the probe's name is this check's own business: the error names the directory only
            why = (os.strerror(exc.errno) if isinstance(exc, OSError) and exc.errno
                   else re.sub(r"[^\s'\"]*\.probe-[^\s'\"]*", self.location, str(exc)))
            raise OutputError(f"output directory {self.location} is not usable: cannot write a file in it "
                              f"({why})") from None

    def prepare(self) -> None:
        """Check the directories, remove temporaries a killed run left behind, bring old
        files to the current schema and repair rows a killed run left in two files."""
        self.check()
        try:
            # rows a lost Dask worker or a killed run staged but never committed
            self.fs.delete_dir_contents(str(self.path / STAGING_DIR), missing_dir_ok=True)
            for info in self.fs.get_file_info(pafs.FileSelector(str(self.path), recursive=True)):
                name = info.base_name
                if info.type == pafs.FileType.File and (name.startswith(".probe-") or
                                                        (name.startswith(".") and name.endswith(".tmp"))):
                    self.fs.delete_file(info.path)
        except (OSError, pa.ArrowException) as exc:
            raise OutputError(f"output directory {self.location} is not usable: {exc}") from None
        self._upgrade_files()
        self._index()

    def _upgrade_files(self) -> None:
        """Rewrite article files of an older schema version under the current one
        (upgrade_articles), so every reader sees one schema, not only those that pass it."""
        for path in self._files(self.articles):
            schema = pq.read_schema(path, filesystem=self.fs)
            # (a file of the current version may lack a column: written while two changes of
            # one version were landing)
            if (schema.metadata or {}).get(b"schema_version") != SCHEMA_VERSION.encode() or (
                    not set(ARTICLE_SCHEMA.names) <= set(schema.names)):
                self._write_parquet(upgrade_articles(self._read_parquet(path)), path)

    # -- reading ----------------------------------------------------------------------
    def read_articles(self, columns: list[str] | None = None, ids: Iterable[str] | None = None) -> pa.Table:
        """Article rows (with ``year``/``month`` partition columns), all or those of ``ids``
        (then only the files holding them are opened). Read with the declared schema: files
        of an older schema give nulls in new columns."""
        files = None
        if ids is not None:
            ids = list(ids)
            index = self._index()
            files = sorted({index[i] for i in ids if i in index})
        dataset = self._article_dataset(files)
        if dataset is None:
            table = ARTICLE_COLUMNS.empty_table()
            return table.select(columns) if columns else table
        return dataset.to_table(columns=columns, filter=None if ids is None else pc.field("article_id").isin(ids))

    def _article_dataset(self, files: list[str] | None = None) -> ds.Dataset | None:
        """articles/ (or the given files of it) as one dataset with the declared schema;
        None when there is no row."""
        files = self._files(self.articles) if files is None else files
        if not files:
            return None
        return ds.dataset(files, schema=ARTICLE_COLUMNS, format="parquet", filesystem=self.fs,
                          partitioning=ds.partitioning(PARTITIONING, flavor="hive"),
                          partition_base_dir=str(self.articles))

    def read_urls(self, columns: list[str] | None = None) -> pa.Table:
        files = self._files(self.urls)
        if not files:
            return URL_SCHEMA.empty_table().select(columns) if columns else URL_SCHEMA.empty_table()
        return ds.dataset(files, format="parquet", schema=URL_SCHEMA, filesystem=self.fs).to_table(columns=columns)

    def known_urls(self, keep_paywalled: bool = True) -> dict[str, dict[str, Any]]:
        """URL -> what the dataset holds for it (article id and HTTP validators), for every
        URL, final URL and canonical URL of a stored article and every URL a previous run
        settled as not an article, a duplicate or an error page (bot challenges
        and consent walls are tried again: they come and go). With ``keep_paywalled`` false,
        also the paywalled articles a run skipped for that setting: fetched again only once
        the setting keeps them."""
        table = self.read_articles(["article_id", "url", "final_url", "canonical_url", "etag", "last_modified"])
        known: dict[str, dict[str, Any]] = {}
        for row in table.to_pylist():
            for key in ("url", "final_url", "canonical_url"):
                if row[key]:
                    known.setdefault(row[key], row)
        ledger = self.read_urls(["url", "state", "reason", "article_id"])
        settled_states = pc.or_(
            pc.is_in(ledger["state"], pa.array([UrlState.NOT_ARTICLE, UrlState.DUPLICATE])),
            pc.and_(pc.equal(ledger["state"], UrlState.BLOCKED), pc.is_in(ledger["reason"], pa.array(SETTLED_BLOCKS))))
        if not keep_paywalled:
            settled_states = pc.or_kleene(settled_states, pc.and_kleene(
                pc.equal(ledger["state"], UrlState.SKIPPED), pc.ends_with(ledger["reason"], PAYWALL_SKIPPED)))
        settled = ledger.filter(settled_states)
        for row in settled.to_pylist():
            known.setdefault(row["url"], {"article_id": row["article_id"], "state": row["state"],
                                          "reason": row["reason"]})
        return known

    def _index(self) -> dict[str, str]:
        """article_id -> the file holding its row, read once in one scan (then kept up to
        date by commit_articles); a row found in two files (a killed run) keeps the newest."""
        if self._file_of is None:
            self._file_of, self._rows = {}, defaultdict(dict)
            dataset = self._article_dataset()
            if dataset is None:
                return self._file_of
            table = dataset.to_table(columns=["article_id", "__filename"])
            names = pc.dictionary_encode(table["__filename"].combine_chunks())
            paths = names.dictionary.to_pylist()  # one string per file, shared by its rows
            counts = pc.value_counts(names.indices)
            for number, rows in zip(counts.field("values").to_pylist(), counts.field("counts").to_pylist(),
                                    strict=True):
                self._rows[_parent(paths[number])][paths[number]] = rows
            stale: dict[str, set[str]] = defaultdict(set)
            for aid, number in zip(table["article_id"].to_pylist(), names.indices.to_pylist(), strict=True):
                path = paths[number]
                if (other := self._file_of.get(aid)) is not None:
                    if _name(other) > _name(path):  # names sort in write order, whatever the partition
                        stale[path].add(aid)
                        continue
                    stale[other].add(aid)
                self._file_of[aid] = path
            for path, ids in stale.items():
                self._remove_rows(path, ids)
        return self._file_of

    def article_files(self) -> dict[str, str]:
        """article_id -> the file holding its row, for every stored article (kept current
        by commit_articles: callers may keep it)."""
        return self._index()

    # -- writing ----------------------------------------------------------------------
    def _partition_dir(self, year: int, month: int) -> PurePath:
        return self.articles / f"year={year}" / f"month={month:02d}"

    def commit_articles(self, records: list[dict[str, Any]]) -> dict[str, UrlState]:
        """Insert or replace rows (keyed by article_id); returns article_id -> 'written'
        or 'updated'. New rows go to new files; replaced rows are then removed from the
        files that held them."""
        if not records:
            return {}
        index = self._index()
        states = {r["article_id"]: UrlState.UPDATED if r["article_id"] in index else UrlState.WRITTEN for r in records}
        target: dict[tuple[int, int], list[int]] = defaultdict(list)
        for i, record in enumerate(records):
            published = record["published_at"]
            target[(published.year, published.month) if published else (0, 0)].append(i)
        replaced: dict[str, set[str]] = defaultdict(set)
        for (year, month), rows in sorted(target.items()):
            path = str(self._partition_dir(year, month) / f"part-{_token()}.parquet")
            # sorted and converted a month at a time: the batch's rows are in memory once as
            # Python objects and once a month as Arrow, not as a whole table, its take and its sort
            rows.sort(key=lambda i: (records[i]["published_at"] or NO_DATE, records[i]["article_id"]))
            table = pa.Table.from_pylist([records[i] for i in rows], schema=ARTICLE_SCHEMA)
            self._write_parquet(table, path)
            self._rows[_parent(path)][path] = table.num_rows
            for i in rows:
                aid = records[i]["article_id"]
                if aid in index:
                    replaced[index[aid]].add(aid)
                index[aid] = path
        for path, ids in replaced.items():
            self._remove_rows(path, ids)
        for year, month in target:
            self._touched.add(str(self._partition_dir(year, month)))
            self._merge(self._partition_dir(year, month))
        return states

    def _remove_rows(self, path: str, ids: set[str]) -> None:
        """Rewrite ``path`` without the rows of ``ids`` (newer copies live elsewhere)."""
        table = conform(self._read_parquet(path), ARTICLE_SCHEMA)
        kept = table.filter(pc.invert(pc.is_in(table["article_id"], pa.array(list(ids), pa.string()))))
        if kept.num_rows:
            self._write_parquet(kept, path)
            self._rows[_parent(path)][path] = kept.num_rows
        else:
            self.fs.delete_file(path)
            self._rows[_parent(path)].pop(path, None)

    def _merge(self, partition: PurePath) -> None:
        """Merge MERGE_FANOUT files of one size class of a partition into one, streaming a
        row group at a time, until no size class holds that many files."""
        files = self._rows[str(partition)]
        while True:
            classes: dict[int, list[str]] = defaultdict(list)
            for path, rows in sorted(files.items()):
                if rows < MAX_MERGED_ROWS:
                    classes[_size_class(rows)].append(path)
            group = next((paths[:MERGE_FANOUT] for _, paths in sorted(classes.items())
                          if len(paths) >= MERGE_FANOUT), None)
            if group is None:
                return
            self._merge_files(group, str(partition / f"part-{_token()}.parquet"))

    def _merge_files(self, sources: list[str], path: str) -> None:
        """Write the rows of ``sources`` to ``path`` (whole row groups of ROW_GROUP_ROWS:
        many small files merged must not leave many tiny row groups), then remove them."""
        tmp = self._temporary(path)
        ids: list[str] = []
        pending: list[pa.Table] = []
        with writing(path, lambda: sum(info.size or 0 for info in self.fs.get_file_info(sources)),
                     lambda: self._discard(tmp, path)):
            with self.fs.open_output_stream(tmp) as out, \
                    pq.ParquetWriter(out, ARTICLE_SCHEMA.with_metadata(self._metadata(ARTICLE_SCHEMA)),
                                     compression="zstd") as writer:
                for source in sources:
                    # one thread: merges during a run share the cores with extraction
                    reader = pq.ParquetFile(source, filesystem=self.fs)
                    for batch in reader.iter_batches(batch_size=ROW_GROUP_ROWS, use_threads=False):
                        table = conform(pa.Table.from_batches([batch]), ARTICLE_SCHEMA)
                        ids += table["article_id"].to_pylist()
                        pending.append(table)
                        if sum(t.num_rows for t in pending) >= ROW_GROUP_ROWS:
                            rows = pa.concat_tables(pending)
                            writer.write_table(rows.slice(0, ROW_GROUP_ROWS), row_group_size=ROW_GROUP_ROWS)
                            pending = [rows.slice(ROW_GROUP_ROWS)]
                if rows := sum(t.num_rows for t in pending):
                    writer.write_table(pa.concat_tables(pending), row_group_size=rows)
            if tmp != path:
                self.fs.move(tmp, path)
        files = self._rows[_parent(path)]
        for source in sources:
            files.pop(source)
            self.fs.delete_file(source)
        files[path] = len(ids)
        assert self._file_of is not None
        self._file_of.update(dict.fromkeys(ids, path))

    def compact(self) -> None:
        """At the end of a run: merge the files each partition it wrote to gained (those not
        final yet) into one, so that readers (and the next run's start) open a file or two
        per partition rather than up to MERGE_FANOUT per size class. Costs one rewrite of
        those rows, a small fraction of what writing them cost."""
        for partition in sorted(self._touched):
            small = sorted(p for p, rows in self._rows[partition].items() if rows < MAX_MERGED_ROWS)
            if len(small) > 1:
                self._merge_files(small, str(PurePosixPath(partition) / f"part-{_token()}.parquet"))
                memory.release()  # what a partition's merge freed, before the next one's allocations
        self._touched.clear()

    # -- rows extracted elsewhere (tasks/distributed.py) ---------------------------------
    def staged_path(self, run_id: str, batch: int) -> str:
        """Where a Dask worker leaves the rows of a batch for the commit step to write:
        ``_staging/`` is ignored by dataset readers and removed by the next run."""
        return str(self.path / STAGING_DIR / run_id / f"{batch:05d}.parquet")

    def write_staged(self, records: list[dict[str, Any]], path: str) -> None:
        self._write_parquet(pa.Table.from_pylist(records, schema=ARTICLE_SCHEMA), path)

    def take_staged(self, path: str) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = self._read_parquet(path).to_pylist()
        self.fs.delete_file(path)
        return rows

    def write_ledger(self, rows: list[dict[str, Any]], run_id: str, batch: int) -> str | None:
        if not rows:
            return None
        path = str(self.urls / f"{run_id}-{batch:05d}.parquet")
        self._write_parquet(pa.Table.from_pylist(rows, schema=URL_SCHEMA), path)
        return path

    def write_json(self, name: str, record: dict[str, Any]) -> str:
        """Write ``<dossier>/<name>`` (a JSON record), whole or not at all."""
        path = str(self.path / name)
        self._put(path, json.dumps(record, indent=2, default=str, ensure_ascii=False).encode())
        return path

    def read_json(self, name: str) -> dict[str, Any] | None:
        """The JSON record ``<dossier>/<name>``; None when absent or unreadable."""
        try:
            with self.fs.open_input_stream(str(self.path / name)) as f:
                record: dict[str, Any] = json.loads(f.read())
        except (OSError, ValueError):
            return None
        return record

    def write_run(self, record: dict[str, Any]) -> str:
        return self.write_json(f"runs/{record['run_id']}.json", record)

    def write_card(self, markdown: str) -> str:
        """The dossier's dataset card, README.md at the top of its directory (tasks/card.py)."""
        path = str(self.path / "README.md")
        self._put(path, markdown.encode("utf-8"))
        return path

    def read_runs(self) -> list[RunRecord]:
        """The run records, oldest first, validated by their model (a record of an earlier
        version reads with the defaults of the fields it lacks; an unreadable one is left out)."""
        runs = []
        for record in self.read_records("runs"):
            with contextlib.suppress(ValidationError):
                runs.append(RunRecord.model_validate(record))
        return sorted(runs, key=lambda r: r.started_at)

    def read_records(self, directory: str) -> list[dict[str, Any]]:
        """The JSON records in ``<dossier>/<directory>/`` (an unreadable one is left out)."""
        names = (PurePosixPath(path).name for path in self._files(self.path / directory, ".json"))
        return [record for name in names if (record := self.read_json(f"{directory}/{name}")) is not None]

    def article_batches(self, batch_size: int = 4096, columns: list[str] | None = None) -> Iterator[pa.RecordBatch]:
        """The articles (all columns, or ``columns``) a batch at a time (declared schema,
        partition columns last), for readers that must not hold the whole table."""
        dataset = self._article_dataset()
        return iter(()) if dataset is None else dataset.to_batches(columns=columns, batch_size=batch_size)

    def write_edits(self, rows: list[dict[str, Any]], run_id: str, batch: int) -> str | None:
        if not rows:
            return None
        path = str(self.edits / f"{run_id}-{batch:05d}.parquet")
        self._write_parquet(pa.Table.from_pylist(rows, schema=EDITS_SCHEMA), path)
        return path

    def read_edits(self) -> pa.Table:
        """Every observed change, oldest first."""
        files = self._files(self.edits)
        if not files:
            return EDITS_SCHEMA.empty_table()
        table = ds.dataset(files, format="parquet", schema=EDITS_SCHEMA, filesystem=self.fs).to_table()
        return table.sort_by([("observed_at", "ascending")])

    # -- lineage and the raw archive ----------------------------------------------------
    def snapshot(self, directories: tuple[str, ...]) -> dict[str, tuple[int, int, int]]:
        """Identity of every data file under ``directories`` (relative path -> inode, mtime,
        size): a file replaced by rename has a new inode even with the same size and time.
        Object stores have no inodes: (0, mtime, size) there."""
        files = {}
        for name in directories:
            selector = pafs.FileSelector(str(self.path / name), allow_not_found=True, recursive=True)
            for info in self.fs.get_file_info(selector):
                if info.type == pafs.FileType.File and not info.base_name.startswith("."):
                    relative = str(PurePosixPath(info.path).relative_to(str(self.path)))
                    inode = Path(info.path).stat().st_ino if self.local else 0
                    files[relative] = (inode, info.mtime_ns or 0, info.size or 0)
        if not self.local:  # the finished WARC files still waiting in the local spool
            for path in (self.root / "raw").glob("*.warc.gz"):
                files[f"raw/{path.name}"] = (0, path.stat().st_mtime_ns, path.stat().st_size)
        return files

    def publish_raw(self) -> list[str]:
        """Upload the finished WARC files of the local spool to the dataset (object
        storage only; locally they are written in place) and remove them from the spool."""
        if self.local:
            return []
        uploaded = []
        for path in sorted((self.root / "raw").glob("*.warc.gz")):
            target = str(self.path / "raw" / path.name)
            self.fs.create_dir(str(self.path / "raw"), recursive=True)
            with path.open("rb") as source, self.fs.open_output_stream(target) as out:
                while chunk := source.read(1 << 20):
                    out.write(chunk)
            path.unlink()
            uploaded.append(target)
        return uploaded
