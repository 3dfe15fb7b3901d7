"""Source kind ``warc``: the dossier's articles in WARC files (your own crawls, Common
Crawl's CC-NEWS, anyone's), local, in S3 or over HTTP (fsspec).

Each file is read front to back as a stream (warcio's ArchiveIterator over the open file:
one record in memory at a time, never the whole file); the HTTP 200 HTML responses of the
dossier's hosts whose URL matches ``url_pattern`` and that the dataset does not hold yet
become pages, extracted as fetched pages are and committed by the same committer. An
article is kept when it was published in the source's period, by its own publication date
(not the file's), and mentions one of the ``keywords`` (``RowFilter``). A file cut short (a
truncated download, a killed crawler) yields the records before the cut, and the cut is
recorded in the run record's source failures.

An article the dataset holds live is the live row (the files are read after the live
pages); its record in a file is read only when captured before the live fetch with other
bytes (``raw_sha256``): the committer then compares the two and an older version with
other content becomes an edit row (tasks/commit.py earlier_version). What earlier runs
settled for good is not read again (``settled_records``): the records so compared, and, in
a backfill's window, those a completed window of the same backfill found published outside
this one: a backfill over many windows extracts each record about once, not once a window.

``WarcFiles`` is the ``PageSource`` (a file a batch, or a batch of its pages when it holds
more: the run's process pool extracts them); on a Dask cluster a worker reads and extracts
a whole file, a chunk of pages at a time (tasks/distributed.py extract_file_staged), so that
the cluster reads many files at once.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections import defaultdict, deque
from collections.abc import Collection, Generator, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import IO

import fsspec
import pyarrow.compute as pc
from warcio.archiveiterator import ArchiveIterator
from warcio.recordloader import ArcWarcRecord
from warcio.timeutils import iso_date_to_datetime

from dossier_pipeline.tasks.archive import WarcPointer
from dossier_pipeline.tasks.cdx import ArchivedResult
from dossier_pipeline.tasks.config import Dossier, WarcSource
from dossier_pipeline.tasks.discover import DiscoveredURL, found
from dossier_pipeline.tasks.extract import Page
from dossier_pipeline.tasks.fetch import HTML_TYPES, FetchResult
from dossier_pipeline.tasks.ledger import Ledger
from dossier_pipeline.tasks.schema import UrlState
from dossier_pipeline.tasks.sources import Fetched, RowFilter, page_for
from dossier_pipeline.tasks.store import Store
from dossier_pipeline.tasks.urls import in_domains
from dossier_pipeline.tasks.windows import Window, outside_too

SOURCE_KIND = "warc"
CHUNK = 32  # pages a Dask worker extracts together: bounds the bodies it holds per file
GLOB = re.compile(r"[*?[]")  # a glob pattern's characters
BLOCK = 8 << 20  # bytes read ahead from a remote file (s3fs reads 50 MB blocks by default)
LiveVersions = Mapping[str, tuple[datetime, str | None]]  # URL -> fetched_at, raw_sha256 of the live row


class WarcPathError(Exception):
    """A path that cannot be read; the message is one line for the user."""


@dataclass(frozen=True)
class FileSpec:
    """One file of a warc source and what its reader keeps (plain data: it crosses to Dask workers)."""

    path: str
    hosts: tuple[str, ...]
    url_pattern: str | None
    rows: RowFilter
    stored: frozenset[str] = frozenset()  # URLs the dataset holds: not extracted again
    max_body_bytes: int = 10_000_000
    live: LiveVersions = field(default_factory=dict)  # the live rows: an older copy with other bytes is read
    settled: frozenset[str] = frozenset()  # this file's URLs earlier runs settled for good (settled_records)


@dataclass
class FileRead:
    """What reading a file found."""

    records: int = 0  # HTTP response records read
    kept: int = 0  # of the dossier's hosts, turned into pages
    stored: int = 0  # of the dossier's hosts, already in the dataset (or settled for good)
    cut: str | None = None  # where and why the file ended early


def s3_credentials(path: str) -> None:
    """One clear line when no AWS credentials are configured (the SDK's own error is a
    page of retries, or an anonymous Access Denied)."""
    import botocore.session  # local import: S3 users only

    if botocore.session.get_session().get_credentials() is None:
        raise WarcPathError(f"{path}: no AWS credentials for s3:// (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
                            "or AWS_PROFILE; CC-NEWS is also served over https://data.commoncrawl.org/)")


def expand(paths: list[str]) -> tuple[list[str], list[dict[str, str]]]:
    """The files the source's paths name (glob patterns expanded by fsspec), and a failure
    per path that names none or cannot be listed."""
    files: list[str] = []
    failures: list[dict[str, str]] = []
    for path in paths:
        try:
            matches = _expand(path)
        except WarcPathError as exc:
            failures.append({"source_url": path, "reason": f"warc_path: {exc}"})
            continue
        except Exception as exc:  # fsspec's backends raise their own errors (botocore's, aiohttp's)
            failures.append({"source_url": path, "reason": f"warc_path: {path}: {type(exc).__name__}: "
                             + " ".join(str(exc).split())})
            continue
        if not matches:
            failures.append({"source_url": path, "reason": f"warc_path: {path}: no file matches"})
        files += [m for m in matches if m not in files]
    return files, failures


def _expand(path: str) -> list[str]:
    if path.startswith(("http://", "https://")):
        return [path]  # (HTTP has no listing to glob)
    if path.startswith("s3://"):
        s3_credentials(path)
    fs, inner = fsspec.core.url_to_fs(path)
    local = "file" in fs.protocol
    names = sorted(fs.glob(inner)) if GLOB.search(inner) else [inner] if fs.isfile(inner) else []
    return [name if local else fs.unstrip_protocol(name) for name in names if fs.isfile(name)]


def open_path(path: str) -> IO[bytes]:
    """A WARC file as a stream read front to back (fsspec: a block at a time, never whole)."""
    if path.startswith("s3://"):
        s3_credentials(path)
    fs, inner = fsspec.core.url_to_fs(path)
    # over HTTP, block_size 0 is fsspec's plain stream: no Range requests, which not every server honours
    block = 0 if path.startswith(("http://", "https://")) else BLOCK
    stream: IO[bytes] = fs.open(inner, "rb", block_size=block, cache_type="readahead")
    return stream


class _Cut(Exception):
    """The file ends inside a record."""


def records(spec: FileSpec, read: FileRead) -> Iterator[tuple[DiscoveredURL, ArchivedResult]]:
    """The response records of the dossier, as a fetch would have had them. warcio reads a
    file cut short without an error, so each record's end is checked: a record shorter than
    its Content-Length, or bytes after the last whole record, are the cut."""
    pattern = re.compile(spec.url_pattern) if spec.url_pattern else None
    end = 0
    try:
        opened = open_path(spec.path)
    except WarcPathError as exc:
        read.cut = f"warc_path: {exc}"
        return
    except Exception as exc:  # fsspec's backends raise their own errors (aiohttp's, botocore's)
        read.cut = f"warc_path: {spec.path}: cannot open: {type(exc).__name__}: " + " ".join(str(exc).split())
        return
    try:
        with opened as stream:
            iterator = ArchiveIterator(stream)
            for record in iterator:
                taken = _take(record, spec, pattern, read)
                offset = iterator.get_record_offset()
                length = iterator.get_record_length()  # (warcio reads the rest of the record for it)
                if getattr(record.raw_stream, "limit", 0):
                    raise _Cut(f"the record at byte {offset} is cut")
                end = offset + length
                if taken is not None:
                    item, result = taken
                    result.archived = WarcPointer(spec.path, record.rec_headers.get_header("WARC-Record-ID"), offset)
                    read.kept += 1
                    yield item, result
            if stream.tell() > end:
                raise _Cut(f"a partial record after byte {end}")
    except Exception as exc:  # a cut, or warcio/zlib/the network failing: the records read so far are kept
        detail = str(exc) if isinstance(exc, _Cut) else f"after byte {end}: {type(exc).__name__}: {exc}"
        read.cut = f"truncated_warc: {spec.path}: " + " ".join(detail.split())


def _take(record: ArcWarcRecord, spec: FileSpec, pattern: re.Pattern[str] | None,
          read: FileRead) -> tuple[DiscoveredURL, ArchivedResult] | None:
    """A response record of the dossier's hosts, not in the dataset yet, with its body."""
    if record.rec_type != "response" or record.http_headers is None:
        return None
    read.records += 1
    uri = record.rec_headers.get_header("WARC-Target-URI") or ""
    item = found(uri, SOURCE_KIND, spec.path)
    ctype = (record.http_headers.get_header("Content-Type") or "").split(";")[0].strip().lower()
    if (item is None or not in_domains(item.url, list(spec.hosts)) or (pattern and not pattern.search(uri))
            or record.http_headers.get_statuscode() != "200" or (ctype and ctype not in HTML_TYPES)):
        return None
    when = iso_date_to_datetime(record.rec_headers.get_header("WARC-Date")).replace(tzinfo=UTC)
    live = spec.live.get(item.url)
    earlier = live is not None and when < live[0]  # maybe an earlier version of the live row
    if item.url in spec.settled or (item.url in spec.stored and not earlier):
        read.stored += 1
        return None
    if (body := _read(record.content_stream(), spec.max_body_bytes)) is None:
        return None
    if earlier and live is not None and hashlib.sha256(body).hexdigest() == live[1]:  # the live bytes
        read.stored += 1
        return None
    headers = {k.lower(): v for k, v in record.http_headers.headers}
    # archive_url None: the row points at the file's record (warc_file …), archive_captured_at is its WARC-Date
    return item, ArchivedResult(uri, uri, 200, headers, body, when, archive_url=None, captured_at=when)


