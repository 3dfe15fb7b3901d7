"""Extraction and normalisation on real pages: the article and nothing else."""

from __future__ import annotations

import copy
import importlib
from datetime import UTC, datetime
from pathlib import Path

import lxml.etree
import pytest
import trafilatura
from conftest import EXPECTATIONS, PAGES, SITE
from trafilatura import metadata, xpaths

from dossier_pipeline.tasks import pagemeta
from dossier_pipeline.tasks.demo.site import DemoSite
from dossier_pipeline.tasks.extract import (
    Page,
    decode_html,
    extract_page,
    lead_paragraph,
    page_signals,
    parse_html,
)
from dossier_pipeline.tasks.furniture import match_classes, rules_for
from dossier_pipeline.tasks.normalise import choose_title, clean_authors, parse_date
from dossier_pipeline.tasks.pagemeta import DATE_PARAMS, trafilatura_metadata


def _page(body: bytes, url: str, language: str | None = None, content_type: str | None = None) -> Page:
    host = url.split("/")[2]
    ctx = {"dossier": "t", "url": url, "final_url": url, "source_kind": "urls", "source_url": "test",
           "fetched_at": datetime(2026, 1, 1, tzinfo=UTC), "http_status": 200, "pipeline_version": "test",
           "run_id": "r", "domains": [host], "timezone": "Europe/Paris"}
    return Page(0, url, body, content_type, language, ctx)


@pytest.mark.parametrize("name", PAGES)
def test_real_pages_keep_the_article_and_drop_the_rest(name: str) -> None:
    exp = EXPECTATIONS[name]
    result = extract_page(_page((SITE / "pages" / name).read_bytes(), exp["url"]))
    assert result["status"] == "ok", result
    record = result["record"]
    for snippet in exp["with"]:
        assert snippet in record["text"]
    removed = sum(snippet not in record["text"] for snippet in exp["without"])
    assert removed >= len(exp["without"]) - 1, [s for s in exp["without"] if s in record["text"]]
    assert record["title"] and record["published_at"] is not None


@pytest.mark.parametrize("character", ["\x10", "\x0b", "\x00", "\ufffe", "&#16;", "&#x0B;", "&#11", "&#xFFFF;"])
def test_an_article_holding_a_character_xml_forbids_is_kept(character: str) -> None:
    """Gothamist's page (tests/corpus) has a U+0010 in a paragraph: lxml refused the text trafilatura
    set, which lost the article. Such characters, as such or as references, are dropped at parsing;
    the characters around them, and a reference to an allowed one ("&#110;"), stay."""
    page = (Path(__file__).parent / "corpus" / "pages" / "mercury-gothamist.com.html").read_bytes()
    assert page.count(b"\x10") == 1
    body = page.replace(b"\x10", character.encode()).replace(b"in the basement", b"in the baseme&#110;t")
    result = extract_page(_page(body, "http://gothamist.com/2017/03/09/fallout_shelters_nyc.php"))
    assert result["status"] == "ok", result
    text = result["record"]["text"]
    assert "in the basement with sewage pipes dripping down and rats running around" in text
    assert "The public ones are probably just large enclosed spaces" in text
    assert character not in text and "\x10" not in text


def test_the_body_is_never_furniture_whatever_its_classes_say() -> None:
    """A Squarespace page (tests/corpus: ethanchlebowski.com) lists its theme's settings as its
    <body>'s classes ("tweak-share-buttons-style-icon-only"): the share-box rule marked the whole
    body as furniture, and the article was lost. The share box inside it is still furniture."""
    page = (Path(__file__).parent / "corpus" / "pages" / "rs-ethanchlebowski.html").read_bytes()
    assert b"tweak-share-buttons-style-icon-only" in page.split(b"<body", 1)[1].split(b">", 1)[0]
    result = extract_page(_page(page, "https://www.ethanchlebowski.com/cooking-techniques-recipes/huevos-rancheros"))
    assert result["status"] == "ok", result
    text = result["record"]["text"]
    assert "Heat the salsa ranchera in the microwave or a pan until warmed through." in text
    assert "Tumblr" not in text and "Likes" not in text  # the post's share buttons


