"""Polite, bounded HTTP fetching with httpx.

httpx gives connection pooling, timeouts and decompression; what it does not do is
crawler politeness, so this module adds it: robots.txt read once per origin per run by
Protego (RFC 9309 longest match, ``*`` and ``$``, user-agent groups, Crawl-delay and
Request-rate), a per-host request rate and connection limit shared by every batch of the
run, retries (tenacity) with exponential backoff and jitter that honour ``Retry-After``, a body size cap
counted while streaming (after decompression), redirects followed by hand so every hop is
checked against the allowed domains and the address policy, and conditional GET.
A failure is returned as data (``FetchResult.reason``), never raised. With an archive,
every exchange (redirect hops, retries, robots.txt and discovery requests included) is
written to WARC as it arrives, its body as received on the wire, error pages included.
"""

from __future__ import annotations

import asyncio
import functools
import random
import socket
import ssl
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
from protego import Protego
from tenacity import AsyncRetrying, RetryCallState, retry_if_result, stop_after_attempt
from tenacity.stop import stop_base

from dossier_pipeline.tasks.archive import ArchiveWriter, Exchange, WarcPointer
from dossier_pipeline.tasks.config import Settings
from dossier_pipeline.tasks.urls import host_of, in_domains, is_public_address

Validators = Mapping[str, str | None]  # a stored copy's HTTP validators: etag, last_modified
RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
HTML_TYPES = ("text/html", "application/xhtml+xml")
DRAIN_BYTES = 1 << 16  # an unused body longer than this costs its connection, not its reading


@dataclass
class FetchResult:
    """What one URL's fetch produced; ``reason`` is set when it did not produce a body."""

    url: str
    final_url: str | None = None
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    fetched_at: datetime | None = None
    reason: str | None = None
    stage: str = "fetch"  # or "robots" when robots.txt disallowed the URL
    attempts: int = 0
    archived: WarcPointer | None = None  # the response record of the last exchange

    @property
    def ok(self) -> bool:
        return self.reason is None and self.status is not None and 200 <= self.status < 300

    @property
    def not_modified(self) -> bool:
        return self.status == 304


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """Parse ``Retry-After`` in both its forms: delta-seconds and HTTP-date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - (now if now is not None else time.time()))


def _transient(result: FetchResult) -> bool:
    return result.status in RETRY_STATUSES or (
        result.reason is not None and result.reason.startswith(("timeout", "connection_error")))


def _retry_after(state: RetryCallState) -> float | None:
    assert state.outcome is not None
    return retry_after_seconds(state.outcome.result().headers.get("retry-after"))


def _backoff(state: RetryCallState) -> float:
    """Exponential backoff with jitter (0.5x to 1.5x), never shorter than Retry-After."""
    backoff = min(30.0, 0.5 * 2.0 ** (state.attempt_number - 1)) * (0.5 + random.random())
    return max(backoff, _retry_after(state) or 0.0)


class _ServerAsksTooLong(stop_base):
    """Stop when the server asks for more patience (Retry-After) than the run has: the
    failure is recorded instead of waited out."""

    def __init__(self, limit: float) -> None:
        self.limit = limit

    def __call__(self, state: RetryCallState) -> bool:
        retry_after = _retry_after(state)
        return retry_after is not None and retry_after > self.limit


def _last_result(state: RetryCallState) -> FetchResult:
    """Out of attempts: the last response is the outcome (a failure is data, not raised)."""
    assert state.outcome is not None
    result: FetchResult = state.outcome.result()
    return result


def robots_interval(rules: Protego, user_agent: str) -> float | None:
    """The least time between two requests that the robots.txt group applying to
    ``user_agent`` asks for: its Crawl-delay or its Request-rate, whichever is longer."""
    delays = [rules.crawl_delay(user_agent) or 0.0]
    if (rate := rules.request_rate(user_agent)) is not None and rate.requests > 0:
        delays.append(rate.seconds / rate.requests)
    return max(delays) or None


class Politeness:
    """Per-run state shared by all fetch batches (threads) of a run: robots.txt rules and
    the time each host may next be requested."""

    def __init__(self, settings: Settings, archive: ArchiveWriter | None = None) -> None:
        self.settings = settings
        self.archive = archive
        self._lock = threading.Lock()
        self._next_slot: dict[str, float] = {}
        self._interval: dict[str, float] = {}
        self.robots: dict[str, Protego | None] = {}

    def set_crawl_delay(self, host: str, delay: float | None) -> None:
        base = 1.0 / self.settings.requests_per_second
        with self._lock:
            self._interval[host] = max(base, delay or 0.0)

    def interval(self, host: str) -> float:
        with self._lock:
            return self._interval.get(host, 1.0 / self.settings.requests_per_second)

    def reserve(self, host: str) -> float:
        """Book the host's next request slot; returns how long to wait for it."""
        now = time.monotonic()
        with self._lock:
            interval = self._interval.get(host, 1.0 / self.settings.requests_per_second)
            slot = max(now, self._next_slot.get(host, now))
            self._next_slot[host] = slot + interval
        return slot - now


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    """One TLS context for every client: each new context loads the CA bundle again."""
    return httpx.create_ssl_context()


