"""Source kind ``warc``: CC-NEWS-shaped WARC files (warcinfo, then request, response and
metadata records per page, each record its own gzip member), made here from the real pages
of tests/site, read locally and from a moto S3 server; the rows must be a live run's."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from conftest import PAGES, SITE, TestSite, write_config
from test_scale_out import dask_cluster, s3  # noqa: F401 (a moto S3 server, a Dask LocalCluster of 2 workers)
from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from dossier_pipeline.flows.backfill import backfill_dossier
from dossier_pipeline.flows.cli import ExitStatus, verdict
from dossier_pipeline.flows.scrape import scrape_dossier
from dossier_pipeline.tasks.demo.server import Response
from dossier_pipeline.tasks.record import RunRecord
from dossier_pipeline.tasks.sources import RowFilter
from dossier_pipeline.tasks.store import Store
from dossier_pipeline.tasks.warcfiles import FileRead, FileSpec, records

pytestmark = pytest.mark.usefixtures("prefect_api")
CRAWLED = datetime(2024, 3, 1, 12, tzinfo=UTC)  # the files' date: not the articles'
# by publication date: 2019-10-16 (zeit, a paywalled teaser), 2019-12-09 (gala), 2020-02-17 (bondyblog),
# 2020-05-07 (dalloz)
IN_PERIOD = sorted([PAGES[0], "gala.fr.surnom.html", "bondyblog.fr.paris-8.html", "dalloz-actualite.fr.raoult.html"])
# what differs between a live run and a WARC source's run: when, by which run, where the bytes are
PROVENANCE = {"run_id", "fetched_at", "first_seen", "last_seen", "last_changed", "warc_file", "warc_offset",
              "warc_record_id", "source_kind", "source_url", "archive_url", "archive_captured_at", "year", "month"}
HTML = [("Content-Type", "text/html; charset=utf-8")]


def ccnews_file(path: Path, pages: list[tuple[str, bytes, list[tuple[str, str]], str]]) -> None:
    """A CC-NEWS-shaped file: records as Common Crawl's news crawler writes them."""
    with open(path, "wb") as out:
        writer = WARCWriter(out, gzip=True, warc_version="1.0")
        writer.write_record(writer.create_warcinfo_record(path.name, {"software": "StormCrawler 1.x",
                                                                     "isPartOf": "CC-NEWS"}))
        for url, body, headers, status in pages:
            date = {"WARC-Date": CRAWLED.strftime("%Y-%m-%dT%H:%M:%SZ")}
            request = writer.create_warc_record(url, "request", payload=io.BytesIO(b""), warc_headers_dict=date,
                                                http_headers=StatusAndHeaders(
                                                    f"GET /{url.split('/', 3)[3]} HTTP/1.1",
                                                    [("User-Agent", "CCBot/2.0")], is_http_request=True))
            response = writer.create_warc_record(url, "response", payload=io.BytesIO(body), warc_headers_dict=date,
                                                 http_headers=StatusAndHeaders(status, [*headers, (
                                                     "Content-Length", str(len(body)))], protocol="HTTP/1.1"))
            metadata = writer.create_warc_record(url, "metadata", payload=io.BytesIO(b"fetchTimeMs: 120\r\n"),
                                                 warc_content_type="application/warc-fields", warc_headers_dict={
                                                     **date, "WARC-Concurrent-To":
                                                     response.rec_headers.get_header("WARC-Record-ID")})
            for record in (request, response, metadata):
                writer.write_record(record)


@pytest.fixture
def warcs(site: TestSite, tmp_path: Path) -> Iterator[Path]:
    """Three files: the site's 8 articles, other sites' pages, an error page and an image."""
    folder = tmp_path / "ccnews"
    folder.mkdir()
    other = (SITE / "pages" / PAGES[0]).read_bytes()
    for n, names in enumerate((PAGES[:3], PAGES[3:6], PAGES[6:])):
        records = [(site.article_url(name), (SITE / "pages" / name).read_bytes(), HTML, "200 OK") for name in names]
        records += [(f"https://other{n}.example/news/{n}", other, HTML, "200 OK"),
                    (f"{site.base}/articles/missing-{n}", b"<html>not found</html>", HTML, "404 Not Found"),
                    (f"{site.base}/images/{n}.png", b"\x89PNG....", [("Content-Type", "image/png")], "200 OK")]
        ccnews_file(folder / f"CC-NEWS-20240301120000-{n:05d}.warc.gz", records)
    yield folder


