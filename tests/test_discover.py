"""dossier_pipeline.tasks.discover: sitemap, feed and listing parsing, and discover() walking a dossier's
sources against a real local server."""

from __future__ import annotations

import gzip
import time
from collections.abc import Callable, Iterator
from urllib.parse import parse_qs, urlsplit

import pytest

from dossier_pipeline.tasks.config import Dossier, Settings
from dossier_pipeline.tasks.demo.server import LocalServer, Response
from dossier_pipeline.tasks.discover import Discovery, discover, sitemap_links
from dossier_pipeline.tasks.documents import parse_feed, parse_listing, parse_sitemap
from dossier_pipeline.tasks.fetch import Politeness
from dossier_pipeline.tasks.urls import identity_url

HTML = {"Content-Type": "text/html; charset=utf-8"}
XML = {"Content-Type": "application/xml"}
NOT_FOUND = Response(404, b"<html><body>not found</body></html>", HTML)
SM_NS = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
NEWS_NS = 'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"'

Route = Callable[[str, dict[str, str]], Response]

# ---------------------------------------------------------------------------- parsing


def test_parse_sitemap_urlset_with_date_hints() -> None:
    """A urlset gives its <loc>s with lastmod and news:publication_date (and news title) as
    hints; an entry without <loc> is skipped."""
    body = f"""<?xml version="1.0" encoding="UTF-8"?><urlset {SM_NS} {NEWS_NS}>
      <url><loc>https://e.com/a/1</loc><lastmod>2024-03-01</lastmod></url>
      <url><loc> https://e.com/a/2 </loc><news:news><news:publication><news:name>E</news:name>
        <news:language>en</news:language></news:publication>
        <news:publication_date>2024-03-02T10:00:00+01:00</news:publication_date>
        <news:title>Two</news:title></news:news></url>
      <url><lastmod>2024-01-01</lastmod></url>
    </urlset>""".encode()
    pages, children = parse_sitemap(body, "https://e.com/sitemap.xml")
    assert children == []
    assert pages == [
        ("https://e.com/a/1", {"sitemap_lastmod": "2024-03-01"}),
        ("https://e.com/a/2", {"news_sitemap_date": "2024-03-02T10:00:00+01:00", "title": "Two"}),
    ]


def test_parse_sitemap_index_gives_children() -> None:
    """A sitemapindex yields child sitemaps, never pages."""
    body = (f'<?xml version="1.0"?><sitemapindex {SM_NS}>'
            "<sitemap><loc>https://e.com/s1.xml</loc><lastmod>2024-01-01</lastmod></sitemap>"
            "<sitemap><loc>https://e.com/s2.xml.gz</loc></sitemap></sitemapindex>").encode()
    assert parse_sitemap(body, "https://e.com/sitemap.xml") == ([], ["https://e.com/s1.xml", "https://e.com/s2.xml.gz"])


def test_parse_sitemap_gzip_body() -> None:
    """A .xml.gz served as a file (gzip magic in the body) is decompressed."""
    body = f'<?xml version="1.0"?><urlset {SM_NS}><url><loc>https://e.com/z</loc></url></urlset>'.encode()
    pages, _ = parse_sitemap(gzip.compress(body), "https://e.com/sitemap.xml.gz")
    assert pages == [("https://e.com/z", {})]


def test_parse_sitemap_plain_text() -> None:
    """A text sitemap is one URL a line; blank lines, comments and non-URLs are ignored."""
    body = b"\n  https://e.com/a/1\n# comment\r\nhttp://e.com/a/2\r\n\nnot a url\n"
    assert parse_sitemap(body, "https://e.com/sitemap.txt") == (
        [("https://e.com/a/1", {}), ("http://e.com/a/2", {})], [])


def test_parse_sitemap_garbage_raises_value_error() -> None:
    """Unparseable XML is a ValueError (recorded as a source failure), not a crash."""
    with pytest.raises(ValueError):
        parse_sitemap(b"<<<>>>", "https://e.com/sitemap.xml")