class Fetcher:
    """One event loop's HTTP client; create with ``async with Fetcher(...)``."""

    def __init__(self, politeness: Politeness, domains: list[str]) -> None:
        self.p = politeness
        self.s = politeness.settings
        self.domains = domains
        self._sems: dict[str, asyncio.Semaphore] = {}
        self._robots_locks: dict[str, asyncio.Lock] = {}
        self._clients: dict[str, httpx.AsyncClient] = {}

    def _client(self, host: str) -> httpx.AsyncClient:
        """One connection pool per host, of the host's connection limit: httpcore scans
        every connection of a pool for each request it assigns, so one pool shared by many
        hosts costs more CPU than the rest of fetching (docs/benchmarks.md)."""
        if host not in self._clients:
            self._clients[host] = httpx.AsyncClient(
                # Only encodings _Decoder can inflate with a bounded output are offered.
                headers={"User-Agent": self.s.user_agent, "Accept-Language": "*", "Accept-Encoding": "gzip, deflate"},
                timeout=httpx.Timeout(self.s.timeout_seconds),
                follow_redirects=False,
                verify=_ssl_context(),
                limits=httpx.Limits(max_connections=self.s.max_connections_per_host,
                                    max_keepalive_connections=self.s.max_connections_per_host),
            )
        return self._clients[host]

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.gather(*(client.aclose() for client in self._clients.values()))

    async def _address_ok(self, url: str) -> str | None:
        """Refuse targets that resolve to non-public addresses unless allowed."""
        if self.s.allow_private_addresses:
            return None
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as exc:
            return f"dns_error: {host}: {exc}"
        for info in infos:
            address = str(info[4][0])
            if not is_public_address(address):
                return f"private_address: {host} resolves to {address} (set allow_private_addresses)"
        return None

    def _sem(self, key: str) -> asyncio.Semaphore:
        if key not in self._sems:
            self._sems[key] = asyncio.Semaphore(self.s.max_connections_per_host)
        return self._sems[key]

    async def _robots_allows(self, url: str) -> bool:
        parts = urlsplit(url)
        key = f"{parts.scheme}://{parts.netloc}"
        if key not in self.p.robots:
            lock = self._robots_locks.setdefault(key, asyncio.Lock())
            async with lock:
                if key not in self.p.robots:
                    self.p.robots[key] = await self._load_robots(key)
        rules = self.p.robots[key]
        return True if rules is None else rules.can_fetch(url, self.s.user_agent)

    async def _load_robots(self, origin: str) -> Protego | None:
        """robots.txt of an origin; None (everything allowed) when absent or unreachable.
        A 5xx after retries is treated as "disallow all" for this run, as RFC 9309 asks."""
        result = await self._get(origin + "/robots.txt")
        if result.status is not None and result.status >= 500:
            return Protego.parse("User-agent: *\nDisallow: /\n")
        if not result.ok:
            return None
        rules = Protego.parse(result.body.decode("utf-8", errors="replace"))
        self.p.set_crawl_delay(host_of(origin) or "", robots_interval(rules, self.s.user_agent))
        return rules

    async def get(self, url: str, expect: str = "html", validators: Validators | None = None) -> FetchResult:
        """Fetch ``url`` following redirects by hand, each hop checked."""
        seen: list[str] = []
        current = url
        headers: dict[str, str] = {}
        if validators:
            if etag := validators.get("etag"):
                headers["If-None-Match"] = etag
            if last_modified := validators.get("last_modified"):
                headers["If-Modified-Since"] = last_modified
        while True:
            if urlsplit(current).scheme not in ("http", "https"):
                return FetchResult(url, current, reason=f"bad_scheme: {current}")
            if seen and not in_domains(current, self.domains):
                return FetchResult(url, current, reason=f"off_domain_redirect: {current}")
            if current in seen:
                return FetchResult(url, current, reason=f"redirect_loop: {current}")
            seen.append(current)
            if self.s.respect_robots_txt and not await self._robots_allows(current):
                return FetchResult(url, current, reason="robots_disallowed", stage="robots")
            result = await self._get(current, headers=headers)
            result.url = url
            if result.reason or result.status not in (301, 302, 303, 307, 308):
                break
            location = result.headers.get("location")
            if not location:
                result.reason = f"redirect_without_location: http {result.status}"
                break
            if len(seen) > self.s.max_redirects:
                return FetchResult(url, current, status=result.status, reason="too_many_redirects")
            current = urljoin(current, location)
        if result.reason is None and not result.not_modified:
            result.reason = _check_response(result, expect)
        return result

    async def _get(self, url: str, headers: dict[str, str] | None = None) -> FetchResult:
        """One URL, no redirects, with retries; the body is read within the size cap."""
        host = host_of(url) or ""
        bad_address = await self._address_ok(url)
        if bad_address:
            return FetchResult(url, url, reason=bad_address)
        attempts = 0

        async def attempt() -> FetchResult:
            nonlocal attempts
            attempts += 1
            result = FetchResult(url, url, attempts=attempts)
            async with self._sem(host):
                wait = self.p.reserve(host)
                if wait > 0:
                    await asyncio.sleep(wait)
                try:
                    return await self._request(url, headers or {}, result)
                except httpx.TimeoutException:
                    result.reason = "timeout"
                except httpx.InvalidURL as exc:  # no HTTPError: a redirect to "javascript:…"
                    result.reason = f"invalid_url: {exc}"
                except httpx.HTTPError as exc:
                    result.reason = f"connection_error: {type(exc).__name__}: {exc}".rstrip(": ")
            return result

        retrying = AsyncRetrying(
            retry=retry_if_result(_transient),
            stop=stop_after_attempt(self.s.max_retries + 1) | _ServerAsksTooLong(self.s.max_retry_after_seconds),
            wait=_backoff, sleep=asyncio.sleep, retry_error_callback=_last_result)
        result: FetchResult = await retrying(attempt)
        if result.reason is None and result.status is not None and result.status >= 400:
            result.reason = f"http_{result.status}"
        return result

    async def _request(self, url: str, headers: dict[str, str], result: FetchResult) -> FetchResult:
        started = datetime.now(UTC)
        archive = self.p.archive
        raw: list[bytes] = []  # the body as received, kept only for the archive
        truncated: str | None = None  # why the archived body is incomplete (WARC-Truncated)
        async with self._client(host_of(url) or "").stream("GET", url, headers=headers) as response:
            result.status = response.status_code
            result.headers = {k.lower(): v for k, v in response.headers.items()}
            result.fetched_at = datetime.now(UTC)
            stream = response.extensions.get("network_stream")
            peer = stream.get_extra_info("server_addr") if stream is not None else None
            if not self.s.allow_private_addresses and (peer is None or not is_public_address(str(peer[0]))):
                # The address actually connected to: a DNS answer that changed since the
                # check in _address_ok (DNS rebinding) is caught here, before any body is read.
                result.reason = f"private_address: connected to {peer[0] if peer else 'unknown address'}"
                return result
            decoder = _Decoder(result.headers.get("content-encoding", ""), self.s.max_body_bytes)
            if response.status_code >= 300 or decoder.error:
                result.reason = None if response.status_code >= 300 else decoder.error
                # Read even when not archived: only a response read to its end leaves its
                # connection usable for the next request (redirects, robots.txt 404s, ...).
                limit = self.s.max_body_bytes if archive is not None else DRAIN_BYTES
                truncated = await _read_raw(response, raw, limit)
            else:
                async for chunk in response.aiter_raw():
                    if archive is not None:
                        raw.append(chunk)
                    if not decoder.feed(chunk):
                        break
                if not decoder.error:
                    decoder.finish()
                if decoder.error:
                    result.reason = decoder.error
                    truncated = "length" if decoder.error.startswith("too_large") else None
                else:
                    result.body = decoder.body()
                    result.fetched_at = datetime.now(UTC)
        if archive is not None:
            body = result.body if result.body and not decoder.inflaters else b"".join(raw)
            try:
                result.archived = archive.write_exchange(_exchange(url, response, body, started, peer, truncated))
            except OSError as exc:
                result.reason = result.reason or f"archive_error: {exc}"
        return result