def _read(stream: IO[bytes], limit: int) -> bytes | None:
    """A record's payload, None when over ``limit`` bytes."""
    chunks, size = [], 0
    while chunk := stream.read(1 << 16):
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


Items = dict[int, tuple[DiscoveredURL, FetchResult]]


def file_pages(spec: FileSpec, dossier: Dossier, run_id: str, read: FileRead,
               chunk: int) -> Generator[tuple[list[Page], Items, bool]]:
    """A file's pages, ``chunk`` at a time, with the URL each settles (bodies only in the
    pages), and whether they are the file's last (then possibly none)."""
    pages: list[Page] = []
    items: Items = {}
    for key, (item, result) in enumerate(records(spec, read)):
        if len(pages) >= chunk:  # (yielded once the next record is there: the last chunk says so)
            yield pages, items, False
            pages, items = [], {}
        pages.append(page_for(dossier, run_id, key, item, result))
        result.body = b""  # the page holds it
        items[key] = (item, result)
    yield pages, items, True


Reading = tuple[Generator[tuple[list[Page], Items, bool]], FileRead]


class WarcFiles:
    """Pages from the files of the dossier's ``warc`` sources: a file a batch, or a batch of
    a file's pages when it holds more (the file is read on from there by the next batch)."""

    step = "warc"

    def __init__(self, run_id: str, dossier: Dossier, ledger: Ledger, durations: defaultdict[str, float], *,
                 known: Collection[str], refresh: bool, live: LiveVersions | None = None,
                 settled: Mapping[str, frozenset[str]] | None = None,
                 gone: Mapping[str, FetchResult] | None = None) -> None:
        self.run_id = run_id
        self.dossier = dossier
        self.ledger = ledger
        self.durations = durations
        self.stored = frozenset() if refresh else frozenset(known)  # a refresh reads them again
        self.live = live or {}
        self.settled = settled or {}
        self.gone = gone or {}  # URL -> the live 404/410 of it in this run: a copy here is taken down
        self.refresh = refresh
        self.queue: deque[FileSpec] = deque()
        self.size = CHUNK  # pages a batch (the run's batch size, from ``take``)
        self.reading: dict[str, Reading] = {}  # the files read part of the way

    def scan(self) -> deque[FileSpec]:
        """A work item per file of the dossier's warc sources; paths that name no readable
        file are source failures."""
        domains = self.dossier.domains
        # the URLs this run settled already (its live pages: the live version wins) are passed over too
        stored = self.stored | {url for _, url in self.ledger.settled}
        for source in self.dossier.sources:
            if isinstance(source, WarcSource):
                files, failures = expand(source.paths)
                self.ledger.discovery.failures += failures
                self.queue += [spec_for(source, path, domains, stored, self.dossier.settings.max_body_bytes,
                                        self.live, self.settled.get(path, frozenset())) for path in files]
        self.ledger.counts["warc_files"] += len(self.queue)
        return self.queue

    def take(self, queue: deque[FileSpec], size: int) -> list[FileSpec]:
        self.size = size
        return [queue.popleft()]

    def pages(self, batch: list[FileSpec]) -> Fetched:
        """The file's next pages (the dossier's only: the rest of the file is read past), at
        most a batch: a file with more goes back to the front of the queue, and is read on."""
        started = time.monotonic()
        [spec] = batch
        if spec.path not in self.reading:
            read = FileRead()
            self.reading[spec.path] = (file_pages(spec, self.dossier, self.run_id, read, self.size), read)
        chunks, read = self.reading[spec.path]
        pages, items, last = next(chunks)
        if last:
            del self.reading[spec.path]
        else:
            self.queue.appendleft(spec)
        self.durations["warc"] += time.monotonic() - started
        return self.fetched(spec, read if last else None, pages, items)

    def fetched(self, spec: FileSpec, read: FileRead | None, pages: list[Page], items: Items) -> Fetched:
        """Count a batch of a file's pages (read here or on a Dask worker) and, with ``read``
        (the file done), its records and its cut."""
        self.ledger.counts["discovered"] += len(items)  # (a record of the dossier is its source's URL)
        for item, result in items.values():
            if isinstance(result, ArchivedResult) and item.url in self.gone:
                result.live = self.gone[item.url]  # the commit records the takedown
        self.ledger.counts["fetched"] += len(items)
        if read is not None:
            self.ledger.counts["warc_records"] += read.records
            if read.cut:
                self.ledger.discovery.failures.append({"source_url": spec.path, "reason": read.cut})
        return Fetched(pages, items, self.refresh, [], self.run_id, rows=spec.rows)

    def source_runs(self) -> None:
        return None

    def archive_requests(self) -> int:
        return 0

    def close(self) -> None:
        """Close the files read part of the way (a run stopped early)."""
        for chunks, _ in self.reading.values():
            chunks.close()
        self.reading.clear()


