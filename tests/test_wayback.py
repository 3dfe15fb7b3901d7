"""Source kind ``wayback``: a dossier rebuilt from a local CDX-compatible archive (the
CDX API and raw replay as the Wayback Machine serves them, tests/wayback_server.py), the
live site down, up, or half up; the archive's politeness, errors and paging."""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pyarrow.fs as pafs
import pytest
from conftest import PAGES, SITE, TestSite, write_config
from wayback_server import ERROR_PAGE, Synthetic, WaybackServer

from dossier_pipeline.flows.backfill import backfill_dossier
from dossier_pipeline.flows.scrape import scrape_dossier
from dossier_pipeline.tasks.cdx import ArchiveClient, ArchiveError, CdxCache, uncovered
from dossier_pipeline.tasks.config import Settings
from dossier_pipeline.tasks.demo.server import Response
from dossier_pipeline.tasks.store import Store

pytestmark = pytest.mark.usefixtures("prefect_api")
LISTING_CAPTURES = (datetime(2023, 12, 1, tzinfo=UTC), datetime(2024, 11, 20, tzinfo=UTC),
                    datetime(2025, 9, 5, tzinfo=UTC))  # 3 captures of each page over two years
EDITED = PAGES[2]
ARTICLES = PAGES


def dead_base() -> str:
    """The address of a site that is down: nothing listens there."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


def listing(base: str, names: list[str]) -> bytes:
    links = "".join(f'<li><a href="{base}/articles/{n}">{n}</a></li>' for n in names)
    return (f"<html><head><title>Topic</title></head><body><nav><a href='/'>Home</a></nav>"
            f"<h1>Topic ({len(PAGES)})</h1><ul>{links}</ul></body></html>").encode()


def fill(archive: WaybackServer, base: str) -> dict[str, datetime]:
    """Captures of the listing's two pages (a link more at each capture) and of each article,
    some days after the capture that first listed it; returns the capture time of each."""
    captured: dict[str, datetime] = {}
    for page, names in ((1, PAGES[:4]), (2, PAGES[4:])):
        for k, when in enumerate(LISTING_CAPTURES):
            shown = names[: k + 2]
            archive.add(f"{base}/topic/?page={page}", when, listing(base, shown))
            for name in shown:
                if name not in captured:
                    captured[name] = when.replace(day=when.day + 10)
                    archive.add(f"{base}/articles/{name}", captured[name], (SITE / "pages" / name).read_bytes())
    # a capture from before the listing's: not the one read (the nearest after is)
    archive.add(f"{base}/articles/{PAGES[1]}", datetime(2014, 1, 1, tzinfo=UTC), b"<html><body>old</body></html>")
    return captured


@pytest.fixture
def archive() -> Iterator[WaybackServer]:
    server = WaybackServer()
    yield server
    server.close()


def config(tmp_path: Path, base: str, archive: WaybackServer, until: str = "2025-12-31") -> str:
    return str(write_config(tmp_path, f"""
