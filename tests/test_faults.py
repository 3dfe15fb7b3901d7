"""Fault injection: a local site that misbehaves in every way the issue lists, and the
pipeline recording each fault as data while the run completes."""

from __future__ import annotations

import gzip
import hashlib
import multiprocessing
import os
import random
import signal
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import pandas as pd
import pytest
from conftest import left_running, marked_env, write_config

from dossier_pipeline.flows.scrape import scrape_dossier
from dossier_pipeline.tasks.config import Settings
from dossier_pipeline.tasks.demo.server import LocalServer, Response
from dossier_pipeline.tasks.extract import Page
from dossier_pipeline.tasks.fetch import Politeness, fetch_all
from dossier_pipeline.tasks.workers import ExtractorPool

WORDS = ["eau", "nappe", "sécheresse", "préfecture", "arrêté", "irrigation", "vigne", "rivière", "débit", "station",
         "pluie", "orage", "bassin", "agriculteur", "maire", "commune", "réservoir", "forage", "canal", "été"]
HTML = {"Content-Type": "text/html; charset=utf-8"}


def article_html(n: int, title: str | None = None, extra: str = "") -> str:
    rng = random.Random(n)
    paragraphs = "".join(
        "<p>" + " ".join(rng.choice(WORDS) for _ in range(60)).capitalize() + ".</p>" for _ in range(5))
    title = title or f"Article numéro {n}"
    return (f"<!DOCTYPE html><html lang='fr'><head><meta charset='utf-8'><title>{title}</title>"
            f"<meta property='article:published_time' content='2024-0{1 + n % 6}-1{n % 9}T08:00:00+01:00'>"
            f"</head><body><article><h1>{title}</h1>{paragraphs}{extra}</article></body></html>")


class FaultSite:
    """/a/<n>.html articles; /flaky/<n>.html 503 with Retry-After on the first request for
    30 % of the URLs; /list.txt-like sources are built by the tests."""

    def __init__(self) -> None:
        self.hits: dict[str, int] = {}
        self.routes: dict[str, Response] = {}
        self.server = LocalServer(self.app)
        self.base = self.server.base_url

    def app(self, path: str, headers: dict[str, str]) -> Response:
        self.hits[path] = self.hits.get(path, 0) + 1
        if path in self.routes:
            return self.routes[path]
        if path == "/robots.txt":
            return Response(404, b"")
        if path.startswith("/a/"):
            return Response(200, article_html(int(path[3:].split(".")[0])).encode(), HTML)
        if path.startswith("/flaky/"):
            n = int(path[7:].split(".")[0])
            flaky = int(hashlib.sha256(str(n).encode()).hexdigest(), 16) % 10 < 3
            if flaky and self.hits[path] == 1:
                return Response(503, b"busy", {"Retry-After": "1"})
            return Response(200, article_html(n).encode(), HTML)
        return Response(404, b"not found")


@pytest.fixture
def fault_site() -> FaultSite:
    site = FaultSite()
    yield site
    site.server.close()


def urls_config(tmp_path: Path, urls: list[str], extra: str = "") -> Path:
    (tmp_path / "urls.txt").write_text("\n".join(urls) + "\n", encoding="utf-8")
    return write_config(tmp_path, f'[dossiers.f]\n{extra}[[dossiers.f.sources]]\nkind = "urls"\nfile = "urls.txt"\n')


@pytest.mark.usefixtures("prefect_api")
def test_transient_503_with_retry_after_loses_nothing(fault_site: FaultSite, tmp_path: Path) -> None:
    urls = [f"{fault_site.base}/flaky/{n}.html" for n in range(200)]
    config = urls_config(tmp_path, urls)
    record = scrape_dossier("f", config_path=str(config), output=str(tmp_path / "out"), batch_size=64)
    df = pd.read_parquet(tmp_path / "out" / "f" / "articles")
    assert record["counts"]["written"] == 200 and record["counts"]["failed"] == 0
    assert len(df) == 200 and df["article_id"].is_unique
    retried = [p for p, n in fault_site.hits.items() if p.startswith("/flaky/") and n == 2]
    assert 40 <= len(retried) <= 80  # about 30 % were refused once, then fetched


