"""Discovery: turn a dossier's sources into the list of article URLs to fetch.

Feeds are read by feedparser (RSS 0.9x-2.0, RSS 1.0/RDF, Atom, broken markup, declared
charsets that lie, relative links). Sitemaps are parsed here with lxml (see
docs/architecture.md, "Hand-written where no library does it"): the libraries return bare
links or drop the child sitemaps' ``lastmod`` and the news-sitemap dates kept here as date
hints. That XML parser never resolves entities nor loads DTDs or network resources, so a
"billion laughs" document cannot expand.
"""

from __future__ import annotations

import asyncio
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urljoin

import courlan
import feedparser
import lxml.html
from lxml import etree

from dossier_pipeline.tasks.config import Dossier, FeedSource, ListingSource, SitemapSource, UrlsSource, WaybackSource
from dossier_pipeline.tasks.encoding import decode_html
from dossier_pipeline.tasks.fetch import Fetcher, FetchResult, Politeness, inflate
from dossier_pipeline.tasks.urls import fetch_address, identity_url, in_domains
from dossier_pipeline.tasks.windows import Window, before, hint_date, listing_goes_on

if TYPE_CHECKING:
    from dossier_pipeline.tasks.wayback import Archives

EXPECTED_RE = re.compile(r"\((\d[\d\s\u00a0\u202f.,]*)\)\s*$")
XML_PARSER_OPTS = {"resolve_entities": False, "no_network": True, "load_dtd": False, "huge_tree": False}
MAX_XML_BYTES = 50_000_000
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


def _xml_root(body: bytes) -> etree._Element | None:
    if body[:2] == b"\x1f\x8b":  # .xml.gz served as a file rather than Content-Encoding
        body = inflate(body, "gzip", MAX_XML_BYTES)
    try:
        return etree.fromstring(body.strip(), etree.XMLParser(**XML_PARSER_OPTS))
    except etree.XMLSyntaxError as exc:
        if "entit" in str(exc).lower() or "amplification" in str(exc).lower():
            raise ValueError(f"rejected: {exc}") from None  # entity tricks: never parse "leniently"
    # Real feeds and sitemaps are often slightly malformed: retry leniently.
    try:
        return etree.fromstring(body.strip(), etree.XMLParser(**XML_PARSER_OPTS, recover=True))
    except etree.XMLSyntaxError:
        return None



def _local(tag: object) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _child_text(element: etree._Element, *names: str) -> str | None:
    for child in element.iter():
        if _local(child.tag) in names and child.text and child.text.strip():
            return child.text.strip()
    return None


def parse_sitemap(body: bytes, base: str) -> tuple[list[tuple[str, dict[str, str]]], list[str]]:
    """Return (page URLs with date hints, child sitemap URLs) of a sitemap, sitemap
    index, news sitemap or plain-text sitemap."""
    pages, children = sitemap_entries(body)
    return pages, [loc for loc, _ in children]


def sitemap_entries(body: bytes) -> tuple[list[tuple[str, dict[str, str]]], list[tuple[str, dict[str, str]]]]:
    """(page URLs, child sitemap URLs) of a sitemap, each with its date hints."""
    stripped = body.lstrip()
    if stripped[:2] == b"\x1f\x8b":
        stripped = inflate(stripped, "gzip", MAX_XML_BYTES).lstrip()
    if not stripped.startswith(b"<"):
        lines = stripped.decode("utf-8", errors="replace").splitlines()
        return [(u, {}) for u in (line.strip() for line in lines) if u.startswith("http")], []
    root = _xml_root(stripped)
    if root is None:
        raise ValueError("not a parseable XML sitemap")
    pages: list[tuple[str, dict[str, str]]] = []
    children: list[tuple[str, dict[str, str]]] = []
    kind = _local(root.tag)
    for entry in root:
        name = _local(entry.tag)
        loc = _child_text(entry, "loc")
        if not loc:
            continue
        hints: dict[str, str] = {}
        if lastmod := _child_text(entry, "lastmod"):
            hints["sitemap_lastmod"] = lastmod
        if kind == "sitemapindex" or name == "sitemap":
            children.append((loc, hints))
            continue
        if published := _child_text(entry, "publication_date"):
            hints["news_sitemap_date"] = published
        if title := _child_text(entry, "title"):
            hints["title"] = title
        pages.append((loc, hints))
    return pages, children


