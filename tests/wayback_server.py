"""A local web archive for the tests: a CDX server and raw capture replay that behave like
the Wayback Machine's, on 127.0.0.1.

Follows the Wayback CDX server API's documented behaviour: ``url`` (exact match),
``output=json`` (a first row of field names, then one row per capture; ``[]`` when nothing
matches), ``from``/``to`` (timestamp prefixes, both included), ``filter=[!]field:regex``,
``collapse=field`` (adjacent duplicates dropped), ``limit`` (negative: the last N), and
``showResumeKey=true`` (when rows remain: an empty row, then a row holding the key to pass
as ``resumeKey``). Replay: ``/web/<timestamp>id_/<url>`` answers the capture's bytes with
``Memento-Datetime``, redirects to the nearest capture when the timestamp is not exact, and
answers the archive's own 404 page when there is no capture.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from urllib.parse import parse_qs, unquote, urlsplit

from dossier_pipeline.tasks.demo.server import LocalServer, Response

FIELDS = ["urlkey", "timestamp", "original", "mimetype", "statuscode", "digest", "length"]
ERROR_PAGE = (b"<!DOCTYPE html><html><head><title>Wayback Machine</title></head><body><div id='error'>"
              b"<h2>Hrm.</h2><p>The Wayback Machine has not archived that URL.</p></div></body></html>")


def surt(url: str) -> str:
    parts = urlsplit(url)
    host = ",".join(reversed((parts.hostname or "").removeprefix("www.").split(".")))
    return f"{host}){parts.path or '/'}" + (f"?{parts.query}" if parts.query else "")


@dataclass
class Stored:
    timestamp: str
    original: str
    body: bytes
    mimetype: str = "text/html"
    status: int = 200
    own_page: bool = False  # the archive serves its own page here, not the capture (no Memento-Datetime)
    content_type: str | None = None  # the header the site sent (default: the mimetype)

    def row(self) -> list[str]:
        digest = base64.b32encode(hashlib.sha1(self.body).digest()).decode()
        return [surt(self.original), self.timestamp, self.original, self.mimetype, str(self.status), digest,
                str(len(self.body))]


@dataclass
class Synthetic:
    """``count`` captures of one URL a minute apart from 2010, made on demand (a URL
    captured 100,000 times), from the one after ``after`` (a timestamp) when given."""

    original: str
    count: int

    def rows(self, after: str | None = None) -> Iterator[list[str]]:
        start = datetime(2010, 1, 1, tzinfo=UTC)
        first = 0 if after is None else int((_parse(after) - start).total_seconds() // 60) + 1
        for i in range(first, self.count):
            yield [surt(self.original), (start + timedelta(minutes=i)).strftime("%Y%m%d%H%M%S"), self.original,
                   "text/html", "200", f"DIGEST{i:08d}", "1000"]


def _parse(stamp: str) -> datetime:
    return datetime.strptime(stamp, "%Y%m%d%H%M%S").replace(tzinfo=UTC)


@dataclass
class WaybackServer:
    captures: dict[str, list[Stored]] = field(default_factory=dict)
    synthetic: dict[str, Synthetic] = field(default_factory=dict)
    faults: list[Callable[[str], Response | None]] = field(default_factory=list)  # tried first, then dropped

    def __post_init__(self) -> None:
        self.server = LocalServer(self.app)
        self.base = self.server.base_url

    @property
    def log(self) -> list[str]:
        return [path for _, path, _ in self.server.log]

    def add(self, url: str, when: datetime, body: bytes, content_type: str = "text/html; charset=utf-8",
            own_page: bool = False) -> None:
        self.captures.setdefault(url, []).append(Stored(when.strftime("%Y%m%d%H%M%S"), url, body,
                                                        content_type.split(";")[0], own_page=own_page,
                                                        content_type=content_type))
        self.captures[url].sort(key=lambda c: c.timestamp)

    def close(self) -> None:
        self.server.close()

    def app(self, path: str, headers: dict[str, str]) -> Response:
        while self.faults:
            response = self.faults.pop(0)(path)
            if response is not None:
                return response
        if path.startswith("/cdx/search/cdx"):
            return self.cdx(parse_qs(urlsplit(path).query))
        if match := re.match(r"^/web/(\d{1,14})id_/(.+)$", path):
            return self.replay(match.group(1), unquote(match.group(2)))
        return Response(404, ERROR_PAGE, {"Content-Type": "text/html"})

    def cdx(self, query: dict[str, list[str]]) -> Response:
        url = query["url"][0]
        start = query.get("from", [""])[0].ljust(14, "0")
        end = query.get("to", [""])[0].ljust(14, "9")
        after = json.loads(base64.urlsafe_b64decode(query["resumeKey"][0])) if "resumeKey" in query else None
        rows: Iterator[list[str]] = (self.synthetic[url].rows(after and after[1]) if url in self.synthetic
                                     else (c.row() for c in self.captures.get(url, [])))
        rows = (r for r in rows if start <= r[1] <= end)
        for spec in query.get("filter", []):
            rows = _filter(rows, spec)
        for name in query.get("collapse", []):
            rows = _collapse(rows, FIELDS.index(name))
        if after is not None:
            rows = (r for r in rows if (r[0], r[1]) > tuple(after))
        limit = int(query["limit"][0]) if "limit" in query else None
        out: list[list[str]]
        more = False
        if limit is not None and limit < 0:
            out = list(rows)[limit:]
        elif limit is not None:
            out = []
            for row in rows:
                if len(out) == limit:
                    more = True
                    break
                out.append(row)
        else:
            out = list(rows)
        if query.get("output") != ["json"]:
            return Response(200, "".join(" ".join(r) + "\n" for r in out).encode(), {"Content-Type": "text/plain"})
        document: list[list[str]] = [FIELDS, *out] if out else []
        if more and query.get("showResumeKey") == ["true"]:
            key = base64.urlsafe_b64encode(json.dumps(out[-1][:2]).encode()).decode()
            document += [[], [key]]
        return Response(200, json.dumps(document).encode(), {"Content-Type": "application/json"})

    def replay(self, stamp: str, url: str) -> Response:
        captures = self.captures.get(url, [])
        if not captures:
            return Response(404, ERROR_PAGE, {"Content-Type": "text/html; charset=utf-8"})
        exact = next((c for c in captures if c.timestamp == stamp), None)
        if exact is None:
            nearest = min(captures, key=lambda c: abs(int(c.timestamp) - int(stamp.ljust(14, "0"))))
            return Response(302, b"", {"Location": f"/web/{nearest.timestamp}id_/{url}"})
        if exact.own_page:
            return Response(200, ERROR_PAGE, {"Content-Type": "text/html; charset=utf-8"})
        when = _parse(exact.timestamp)
        return Response(200, exact.body, {
            "Content-Type": exact.content_type or exact.mimetype, "Link": f'<{url}>; rel="original"',
            "Memento-Datetime": format_datetime(when, usegmt=True), "X-Archive-Orig-Etag": f'"{exact.row()[5]}"'})


def _filter(rows: Iterator[list[str]], spec: str) -> Iterator[list[str]]:
    """``[!]field:regex``: the rows whose field matches (or, with ``!``, does not)."""
    negate, spec = spec.startswith("!"), spec.lstrip("!")
    name, _, pattern = spec.partition(":")
    index = FIELDS.index(name)
    return (r for r in rows if bool(re.fullmatch(pattern, r[index])) != negate)


def _collapse(rows: Iterator[list[str]], index: int) -> Iterator[list[str]]:
    last = None
    for row in rows:
        if row[index] != last:
            yield row
        last = row[index]
