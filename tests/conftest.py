"""Shared test fixtures: a local news site serving real pages with injectable faults,
and Prefect's real embedded API (one per test session)."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import sys
import tempfile
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

# As the command line does (flows/cli.py _process_defaults), before prefect is imported.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
# Prefect's home (profiles, its local database, storage) for this session and every
# subprocess it starts: never the user's ~/.prefect (checked at the end of the session).
PREFECT_HOME = Path(tempfile.mkdtemp(prefix="dossier-tests-prefect-"))
os.environ["PREFECT_HOME"] = str(PREFECT_HOME)

from dossier_pipeline.tasks.demo.server import LocalServer, Response  # noqa: E402 (after PREFECT_HOME)

USER_PREFECT = Path.home() / ".prefect"


def marked_env() -> dict[str, str]:
    """The environment for a subprocess, marked so that what it leaves running can be found,
    without a PREFECT_API_URL of the developer's: the embedded API is what is tested."""
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    return {**env, "DOSSIER_TEST_MARK": uuid.uuid4().hex}


def left_running(env: dict[str, str], command: bytes = b"") -> list[str]:
    """PIDs of live processes started with the marked ``env`` (none found without /proc),
    whose command line has ``command``."""
    mark = f"DOSSIER_TEST_MARK={env['DOSSIER_TEST_MARK']}".encode()
    found = []
    for environ in Path("/proc").glob("[0-9]*/environ"):
        try:
            if mark in environ.read_bytes() and command in (environ.parent / "cmdline").read_bytes():
                found.append(environ.parent.name)
        except OSError:  # gone meanwhile, or not ours to read
            continue
    return found


def _state(path: Path) -> dict[str, tuple[int, int]]:
    """Every file under ``path`` with its size and modification time."""
    return {str(p): (p.stat().st_size, p.stat().st_mtime_ns) for p in path.rglob("*") if p.is_file()}


USER_PREFECT_BEFORE = _state(USER_PREFECT)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the session when it wrote into the user's own Prefect home."""
    shutil.rmtree(PREFECT_HOME, ignore_errors=True)
    if _state(USER_PREFECT) != USER_PREFECT_BEFORE:
        session.exitstatus = 1
        print(f"\nerror: the test session modified {USER_PREFECT}", file=sys.stderr)


SITE = Path(__file__).parent / "site"
EXPECTATIONS: dict[str, dict] = json.loads((SITE / "expectations.json").read_text(encoding="utf-8"))
PAGES = sorted(EXPECTATIONS)
HTML = {"Content-Type": "text/html; charset=utf-8"}


class TestSite:
    """Serves the fixture pages as a small news site.

    - /articles/<name>           a real page from tests/site/pages
    - /topic/?page=N             paginated listing, 3 links a page, "Topic (8)" heading
    - /feed.xml, /atom.xml       RSS 2.0 and Atom feeds over the articles
    - /sitemap.xml               sitemap index -> /sitemap-1.xml and /sitemap-2.xml.gz (gzip file)
    - /robots.txt                disallows /private/
    - faults: set ``site.faults[path] = callable(path, headers) -> Response | None``
    """

    __test__ = False  # not a test class

    def __init__(self) -> None:
        self.faults: dict[str, object] = {}
        self.server = LocalServer(self.app)
        self.base = self.server.base_url

    @property
    def log(self) -> list[tuple[str, str, dict[str, str]]]:
        return self.server.log

    def article_url(self, name: str) -> str:
        return f"{self.base}/articles/{name}"

    def requests_to(self, prefix: str) -> int:
        return sum(1 for _, path, _ in self.log if path.startswith(prefix))

    def app(self, path: str, headers: dict[str, str]) -> Response:
        parts = urlsplit(path)
        route = unquote(parts.path)
        fault = self.faults.get(route)
        if fault is not None:
            response = fault(route, headers)
            if response is not None:
                return response
        if route.startswith("/articles/"):
            name = route.removeprefix("/articles/")
            if name in EXPECTATIONS:
                return Response(200, (SITE / "pages" / name).read_bytes(), HTML)
        if route == "/topic/":
            page = int(parse_qs(parts.query).get("page", ["1"])[0])
            chunk = PAGES[(page - 1) * 3 : page * 3]
            if not chunk:
                return Response(404, b"no such page", HTML)
            links = "".join(f'<li><a href="/articles/{n}">{n}</a></li>' for n in chunk)
            body = (f"<html><head><title>Topic</title></head><body><nav><a href='/'>Home</a>"
                    f"<a href='/about/'>About</a></nav><h1>Topic ({len(PAGES)})</h1><ul>{links}</ul></body></html>")
            return Response(200, body.encode(), HTML)
        if route == "/feed.xml":
            items = "".join(f"<item><title>{n}</title><link>{self.article_url(n)}</link>"
                            f"<pubDate>{format_datetime(datetime(2020, 1, 1, tzinfo=UTC))}</pubDate></item>"
                            for n in PAGES[:4])
            body = f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{items}</channel></rss>'
            return Response(200, body.encode(), {"Content-Type": "application/rss+xml"})
        if route == "/atom.xml":
            entries = "".join(f'<entry><title>{n}</title><link rel="alternate" href="{self.article_url(n)}"/>'
                              f"<updated>2020-01-01T00:00:00Z</updated></entry>" for n in PAGES[4:])
            body = f'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>{entries}</feed>'
            return Response(200, body.encode(), {"Content-Type": "application/atom+xml"})
        if route == "/sitemap.xml":
            body = ('<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                    f"<sitemap><loc>{self.base}/sitemap-1.xml</loc></sitemap>"
                    f"<sitemap><loc>{self.base}/sitemap-2.xml.gz</loc></sitemap></sitemapindex>")
            return Response(200, body.encode(), {"Content-Type": "application/xml"})
        if route in ("/sitemap-1.xml", "/sitemap-2.xml.gz"):
            names = PAGES[:4] if route == "/sitemap-1.xml" else PAGES[4:]
            urls = "".join(f"<url><loc>{self.article_url(n)}</loc><lastmod>2020-01-02</lastmod></url>" for n in names)
            body = f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'
            if route.endswith(".gz"):
                return Response(200, gzip.compress(body.encode()), {"Content-Type": "application/gzip"})
            return Response(200, body.encode(), {"Content-Type": "application/xml"})
        if route == "/robots.txt":
            return Response(200, b"User-agent: *\nDisallow: /private/\n", {"Content-Type": "text/plain"})
        return Response(404, b"<html><body>not found</body></html>", HTML)


@pytest.fixture
def site() -> Iterator[TestSite]:
    test_site = TestSite()
    yield test_site
    test_site.server.close()


@pytest.fixture(scope="session")
def prefect_api() -> Iterator[None]:
    """Prefect's real embedded API with a throwaway database, once per session."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


def write_config(tmp_path: Path, body: str, name: str = "dossiers.toml") -> Path:
    path = tmp_path / name
    path.write_text("[defaults]\nallow_private_addresses = true\nrequests_per_second = 200\n" + body,
                    encoding="utf-8")
    return path
