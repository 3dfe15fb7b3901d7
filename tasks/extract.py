"""Extraction: raw HTML bytes -> article text and raw metadata candidates.

trafilatura does the text and its own metadata; this module adds what it lacks for
news dossiers: structured-data candidates (JSON-LD, OpenGraph/article meta, <time>) kept
separately so normalise.py can choose by trust, the page's tag list, "Dossier:" labels
and "Lire aussi" links, and furniture removal rules (furniture.py). Each page is parsed
once: the tree read here is handed to trafilatura (which works on its own copy) and to its
metadata functions, and the plain text and the Markdown are both serialised from
trafilatura's one body tree, once the furniture is pruned from it. Extraction is CPU-bound
pure Python (workers.py runs it on a process pool) and is the pipeline's bottleneck:
bench/extract_cpu.py measures each stage's CPU time against plain trafilatura.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache, partial
from html import unescape
from itertools import chain
from typing import Any, cast
from urllib.parse import unquote, urlsplit

import lxml.html
import trafilatura
import trafilatura.utils
from lxml import etree
from trafilatura.metadata import Document
from trafilatura.xml import xmltotxt

from dossier_pipeline.tasks.blocks import PAYWALL_STUB_WORDS, access_of, declares_paywall, wall_in
from dossier_pipeline.tasks.contracts import Extraction, ExtractionStatus
from dossier_pipeline.tasks.embedded import declares_an_article, embedded_paragraphs
from dossier_pipeline.tasks.encoding import decode_html
from dossier_pipeline.tasks.furniture import (
    MIN_HEADLINE_WORDS,
    PRUNE_MARK,
    ClassMatches,
    CompiledRules,
    headline_holders,
    match_classes,
    prune_body,
    rules_for,
)
from dossier_pipeline.tasks.normalise import (
    BYLINE_PHRASES,
    UPDATE_LABEL,
    UPDATE_RANK,
    build_record,
)
from dossier_pipeline.tasks.pagemeta import trafilatura_metadata
from dossier_pipeline.tasks.textcount import count_words

EXTRACTOR = f"trafilatura {trafilatura.__version__}"
# Repairs of broken JSON-LD (_json_lenient): a wrapper, an empty value, a trailing comma.
JSON_WRAPPER = re.compile(r"^\s*(?://\s*)?(?:<!--|<!\[CDATA\[)|(?://\s*)?(?:-->|\]\]>)\s*$")
JSON_EMPTY_VALUE = re.compile(r"(:)\s*(?=[,}\]])")
JSON_TRAILING_COMMA = re.compile(r",(?=\s*[}\]])")
# schema.org's Article and its subtypes (ReportageNewsArticle, MedicalScholarlyArticle, LiveBlogPosting,
# DiscussionForumPosting …), and the works a recipe or how-to page is.
ARTICLE_TYPES = re.compile(r"\w*(?:Article|Posting)|Report|Recipe|HowTo", re.IGNORECASE)
# "Updated" in the languages of the corpus: the label of a date that is not the publication's.
UPDATE_CLASS = re.compile(r"updated|modified")  # the class of an update's date line ("date-updated")
MIN_ARTICLE_WORDS = 15  # below this (textcount.count_words), what trafilatura found is a navigation or stub page
EMBEDDED_WORDS = 100  # a text this short may be furniture, on a page whose scripts render the article (embedded.py)
MAX_BLOCK_LINKS = 30  # a "Tags"/"Lire aussi" heading over more links is a menu, not the article's block
MAX_TIMES = 5  # <time> values kept as date evidence
# HTML's valid date and date-time strings, the value a <time> without a datetime attribute states in its text
MACHINE_DATE = re.compile(r"\d{4}-\d\d-\d\d(?:[T ]\d\d:\d\d(?::\d\d(?:\.\d{1,3})?)?(?:Z|[+-]\d\d:?\d\d)?)?")
# Metadata: <meta> content and microdata on any element (<span itemprop="datePublished" content="…">).
# one walk of the tree: metas, microdata, microdata whose value is an <abbr>'s title (Blogger's
# <abbr class="published" itemprop="datePublished" title="2024-02-03T20:38:00Z">), and the
# microdata's article bodies (whose item is the article's: _own_item). Elements with an itemprop
# first, then its value: 0.4 ms a page where testing the value first cost 0.6.
_META = etree.XPath("//meta[@content] | //*[@itemprop][@content or @itemprop='articleBody' or (@title and self::abbr)]")
_PROPERTIES = etree.XPath(".//*[@itemprop][not(@content)]")  # an item's properties that the metas do not read
MAX_NAME = 100  # characters of a microdata author's name: a longer text is a bio or a teaser
# Microdata properties whose item is another work than the article, and the class or id
# words of reference lists: the dates and authors inside them are those works'.
OTHER_WORKS = frozenset(("citation", "comment", "review", "ispartof", "haspart", "mentions", "workexample",
                         "subjectof", "relatedlink", "isbasedon", "about"))
# The article's date line ("Publié le 07 mai 2019 à 13h59", "2023. 2. 5. 11:40"): a short text
# holding a digit, of an element whose class names a date (furniture.match_classes).
MAX_DATE_LINE = 100
MAX_DATE_LINES = 3
# A date with its time, year first ("2019-09-09 16:01:46", "2019年9月26日 15:10", "2019.09.09 16:01"):
# what many Chinese and Korean news pages print, in an element of no telling class, under the headline
STAMP = re.compile(r"(?<!\d)(?:19|20)\d\d\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*[日.]?\s*\d{1,2}:\d\d(?::\d\d)?")
STAMP_SIBLINGS = 3  # elements after the headline's <h1> that may hold its stamp
STAMP_ELEMENTS = 30  # a sibling of more elements is a block of content, not a line
REFERENCES = re.compile(r"(?<![a-z])(?:references?|bibliography|citations?|c-article-references|"
                        r"ref-list|reflist)(?![a-z])")
# Class and id words of the places whose dates are not the article's: comments, sidebars,
# cards and lists of other articles; and of a byline or article header. Not a layout's
# modifier naming one beside it ("tm-page__main_has-sidebar", "with-comments", Drupal's
# "zen-one-sidebar-second", "has-double-sidebar").
ELSEWHERE = re.compile(r"(?<![a-z])(?<!has[-_])(?<!with[-_])(?<!no[-_])(?<!one[-_])(?<!two[-_])(?<!double[-_])"
                       r"(?:comments?|comment-\w+|sidebar|side-bar|related|recommended|widgets?|teasers?|popular|"
                       r"most-?read|trending|cards?|card-\w+|more-stories|also-read|read-more)(?![a-z])")
COPYRIGHT = re.compile(r"(?:©|&copy;|&#169;|&#xa9;|\(c\)|copyright)\W{0,20}(?:\d{4}\s*[-–]\s*)?\d{4}", re.IGNORECASE)
YEAR = re.compile(r"\d{4}")
CAMEL_HUMP = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
# Where a lead candidate stands: the page's <h1>s before it; the elements before it whose
# own text starts as the extracted body does.
_PRECEDING_H1 = etree.XPath("preceding::h1")
_UNLINKED_TEXT = etree.XPath("descendant::text()[not(ancestor::a)]")
# (a paragraph by its whole text: it may open with a dateline in bold, "<p><strong>नई दिल्ली:</strong> …")
_BODY_BEFORE = etree.XPath("preceding::*[starts-with(normalize-space(text()), $start)"
                           " or self::p[starts-with(normalize-space(.), $start)]]")
# the text nodes opening as the page's description does (its standfirst, shown under the headline);
# the plain search for its longest first word spares normalising every text node of the page
_OPENING_AS = etree.XPath("//body//text()[contains(., $word)][starts-with(normalize-space(), $start)]")
DESCRIPTION_META = ("description", "og:description", "twitter:description")
MIN_LEAD = 40  # characters: a lead is a sentence, not a label ("Zusammenfassung")
MAX_LEAD = 1200  # characters: more is a body, or a block holding one
# What a lead holds: its text, in a paragraph or two; more (a <div>, a <figure>) is a block of blocks.
LEAD_INLINE = frozenset({"a", "abbr", "b", "br", "cite", "em", "i", "mark", "p", "q", "small", "span", "strong",
                         "sub", "sup", "u"})
# Class and id words of what else may name itself a description or an intro, in it or around
# it: a writer's bio, a picture's caption, the site's slogan, a call to subscribe or download.
NOT_LEAD = re.compile(r"(?<![a-z])(?:author|byline|bio|profile|avatar|modal|popup|newsletter|subscribe|promo|cta|"
                      r"trial|get[-_]started|download\w*|site[-_]description|site[-_]branding|tagline|slogan|caption|credit)"
                      r"(?![a-z])")
NOT_LEAD_PICTURE = re.compile(r"(?<![a-z])(?:image|img|photo|picture|media|video)(?![a-z])")
NOT_LEAD_PLACES = frozenset({"aside", "figcaption", "figure", "footer", "form", "nav"})
BYLINE_AREA = re.compile(r"(?<![a-z])(?:author|byline|dateline|header|entry-meta|post-meta|article-meta|"
                         r"article-info|meta|published|pubdate)(?![a-z])")
# Visible bylines ("Von Cosima Künzel", "Par <a>Matthieu Hy</a>", "<strong>Text:</strong> Klausmartin
# Friedrich", "11.12.2019 - Amelie Loevenich"): short text nodes that open with a byline label
# or a date, read to the end of their line (normalise.visible_authors names the persons).
MAX_BYLINE_LINE = 80
MAX_BYLINE_LINES = 5
BYLINE_LABELS = ("von", "by", "par", "por", "door", "av", "af", "przez", "di", "autor", "autorin", "author", "auteur",
                 "text:", "texte:", "tekst:", "written by", "posted by", "reported by", "geschrieben von",
                 "verfasst von", "ein beitrag von", "scritto da", "escrito por", "geschreven door", "skrevet av",
                 "skrevet af", "napisał", "napisała", "автор", "текст:", "מאת", "بقلم", "كتب", "نویسنده", "लेखक",
                 "yazan", "yazar", "muhabir", "kirjoittaja", "teksti:", "szerző", "írta", "oleh", "penulis", "piše",
                 "napisao", "napisala", "tác giả", "texto:", "testo:", "reportagem de", "του", "της", "γράφει")
# Chinese and Japanese labels, which a name follows without a space ("记者贺梨萍", "文/王小明")
CJK_BYLINE_LABELS = ("本报记者", "記者", "记者", "作者", "撰文", "文/", "文／", "著者")
BYLINE_START = re.compile(rf"^\s*(?:{BYLINE_PHRASES}|(?:{'|'.join(map(re.escape, BYLINE_LABELS))})(?=[\s:]|$)|"
                          rf"{'|'.join(map(re.escape, CJK_BYLINE_LABELS))}|\d)", re.IGNORECASE)
# Cheap in XPath (a full scan of the text nodes costs ~0.5 ms a page; 35 case-folded prefix tests
# on each node cost 25): a node whose first two letters open a label, in any case, or a date
# line with a separator; BYLINE_START then checks the few that pass.
_LABEL_STARTS = "".join(f"{b}|{b.title()}|{b.upper()}|"
                        for b in sorted({label[:2] for label in BYLINE_LABELS + CJK_BYLINE_LABELS}))
_BYLINE_TEXTS = etree.XPath(
    f"//body//text()[string-length(.) < {2 * MAX_BYLINE_LINE}][normalize-space()]"
    f"[contains('{_LABEL_STARTS}', concat(substring(normalize-space(), 1, 2), '|'))"
    " or (contains('0123456789', substring(normalize-space(), 1, 1))"
    "     and (contains(., ' - ') or contains(., ' – ') or contains(., ' von ') or contains(., ' by ')))]")
# Links to the site's tag pages ("/tag/hotel/", "mot/emmanuel-macron"): the article's tags
# when its markup names none (normalise asks for them only then).
TAG_SEGMENTS = frozenset(("tag", "tags", "topic", "topics", "schlagwort", "schlagworte", "stichwort", "thema",
                          "themen", "mot", "mot-cle", "etiqueta", "etiquetas", "tema", "temas", "argomenti", "tagi",
                          "onderwerp", "teg", "tegi"))
MAX_TAG_LINKS = 20  # more: a tag cloud of the whole site, not the article's list
NOT_TAG_LABELS = frozenset(("more", "mehr", "plus", "más", "altro", "weiter", "here", "hier", "all", "alle", "tous",
                            "tags", "topics", "themen", "thema", "sujets"))
# the first word of a link to more of a list ("Más temas »", "Alle Themen")
MORE_WORDS = frozenset(("more", "más", "mehr", "plus", "alle", "all", "tous", "toutes", "weitere", "altri"))
SITE_PARTS = re.compile(r"(?<![a-z])(?:footer|nav|navigation|navbar|menu|masthead|breadcrumbs?)(?![a-z])")
_BODY_LINKS = etree.XPath("//body//a[@href]")
_SHOWN_TEXTS = etree.XPath("//body//text()[not(parent::script or parent::style or parent::noscript "
                           "or parent::template)]", smart_strings=False)
# a tag segment followed by more path: tested in Python, cheaper than an XPath contains() per segment
_TAG_HREF = re.compile(rf"(?:^|/)(?:{'|'.join(sorted(TAG_SEGMENTS))})/[^/?#]", re.IGNORECASE)
LINE_ENDS = frozenset(("br", "p", "div", "li", "ul", "ol", "table", "tr", "td", "h1", "h2", "h3", "h4", "h5", "h6",
                       "section", "article", "header", "footer", "figure", "blockquote", "hr", "img"))
NOT_BYLINE_PLACES = frozenset(("footer", "nav", "aside", "figcaption", "blockquote", "form", "a"))
# trafilatura removes every <label>: a form field's name. Outside a form, a label holding a
# sentence or more is content (recipe steps and ingredients shown as checkboxes) and is read as
# a <div>. The labels of 441 real pages outside a form that were not content were under 50 characters.
MIN_CONTENT_LABEL = 60
# A fast-mode text shorter than this (about 150 words) is extracted again in trafilatura's default mode.
SHORT_FAST_TEXT = 1000
# A fast-mode text that opens with a menu (of its first MENU_LINES lines, MENU_ITEMS or more
# are short and end no sentence) is trafilatura's last resort, the page's whole text: its main
# extractor found no article body. The default mode's comparison with readability and jusText
# finds the article there (4 of 441 real pages; none where the fast text was right).
MENU_LINES = 15
MENU_ITEMS = 12
SENTENCE_END = ".!?。！？…:;\"'”»)）」।॥؟۔"  # what ends a sentence, or a line that reads as one
MENU_ITEM = re.compile(rf"[^\n]{{1,20}}(?<![{SENTENCE_END}])")
# A fast-mode text of LINK_LIST_LINES lines or more, of which under a quarter end as sentences do,
# and more than half of whose characters are the page's link texts, line for line, is a list of
# teasers or job ads that the main extractor took for the body (golem.de: 1 of 452 real pages),
# extracted again in the default mode. Links are looked at only on such a listy text.
LINK_LIST_LINES = 8
LONG_TEXT = ".//p[string-length(normalize-space()) > 200]"  # a block holding this is content
# Candidate block headings ("Tags:", "Lire aussi"): the elements whose own leading text is
# short and not blank (their regexes then match that text).
_SHORT_TEXTS = etree.XPath("//body//*[not(self::a)][normalize-space(text())]"
                           "[string-length(normalize-space(text())) < 40]")
_HTML_TITLE = etree.XPath("string(/html/head/title)")  # where the parser puts it: no walk of the tree
# A kicker opening an <h1> in an element of its own ("<span class='article-heading__kicker'>Klimaschutz</span>",
# a "topline" with the date): a label above the headline, not part of it
KICKER_CLASS = re.compile(r"kicker|dachzeile|spitzmarke|topline|overline|eyebrow|roofline|supertitle|h1small")
MAX_HEADLINE = 300  # characters: a longer <h1> holds more than a headline (a whole teaser, a style sheet)
HOME_PATHS = frozenset(("", "index.html", "index.htm", "index.php"))
NEWLINES = re.compile(r"\s*\n\s*")
SPACES = re.compile(r"[ \t\r\f\v]+")  # not no-break spaces: they are text
BLANK_LINES = re.compile(r"\n{3,}")
# Format characters that are text: trafilatura drops every character str.isprintable refuses,
# so that no control character reaches its XML trees, and these with them. Persian writes its
# half-space with U+200C ("می‌شود" is one word; "میشود" misspells it), Indic scripts choose a
# conjunct's form and emoji sequences join with U+200D.
JOINERS = frozenset("\u200c\u200d")


@lru_cache(maxsize=2**14)  # as trafilatura's own: one call a character
def _printable_or_joiner(char: str) -> str:
    """trafilatura's filter of characters (utils.return_printables_and_spaces), joiners kept."""
    return char if char.isprintable() or char.isspace() or char in JOINERS else ""