async def _read_raw(response: httpx.Response, chunks: list[bytes], limit: int) -> str | None:
    """Read a body the pipeline does not use (an error page, an unsupported encoding), up to
    ``limit`` bytes; why it was cut, if it was. Never raises: the fetch's outcome is the
    status already received."""
    size = 0
    try:
        async for chunk in response.aiter_raw():
            size += len(chunk)
            if size > limit:
                return "length"
            chunks.append(chunk)
    except httpx.HTTPError:
        return "disconnect"
    return None


def _exchange(url: str, response: httpx.Response, body: bytes, started: datetime, peer: Any,
              truncated: str | None) -> Exchange:
    def pairs(headers: httpx.Headers) -> list[tuple[str, str]]:
        return [(k.decode("latin-1"), v.decode("latin-1")) for k, v in headers.raw]

    return Exchange(url, response.request.url.raw_path.decode("ascii"), pairs(response.request.headers),
                    response.http_version, response.status_code, response.reason_phrase, pairs(response.headers),
                    body, started, str(peer[0]) if peer else None, truncated)


class _Decoder:
    """Content-Encoding decoding with the size cap applied to the decoded bytes, a bounded
    step at a time: a gzip bomb is cut off after ``limit`` bytes, never expanded whole.
    (httpx decodes each network chunk in full, and one 64 KiB chunk can expand to 64 MB.)"""

    STEP = 1 << 20

    def __init__(self, encoding: str, limit: int) -> None:
        self.limit = limit
        self.size = 0
        self.chunks: list[bytes] = []
        self.error: str | None = None
        codings = [c.strip().lower() for c in encoding.split(",") if c.strip() and c.strip() != "identity"]
        self.inflaters: list[zlib._Decompress] = []
        for coding in codings:
            if coding in ("gzip", "x-gzip"):
                self.inflaters.append(zlib.decompressobj(16 + zlib.MAX_WBITS))
            elif coding == "deflate":
                self.inflaters.append(zlib.decompressobj())
            else:
                self.error = f"unsupported_encoding: {coding}"

    def _add(self, data: bytes) -> bool:
        self.size += len(data)
        if self.size > self.limit:
            self.error = f"too_large: body over {self.limit} bytes"
            return False
        self.chunks.append(data)
        return True

    def feed(self, raw: bytes) -> bool:
        if not self.inflaters:
            return self._add(raw)
        if len(self.inflaters) > 1:
            self.error = "unsupported_encoding: stacked content encodings"
            return False
        inflater = self.inflaters[0]
        data = raw
        try:
            while data:
                out = inflater.decompress(data, self.STEP)
                if out and not self._add(out):
                    return False
                data = inflater.unconsumed_tail
        except zlib.error as exc:
            self.error = f"bad_encoding: {exc}"
            return False
        return True

    def finish(self) -> None:
        if self.inflaters:
            try:
                rest = self.inflaters[0].flush()
            except zlib.error as exc:
                self.error = f"bad_encoding: {exc}"
                return
            if rest:
                self._add(rest)

    def body(self) -> bytes:
        return b"".join(self.chunks)


