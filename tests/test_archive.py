"""The raw WARC archive: what it holds, that standard tools read it, that a killed run
cannot leave it unreadable, and that a rerun which downloads nothing adds (almost) nothing."""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import json
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from conftest import PAGES, TestSite, write_config
from warcio.archiveiterator import ArchiveIterator

from dossier_pipeline.flows.scrape import scrape_dossier
from dossier_pipeline.tasks.archive import ArchiveWriter, Exchange, open_record, recover, warc_files
from dossier_pipeline.tasks.config import Settings
from dossier_pipeline.tasks.demo.server import LocalServer, Response
from dossier_pipeline.tasks.fetch import Politeness, fetch_all

WARCIO = str(Path(sys.executable).parent / "warcio")
DISCOVERY = ("/robots.txt", "/topic/", "/feed.xml", "/sitemap")


def warcio(command: str, *files: Path) -> str:
    done = subprocess.run([WARCIO, command, *map(str, files)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def records(path: Path) -> list[dict[str, str | None]]:
    """(type, target URI, refers-to / concurrent-to) of every record of a WARC file."""
    with open(path, "rb") as f:
        return [{"type": r.rec_headers.get_header("WARC-Type"), "uri": r.rec_headers.get_header("WARC-Target-URI"),
                 "id": r.rec_headers.get_header("WARC-Record-ID"),
                 "concurrent": r.rec_headers.get_header("WARC-Concurrent-To")} for r in ArchiveIterator(f)]


def exchange(n: int, size: int = 1000) -> Exchange:
    return Exchange(f"http://example.org/{n}", f"/{n}", [("Host", "example.org")], "HTTP/1.1", 200, "OK",
                    [("Content-Type", "text/html")], b"x" * size, datetime.now(UTC))


def test_writer_rolls_files_and_recovers_what_a_killed_run_left(tmp_path: Path) -> None:
    writer = ArchiveWriter(tmp_path, "run-a", {"pipeline_version": "test", "run_id": "run-a"}, datetime.now(UTC),
                           max_bytes=1500)
    pointers = [writer.write_exchange(exchange(n)) for n in range(6)]
    writer.close()
    files = warc_files(tmp_path)
    assert len(files) == len(writer.files) >= 3 and not list((tmp_path / "raw").glob("*.open"))
    assert all(records(f)[0]["type"] == "warcinfo" for f in files)  # one warcinfo per file, first
    for n, pointer in enumerate(pointers):
        record = open_record(tmp_path, pointer.file, pointer.offset)
        assert record.record_type == "response" and record.target_uri == f"http://example.org/{n}"
        assert record.record_id == pointer.record_id
    warcio("check", *files)

    # A run still writing: its file keeps its temporary name and is left alone (flock) ...
    live = ArchiveWriter(tmp_path, "run-b", {"pipeline_version": "test"}, datetime.now(UTC))
    pointer = live.write_exchange(exchange(1))
    live.write_exchange(exchange(2))
    [open_file] = (tmp_path / "raw").glob("*.open")
    assert recover(tmp_path) == [] and open_file.exists()
    assert open_record(tmp_path, pointer.file, pointer.offset).payload == b"x" * 1000  # readable meanwhile
    # ... a killed one (its last record cut mid-write) is cut after its last complete record and renamed.
    killed = open_file.with_name("20000101000000-run-c-00000.warc.gz.open")
    data = open_file.read_bytes()
    killed.write_bytes(data + gzip.compress(b"WARC/1.1\r\nWARC-Type: response\r\n" + b"y" * 5000)[:-40])
    assert recover(tmp_path) == ["raw/20000101000000-run-c-00000.warc.gz"]
    fixed = killed.with_name("20000101000000-run-c-00000.warc.gz")
    assert fixed.read_bytes() == data and [r["type"] for r in records(fixed)] == [
        "warcinfo", "response", "request", "response", "request"]
    warcio("check", fixed)
    live.close()
    assert len(warc_files(tmp_path)) == len(files) + 2


def test_every_exchange_is_archived_as_received(tmp_path: Path) -> None:
    page = b"<html><body>" + "é".encode() * 3000 + b"</body></html>"
    wire = gzip.compress(page)
    routes = {
        "/robots.txt": Response(200, b"User-agent: *\nAllow: /\n", {"Content-Type": "text/plain"}),
        "/gz.html": Response(200, wire, {"Content-Type": "text/html", "Content-Encoding": "gzip", "ETag": '"v1"'}),
        "/moved.html": Response(302, b"moved", {"Location": "/gz.html"}),
        "/missing.html": Response(404, b"<html>no such page</html>", {"Content-Type": "text/html"}),
        "/big.html": Response(200, b"<html>" + b"x" * 20_000, {"Content-Type": "text/html"}),
    }
    server = LocalServer(lambda path, headers: routes[path])
    writer = ArchiveWriter(tmp_path, "run", {"pipeline_version": "test"}, datetime.now(UTC))
    try:
        settings = Settings(allow_private_addresses=True, requests_per_second=1000, max_retries=0,
                            max_body_bytes=10_000)
        moved, missing, big = asyncio.run(fetch_all([server.base_url + p for p in ("/moved.html", "/missing.html",
                                                                                     "/big.html")],
                                                    Politeness(settings, archive=writer), ["127.0.0.1"]))
    finally:
        server.close()
        writer.close()
    assert moved.ok and moved.body == page and missing.reason == "http_404"
    [path] = warc_files(tmp_path)
    kinds = [(r["type"], r["uri"].rsplit("/", 1)[-1] if r["uri"] else None) for r in records(path)]
    assert kinds[:3] == [("warcinfo", None), ("response", "robots.txt"), ("request", "robots.txt")]
    pairs = [(kinds[i], kinds[i + 1]) for i in range(3, len(kinds), 2)]  # each request right after its response
    assert all(a == ("response", b[1]) and b[0] == "request" for a, b in pairs)
    assert sorted(b[1] for _, b in pairs) == ["big.html", "gz.html", "missing.html", "moved.html"]
    # the row's pointer is the final response: its payload decodes to the very bytes extracted
    archived = open_record(tmp_path, moved.archived.file, moved.archived.offset)
    assert archived.target_uri == server.base_url + "/gz.html" and archived.status == 200
    assert hashlib.sha256(archived.payload).digest() == hashlib.sha256(page).digest()
    assert archived.http_headers["content-encoding"] == "gzip" and archived.http_headers["etag"] == '"v1"'
    with open(path, "rb") as f:  # ... and the record holds the body as it came over the wire
        f.seek(moved.archived.offset)
        raw = next(iter(ArchiveIterator(f))).raw_stream.read()
    assert raw == wire
    assert open_record(tmp_path, missing.archived.file, missing.archived.offset).payload == routes[
        "/missing.html"].body
    assert big.reason.startswith("too_large")  # archived as far as it was read, and marked so
    with open(path, "rb") as f:
        f.seek(big.archived.offset)
        assert next(iter(ArchiveIterator(f))).rec_headers.get_header("WARC-Truncated") == "length"
    request = next(r for r in records(path) if r["type"] == "request" and r["uri"].endswith("/gz.html"))
    assert request["concurrent"] == moved.archived.record_id
    warcio("check", path)


@pytest.mark.usefixtures("prefect_api")
def test_a_run_archives_everything_and_a_rerun_only_discovery(site: TestSite, tmp_path: Path) -> None:
    config = write_config(tmp_path, f"""
[dossiers.warc]
[[dossiers.warc.sources]]
kind = "listing"
url = "{site.base}/topic/?page={{page}}"
link_pattern = "/articles/"
[[dossiers.warc.sources]]
kind = "feed"
url = "{site.base}/feed.xml"
[[dossiers.warc.sources]]
kind = "sitemap"
url = "{site.base}/sitemap.xml"

[dossiers.plain]
archive = false
[[dossiers.plain.sources]]
kind = "feed"
url = "{site.base}/feed.xml"
""")
    out = tmp_path / "out"
    first = scrape_dossier("warc", config_path=str(config), output=str(out))
    root = out / "warc"
    [first_file] = [root / f for f in first["warc_files"]]
    assert first_file.name.endswith(f"{first['run_id']}-00000.warc.gz")
    assert first["files"]["added"].count(first["warc_files"][0]) == 1
    assert first["versions"]["warcio"] != "unknown"

    assert "digest pass" in warcio("check", "-v", first_file)
    index = [json.loads(line) for line in warcio("index", first_file).splitlines()]
    uris = {e.get("warc-target-uri", "").removeprefix(site.base) for e in index if e["warc-type"] == "response"}
    assert {"/robots.txt", "/topic/?page=1", "/topic/?page=4", "/feed.xml", "/sitemap.xml", "/sitemap-1.xml",
            "/sitemap-2.xml.gz"} <= uris
    assert {f"/articles/{name}" for name in PAGES} <= uris
    assert sum(e["warc-type"] == "warcinfo" for e in index) == 1 and index[0]["warc-type"] == "warcinfo"
    requests = [e for e in index if e["warc-type"] == "request"]
    assert len(requests) == len(uris) == site.requests_to("/")  # every exchange, one request record each

    second = scrape_dossier("warc", config_path=str(config), output=str(out))
    assert second["counts"]["fetched"] == 0
    [second_file] = [root / f for f in second["warc_files"]]
    kinds = records(second_file)
    assert {r["type"] for r in kinds} == {"warcinfo", "response", "request"}  # no page: no metadata records
    assert all(r["uri"].removeprefix(site.base).startswith(DISCOVERY) for r in kinds if r["uri"])
    assert second_file.stat().st_size < first_file.stat().st_size / 10
    assert second["files"]["added"] == second["warc_files"] + [f"urls/{second['run_id']}-00000.parquet"]
    assert warc_files(root) == sorted([first_file, second_file])

    # archive = false: no raw/ directory, no pointers
    plain = scrape_dossier("plain", config_path=str(config), output=str(out))
    assert plain["counts"]["fetched"] == 4 and plain["warc_files"] == []
    assert not (out / "plain" / "raw").exists()
    table = pq.read_table(next((out / "plain" / "articles").rglob("*.parquet")))
    assert table["warc_file"].null_count == table.num_rows
    shutil.rmtree(out)
