"""dossier_pipeline.tasks.fetch: Retry-After parsing, and fetch_all's politeness, retries, limits and
redirect checks against a real local server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any
from urllib.parse import urlsplit

import pytest

import dossier_pipeline.tasks.fetch
from dossier_pipeline.tasks.config import Settings
from dossier_pipeline.tasks.demo.server import LocalServer, Response
from dossier_pipeline.tasks.fetch import FetchResult, FetchSession, Politeness, fetch_all, retry_after_seconds

HTML = {"Content-Type": "text/html; charset=utf-8"}
PAGE = b"<html><body><p>hello</p></body></html>"
Route = Callable[[str, dict[str, str]], Response]

# ------------------------------------------------------------------ Retry-After


@pytest.mark.parametrize(("value", "seconds"), [("120", 120.0), (" 7 ", 7.0), ("0", 0.0)])
def test_retry_after_delta_seconds(value: str, seconds: float) -> None:
    """Retry-After as delta-seconds."""
    assert retry_after_seconds(value) == seconds


def test_retry_after_http_date() -> None:
    """Retry-After as an HTTP-date is the time left until then; a past date is 0."""
    now = datetime(2024, 3, 1, 12, 0, 0, tzinfo=UTC).timestamp()
    later = format_datetime(datetime(2024, 3, 1, 12, 0, 45, tzinfo=UTC), usegmt=True)
    earlier = format_datetime(datetime(2024, 3, 1, 11, 0, 0, tzinfo=UTC), usegmt=True)
    assert retry_after_seconds(later, now=now) == pytest.approx(45.0)
    assert retry_after_seconds("Fri, 01 Mar 2024 12:01:00 GMT", now=now) == pytest.approx(60.0)
    assert retry_after_seconds(earlier, now=now) == 0.0


@pytest.mark.parametrize("value", [None, "", "soon", "-5", "1.5x"])
def test_retry_after_unusable(value: str | None) -> None:
    """Absent or unparseable Retry-After is None, never an exception."""
    assert retry_after_seconds(value) is None


# ---------------------------------------------------------------- local server


class Site:
    """A LocalServer whose routes are set per test: path (no query) -> handler."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.server = LocalServer(self.app)
        self.base = self.server.base_url
        self.times: list[tuple[float, str]] = []

    def app(self, path: str, headers: dict[str, str]) -> Response:
        self.times.append((time.monotonic(), path))
        route = self.routes.get(urlsplit(path).path)
        if route is not None:
            return route(path, headers)
        if path == "/robots.txt":
            return Response(404, b"", {"Content-Type": "text/plain"})
        return Response(200, PAGE, HTML)

    def paths(self) -> list[str]:
        return [path for _, path, _ in self.server.log]

    def count(self, path: str) -> int:
        return self.paths().count(path)

    def url(self, path: str) -> str:
        return self.base + path


@pytest.fixture(scope="module")
def shared_site() -> Iterator[Site]:
    """One server for the module: LocalServer.close() waits out a 0.5 s poll interval."""
    s = Site()
    yield s
    s.server.close()


@pytest.fixture
def site(shared_site: Site) -> Site:
    shared_site.routes.clear()
    shared_site.server.log.clear()
    shared_site.times.clear()
    return shared_site


@pytest.fixture
def low_jitter(monkeypatch: pytest.MonkeyPatch) -> None:
    """Backoff jitter at its minimum (0.5x), so retry tests stay short and deterministic."""
    monkeypatch.setattr(dossier_pipeline.tasks.fetch.random, "random", lambda: 0.0)


def fetch(urls: list[str], domains: list[str] | None = None, politeness: Politeness | None = None,
          validators: dict[str, dict[str, str]] | None = None, **settings: Any) -> list[FetchResult]:
    options: dict[str, Any] = {"allow_private_addresses": True, "requests_per_second": 1000, "max_retries": 0}
    p = politeness or Politeness(Settings(**{**options, **settings}))
    return asyncio.run(fetch_all(urls, p, domains or ["127.0.0.1"], validators=validators))