def config(tmp_path: Path, site: TestSite, paths: str, name: str = "warc.toml", execution: str = "") -> str:
    return str(write_config(tmp_path, f"""{execution}
[dossiers.news]
[[dossiers.news.sources]]
kind = "warc"
paths = [{paths}]
hosts = ["127.0.0.1"]
url_pattern = "/articles/"
since = 2019-01-01
until = 2020-12-31
""", name))


def live_rows(site: TestSite, tmp_path: Path) -> dict[str, dict]:
    urls = ", ".join(f'"{site.article_url(n)}"' for n in PAGES)
    path = write_config(tmp_path, f'[dossiers.news]\n[[dossiers.news.sources]]\nkind = "urls"\nurls = [{urls}]\n',
                        "live.toml")
    scrape_dossier("news", config_path=str(path), output=str(tmp_path / "live"))
    return rows(Store(tmp_path / "live", "news", ""))


def rows(store: Store) -> dict[str, dict]:
    return {r["url"].rsplit("/", 1)[1]: {k: v for k, v in r.items() if k not in PROVENANCE}
            for r in store.read_articles().to_pylist()}


def test_warc_files_keep_the_dossiers_records_by_publication_date_as_a_live_run(
        site: TestSite, warcs: Path, tmp_path: Path, s3: str) -> None:  # noqa: F811
    live = live_rows(site, tmp_path)
    # batches of 2 pages: a file with more of the dossier's pages is read on by the next batch
    record = scrape_dossier("news", config_path=config(tmp_path, site, f'"{warcs}/CC-NEWS-*.warc.gz"'),
                            output=str(tmp_path / "out"), batch_size=2)
    store = Store(tmp_path / "out", "news", "")
    got = rows(store)
    assert sorted(got) == IN_PERIOD
    assert got == {name: live[name] for name in IN_PERIOD}  # the same rows, provenance aside
    assert record["warc_read"] == {"files": 3, "records": 3 * 3 + 8}
    assert record["counts"]["discovered"] == record["counts"]["fetched"] == len(PAGES)
    assert record["counts"]["failed"] == 0
    assert record["source_failures"] == []
    for row in store.read_articles().to_pylist():
        assert row["source_kind"] == "warc" and row["warc_file"].startswith(str(warcs))
        assert row["warc_record_id"].startswith("<urn:uuid:") and row["warc_offset"] > 0
        assert row["archive_captured_at"] == CRAWLED and row["archive_url"] is None
    ledger = store.read_urls().to_pylist()
    skipped = sorted(r["url"].rsplit("/", 1)[1] for r in ledger if r["state"] == "skipped")
    assert skipped == sorted(set(PAGES) - set(IN_PERIOD))  # out of the period, by their own date
    assert all("outside_period" in r["reason"] for r in ledger if r["state"] == "skipped")
    assert not any("other" in r["url"] or "missing" in r["url"] for r in ledger)
    # A rerun passes over the records the dataset holds: only those out of the period are read again.
    again = scrape_dossier("news", config_path=config(tmp_path, site, f'"{warcs}/CC-NEWS-*.warc.gz"'),
                           output=str(tmp_path / "out"))
    assert again["counts"]["written"] == 0
    assert again["counts"]["extracted"] == len(PAGES) - len(IN_PERIOD)

    # The same files in S3 (moto): the same rows.
    import boto3

    client = boto3.client("s3")
    for path in sorted(warcs.iterdir()):
        client.upload_file(str(path), "research", f"ccnews/{path.name}")
    remote = scrape_dossier("news", config_path=config(tmp_path, site, '"s3://research/ccnews/CC-NEWS-*.warc.gz"',
                                                       "s3.toml"), output=str(tmp_path / "s3out"))
    assert remote["warc_read"]["files"] == 3 and remote["source_failures"] == []
    s3_store = Store(tmp_path / "s3out", "news", "")
    assert rows(s3_store) == got
    assert all(r["warc_file"].startswith("s3://research/ccnews/") for r in s3_store.read_articles().to_pylist())