# trafilatura's remove_control_characters looks its filter up by name in its module; its own is
# kept for what compares the pipeline with plain trafilatura (bench/quality.py)
TRAFILATURA_FILTER = trafilatura.utils.return_printables_and_spaces
trafilatura.utils.return_printables_and_spaces = _printable_or_joiner


@dataclass
class Page:
    """One fetched page sent to a worker (plain data: it crosses process boundaries)."""

    key: int
    url: str
    body: bytes
    content_type: str | None
    language: str | None  # the dossier's expected language, selects furniture rules
    # fetch provenance and dossier settings, for normalise.build_record; optional: "hints"
    # (DiscoveredURL.hints: dates seen at discovery), "furniture" (the dossier's own rules)
    ctx: dict[str, Any]


def _json_lenient(script: str) -> Any:
    """A JSON-LD block as the page means it: control characters inside strings, an HTML
    comment or CDATA wrapper, empty values (``"width": ,``) and trailing commas, which
    browsers never see and publishers' templates leave, are tolerated (json.loads is
    strict about them; a whole article's metadata would be lost to one empty field)."""
    try:
        return json.loads(script, strict=False)
    except ValueError:
        pass
    repaired = JSON_EMPTY_VALUE.sub(r"\1 null", JSON_WRAPPER.sub("", script))
    return json.loads(JSON_TRAILING_COMMA.sub("", repaired), strict=False)