def inflate(data: bytes, encoding: str, limit: int) -> bytes:
    """A whole compressed document (e.g. a ``.xml.gz`` sitemap served as a file), decoded
    with the same bounds as a response body; raises ValueError when it cannot be."""
    decoder = _Decoder(encoding, limit)
    if decoder.feed(data):
        decoder.finish()
    if decoder.error:
        raise ValueError(decoder.error)
    return decoder.body()


def _check_response(result: FetchResult, expect: str) -> str | None:
    if expect == "html":
        ctype = result.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype and ctype not in HTML_TYPES:
            return f"not_html: content-type {ctype}"
    if not result.body.strip():
        return "empty_body"
    return None


async def _get_all(fetcher: Fetcher, urls: Iterable[str], expect: str,
                   validators: Mapping[str, Validators] | None,
                   on_result: Callable[[FetchResult], None] | None) -> list[FetchResult]:
    validators = validators or {}

    async def get(url: str) -> FetchResult:
        result = await fetcher.get(url, expect, validators.get(url))
        if on_result is not None:
            on_result(result)
        return result

    return list(await asyncio.gather(*(get(u) for u in urls)))


async def fetch_all(
    urls: Iterable[str],
    politeness: Politeness,
    domains: list[str],
    expect: str = "html",
    validators: Mapping[str, Validators] | None = None,
    on_result: Callable[[FetchResult], None] | None = None,
) -> list[FetchResult]:
    """Fetch many URLs concurrently; per-host limits keep it polite. Order is kept.
    ``on_result`` is called with each result as it completes (live progress)."""
    async with Fetcher(politeness, domains) as fetcher:
        return await _get_all(fetcher, urls, expect, validators, on_result)