def test_an_article_its_scripts_render_is_read_from_the_applications_state() -> None:
    """KECI's page (tests/pages) holds its story only in its application's state, a JSON string of
    HTML paragraphs: trafilatura finds no article in the markup; the row's text is the state's
    paragraphs whose text holds the page's description, and its extractor says where it was read."""
    page = (Path(__file__).parent / "pages" / "nbcmontana.com.nebraska-crash.html").read_bytes()
    url = "https://nbcmontana.com/news/local/2-women-killed-children-hurt-in-western-nebraska-crash"
    result = extract_page(_page(page, url))
    assert result["status"] == "ok", result
    record = result["record"]
    assert record["text"].startswith("Authorities say two women were killed and three children were seriously hurt")
    assert record["text"].endswith("Several animals in the trailers also were killed in the crash.")
    assert record["text"].count("\n\n") == 5 and "RED FLAG WARNING" not in record["text"]  # another story's
    assert record["extractor"].endswith("text: script") and record["agency"] == "AP"
    assert record["title"] == "2 women killed, children hurt in western Nebraska crash"


def test_an_article_whose_markup_shows_no_text_is_read_from_its_json_ld_article_body() -> None:
    """Engadget's page (tests/corpus) with its paragraphs removed, as a page that scripts render
    serves it: trafilatura finds only a privacy notice, and the text is the JSON-LD articleBody.
    Not on a paywalled page, whose hidden text is not the public's: its row keeps what it shows."""
    page = (Path(__file__).parent / "corpus" / "pages" / "ms-engadget.html").read_text(encoding="utf-8")
    url = "https://www.engadget.com/2019/01/07/all-github-users-keep-code-private"
    tree = parse_html(page)
    for paragraph in tree.xpath("//body//p"):
        paragraph.drop_tree()
    rendered = lxml.etree.tostring(tree, encoding="unicode", method="html")
    result = extract_page(_page(rendered.encode(), url))
    assert result["status"] == "ok", result
    record = result["record"]
    assert record["text"].startswith("Historically, if you've wanted to create a private repository on GitHub")
    assert record["word_count"] > 200 and record["extractor"].endswith("text: JSON-LD articleBody")
    paywalled = rendered.replace('"articleBody":', '"isAccessibleForFree": false, "articleBody":', 1)
    walled = extract_page(_page(paywalled.encode(), url))["record"]
    assert walled["access"] == "paywall" and "private repository" not in walled["text"]
    # the page as served: trafilatura's text, as before
    assert extract_page(_page(page.encode(), url))["record"]["extractor"] == f"trafilatura {trafilatura.__version__}"


def test_publication_dates_at_least_as_good_as_trafilatura() -> None:
    """The trusted-source order (JSON-LD, meta, <time>, htmldate) never loses to plain
    trafilatura on these pages (zeit.de gives a print date its markup does not carry)."""
    ours = theirs = 0
    for name in PAGES:
        body, expected = (SITE / "pages" / name).read_bytes(), EXPECTATIONS[name]["date"]
        record = extract_page(_page(body, EXPECTATIONS[name]["url"]))["record"]
        ours += record["published_at"].date().isoformat() == expected
        theirs += trafilatura.bare_extraction(body, with_metadata=True).date == expected
    assert ours >= theirs and ours >= len(PAGES) - 2


def test_metadata_is_trafilaturas() -> None:
    """trafilatura_metadata re-runs trafilatura's extract_metadata without its tags and licence
    searches: the fields the pipeline reads must be the same, and the page's tree untouched."""
    for name in PAGES:
        tree = parse_html(decode_html((SITE / "pages" / name).read_bytes(), None))
        before = lxml.etree.tostring(tree)
        ours = trafilatura_metadata(tree, EXPECTATIONS[name]["url"])
        assert lxml.etree.tostring(tree) == before
        theirs = trafilatura.extract_metadata(copy.copy(tree), EXPECTATIONS[name]["url"], dict(DATE_PARAMS))
        for field in ("title", "author", "date", "description", "sitename", "categories", "url"):
            assert getattr(ours, field) == getattr(theirs, field), (name, field)


