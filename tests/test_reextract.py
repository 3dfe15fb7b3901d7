"""Re-extraction from the archive alone, changes over time (edits, takedowns), `dossier
show` and `dossier export`, on real local sites and Prefect's real API."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import random
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import TestSite, write_config
from warcio.archiveiterator import ArchiveIterator

from dossier_pipeline.flows.cli import main
from dossier_pipeline.flows.scrape import scrape_dossier
from dossier_pipeline.tasks.demo.server import LocalServer, Response
from dossier_pipeline.tasks.record import RunRecord
from dossier_pipeline.tasks.schema import ARTICLE_SCHEMA, PARTITIONING
from dossier_pipeline.tasks.store import Store

pytestmark = pytest.mark.usefixtures("prefect_api")
HTML = {"Content-Type": "text/html; charset=utf-8"}
WORDS = ["eau", "nappe", "sécheresse", "préfecture", "arrêté", "irrigation", "vigne", "rivière", "débit", "station",
         "pluie", "orage", "bassin", "agriculteur", "maire", "commune", "réservoir", "forage", "canal", "été"]
PROVENANCE = ("run_id",)  # what a reextract changes (with the extractor, here the same version)


def rows(root: Path) -> dict[str, dict]:
    table = Store(root.parent, root.name, "").read_articles()
    return {r["article_id"]: r for r in table.to_pylist()}


def without(row: dict, keys: tuple[str, ...]) -> dict:
    return {k: v for k, v in row.items() if k not in keys}


def last_run(root: Path) -> RunRecord:
    return Store(root.parent, root.name, "").read_runs()[-1]


@pytest.mark.parametrize("articles", ["in place", "deleted"])
def test_reextract_rebuilds_the_rows_from_the_archive_alone(site: TestSite, tmp_path: Path, articles: str) -> None:
    """In place is the usual case (re-extract after upgrading the extractor); after
    deleting articles/ the archive alone rebuilds them."""
    config = write_config(tmp_path, f"""