@pytest.mark.usefixtures("prefect_api")
def test_hostile_pages_are_recorded_never_written(fault_site: FaultSite, tmp_path: Path) -> None:
    russian = " ".join(["Новости дня: в Москве прошло заседание городской думы, посвящённое водоснабжению."] * 8)
    cp1251 = (f"<html><head><title>Москва</title></head><body><article><h1>Москва</h1><p>{russian}</p>"
              f"<p>{russian}</p></article></body></html>").encode("cp1251")
    routes = {
        "/challenge.html": Response(200, b"<html><head><title>Just a moment...</title></head><body>"
                                         b"<div id='cf-chl-widget'>Checking your browser</div></body></html>", HTML),
        "/consent.html": Response(200, b"<html><head><title>Before you continue</title></head><body>"
                                       b"<div class='qc-cmp2-container'>We value your privacy. Accept all cookies"
                                       b"</div></body></html>", HTML),
        "/paywall.html": Response(200, article_html(901).split("<article>")[0].encode() + (
            "<article><h1>Enquête</h1><p>Le début de l'enquête sur les forages illégaux dans la plaine.</p>"
            "<p>Cet article est réservé aux abonnés. Abonnez-vous pour lire la suite.</p></article>"
            "</body></html>").encode(), HTML),
        "/error.html": Response(200, b"<html><head><title>Page introuvable</title></head><body><h1>Erreur 404"
                                     b"</h1><p>La page que vous cherchez n'existe pas.</p></body></html>", HTML),
        "/empty.html": Response(200, b"", HTML),
        "/pdf.html": Response(200, b"%PDF-1.7 ...", {"Content-Type": "application/pdf"}),
        "/loop.html": Response(302, b"", {"Location": "/loop2.html"}),
        "/loop2.html": Response(302, b"", {"Location": "/loop.html"}),
        "/away.html": Response(302, b"", {"Location": "http://169.254.169.254/latest/meta-data/"}),
        "/ftp.html": Response(302, b"", {"Location": "ftp://example.org/file"}),
        "/truncated.html": Response(200, b"<html><body><p>cut", {**HTML, "Content-Length": "50000",
                                                                "Connection": "close"}),
        "/bomb.html": Response(200, gzip.compress(b"<html>" + b" " * 30_000_000),
                               {**HTML, "Content-Encoding": "gzip"}),
        "/cp1251.html": Response(200, cp1251, HTML),  # declared UTF-8, really cp1251
        "/latin1.html": Response(200, article_html(902, title="Été à Montréal").encode("latin-1"), HTML),
    }
    fault_site.routes.update(routes)
    urls = [fault_site.base + path for path in routes if path not in ("/loop2.html",)]
    config = urls_config(tmp_path, [*urls, f"{fault_site.base}/a/1.html"],
                         extra="max_retries = 1\ntimeout_seconds = 5\n")
    record = scrape_dossier("f", config_path=str(config), output=str(tmp_path / "out"))

    ledger = pd.read_parquet(tmp_path / "out" / "f" / "urls").set_index("url")
    state = {u.removeprefix(fault_site.base): (s, r)
             for u, s, r in zip(ledger.index, ledger.state, ledger.reason, strict=True)}
    assert state["/challenge.html"] == ("blocked", "bot_challenge")
    assert state["/consent.html"] == ("blocked", "consent_wall")
    assert state["/paywall.html"][0] == "written"  # a paywalled article is kept, with its teaser
    assert state["/error.html"] == ("blocked", "error_page")
    assert state["/empty.html"] == ("failed", "empty_body")
    assert state["/pdf.html"][1].startswith("not_html")
    assert state["/loop.html"][1].startswith("redirect_loop")
    assert state["/away.html"][1].startswith("off_domain_redirect")
    assert state["/ftp.html"][1].startswith("bad_scheme")
    assert state["/truncated.html"][0] == "failed" and state["/truncated.html"][1].startswith("connection_error")
    assert state["/bomb.html"][1].startswith("too_large")
    host = fault_site.base.split("//")[1].split(":")[0]
    assert record["blocked_by_host"][host] == {"bot_challenge": 1, "consent_wall": 1, "error_page": 1}

    df = pd.read_parquet(tmp_path / "out" / "f" / "articles").set_index("url")
    assert set(df.index) == {fault_site.base + p for p in ("/cp1251.html", "/latin1.html", "/a/1.html",
                                                           "/paywall.html")}
    assert df.loc[fault_site.base + "/paywall.html", "access"] == "paywall"
    assert (df.drop(fault_site.base + "/paywall.html")["access"] == "free").all()
    assert "Новости дня" in df.loc[fault_site.base + "/cp1251.html", "text"]
    assert df.loc[fault_site.base + "/latin1.html", "title"] == "Été à Montréal"
    assert not df["text"].str.contains("Just a moment|introuvable").any()