def test_author_search_finds_what_trafilaturas_finds() -> None:
    """pagemeta's one-walk author search gives trafilatura's extract_author's name on every real
    page the tests hold, and runs: the installed trafilatura's XPaths are those it was read off."""
    assert pagemeta.extract_author is not metadata.extract_author
    tests = Path(__file__).parent
    pages = [*(SITE / "pages").iterdir(), *(tests / "corpus" / "pages").iterdir(), *(tests / "pages").glob("*.html")]
    found = 0
    for path in pages:
        tree = parse_html(decode_html(path.read_bytes(), None))
        theirs = metadata.extract_author(tree)
        assert pagemeta.extract_author(tree) == theirs, path.name
        found += theirs is not None
    assert len(pages) > 200 and found > 100  # the comparison saw real bylines
    for html, name in (("""<div class="sidebar"><span class="author">Not Her</span></div>
                        <div class="byline">By <time>May 3</time>Jane Roe</div>""", "Jane Roe"),
                       ("<p><rel>me</rel> Jane Roe</p>", "Me Jane Roe")):  # trafilatura's rel='me': a child
        tree = parse_html(f"<html><body>{html}</body></html>")
        assert pagemeta.extract_author(tree) == metadata.extract_author(tree) == name


def test_author_search_is_trafilaturas_own_with_other_xpaths(monkeypatch: pytest.MonkeyPatch) -> None:
    """A trafilatura whose author XPaths are not those pagemeta was read off (here one that is
    no whole-tree search) gets its own extract_author, and the module still imports."""
    monkeypatch.setattr(xpaths, "AUTHOR_XPATHS", [lxml.etree.XPath("(//a)[1]")])
    try:
        assert importlib.reload(pagemeta).extract_author is metadata.extract_author
    finally:
        monkeypatch.undo()
        importlib.reload(pagemeta)
    assert pagemeta.extract_author is not metadata.extract_author


def test_class_name_rules() -> None:
    """One pass over the classed elements: furniture marked for pruning unless it holds a long
    paragraph, related-links blocks, caption credits (in a <figure> for the generic names)."""
    long = "Un paragraphe de l'article, assez long pour être du contenu. " * 5
    tree = parse_html(f"""<html><body><article><div class="social_share"><a href="/s">Partager</a></div>
        <div class="article-with-related"><p>{long}</p></div>
        <div class="read-also"><a href="/a">Autre article</a></div>
        <figure><img src="x.jpg"><span class="img-credit">AFP</span></figure>
        <span class="credit">not a caption</span><span class="photo-credit">Reuters</span></article></body></html>""")
    found = match_classes(tree)
    assert [e.get("class") for e in found.related] == ["read-also"]
    assert [e.text for e in found.credits] == ["AFP", "Reuters"]
    marked = tree.xpath(rules_for(None).prune_xpath[0])
    assert [e.get("class") for e in marked] == ["social_share", "read-also"]


def test_seed_like_page_furniture_is_removed() -> None:
    site = DemoSite()
    site.base = "http://127.0.0.1:9"
    article = site.articles[0]
    result = extract_page(_page(site.article_page(article).encode(), site.base + article.path, "fr"))
    record = result["record"]
    assert record["text"].split("\n\n")[1:] == article.data["paragraphs"]
    assert record["tags"] == article.data["tags"]
    assert record["section"] == article.data["section"]
    assert record["dossier_labels"] == ["Sécheresse et gestion de l'eau en Occitanie"]
    assert len(record["related_urls"]) == 3 and all(u.startswith(site.base) for u in record["related_urls"])
    assert record["published_at"] == datetime.fromisoformat(article.data["published"]).astimezone(UTC)
    assert record["date_source"] == "jsonld" and record["date_precision"] == "second"


@pytest.mark.parametrize("encoding", ["cp1251", "latin-1"])
def test_legacy_charsets_decode_to_correct_text(encoding: str) -> None:
    text = "Москва: новости дня" if encoding == "cp1251" else "Numéro spécial: l'été à Montréal"
    html = f"<html><head><meta charset='{encoding}'></head><body><p>{text}</p></body></html>".encode(encoding)
    assert text in decode_html(html, f"text/html; charset={encoding}")
    assert text in decode_html(html, "text/html; charset=utf-8")  # wrong header: the meta and detection win


def test_empty_and_non_article_pages_are_not_articles() -> None:
    assert extract_page(_page(b"", "http://a.org/x"))["status"] == "not_article"
    nav = b"<html><body><nav><a href='/a'>A</a> <a href='/b'>B</a></nav></body></html>"
    assert extract_page(_page(nav, "http://a.org/x"))["status"] == "not_article"


