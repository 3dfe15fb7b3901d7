"""The documents a dossier's sources serve, read into links: sitemaps (and sitemap indexes,
news sitemaps, plain-text and gzipped ones), feeds and listing pages, each link with the
date hints and title shown beside it. No HTTP here: discovery (tasks/discover.py) fetches
the documents, from the sites or from a web archive (tasks/wayback.py), and hands over
their bytes.

Feeds are read by feedparser (RSS 0.9x-2.0, RSS 1.0/RDF, Atom, broken markup, declared
charsets that lie, relative links). Sitemaps are parsed here with lxml (see
docs/architecture.md, "Hand-written where no library does it"): the libraries return bare
links or drop the child sitemaps' ``lastmod`` and the news-sitemap dates kept here as date
hints. That XML parser never resolves entities nor loads DTDs or network resources, so a
"billion laughs" document cannot expand.
"""

from __future__ import annotations

import io
import re

import feedparser
import lxml.html
from lxml import etree

from dossier_pipeline.tasks.encoding import decode_html
from dossier_pipeline.tasks.fetch import inflate
from dossier_pipeline.tasks.urls import fetch_address, identity_url

_UTF8_HTML = lxml.html.HTMLParser(encoding="utf-8")
CHAR_REF = re.compile(rb"&#(?:[xX]([0-9a-fA-F]{1,8})|([0-9]{1,10}));")
MAYBE_HALF = re.compile(rb"&#(?:[xX]0*[dD][89a-fA-F][0-9a-fA-F]{2}|0*5[5-7][0-9]{3});")
HALVES, HIGH, LOW = range(0xD800, 0xE000), range(0xD800, 0xDC00), range(0xDC00, 0xE000)  # UTF-16 code units
EXPECTED_RE = re.compile(r"\((\d[\d\s\u00a0\u202f.,]*)\)\s*$")
MAX_XML_BYTES = 50_000_000


def _xml_parser(recover: bool = False) -> etree.XMLParser[etree._Element]:
    """An XML parser that never resolves entities nor loads a DTD or a network resource."""
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, recover=recover)


def _code(ref: re.Match[bytes]) -> int:
    return int(ref[1], 16) if ref[1] else int(ref[2])


def without_surrogate_refs(body: bytes) -> bytes:
    """A document whose character references to UTF-16 halves ("&#55357;&#56832;", written by
    CMSs that escape an emoji's two code units) name the character they make, and a lone half
    U+FFFD, as an HTML parser reads them: XML forbids them, lxml then fails on the whole
    sitemap and feedparser on the whole feed."""
    if not MAYBE_HALF.search(body):  # one scan; nearly every document has none
        return body
    out, at = [], 0
    refs = list(CHAR_REF.finditer(body))
    for i, ref in enumerate(refs):
        code = _code(ref)
        if code not in HALVES or ref.start() < at:  # another character, or the low half of a pair
            continue
        following = refs[i + 1] if i + 1 < len(refs) else None
        if code in HIGH and following is not None and following.start() == ref.end() and _code(following) in LOW:
            code, end = 0x10000 + (code - 0xD800) * 0x400 + _code(following) - 0xDC00, following.end()
        else:
            code, end = 0xFFFD, ref.end()
        out += [body[at:ref.start()], b"&#x%X;" % code]
        at = end
    return b"".join([*out, body[at:]]) if out else body


def _xml_root(body: bytes) -> etree._Element | None:
    if body[:2] == b"\x1f\x8b":  # .xml.gz served as a file rather than Content-Encoding
        body = inflate(body, "gzip", MAX_XML_BYTES)
    try:
        return etree.fromstring(body.strip(), _xml_parser())
    except etree.XMLSyntaxError as exc:
        if "entit" in str(exc).lower() or "amplification" in str(exc).lower():
            raise ValueError(f"rejected: {exc}") from None  # entity tricks: never parse "leniently"
    # Real feeds and sitemaps are often slightly malformed: retry leniently.
    try:
        return etree.fromstring(body.strip(), _xml_parser(recover=True))
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
    root = _xml_root(without_surrogate_refs(stripped))
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
    parsed = feedparser.parse(io.BytesIO(without_surrogate_refs(body)), response_headers=headers,
                              # both only concern the items' HTML content
                              sanitize_html=False, resolve_relative_uris=False)
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
        if address := fetch_address(link, url or None):  # None: no http(s) URL ("http://[::1")
            items.append((address, hints))
    return items


def _html_tree(body: bytes, content_type: str | None) -> lxml.html.HtmlElement:
    """The page's tree, its text decoded once (decode_html) and handed to lxml as UTF-8 bytes:
    lxml refuses a str whose XML declaration names an encoding (an XHTML page's prolog).
    ValueError when the page holds no markup at all."""
    try:
        return lxml.html.fromstring(decode_html(body, content_type).encode("utf-8"), parser=_UTF8_HTML)
    except etree.ParserError as exc:  # "Document is empty"
        raise ValueError(f"not a parseable HTML page: {exc}") from None


def parse_listing(body: bytes, page_url: str, content_type: str | None = None) -> tuple[list[str], int | None,
                                                                                       str | None]:
    """Links of a topic/listing page, the article count it states ("… (419)") and its
    rel=next page, if any."""
    tree = _html_tree(body, content_type)
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
    tree = _html_tree(body, content_type)
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