def one(url: str, **kwargs: Any) -> FetchResult:
    return fetch([url], **kwargs)[0]


def test_plain_fetch_ok(site: Site) -> None:
    """The happy path: 200 HTML gives body, status, final URL and one attempt."""
    result = one(site.url("/a"))
    assert result.ok
    assert (result.status, result.body, result.final_url, result.attempts) == (200, PAGE, site.url("/a"), 1)
    assert result.fetched_at is not None


def test_503_retry_after_then_ok(site: Site, low_jitter: None) -> None:
    """A 503 with Retry-After: 1 is retried after at least 1 s, then succeeds."""
    def flaky(path: str, headers: dict[str, str]) -> Response:
        if site.count("/flaky") == 1:
            return Response(503, b"busy", {"Retry-After": "1", **HTML})
        return Response(200, PAGE, HTML)
    site.routes["/flaky"] = flaky
    started = time.monotonic()
    result = one(site.url("/flaky"), max_retries=3)
    assert result.ok
    assert result.attempts == 2
    assert site.count("/flaky") == 2
    assert time.monotonic() - started >= 1.0


def test_persistent_500_gives_up(site: Site, low_jitter: None) -> None:
    """A persistent 500 is tried max_retries + 1 times, then recorded as http_500."""
    site.routes["/broken"] = lambda p, h: Response(500, b"oops", HTML)
    result = one(site.url("/broken"), max_retries=2)
    assert not result.ok
    assert result.reason == "http_500"
    assert result.attempts == 3
    assert site.count("/broken") == 3


def test_retry_after_beyond_limit_is_not_waited(site: Site) -> None:
    """A Retry-After longer than max_retry_after_seconds ends the retries at once."""
    site.routes["/later"] = lambda p, h: Response(503, b"", {"Retry-After": "3600"})
    started = time.monotonic()
    result = one(site.url("/later"), max_retries=3, max_retry_after_seconds=5)
    assert result.reason == "http_503"
    assert result.attempts == 1
    assert time.monotonic() - started < 1.0


def test_404_is_not_retried(site: Site) -> None:
    """A 404 is final: one attempt, reason http_404."""
    site.routes["/gone"] = lambda p, h: Response(404, b"", HTML)
    result = one(site.url("/gone"), max_retries=3)
    assert (result.reason, result.attempts, site.count("/gone")) == ("http_404", 1, 1)


def robots(body: str) -> Route:
    return lambda p, h: Response(200, body.encode(), {"Content-Type": "text/plain"})


def test_robots_disallow(site: Site) -> None:
    """A URL robots.txt disallows is not requested and is reported at stage "robots"."""
    site.routes["/robots.txt"] = robots("User-agent: *\nDisallow: /private/\n")
    private, public = fetch([site.url("/private/secret"), site.url("/public")])
    assert (private.stage, private.reason) == ("robots", "robots_disallowed")
    assert not private.ok
    assert public.ok and public.stage == "fetch"
    assert "/private/secret" not in site.paths()


def test_robots_fetched_once_per_host(site: Site) -> None:
    """robots.txt is fetched once per host for many concurrent URLs, and not again by a
    later batch sharing the run's Politeness."""
    site.routes["/robots.txt"] = robots("User-agent: *\nDisallow: /private/\n")
    politeness = Politeness(Settings(allow_private_addresses=True, requests_per_second=1000, max_retries=0))
    results = fetch([site.url(f"/p/{i}") for i in range(12)], politeness=politeness)
    assert all(r.ok for r in results)
    results = fetch([site.url("/private/x"), site.url("/p/again")], politeness=politeness)
    assert [r.reason for r in results] == ["robots_disallowed", None]
    assert site.count("/robots.txt") == 1