def _jsonld_objects(tree: lxml.html.HtmlElement) -> list[dict[str, Any]]:
    objects = []
    for script in tree.xpath("//script[@type='application/ld+json']/text()"):
        try:
            data = _json_lenient(script)
        except (ValueError, RecursionError):
            continue
        stack = data if isinstance(data, list) else [data]
        while stack:
            item = stack.pop(0)
            if isinstance(item, dict):
                stack.extend(item.get("@graph", []) if isinstance(item.get("@graph"), list) else [])
                objects.append(item)
    return objects


def _names(value: Any) -> list[str]:
    if isinstance(value, str):
        return [unescape(value)]
    if isinstance(value, dict):
        return _names(value.get("name"))
    if isinstance(value, list):
        return [n for v in value for n in _names(v)]
    return []


def _types(value: Any) -> list[str]:
    kinds = value.get("@type") if isinstance(value, dict) else None
    if isinstance(kinds, str):
        return [kinds]
    return [k for k in kinds if isinstance(k, str)] if isinstance(kinds, list) else []


def _node(value: Any, by_id: dict[str, Any]) -> Any:
    """The node a reference ({"@id": "#author"}) names in the page's JSON-LD, with what the
    reference itself states ({"name": "Tessa Arias", "@id": …}: Yoast names an author where it
    refers to its Person node, whose type only the node gives), else the value."""
    ref = value.get("@id") if isinstance(value, dict) else None
    node = by_id.get(ref) if isinstance(ref, str) else None
    return {**node, **value} if isinstance(node, dict) and node is not value else value


def _string(value: Any) -> str | None:
    """A JSON-LD text value: a string, the first of a list, a value object's @value; CMSs
    often leave HTML entities in it (&#8217;)."""
    if isinstance(value, list):
        value = next((v for v in value if isinstance(v, str | dict)), None)
    if isinstance(value, dict):
        value = value.get("@value")
    return unescape(value) if isinstance(value, str) else None


def _text(element: lxml.html.HtmlElement) -> str:
    return " ".join(element.text_content().split())


def _class_words(element: lxml.html.HtmlElement) -> str:
    """An element's class and id, lower case, as the class-word patterns read them; a word
    starting in capitals inside a name is set apart ("SimpleCard-root" is "simple-card-root",
    "RelatedArticles" "related-articles": CSS modules' and BEM's names)."""
    return CAMEL_HUMP.sub("-", f"{element.get('class') or ''} {element.get('id') or ''}").lower()


def _block_links(heading: lxml.html.HtmlElement) -> list[lxml.html.HtmlElement]:
    """The links of the block a heading opens: inside the heading itself ("Lire aussi :
    <a>…</a>"), else its parent when that is a short block, else the element after it."""
    if links := _links(heading):
        return links
    parent = heading.getparent()
    if parent is not None and not parent.xpath(LONG_TEXT):
        return _links(parent)
    following = heading.getnext()
    return _links(following) if following is not None else []


def _links(element: lxml.html.HtmlElement) -> list[lxml.html.HtmlElement]:
    return cast(list[lxml.html.HtmlElement], element.xpath(".//a[@href]"))  # lxml types xpath() results as Any