@pytest.mark.parametrize("tag", ["div", "font"])
def test_an_article_nested_deeper_than_libxml2s_default_limit_is_read(tag: str) -> None:
    """Unclosed tags nest a page's text hundreds of levels deep: past 255, libxml2's parser
    (and so plain trafilatura) drops it; the page's parser allows libxml2's huge depth."""
    story = "<p>" + "The council approved the new tram line on Monday evening after a long debate. " * 4 + "</p>"
    body = f"<html><body><article><h1>Tram line approved</h1>{f'<{tag}>' * 600}{story}</article></body></html>"
    result = extract_page(_page(body.encode(), "https://daily.example/news/tram"))
    assert result["status"] == "ok" and "The council approved the new tram line" in result["record"]["text"]


def test_a_link_that_is_no_url_costs_that_link_only() -> None:
    story = "<p>" + "The council approved the new tram line on Monday evening after a long debate. " * 4 + "</p>"
    body = (f"<html><head><link rel='canonical' href='http://[::1'></head><body><article><h1>Tram line approved</h1>"
            f"{story}<p>Read also: <a href='http://[broken'>Bus strike</a></p></article></body></html>")
    result = extract_page(_page(body.encode(), "https://daily.example/news/tram"))
    assert result["status"] == "ok" and result["record"]["canonical_url"] == "https://daily.example/news/tram"


SCRIPTED = ('<html lang="en"><head><title>Port strike ends after nine days | Daily Example</title>'
            '<meta property="og:title" content="Port strike ends after nine days">'
            '<script type="application/ld+json">{"@context": "https://schema.org", "@type": "NewsArticle", '
            '"headline": "Port strike ends after nine days", "datePublished": "2024-03-30T09:15:00+01:00", '
            '"author": {"@type": "Person", "name": "Jane Doe"}, ACCESS "articleBody": "Dock workers voted on Friday '
            'to end the strike that had closed the port for nine days.\\n\\nThe union said the agreement raises '
            'wages by six per cent over two years and limits night shifts.\\nShipping lines expect the backlog of '
            'containers to clear within a week."}</script></head>'
            '<body><div id="root">BODY</div><script src="/app.js"></script></body></html>')


@pytest.mark.parametrize("body", ["", "<h1>Port strike ends after nine days</h1><p>Loading…</p>"])
def test_an_article_rendered_by_a_script_has_its_json_ld_body_as_text(body: str) -> None:
    """A page whose HTML holds no article (a script renders it in the browser) is an article
    when its JSON-LD carries the articleBody: that is its text (trafilatura's baseline reads it)."""
    page = SCRIPTED.replace("ACCESS", "").replace("BODY", body).encode()
    result = extract_page(_page(page, "https://daily.example/news/port-strike"))
    assert result["status"] == "ok", result
    record = result["record"]
    assert record["text"].startswith("Dock workers voted on Friday")
    assert record["text"].endswith("Shipping lines expect the backlog of containers to clear within a week.")
    assert (record["title"], record["authors"]) == ("Port strike ends after nine days", ["Jane Doe"])
    assert record["published_at_local"] == "2024-03-30T09:15:00+01:00"
    paywalled = SCRIPTED.replace("ACCESS", '"isAccessibleForFree": false,').replace("BODY", body).encode()
    assert extract_page(_page(paywalled, "https://daily.example/news/port-strike"))["record"]["access"] == "paywall"

@pytest.mark.parametrize(("value", "expected", "precision"), [
    ("2015-10-01T12:30:00+03:00", datetime(2015, 10, 1, 9, 30, tzinfo=UTC), "second"),
    ("2024-03-30T12:00:00", datetime(2024, 3, 30, 11, 0, tzinfo=UTC), "second"),  # CET, naive in Europe/Paris
    ("2024-04-01T12:00:00", datetime(2024, 4, 1, 10, 0, tzinfo=UTC), "second"),  # CEST after the DST change
    ("2024-03-31", datetime(2024, 3, 31, tzinfo=UTC), "day"),
    ("Tue, 01 Oct 2015 08:00:00 GMT", datetime(2015, 10, 1, 8, 0, tzinfo=UTC), "second"),
    ("Oct 1, 2015, 8:00 AM ET", datetime(2015, 10, 1, 12, 0, tzinfo=UTC), "second"),  # New York's clock, EDT
    ("1 October 2015 08:00 AEST", datetime(2015, 9, 30, 22, 0, tzinfo=UTC), "second"),
    ("20180619T055000+0900", datetime(2018, 6, 18, 20, 50, tzinfo=UTC), "second"),  # ISO 8601 basic (Nikkei)
])
def test_dates_are_converted_to_utc(value: str, expected: datetime, precision: str) -> None:
    assert parse_date(value, "Europe/Paris", datetime(2026, 1, 1, tzinfo=UTC))[:2] == (expected, precision)