def test_robots_server_error_disallows_all(site: Site) -> None:
    """robots.txt answering 5xx means "disallow all" for the run (RFC 9309)."""
    site.routes["/robots.txt"] = lambda p, h: Response(503, b"", {"Content-Type": "text/plain"})
    result = one(site.url("/a"))
    assert (result.stage, result.reason) == ("robots", "robots_disallowed")
    assert "/a" not in site.paths()


def test_robots_ignored_when_not_respected(site: Site) -> None:
    """respect_robots_txt = false neither fetches nor applies robots.txt."""
    site.routes["/robots.txt"] = robots("User-agent: *\nDisallow: /\n")
    assert one(site.url("/a"), respect_robots_txt=False).ok
    assert "/robots.txt" not in site.paths()


RFC_ROBOTS = """User-agent: *
Disallow: /r/
Allow: /r/open/
Disallow: /*?print=
Disallow: /*.pdf$
Allow: /same
Disallow: /same

User-agent: otherbot
Disallow: /

User-agent: dossier-pipeline
Disallow: /mine/
Allow: /mine/shared/
"""


@pytest.mark.parametrize(("path", "allowed"), [
    ("/r/open/1.html", True),  # the longer Allow beats the shorter Disallow, whatever their order
    ("/r/1.html", False),
    ("/r/open/1.html?print=1", False),  # "*" matches any run of characters, the query included
    ("/files/x.pdf", False),  # "$" anchors the end ...
    ("/files/x.pdf?download=1", True),  # ... so this one is not a .pdf$ match
    ("/files/x.pdfx", True),
    ("/same", True),  # Allow wins over a Disallow of equal length
])
def test_robots_rfc9309_matching(site: Site, path: str, allowed: bool) -> None:
    """RFC 9309 as Protego reads it: the longest match wins, ``*`` and ``$`` are wildcards,
    Allow wins a tie. (urllib.robotparser took the first matching line and read ``*`` and
    ``$`` literally.)"""
    site.routes["/robots.txt"] = robots(RFC_ROBOTS.replace("User-agent: dossier-pipeline", "User-agent: nobody"))
    result = one(site.url(path))
    assert result.ok is allowed
    assert (path in site.paths()) is allowed
    if not allowed:
        assert (result.stage, result.reason) == ("robots", "robots_disallowed")


def test_robots_user_agent_group(site: Site) -> None:
    """The group naming our user agent (by its product token) applies instead of ``*``;
    another robot's group never does."""
    site.routes["/robots.txt"] = robots(RFC_ROBOTS)
    results = fetch([site.url(p) for p in ("/mine/x", "/mine/shared/y", "/r/1.html", "/elsewhere")])
    assert [r.reason for r in results] == ["robots_disallowed", None, None, None]  # "*" rules do not apply to us
    results = fetch([site.url("/r/1.html"), site.url("/mine/x")], user_agent="somebot/2.0")
    assert [r.reason for r in results] == ["robots_disallowed", None]  # "*" applies to an unnamed agent


def test_robots_request_rate_honoured(site: Site) -> None:
    """Request-rate: 5/2s (one request per 0.4 s) spaces the host's requests."""
    site.routes["/robots.txt"] = robots("User-agent: *\nRequest-rate: 5/2s\n")
    assert all(r.ok for r in fetch([site.url("/q/1"), site.url("/q/2"), site.url("/q/3")]))
    assert min(gaps(site, "/q/")) >= 0.38


def test_robots_delay_of_our_group_only(site: Site) -> None:
    """The Crawl-delay of another agent's group is not ours."""
    site.routes["/robots.txt"] = robots("User-agent: slowbot\nCrawl-delay: 5\n\nUser-agent: *\nDisallow: /x/\n")
    started = time.monotonic()
    assert all(r.ok for r in fetch([site.url("/e/1"), site.url("/e/2")]))
    assert time.monotonic() - started < 2.0


def gaps(site: Site, prefix: str) -> list[float]:
    stamps = [t for t, path in site.times if path.startswith(prefix)]
    return [b - a for a, b in itertools.pairwise(stamps)]