def _headings(h1s: list[lxml.html.HtmlElement]) -> tuple[list[str], list[str]]:
    """(headlines, site logos): the texts of the page's <h1>s. An <h1> whose whole text links
    to the site's home page is the site's logo (a blog theme's header), not a headline. A link
    that opens or closes an <h1> with more text (an edition's name, a section's kicker) is not
    the headline's, nor is a kicker in an element of its own that opens it (KICKER_CLASS)."""
    headlines: list[str] = []
    logos: list[str] = []
    for heading in h1s:
        if not (text := _text(heading)) or len(text) > MAX_HEADLINE:
            continue
        links = _links(heading)
        if any(_text(a) == text and _home(a) for a in links):
            logos.append(text)
            continue
        if links and next(heading.iterancestors("a"), None) is None:
            own = " ".join("".join(_UNLINKED_TEXT(heading)).split())
            if len(own.split()) >= MIN_HEADLINE_WORDS and (text.startswith(own) or text.endswith(own)):
                text = own
        if (kicker := next((e for e in heading if isinstance(e.tag, str) and KICKER_CLASS.search(_class_words(e))),
                           None)) is not None:
            rest = text.removeprefix(_text(kicker)).lstrip(" :|–—-·")
            if rest != text and len(rest.split()) >= MIN_HEADLINE_WORDS:
                text = rest
        headlines.append(text)
    return headlines, logos


def _headline_stamp(h1s: list[lxml.html.HtmlElement]) -> str | None:
    """The date and time printed in the few elements after the page's first <h1> (STAMP), with
    the words before it on its line ("发表于 2014-08-24 21:30", "时间：2019年10月31日 23:00"), for
    a page whose date line no class names (toutiao.com's "article-sub", thepaper.cn's "news_about")."""
    for heading in h1s[:1]:
        for sibling in itertools.islice(heading.itersiblings(), STAMP_SIBLINGS):
            elements = len(list(itertools.islice(sibling.iter(), STAMP_ELEMENTS)))
            if not isinstance(sibling.tag, str) or elements == STAMP_ELEMENTS:
                continue  # a comment, or a block of content rather than a line
            if found := STAMP.search(text := _text(sibling)):
                return text[max(0, found.end() - MAX_DATE_LINE):found.end()]
    return None


def _home(link: lxml.html.HtmlElement) -> bool:
    """Whether a link leads to the site's home page ("/", "https://example.com", "index.html")."""
    try:
        href = urlsplit((link.get("href") or "").strip())
    except ValueError:  # a malformed address ("http://[x") leads nowhere
        return False
    return href.path.strip("/") in HOME_PATHS and not href.query


def _time_rank(element: lxml.html.HtmlElement) -> int | None:
    """Where a <time> sits, as evidence of the article's own date: 0 marked as the
    publication date, 1 in a byline or the article's header, 2 in an <article>, 3 elsewhere;
    None in comments, sidebars and lists of other articles (their dates are theirs)."""
    marks: list[str] = []
    in_article = False
    ancestors = []
    for ancestor in element.iterancestors():
        if ancestor.tag in ("body", "html"):
            break
        ancestors.append(ancestor)
        marks.append(_class_words(ancestor))
        if ancestor.tag == "article":
            in_article = True
        elif ancestor.tag == "header":
            marks.append("header")
    where = " ".join(marks)
    if ELSEWHERE.search(where):
        holders = headline_holders(element.getroottree().getroot())  # the article's, whatever their classes say
        if any(ELSEWHERE.search(_class_words(a)) and a not in holders for a in ancestors):
            return None
    if element.get("itemprop") == "datePublished" or element.get("pubdate") is not None:
        return 0
    if BYLINE_AREA.search(where) and (in_article or "header" not in where or "author" in where or any(
            a.tag == "header" for a in headline_holders(element.getroottree().getroot()) if a in ancestors)):
        return 1  # in a byline: in an <article>, or a header that is not the site's (the headline's own)
    return 2 if in_article else 3


def _under_a_headline(element: lxml.html.HtmlElement) -> bool:
    """Whether an <h1> of a headline's length (not a section's name) comes before ``element``."""
    return any(count_words(_text(h)) >= MIN_HEADLINE_WORDS for h in _PRECEDING_H1(element))


def _line(first: str, following: Iterable[lxml.html.HtmlElement]) -> str:
    """``first`` and what follows it up to the end of its line (a <br>, a block, a picture)."""
    pieces = [first]
    for element in following:
        if not isinstance(element.tag, str) or element.tag in LINE_ENDS:
            break
        pieces += [element.text_content(), element.tail or ""]
        if sum(map(len, pieces)) > MAX_BYLINE_LINE:
            break
    return " ".join("".join(pieces).split())


def visible_bylines(tree: lxml.html.HtmlElement) -> list[str]:
    """The page's visible bylines (_BYLINE_TEXTS), each as its whole line: "Par" and the
    link after it, a "Text:" label and the name after it. Not in footers, navigation, asides,
    captions, quotes, links, comments, sidebars and cards (_time_rank)."""
    lines: list[str] = []
    for node in _BYLINE_TEXTS(tree):
        if not BYLINE_START.match(node):
            continue
        owner = node.getparent()
        if owner is None or owner.tag in ("script", "style", "title") or _time_rank(owner) is None:
            continue
        if any(a.tag in NOT_BYLINE_PLACES for a in (owner if node.is_text else owner.getparent(),
                                                    *owner.iterancestors()) if a is not None):
            continue
        if node.is_text:
            line = _line(str(node), owner)
            # "<b>Text:</b> Jane Doe", and a label in any inline element ("<nonbold>Text & Fotos:</nonbold>")
            if line == " ".join(str(node).split()) and (owner.tag in ("strong", "b", "em", "i", "span", "label") or (
                    line.endswith(":") and owner.tag not in LINE_ENDS)):
                line = _line(f"{line} {owner.tail or ''}", owner.itersiblings())
            elif owner.tag == "dt" and (value := owner.getnext()) is not None and value.tag == "dd":
                line = " ".join(f"{line} {value.text_content()}".split())  # <dt>Auteur</dt><dd>Jane Doe</dd>
        else:
            line = _line(str(node), owner.itersiblings())
        if len(line) <= MAX_BYLINE_LINE and line not in lines:
            lines.append(line)
        if len(lines) == MAX_BYLINE_LINES:
            break
    return lines


def visible_tag_links(tree: lxml.html.HtmlElement) -> list[str]:
    """The labels of the page's links to its tag pages (TAG_SEGMENTS in their path), outside
    navigation, the site's header and footer (an article's own footer holds its tags),
    comments, sidebars and cards; none when there are more than MAX_TAG_LINKS."""
    labels: list[str] = []
    for link in _BODY_LINKS(tree):
        if not _TAG_HREF.search(link.get("href")):
            continue
        try:
            href = urlsplit(link.get("href", ""))
        except ValueError:
            continue
        # a tag's page: a tag segment followed by the tag ("/tag/hotel/"); not the index of
        # all tags ("/themen/"), nor a link that only names more ("More…", "Alle")
        segments = [unquote(s).casefold() for s in href.path.split("/") if s]
        label = _text(link)
        words = label.casefold().rstrip(".…»> ").split()
        if (not TAG_SEGMENTS.intersection(segments[:-1]) or not 0 < len(label) <= 60 or not words
                or " ".join(words) in NOT_TAG_LABELS or (len(words) <= 3 and words[0] in MORE_WORDS)):
            continue
        ancestors = list(link.iterancestors())
        if any(a.tag == "nav" for a in ancestors):
            continue
        # outside an article, the site's header, footer and menus (inside one, its footer holds its tags)
        if not any(a.tag == "article" for a in ancestors) and any(
                a.tag in ("header", "footer") or SITE_PARTS.search(f"{a.get('class')} {a.get('id')}".lower())
                for a in ancestors):
            continue
        if _time_rank(link) is not None:
            labels.append(label)
    return labels if len(labels) <= MAX_TAG_LINKS else []