def test_future_and_garbage_dates_are_refused() -> None:
    fetched = datetime(2020, 1, 1, tzinfo=UTC)
    assert parse_date("2021-01-01T00:00:00Z", "UTC", fetched) is None
    assert parse_date("not a date", "UTC", fetched) is None


def test_authors_are_split_and_cleaned() -> None:
    assert clean_authors(["Par Jean Dupont et Marie Curie"], set()) == ["Jean Dupont", "Marie Curie"]
    assert clean_authors(["By John Smith and Jane Doe"], set()) == ["John Smith", "Jane Doe"]
    assert clean_authors(["Иван Петров и Анна Смирнова"], set()) == ["Иван Петров", "Анна Смирнова"]
    assert clean_authors(["Le Courrier du Midi", "12/03/2024"], {"Le Courrier du Midi"}) == []


# Real-shaped headers of article pages (shapes seen on kookjij.nl, xinhuanet.com, brandeins.de,
# a WordPress theme, allnewlyrics.com, nytimes.com): <title>, og:title and <h1>s as published.
ARTICLE_BODY = f"<p>{'De koolrabi wordt in plakjes gesneden en met room en kaas in de oven gebakken. ' * 4}</p>" * 3


def _titled(head: str, header: str) -> str | None:
    html = (f"<html><head><meta charset='utf-8'>{head}</head>"
            f"<body>{header}<article>{ARTICLE_BODY}</article></body></html>")
    result = extract_page(_page(html.encode(), "https://www.example.org/recepten/koolrabi-ovenschotel"))
    assert result["status"] == "ok", result
    return result["record"]["title"]