def test_crawl_delay_integer_honoured(site: Site) -> None:
    """Crawl-delay: 1 spaces requests to the host by at least one second."""
    site.routes["/robots.txt"] = robots("User-agent: *\nCrawl-delay: 1\n")
    assert all(r.ok for r in fetch([site.url("/c/1"), site.url("/c/2")]))
    assert len(gaps(site, "/c/")) == 1
    assert min(gaps(site, "/c/")) >= 0.95


def test_crawl_delay_fraction_honoured(site: Site) -> None:
    """A fractional Crawl-delay (0.3 s, as Bing and Yandex accept) is honoured too."""
    site.routes["/robots.txt"] = robots("User-agent: *\nCrawl-delay: 0.3\n")
    assert all(r.ok for r in fetch([site.url("/d/1"), site.url("/d/2"), site.url("/d/3")]))
    assert min(gaps(site, "/d/")) >= 0.28


def test_requests_per_second_spaces_requests(site: Site) -> None:
    """requests_per_second limits the rate to one host."""
    assert all(r.ok for r in fetch([site.url(f"/r/{i}") for i in range(3)], requests_per_second=10))
    assert min(gaps(site, "/r/")) >= 0.09


def test_body_over_limit(site: Site) -> None:
    """A body larger than max_body_bytes is cut off and reported too_large."""
    site.routes["/big"] = lambda p, h: Response(200, b"<html>" + b"x" * 5000 + b"</html>", HTML)
    result = one(site.url("/big"), max_body_bytes=1024)
    assert result.reason is not None and result.reason.startswith("too_large")
    assert not result.ok
    assert result.body == b""


def redirect(to: str, status: int = 302) -> Route:
    return lambda p, h: Response(status, b"", {"Location": to})


def test_redirect_followed_by_hand(site: Site) -> None:
    """Redirects (relative Location too) are followed; final_url is the last hop."""
    site.routes["/old"] = redirect("/new", 301)
    result = one(site.url("/old"))
    assert result.ok
    assert (result.url, result.final_url) == (site.url("/old"), site.url("/new"))


def test_redirect_loop(site: Site) -> None:
    """A -> B -> A is a redirect_loop, not an endless walk."""
    site.routes["/a"] = redirect("/b")
    site.routes["/b"] = redirect(site.url("/a"))
    result = one(site.url("/a"), max_redirects=10)
    assert result.reason is not None and result.reason.startswith("redirect_loop")
    assert site.count("/a") == 1 and site.count("/b") == 1


@pytest.mark.parametrize("location", ["javascript:alert(1)", "mailto:desk@example.org"])
def test_a_redirect_to_no_web_address_is_a_failed_fetch(site: Site, location: str) -> None:
    """httpx raises InvalidURL (no HTTPError) on such a Location: the fetch fails with a
    reason, the batch goes on."""
    site.routes["/moved"] = redirect(location)
    result = one(site.url("/moved"))
    assert not result.ok and result.reason is not None and result.reason.startswith("invalid_url")


def chain(site: Site, length: int) -> None:
    """/hop/0 -> /hop/1 -> ... -> /hop/<length>, which is a page."""
    def hop(path: str, headers: dict[str, str]) -> Response:
        n = int(path.rsplit("/", 1)[1])
        return Response(200, PAGE, HTML) if n >= length else Response(302, b"", {"Location": f"/hop/{n + 1}"})
    site.routes.update({f"/hop/{n}": hop for n in range(length + 1)})


def test_max_redirects_allowed(site: Site) -> None:
    """Exactly max_redirects redirects are followed."""
    chain(site, 3)
    result = one(site.url("/hop/0"), max_redirects=3)
    assert result.ok
    assert result.final_url == site.url("/hop/3")


