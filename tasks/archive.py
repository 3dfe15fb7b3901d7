"""The raw archive: every HTTP exchange of a run, as gzip-compressed WARC 1.1 files.

Layout under ``<output>/<slug>/raw/``: ``<run start, ms>-<run_id>-<serial>.warc.gz``, rolled at
``max_bytes``, each opening with a warcinfo record (pipeline version, run, dossier). Each
exchange is a request record and a response record holding the response as received
(status line, headers, body still content-encoded; httpx hands the body over de-chunked,
so a ``Transfer-Encoding`` header is kept as ``X-Archive-Transfer-Encoding``; warcio writes
header values as ASCII, percent-encoding any other byte). Each page
sent to extraction also gets a metadata record (JSON, ``WARC-Refers-To`` its response)
with the fetch context the row was built from: the archive alone can rebuild the dataset
(tasks/replay.py).

Crash safety: a file is written as ``<name>.open`` (held with an exclusive flock) and
renamed when rolled or closed, so tools globbing ``*.warc.gz`` never see a partial file.
Each record is one gzip member written with one ``write``, its offset the file's size
before it (warcio's public writer reports none); a write that fails is cut off at once (a
full disk stops the run: tasks/diskfull.py); ``recover`` finishes the
``.open`` files of a killed run by cutting them after their last complete member. The
rows point at the final name, which ``open_record`` also resolves while the file is open.
"""

from __future__ import annotations

import fcntl
import io
import json
import os
import threading
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple, cast

from isal import isal_zlib
from warcio.archiveiterator import ArchiveIterator
from warcio.recordloader import ArcWarcRecord
from warcio.statusandheaders import StatusAndHeaders
from warcio.timeutils import datetime_to_iso_date
from warcio.warcwriter import BufferWARCWriter

from dossier_pipeline.tasks.diskfull import DiskFull, writing

RAW_DIR = "raw"
SUFFIX = ".warc.gz"
OPEN_SUFFIX = ".open"
MAX_WARC_BYTES = 1 << 30  # the customary 1 GB per WARC file
# Members are gzip written by ISA-L (isal) at its level 1: the same format as zlib's, for a quarter
# of zlib's CPU (docs/benchmarks.md), which extraction needs more.
GZIP_LEVEL = 1
METADATA_TYPE = "application/vnd.dossier-pipeline.fetch+json"


class WarcPointer(NamedTuple):
    """Where a record is: its file (relative to the dossier directory), id and offset."""

    file: str
    record_id: str
    offset: int


@dataclass
class Exchange:
    """One HTTP request and the response received for it."""

    url: str
    target: str  # request target as sent: path and query
    request_headers: list[tuple[str, str]]
    http_version: str
    status: int
    reason: str
    response_headers: list[tuple[str, str]]
    body: bytes  # as received (content-encoded), possibly cut at the size cap
    started: datetime
    ip: str | None = None
    truncated: str | None = None  # WARC-Truncated reason: "length" (over the size cap), "disconnect"


def _serialise(record: ArcWarcRecord) -> bytes:
    """A record as uncompressed WARC bytes, through warcio's public writer (its gzip is
    left off: see GZIP_LEVEL)."""
    buffer = BufferWARCWriter(gzip=False, warc_version="1.1")
    buffer.write_record(record)
    return cast(bytes, buffer.get_contents())  # warcio ships no types