def test_gzip_bomb_is_cut_off_with_bounded_memory(fault_site: FaultSite) -> None:
    bomb = gzip.compress(b"\0" * 1_000_000_000, compresslevel=9)  # 1 GB of zeros in ~1 MB
    fault_site.routes["/bomb.html"] = Response(200, bomb, {**HTML, "Content-Encoding": "gzip"})
    settings = Settings(allow_private_addresses=True, requests_per_second=100)
    tracemalloc.start()
    [result] = __import__("asyncio").run(fetch_all([fault_site.base + "/bomb.html"], Politeness(settings),
                                                   ["127.0.0.1"]))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert result.reason and result.reason.startswith("too_large")
    assert peak < 200 * 2**20 - len(bomb)


def test_pathological_page_costs_only_its_budget() -> None:
    """A giant table that takes trafilatura many seconds is cut at its budget; the other
    pages of its batch are extracted."""
    table = "<table>" + "".join(f"<tr>{'<td>cell text here</td>' * 20}</tr>" for _ in range(6000)) + "</table>"
    ctx = {"dossier": "t", "url": "http://a.org/x", "final_url": "http://a.org/x", "source_kind": "urls",
           "source_url": "t", "fetched_at": pd.Timestamp("2026-01-01", tz="UTC").to_pydatetime(),
           "http_status": 200, "pipeline_version": "t", "run_id": "r", "domains": ["a.org"], "timezone": "UTC"}
    pages = [Page(n, f"http://a.org/{n}", article_html(n).encode(), None, "fr", ctx) for n in range(6)]
    pages.insert(3, Page(99, "http://a.org/99", f"<html><body><article>{table}</article></body></html>".encode(),
                         None, "fr", ctx))
    pool = ExtractorPool(workers=2, seconds_per_page=1.0)
    started = time.monotonic()
    try:
        results = pool.extract(pages)
    finally:
        pool.close()
    assert time.monotonic() - started < 15
    by_key = {r["key"]: r for r in results}
    assert by_key[99]["status"] == "failed" and by_key[99]["reason"].startswith("extract_timeout")
    assert all(by_key[n]["status"] == "ok" for n in range(6))


def test_killing_a_stuck_pool_ends_its_workers() -> None:
    """A pool given up on (a worker stuck in C code, or dead) has every worker process
    killed, found by the pids they announced; the next extraction starts a fresh pool."""
    ctx = {"dossier": "t", "url": "http://a.org/x", "final_url": "http://a.org/x", "source_kind": "urls",
           "source_url": "t", "fetched_at": pd.Timestamp("2026-01-01", tz="UTC").to_pydatetime(),
           "http_status": 200, "pipeline_version": "t", "run_id": "r", "domains": ["a.org"], "timezone": "UTC"}
    pages = [Page(n, f"http://a.org/{n}", article_html(n).encode(), None, "fr", ctx) for n in range(4)]
    before = {p.pid for p in multiprocessing.active_children()}
    pool = ExtractorPool(workers=2, seconds_per_page=5.0)
    try:
        assert all(r["status"] == "ok" for r in pool.extract(pages))
        workers = [p for p in multiprocessing.active_children() if p.pid not in before]
        assert len(workers) == 2
        assert pool._kill(pool._get())
        for worker in workers:
            worker.join(timeout=10)
            # 255: killed, but the fork server could not report how (multiprocessing's
            # popen_forkserver when its status pipe fails, as when another test ended the server)
            assert not worker.is_alive() and worker.exitcode in (-signal.SIGKILL, 255)
        assert all(r["status"] == "ok" for r in pool.extract(pages))
    finally:
        pool.close()