def test_too_many_redirects(site: Site) -> None:
    """One redirect more than max_redirects is too_many_redirects."""
    chain(site, 4)
    result = one(site.url("/hop/0"), max_redirects=3)
    assert result.reason == "too_many_redirects"
    assert "/hop/4" not in site.paths()


def test_off_domain_redirect(site: Site) -> None:
    """A redirect to a host outside the allowed domains is refused before it is requested."""
    port = urlsplit(site.base).port
    site.routes["/out"] = redirect(f"http://localhost:{port}/landing")
    result = one(site.url("/out"))
    assert result.reason is not None and result.reason.startswith("off_domain_redirect")
    assert "/landing" not in site.paths()


def test_private_address_refused(site: Site) -> None:
    """With allow_private_addresses false, a loopback target is refused and no request
    (not even robots.txt) reaches it."""
    result = one(site.url("/a"), allow_private_addresses=False)
    assert result.reason is not None and result.reason.startswith("private_address")
    assert not result.ok
    assert site.paths() == []


def test_not_html(site: Site) -> None:
    """A PDF where HTML is expected is reported not_html with its content type."""
    site.routes["/doc.pdf"] = lambda p, h: Response(200, b"%PDF-1.4 ...", {"Content-Type": "application/pdf"})
    result = one(site.url("/doc.pdf"))
    assert result.reason is not None and result.reason.startswith("not_html")
    assert "application/pdf" in result.reason


def test_empty_body(site: Site) -> None:
    """A 200 with an empty body is not ok."""
    site.routes["/empty"] = lambda p, h: Response(200, b"", HTML)
    assert one(site.url("/empty")).reason == "empty_body"


def test_conditional_get_not_modified(site: Site) -> None:
    """Validators become If-None-Match / If-Modified-Since; a 304 is not_modified, no error."""
    etag, modified = '"v1"', "Wed, 21 Oct 2015 07:28:00 GMT"

    def cached(path: str, headers: dict[str, str]) -> Response:
        if headers.get("if-none-match") == etag:
            return Response(304, b"", {"ETag": etag})
        return Response(200, PAGE, {"ETag": etag, **HTML})
    site.routes["/cached"] = cached
    url = site.url("/cached")
    result = one(url, validators={url: {"etag": etag, "last_modified": modified}})
    assert result.not_modified
    assert result.reason is None
    assert not result.ok
    sent = next(h for _, path, h in site.server.log if path == "/cached")
    assert sent["if-none-match"] == etag
    assert sent["if-modified-since"] == modified


def test_no_validators_no_conditional_headers(site: Site) -> None:
    """Without validators the request is unconditional and gets the full page."""
    url = site.url("/plain")
    result = one(url, validators={site.url("/other"): {"etag": '"x"'}})
    assert result.ok and result.body == PAGE
    sent = next(h for _, path, h in site.server.log if path == "/plain")
    assert "if-none-match" not in sent and "if-modified-since" not in sent


def test_session_keeps_connections_across_batches() -> None:
    """A run's FetchSession serves every batch through the same keep-alive connections:
    the second batch to a host opens none (a fresh Fetcher per batch opened one per page).
    One connection per host: with more, a batch may open one the previous batch did not need."""
    accepted: list[object] = []
    s = Site()
    accept = s.server.httpd.get_request
    s.server.httpd.get_request = lambda: accepted.append(1) or accept()  # type: ignore[method-assign]
    session = FetchSession(Politeness(Settings(allow_private_addresses=True, requests_per_second=1000,
                                               max_connections_per_host=1)), ["127.0.0.1"])
    try:
        first = session.fetch_all([s.url(f"/a/{i}.html") for i in range(6)])
        opened = len(accepted)
        second = session.fetch_all([s.url(f"/b/{i}.html") for i in range(6)])
    finally:
        session.close()
        s.server.close()
    assert all(r.ok for r in first + second)
    assert opened == 1  # robots.txt and the pages, through the host's one connection
    assert len(accepted) == opened
    session.close()  # closing twice is harmless