@pytest.mark.parametrize(("head", "header", "title"), [
    # the <h1>, which the <title> confirms before its site and section names, wins over an og:title for sharing
    ("<title>Koolrabi ovenschotel - Online Recepten - KookJij</title>"
     "<meta property='og:title' content='Recept voor Koolrabi ovenschotel'>",
     "<h1>Koolrabi ovenschotel</h1>", "Koolrabi ovenschotel"),
    # a Chinese <title> adds the site without spaces; a Japanese one after a full-width colon
    ("<title>短缺药品保供稳价 全力保障临床用药需求-新华网</title>"
     "<meta property='og:title' content='短缺药品保供稳价 全力保障临床用药需求-新华网'>",
     "<h1>短缺药品保供稳价 全力保障临床用药需求</h1>",
     "短缺药品保供稳价 全力保障临床用药需求"),
    ("<title>メディア芸術祭賞が受賞：朝日新聞デジタル</title>"
     "<meta property='og:title' content='メディア芸術祭賞が受賞：朝日新聞デジタル'>",
     "<h1>メディア芸術祭賞が受賞</h1>", "メディア芸術祭賞が受賞"),
    # a kicker before the headline, the site after it
    ("<title>Rutger Bregman: Unser wahres Ich - brand eins online</title>"
     "<meta property='og:title' content='Rutger Bregman: Unser wahres Ich - brand eins online'>",
     "<h1>Unser wahres Ich</h1>", "Unser wahres Ich"),
    # typographic quotes as the page shows them, not as the meta tag simplifies them
    ("<title>A Paris-8, beaucoup d'actions - Bondy Blog</title>"
     "<meta property='og:title' content=\"A Paris-8, beaucoup d'actions - Bondy Blog\">",
     "<h1>A Paris-8, beaucoup d’actions</h1>", "A Paris-8, beaucoup d’actions"),
    # a blog theme's <h1> is its logo, a link home: the site's name, not the headline
    ("<title>Rinderleber mit Apfel und Zwiebel | Liebe geht durch den Magen</title>",
     "<div id='header'><h1><a href='https://www.example.org/'>Liebe geht durch den Magen</a></h1></div>",
     "Rinderleber mit Apfel und Zwiebel"),
    # an <h1> that is all the <title> is kept whole: what follows its colon is no site name
    ("<title>“Only One” Lyrics : PJ Morton (Ft. Stevie Wonder)</title>",
     "<h1>“Only One” Lyrics : PJ Morton (Ft. Stevie Wonder)</h1>", "“Only One” Lyrics : PJ Morton (Ft. Stevie Wonder)"),
    # a section label in an <h1> before the headline's: neither is taken from the <title> alone
    ("<title>Opinion | The Case for Koolrabi - The New York Times</title>"
     "<meta property='og:title' content='Opinion | The Case for Koolrabi'>"
     "<meta property='og:site_name' content='The New York Times'>",
     "<h1>Opinion</h1><h1>The Case for Koolrabi</h1>", "Opinion | The Case for Koolrabi"),
    # the page's one <h1> wins over candidates that say something else (an SEO title) ...
    ("<title>Autofinanzierung – Autokredit oder doch besser Leasing?</title>"
     "<meta property='og:title' content='Autofinanzierung – Autokredit oder doch besser Leasing?'>",
     "<h1>Finanzierung Ihres Autos</h1>", "Finanzierung Ihres Autos"),
    # ... unless it holds one of them after a section name, or is a label, or is one <h1> of several
    ("<title>Brothel catering to politicians busted in Boston</title>"
     "<meta property='og:title' content='Brothel catering to politicians busted in Boston'>",
     "<h1>Local News | Brothel catering to politicians busted in Boston</h1>",
     "Brothel catering to politicians busted in Boston"),
    ("<title>Gefahrstoff-Service - Qualisys</title><meta property='og:title' content='Gefahrstoff-Service'>",
     "<h1>Über uns</h1>", "Gefahrstoff-Service"),
    ("<title>The Modern Ambitions Behind Neon</title>"
     "<meta property='og:title' content='The Modern Ambitions Behind Neon'>",
     "<h1>Why neon is the symbol of the century</h1><h1>Read more about neon signs</h1>",
     "The Modern Ambitions Behind Neon"),
    # the one <h1> that is a headline among labels, over a title for sharing
    ("<title>The Insiders - Schnell aufgefrischtes Haar</title>"
     "<meta property='og:title' content='Möchtest Du The Insiders mit mir zusammen beitreten?'>",
     "<h1>Wellaflex – Schnell aufgefrischtes Haar mit dem Trockenshampoo</h1><h1>Anwendung</h1>",
     "Wellaflex – Schnell aufgefrischtes Haar mit dem Trockenshampoo"),
    # a one-word candidate no other holds is a label; one that another holds is the title
    ("<title>Impfen und Boostern ist bis Ende Februar möglich</title>"
     "<meta property='og:title' content='Medienmitteilungen'>", "", "Impfen und Boostern ist bis Ende Februar möglich"),
    ("<title>draft-dejong-remotestorage-04 - remoteStorage</title><meta property='og:title' content='remoteStorage'>",
     "", "remoteStorage"),
    # a link that closes or opens the <h1> (the edition's name, a kicker) is not the headline's;
    # a link inside it is
    ("<title>Anticorrupción recurre » Ultima Hora Mallorca</title>",
     "<h1><span>Anticorrupción decidirá si recurre</span><a href='/mallorca.html'>Ultima Hora Mallorca</a></h1>",
     "Anticorrupción decidirá si recurre"),
    ("<title>Why the vote in Ohio was late - Example News</title>",
     "<h1><a href='/politics'>Politics</a> Why the vote in Ohio was late</h1>",
     "Why the vote in Ohio was late"),
    ("<title>Why Ohio voted late again - Example News</title>",
     "<h1>Why <a href='/tags/ohio'>Ohio</a> voted late again</h1>",
     "Why Ohio voted late again"),
    # the site, named by its domain, written out after the headline (lastampa.it)
    ("<meta property='og:title' content='Il Nord mantiene temperature alte - La Stampa'>"
     "<meta property='og:site_name' content='lastampa.it'>", "", "Il Nord mantiene temperature alte"),
    # a kicker in an element of its own opens the <h1> (zeit.de, cicero.de): a label above the headline
    ("<meta property='og:title' content='Klimaschutz: Bohren, bis es heiß wird'>",
     "<h1><span class='article-heading__kicker'>Klimaschutz</span><span class='visually-hidden'>: </span>"
     "<span class='article-heading__title'>Bohren, bis es heiß wird</span></h1>", "Bohren, bis es heiß wird"),
    ("<title>Initiative EnergieEffizienz Kostenloser Stromcheck</title>",
     "<h1><span class='h1small'>Initiative EnergieEffizienz</span> Kostenloser Stromcheck für private Haushalte</h1>",
     "Kostenloser Stromcheck für private Haushalte"),
    ("<title>Climate Short one</title>",  # what stays would be too short for a headline: the whole <h1>
     "<h1><span class='kicker'>Climate</span> Short one</h1>", "Climate Short one"),
    # a section's name before the headline in the title, the section an <h1> of its own (energias-renovables.com)
    ("<title>Autoconsumo - Cómo montar paso a paso una comunidad energética - Energías Renovables</title>",
     "<h1>autoconsumo</h1><h1>Cómo montar paso a paso una comunidad energética</h1>",
     "Cómo montar paso a paso una comunidad energética"),
    # the one <h1> says another thing than an SEO title of the same story (fortune.com), or a
    # compound's part (comparis.ch); not a search box's or a section's <h1> (coolhunting.com, sfchronicle.com)
    ("<title>Will Rackspace support Google's or Amazon's clouds?</title>",
     "<h1>Does Rackspace’s future lie in supporting someone else’s cloud?</h1>",
     "Does Rackspace’s future lie in supporting someone else’s cloud?"),
    ("<title>Autofinanzierung – Autokredit oder doch besser Leasing?</title>", "<h1>Finanzierung Ihres Autos</h1>",
     "Finanzierung Ihres Autos"),
    ("<meta property='og:title' content='Otherworldy Images of a Glass Recycling Factory'>",
     "<h1>No matches for your search</h1>", "Otherworldy Images of a Glass Recycling Factory"),
    ("<meta property='og:title' content='Odd-jobs matchmaker Thumbtack gets big funds, joins unicorn club'>",
     "<h1>Biz &amp; Tech</h1>", "Odd-jobs matchmaker Thumbtack gets big funds, joins unicorn club"),
])
def test_the_title_is_the_headline_the_page_shows(head: str, header: str, title: str) -> None:
    assert _titled(head, header) == title


