"""Discovery: walk a dossier's sources, in config order, into the list of article URLs to
fetch, each with its identity and the date hints seen beside it.

The documents (sitemaps, feeds, listing pages) are fetched here through the run's polite
Fetcher and read into links by tasks/documents.py; this module keeps the links on the
dossier's domains that look like articles, and walks listings and sitemap indexes as deep
as the sources (or a backfill window) need.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import courlan

from dossier_pipeline.tasks.config import Dossier, FeedSource, ListingSource, SitemapSource, UrlsSource, WaybackSource
from dossier_pipeline.tasks.documents import listing_dates, parse_feed, parse_listing, sitemap_entries
from dossier_pipeline.tasks.fetch import Fetcher, FetchResult, Politeness
from dossier_pipeline.tasks.urls import fetch_address, identity_url, in_domains
from dossier_pipeline.tasks.windows import Window, before, hint_date, listing_goes_on

if TYPE_CHECKING:
    from dossier_pipeline.tasks.wayback import Archives

WINDOW_MAX_PAGES = 2_000  # how deep a listing is walked for a window's dates at most: a safety cap


@dataclass(slots=True)  # a dossier may have 100,000 of them in memory at once
class DiscoveredURL:
    url: str  # the URL's identity (urls.identity_url: tracking parameters removed): ledger, duplicates
    source_kind: str
    source_url: str
    hints: dict[str, str] = field(default_factory=dict)  # dates/titles seen at discovery
    as_found: str | None = None  # the address as discovered (urls.fetch_address), when its identity differs

    @property
    def fetch_url(self) -> str:
        """The URL requested: the one discovered, never a rewrite of it (normalising drops
        query parameters that may select another document, or one robots.txt forbids)."""
        return self.as_found or self.url


def found(url: str, source_kind: str, source_url: str, hints: dict[str, str] | None = None) -> DiscoveredURL | None:
    """A discovered absolute URL with its identity, or None when it is not http(s)."""
    address = fetch_address(url)
    if address is None:
        return None
    identity = identity_url(address) or address
    return DiscoveredURL(identity, source_kind, source_url, hints or {}, None if address == identity else address)


@dataclass
class Discovery:
    urls: list[DiscoveredURL] = field(default_factory=list)
    expected: int | None = None
    pages_fetched: int = 0
    failures: list[dict[str, str]] = field(default_factory=list)  # source-level problems

    def add(self, item: DiscoveredURL, seen: dict[str, DiscoveredURL]) -> bool:
        """Keep the first source that found a URL; merge later hints into it."""
        if item.url in seen:
            for key, value in item.hints.items():
                seen[item.url].hints.setdefault(key, value)
            return False
        seen[item.url] = item
        self.urls.append(item)
        return True



def _is_article_candidate(url: str, link_pattern: str | None, page_urls: set[str]) -> bool:
    if not url or url in page_urls:
        return False
    if link_pattern:
        return re.search(link_pattern, url) is not None
    # Without a pattern, courlan's heuristics drop navigation, tag and login pages.
    return not courlan.is_navigation_page(url) and not courlan.is_not_crawlable(url)


def listing_links(body: bytes, page_url: str, content_type: str | None, link_pattern: str | None,
                  domains: list[str], page_urls: set[str], source_kind: str, source_url: str
                  ) -> tuple[list[DiscoveredURL], int | None, str | None]:
    """The article links of a listing page (each with the date shown beside it), the article
    count the page states and its rel=next page: of a live listing, and of its captures.
    ValueError when the page holds no markup."""
    links, expected, rel_next = parse_listing(body, page_url, content_type)
    dates = listing_dates(body, page_url, content_type)
    items = []
    for link in links:
        item = found(link, source_kind, source_url)
        if item and in_domains(item.url, domains) and _is_article_candidate(item.url, link_pattern, page_urls):
            if item.url in dates:
                item.hints["listing_date"] = dates[item.url]
            items.append(item)
    return items, expected, rel_next


def feed_links(body: bytes, url: str, content_type: str | None, domains: list[str], source_kind: str,
               source_url: str) -> list[DiscoveredURL]:
    """The item links of a feed on the allowed domains; ValueError when it is not a feed."""
    return [item for link, hints in parse_feed(body, url, content_type)
            if (item := found(link, source_kind, source_url, hints)) and in_domains(item.url, domains)]


def sitemap_links(body: bytes, url: str, domains: list[str], source_kind: str, source_url: str
                  ) -> tuple[list[DiscoveredURL], list[tuple[str, dict[str, str]]]]:
    """(page links, child sitemaps with their hints) of a sitemap, on the allowed domains;
    ValueError when it is not a sitemap."""
    pages, children = sitemap_entries(body)
    return ([item for loc, hints in pages
             if (address := fetch_address(loc, url)) and (item := found(address, source_kind, source_url, hints))
             and in_domains(item.url, domains)],
            [(norm, hints) for child, hints in children
             if (norm := fetch_address(child, url)) and in_domains(norm, domains)])


async def _listing(fetcher: Fetcher, source: ListingSource, domains: list[str], out: Discovery,
                   seen: dict[str, DiscoveredURL], window: Window | None = None) -> None:
    """Walk a listing's pages; with a window, as deep as the dates of its links need (past
    ``max_pages``, up to WINDOW_MAX_PAGES) and no deeper once they precede it."""
    templated = "{page}" in source.url
    page_urls: set[str] = set()
    next_url: str | None = source.url.replace("{page}", str(source.first_page))
    for n in range(source.max_pages if window is None else max(source.max_pages, WINDOW_MAX_PAGES)):
        if next_url is None:
            break
        page_url = next_url
        page_urls.add(identity_url(page_url) or page_url)
        result = await fetcher.get(page_url, expect="html")
        out.pages_fetched += 1
        if result.status == 404:
            break
        if not result.ok:
            out.failures.append({"source_url": page_url, "reason": result.reason or f"http_{result.status}"})
            break
        try:
            items, expected, rel_next = listing_links(result.body, result.final_url or page_url,
                                                      result.headers.get("content-type"), source.link_pattern,
                                                      domains, page_urls, "listing", page_url)
        except ValueError as exc:  # an empty page
            out.failures.append({"source_url": page_url, "reason": f"bad_listing: {exc}"})
            break
        if expected is not None and out.expected is None:
            out.expected = expected
        new = 0
        shown: list[str] = []  # the date hints of the page's links
        for item in items:
            shown += item.hints.values()
            new += out.add(item, seen)
        if new == 0 or (window is not None and not listing_goes_on(shown, window, n + 1 >= source.max_pages)):
            break
        next_url = source.url.replace("{page}", str(source.first_page + n + 1)) if templated else rel_next


async def _sitemap(fetcher: Fetcher, source: SitemapSource, domains: list[str], out: Discovery,
                   seen: dict[str, DiscoveredURL], window: Window | None = None) -> None:
    """Read a sitemap and its children; with a window, not the children last modified
    before it (their pages cannot be newer than the child sitemap)."""
    queue = [source.url]
    visited: set[str] = set()
    while queue and len(visited) < source.max_sitemaps:
        url = queue.pop(0)
        if url in visited:
            continue
        visited.add(url)
        result = await fetcher.get(url, expect="xml")
        out.pages_fetched += 1
        if not _usable(result, out, url):
            continue
        try:
            pages, children = sitemap_links(result.body, url, domains, "sitemap", url)
        except ValueError as exc:
            out.failures.append({"source_url": url, "reason": f"bad_sitemap: {exc}"})
            continue
        for child, hints in children:
            if window is None or not ((changed := hint_date(hints.get("sitemap_lastmod"))) and before(changed, window)):
                queue.append(child)
        for item in pages:
            out.add(item, seen)


async def _feed(fetcher: Fetcher, source: FeedSource, domains: list[str], out: Discovery,
                seen: dict[str, DiscoveredURL]) -> None:
    result = await fetcher.get(source.url, expect="xml")
    out.pages_fetched += 1
    if not _usable(result, out, source.url):
        return
    try:
        items = feed_links(result.body, result.final_url or source.url, result.headers.get("content-type"), domains,
                           "feed", source.url)
    except ValueError as exc:
        out.failures.append({"source_url": source.url, "reason": f"bad_feed: {exc}"})
        return
    for item in items:
        out.add(item, seen)


def _usable(result: FetchResult, out: Discovery, url: str) -> bool:
    if result.ok:
        return True
    out.failures.append({"source_url": url, "reason": result.reason or f"http_{result.status}"})
    return False


def _url_list(source: UrlsSource, domains: list[str], out: Discovery, seen: dict[str, DiscoveredURL]) -> None:
    entries = [(u, "config") for u in source.urls]
    if source.file:
        try:
            lines = Path(source.file).read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            out.failures.append({"source_url": source.file, "reason": f"unreadable_url_file: {exc}"})
            lines = []
        entries += [(line.strip(), source.file) for line in lines if line.strip() and not line.startswith("#")]
    for raw, origin in entries:
        item = found(raw, "urls", origin)
        if item is None:
            out.failures.append({"source_url": origin, "reason": f"bad_url: {raw}"})
        elif not in_domains(item.url, domains):
            out.failures.append({"source_url": origin, "reason": f"outside_allowed_domains: {raw}"})
        else:
            out.add(item, seen)


async def discover_async(dossier: Dossier, politeness: Politeness, window: Window | None = None,
                         archives: Archives | None = None) -> Discovery:
    """Walk every source of the dossier in config order; duplicates keep the first source.
    With a window, listings and sitemap indexes are read as far as the window needs; every
    URL read is kept with its date hints (Run.plan leaves out those outside the window).
    ``warc`` sources have no URLs to discover: their files are read after (tasks/warcfiles.py)."""
    domains = dossier.domains
    out = Discovery()
    seen: dict[str, DiscoveredURL] = {}
    async with Fetcher(politeness, domains) as fetcher:
        for source in dossier.sources:
            if isinstance(source, ListingSource):
                await _listing(fetcher, source, domains, out, seen, window)
            elif isinstance(source, SitemapSource):
                await _sitemap(fetcher, source, domains, out, seen, window)
            elif isinstance(source, FeedSource):
                await _feed(fetcher, source, domains, out, seen)
            elif isinstance(source, UrlsSource):
                _url_list(source, domains, out, seen)
            elif isinstance(source, WaybackSource):
                from dossier_pipeline.tasks.wayback import discover_wayback  # local import: wayback imports this

                assert archives is not None, "a wayback source needs the run's Archives"
                discover_wayback(source, archives.client(source.wayback_url), domains, out, seen, window)
    return out


def discover(dossier: Dossier, politeness: Politeness, window: Window | None = None,
             archives: Archives | None = None) -> Discovery:
    return asyncio.run(discover_async(dossier, politeness, window, archives))

