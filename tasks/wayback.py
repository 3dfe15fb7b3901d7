"""Source kind ``wayback``: a dossier's listing, feed or sitemap as a web archive holds it.

Discovery reads the archived captures of the source URL (and of its paginated pages, or
child sitemaps) in the capture period, raw, and finds the article links in each with the
rules of the live kind (tasks/discover.py). Each article is then fetched live like any
other; when the site no longer serves it, its capture nearest after the listing capture
that linked it is read instead (``fallback``), and the row records ``archive_url`` and
``archive_captured_at``. The archive is asked only what its cache (tasks/cdx.py) does not
hold: a rerun asks for the new part of an open period, nothing else.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, time
from typing import Any

from dossier_pipeline.tasks.archive import ArchiveWriter
from dossier_pipeline.tasks.cdx import ArchiveClient, ArchivedResult, ArchiveError, Capture, CdxCache
from dossier_pipeline.tasks.config import Dossier, WaybackSource
from dossier_pipeline.tasks.discover import (
    DiscoveredURL,
    Discovery,
    feed_links,
    listing_links,
    sitemap_links,
)
from dossier_pipeline.tasks.fetch import FetchResult
from dossier_pipeline.tasks.store import Store
from dossier_pipeline.tasks.urls import identity_url
from dossier_pipeline.tasks.windows import Window

SOURCE_KIND = "wayback"
CAPTURE_HINT = "wayback_capture"  # the timestamp of the listing capture that linked an article


class Archives:
    """The web archives a run's wayback sources read, one client per archive."""

    def __init__(self, store: Store, dossier: Dossier, warc: ArchiveWriter | None = None) -> None:
        cache = CdxCache(store.fs, str(store.path / "cdx"), store.local)
        rates: dict[str, float] = {}
        for source in dossier.sources:
            if isinstance(source, WaybackSource):  # the slowest rate a dossier asks of an archive holds
                rates[source.wayback_url] = min(rates.get(source.wayback_url, source.archive_requests_per_second),
                                                source.archive_requests_per_second)
        self.clients = {archive: ArchiveClient(archive, dossier.settings, rate, cache, warc)
                        for archive, rate in rates.items()}

    def client(self, archive: str) -> ArchiveClient:
        return self.clients[archive]

    @property
    def requests(self) -> int:
        return sum(c.requests for c in self.clients.values())

    def close(self) -> None:
        for client in self.clients.values():
            client.close()

    def fallback(self, items: list[DiscoveredURL], results: list[FetchResult],
                 known: Mapping[str, Mapping[str, Any]]) -> list[FetchResult]:
        """Results with the archived capture in place of each failed live fetch of an
        article a wayback source discovered (not one the dataset holds: a refresh records
        that one's takedown instead)."""
        out = []
        for item, result in zip(items, results, strict=True):
            stored = (row := known.get(item.url)) is not None and "state" not in row
            if (item.source_kind == SOURCE_KIND and CAPTURE_HINT in item.hints and not stored and not result.ok
                    and not result.not_modified and result.stage == "fetch"):
                result = self.capture_of(item, result)
            out.append(result)
        return out

    def capture_of(self, item: DiscoveredURL, live: FetchResult) -> FetchResult:
        client = self.client(item.source_url.split("/web/", 1)[0])
        try:
            capture = client.nearest_after(item.fetch_url, item.hints[CAPTURE_HINT])
        except ArchiveError as exc:
            live.reason = f"{live.reason}; archive: {exc}"
            return live
        if capture is None:
            live.reason = f"{live.reason}; archive: no capture of it"
            return live
        result = client.replay(capture, item.fetch_url)
        result.live = live
        return result


def capture_period(source: WaybackSource, window: Window | None) -> tuple[datetime | None, datetime | None]:
    """The capture period: the source's, from the window's first day on when there is one
    (a capture lists articles published before it; a window's articles may be listed by
    captures taken years after it, so its end does not bound the period)."""
    since = datetime.combine(source.since, time(), UTC) if source.since else None
    until = datetime.combine(source.until, time(23, 59, 59), UTC) if source.until else None
    if window is not None:
        since = max(since, window.start) if since else window.start
    return since, until