def wall_beside(tree: lxml.html.HtmlElement) -> str | None:
    """The call of a paywall or registration wall in the page's shown text (blocks.wall_in), not
    in a script (a metered site's free pages carry the wall's wording in its code). The body's
    whole text, scripts included, is searched first: one serialisation, 0.2 ms a page against
    1.3 ms for the text nodes outside scripts, which are read only when it finds a call."""
    body = tree.find("body")
    if body is None or wall_in(etree.tostring(body, method="text", encoding=str)) is None:
        return None
    return wall_in(" ".join(_SHOWN_TEXTS(tree)))


class VisibleText:
    """Scans of the page's visible text that normalisation runs only for a page whose markup
    lacks the signal (each walks the page): its byline lines, its tag links."""

    def __init__(self, tree: lxml.html.HtmlElement) -> None:
        self.tree = tree
        self._bylines: list[str] | None = None

    def bylines(self) -> list[str]:
        if self._bylines is None:  # asked for by the dates and by the authors
            self._bylines = visible_bylines(self.tree)
        return self._bylines

    def tag_links(self) -> list[str]:
        return visible_tag_links(self.tree)


def _of_another_work(element: lxml.html.HtmlElement) -> bool:
    """Whether a microdata property describes another work than the page's article: a
    reference a scholarly page cites (one ``datePublished`` and ``author`` per reference),
    a comment, a review, the periodical it is part of, an entry of a reference list."""
    for ancestor in element.iterancestors():
        if ancestor.tag in ("body", "html"):
            return False
        if ancestor.get("itemprop", "").lower() in OTHER_WORKS or REFERENCES.search(_class_words(ancestor)):
            return True
    return False


def _own_item(h1s: list[lxml.html.HtmlElement], bodies: list[lxml.html.HtmlElement]) -> lxml.html.HtmlElement | None:
    """The page's own article item in its microdata: the article item around its first ``<h1>``,
    else around an ``articleBody`` (``bodies``). Teaser cards are article items too, each with
    its own author and date ("By Thor Olavsrud" under another story on cio.com, telegraph.co.uk's
    related times)."""
    for element in [*h1s[:1], *bodies]:
        for item in element.iterancestors():
            kinds = item.get("itemtype", "").split() if item.get("itemscope") is not None else []
            if any(ARTICLE_TYPES.fullmatch(kind.rsplit("/", 1)[-1]) for kind in kinds):
                return item
    return None


def _own_properties(own: lxml.html.HtmlElement, names: set[str]) -> Iterator[tuple[str, lxml.html.HtmlElement]]:
    """(name, element) of the properties ``names`` of the item ``own`` that no ``content``
    attribute states (the metas read those): a property belongs to the nearest item around it,
    so not a quoted work's, a comment's or a teaser's inside the article."""
    for element in _PROPERTIES(own):
        if not (found := names & set(element.get("itemprop", "").split())):
            continue
        if (next((a for a in element.iterancestors() if a.get("itemscope") is not None), None) is own
                and not _of_another_work(element)):
            yield from ((name, element) for name in sorted(found))  # itemprop="datePublished dateModified"


def _microdata(own: lxml.html.HtmlElement | None) -> tuple[list[str], dict[str, list[str]]]:
    """The authors the page's own article item names (``itemprop="author"`` or ``creator``: the
    ``itemprop="name"`` of a Person item, one or more, else its text), and the dates it states in an
    element's text or a ``<time>``'s datetime (``<span itemprop="datePublished">August 15, 2016</span>``),
    keyed as the metas are ("datepublished")."""
    names: list[str] = []
    dates: dict[str, list[str]] = {}
    if own is None:
        return names, dates
    for name, element in _own_properties(own, {"author", "creator", "datePublished", "dateModified"}):
        if name.startswith("date"):
            value = element.get("datetime") or (text if len(text := _text(element)) < MAX_DATE_LINE else "")
            if value:
                dates.setdefault(name.lower(), []).append(value)
            continue
        named = element.xpath(".//*[@itemprop='name']") if element.get("itemscope") is not None else []
        names += [value for value in [n.get("content") or _text(n) for n in named] or [_text(element)]
                  if 0 < len(value) < MAX_NAME]
    return list(dict.fromkeys(names)), dates


def _address_key(value: Any) -> str | None:
    """An address as compared with the page's: no scheme, "www.", query, fragment or final slash."""
    if isinstance(value, dict):
        value = value.get("@id") or value.get("url")
    try:
        parts = urlsplit(value.strip()) if isinstance(value, str) else None
    except ValueError:  # "http://[broken"
        return None
    if parts is None:
        return None
    return f"{(parts.hostname or '').removeprefix('www.')}{parts.path.rstrip('/')}" or None


def _own_article(articles: list[dict[str, Any]], address: str | None) -> dict[str, Any]:
    """The page's own article node among the JSON-LD articles: the one whose url, @id or
    mainEntityOfPage names the page's address (a page may also describe the articles it
    lists or recommends, before its own), else the first."""
    own = _address_key(address)
    return next((obj for obj in articles if own and own in {_address_key(obj.get(key)) for key in
                                                            ("url", "@id", "mainEntityOfPage")}), articles[0])


def _an_update(time: lxml.html.HtmlElement) -> bool:
    """Whether a <time> states an update, not the publication: marked dateModified, or
    labelled so in its text or just before it ("Last updated September 14, 2016",
    "<span>Aktualisiert:</span> <time>", "Mis à jour le <time>")."""
    if time.get("itemprop") == "dateModified":
        return True
    before = time.getprevious()
    if before is None:
        label = (parent.text or "") if (parent := time.getparent()) is not None else ""
    else:
        label = (before.tail or "").strip() or (before.text or "")
    return bool(UPDATE_LABEL.search(f"{label[-30:]} {time.text_content()[:60]}"))


def _time_values(times: list[lxml.html.HtmlElement]) -> list[str]:
    """The values of the page's <time> elements by where they sit (_time_rank), in page order
    within a rank (ranked here: one walk of the tree instead of one per kind of place); not an
    update's (_an_update). A <time>'s value is its datetime attribute, else, as HTML defines it,
    its text when that is a machine-readable date (<time id="published_at">2019-07-30 20:36:00</time>)."""
    ranked = sorted((rank, i, value) for i, e in enumerate(times)
                    if (rank := _time_rank(e)) is not None
                    and (value := (e.get("datetime") or _machine_date(e.text_content())).strip())
                    and not _an_update(e))
    return list(dict.fromkeys(value for _, _, value in ranked))[:MAX_TIMES]


def _machine_date(text: str) -> str:
    return text if MACHINE_DATE.fullmatch(text := text.strip()) else ""


