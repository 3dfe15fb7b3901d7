"""A web archive's CDX API and raw captures (the Wayback Machine, or any archive serving
the same API: pywb, OpenWayback), politely, with the answers cached in the dataset.

- Queries: ``output=json``, ``filter=statuscode:200``, ``collapse=digest``, ``from``/``to``,
  read a page of ``limit`` rows at a time with the API's resume key (``showResumeKey=true``,
  then ``resumeKey``), so that a URL with 100,000 captures never sits in memory whole.
- Politeness: the archive is one host with its own rate (default one request a second),
  whatever the dossier's sites allow; 429 and 5xx answers are retried, ``Retry-After``
  honoured (a wait longer than ``max_retry_after_seconds`` is an error, not a stall).
- Cache: the captures of each queried span are kept under ``<dossier>/cdx/`` once the
  query completed, so that a rerun queries only the part of a period it has not queried
  yet (a period still going on: from where the last run stopped); listing captures are
  kept by their digest, the lookups of article captures by their question.
- Captures are read raw (``/web/<timestamp>id_/<url>``): the bytes the site served, no
  archive banner, no rewritten links. An archive page that is not a capture (an HTTP
  error, or a 200 without ``Memento-Datetime``) is a failure, never a page.

Written by hand: no maintained Python client does CDX paging with resume keys, politeness
and a persistent cache (waybackpy and cdx_toolkit hold results in memory and cache nothing).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import random
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import PurePosixPath
from typing import Any, NamedTuple

import httpx
import pyarrow.fs as pafs

from dossier_pipeline.tasks.archive import ArchiveWriter
from dossier_pipeline.tasks.config import Settings
from dossier_pipeline.tasks.fetch import RETRY_STATUSES, FetchResult, _exchange, inflate, retry_after_seconds

CDX_PATH = "/cdx/search/cdx"
CDX_FIELDS = ("urlkey", "timestamp", "original", "mimetype", "statuscode", "digest", "length")
PAGE_ROWS = 5000  # rows per CDX request: the archive's own default page size
TS = "%Y%m%d%H%M%S"
MAX_ARCHIVE_REDIRECTS = 5


class ArchiveError(Exception):
    """The archive could not answer (after retries); the message names the query."""


class Capture(NamedTuple):
    """One CDX row."""

    urlkey: str
    timestamp: str  # 14 digits, UTC
    original: str
    mimetype: str
    statuscode: str
    digest: str
    length: str

    @property
    def captured_at(self) -> datetime:
        return parse_timestamp(self.timestamp)


def parse_timestamp(value: str) -> datetime:
    return datetime.strptime(value.ljust(14, "0")[:14], TS).replace(tzinfo=UTC)


def timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(TS)


def _shift(value: str, seconds: int) -> str:
    return timestamp(parse_timestamp(value) + timedelta(seconds=seconds))


def uncovered(spans: list[tuple[str, str]], start: str, end: str) -> list[tuple[str, str]]:
    """The parts of [start, end] (14-digit timestamps, both included) no span covers."""
    gaps, cursor = [], start
    for first, last in sorted(spans):
        if last < cursor:
            continue
        if first > end:
            break
        if first > cursor:
            gaps.append((cursor, _shift(first, -1)))
        cursor = _shift(last, 1)
        if cursor > end:
            return gaps
    if cursor <= end:
        gaps.append((cursor, end))
    return gaps


@dataclass
class ArchivedResult(FetchResult):
    """A page read from a web archive instead of the site; ``live`` is the live fetch that
    failed first, when there was one."""

    archive_url: str | None = None  # None: a record of a WARC file (tasks/warcfiles.py)
    captured_at: datetime | None = None
    live: FetchResult | None = None


class CdxCache:
    """The CDX answers of a dossier, under ``<dossier>/cdx/`` in the dataset's filesystem."""

    def __init__(self, fs: pafs.FileSystem, base: str, local: bool) -> None:
        self.fs, self.base, self.local = fs, base.rstrip("/"), local

    def _path(self, *parts: str) -> str:
        return str(PurePosixPath(self.base, *parts))

    def _exists(self, path: str) -> bool:
        return bool(self.fs.get_file_info(path).type == pafs.FileType.File)

    def _write(self, path: str, lines: Iterator[bytes]) -> int:
        """Stream ``lines`` into ``path``, whole or not at all; returns how many."""
        self.fs.create_dir(str(PurePosixPath(path).parent), recursive=True)
        tmp = str(PurePosixPath(path).with_name(f".{PurePosixPath(path).name}.{uuid.uuid4().hex}.tmp"))
        count = 0
        try:
            with self.fs.open_output_stream(tmp if self.local else path, compression="gzip") as out:
                for line in lines:
                    out.write(line)
                    count += 1
        except BaseException:
            self.fs.delete_file(tmp if self.local else path)
            raise
        if self.local:
            self.fs.move(tmp, path)
        return count

    def spans(self, key: str) -> list[tuple[str, str]]:
        selector = pafs.FileSelector(self._path("queries", key), allow_not_found=True)
        names = [i.base_name.removesuffix(".jsonl.gz") for i in self.fs.get_file_info(selector)
                 if i.base_name.endswith(".jsonl.gz") and not i.base_name.startswith(".")]
        return sorted((n[:14], n[15:]) for n in names)

    def span_rows(self, key: str, span: tuple[str, str]) -> Iterator[Capture]:
        with self.fs.open_input_stream(self._path("queries", key, f"{span[0]}-{span[1]}.jsonl.gz"),
                                       compression="gzip") as f:
            rest = b""
            while chunk := f.read(1 << 20):  # a span may hold 100,000 rows: never all of them at once
                *lines, rest = (rest + chunk).split(b"\n")
                yield from (Capture(*json.loads(line)) for line in lines if line)
            if rest.strip():
                yield Capture(*json.loads(rest))

    def save_span(self, key: str, span: tuple[str, str], rows: Iterator[Capture]) -> int:
        return self._write(self._path("queries", key, f"{span[0]}-{span[1]}.jsonl.gz"),
                           (json.dumps(list(r)).encode() + b"\n" for r in rows))

    def read_json(self, *parts: str) -> Any:
        path = self._path(*parts)
        if not self._exists(path):
            return None
        with self.fs.open_input_stream(path) as f:
            return json.loads(f.read())

    def write_json(self, data: Any, *parts: str) -> None:
        path = self._path(*parts)
        self.fs.create_dir(str(PurePosixPath(path).parent), recursive=True)
        with self.fs.open_output_stream(path) as out:
            out.write(json.dumps(data).encode())

    def body(self, digest: str) -> bytes | None:
        path = self._path("bodies", f"{digest}.gz")
        if not self._exists(path):
            return None
        with self.fs.open_input_stream(path, compression="gzip") as f:
            body: bytes = f.read()
        return body

    def save_body(self, digest: str, body: bytes) -> None:
        self._write(self._path("bodies", f"{digest}.gz"), iter([body]))