def spread(client: ArchiveClient, url: str, since: datetime | None, until: datetime | None,
           most: int) -> Iterator[Capture]:
    """At most ``most`` captures of ``url`` in the period, spread evenly over it (the first
    and the last included), read twice from the cache rather than held."""
    total = sum(1 for _ in client.captures(url, since, until))
    if total <= most:
        yield from client.captures(url, since, until)
        return
    keep = {round(k * (total - 1) / (most - 1)) for k in range(most)} if most > 1 else {total - 1}
    yield from (c for i, c in enumerate(client.captures(url, since, until)) if i in keep)


def read_capture(client: ArchiveClient, capture: Capture, out: Discovery) -> tuple[bytes, str | None] | None:
    """A listing capture's body and content type (kept in the cache by digest)."""
    if (cached := client.cache.body(capture.digest)) is not None:
        stored_type, _, body = cached.partition(b"\n")
        return body, stored_type.decode() or None
    result = client.replay(capture)
    out.pages_fetched += 1
    if not result.ok:
        out.failures.append({"source_url": client.raw_url(capture), "reason": result.reason or "archive_error"})
        return None
    content_type = result.headers.get("content-type") or ""
    client.cache.save_body(capture.digest, content_type.encode() + b"\n" + result.body)
    return result.body, content_type or None


def discover_wayback(source: WaybackSource, client: ArchiveClient, domains: list[str], out: Discovery,
                     seen: dict[str, DiscoveredURL], window: Window | None = None) -> None:
    """Discover the articles the source's captures link to, oldest capture first (an
    article keeps the first capture that linked it: its capture is looked for after it)."""
    since, until = capture_period(source, window)
    templated = "{page}" in source.url
    page_urls = {identity_url(source.url.replace("{page}", str(source.first_page + n))) or ""
                 for n in range(source.max_pages)} if templated else set()
    queue = [source.url.replace("{page}", str(source.first_page))]
    done: set[str] = set()
    while queue and len(done) < source.max_pages:
        page_url = queue.pop(0)
        if page_url in done:
            continue
        done.add(page_url)
        page_urls.add(identity_url(page_url) or page_url)
        captured = False
        try:
            for capture in spread(client, page_url, since, until, source.max_captures):
                captured = True
                if (read := read_capture(client, capture, out)) is None:
                    continue
                items, follow = _links(source, read, capture, client.raw_url(capture), domains, page_urls, out)
                for item in items:
                    item.hints[CAPTURE_HINT] = capture.timestamp
                    out.add(item, seen)
                queue += [u for u in follow if u not in done]
        except ArchiveError as exc:
            out.failures.append({"source_url": page_url, "reason": f"archive_error: {exc}"})
            continue
        if templated and captured:
            queue.append(source.url.replace("{page}", str(source.first_page + len(done))))
        elif not captured and page_url == source.url.replace("{page}", str(source.first_page)):
            out.failures.append({"source_url": page_url, "reason": "archive: no capture in the period"})


def _links(source: WaybackSource, read: tuple[bytes, str | None], capture: Capture, raw_url: str,
           domains: list[str], page_urls: set[str], out: Discovery) -> tuple[list[DiscoveredURL], list[str]]:
    """(articles, pages to read next) of one capture, by the live kind's rules; links are
    resolved against the URL the site served (raw captures: the archive rewrote nothing)."""
    body, content_type = read
    page_url = capture.original
    try:
        if source.format == "feed":
            return feed_links(body, page_url, content_type, domains, SOURCE_KIND, raw_url), []
        if source.format == "sitemap":
            pages, children = sitemap_links(body, page_url, domains, SOURCE_KIND, raw_url)
            return pages, [child for child, _ in children]
        links, expected, rel_next = listing_links(body, page_url, content_type, source.link_pattern, domains,
                                                  page_urls, SOURCE_KIND, raw_url)
    except ValueError as exc:
        out.failures.append({"source_url": raw_url, "reason": f"bad_{source.format}: {exc}"})
        return [], []
    if expected is not None and out.expected is None:
        out.expected = expected
    return links, [rel_next] if rel_next and "{page}" not in source.url else []


def provenance(result: FetchResult) -> dict[str, object]:
    """The row's archive columns for a fetch result (None for a live one)."""
    if isinstance(result, ArchivedResult):
        return {"archive_url": result.archive_url, "archive_captured_at": result.captured_at}
    return {}