def test_s3_without_credentials_is_one_clear_line(site: TestSite, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    record = scrape_dossier("news", config_path=config(tmp_path, site, '"s3://commoncrawl/crawl-data/CC-NEWS/*"'),
                            output=str(tmp_path / "out"))
    [failure] = record["source_failures"]
    assert "no AWS credentials for s3://" in failure["reason"] and "\n" not in failure["reason"]
    assert record["counts"]["written"] == 0
    status, line = verdict(RunRecord.model_validate(record))  # what `dossier run` exits with, and prints
    assert status == ExitStatus.NO_SOURCE and line is not None and "no AWS credentials for s3://" in line


def test_a_truncated_warc_keeps_the_records_before_the_cut(site: TestSite, warcs: Path, tmp_path: Path) -> None:
    whole = warcs / "CC-NEWS-20240301120000-00001.warc.gz"  # caymancompass, dalloz (in the period), dw
    with open(whole, "rb") as f:
        records = ArchiveIterator(f)
        last = next(records.get_record_offset() for r in records if r.rec_type == "response"
                    and r.rec_headers.get_header("WARC-Target-URI").endswith("dw.com-elephants.html"))
    whole.write_bytes(whole.read_bytes()[: last + 300])  # cut inside dw's response record
    record = scrape_dossier("news", config_path=config(tmp_path, site, f'"{whole}"'), output=str(tmp_path / "out"))
    [cut] = record["source_failures"]
    assert cut["source_url"] == str(whole) and cut["reason"].startswith("truncated_warc:")
    assert verdict(RunRecord.model_validate(record))[0] == ExitStatus.OK  # the records before the cut are the run's
    assert "dalloz-actualite.fr.raoult.html" in rows(Store(tmp_path / "out", "news", ""))


def test_an_article_found_live_and_in_a_warc_file_is_the_live_row(site: TestSite, warcs: Path,
                                                                   tmp_path: Path) -> None:
    live = sorted(IN_PERIOD)[:2]
    urls = ", ".join(f'"{site.article_url(n)}"' for n in live)
    path = write_config(tmp_path, f"""
[dossiers.news]
[[dossiers.news.sources]]
kind = "urls"
urls = [{urls}]
[[dossiers.news.sources]]
kind = "warc"
paths = ["{warcs}/*.warc.gz"]
since = 2019-01-01
until = 2020-12-31
""", "both.toml")
    record = scrape_dossier("news", config_path=str(path), output=str(tmp_path / "out"))
    store = Store(tmp_path / "out", "news", "")
    kinds = {r["url"].rsplit("/", 1)[1]: r["source_kind"] for r in store.read_articles().to_pylist()}
    assert kinds == {name: "urls" if name in live else "warc" for name in IN_PERIOD}
    # the files' copies of the live pages are passed over, not extracted again
    assert record["counts"]["extracted"] == len(PAGES) and record["counts"]["written"] == len(IN_PERIOD)
    assert record["warc_read"] == {"files": 3, "records": 3 * 3 + 8}


def test_on_dask_one_task_per_file_gives_the_same_rows(site: TestSite, warcs: Path, tmp_path: Path,
                                                       dask_cluster: str) -> None:  # noqa: F811
    local = scrape_dossier("news", config_path=config(tmp_path, site, f'"{warcs}/*.warc.gz"'),
                           output=str(tmp_path / "out"))
    execution = f'[execution]\ntask_runner = "dask"\naddress = "{dask_cluster}"'
    on_dask = scrape_dossier("news", config_path=config(tmp_path, site, f'"{warcs}/*.warc.gz"', "dask.toml", execution),
                             output=str(tmp_path / "dask"))
    assert on_dask["warc_read"] == local["warc_read"] == {"files": 3, "records": 3 * 3 + 8}
    assert rows(Store(tmp_path / "dask", "news", "")) == rows(Store(tmp_path / "out", "news", ""))
    staging = Store(tmp_path / "dask", "news", "")
    assert not staging._files(staging.path / "_staging")


def test_a_warc_file_over_http_is_read_as_a_stream(site: TestSite, warcs: Path) -> None:
    """An http(s):// path (CC-NEWS over https://data.commoncrawl.org/): the same records, at
    the same offsets, as the local file; a missing file is the file's one-line problem."""
    import functools
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    name = "CC-NEWS-20240301120000-00000.warc.gz"
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(warcs))
    with ThreadingHTTPServer(("127.0.0.1", 0), handler) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_address[1]}"
        try:
            def read(path: str) -> tuple[list[tuple[str, object]], FileRead]:
                spec = FileSpec(path, ("127.0.0.1",), "/articles/", RowFilter())
                done = FileRead()
                return [(item.url, result.archived[1:]) for item, result in records(spec, done)], done

            remote, remote_read = read(f"{base}/{name}")
            local, local_read = read(str(warcs / name))
            missing, missing_read = read(f"{base}/none.warc.gz")
        finally:
            server.shutdown()
    assert remote == local and len(local) == 3 and remote_read == local_read
    assert missing == [] and missing_read.cut is not None and missing_read.cut.startswith("warc_path: ")
    assert "\n" not in missing_read.cut