[dossiers.past]
max_retries = 1
max_retry_after_seconds = 5
[[dossiers.past.sources]]
kind = "wayback"
url = "{base}/topic/?page={{page}}"
wayback_url = "{archive.base}"
archive_requests_per_second = 100
since = 2023-01-01
until = {until}
link_pattern = "/articles/"
max_pages = 5
"""))


def test_a_dossier_whose_site_is_down_is_rebuilt_from_the_archive(archive: WaybackServer, tmp_path: Path) -> None:
    base = dead_base()
    captured = fill(archive, base)
    output = str(tmp_path / "out")
    record = scrape_dossier("past", config_path=config(tmp_path, base, archive), output=output)

    assert record["counts"]["written"] == len(ARTICLES) and record["counts"]["failed"] == 0
    rows = Store(output, "past", "").read_articles().to_pylist()
    assert sorted(r["url"].rsplit("/", 1)[1] for r in rows) == ARTICLES
    for row in rows:
        name = row["url"].rsplit("/", 1)[1]
        assert row["source_kind"] == "wayback"
        assert row["source_url"].startswith(f"{archive.base}/web/202") and "id_/" in row["source_url"]
        stamp = captured[name].strftime("%Y%m%d%H%M%S")
        assert row["archive_url"] == f"{archive.base}/web/{stamp}id_/{base}/articles/{name}"
        assert row["archive_captured_at"] == captured[name]
        assert row["warc_file"]  # the capture as the archive served it, in the run's own WARC archive
        # raw captures only: nothing of the archive in the text, the links or the canonical URL
        assert archive.base not in row["canonical_url"] and row["canonical_url"].startswith(base)
        assert not any(archive.base in u for u in row["related_urls"]) and "Wayback" not in row["text"]
        assert row["published_at"] is not None and row["published_at"] <= row["fetched_at"]
    assert record["edits"] == {}  # a site that is down took nothing down (only a 404/410 is a takedown)

    # A rerun asks the archive nothing: the CDX answers and listing captures are in the dataset.
    before = len(archive.log)
    again = scrape_dossier("past", config_path=config(tmp_path, base, archive), output=output)
    assert again["counts"]["written"] == 0 and again["archive_requests"] == 0
    assert len(archive.log) == before
    # A longer period: only the CDX queries of the new part of it.
    later = scrape_dossier("past", config_path=config(tmp_path, base, archive, "2026-06-30"), output=output)
    asked = archive.log[before:]
    assert later["counts"]["written"] == 0 and asked and later["archive_requests"] == len(asked)
    for path in asked:
        query = parse_qs(urlsplit(path).query)
        assert path.startswith("/cdx/search/cdx") and query["from"] == ["20260101000000"]
        assert query["to"] == ["20260630235959"] and query["filter"] == ["statuscode:200"]
        assert query["collapse"] == ["digest"] and query["output"] == ["json"]
    assert len(Store(output, "past", "").read_articles()) == len(ARTICLES)


def test_half_live_half_archived_one_row_each_with_takedowns_and_earlier_versions(
        archive: WaybackServer, site: TestSite, tmp_path: Path) -> None:
    captured = fill(archive, site.base)
    output = str(tmp_path / "out")
    gone = set(PAGES[4:])
    for name in gone:  # taken down since: the archive still has them
        site.faults[f"/articles/{name}"] = lambda route, headers: Response(410, b"gone")
    record = scrape_dossier("past", config_path=config(tmp_path, site.base, archive), output=output)

    store = Store(output, "past", "")
    rows = {r["url"].rsplit("/", 1)[1]: r for r in store.read_articles().to_pylist()}
    assert sorted(rows) == ARTICLES and len({r["article_id"] for r in rows.values()}) == len(ARTICLES)
    for name, row in rows.items():
        if name in gone:  # archived only
            assert row["archive_url"].endswith(f"id_/{site.base}/articles/{name}")
            assert row["archive_captured_at"] == captured[name]
        else:  # live wins
            assert row["archive_url"] is None and row["archive_captured_at"] is None
        assert row["source_kind"] == "wayback"
    edits = store.read_edits().to_pylist()
    assert sorted(e["url"].rsplit("/", 1)[1] for e in edits if e["kind"] == "takedown") == sorted(gone)
    assert all(e["http_status"] == 410 and e["old_fetched_at"] == captured[e["url"].rsplit("/", 1)[1]]
               for e in edits)
    assert record["edits"] == {"takedown": len(gone)}


def test_the_live_version_replaces_the_archived_one_and_an_edit_keeps_the_earlier_version(
        archive: WaybackServer, site: TestSite, tmp_path: Path) -> None:
    captured = fill(archive, site.base)
    output = str(tmp_path / "out")
    for name in PAGES:  # the site is down at first
        site.faults[f"/articles/{name}"] = lambda route, headers: Response(503, b"down")
    scrape_dossier("past", config_path=config(tmp_path, site.base, archive), output=output)
    site.faults.clear()
    sentence = b"reconductible &agrave; compter du 5 mars"
    edited = (SITE / "pages" / EDITED).read_bytes().replace(sentence, b"reconductible &agrave; compter du 6 mars", 1)
    assert edited != (SITE / "pages" / EDITED).read_bytes()
    site.faults[f"/articles/{EDITED}"] = lambda route, headers: Response(200, edited, {"Content-Type":
                                                                                          "text/html; charset=utf-8"})
    for name in PAGES[6:]:
        site.faults[f"/articles/{name}"] = lambda route, headers: Response(404, b"gone")
    before = len(archive.log)
    record = scrape_dossier("past", config_path=str(tmp_path / "dossiers.toml"), output=output, refresh=True)

    assert len(archive.log) == before  # stored articles are never read from the archive again
    store = Store(output, "past", "")
    rows = {r["url"].rsplit("/", 1)[1]: r for r in store.read_articles().to_pylist()}
    assert sorted(rows) == ARTICLES
    for name in ARTICLES[:5]:
        assert rows[name]["archive_url"] is None, name  # the live version won
        assert rows[name]["first_seen"] < rows[name]["last_seen"]
    for name in PAGES[6:]:
        assert rows[name]["archive_url"] is not None
    edits = {(e["url"].rsplit("/", 1)[1], e["kind"]): e for e in store.read_edits().to_pylist()}
    earlier = edits[(EDITED, "edit")]
    assert "text" in earlier["fields"] and earlier["old_fetched_at"] == captured[EDITED]
    assert earlier["old_warc_file"] and earlier["observed_at"] == rows[EDITED]["fetched_at"]
    assert {k for k in edits if k[1] == "takedown"} == {(n, "takedown") for n in PAGES[6:]}
    assert record["edits"] == {"edit": 1, "takedown": 2}


def test_archive_error_page_capture_is_a_failure_not_an_article(archive: WaybackServer, tmp_path: Path) -> None:
    base = dead_base()
    fill(archive, base)
    broken = archive.captures[f"{base}/articles/{PAGES[1]}"][-1]  # (the one after the listing capture)
    broken.own_page = True  # the archive answers its own page with a 200 for this capture
    del archive.captures[f"{base}/articles/{PAGES[3]}"]  # and has no capture of this one
    output = str(tmp_path / "out")
    record = scrape_dossier("past", config_path=config(tmp_path, base, archive), output=output)

    assert record["counts"]["written"] == len(ARTICLES) - 2 and record["counts"]["failed"] == 2
    reasons = {f["url"].rsplit("/", 1)[1]: f["reason"] for f in record["failures"]}
    assert "archive_error_page" in reasons[PAGES[1]] and "Memento-Datetime" in reasons[PAGES[1]]
    assert "archive: no capture of it" in reasons[PAGES[3]]
    texts = [r["text"] for r in Store(output, "past", "").read_articles().to_pylist()]
    assert not any(ERROR_PAGE.decode().split("<p>")[1][:20] in t for t in texts)


def test_backfill_by_month_reads_the_archive_per_window(archive: WaybackServer, tmp_path: Path) -> None:
    base = dead_base()
    fill(archive, base)
    output = str(tmp_path / "out")
    outcomes = backfill_dossier("past", date(2019, 11, 1), date(2020, 2, 29), window="month",
                                config_path=config(tmp_path, base, archive), output=output)
    assert [o["status"] for o in outcomes] == ["done"] * 4
    rows = Store(output, "past", "").read_articles().to_pylist()
    # the archive's pages published in the period, each in its month's window
    assert sorted(r["published_at"].date().isoformat() for r in rows) == ["2019-12-09", "2020-02-17"]
    assert all(r["archive_url"] for r in rows)


# ------------------------------------------------------------------------- the CDX client


def client(archive: WaybackServer, tmp_path: Path, rate: float = 1000.0, page_rows: int = 1000,
           **settings: float) -> ArchiveClient:
    return ArchiveClient(archive.base, Settings(**settings), rate, CdxCache(pafs.LocalFileSystem(),
                         str(tmp_path / "cdx"), True), page_rows=page_rows)


def test_cdx_429_and_503_are_retried_honouring_retry_after(archive: WaybackServer, tmp_path: Path) -> None:
    archive.add("http://a.example/", datetime(2015, 1, 1, tzinfo=UTC), b"<html>x</html>")
    archive.faults += [lambda path: Response(429, b"slow down", {"Retry-After": "1"}),
                       lambda path: Response(503, b"busy", {"Retry-After": "1"})]
    started = time.monotonic()
    found = list(client(archive, tmp_path).captures("http://a.example/", None, None))
    assert [c.timestamp for c in found] == ["20150101000000"]
    assert time.monotonic() - started >= 2.0 and len(archive.log) == 3  # waited as asked, twice
    # Asked to wait longer than the run allows: a clear error, not a stall.
    archive.faults.append(lambda path: Response(429, b"", {"Retry-After": "3600"}))
    with pytest.raises(ArchiveError, match=r"Retry-After.*max_retry_after_seconds"):
        list(client(archive, tmp_path / "other").captures("http://a.example/", None, None))
    # Still failing after the retries: the error names the query.
    archive.faults += [lambda path: Response(503, b"")] * 2
    with pytest.raises(ArchiveError, match=r"a\.example.*http 503 after 2 attempt"):
        list(client(archive, tmp_path / "third", max_retries=1).captures("http://a.example/", None, None))


def test_the_archive_gets_one_request_a_second_by_default(archive: WaybackServer, tmp_path: Path) -> None:
    for year in (2015, 2016, 2017):
        archive.add(f"http://a.example/{year}", datetime(year, 1, 1, tzinfo=UTC), b"<html>x</html>")
    polite = client(archive, tmp_path, rate=1.0)
    started = time.monotonic()
    for year in (2015, 2016, 2017):
        assert len(list(polite.captures(f"http://a.example/{year}", None, None))) == 1
    assert time.monotonic() - started >= 2.0 and polite.requests == 3


def resident(key: str) -> int:
    """This process's resident memory (VmRSS) or its peak (VmHWM), in bytes (Linux)."""
    return int(re.search(rf"{key}:\s+(\d+) kB", Path("/proc/self/status").read_text()).group(1)) * 1024