class FetchSession:
    """``fetch_all`` for every batch of a run through one Fetcher, on an event loop in a
    thread of its own, until ``close``.

    A batch holds only a few pages per host: kept for the run, each host's pool reuses its
    keep-alive connections from batch to batch instead of connecting (and shaking hands for
    TLS) for nearly every request. The loop's own thread also spares the caller
    ``asyncio.run``'s per-call set-up (a SIGINT handler in the main thread)."""

    def __init__(self, politeness: Politeness, domains: list[str]) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="fetch-loop", daemon=True)
        self._thread.start()
        self._fetcher = Fetcher(politeness, domains)

    def fetch_all(self, urls: Iterable[str], expect: str = "html",
                  validators: Mapping[str, Validators] | None = None,
                  on_result: Callable[[FetchResult], None] | None = None) -> list[FetchResult]:
        future = asyncio.run_coroutine_threadsafe(_get_all(self._fetcher, urls, expect, validators, on_result),
                                                  self._loop)
        try:
            return future.result()
        except BaseException:  # interrupted (KeyboardInterrupt, a cancelled run): stop the batch's requests
            future.cancel()
            raise

    def close(self) -> None:
        """Close the connections and stop the loop (idempotent)."""
        if self._loop.is_closed():
            return
        asyncio.run_coroutine_threadsafe(self._fetcher.__aexit__(), self._loop).result()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()
