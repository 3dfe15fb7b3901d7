"""Loading a dossier dataset for analysis: articles, the URL ledger and the run records.

The Parquet files can be read by any tool (see datasets/README.md); this module adds what
a plain ``pd.read_parquet`` does not give: the declared schema (so old files read like new
ones and ``year``/``month`` come back as integers, not categories) and filters pushed down
to pyarrow, where a date range also becomes a filter on the partition columns, so reading
one month opens only that month's files, however large the dossier grows::

    from dossier_pipeline.tasks.load import load_articles
    march = load_articles("datasets/demo", start="2024-03-01", end="2024-04-01", language="fr")
    by_their_day = load_articles("datasets/demo", start="2024-03-01", end="2024-04-01", day="publisher")
"""

from __future__ import annotations

import json
import operator
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from functools import reduce
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.fs as pafs
from pydantic import ValidationError

from dossier_pipeline.tasks.record import RunRecord
from dossier_pipeline.tasks.schema import PARTITIONING, URL_SCHEMA
from dossier_pipeline.tasks.store import ARTICLE_COLUMNS, Store

if TYPE_CHECKING:
    import pandas as pd
    import polars as pl

Engine: TypeAlias = Literal["pandas", "polars", "arrow"]
Day: TypeAlias = Literal["utc", "publisher"]
Frame: TypeAlias = "pd.DataFrame | pl.DataFrame | pa.Table"
DateLike: TypeAlias = str | date | datetime

_TS = pa.timestamp("us", tz="UTC")


def open_dossier(path: str | Path, dossier: str | Sequence[str] | None = None, *,
                 filesystem: pafs.FileSystem | None = None) -> ds.Dataset:
    """The articles as a pyarrow dataset with the declared schema and hive partitioning.

    ``path`` is a dossier directory (``datasets/demo``) or, with ``dossier`` (a slug or a
    list of slugs), the output root holding them (``datasets``): only the named dossiers'
    directories are listed. Nothing is read until the dataset is scanned. ``filesystem``
    is a pyarrow filesystem for datasets kept elsewhere (S3, GCS); local by default.
    """
    parts = [_parquet_dataset(store.articles, ARTICLE_COLUMNS, filesystem, ds.partitioning(PARTITIONING,
                                                                                            flavor="hive"))
             for store in _stores(path, dossier)]
    return parts[0] if len(parts) == 1 else ds.dataset(parts)


def publisher_day(published_at: Any, published_at_local: Any) -> Any:
    """The publisher's calendar day as 'YYYY-MM-DD' text: the first ten characters of
    published_at_local, else (rows written before schema 4) the UTC day of published_at.
    Takes and gives Arrow arrays or dataset expressions (``ds.field(...)``)."""
    return pc.coalesce(pc.utf8_slice_codeunits(published_at_local, 0, 10),
                       pc.strftime(published_at, format="%Y-%m-%d"))


def article_filter(start: DateLike | None = None, end: DateLike | None = None,
                   language: str | Sequence[str] | None = None, day: Day = "utc") -> ds.Expression | None:
    """Rows published in [start, end) in the given language(s).

    ``day="utc"``: by the instant, published_at (a date or naive time is taken as UTC).
    ``day="publisher"``: by the publisher's calendar day (see ``publisher_day``): an article
    of 3 May 22:46 at -03:00 is in ``start="2022-05-03", end="2022-05-04"``, though 4 May in
    UTC; ``start``/``end`` are then days (a time's day). A date range is also stated on
    year/month (UTC, a day wider for publisher's days, which are at most 14 hours off), which
    pyarrow resolves from the directory names alone, so partitions outside the range are
    never opened."""
    if day not in ("utc", "publisher"):
        raise ValueError(f"day must be 'utc' or 'publisher', not {day!r}")
    terms: list[ds.Expression] = []
    year, month, published = ds.field("year"), ds.field("month"), ds.field("published_at")
    local_day = publisher_day(published, ds.field("published_at_local"))
    slack = timedelta(days=1) if day == "publisher" else timedelta()
    if start is not None or end is not None:
        terms.append(year > 0)  # year=0/month=00 holds the rows with no known date
    if start is not None:
        first = _utc(start)
        terms.append(published >= pa.scalar(first, _TS) if day == "utc" else local_day >= first.date().isoformat())
        first -= slack
        terms.append((year > first.year) | ((year == first.year) & (month >= first.month)))
    if end is not None:
        stop = _utc(end)
        terms.append(published < pa.scalar(stop, _TS) if day == "utc" else local_day < stop.date().isoformat())
        last = stop + slack - timedelta(microseconds=1)
        terms.append((year < last.year) | ((year == last.year) & (month <= last.month)))
    if language is not None:
        terms.append(ds.field("language").isin(_as_list(language)))
    return _all(terms)