def spec_for(source: WarcSource, path: str, domains: list[str], stored: frozenset[str],
             max_body_bytes: int, live: LiveVersions, settled: frozenset[str]) -> FileSpec:
    hosts = tuple(h.lower().lstrip(".") for h in source.hosts) or tuple(domains)
    period = Window(source.since or date.min, source.until or date.max) if source.since or source.until else None
    return FileSpec(path, hosts, source.url_pattern, RowFilter(period, tuple(source.keywords)), stored, max_body_bytes,
                    live, settled)


def live_versions(store: Store) -> dict[str, tuple[datetime, str | None]]:
    """URL (url, final and canonical URL) -> fetched_at and raw_sha256 of the dataset's live
    rows (not read from an archive): a file's record of one is an earlier version only when
    captured before that fetch, with other bytes."""
    table = store.read_articles(["url", "final_url", "canonical_url", "fetched_at", "raw_sha256",
                                 "archive_captured_at"])
    versions: dict[str, tuple[datetime, str | None]] = {}
    for row in table.filter(table["archive_captured_at"].is_null()).to_pylist():
        for key in ("url", "final_url", "canonical_url"):
            if row[key]:
                versions.setdefault(row[key], (row["fetched_at"], row["raw_sha256"]))
    return versions


def settled_records(store: Store, window: Window | None, window_runs: Collection[str]) -> dict[str, frozenset[str]]:
    """File -> the URLs of its records that earlier runs settled for good, not read again:
    those compared with the article's live row (an edit row keeps the file's version as
    the old one, or the ledger says ``duplicate``), and, in ``window``, those that the runs
    ``window_runs`` (the windows of the same backfill done so far: the same files, the
    same extractor) left out as published outside their window and outside this one too,
    or undated (tasks/windows.py outside_too). A record whose day falls in the window is
    always read."""
    settled: defaultdict[str, set[str]] = defaultdict(set)
    edits = store.read_edits().select(["kind", "url", "old_warc_file"]).to_pylist()
    for edit in edits:
        if edit["kind"] == "edit" and edit["old_warc_file"]:
            settled[edit["old_warc_file"]].add(edit["url"])
    ledger = store.read_urls(["run_id", "url", "state", "reason", "source_kind", "source_url"])
    for row in ledger.filter(pc.equal(ledger["source_kind"], SOURCE_KIND)).to_pylist():
        if row["state"] == UrlState.DUPLICATE or (
                window is not None and row["run_id"] in window_runs and row["state"] == UrlState.SKIPPED
                and outside_too(row["reason"], window)):
            settled[row["source_url"]].add(row["url"])
    return {path: frozenset(urls) for path, urls in settled.items()}