@pytest.mark.skipif(not Path("/proc/self/clear_refs").exists(), reason="measures the peak resident size (Linux)")
def test_100000_captures_are_paged_with_the_resume_key_in_bounded_memory(archive: WaybackServer,
                                                                         tmp_path: Path) -> None:
    url = "http://busy.example/"
    archive.synthetic[url] = Synthetic(url, 100_000)
    cdx = client(archive, tmp_path, page_rows=5000)
    Path("/proc/self/clear_refs").write_text("5")  # the peak resident size (VmHWM) starts again from here
    before = resident("VmRSS")
    count, last = 0, ""
    for capture in cdx.captures(url, None, None):
        assert capture.timestamp > last
        count, last = count + 1, capture.timestamp
    grown = resident("VmHWM") - before
    assert count == 100_000
    pages = [p for p in archive.log if p.startswith("/cdx/")]
    assert len(pages) == 20 and all("showResumeKey=true" in p and "limit=5000" in p for p in pages)
    assert sum("resumeKey=" in p for p in pages) == 19
    # the 100,000 captures held at once take ~70 MB more; pages of 5,000 (and the server's own
    # page, in this process too) ~15 MB
    assert grown < 35_000_000, grown
    # cached: reading them again asks nothing
    assert sum(1 for _ in cdx.captures(url, None, datetime(2026, 1, 1, tzinfo=UTC))) == 100_000
    assert len([p for p in archive.log if p.startswith("/cdx/")]) == 20


def test_uncovered_spans() -> None:
    spans = [("20150101000000", "20151231235959")]
    assert uncovered(spans, "20150101000000", "20151231235959") == []
    assert uncovered(spans, "20140101000000", "20160630235959") == [("20140101000000", "20141231235959"),
                                                                     ("20160101000000", "20160630235959")]
    assert uncovered([], "20150101000000", "20150102000000") == [("20150101000000", "20150102000000")]