def test_a_logo_after_a_longer_title_is_no_headline() -> None:
    """pixnet.net: "<post> @ <blog> :: 痞客邦 PIXNET ::" and the host's logo in an <h1>; what a dash
    puts before a headline is a section's name only when shorter than it (normalise.SECTION_BEFORE)."""
    assert choose_title(["Hiking in the Jianshi hills - Blogland"], set(), ["Blogland"]) != "Blogland"


def test_a_site_named_by_its_domain_before_the_headline_is_not_part_of_it() -> None:
    """bmas.de: "BMAS - Änderung der Anforderungen …", og:site_name "www.bmas.de"."""
    title = "BMAS  -  Änderung der Anforderungen an Impf- und Genesenennachweise"
    assert choose_title([title], {"www.bmas.de"}, [], {"www.bmas.de"}) == title.split("  -  ")[1]


@pytest.mark.parametrize(("title", "headline"), [
    # a Chinese site's name closing a <title> without spaces, and the section an underscore puts before it
    ("法国全国大罢工再次严重影响交通-新华网", "法国全国大罢工再次严重影响交通"),
    ("天奇股份中标广汽丰田项目；运达股份中标7亿元项目_证券时报网", "天奇股份中标广汽丰田项目；运达股份中标7亿元项目"),
    ("海外留学生看两会：出国前后关注点大不同_教育频道_中国青年网", "海外留学生看两会：出国前后关注点大不同"),
    ("山西品牌丝路行（南美站）正式启动 - 山西省人民政府门户网站", "山西品牌丝路行（南美站）正式启动"),
    ("交通-新华网", "交通-新华网"),  # too short a headline would be left: the title stays whole
    ("中华人民共和国监察法-纪检", "中华人民共和国监察法-纪检"),  # a section, not a website's name
])
def test_a_chinese_sites_name_after_the_headline(title: str, headline: str) -> None:
    assert choose_title([title], set()) == headline


BODY = "The regional council approved the new tram line after a debate that lasted most of the night."
OTHER = "Zebras ate every lettuce of the allotment garden while the town council looked away."