def test_parse_feed_rss2() -> None:
    """RSS 2.0 items give link (or permalink guid), pubDate and title."""
    body = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>c</title><link>https://e.com/</link>
      <item><title>One</title><link>https://e.com/a/1</link><pubDate>Mon, 04 Mar 2024 10:00:00 +0100</pubDate></item>
      <item><title>Two</title><guid isPermaLink="true">https://e.com/a/2</guid>
        <pubDate>Tue, 05 Mar 2024 10:00:00 GMT</pubDate></item>
      <item><title>No link</title><guid isPermaLink="false">tag:e.com,2024:3</guid></item>
    </channel></rss>"""
    assert parse_feed(body) == [
        ("https://e.com/a/1", {"feed_date": "Mon, 04 Mar 2024 10:00:00 +0100", "title": "One"}),
        ("https://e.com/a/2", {"feed_date": "Tue, 05 Mar 2024 10:00:00 GMT", "title": "Two"}),
    ]


def test_parse_feed_atom_uses_alternate_link_not_self() -> None:
    """Atom: link rel=alternate (or no rel) is the article; rel=self (feed's or entry's) is
    ignored; published is preferred over updated."""
    body = b"""<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>
      <link rel="self" href="https://e.com/atom.xml"/>
      <entry><title>A</title><link rel="self" href="https://e.com/entries/1.atom"/>
        <link rel="alternate" type="text/html" href="https://e.com/a/1"/><id>urn:x</id>
        <published>2024-03-01T00:00:00Z</published><updated>2024-03-03T00:00:00Z</updated></entry>
      <entry><title>B</title><link href="https://e.com/a/2"/><id>urn:y</id><updated>2024-03-04T00:00:00Z</updated></entry>
    </feed>"""
    assert parse_feed(body) == [
        ("https://e.com/a/1", {"feed_date": "2024-03-01T00:00:00Z", "title": "A"}),
        ("https://e.com/a/2", {"feed_date": "2024-03-04T00:00:00Z", "title": "B"}),
    ]


def test_parse_feed_rss1_rdf() -> None:
    """RSS 1.0 (RDF): items beside the channel, dc:date as the date."""
    body = b"""<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
      xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
      <channel rdf:about="https://e.com/"><title>c</title><link>https://e.com/</link>
        <items><rdf:Seq><rdf:li rdf:resource="https://e.com/a/1"/></rdf:Seq></items></channel>
      <item rdf:about="https://e.com/a/1"><title>Un</title><link>https://e.com/a/1</link>
        <dc:date>2024-03-04T10:00:00+01:00</dc:date></item>
      <item rdf:about="https://e.com/a/2"><title>Deux</title><link>https://e.com/a/2</link></item>
    </rdf:RDF>"""
    assert parse_feed(body, "https://e.com/index.rdf") == [
        ("https://e.com/a/1", {"feed_date": "2024-03-04T10:00:00+01:00", "title": "Un"}),
        ("https://e.com/a/2", {"title": "Deux"}),
    ]


def test_parse_feed_atom_relative_links() -> None:
    """Atom relative hrefs resolve against xml:base where given (on the feed or the entry),
    else against the feed's own URL."""
    body = b"""<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>
      <entry><title>A</title><link href="a/1.html"/><id>urn:a</id><updated>2024-03-01T00:00:00Z</updated></entry>
      <entry xml:base="https://e.com/news/2024/"><title>B</title><link href="b.html"/><id>urn:b</id></entry>
      <entry><title>C</title><link href="/c.html?id=3"/><id>urn:c</id></entry>
    </feed>"""
    assert [link for link, _ in parse_feed(body, "https://e.com/feeds/atom.xml")] == [
        "https://e.com/feeds/a/1.html", "https://e.com/news/2024/b.html", "https://e.com/c.html?id=3"]
    based = body.replace(b'<feed xmlns="http://www.w3.org/2005/Atom">',
                         b'<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://cdn.e.com/x/">')
    assert parse_feed(based, "https://e.com/feeds/atom.xml")[0][0] == "https://cdn.e.com/x/a/1.html"


def test_parse_feed_with_a_wrong_declared_charset() -> None:
    """A feed declared UTF-8 but written in windows-1252 (a common CMS fault) still gives
    every item, with its title decoded right."""
    body = ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>c</title>'
            "<item><title>Réforme des retraites : ça coince</title><link>https://e.com/a/1</link></item>"
            "<item><title>Élections</title><link>https://e.com/a/2</link></item>"
            "</channel></rss>").encode("cp1252")
    assert parse_feed(body, "https://e.com/feed.xml", "application/rss+xml; charset=utf-8") == [
        ("https://e.com/a/1", {"title": "Réforme des retraites : ça coince"}),
        ("https://e.com/a/2", {"title": "Élections"}),
    ]