def page_signals(tree: lxml.html.HtmlElement, rules: CompiledRules, classes: ClassMatches) -> dict[str, Any]:
    """Metadata candidates from the page's own markup, each kept with its origin
    (``classes``: what the class-name rules found on it)."""
    meta: dict[str, list[str]] = {}
    bodies: list[lxml.html.HtmlElement] = []
    for element in _META(tree):
        if element.get("itemprop") == "articleBody" and element.get("content") is None:
            bodies.append(element)
            continue
        key = (element.get("property") or element.get("name") or element.get("itemprop") or "").strip().lower()
        if key and not (element.get("itemprop") and _of_another_work(element)):
            meta.setdefault(key, []).append(element.get("content", element.get("title", "")).strip())
    out: dict[str, Any] = {"meta": meta, "jsonld": {}}
    out["canonical"] = tree.xpath("string(//link[@rel='canonical']/@href)") or None
    objects = _jsonld_objects(tree)
    by_id = {obj["@id"]: obj for obj in objects if isinstance(obj.get("@id"), str)}
    articles = [obj for obj in objects if any(ARTICLE_TYPES.fullmatch(t) for t in _types(obj))]
    own_address = out["canonical"] or next(iter(meta.get("og:url", [])), None)
    if not articles and (pages := [obj for obj in objects if "WebPage" in _types(obj)]):
        # a graph without an Article node (older Yoast): its WebPage dates the post; its author is
        # the account that published it (an editor, a user name), its name the <title>
        page = _own_article(pages, own_address)
        out["jsonld"] = {"datePublished": _string(page.get("datePublished")),
                         "dateModified": _string(page.get("dateModified"))}
    elif not articles and (card := next((obj for obj in objects if _string(obj.get("pubDate"))), None)):
        # Baidu's "cambrian" card (ziyuan.baidu.com's JSON-LD, on Chinese news pages): pubDate, upDate
        out["jsonld"] = {"datePublished": _string(card.get("pubDate")), "dateModified": _string(card.get("upDate"))}
    if articles:
        obj = _own_article(articles, own_address)
        keywords = obj.get("keywords")
        if isinstance(keywords, str):
            keywords = re.split(r"[,;]", keywords)
        elif not isinstance(keywords, list):  # a number, an object
            keywords = []
        authors = obj.get("author")
        # Yoast-style graphs name the author in a Person node the article refers to by @id.
        authors = [_node(a, by_id) for a in (authors if isinstance(authors, list) else [authors])]
        out["jsonld"] = {
            "headline": _string(obj.get("headline") or obj.get("name")),
            "datePublished": _string(obj.get("datePublished")),
            "dateModified": _string(obj.get("dateModified")),
            # (name, schema.org types): an Organization is never a person
            "authors": [(name, _types(a)) for a in authors for name in _names(a)],
            "keywords": [unescape(k) for k in keywords if isinstance(k, str)],
            "section": _names(obj.get("articleSection")),
            "publisher": next(iter(_names(publisher := _node(obj.get("publisher"), by_id))), None),
            # a blog's owner publishes it as a Person, whom a JSON-LD author of that name is
            "publisher_is_person": isinstance(publisher, dict) and "Person" in _types(publisher),
            "description": _string(obj.get("description")),
            "inLanguage": _string(obj.get("inLanguage")),
            "articleBody": _string(obj.get("articleBody")),
        }
    # lang, else XHTML's xml:lang ("en-GB" on msn.com's British edition: its dates are day first)
    out["html_lang"] = tree.xpath("string(/html/@lang)") or tree.xpath("string(/html/@*[name()='xml:lang'])") or None
    h1s: list[lxml.html.HtmlElement] = []
    times: list[lxml.html.HtmlElement] = []
    for element in tree.iter("h1", "time"):  # one walk for both
        (h1s if element.tag == "h1" else times).append(element)
    out["times"] = _time_values(times)
    out["html_title"] = _HTML_TITLE(tree).strip() or None
    out["headlines"], out["site_logos"] = _headings(h1s)
    out["microdata_authors"], dates = _microdata(_own_item(h1s, bodies))
    for key, values in dates.items():
        meta.setdefault(key, []).extend(value for value in values if value not in meta.get(key, []))
    dated = cast(list[lxml.html.HtmlElement], classes.dated)  # the page's elements are HtmlElements (_PARSER)
    # (line, where it sits: _time_rank; 2 for a line under a headline outside an <article>,
    # UPDATE_RANK for an update's line by its class)
    out["date_lines"] = [(line, UPDATE_RANK if UPDATE_CLASS.search(_class_words(e))
                          else 2 if rank == 3 and _under_a_headline(e) else rank) for e in dated
                         if 0 < len(line := _text(e)) < MAX_DATE_LINE and any(c.isdigit() for c in line)
                         and (rank := _time_rank(e)) is not None][:MAX_DATE_LINES]
    if (stamp := _headline_stamp(h1s)) and not any(line == stamp for line, _ in out["date_lines"]):
        out["date_lines"].insert(0, (stamp, 1))  # the header's, before lines found by class elsewhere
    # Visible blocks introduced by a heading ("Tags:", "Dossier:", "Lire aussi:").
    blocks: dict[str, list[tuple[str, str | None]]] = {"tags": [], "dossier": [], "related": []}
    for heading in _SHORT_TEXTS(tree):
        text = (heading.text or "").strip()
        kind = next((k for k, rx in (("related", rules.related), ("tags", rules.tags), ("dossier", rules.dossier))
                     if text and rx.match(text)), None)
        if kind is None:
            continue
        links = _block_links(heading)
        if len(links) <= MAX_BLOCK_LINKS:
            blocks[kind] += [(label, link.get("href")) for link in links if (label := _text(link))]
    blocks["related"] += [(label, link.get("href")) for block in classes.related
                          for link in block.xpath(".//a[@href]") if (label := _text(link))]
    for xpath in rules.related_xpath:
        blocks["related"] += [(label, link.get("href")) for block in tree.xpath(xpath)
                              for link in block.xpath(".//a[@href]") if (label := _text(link))]
    out["visible_tags"] = [label for label, _ in blocks["tags"]] + [_text(a) for a in tree.xpath("//a[@rel='tag']")]
    out["dossier_labels"] = [label for label, _ in blocks["dossier"]]
    out["related"] = blocks["related"]
    credits = classes.credits + [e for xpath in rules.repeated_xpath for e in tree.xpath(xpath)]
    out["credits"] = [t for e in credits if 0 < len(t := _text(e)) < 200]
    return out


def extract_page(page: Page) -> Extraction:
    """Extract one page; never raises: problems come back as ``status``/``reason``."""
    try:
        return _extract(page)
    except Exception as exc:  # a broken page must become a recorded failure, not a crashed batch
        return {"key": page.key, "status": ExtractionStatus.FAILED,
                "reason": f"extract_error: {type(exc).__name__}: {exc}"}


def _one_line_whitespace(body: etree._Element) -> None:
    """Turn source-formatting newlines into spaces (outside code): only <lb> breaks a line,
    as in trafilatura's plain-text mode."""
    if body.text:
        body.text = NEWLINES.sub(" ", body.text)
    for element in body.xpath(".//*[not(ancestor-or-self::code)]"):
        if element.text and "\n" in element.text:
            element.text = NEWLINES.sub(" ", element.text)
        if element.tail and "\n" in element.tail:
            element.tail = NEWLINES.sub(" ", element.tail)


def plain_text(body: etree._Element) -> str:
    """The body tree as plain text: one paragraph a line block, blank lines between, in
    Unicode NFC (as trafilatura's own output)."""
    text = unicodedata.normalize("NFC", xmltotxt(body, include_formatting=False))
    return "\n\n".join(line for line in (SPACES.sub(" ", line).strip() for line in text.splitlines()) if line)


def markdown(body: etree._Element) -> str:
    """The body tree as Markdown (headings, lists, quotes, tables, code), in Unicode NFC."""
    return BLANK_LINES.sub("\n\n", unicodedata.normalize("NFC", xmltotxt(body, include_formatting=True))).strip()