def test_kill_9_mid_run_then_rerun_gives_one_row_per_article(fault_site: FaultSite, tmp_path: Path) -> None:
    urls = [f"{fault_site.base}/a/{n}.html" for n in range(520)] + [f"{fault_site.base}/missing.html"]
    config = urls_config(tmp_path, urls, "commit_seconds = 0\n")  # each batch written on its own
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "dossier_pipeline.flows.cli", "run", "f", "--config", str(config),
           "--output", str(out), "--batch-size", "40"]
    env = marked_env()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                            env=env)
    deadline = time.monotonic() + 120
    articles = out / "f" / "articles"
    while time.monotonic() < deadline and proc.poll() is None:
        ledger_files = list((out / "f" / "urls").glob("*.parquet")) if (out / "f" / "urls").exists() else []
        if len(ledger_files) >= 4:  # the plan and three batches are committed
            break
        time.sleep(0.05)
    assert proc.poll() is None, "the run ended before it could be killed"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    # the embedded API server (its own session, out of reach of the kill) ends with the run
    deadline = time.monotonic() + 30
    while (left := left_running(env)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not left, "the API server outlived the killed run"
    partial = pd.read_parquet(articles)  # readable after the kill
    assert 0 < len(partial) < 520 and partial["article_id"].is_unique

    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    df = pd.read_parquet(articles)
    assert len(df) == 520 and df["article_id"].is_unique
    assert not list(articles.rglob("*.tmp"))
    ledger = pd.read_parquet(out / "f" / "urls")
    last_run = ledger[ledger.run_id == ledger.sort_values("recorded_at").run_id.iloc[-1]]
    assert last_run.loc[last_run.url.str.endswith("/missing.html"), "state"].tolist() == ["failed"]
    assert last_run["url"].is_unique and len(last_run) == 521


@pytest.mark.usefixtures("prefect_api")
def test_batches_are_written_together_and_each_month_ends_in_one_file(fault_site: FaultSite, tmp_path: Path) -> None:
    """Held batches (run.Held): one write for the whole run here, then the compaction at its
    end leaves one file per publication month (six months, ten batches)."""
    urls = [f"{fault_site.base}/a/{n}.html" for n in range(120)]
    config = urls_config(tmp_path, urls, "commit_seconds = 3600\n")
    record = scrape_dossier("f", config_path=str(config), output=str(tmp_path / "out"), batch_size=12)
    root = tmp_path / "out" / "f"
    assert record["counts"]["written"] == 120
    assert len(list((root / "urls").glob("*.parquet"))) == 1  # every batch's URLs, written after their rows
    ledger = pd.read_parquet(root / "urls")
    assert (ledger["state"] == "written").sum() == 120
    months = sorted(root.glob("articles/year=*/month=*"))
    assert len(months) == 6 and all(len(list(m.glob("*.parquet"))) == 1 for m in months)
    df = pd.read_parquet(root / "articles")
    assert len(df) == 120 and df["article_id"].is_unique


def test_a_slow_host_is_spread_over_batches_instead_of_stalling_one() -> None:
    from collections import deque

    from dossier_pipeline.tasks.config import parse_config
    from dossier_pipeline.tasks.discover import DiscoveredURL
    from dossier_pipeline.tasks.fetch import Politeness
    from dossier_pipeline.tasks.planner import next_batch

    config = parse_config('[dossiers.f]\n[[dossiers.f.sources]]\nkind = "urls"\nurls = ["http://fast.org/"]\n',
                          Path("x.toml"))
    politeness = Politeness(config.get("f").settings)
    politeness.set_crawl_delay("slow.org", 10.0)  # as a robots.txt Crawl-delay: 10 sets it
    queue = deque([DiscoveredURL(f"http://slow.org/{n}", "urls", "t") for n in range(20)]
                  + [DiscoveredURL(f"http://fast.org/{n}", "urls", "t") for n in range(100)])
    first = next_batch(queue, 64, politeness)
    # 30 s of each host's rate: 3 URLs at one per 10 s, 60 at the default 2 per second
    assert sum("slow.org" in i.url for i in first) == 3 and len(first) == 63
    batches = [first]
    while queue:
        batches.append(next_batch(queue, 64, politeness))
    taken = [i.url for b in batches for i in b]
    assert sorted(taken) == sorted({*taken}) and len(taken) == 120  # every URL once
    assert all(sum("slow.org" in i.url for i in b) <= 3 for b in batches)


@pytest.mark.usefixtures("prefect_api")
def test_refresh_uses_conditional_get_and_replaces_changed_articles(fault_site: FaultSite, tmp_path: Path) -> None:
    """--refresh: a 304 keeps the row; a changed article replaces its row (same article_id)
    and is recorded as updated; an unchanged body is recorded as unchanged."""
    pages = {f"/r/{n}.html": article_html(100 + n).encode() for n in range(3)}

    def serve(path: str, headers: dict[str, str]) -> Response:
        etag = '"' + hashlib.sha256(pages[path]).hexdigest()[:16] + '"'
        if headers.get("if-none-match") == etag and path == "/r/0.html":
            return Response(304, b"", {"ETag": etag})
        return Response(200, pages[path], {**HTML, "ETag": etag})

    original = fault_site.app
    fault_site.server.app = lambda path, headers: serve(path, headers) if path in pages else original(path, headers)
    config = urls_config(tmp_path, [fault_site.base + p for p in pages])
    out = tmp_path / "out"
    first = scrape_dossier("f", config_path=str(config), output=str(out))
    assert first["counts"]["written"] == 3
    before = pd.read_parquet(out / "f" / "articles").set_index("url")

    pages["/r/1.html"] = article_html(999).encode()  # silently edited
    again = scrape_dossier("f", config_path=str(config), output=str(out), refresh=True)
    ledger = pd.read_parquet(out / "f" / "urls")
    states = ledger[ledger.run_id == again["run_id"]].set_index("url")["state"]
    assert states[fault_site.base + "/r/0.html"] == "unchanged"  # 304
    assert states[fault_site.base + "/r/1.html"] == "updated"
    assert states[fault_site.base + "/r/2.html"] == "unchanged"  # 200, same text
    after = pd.read_parquet(out / "f" / "articles").set_index("url")
    assert len(after) == 3 and after["article_id"].is_unique
    edited = fault_site.base + "/r/1.html"
    assert after.loc[edited, "article_id"] == before.loc[edited, "article_id"]
    assert after.loc[edited, "text_sha256"] != before.loc[edited, "text_sha256"]
    assert after.loc[edited, "run_id"] == again["run_id"]
    conditional = [h for _, p, h in fault_site.server.log if p == "/r/0.html"]
    assert "if-none-match" in conditional[-1]
    assert all(h["user-agent"].startswith("dossier-pipeline") for _, _, h in fault_site.server.log)


def test_dns_rebinding_is_caught_on_the_connected_address(fault_site: FaultSite,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Even when the name resolved to a public address at check time, the address actually
    connected to is checked before any body is read."""
    import asyncio

    from dossier_pipeline.tasks.fetch import Fetcher

    async def looks_public(self: Fetcher, url: str) -> None:
        return None

    monkeypatch.setattr(Fetcher, "_address_ok", looks_public)
    settings = Settings(allow_private_addresses=False, respect_robots_txt=False)
    [result] = asyncio.run(fetch_all([fault_site.base + "/a/1.html"], Politeness(settings), ["127.0.0.1"]))
    assert result.reason == "private_address: connected to 127.0.0.1" and result.body == b""


def test_billion_laughs_sitemap_is_rejected_with_bounded_memory(tmp_path: Path) -> None:
    """Parsed in a fresh process whose peak RSS (VmHWM, reset by exec unlike ru_maxrss) is
    measured: libxml2 allocates outside Python's allocator, so tracemalloc would not see it."""
    entities = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10 if i > 1 else "&lol;" * 10}">' for i in range(1, 10))
    bomb = tmp_path / "bomb.xml"
    bomb.write_text(f'<?xml version="1.0"?><!DOCTYPE lolz [{entities}]><urlset xmlns="http://www.sitemaps.org/'
                    f'schemas/sitemap/0.9"><url><loc>http://a.org/&lol9;</loc></url></urlset>')
    script = (
        "import sys, time\n"
        "from dossier_pipeline.tasks.documents import parse_sitemap\n"
        "started = time.monotonic()\n"
        "try:\n"
        "    pages, _ = parse_sitemap(open(sys.argv[1], 'rb').read(), 'http://a.org/sitemap.xml')\n"
        "except ValueError:\n"
        "    pages = []\n"
        "assert not any('lollol' in url for url, _ in pages)\n"
        "peak = [int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmHWM')][0]\n"
        "print(time.monotonic() - started, peak * 1024)\n"
    )
    done = subprocess.run([sys.executable, "-c", script, str(bomb)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    seconds, peak = map(float, done.stdout.split())
    assert seconds < 1 and peak < 200 * 2**20