def test_parse_feed_garbage_raises_value_error() -> None:
    """Something that is no feed at all is a ValueError (a source failure), not a crash."""
    with pytest.raises(ValueError):
        parse_feed(b"\x00\x01 not a feed <<<", "https://e.com/feed.xml")


def test_parse_listing_resolves_links_and_reads_count() -> None:
    """Relative links are resolved against the page, fragments/mailto/javascript dropped,
    "(419)" in the h1 is the expected count, rel=next found."""
    body = b"""<html><head><title>Topic</title><link rel="next" href="?page=2"></head><body>
      <h1>Dossier <span>Climate (419)</span></h1>
      <a href="a/1">one</a><a href="/a/2#comments">two</a><a href="https://e.com/a/3">three</a>
      <a href="#top">top</a><a href="mailto:x@e.com">m</a><a href="javascript:void(0)">j</a>
    </body></html>"""
    links, expected, nxt = parse_listing(body, "https://e.com/topic/")
    assert links == ["https://e.com/topic/a/1", "https://e.com/a/2", "https://e.com/a/3"]
    assert expected == 419
    assert nxt == "https://e.com/topic/?page=2"


@pytest.mark.parametrize("space", ["\u00a0", "\u202f", "\u2009", " "], ids=["nbsp", "narrow-nbsp", "thin", "space"])
def test_parse_listing_count_with_thousands_separator(space: str) -> None:
    """"(1 234)" with a (narrow) no-break or thin space as thousands separator is 1234."""
    body = f'<html><head><meta charset="utf-8"></head><body><h1>Réforme (1{space}234)</h1></body></html>'
    _, expected, nxt = parse_listing(body.encode("utf-8"), "https://e.com/topic/")
    assert expected == 1234
    assert nxt is None


def test_parse_listing_count_from_title_and_none_when_absent() -> None:
    """The count may come from <title>; without one, expected is None (not 0)."""
    assert parse_listing(b"<html><head><title>Topic (12)</title></head><body></body></html>", "https://e.com/")[1] == 12
    assert parse_listing(b"<html><body><h1>Topic 2024</h1></body></html>", "https://e.com/")[1] is None


# ------------------------------------------------------------------- discover() live