def parse_html(html: str) -> lxml.html.HtmlElement:
    """The page's one lxml tree (raises lxml's ParserError or ValueError on a page it cannot parse),
    without the characters XML forbids (NOT_XML_CONTROLS, NOT_XML_REFERENCE): lxml parses them into
    the tree, then refuses them in any text trafilatura sets, which throws the whole article away."""
    html = NOT_XML_REFERENCE.sub("", html)
    if "\ufffe" in html or "\uffff" in html:
        html = html.replace("\ufffe", "").replace("\uffff", "")
    body = html.encode("utf-8").translate(BREAKS_AS_SPACES, NOT_XML_CONTROLS)
    return lxml.html.document_fromstring(body, parser=_PARSER)


def article_document(tree: lxml.html.HtmlElement, url: str, rules: CompiledRules,
                     paywalled: bool = False) -> Document | None:
    """trafilatura's extraction of the tree: its metadata and its body tree (None: no article).

    trafilatura runs in its fast mode: its main extractor alone, without the comparison
    with readability and jusText that its default mode runs on every page (docs/benchmarks.md).
    That comparison matters where the main extractor finds little
    (an article its heuristics miss, where it keeps a teaser): when the fast text is short,
    the page's whole text opening with its menu (_opens_with_a_menu), or a stub on a
    ``paywalled`` page (blocks.declares_paywall), trafilatura's default
    cascade extracts the text again and decides. The metadata, the same in either mode,
    is extracted once, and only from a page with a text. A <label> holding a sentence, outside
    a form, is handed to trafilatura as a <div> (MIN_CONTENT_LABEL).
    """
    # One extraction gives both outputs: the plain text and the Markdown (headings, lists,
    # tables, code; trafilatura's emphasis mode would change what it keeps) are serialised
    # from the same body tree, cleaned once.
    for label in tree.iter("label"):
        if len(_text(label)) >= MIN_CONTENT_LABEL and next(label.iterancestors("form"), None) is None:
            label.tag = "div"
    extraction = partial(trafilatura.bare_extraction, tree, url=url, include_comments=False, include_tables=True,
                         prune_xpath=rules.prune_xpath)
    text = extraction(fast=True)
    if (not isinstance(text, Document) or len(text.text or "") < SHORT_FAST_TEXT or _opens_with_a_menu(text.text)
            or (paywalled and count_words(text.text or "") <= PAYWALL_STUB_WORDS) or _a_list_of_links(text.text, tree)):
        text = extraction() or text
    if not isinstance(text, Document) or text.body is None:
        return None
    doc = trafilatura_metadata(tree, url)  # bare_extraction pruned its own copy of the tree, not this one
    doc.body, doc.text = text.body, text.text
    return doc


def _a_list_of_links(text: str | None, tree: lxml.html.HtmlElement) -> bool:
    """Whether a text is mostly the page's link texts, one a line (LINK_LIST_LINES)."""
    lines = [" ".join(line.split()) for line in (text or "").splitlines() if line.strip()]
    if len(lines) < LINK_LIST_LINES or 4 * sum(line[-1] in SENTENCE_END for line in lines) >= len(lines):
        return False
    links = {_text(a) for a in tree.iter("a")}
    return 2 * sum(len(line) for line in lines if line in links) > sum(map(len, lines))


def described(tree: lxml.html.HtmlElement, descriptions: list[str], text: str) -> Iterator[lxml.html.HtmlElement]:
    """The elements whose whole text is one of the page's ``descriptions`` (its meta or JSON-LD
    description), when the extracted ``text`` lacks it: many pages show it as the standfirst
    under the headline, whatever its class (topagrar.com's "text-xl"), where trafilatura's main
    extractor does not look."""
    seen: set[lxml.html.HtmlElement] = set()
    for description in dict.fromkeys(" ".join(d.split()) for d in descriptions):
        if len(description) < MIN_LEAD or description[:MIN_LEAD] in text:
            continue
        start = description[:MIN_LEAD]
        for node in _OPENING_AS(tree, word=max(start.split(), key=len), start=start):
            element = node.getparent()
            while element is not None and len(shown := _text(element)) < len(description):
                element = element.getparent()
            if element is not None and shown == description and element not in seen:
                seen.add(element)
                yield element


def lead_paragraph(tree: lxml.html.HtmlElement, headlines: list[str], text: str,
                   leads: list[lxml.html.HtmlElement], descriptions: list[str] | None = None) -> str | None:
    """The article's lead when the extracted ``text`` lacks it: the first of the elements whose
    class names a lead (``leads``, picked by furniture.match_classes), or whose text is the
    page's description (described), between the headline (the first of ``headlines``' <h1>s)
    and the start of the extracted body, with a sentence's length of text, mostly not links,
    not in a card, comment or sidebar (ELSEWHERE), nor anything else NOT_LEAD names, nor a
    block marked as furniture. The checks of each candidate's place in the page, which walk
    the page before it, run last."""
    flat = " ".join(text.split())
    if not headlines or len(flat) < 20:
        return None
    heading = None
    for element in chain(leads, described(tree, descriptions or [], flat)):  # the search only when no class says
        names = _class_words(element).replace("teaser_text", "").replace("teaser-text", "")  # a teaser's text: a lead
        if element not in leads:  # the page's description: this article's teaser ("ce-news--teaser"), not a card's
            names = names.replace("teaser", "")
        if NOT_LEAD.search(names) or NOT_LEAD_PICTURE.search(names) or ELSEWHERE.search(names) or element.get(
                PRUNE_MARK) is not None:
            continue
        lead = _text(element)
        if (not MIN_LEAD <= len(lead) <= MAX_LEAD or lead[:40] in flat
                or any(isinstance(e.tag, str) and e.tag not in LEAD_INLINE for e in element.iterdescendants())
                or sum(len(_text(a)) for a in _links(element)) > len(lead) / 2
                or any(a.tag in NOT_LEAD_PLACES or a.get(PRUNE_MARK) is not None
                       or ELSEWHERE.search(place := _class_words(a)) or NOT_LEAD.search(place)
                       for a in element.iterancestors() if a.tag not in ("body", "html"))):
            continue
        if heading is None:
            heading = next((h for h in tree.iter("h1") if _text(h) == headlines[0]), None)
        if heading is None:
            return None
        if heading not in _PRECEDING_H1(element):
            continue  # above the headline
        # the body has started when an element under the headline opens as it does
        return None if any(heading in _PRECEDING_H1(b) for b in _BODY_BEFORE(element, start=flat[:15])) else lead
    return None


def _opens_with_a_menu(text: str | None) -> bool:
    """Whether a text opens with a site's menu (MENU_ITEMS of its first MENU_LINES lines)."""
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()][:MENU_LINES]
    return len(lines) == MENU_LINES and sum(bool(MENU_ITEM.fullmatch(line)) for line in lines) >= MENU_ITEMS


def copyright_years(html: str) -> list[str]:
    """The years of the page's copyright notices ("© 2017", "&copy; 1996-2024", "(c) 2011")."""
    return [year for found in COPYRIGHT.finditer(html) for year in YEAR.findall(found[0])]


def _word_char(char: str) -> bool:
    """What re's \\w matches in a str."""
    return char.isalnum() or char == "_"