# -- an article both live and in a WARC file: one row, the live one; an older version with
# other content is an edit row whose old version is the file's record
EDITED = "bondyblog.fr.paris-8.html"  # published 2020-02-17: in the warc source's period
SENTENCE = b"reconductible &agrave; compter du 5 mars"


def older_version() -> bytes:
    """The article as the file captured it, before the site changed a sentence."""
    page = (SITE / "pages" / EDITED).read_bytes()
    older = page.replace(SENTENCE, b"reconductible &agrave; compter du 6 mars", 1)
    assert older != page
    return older


def one_record(site: TestSite, tmp_path: Path, body: bytes) -> tuple[Path, int, str]:
    """A file holding the article (its WARC-Date CRAWLED), with the record's offset and id."""
    folder = tmp_path / "files"
    folder.mkdir(exist_ok=True)
    path = folder / "CC-NEWS-20240301120000-00000.warc.gz"
    ccnews_file(path, [(site.article_url(EDITED), body, HTML, "200 OK")])
    with open(path, "rb") as f:
        iterator = ArchiveIterator(f)
        offset, record_id = next((iterator.get_record_offset(), r.rec_headers.get_header("WARC-Record-ID"))
                                 for r in iterator if r.rec_type == "response")
    return path, offset, record_id


def merge_configs(site: TestSite, tmp_path: Path, path: Path) -> tuple[str, str]:
    """A live dossier (a urls source) and the same dossier from the file (a warc source)."""
    live = write_config(tmp_path, f'[dossiers.news]\n[[dossiers.news.sources]]\nkind = "urls"\n'
                        f'urls = ["{site.article_url(EDITED)}"]\n', "live.toml")
    return str(live), config(tmp_path, site, f'"{path}"', "file.toml")


def article(store: Store) -> dict:
    [row] = store.read_articles().to_pylist()
    return row


@pytest.mark.parametrize("refresh", [False, True])  # a refresh reads the files again: the live row still wins
def test_live_first_then_an_older_other_version_in_a_file_is_an_edit_row(site: TestSite, tmp_path: Path,
                                                                          refresh: bool) -> None:
    path, offset, record_id = one_record(site, tmp_path, older_version())
    live_config, file_config = merge_configs(site, tmp_path, path)
    out = str(tmp_path / "out")
    scrape_dossier("news", config_path=live_config, output=out)
    store = Store(out, "news", "")
    live = article(store)

    record = scrape_dossier("news", config_path=file_config, output=out, refresh=refresh)
    row = article(store)
    assert row == live  # one row, the live one, untouched
    [edit] = store.read_edits().to_pylist()
    assert edit["kind"] == "edit" and "text" in edit["fields"] and edit["article_id"] == live["article_id"]
    assert edit["old_fetched_at"] == CRAWLED  # the file's version: captured at its WARC-Date
    assert (edit["old_warc_file"], edit["old_warc_offset"], edit["old_warc_record_id"]) == (str(path), offset,
                                                                                          record_id)
    assert edit["old_text_sha256"] != live["text_sha256"] == edit["new_text_sha256"]
    assert edit["observed_at"] == live["fetched_at"] and edit["warc_file"] == live["warc_file"]
    assert record["edits"] == {"edit": 1} and record["counts"]["written"] == 0
    # A rerun reads the record past: it was compared already (no second edit row, no extraction).
    again = scrape_dossier("news", config_path=file_config, output=out, refresh=refresh)
    assert again["counts"]["extracted"] == 0 and again["edits"] == {}
    assert len(store.read_edits()) == 1


