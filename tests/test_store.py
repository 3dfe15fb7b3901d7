"""The article store: append-only files, bounded file counts, replaced rows, repair after a
kill, and the same behaviour on a non-local filesystem."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow.compute as pc
import pyarrow.parquet as pq

from dossier_pipeline.tasks.schema import ARTICLE_SCHEMA
from dossier_pipeline.tasks.store import MERGE_FANOUT, Store


def row(n: int, text: str = "", month: int = 3) -> dict[str, Any]:
    body = text or f"Article {n}: " + "mot " * 40
    return {f.name: None for f in ARTICLE_SCHEMA} | {
        "article_id": f"{n:032x}", "dossier": "d", "url": f"https://news.example/{n}",
        "canonical_url": f"https://news.example/{n}", "text": body, "authors": [], "tags": [], "dossier_labels": [],
        "related_urls": [], "duplicate_urls": [], "text_sha256": hashlib.sha256(body.encode()).hexdigest(),
        "published_at": datetime(2024, month, 1 + n % 27, tzinfo=UTC), "fetched_at": datetime(2024, 6, 1, tzinfo=UTC),
        "run_id": "r",
    }


def files(root: Path) -> list[Path]:
    return sorted(root.rglob("*.parquet"))


def test_batches_append_new_files_and_merges_keep_them_few(tmp_path: Path) -> None:
    store = Store(tmp_path, "d", "test")
    store.prepare()
    for batch in range(5 * MERGE_FANOUT):
        states = store.commit_articles([row(batch * 3 + i) for i in range(3)])
        assert set(states.values()) == {"written"}
    table = store.read_articles(["article_id", "month"])
    assert table.num_rows == 15 * MERGE_FANOUT
    assert len(set(table["article_id"].to_pylist())) == table.num_rows
    # 40 batches of 3 rows: merged into files of 24 rows, never more than MERGE_FANOUT files per size
    assert len(files(tmp_path / "d" / "articles")) < 2 * MERGE_FANOUT
    assert not list((tmp_path / "d").rglob(".*.tmp"))
    # A new Store (a new run) sees the same rows and the same files.
    again = Store(tmp_path, "d", "test")
    again.prepare()
    assert set(again.article_files()) == set(table["article_id"].to_pylist())
    assert set(again.article_files().values()) == {str(p) for p in files(tmp_path / "d" / "articles")}


def test_a_replaced_row_moves_to_the_new_file_and_leaves_the_old_one(tmp_path: Path) -> None:
    store = Store(tmp_path, "d", "test")
    store.prepare()
    store.commit_articles([row(1), row(2)])
    first = files(tmp_path)
    assert store.commit_articles([row(1, "Edited text. " * 20, month=4)]) == {row(1)["article_id"]: "updated"}
    table = store.read_articles(["article_id", "text", "month"]).sort_by("article_id").to_pylist()
    assert [(r["article_id"][-1], r["month"]) for r in table] == [("1", 4), ("2", 3)]
    assert table[0]["text"].startswith("Edited text.")
    assert pq.read_table(first[0], columns=["article_id"]).num_rows == 1  # row 1 left the old file
    # The stored ids reading opens only the file holding them.
    assert store.read_articles(["text"], ids=[row(1)["article_id"]]).num_rows == 1


def test_a_row_left_in_two_files_by_a_kill_keeps_its_newest_copy(tmp_path: Path) -> None:
    store = Store(tmp_path, "d", "test")
    store.prepare()
    store.commit_articles([row(1), row(2)])
    old = files(tmp_path)[0]
    # A killed update: the new version was written, the old row not yet removed.
    newer = old.with_name("part-9" + old.name.removeprefix("part-"))
    one = pq.read_table(old).filter(pc.field("article_id") == row(1)["article_id"])
    pq.write_table(one.set_column(one.schema.get_field_index("title"), "title", [["New title"]]), newer)
    again = Store(tmp_path, "d", "test")
    again.prepare()
    rows = again.read_articles(["article_id", "title"]).sort_by("article_id").to_pylist()
    assert [r["title"] for r in rows] == ["New title", None]


def test_a_non_local_filesystem_works_the_same(tmp_path: Path) -> None:
    """fsspec's in-memory filesystem: no rename, no local paths (as object storage)."""
    store = Store("memory://bucket/datasets", "d", "test")
    store.prepare()
    for batch in range(MERGE_FANOUT + 1):
        store.commit_articles([row(batch)])
    store.commit_articles([row(0, "Changed. " * 30)])
    store.write_run({"run_id": "r1", "dossier": "d", "started_at": "2024-06-01"})
    again = Store("memory://bucket/datasets", "d", "test")
    again.prepare()
    table = again.read_articles(["article_id", "text"])
    assert table.num_rows == MERGE_FANOUT + 1
    assert again.location == "memory://bucket/datasets/d"
    assert [r.run_id for r in again.read_runs()] == ["r1"]
    assert sum(t.startswith("Changed.") for t in table["text"].to_pylist()) == 1