[dossiers.replayed]
[[dossiers.replayed.sources]]
kind = "listing"
url = "{site.base}/topic/?page={{page}}"
link_pattern = "/articles/"
[[dossiers.replayed.sources]]
kind = "sitemap"
url = "{site.base}/sitemap.xml"
""")
    out = tmp_path / "out"
    root = out / "replayed"
    first = scrape_dossier("replayed", config_path=str(config), output=str(out))
    before = rows(root)
    assert len(before) == first["counts"]["written"] == 8  # the paywalled one with its teaser

    site.server.close()  # no network from here on
    if articles == "deleted":
        shutil.rmtree(root / "articles")
    ledger = sorted(p.name for p in (root / "urls").iterdir())
    assert main(["reextract", "replayed", "--config", str(config), "--output", str(out)]) == 0

    record = last_run(root)
    after = rows(root)
    assert record.kind == "reextract" and record.source_runs == [first["run_id"]]
    assert record.counts["written"] == 8 and record.counts["replayed"] == 8
    assert sorted(after) == sorted(before)
    assert len(Store(out, "replayed", "").read_articles(["article_id"])) == len(after)  # no duplicates
    for aid, row in after.items():
        assert without(row, PROVENANCE) == without(before[aid], PROVENANCE), aid
        assert row["run_id"] == record.run_id != before[aid]["run_id"]
        # the exact bytes behind the row are one seek away
        with open(root / row["warc_file"], "rb") as f:
            f.seek(row["warc_offset"])
            response = next(iter(ArchiveIterator(f)))
            assert response.rec_headers.get_header("WARC-Type") == "response"
            assert response.rec_headers.get_header("WARC-Record-ID") == row["warc_record_id"]
            assert response.rec_headers.get_header("WARC-Target-URI") == row["final_url"]
            assert hashlib.sha256(response.content_stream().read()).hexdigest() == row["raw_sha256"]
    assert sorted(p.name for p in (root / "urls").iterdir()) == ledger  # a reextract fetches nothing
    assert record.files["added"]
    # in place, the old article files are replaced by the rebuilt ones
    assert bool(record.files["removed"]) == (articles == "in place")
    assert not list(root.glob(".reextract-*"))


def test_edits_takedowns_history_show_and_export(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def page(n: int, title: str, extra: str = "") -> bytes:
        rng = random.Random(n)
        words = " ".join(rng.choice(WORDS) for _ in range(120))
        return (f"<html lang='fr'><head><title>{title}</title>"
                f"<meta property='article:published_time' content='2024-03-0{n + 1}T08:00:00+00:00'></head>"
                f"<body><article><h1>{title}</h1><p>{words}.</p><p>{extra}</p></article></body></html>").encode()

    pages = {f"/r/{n}.html": page(n, f"Titre {n}", "Premier état.") for n in range(3)}
    gone: set[str] = set()

    def app(path: str, headers: dict[str, str]) -> Response:
        if path in gone or path not in pages:
            return Response(404, b"<html>introuvable</html>", HTML)
        etag = '"' + hashlib.sha256(pages[path]).hexdigest()[:16] + '"'
        if headers.get("if-none-match") == etag:
            return Response(304, b"", {"ETag": etag})
        return Response(200, pages[path], {**HTML, "ETag": etag})

    server = LocalServer(app)
    urls = [server.base_url + p for p in pages]
    (tmp_path / "urls.txt").write_text("\n".join(urls) + "\n", encoding="utf-8")
    config = write_config(tmp_path, '[dossiers.edited]\n[[dossiers.edited.sources]]\nkind = "urls"\n'
                                    'file = "urls.txt"\n')
    out, root = tmp_path / "out", tmp_path / "out" / "edited"
    try:
        first = scrape_dossier("edited", config_path=str(config), output=str(out))
        original = {r["url"]: r for r in rows(root).values()}
        assert first["counts"]["written"] == 3
        assert all(r["first_seen"] == r["last_seen"] == r["fetched_at"] and r["last_changed"] is None
                   for r in original.values())

        pages["/r/1.html"] = page(1, "Titre 1 corrigé", "Second état, après une correction discrète.")
        gone.add("/r/2.html")  # /r/0.html answers 304
        second = scrape_dossier("edited", config_path=str(config), output=str(out), refresh=True)
        gone.clear()  # /r/2.html is back, unchanged (a 304)
        third = scrape_dossier("edited", config_path=str(config), output=str(out), refresh=True)
    finally:
        server.close()
    assert second["edits"] == {"edit": 1, "takedown": 1} and third["edits"] == {"restored": 1}
    current = {r["url"]: r for r in rows(root).values()}
    r0, r1, r2 = (current[u] for u in urls)
    assert r0["first_seen"] == original[urls[0]]["first_seen"] < r0["last_seen"] and r0["last_changed"] is None
    assert r1["title"] == "Titre 1 corrigé" and r1["first_seen"] == original[urls[1]]["first_seen"]
    assert r1["last_changed"] == r1["fetched_at"] < r1["last_seen"] and r1["run_id"] == second["run_id"]  # 304 since
    assert r2["text"] == original[urls[2]]["text"] and r2["last_changed"] is not None

    edits = Store(out, "edited", "").read_edits().to_pylist()
    # (the second run's edit and takedown were fetched concurrently: either may be observed first)
    assert sorted((e["kind"], e["url"], e["http_status"]) for e in edits[:2]) == [
        ("edit", urls[1], 200), ("takedown", urls[2], 404)]
    assert (edits[2]["kind"], edits[2]["url"], edits[2]["http_status"]) == ("restored", urls[2], 304)
    edit, takedown = sorted(edits[:2], key=lambda e: e["kind"])
    assert set(edit["fields"]) >= {"title", "text"} and edit["old_text_sha256"] == original[urls[1]]["text_sha256"]
    assert edit["new_text_sha256"] == r1["text_sha256"] and edit["old_fetched_at"] == original[urls[1]]["fetched_at"]
    with open(root / edit["old_warc_file"], "rb") as f:  # the old version's bytes are still there
        f.seek(edit["old_warc_offset"])
        assert b"Premier" in next(iter(ArchiveIterator(f))).content_stream().read()
    assert takedown["new_text_sha256"] is None and takedown["warc_file"]  # the 404 itself is archived

    # The same history, rebuilt from the archive alone.
    history = {u: {k: current[u][k] for k in ("first_seen", "last_seen", "last_changed", "text_sha256")} for u in urls}
    shutil.rmtree(root / "articles")
    shutil.rmtree(root / "edits")
    assert main(["reextract", "edited", "--config", str(config), "--output", str(out)]) == 0
    rebuilt = {r["url"]: r for r in rows(root).values()}
    assert {u: {k: rebuilt[u][k] for k in history[u]} for u in urls} == history
    assert Store(out, "edited", "").read_edits().to_pylist() == edits
    capsys.readouterr()

    # `dossier show`: the runs, and one article's whole story
    assert main(["show", "edited", "--config", str(config), "--output", str(out)]) == 0
    shown = capsys.readouterr().out
    assert shown.count("  run ") == 4 and "reextract" in shown and "scrape --refresh" in shown
    assert main(["show", "edited", "--config", str(config), "--output", str(out), "--url", urls[1]]) == 0
    story = capsys.readouterr().out
    assert "Titre 1 corrigé" in story and r1["warc_record_id"] in story and "trafilatura" in story
    assert f"discovered via urls {tmp_path / 'urls.txt'}" in story
    assert story.count(f"fetched {urls[1]}") == 3 and "http 304, response raw/" in story  # 200, 200, 304
    assert "edit observed by run" in story
    assert "reextracted from the archive" in story and "written" in story and "updated" in story
    assert main(["show", "edited", "--config", str(config), "--output", str(out), "--url", "http://a.example/"]) == 1

    # `dossier export`: the same columns, streamed
    names = [f.name for f in ARTICLE_SCHEMA] + [f.name for f in PARTITIONING]
    assert main(["export", "edited", "--config", str(config), "--output", str(out), "--format", "jsonl"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(lines) == 3 and all(list(line) == names for line in lines)
    by_url = {line["url"]: line for line in lines}
    assert by_url[urls[1]]["text"] == r1["text"] and by_url[urls[1]]["first_seen"] == r1["first_seen"].isoformat()
    target = tmp_path / "articles.csv"
    assert main(["export", "edited", "--config", str(config), "--output", str(out), "--format", "csv",
                 "--out", str(target)]) == 0
    table = list(csv.reader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert table[0] == names and len(table) == 4
    cells = dict(zip(names, next(r for r in table[1:] if r[names.index("url")] == urls[1]), strict=True))
    assert cells["text"] == r1["text"] and json.loads(cells["authors"]) == r1["authors"] and cells["agency"] == ""
    assert not list(tmp_path.glob(".articles.csv.*"))
    assert pq.read_schema(next((root / "articles").rglob("*.parquet"))).field("warc_offset").type == pa.int64()