class Site:
    """A LocalServer whose routes are set per test: path (no query) -> handler."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.server = LocalServer(self.app)
        self.base = self.server.base_url

    def app(self, path: str, headers: dict[str, str]) -> Response:
        route = self.routes.get(urlsplit(path).path)
        return route(path, headers) if route else NOT_FOUND

    def paths(self) -> list[str]:
        return [path for _, path, _ in self.server.log]


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
    return shared_site


def run(site: Site, *sources: object, **dossier: object) -> Discovery:
    settings = Settings(allow_private_addresses=True, requests_per_second=1000, max_retries=0)
    d = Dossier.model_validate({"slug": "t", "sources": list(sources), "settings": settings, **dossier})
    return discover(d, Politeness(settings))


def page(links: list[str], heading: str = "Topic", extra: str = "") -> Response:
    anchors = "".join(f'<li><a href="{h}">{h}</a></li>' for h in links)
    body = (f"<html><head><title>{heading}</title>{extra}</head><body><nav><a href='/'>Home</a>"
            f"<a href='/about/'>About</a></nav><h1>{heading}</h1><ul>{anchors}</ul></body></html>")
    return Response(200, body.encode(), HTML)


def page_number(path: str) -> int:
    return int(parse_qs(urlsplit(path).query).get("page", ["1"])[0])


def listing(site: Site, **extra: object) -> dict[str, object]:
    return {"kind": "listing", "url": f"{site.base}/topic/?page={{page}}", "link_pattern": "/articles/", **extra}


def urls(discovery: Discovery) -> list[str]:
    return [d.url for d in discovery.urls]


def norm(url: str) -> str:
    result = identity_url(url)
    assert result is not None
    return result


def test_listing_stops_at_max_pages(site: Site) -> None:
    """An endless listing is walked for max_pages pages only."""
    site.routes["/topic/"] = lambda p, h: page([f"/articles/p{page_number(p)}-{i}" for i in (1, 2)])
    out = run(site, listing(site, max_pages=3))
    assert out.pages_fetched == 3
    assert sum(p.startswith("/topic/") for p in site.paths()) == 3
    assert urls(out) == [norm(f"{site.base}/articles/p{n}-{i}") for n in (1, 2, 3) for i in (1, 2)]
    assert out.failures == []


def test_listing_stops_at_404_without_failure(site: Site) -> None:
    """A 404 past the last page ends pagination quietly; first_page is honoured."""
    def topic(p: str, h: dict[str, str]) -> Response:
        n = page_number(p)
        return page([f"/articles/p{n}"], heading="Topic (2)") if n <= 1 else NOT_FOUND
    site.routes["/topic/"] = topic
    out = run(site, listing(site, first_page=0, max_pages=10))
    assert out.pages_fetched == 3  # pages 0, 1 and the 404 at 2
    assert urls(out) == [norm(f"{site.base}/articles/p0"), norm(f"{site.base}/articles/p1")]
    assert out.expected == 2
    assert out.failures == []


def test_listing_stops_when_a_page_adds_nothing(site: Site) -> None:
    """A site that serves page 1 again for any page number must not be walked to max_pages."""
    site.routes["/topic/"] = lambda p, h: page(["/articles/a", "/articles/b"])
    out = run(site, listing(site, max_pages=10))
    assert out.pages_fetched == 2
    assert urls(out) == [norm(f"{site.base}/articles/a"), norm(f"{site.base}/articles/b")]


def test_listing_follows_rel_next_when_not_templated(site: Site) -> None:
    """Without {page} in the URL, pagination follows rel=next until there is none."""
    def topic(p: str, h: dict[str, str]) -> Response:
        n = page_number(p)
        nxt = f'<link rel="next" href="/topic/?page={n + 1}">' if n < 3 else ""
        return page([f"/articles/n{n}"], extra=nxt)
    site.routes["/topic/"] = topic
    out = run(site, {"kind": "listing", "url": f"{site.base}/topic/", "link_pattern": "/articles/"})
    assert out.pages_fetched == 3
    assert urls(out) == [norm(f"{site.base}/articles/n{n}") for n in (1, 2, 3)]


def test_listing_failure_is_recorded(site: Site) -> None:
    """A listing page that fails (500) is recorded as a source failure, not raised."""
    site.routes["/topic/"] = lambda p, h: Response(500, b"oops", HTML)
    out = run(site, listing(site))
    assert out.urls == []
    assert out.failures == [{"source_url": f"{site.base}/topic/?page=1", "reason": "http_500"}]


def test_an_empty_listing_page_is_a_failure_and_the_other_sources_are_read(site: Site) -> None:
    site.routes["/topic/"] = lambda p, h: Response(200, b'<?xml version="1.0"?>', HTML)  # a prolog, no page
    feed = FEED_WITH_A_BAD_LINK.replace(b"https://e.com", site.base.encode())
    site.routes["/feed.xml"] = lambda p, h: Response(200, feed, XML)
    out = run(site, listing(site), {"kind": "feed", "url": f"{site.base}/feed.xml"})
    assert out.failures == [{"source_url": f"{site.base}/topic/?page=1",
                             "reason": "bad_listing: not a parseable HTML page: Document is empty"}]
    assert urls(out) == [norm(f"{site.base}/a/2")]


FEED_WITH_A_BAD_LINK = (b'<?xml version="1.0"?><rss version="2.0"><channel><title>E</title>'
                        b"<item><title>One</title><link>http://[::1</link></item>"
                        b"<item><title>Two</title><link>https://e.com/a/2</link></item></channel></rss>")


def test_one_link_that_is_no_url_costs_that_link_only() -> None:
    """A sitemap's or a feed's entry that no URL parser reads ("http://[::1") is skipped; the
    document's other links are kept (a ValueError would have made it "not a sitemap")."""
    sitemap = (f'<?xml version="1.0"?><urlset {SM_NS}><url><loc>http://[::1</loc></url>'
               "<url><loc>https://e.com/a/1</loc></url></urlset>").encode()
    assert [item.url for item in sitemap_links(sitemap, "https://e.com/s.xml", ["e.com"], "sitemap", "s")[0]] == [
        "https://e.com/a/1"]
    assert parse_feed(FEED_WITH_A_BAD_LINK, "https://e.com/feed.xml") == [("https://e.com/a/2", {"title": "Two"})]


