"""The articles as JSON Lines or CSV, for tools outside the Parquet world.

Streamed a record batch at a time (never the whole table in memory), with the dataset's
columns in schema order, ``year`` and ``month`` last. Values: times in ISO 8601 (UTC),
lists and structs as JSON (in CSV, as a JSON string in the cell), nulls as JSON null or an
empty CSV cell.
"""

from __future__ import annotations

import csv
import json
from datetime import date, datetime
from typing import Any, TextIO

from dossier_pipeline.tasks.schema import ARTICLE_SCHEMA, PARTITIONING
from dossier_pipeline.tasks.store import Store

FORMATS = ("jsonl", "csv")


def _json_default(value: Any) -> str:
    if isinstance(value, date | datetime):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, list | dict):
        return json.dumps(value, default=_json_default, ensure_ascii=False)
    return value


def export_articles(store: Store, fmt: str, out: TextIO, batch_size: int = 4096) -> int:
    """Write the dossier's articles to ``out`` in ``fmt``; returns the number of rows."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r} (one of {', '.join(FORMATS)})")
    writer = csv.writer(out, lineterminator="\n") if fmt == "csv" else None
    if writer is not None:
        writer.writerow([f.name for f in ARTICLE_SCHEMA] + [f.name for f in PARTITIONING])
    rows = 0
    for batch in store.article_batches(batch_size):
        for row in batch.to_pylist():
            if writer is None:
                out.write(json.dumps(row, default=_json_default, ensure_ascii=False) + "\n")
            else:
                writer.writerow([_cell(v) for v in row.values()])
        rows += batch.num_rows
    return rows