class ArchiveClient:
    """One web archive, for one run: its CDX API and its raw captures (thread-safe)."""

    def __init__(self, base: str, settings: Settings, requests_per_second: float, cache: CdxCache,
                 archive: ArchiveWriter | None = None, page_rows: int = PAGE_ROWS) -> None:
        self.base = base.rstrip("/")
        self.settings = settings
        self.interval = 1.0 / requests_per_second
        self.cache = cache
        self.archive = archive  # the run's WARC archive: every capture read is kept there too
        self.page_rows = page_rows
        self.requests = 0  # requests sent to the archive (retries included)
        self._lock = threading.Lock()
        self._next_slot = 0.0
        self._client = httpx.Client(headers={"User-Agent": settings.user_agent, "Accept-Encoding": "gzip, deflate"},
                                    timeout=httpx.Timeout(settings.timeout_seconds), follow_redirects=False)

    def close(self) -> None:
        self._client.close()

    # -- HTTP --------------------------------------------------------------------------
    def _wait_turn(self) -> None:
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next_slot)
            self._next_slot = slot + self.interval
            self.requests += 1
        if slot > now:
            time.sleep(slot - now)

    def _get(self, url: str, params: dict[str, Any] | None = None) -> tuple[httpx.Response, bytes, datetime]:
        """GET with the archive's rate and retries; the body as received, within the size cap."""
        what = f"{url}?{httpx.QueryParams(params or {})}" if params else url
        for attempt in range(self.settings.max_retries + 1):
            self._wait_turn()
            started = datetime.now(UTC)
            try:
                with self._client.stream("GET", url, params=params) as response:
                    raw, size = [], 0
                    for chunk in response.iter_raw():
                        size += len(chunk)
                        if size > self.settings.max_body_bytes:
                            raise ArchiveError(f"{what}: body over {self.settings.max_body_bytes} bytes")
                        raw.append(chunk)
                error = f"http {response.status_code}"
            except httpx.HTTPError as exc:
                response, error = None, f"{type(exc).__name__}: {exc}"
            if response is not None and response.status_code not in RETRY_STATUSES:
                return response, b"".join(raw), started
            if attempt == self.settings.max_retries:
                break
            wait = retry_after_seconds(response.headers.get("retry-after")) if response is not None else None
            if wait is not None and wait > self.settings.max_retry_after_seconds:
                raise ArchiveError(f"{what}: the archive asks to wait {wait:g} s (Retry-After), over "
                                   f"max_retry_after_seconds = {self.settings.max_retry_after_seconds:g}")
            time.sleep(max(wait or 0.0, min(30.0, 0.5 * 2**attempt) * (0.5 + random.random())))
        raise ArchiveError(f"{what}: {error} after {self.settings.max_retries + 1} attempt(s)")

    # -- CDX ---------------------------------------------------------------------------
    def _pages(self, url: str, start: str, end: str, limit: int | None = None) -> Iterator[Capture]:
        """Captures of ``url`` in [start, end] from the archive, a page of rows at a time."""
        params: dict[str, Any] = {"url": url, "output": "json", "filter": "statuscode:200", "collapse": "digest",
                                  "from": start, "to": end}
        if limit is not None:
            params["limit"] = limit
        else:
            params.update(limit=self.page_rows, showResumeKey="true")
        last_digest = None
        while True:
            response, body, _ = self._get(self.base + CDX_PATH, params)
            if response.status_code != 200:
                raise ArchiveError(f"{url}: CDX query answered http {response.status_code}")
            text = inflate(body, response.headers.get("content-encoding", ""), 1 << 30).strip()
            try:
                rows = json.loads(text) if text else []
            except ValueError:
                raise ArchiveError(f"{url}: CDX answer is not JSON (output=json): {text[:80]!r}") from None
            resume = None
            if len(rows) >= 2 and rows[-2] == [] and len(rows[-1]) == 1:  # [..., [], [resume key]]
                resume, rows = rows[-1][0], rows[:-2]
            if rows and rows[0] and rows[0][0] == "urlkey":
                header, rows = rows[0], rows[1:]
                index = [header.index(f) for f in CDX_FIELDS]
            else:
                index = list(range(len(CDX_FIELDS)))
            for row in rows:
                if not row:
                    continue
                capture = Capture(*(row[i] for i in index))
                if capture.digest != last_digest:  # collapse holds within a page: also across pages
                    yield capture
                last_digest = capture.digest
            del rows
            if limit is not None or resume is None:
                return
            params["resumeKey"] = resume

    def captures(self, url: str, since: datetime | None, until: datetime | None) -> Iterator[Capture]:
        """The captures of ``url`` in the period, oldest first; only the spans of it no
        earlier run queried are asked for (the period is capped at now)."""
        now = timestamp(datetime.now(UTC))
        start = timestamp(since) if since else "19960101000000"
        end = min(timestamp(until), now) if until else now
        key = hashlib.sha256(f"{self.base} {url} statuscode:200 digest".encode()).hexdigest()[:32]
        for gap in uncovered(self.cache.spans(key), start, end):
            self.cache.save_span(key, gap, self._pages(url, *gap))
        for span in self.cache.spans(key):
            if span[1] >= start and span[0] <= end:
                yield from (c for c in self.cache.span_rows(key, span) if start <= c.timestamp <= end)

    def nearest_after(self, url: str, moment: str) -> Capture | None:
        """The capture of ``url`` nearest after ``moment``, else the last one before it."""
        key = hashlib.sha256(f"{self.base} {url} {moment}".encode()).hexdigest()[:32]
        cached = self.cache.read_json("lookups", f"{key}.json")
        if cached is not None:
            return Capture(*cached["capture"]) if cached["capture"] else None
        found = next(self._pages(url, moment, timestamp(datetime.now(UTC)), limit=1), None)
        if found is None:
            found = next(self._pages(url, "19960101000000", moment, limit=-1), None)
        self.cache.write_json({"url": url, "after": moment, "capture": list(found) if found else None},
                              "lookups", f"{key}.json")
        return found

    # -- captures ----------------------------------------------------------------------
    def raw_url(self, capture: Capture) -> str:
        return f"{self.base}/web/{capture.timestamp}id_/{capture.original}"

    def replay(self, capture: Capture, url: str | None = None) -> ArchivedResult:
        """A capture's bytes as the site served them; a failure (``reason``) when the archive
        answers with anything but a capture."""
        target = self.raw_url(capture)
        result = ArchivedResult(url or capture.original, capture.original, archive_url=target,
                                captured_at=capture.captured_at)
        try:
            for _ in range(MAX_ARCHIVE_REDIRECTS + 1):
                response, raw, started = self._get(target)
                location = response.headers.get("location")
                if response.is_redirect and location and httpx.URL(target).join(location).host == httpx.URL(
                        self.base).host:
                    target = str(httpx.URL(target).join(location))  # the archive's nearest timestamp
                    continue
                break
        except ArchiveError as exc:
            result.reason = f"archive_error: {exc}"
            return result
        result.archive_url = target
        result.status, result.fetched_at = response.status_code, datetime.now(UTC)
        result.headers = {k.lower(): v for k, v in response.headers.items()}
        for name in ("etag", "last-modified"):  # the site's own validators, as the archive keeps them
            result.headers.pop(name, None)
            if (original := result.headers.get(f"x-archive-orig-{name}")) is not None:
                result.headers[name] = original
        if self.archive is not None:
            result.archived = self.archive.write_exchange(_exchange(target, response, raw, started, None, None))
        if response.status_code != 200 or "memento-datetime" not in result.headers:
            what = f"http {response.status_code}" if response.status_code != 200 else "no Memento-Datetime"
            result.reason = f"archive_error_page: {target} is the archive's own page, not a capture ({what})"
            return result
        try:
            result.body = inflate(raw, result.headers.get("content-encoding", ""), self.settings.max_body_bytes)
        except ValueError as exc:
            result.reason = f"archive_error: {target}: {exc}"
        if (when := result.headers.get("memento-datetime")) is not None:
            with contextlib.suppress(TypeError, ValueError):
                result.captured_at = parsedate_to_datetime(when).astimezone(UTC)
        return result