def test_a_file_then_live_with_other_content_the_live_row_replaces_it(site: TestSite, tmp_path: Path) -> None:
    path, offset, record_id = one_record(site, tmp_path, older_version())
    live_config, file_config = merge_configs(site, tmp_path, path)
    out = str(tmp_path / "out")
    scrape_dossier("news", config_path=file_config, output=out)
    store = Store(out, "news", "")
    archived = article(store)
    assert archived["source_kind"] == "warc" and archived["archive_captured_at"] == CRAWLED

    record = scrape_dossier("news", config_path=live_config, output=out, refresh=True)
    row = article(store)  # one row: the live one
    assert row["article_id"] == archived["article_id"] and row["source_kind"] == "urls"
    assert row["archive_captured_at"] is None and row["text_sha256"] != archived["text_sha256"]
    [edit] = store.read_edits().to_pylist()
    assert edit["kind"] == "edit" and "text" in edit["fields"]
    assert edit["old_fetched_at"] == CRAWLED and edit["old_text_sha256"] == archived["text_sha256"]
    assert (edit["old_warc_file"], edit["old_warc_offset"], edit["old_warc_record_id"]) == (str(path), offset,
                                                                                          record_id)
    assert record["edits"] == {"edit": 1}
    # The file read again: its copy of the article is the older version, already recorded.
    again = scrape_dossier("news", config_path=file_config, output=out)
    assert again["counts"]["extracted"] == 0 and len(store.read_edits()) == 1 and article(store) == row


@pytest.mark.parametrize("live_first", [True, False])
def test_the_same_content_live_and_in_a_file_is_one_row_and_no_edit(site: TestSite, tmp_path: Path,
                                                                      live_first: bool) -> None:
    path, _, _ = one_record(site, tmp_path, (SITE / "pages" / EDITED).read_bytes())
    live_config, file_config = merge_configs(site, tmp_path, path)
    out = str(tmp_path / "out")
    runs = [(live_config, False), (file_config, False)] if live_first else [(file_config, False), (live_config, True)]
    records = [scrape_dossier("news", config_path=c, output=out, refresh=refresh) for c, refresh in runs]
    store = Store(out, "news", "")
    row = article(store)
    assert row["source_kind"] == "urls" and row["archive_captured_at"] is None
    assert len(store.read_edits()) == 0 and all(r["edits"] == {} for r in records)
    if live_first:  # the file's copy is the live bytes (raw_sha256): passed over unextracted
        assert records[1]["counts"]["extracted"] == 0


def live_and_file(tmp_path: Path, urls: list[str], path: Path) -> Path:
    """A config whose dossier reads ``urls`` live and the WARC file ``path``, in one run."""
    listed = ", ".join(f'"{u}"' for u in urls)
    return write_config(tmp_path, f"""
[dossiers.news]
[[dossiers.news.sources]]
kind = "urls"
urls = [{listed}]
[[dossiers.news.sources]]
kind = "warc"
paths = ["{path}"]
""", "both.toml")


