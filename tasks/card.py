"""The dataset card: a README.md in every dossier directory, rewritten after each run.

A dataset travels without the pipeline that made it; the card says what it holds (rows,
date range, languages, sites, duplicates merged), where it comes from (the dossier's
sources and every run, with its counts and versions), what each column means, and how to
load it, from the data on disk rather than from what the run believes it did.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pyarrow.compute as pc

from dossier_pipeline.tasks.config import Dossier
from dossier_pipeline.tasks.load import publisher_day
from dossier_pipeline.tasks.record import RunRecord
from dossier_pipeline.tasks.schema import ARTICLE_SCHEMA, SCHEMA_VERSION, markdown_table
from dossier_pipeline.tasks.store import Store

CARD_COLUMNS = ["published_at", "published_at_local", "language", "language_declared", "canonical_url", "site_name",
                "authors", "agency", "duplicate_urls", "date_source", "word_count"]
RUN_COUNTS = ("discovered", "written", "updated", "unchanged", "duplicate", "merged_duplicates", "not_article",
              "blocked", "skipped", "failed")
TOP = 10


def _top(counter: Counter[str], total: int) -> str:
    items = [f"{name} ({count}, {count / total:.0%})" for name, count in counter.most_common(TOP)]
    rest = len(counter) - TOP
    return ", ".join(items) + (f" and {rest} more" if rest > 0 else "") if items else "none"


def _source(source: Any) -> str:
    where = getattr(source, "url", None) or ", ".join(getattr(source, "urls", []) or [])
    if getattr(source, "file", None):
        where = f"{where}, file {Path(source.file).name}".strip(", ")
    return f"- `{source.kind}`: {where}"


@dataclass
class _Statistics:
    """What the card says of the rows, gathered a record batch at a time: the card of a
    large dataset must not hold its columns as Python objects."""

    rows: int = 0
    dated: int = 0
    words: int = 0
    merged: int = 0
    disagree: int = 0
    with_people: int = 0
    with_agency: int = 0
    first: str | None = None  # publisher's days, YYYY-MM-DD
    last: str | None = None
    hosts: Counter[str] = field(default_factory=Counter)
    languages: Counter[str] = field(default_factory=Counter)
    sources: Counter[str] = field(default_factory=Counter)


def _statistics(store: Store) -> _Statistics:
    stats = _Statistics()
    for batch in store.article_batches(columns=CARD_COLUMNS):
        column = dict(zip(batch.schema.names, batch.columns, strict=True))
        published = column["published_at"]
        stats.rows += batch.num_rows
        stats.dated += batch.num_rows - published.null_count
        if published.null_count < batch.num_rows:
            span = pc.min_max(publisher_day(published, column["published_at_local"]))
            low, high = span["min"].as_py(), span["max"].as_py()
            stats.first = low if stats.first is None else min(stats.first, low)
            stats.last = high if stats.last is None else max(stats.last, high)
        stats.words += pc.sum(column["word_count"]).as_py() or 0
        stats.merged += pc.sum(pc.list_value_length(column["duplicate_urls"])).as_py() or 0
        stats.with_people += pc.sum(pc.greater(pc.list_value_length(column["authors"]), 0)).as_py() or 0
        stats.with_agency += batch.num_rows - column["agency"].null_count
        stats.disagree += pc.sum(pc.not_equal(column["language_declared"], column["language"])).as_py() or 0
        stats.hosts.update(urlsplit(u).hostname or "?" for u in column["canonical_url"].to_pylist())
        stats.languages.update(lang or "unknown" for lang in column["language"].to_pylist())
        stats.sources.update(s or "none" for s in column["date_source"].to_pylist())
    return stats


def card_markdown(store: Store, dossier: Dossier, current_run: RunRecord | None = None) -> str:
    """The card of a dossier's dataset; ``current_run`` is the record of a run not yet on disk."""
    stats = _statistics(store)
    rows = stats.rows
    runs = [r for r in store.read_runs() if not current_run or r.run_id != current_run.run_id]
    runs += [current_run] if current_run else []
    title = dossier.title or dossier.slug
    lines = [
        f"# {title}",
        "",
        f"Dataset of the news dossier `{dossier.slug}`, written by dossier-pipeline. This card is generated after "
        f"every run ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC last); edits to it are overwritten.",
        "",
        "## What it holds",
        "",
    ]
    if rows:
        lines += [
            f"- **{rows} articles**, one row per article (`article_id`), {stats.words:,} words of text.",
            f"- **Published** from {stats.first} to {stats.last} (the publishers' calendar days); "
            f"{rows - stats.dated} without a known publication date." if stats.dated else
            f"- **Published**: no row has a known publication date ({rows} rows).",
            f"- **Dates from**: {_top(stats.sources, rows)} (`date_source`; every candidate is in `date_evidence`).",
            f"- **Sites**: {_top(stats.hosts, rows)}.",
            f"- **Languages** (detected): {_top(stats.languages, rows)}; {stats.disagree} rows declare another "
            "language (`language_declared`).",
            f"- **Bylines**: {stats.with_people} rows name at least one person (`authors`), {stats.with_agency} "
            "credit an agency (`agency`).",
            f"- **Duplicates**: {stats.merged} other URLs with the same or nearly the same text were merged into the "
            "rows that list them (`duplicate_urls`).",
        ]
    else:
        lines.append("No article rows yet.")
    lines += ["", "## Sources", ""]
    lines += [_source(source) for source in dossier.sources]
    lines += ["", f"Allowed domains: {', '.join(dossier.domains) or 'none'}."]
    expected = next((r.counts["expected"] for r in reversed(runs) if r.counts.get("expected")), None)
    if expected:
        lines.append(f"The dossier's own page states {expected} articles.")
    lines += ["", "## Runs", "", "Each run's full record (parameters, config digest, versions, failures) is "
              "`runs/<run_id>.json`; every URL's fate is in the `urls/` ledger.", "",
              "| run | started (UTC) | pipeline | " + " | ".join(RUN_COUNTS) + " |",
              "| --- | --- | --- | " + " | ".join("---" for _ in RUN_COUNTS) + " |"]
    for run in runs:
        lines.append(f"| `{run.run_id}` | {run.started_at[:19].replace('T', ' ')} | "
                     f"{run.versions.get('dossier-pipeline', '?')} | "
                     + " | ".join(str(run.counts.get(key, 0)) for key in RUN_COUNTS) + " |")
    lines += [
        "",
        "## Files",
        "",
        "```",
        "articles/year=YYYY/month=MM/part-*.parquet   one row per article, by UTC publication month",
        "                                             (year=0/month=00: publication date unknown)",
        "urls/<run_id>-NNNNN.parquet                  every discovered URL's state, per run",
        "runs/<run_id>.json                           what each run did, with which versions",
        "```",
        "",
        f"Parquet (zstd), schema version {SCHEMA_VERSION} (in each file's metadata, with every column's "
        "documentation). Files of older schema versions are rewritten with the new columns empty.",
        "",
        "## How to load",
        "",
        "From this directory:",
        "",
        "```python",
        "import pandas as pd",
        'df = pd.read_parquet("articles")',
        "",
        "import polars as pl",
        'df = pl.read_parquet("articles/**/*.parquet", hive_partitioning=True)',
        "",
        "import duckdb",
        "duckdb.sql(\"select * from read_parquet('articles/**/*.parquet', hive_partitioning=true)\")",
        "",
        'failures = pd.read_parquet("urls").query("state == \'failed\'")',
        "```",
        "",
        "## Columns of `articles/`",
        "",
        markdown_table(ARTICLE_SCHEMA),
        "",
    ]
    return "\n".join(lines)


def write_card(store: Store, dossier: Dossier, current_run: RunRecord | None = None) -> str:
    """Write the dossier's README.md dataset card; returns its path."""
    return store.write_card(card_markdown(store, dossier, current_run))