def as_the_page_spells(authors: str | None, html: str) -> str | None:
    """trafilatura's byline ("Nelson D Schwartz; Juan Carlos Muñoz C; ThE PaiN; राहुल शर्म") with
    each name as the page writes it ("Nelson D. Schwartz", "Juan Carlos Muñoz C.", "ThE_PaiN",
    "राहुल शर्मा"): its author normalisation turns the dots of initials and abbreviations, and the
    underscores of user names, into spaces, and drops the combining marks that end a name. A
    name is restored only from the same words, in the same order, parted by dots or underscores
    in the page's source, and followed there by nothing but combining marks."""
    if not authors:
        return authors
    names = []
    for name in authors.split("; "):
        words = name.split()
        initial = r"\.?" if len(words[-1]) == 1 else ""
        # the words first, the word boundary before them checked by hand: a pattern that opens
        # with its literal is found by re's fast search, one that opens with a lookbehind is
        # tried at every character of the page (0.5 ms a page)
        spelt = re.compile(r"(?:\.\s*|_|\s+)".join(map(re.escape, words)) + initial + r"(?![\w.])")
        found = next((m for m in spelt.finditer(html) if not m.start() or not _word_char(html[m.start() - 1])), None)
        if not found:
            names.append(name)
            continue
        end = found.end()
        while end < len(html) and unicodedata.category(html[end]).startswith("M"):
            end += 1  # the vowel signs that end a name in Indic scripts ("शर्मा"), which \w leaves out
        names.append(" ".join(html[found.start():end].split()) if len(words) > 1 or end > found.end() else name)
    return "; ".join(names)


def article_text(body: etree._Element, signals: dict[str, Any], rules: CompiledRules) -> tuple[str, str]:
    """(plain text, Markdown) of trafilatura's body tree, furniture removed (the tree is pruned in place)."""
    # Lines that repeat what the page shows elsewhere as furniture: related-link titles,
    # tags, dossier labels, caption credits.
    repeated = {s.casefold() for s in [t for t, _ in signals["related"]] + signals["visible_tags"]
                + signals["dossier_labels"] + signals["credits"]}
    _one_line_whitespace(body)
    prune_body(body, rules, repeated)
    return plain_text(body), markdown(body)


def _extract(page: Page) -> Extraction:
    html = decode_html(page.body, page.content_type, page.url)
    if not html.strip():
        return {"key": page.key, "status": ExtractionStatus.NOT_ARTICLE, "reason": "empty_page"}
    try:
        tree = parse_html(html)
    except (etree.ParserError, ValueError) as exc:
        return {"key": page.key, "status": ExtractionStatus.NOT_ARTICLE, "reason": f"unparseable_html: {exc}"}
    rules = rules_for(page.language, page.ctx.get("furniture"))
    classes = match_classes(tree)
    signals = page_signals(tree, rules, classes)
    paywalled = declares_paywall(html)
    doc = article_document(tree, page.url, rules, paywalled)
    descriptions = [d for d in [signals["jsonld"].get("description"),
                                *(signals["meta"].get(k, [""])[0] for k in DESCRIPTION_META)] if d]
    text = text_markdown = ""
    if doc is not None:
        leads = cast(list[lxml.html.HtmlElement], classes.leads)  # the page's elements are HtmlElements (_PARSER)
        if lead := lead_paragraph(tree, signals["headlines"], doc.text or "", leads, descriptions):
            doc.body.insert(0, opening := etree.Element("p"))
            opening.text = lead
        text, text_markdown = article_text(doc.body, signals, rules)
    words = count_words(text)
    extractor = EXTRACTOR
    # a page its scripts render: the article is in its data (embedded.py)
    if (words < EMBEDDED_WORDS and not paywalled and declares_an_article(signals["jsonld"], signals["meta"])
            and (embedded := embedded_paragraphs(tree, signals["jsonld"].get("articleBody"), descriptions, text))):
        doc = doc or trafilatura_metadata(tree, page.url)
        doc.body = etree.Element("body")
        for paragraph in embedded[0]:
            etree.SubElement(doc.body, "p").text = paragraph
        text, text_markdown = article_text(doc.body, signals, rules)
        words, extractor = count_words(text), f"{EXTRACTOR} (metadata); text: {embedded[1]}"
    if doc is None:
        return {"key": page.key, "status": ExtractionStatus.NOT_ARTICLE, "reason": "no_article_text"}
    doc.author = as_the_page_spells(doc.author, html)
    # htmldate's last resort is the year of the page's copyright notice, as 1 January: kept apart
    signals["copyright_years"] = copyright_years(html) if (doc.date or "").endswith("-01-01") else []
    access = access_of(paywalled, text, words, lambda: wall_beside(tree))
    # A paywalled article's teaser may be short: the row is kept (researchers count coverage).
    if words < MIN_ARTICLE_WORDS and (access == "free" or not text):
        return {"key": page.key, "status": ExtractionStatus.NOT_ARTICLE,
                "reason": "too_little_text" if text else "no_article_text"}
    ctx = {**page.ctx, "raw_sha256": hashlib.sha256(page.body).hexdigest(), "language": page.language}
    return {"key": page.key, "status": ExtractionStatus.OK,
            "record": build_record(ctx, extracted_fields(doc, text, text_markdown, signals, access, extractor),
                                   VisibleText(tree))}


def extracted_fields(doc: Document, text: str, text_markdown: str, signals: dict[str, Any],
                     access: str = "free", extractor: str = EXTRACTOR) -> dict[str, Any]:
    """What normalise.build_record takes from extraction."""
    return {
        "access": access,
        "text": text,
        "text_markdown": text_markdown,
        "title": doc.title,
        "author": doc.author,
        "date": doc.date,
        "description": doc.description,
        "sitename": doc.sitename,
        "categories": doc.categories or [],
        "signals": signals,
        "extractor": extractor,
    }


# Characters XML 1.0 forbids, as such or as character references ("&#11;", "&#x1F;"): control
# characters other than tab, line feed and carriage return, and U+FFFE/U+FFFF. The control
# characters are deleted from the UTF-8 bytes (where no other character has a byte below 0x20),
# the cheapest pass; a vertical tab or form feed becomes a space (a vertical tab is Word's line
# break, pasted into many CMSs: "words\vthat" is two words).
NOT_XML_CONTROLS = bytes(set(range(0x20)) - {0x09, 0x0A, 0x0B, 0x0C, 0x0D})
BREAKS_AS_SPACES = bytes.maketrans(b"\x0b\x0c", b"  ")
NOT_XML_REFERENCE = re.compile(r"&#(?:[xX]0*(?:[0-8bcefBCEF]|1[0-9a-fA-F]|[fF]{3}[eEfF])(?![0-9a-fA-F])"
                               r"|0*(?:[0-8]|1[124-9]|2[0-9]|3[01]|6553[45])(?![0-9]));?")
# huge_tree: unclosed tags nest some pages' text over 255 levels deep, where libxml2 otherwise
# drops it (up to 2048 levels; the page's size and the worker's budgets bound the rest).
_PARSER = lxml.html.HTMLParser(collect_ids=False, remove_comments=True, encoding="utf-8", huge_tree=True)
# Every element is an HtmlElement, found by lxml's C-level default lookup: lxml.html's own
# lookup calls a Python method for each element Python touches (in trafilatura's tree walks,
# every element) only to give <form>, <input> etc. classes with form helpers that nothing
# here uses.
_PARSER.set_element_class_lookup(etree.ElementDefaultClassLookup(
    element=lxml.html.HtmlElement, comment=lxml.html.HtmlComment, pi=lxml.html.HtmlProcessingInstruction,
    entity=lxml.html.HtmlEntity))