def test_character_references_to_utf16_halves_cost_no_document() -> None:
    """CMSs that escape an emoji's two UTF-16 code units write "&#55357;&#56832;": XML forbids
    them, and lxml failed on the whole sitemap, feedparser on the whole feed. The pair is the
    emoji, a lone half U+FFFD, as an HTML parser reads them."""
    feed = (b'<?xml version="1.0"?><rss version="2.0"><channel><title>E</title><item><title>Bravo &#55357;&#56832; '
            b"&#xD800;</title><link>https://e.com/a/1</link></item></channel></rss>")
    assert parse_feed(feed, "https://e.com/feed.xml") == [("https://e.com/a/1", {"title": "Bravo \U0001F600 \ufffd"})]
    sitemap = (f'<?xml version="1.0"?><urlset {SM_NS}><url><loc>https://e.com/a/1</loc></url>'
               "<url><loc>https://e.com/a/2?q=&#xDE00;</loc></url></urlset>").encode()
    assert parse_sitemap(sitemap, "https://e.com/s.xml")[0] == [("https://e.com/a/1", {}),
                                                               ("https://e.com/a/2?q=\ufffd", {})]


def test_an_xhtml_listing_with_an_xml_declaration_is_read() -> None:
    body = ('<?xml version="1.0" encoding="iso-8859-1"?><!DOCTYPE html><html xmlns="http://www.w3.org/1999/xhtml">'
            '<head><title>Dossier : Syrie (2)</title></head><body><a href="/a/1">Première</a></body></html>'
            ).encode("iso-8859-1")
    assert parse_listing(body, "https://e.com/dossier/") == (["https://e.com/a/1"], 2, None)


def test_links_outside_allowed_domains_are_dropped(site: Site) -> None:
    """Links to other hosts (even the same server under another name) are not discovered,
    and an off-domain child sitemap is not fetched."""
    port = urlsplit(site.base).port
    site.routes["/topic/"] = lambda p, h: page(
        ["/articles/in", f"http://localhost:{port}/articles/alias", "https://elsewhere.example/articles/out"])
    site.routes["/sitemap.xml"] = lambda p, h: Response(200, (
        f'<?xml version="1.0"?><sitemapindex {SM_NS}>'
        f"<sitemap><loc>http://localhost:{port}/child.xml</loc></sitemap></sitemapindex>").encode(), XML)
    site.routes["/feed.xml"] = lambda p, h: Response(200, (
        '<?xml version="1.0"?><rss version="2.0"><channel>'
        "<item><link>https://elsewhere.example/articles/feed</link></item>"
        f"<item><link>{site.base}/articles/feed-in</link></item></channel></rss>").encode(), XML)
    out = run(site, listing(site, max_pages=1),
              {"kind": "sitemap", "url": f"{site.base}/sitemap.xml"},
              {"kind": "feed", "url": f"{site.base}/feed.xml"})
    assert urls(out) == [norm(f"{site.base}/articles/in"), norm(f"{site.base}/articles/feed-in")]
    assert "/child.xml" not in site.paths()


def test_link_pattern_filters_listing_links(site: Site) -> None:
    """Only links matching link_pattern are kept; navigation and other links are not."""
    site.routes["/topic/"] = lambda p, h: page(
        ["/articles/2024/one", "/articles/two", "/tags/x", "/about/team", "/articles/2023/three"])
    out = run(site, listing(site, max_pages=1, link_pattern=r"/articles/\d{4}/"))
    assert urls(out) == [norm(f"{site.base}/articles/2024/one"), norm(f"{site.base}/articles/2023/three")]