@pytest.mark.parametrize(("between", "lead"), [
    ("<div class='share'><a href='/x'>Share</a></div><div class='article__lead'>{}</div>", OTHER),
    ("<div class='perex'><p><strong>{}</strong></p></div>", OTHER),
    ("<div class='teaser_text'>{}</div>", OTHER),  # the article's own teaser (winfuture.de), not in a card
    # a writer's bio, a caption, another article's teaser, the site's slogan, a block of blocks,
    # a call to subscribe; and a lead that the body already holds
    ("<div class='author-description'>{}</div>", None),
    ("<figure><figcaption><span class='image-description'>{}</span></figcaption></figure>", None),
    ("<div class='teaser'><p class='teaser-text'>{}</p></div>", None),
    ("<div class='site-branding'><p class='description'>{}</p></div>", None),
    ("<div class='intro'><div><img src='a.jpg'></div><p>{}</p></div>", None),
    ("<div class='newsletter'><p class='summary'>{}</p></div>", None),
    (f"<p class='lead'>{BODY}</p>", None),
])
def test_the_lead_between_the_headline_and_the_body(between: str, lead: str | None) -> None:
    tree = parse_html(f"<html><body><article><h1>Tram line approved</h1>{between.format(OTHER)}"
                      f"<div class='article__body'><p>{BODY}</p></div></article></body></html>")
    assert lead_paragraph(tree, ["Tram line approved"], BODY, match_classes(tree).leads) == lead


def test_no_lead_after_the_body_starts() -> None:
    tree = parse_html(f"<html><body><h1>Tram line approved</h1><p>{BODY}</p><p class='summary'>{OTHER}</p>"
                      "</body></html>")
    assert lead_paragraph(tree, ["Tram line approved"], BODY, match_classes(tree).leads) is None


def test_steps_shown_as_checkbox_labels_are_text() -> None:
    """trafilatura drops every <label>; a label holding a sentence outside a form is the
    article's (matprat.no's recipe steps), a form's label is not."""
    steps = [f"Step {n}: {BODY}" for n in range(1, 4)]
    items = "".join(f"<li><label><input type='checkbox'><span>{step}</span></label></li>" for step in steps)
    html = (f"<html><body><article><h1>Tram line approved</h1><p>{OTHER} {OTHER}</p><ol>{items}</ol>"
            "<form><label>Receive the newsletter by e-mail every morning at seven, for free</label>"
            "<input type='email'></form><label>Dark mode</label></article></body></html>")
    text = extract_page(_page(html.encode(), "https://news.example.org/2024/05/03/tram.html"))["record"]["text"]
    assert all(step in text for step in steps)
    assert "newsletter" not in text and "Dark mode" not in text


@pytest.mark.parametrize("card", ["SimpleCard-root", "RelatedArticles-list", "simple-card", "teaser"])
def test_times_of_other_stories_are_not_the_articles(card: str) -> None:
    """A card's or a related list's <time> dates another story, whatever the naming style of
    its class: words run together in capitals ("SimpleCard-root", CSS modules) as apart."""
    tree = parse_html(f'<html><body><div class="{card}"><a href="/other">Other story</a><time '
                      'datetime="2019-06-14T12:39:32+00:00">14 jun</time></div><article><h1>Headline</h1><time '
                      'datetime="2019-05-07T22:03:26+00:00">7 May</time><p>Text.</p></article></body></html>')
    assert page_signals(tree, rules_for("en"), match_classes(tree))["times"] == ["2019-05-07T22:03:26+00:00"]


def test_the_time_in_the_headlines_header_is_the_bylines() -> None:
    """techpowerup.com: no <article> around the review; its <header> holds the headline and the
    byline's <time>, while a forum widget beside it is an <article> of bylined posts. The
    headline's header is the article's, not the site's: its byline's time comes first."""
    tree = parse_html(
        '<html><body><div class="page"><header class="clearfix"><h1>Valkyrie V240 LITE Review</h1><div '
        'class="byline"><div>on <time datetime="2025-05-16T14:15:00+00:00">May 16th, 2025</time></div></div>'
        '</header><p>Text.</p><article class="s--item s--newposts"><ul><li><div class="s--newposts__byline">'
        '<time datetime="2025-05-18T20:07:47+0000">20:07</time></div></li></ul></article></div></body></html>')
    assert page_signals(tree, rules_for("en"), match_classes(tree))["times"][0] == "2025-05-16T14:15:00+00:00"