def _gzip_member(data: bytes) -> bytes:
    compressor = isal_zlib.compressobj(GZIP_LEVEL, isal_zlib.DEFLATED, 16 + isal_zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush()


def _warc_date(when: datetime) -> str:
    return cast(str, datetime_to_iso_date(when.astimezone(UTC).replace(tzinfo=None), use_micros=True))


class ArchiveWriter:
    """The WARC files of one run; thread-safe, records are appended in call order."""

    def __init__(self, root: Path, run_id: str, info: dict[str, str], started: datetime,
                 max_bytes: int = MAX_WARC_BYTES) -> None:
        self.root = root
        self.directory = root / RAW_DIR
        started = started.astimezone(UTC)  # 17-digit timestamp: file names sort in run order
        self.prefix = f"{started:%Y%m%d%H%M%S}{started.microsecond // 1000:03d}-{run_id}"
        self.info = info
        self.max_bytes = max_bytes
        self.files: list[str] = []  # closed files, relative to root
        self.bytes = 0
        self.seconds = 0.0
        self._records = BufferWARCWriter(gzip=False, warc_version="1.1")  # builds records (ids, digests); writes none
        self._lock = threading.Lock()
        self._file: io.FileIO | None = None
        self._name = ""
        self._size = 0
        self._full: DiskFull | None = None  # the write that found no space: the run stops

    def _open(self) -> None:
        if self._full is not None:
            raise self._full
        self._name = f"{self.prefix}-{len(self.files):05d}{SUFFIX}"
        path = self.directory / (self._name + OPEN_SUFFIX)
        try:
            with writing(str(path), None):
                self.directory.mkdir(parents=True, exist_ok=True)
                self._file = io.FileIO(path, "xb")
        except DiskFull as exc:
            self._full = exc
            raise
        fcntl.flock(self._file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        self._size = 0
        fields = {"software": f"dossier-pipeline/{self.info.get('pipeline_version', 'unknown')}",
                  "format": "WARC File Format 1.1",
                  "conformsTo": "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
                  **self.info}
        self._append(self._records.create_warcinfo_record(self._name, fields))

    def _append(self, record: ArcWarcRecord) -> WarcPointer:
        """Append one record; a write that fails is cut off, so the file ends with its last
        complete record (without space: DiskFull, and every later record is refused)."""
        if self._full is not None:
            raise self._full
        assert self._file is not None
        member = _gzip_member(_serialise(record))
        offset = self._size
        view = memoryview(member)
        file = self._file
        path = str(self.directory / (self._name + OPEN_SUFFIX))

        def cut() -> None:
            file.truncate(offset)
            file.seek(offset)

        try:
            with writing(path, len(member), cut):
                while view:
                    view = view[file.write(view):]
        except DiskFull as exc:
            self._full = exc
            raise
        self._size += len(member)
        self.bytes += len(member)
        return WarcPointer(f"{RAW_DIR}/{self._name}", record.rec_headers.get_header("WARC-Record-ID"), offset)

    def _roll_if_full(self) -> None:
        if self._size >= self.max_bytes:
            self._close_file()

    def write_exchange(self, exchange: Exchange) -> WarcPointer:
        """Write the request and response records; returns the response's pointer."""
        started = time.monotonic()
        s = self._records
        date = _warc_date(exchange.started)
        headers = [("X-Archive-Transfer-Encoding", v) if k.lower() == "transfer-encoding" else (k, v)
                   for k, v in exchange.response_headers]
        warc_headers = {"WARC-Date": date}
        if exchange.ip:
            warc_headers["WARC-IP-Address"] = exchange.ip
        if exchange.truncated:
            warc_headers["WARC-Truncated"] = exchange.truncated
        response = s.create_warc_record(
            exchange.url, "response", payload=io.BytesIO(exchange.body), length=len(exchange.body),
            http_headers=StatusAndHeaders(f"{exchange.status} {exchange.reason}".strip(), headers,
                                          protocol=exchange.http_version),
            warc_headers_dict=warc_headers)
        request = s.create_warc_record(
            exchange.url, "request", payload=io.BytesIO(b""), length=0,
            http_headers=StatusAndHeaders(f"GET {exchange.target} {exchange.http_version}",
                                          exchange.request_headers, is_http_request=True),
            warc_headers_dict={"WARC-Date": date,
                               "WARC-Concurrent-To": response.rec_headers.get_header("WARC-Record-ID")})
        with self._lock:
            if self._file is None:
                self._open()
            pointer = self._append(response)
            self._append(request)
            self._roll_if_full()
            self.seconds += time.monotonic() - started
        return pointer

    def write_metadata(self, refers_to: WarcPointer, uri: str, data: dict[str, Any]) -> None:
        """The pipeline's account of a response (its fetch context), next to the bytes."""
        body = json.dumps(data, ensure_ascii=False, default=str, sort_keys=True).encode()
        record = self._records.create_warc_record(
            uri, "metadata", payload=io.BytesIO(body), length=len(body), warc_content_type=METADATA_TYPE,
            warc_headers_dict={"WARC-Refers-To": refers_to.record_id, "WARC-Date": _warc_date(datetime.now(UTC))})
        with self._lock:
            if self._file is None:
                self._open()
            self._append(record)
            self._roll_if_full()

    def _close_file(self) -> None:
        if self._file is None:
            return
        os.fsync(self._file.fileno())
        self._file.close()  # releases the flock
        self._file = None
        if not self._size:  # not even its warcinfo record could be written
            (self.directory / (self._name + OPEN_SUFFIX)).unlink()
            return
        os.replace(self.directory / (self._name + OPEN_SUFFIX), self.directory / self._name)
        self.files.append(f"{RAW_DIR}/{self._name}")

    def close(self) -> None:
        with self._lock:
            self._close_file()


def _complete_prefix(path: Path) -> int:
    """Length of the file's leading run of complete gzip members (CRC checked by zlib)."""
    good = position = 0
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            data = chunk
            while data:
                try:
                    inflater.decompress(data)
                except zlib.error:
                    return good
                if not inflater.eof:
                    position += len(data)
                    break
                position += len(data) - len(inflater.unused_data)
                good = position
                data = inflater.unused_data
                inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    return good


def recover(root: Path) -> list[str]:
    """Finish the ``.open`` WARC files a killed run left: cut each after its last complete
    record and give it its final name (a file still locked by a live run is left alone)."""
    recovered = []
    for path in sorted((root / RAW_DIR).glob(f"*{SUFFIX}{OPEN_SUFFIX}")):
        with open(path, "r+b") as f:
            try:
                fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue
            size = _complete_prefix(path)
            f.truncate(size)
            f.flush()
            os.fsync(f.fileno())
        final = path.with_name(path.name.removesuffix(OPEN_SUFFIX))
        if size:
            os.replace(path, final)
            recovered.append(f"{RAW_DIR}/{final.name}")
        else:
            path.unlink()
    return recovered


def warc_files(root: Path) -> list[Path]:
    """The finished WARC files of a dossier, oldest run first."""
    return sorted((root / RAW_DIR).glob(f"*{SUFFIX}"))


@dataclass
class Stored:
    """A record read back: WARC headers, HTTP status and headers, and the payload with
    its content-encoding removed (the bytes extraction saw)."""

    record_type: str
    record_id: str
    target_uri: str | None
    status: int | None
    http_headers: dict[str, str]
    payload: bytes


def _stored(record: ArcWarcRecord) -> Stored:
    h = record.rec_headers
    status = record.http_headers.get_statuscode() if record.http_headers else None
    return Stored(h.get_header("WARC-Type"), h.get_header("WARC-Record-ID"), h.get_header("WARC-Target-URI"),
                  int(status) if status and status.isdigit() else None,
                  {k.lower(): v for k, v in record.http_headers.headers} if record.http_headers else {},
                  record.content_stream().read())


def open_record(root: Path, file: str, offset: int) -> Stored:
    """The record at ``offset`` of ``file`` (as a row's warc_file/warc_offset give them)."""
    path = root / file
    if not path.exists() and (root / (file + OPEN_SUFFIX)).exists():
        path = root / (file + OPEN_SUFFIX)  # the run that writes it is still going
    with open(path, "rb") as f:
        f.seek(offset)
        return _stored(next(iter(ArchiveIterator(f))))


@dataclass
class Event:
    """A metadata record: what the pipeline did with one archived response."""

    response: WarcPointer
    data: dict[str, Any]


def events(root: Path) -> Iterator[Event]:
    """The metadata records of the archive, in the order they were written, each with
    the pointer of the response it refers to."""
    responses: dict[str, WarcPointer] = {}
    for path in warc_files(root):
        file = f"{RAW_DIR}/{path.name}"
        with open(path, "rb") as f:
            records = ArchiveIterator(f)
            for record in records:
                h = record.rec_headers
                kind, rid = h.get_header("WARC-Type"), h.get_header("WARC-Record-ID")
                if kind == "response":
                    responses[rid] = WarcPointer(file, rid, records.get_record_offset())
                elif kind == "metadata" and h.get_header("Content-Type") == METADATA_TYPE:
                    target = responses.get(h.get_header("WARC-Refers-To"))
                    if target is not None:
                        yield Event(target, json.loads(record.content_stream().read()))
