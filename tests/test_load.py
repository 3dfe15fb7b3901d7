"""dossier_pipeline.tasks.load, the loading API, on the real demo dataset: the declared schema, filters pushed
down (one month opens one file), the URL ledger and the run records.

``shared_demo`` runs `dossier demo` once per session for every module that needs a dataset
(this one, test_notebook.py and test_readme.py): it takes ~15 s."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.fs as pafs
import pyarrow.parquet as pq
import pytest
from fsspec.implementations.local import LocalFileSystem

from dossier_pipeline.tasks.load import article_filter, load_articles, load_runs, load_urls, open_dossier
from dossier_pipeline.tasks.schema import ARTICLE_SCHEMA, PARTITIONING
from dossier_pipeline.tasks.store import ARTICLE_COLUMNS, Store

ROOT = Path(__file__).resolve().parents[1]
_DEMO = pytest.StashKey[Path]()


def shared_demo(config: pytest.Config, factory: pytest.TempPathFactory) -> Path:
    """``<tmp>/demo``, written by `dossier demo` in a fresh process on the first call of the session."""
    if _DEMO not in config.stash:
        out = factory.mktemp("demo-output")
        cmd = [sys.executable, "-m", "dossier_pipeline.flows.cli", "demo", "--port", "0", "--output", str(out)]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=out)
        assert done.returncode == 0, done.stdout + done.stderr
        config.stash[_DEMO] = out / "demo"
    return config.stash[_DEMO]


@pytest.fixture(scope="session")
def demo(pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return shared_demo(pytestconfig, tmp_path_factory)


class RecordingHandler(pafs.FSSpecHandler):
    """The local filesystem, noting every file pyarrow opens."""

    def __init__(self) -> None:
        super().__init__(LocalFileSystem())
        self.opened: list[str] = []

    def open_input_file(self, path: str) -> pa.NativeFile:
        self.opened.append(path)
        return super().open_input_file(path)

    def open_input_stream(self, path: str) -> pa.NativeFile:
        self.opened.append(path)
        return super().open_input_stream(path)


def test_declared_schema_and_integer_partitions(demo: Path) -> None:
    dataset = open_dossier(demo)
    assert dataset.schema == ARTICLE_COLUMNS
    assert dataset.schema.names[-2:] == ["year", "month"] and ARTICLE_COLUMNS.field("month").type == pa.int8()
    assert (demo / "articles" / "year=2024" / "month=03").is_dir()  # zero-padded on disk, 3 when read
    df = load_articles(demo)
    assert len(df) == 48 and str(df["month"].dtype) == "int8" and str(df["year"].dtype) == "int16"
    assert ((df["published_at"].dt.year == df["year"]) & (df["published_at"].dt.month == df["month"])).all()
    assert str(df["published_at"].dtype) == "datetime64[us, UTC]"


def test_one_month_opens_only_that_months_file(demo: Path) -> None:
    handler = RecordingHandler()
    march = load_articles(demo.resolve(), start="2024-03-01", end="2024-04-01", engine="arrow",
                          filesystem=pafs.PyFileSystem(handler))
    assert march.num_rows == 7
    march_files = sorted(str(p) for p in (demo.resolve() / "articles" / "year=2024" / "month=03").glob("*.parquet"))
    assert len(march_files) == 1 and handler.opened == march_files

    # Without the partition terms article_filter adds, pyarrow opens every file to read its statistics.
    handler.opened.clear()
    timestamp = pa.timestamp("us", tz="UTC")
    only_dates = ((ds.field("published_at") >= pa.scalar(datetime(2024, 3, 1, tzinfo=UTC), timestamp))
                  & (ds.field("published_at") < pa.scalar(datetime(2024, 4, 1, tzinfo=UTC), timestamp)))
    assert open_dossier(demo.resolve(), filesystem=pafs.PyFileSystem(handler)).to_table(filter=only_dates).num_rows == 7
    assert len(handler.opened) == 7


def test_date_range_spanning_months_and_years(demo: Path) -> None:
    dataset = open_dossier(demo)
    paths = sorted(f.path for f in dataset.get_fragments(article_filter("2024-02-15T12:00:00+01:00", date(2024, 5, 1))))
    assert [p.split("/articles/")[1].rsplit("/", 1)[0] for p in paths] == [f"year=2024/month=0{m}" for m in (2, 3, 4)]
    assert not list(dataset.get_fragments(article_filter(datetime(2023, 12, 1), datetime(2024, 1, 1))))
    assert len(list(dataset.get_fragments(article_filter(start="2023-06-01")))) == 7


def test_filters_match_the_same_selection_made_in_pandas(demo: Path) -> None:
    everything = load_articles(demo)
    start, end = pd.Timestamp("2024-02-10", tz="UTC"), pd.Timestamp("2024-06-20 12:00", tz="UTC")
    expected = everything[(everything.published_at >= start) & (everything.published_at < end)]
    got = load_articles(demo, start=start, end=end, language=["fr", "en"], columns=["article_id", "published_at"])
    assert list(got.columns) == ["article_id", "published_at"]
    assert sorted(got.article_id) == sorted(expected.article_id) and 0 < len(got) < len(everything)
    assert load_articles(demo, language="en").empty
    assert load_articles(demo, start="2024-04-01", end="2024-04-01").empty


def test_engines_and_dossier_selection(demo: Path) -> None:
    polars = load_articles(demo.parent, "demo", engine="polars", columns=["title", "tags", "month"])
    assert isinstance(polars, pl.DataFrame) and polars.shape == (48, 3)
    assert polars.schema["tags"] == pl.List(pl.String) and polars.schema["month"] == pl.Int8
    both = load_articles(demo.parent, ["demo", "demo"], engine="arrow", start="2024-03-01", end="2024-04-01")
    assert both.num_rows == 14
    with pytest.raises(ValueError, match="engine"):
        load_articles(demo, engine="spark")  # type: ignore[arg-type]


def test_missing_directory_says_what_to_give(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="dossier directory such as 'datasets/demo'"):
        open_dossier(tmp_path / "datasets")
    with pytest.raises(FileNotFoundError, match="nope"):
        load_urls(tmp_path, "nope")


def test_old_files_and_run_temporaries(tmp_path: Path) -> None:
    """A file written before a column existed reads with nulls there; the hidden temporary a
    run is writing is not read."""
    partition = tmp_path / "d" / "articles" / "year=2020" / "month=01"
    partition.mkdir(parents=True)
    old = pa.table({"article_id": ["a"], "dossier": ["d"], "url": ["https://x.org/a"], "title": ["T"],
                    "published_at": pa.array([datetime(2020, 1, 2, tzinfo=UTC)], pa.timestamp("us", tz="UTC"))})
    pq.write_table(old, partition / "part-0.parquet")
    (partition / ".part-0.parquet.0123.tmp").write_bytes(b"PAR1 half-written")
    df = load_articles(tmp_path / "d", start="2020-01-01")
    assert list(df.columns) == ARTICLE_COLUMNS.names and len(df) == 1
    assert df.loc[0, "title"] == "T" and pd.isna(df.loc[0, "text"]) and df.loc[0, "month"] == 1
    assert len(ARTICLE_COLUMNS) == len(ARTICLE_SCHEMA) + len(PARTITIONING)


def test_urls_ledger_and_runs(demo: Path) -> None:
    ledger = load_urls(demo)
    assert len(ledger) == 48 and set(ledger.state) == {"written"}
    assert load_urls(demo, state="failed").empty
    runs = load_runs(demo)
    assert len(runs) == 1 and runs.loc[0, "run_id"] == ledger.run_id.iloc[0]
    assert runs.loc[0, "counts.written"] == 48 and runs.loc[0, "started_at"] < runs.loc[0, "finished_at"]
    assert load_urls(demo, run_id=runs.loc[0, "run_id"], state=["written", "failed"]).shape == ledger.shape
    assert str(runs["started_at"].dtype) == "datetime64[us, UTC]"
    assert load_runs(demo, engine="polars").height == 1


def test_no_runs_yet_is_an_empty_frame(tmp_path: Path) -> None:
    for sub in ("articles", "urls", "runs"):
        os.makedirs(tmp_path / "d" / sub)
    assert load_runs(tmp_path / "d").empty and "run_id" in load_runs(tmp_path / "d").columns
    assert load_articles(tmp_path / "d").empty and load_urls(tmp_path / "d", state="failed").empty


def test_filter_by_the_publishers_day(tmp_path: Path) -> None:
    """day="publisher": an article dated 29 Feb 22:46 at -03:00 (1 March in UTC) is a
    February article, one of 1 March 00:30 at +01:00 (29 Feb in UTC) a March one; a row
    without published_at_local (written before schema 4) counts by its UTC day."""
    def row(n: int, utc: datetime, local: str | None) -> dict:
        return {f.name: None for f in ARTICLE_SCHEMA} | {
            "article_id": f"{n:032d}", "dossier": "t", "url": f"https://a.example/{n}", "text": "Text.",
            "authors": [], "tags": [], "dossier_labels": [], "related_urls": [], "duplicate_urls": [],
            "published_at": utc, "published_at_local": local, "fetched_at": utc, "run_id": "r"}

    Store(tmp_path, "t", "test").commit_articles([
        row(1, datetime(2024, 3, 1, 1, 46, 8, tzinfo=UTC), "2024-02-29T22:46:08-03:00"),
        row(2, datetime(2024, 2, 29, 23, 30, tzinfo=UTC), "2024-03-01T00:30:00+01:00"),
        row(3, datetime(2024, 3, 15, 10, tzinfo=UTC), None),
        row(4, datetime(2024, 4, 1, 1, tzinfo=UTC), "2024-03-31T22:00:00-03:00"),
    ])
    ids = {day: sorted(int(i) for i in load_articles(tmp_path / "t", start="2024-03-01", end=date(2024, 4, 1),
                                                     day=day)["article_id"]) for day in ("utc", "publisher")}
    assert ids == {"utc": [1, 3], "publisher": [2, 3, 4]}
    assert sorted(int(i) for i in load_articles(tmp_path / "t", end="2024-03-01", day="publisher")["article_id"]) == [1]
    with pytest.raises(ValueError, match="day must be"):
        article_filter("2024-03-01", day="local")  # type: ignore[arg-type]