def test_live_and_a_file_in_one_run_an_older_other_version_is_an_edit_row(site: TestSite, tmp_path: Path) -> None:
    path, offset, _ = one_record(site, tmp_path, older_version())
    both = live_and_file(tmp_path, [site.article_url(EDITED)], path)
    out = str(tmp_path / "out")
    record = scrape_dossier("news", config_path=str(both), output=out)
    store = Store(out, "news", "")
    row = article(store)
    assert row["source_kind"] == "urls" and row["archive_captured_at"] is None
    [edit] = store.read_edits().to_pylist()
    assert edit["kind"] == "edit" and edit["old_fetched_at"] == CRAWLED and edit["old_warc_offset"] == offset
    assert record["edits"] == {"edit": 1}
    again = scrape_dossier("news", config_path=str(both), output=out)
    assert again["counts"]["extracted"] == 0 and len(store.read_edits()) == 1


def test_a_backfill_by_month_extracts_each_record_once_not_once_a_window(site: TestSite, warcs: Path,
                                                                          tmp_path: Path) -> None:
    """Six monthly windows over the three files: the first window's run extracts the
    dossier's records and finds each one's day; the later windows read only the records
    published in them (and those not settled: here none)."""
    out = tmp_path / "out"
    state = backfill_dossier("news", date(2019, 10, 1), date(2020, 3, 31), window="month",
                             config_path=config(tmp_path, site, f'"{warcs}/*.warc.gz"'), output=str(out),
                             return_state=True)
    assert state.is_completed(), state.message
    store = Store(out, "news", "")
    runs = {run.run_id: run for run in store.read_runs()}
    per_window = {o["key"]: runs[o["run_id"]] for o in state.result()}
    extracted = {key: run.counts["extracted"] for key, run in per_window.items()}
    # by publication day: zeit 2019-10-16, gala 2019-12-09, bondyblog 2020-02-17 (8 records of the site)
    assert extracted == {"2019-10": 8, "2019-11": 0, "2019-12": 1, "2020-01": 0, "2020-02": 1, "2020-03": 0}
    assert all(run.warc_read == {"files": 3, "records": 3 * 3 + 8} for run in per_window.values())
    written = {key: run.counts["written"] for key, run in per_window.items()}
    assert written == {"2019-10": 1, "2019-11": 0, "2019-12": 1, "2020-01": 0, "2020-02": 1, "2020-03": 0}
    assert sorted(rows(store)) == sorted([PAGES[0], "gala.fr.surnom.html", "bondyblog.fr.paris-8.html"])
    # Another backfill (or a window run of its own) does not take this one's findings: it reads all again.
    alone = scrape_dossier("news", config_path=config(tmp_path, site, f'"{warcs}/*.warc.gz"'), output=str(out),
                           since=date(2020, 5, 1), until=date(2020, 5, 31))
    assert alone["counts"]["extracted"] == 8 - 3 and alone["counts"]["written"] == 1  # dalloz, 2020-05-07


def test_taken_down_live_but_in_a_file_is_the_files_row_with_a_takedown(site: TestSite, tmp_path: Path) -> None:
    """One run: the site answers 410 for the article a file holds (and 404 for one no file
    holds): the file's copy is the row, the 410 its takedown; the other is a failure."""
    path, offset, _ = one_record(site, tmp_path, (SITE / "pages" / EDITED).read_bytes())
    site.faults[f"/articles/{EDITED}"] = lambda route, headers: Response(410, b"gone")
    missing = site.article_url("removed-long-ago.html")
    both = live_and_file(tmp_path, [site.article_url(EDITED), missing], path)
    out = str(tmp_path / "out")
    record = scrape_dossier("news", config_path=str(both), output=out)
    store = Store(out, "news", "")
    row = article(store)
    assert row["source_kind"] == "warc" and row["warc_offset"] == offset and row["archive_captured_at"] == CRAWLED
    [takedown] = store.read_edits().to_pylist()
    assert takedown["kind"] == "takedown" and takedown["http_status"] == 410
    assert takedown["article_id"] == row["article_id"] and takedown["old_fetched_at"] == CRAWLED
    assert record["edits"] == {"takedown": 1}
    states = {r["url"]: (r["state"], r["http_status"]) for r in store.read_urls().to_pylist()}
    assert states == {site.article_url(EDITED): ("written", 200), missing: ("failed", 404)}  # the file's 200
    assert record["counts"]["written"] == 1 and record["counts"]["failed"] == 1