def test_url_found_by_two_sources_keeps_first_kind_and_merges_hints(site: Site) -> None:
    """Sources are walked in config order; a URL seen twice keeps its first source and
    gains the later source's hints."""
    site.routes["/topic/"] = lambda p, h: page(["/articles/a", "/articles/b"])
    site.routes["/feed.xml"] = lambda p, h: Response(200, (
        '<?xml version="1.0"?><rss version="2.0"><channel>'
        f"<item><title>B</title><link>{site.base}/articles/b</link>"
        "<pubDate>Mon, 04 Mar 2024 10:00:00 GMT</pubDate></item>"
        f"<item><title>C</title><link>{site.base}/articles/c</link></item></channel></rss>").encode(), XML)
    site.routes["/sitemap.xml"] = lambda p, h: Response(200, (
        f'<?xml version="1.0"?><urlset {SM_NS}><url><loc>{site.base}/articles/c</loc>'
        "<lastmod>2024-03-05</lastmod></url></urlset>").encode(), XML)
    out = run(site, listing(site, max_pages=1),
              {"kind": "feed", "url": f"{site.base}/feed.xml"},
              {"kind": "sitemap", "url": f"{site.base}/sitemap.xml"})
    found = {d.url: d for d in out.urls}
    assert urls(out) == [norm(f"{site.base}/articles/{x}") for x in "abc"]
    b, c = found[norm(f"{site.base}/articles/b")], found[norm(f"{site.base}/articles/c")]
    assert (b.source_kind, b.source_url) == ("listing", f"{site.base}/topic/?page=1")
    assert b.hints == {"feed_date": "Mon, 04 Mar 2024 10:00:00 GMT", "title": "B"}
    assert c.source_kind == "feed"
    assert c.hints == {"title": "C", "sitemap_lastmod": "2024-03-05"}


def test_sitemap_index_with_gzip_child(site: Site) -> None:
    """A sitemap index is followed into plain and gzip children, keeping lastmod hints."""
    site.routes["/sitemap.xml"] = lambda p, h: Response(200, (
        f'<?xml version="1.0"?><sitemapindex {SM_NS}><sitemap><loc>{site.base}/s1.xml</loc></sitemap>'
        f"<sitemap><loc>/s2.xml.gz</loc></sitemap></sitemapindex>").encode(), XML)
    site.routes["/s1.xml"] = lambda p, h: Response(200, (
        f'<?xml version="1.0"?><urlset {SM_NS}><url><loc>{site.base}/articles/1</loc>'
        "<lastmod>2024-01-02</lastmod></url></urlset>").encode(), XML)
    site.routes["/s2.xml.gz"] = lambda p, h: Response(200, gzip.compress(
        f'<?xml version="1.0"?><urlset {SM_NS}><url><loc>{site.base}/articles/2</loc></url></urlset>'.encode()),
        {"Content-Type": "application/gzip"})
    out = run(site, {"kind": "sitemap", "url": f"{site.base}/sitemap.xml"})
    assert urls(out) == [norm(f"{site.base}/articles/1"), norm(f"{site.base}/articles/2")]
    assert out.urls[0].hints == {"sitemap_lastmod": "2024-01-02"}
    assert out.pages_fetched == 3


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<url><loc>{base}/articles/&lol9;</loc></url>
<url><loc>&lol9;</loc></url>
</urlset>"""


def serve_billion_laughs(site: Site) -> Discovery:
    site.routes["/sitemap.xml"] = lambda p, h: Response(200, BILLION_LAUGHS.replace("{base}", site.base).encode(), XML)
    started = time.perf_counter()
    out = run(site, {"kind": "sitemap", "url": f"{site.base}/sitemap.xml"})
    assert time.perf_counter() - started < 0.5
    return out


def test_billion_laughs_sitemap_is_not_expanded(site: Site) -> None:
    """Nested entity definitions are never expanded: discovery returns fast and no URL
    carries the expanded text."""
    out = serve_billion_laughs(site)
    assert not any("lollol" in u for u in urls(out))


def test_billion_laughs_sitemap_yields_no_url(site: Site) -> None:
    """A hostile sitemap is rejected or yields nothing: a <loc> cut at the unexpanded
    entity must not turn into another page's URL (here the /articles/ index)."""
    out = serve_billion_laughs(site)
    assert urls(out) == []


def test_listing_honours_charset_from_http_header(site: Site) -> None:
    """A UTF-8 listing whose charset is only in the Content-Type header (no <meta>) still
    gives its "(1 234)" count and non-ASCII links unmangled."""
    body = "<html><body><h1>Réforme des retraites (1\u00a0234)</h1><a href='/articles/réforme'>r</a></body></html>"
    site.routes["/topic/"] = lambda p, h: Response(200, body.encode("utf-8"), HTML)
    out = run(site, listing(site, max_pages=1))
    assert out.expected == 1234
    assert urls(out) == [norm(f"{site.base}/articles/réforme")]