def load_articles(path: str | Path, dossier: str | Sequence[str] | None = None, *,
                  start: DateLike | None = None, end: DateLike | None = None,
                  language: str | Sequence[str] | None = None, day: Day = "utc",
                  columns: Sequence[str] | None = None, engine: Engine = "pandas",
                  filesystem: pafs.FileSystem | None = None) -> Frame:
    """Article rows as a pandas or polars frame (or an Arrow table), filtered while reading:
    see ``open_dossier`` for ``path``/``dossier`` and ``article_filter`` for the rest."""
    dataset = open_dossier(path, dossier, filesystem=filesystem)
    table = dataset.to_table(columns=list(columns) if columns else None,
                             filter=article_filter(start, end, language, day))
    return _frame(table, engine)


def load_urls(path: str | Path, dossier: str | Sequence[str] | None = None, *,
              state: str | Sequence[str] | None = None, run_id: str | Sequence[str] | None = None,
              engine: Engine = "pandas", filesystem: pafs.FileSystem | None = None) -> Frame:
    """The URL ledger: one row per discovered URL and run, e.g. ``state="failed"`` for
    what a run could not get, with the stage and reason."""
    parts = [_parquet_dataset(store.urls, URL_SCHEMA, filesystem) for store in _stores(path, dossier)]
    dataset = parts[0] if len(parts) == 1 else ds.dataset(parts)
    terms = [ds.field(name).isin(_as_list(value)) for name, value in (("state", state), ("run_id", run_id))
             if value is not None]
    return _frame(dataset.to_table(filter=_all(terms)), engine)


def load_runs(path: str | Path, dossier: str | Sequence[str] | None = None, *,
              engine: Engine = "pandas", filesystem: pafs.FileSystem | None = None) -> Frame:
    """One row per run, oldest first, from ``runs/*.json``: nested objects are flattened one
    level (``counts.written``, ``versions.trafilatura``, ``reasons.failed: http_404``) so
    runs compare column by column; ``failures`` stays a list per run."""
    fs = filesystem or pafs.LocalFileSystem()
    rows = []
    for store in _stores(path, dossier):
        _require_dir(fs, store.runs)
        for info in fs.get_file_info(pafs.FileSelector(str(store.runs))):
            if info.is_file and info.base_name.endswith(".json") and not info.base_name.startswith("."):
                with fs.open_input_stream(info.path) as stream:
                    record = json.loads(stream.read())
                try:  # a run record of any version (the fields it lacks take their defaults)
                    RunRecord.model_validate(record)
                except ValidationError as exc:
                    raise ValueError(f"{info.path}: not a run record: {exc}") from None
                rows.append(_flat_run(record))  # the columns as written, in the file's order
    if not rows:
        return _frame(pa.schema([("run_id", pa.string()), ("dossier", pa.string()), ("started_at", _TS),
                                 ("finished_at", _TS)]).empty_table(), engine)
    rows.sort(key=lambda row: (row.get("started_at") or datetime.min.replace(tzinfo=UTC)))
    return _frame(pa.Table.from_struct_array(pa.array(rows)), engine)


def _flat_run(record: dict[str, Any]) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for key, value in record.items():
        if isinstance(value, dict):
            row.update({f"{key}.{k}": v for k, v in value.items()})
        elif key in ("started_at", "finished_at") and isinstance(value, str):
            row[key] = datetime.fromisoformat(value).astimezone(UTC)
        else:
            row[key] = value
    return row


def _stores(path: str | Path, dossier: str | Sequence[str] | None) -> list[Store]:
    """The dossier directories meant: ``path`` itself, or ``path/<slug>`` for each slug."""
    root = Path(path)
    if dossier is None:
        return [Store(root.parent, root.name, "")]
    return [Store(root, slug, "") for slug in _as_list(dossier)]


def _require_dir(fs: pafs.FileSystem, directory: PurePath) -> None:
    if fs.get_file_info(str(directory)).type != pafs.FileType.Directory:
        raise FileNotFoundError(f"{directory}: no such directory; give a dossier directory such as "
                                "'datasets/demo', or the output root and dossier='demo'")


def _parquet_dataset(directory: PurePath, schema: pa.Schema, filesystem: pafs.FileSystem | None,
                     partitioning: ds.Partitioning | None = None) -> ds.Dataset:
    """A dataset over a directory with the declared schema: files written under an older
    schema read with nulls for new columns. pyarrow skips hidden files (``.*``), hence the
    temporaries of a run in progress."""
    fs = filesystem or pafs.LocalFileSystem()
    _require_dir(fs, directory)
    return ds.dataset(str(directory), schema=schema, format="parquet", partitioning=partitioning, filesystem=fs)


def _utc(value: DateLike) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _as_list(value: str | Sequence[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _all(terms: list[ds.Expression]) -> ds.Expression | None:
    return reduce(operator.and_, terms) if terms else None


def _frame(table: pa.Table, engine: Engine) -> Frame:
    if engine == "arrow":
        return table
    if engine == "pandas":
        return table.to_pandas()
    if engine == "polars":
        import polars as pl

        return pl.from_arrow(table)
    raise ValueError(f"engine must be 'pandas', 'polars' or 'arrow', not {engine!r}")