def parse_feed(body: bytes, url: str = "", content_type: str | None = None) -> list[tuple[str, dict[str, str]]]:
    """Items of a feed (feedparser: RSS, RDF, Atom): (absolute link, hints with the item's
    date as written and its title). Relative links are resolved against xml:base, else
    ``url``."""
    headers = {"content-location": url, **({"content-type": content_type} if content_type else {})}
    parsed = feedparser.parse(io.BytesIO(body), response_headers=headers, sanitize_html=False,
                              resolve_relative_uris=False)  # both only concern the items' HTML content
    if parsed.bozo and not parsed.entries:
        raise ValueError(f"not a parseable feed: {parsed.get('bozo_exception')}")
    items: list[tuple[str, dict[str, str]]] = []
    for entry in parsed.entries:
        link = entry.get("link") or ""
        if not link and str(entry.get("id", "")).startswith("http"):
            link = entry["id"]  # a permalink guid or Atom id
        if not link:
            continue
        hints: dict[str, str] = {}
        if date := entry.get("published") or entry.get("updated"):
            hints["feed_date"] = date.strip()
        if title := (entry.get("title") or "").strip():
            hints["title"] = title
        items.append((urljoin(url, link) if url else link, hints))
    return items


def parse_listing(body: bytes, page_url: str, content_type: str | None = None) -> tuple[list[str], int | None,
                                                                                       str | None]:
    """Links of a topic/listing page, the article count it states ("… (419)") and its
    rel=next page, if any."""
    tree = lxml.html.fromstring(decode_html(body, content_type))
    base = tree.xpath("string(//base/@href)") or page_url
    links = [h for h in tree.xpath("//body//a/@href") if h and not h.startswith(("#", "javascript:", "mailto:"))]
    expected = None
    for text in tree.xpath("//h1//text()[normalize-space()] | //title/text()"):
        if match := EXPECTED_RE.search(text.strip()):
            expected = int(re.sub(r"\D", "", match.group(1)))
            break
    nxt = tree.xpath("string((//link[@rel='next']/@href | //a[@rel='next']/@href)[1])") or None
    return [fetch_address(h, base) or "" for h in links], expected, (fetch_address(nxt, base) if nxt else None)


def listing_dates(body: bytes, page_url: str, content_type: str | None = None) -> dict[str, str]:
    """Link -> the date a listing shows beside it: the ``<time>`` (its ``datetime``, else its
    text) of the smallest element holding both, when that element holds no other date."""
    tree = lxml.html.fromstring(decode_html(body, content_type))
    base = tree.xpath("string(//base/@href)") or page_url
    dates: dict[str, str] = {}
    for stamp in tree.xpath("//body//time"):
        value = (stamp.get("datetime") or stamp.text_content()).strip()
        item = stamp.getparent()
        while item is not None and not item.xpath("descendant-or-self::a[@href]"):
            item = item.getparent()
        if not value or item is None or len(item.xpath(".//time")) > 1:
            continue
        for href in item.xpath("descendant-or-self::a/@href"):
            if link := identity_url(href, base):
                dates.setdefault(link, value)
    return dates


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
    count the page states and its rel=next page: of a live listing, and of its captures."""
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
             if (item := found(urljoin(url, loc), source_kind, source_url, hints)) and in_domains(item.url, domains)],
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
        items, expected, rel_next = listing_links(result.body, result.final_url or page_url,
                                                  result.headers.get("content-type"), source.link_pattern, domains,
                                                  page_urls, "listing", page_url)
        if expected is not None and out.expected is None:
            out.expected = expected
        new, shown = 0, []
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
                discover_wayback(source, archives.client(source.archive), domains, out, seen, window)
    return out


def discover(dossier: Dossier, politeness: Politeness, window: Window | None = None,
             archives: Archives | None = None) -> Discovery:
    return asyncio.run(discover_async(dossier, politeness, window, archives))