def test_a_row_moved_to_another_partition_by_a_killed_update_keeps_its_newest_copy(tmp_path: Path) -> None:
    """Newest is by file name (write order), not by path: the newer copy here lives in a
    partition that sorts first."""
    store = Store(tmp_path, "d", "test")
    store.prepare()
    store.commit_articles([row(1, month=4), row(2, month=4)])
    old = files(tmp_path)[0]
    newer_dir = tmp_path / "d" / "articles" / "year=2024" / "month=03"
    newer_dir.mkdir(parents=True)
    one = pq.read_table(old).filter(pc.field("article_id") == row(1)["article_id"])
    pq.write_table(one.set_column(one.schema.get_field_index("title"), "title", [["Moved"]]),
                   newer_dir / ("part-9" + old.name.removeprefix("part-")))
    again = Store(tmp_path, "d", "test")
    again.prepare()
    rows = again.read_articles(["article_id", "title", "month"]).sort_by("article_id").to_pylist()
    assert [(r["title"], r["month"]) for r in rows] == [("Moved", 3), (None, 4)]


def test_compact_leaves_one_file_per_partition_written_with_whole_row_groups(tmp_path: Path) -> None:
    store = Store(tmp_path, "d", "test")
    store.prepare()
    for batch in range(3 * MERGE_FANOUT + 3):
        store.commit_articles([row(batch * 2 + i, month=3 + i) for i in range(2)])  # one row in each of 2 months
    before = {p.parent.name: 0 for p in files(tmp_path)}
    for p in files(tmp_path):
        before[p.parent.name] += 1
    assert min(before.values()) > 1
    store.compact()
    after = files(tmp_path)
    assert sorted(p.parent.name for p in after) == ["month=03", "month=04"]
    assert [pq.ParquetFile(p).metadata.num_row_groups for p in after] == [1, 1]
    assert set(store.article_files().values()) == {str(p) for p in after}
    again = Store(tmp_path, "d", "test")
    again.prepare()
    assert again.read_articles(["article_id"]).num_rows == 2 * (3 * MERGE_FANOUT + 3)
    store.compact()  # nothing written since: nothing rewritten
    assert files(tmp_path) == after


def test_the_command_line_puts_arrow_on_the_system_allocator_and_an_import_changes_nothing() -> None:
    """The Parquet reader keeps the pool of pyarrow's first import; on mimalloc a compaction
    left hundreds of MB the process could not give back. The command line chooses it
    (flows/cli.py); importing the package leaves the process as it was."""
    code = ("import os, dossier_pipeline.tasks.store, dossier_pipeline.flows.scrape;"
            "print(os.environ.get('ARROW_DEFAULT_MEMORY_POOL'));"
            "from dossier_pipeline.flows.cli import _process_defaults; _process_defaults(False);"
            "import subprocess, sys;"
            "print(subprocess.run([sys.executable, '-c', 'import pyarrow as pa;"
            "print(pa.default_memory_pool().backend_name)'], capture_output=True, text=True).stdout)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True,
                          env={k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"})
    assert done.stdout.split() == ["None", "system"]
