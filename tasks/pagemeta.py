"""trafilatura's metadata pass, on the page's own tree, with its author search in one walk.

``trafilatura_metadata`` is trafilatura's ``extract_metadata`` step for step, less the tag and
licence searches that the pipeline never reads (two scans of the whole tree).

Its author search (``extract_author``) is trafilatura's too, run faster. trafilatura copies the
whole page, prunes the copy (AUTHOR_DISCARD_XPATHS), then runs each of AUTHOR_XPATHS on it until
one finds an element with a name's length of text. That is seven walks of the page in libxml2's
XPath engine, which reads every attribute a predicate names once per element: 5.0 ms on each
page it runs on (the half of the pages without a byline tag), a tenth of the extraction's CPU time;
1.1 ms here.

Here the page is walked once, in Python. Only the elements with an attribute holding a word that
trafilatura's tests look for (AUTHOR_WORDS) go on to those same XPaths, rewritten as tests of
the element itself. They are tested for which XPath finds them, whether they sit in a discarded
block, and what text they have once their own discarded blocks are pruned (as trafilatura does,
on a copy of the element only). The result is the same name.

AUTHOR_WORDS was read off the XPaths of trafilatura 2.3.1 (AUTHOR_SOURCES, their digest). With
other XPaths, trafilatura's own ``extract_author`` runs. tests/test_extract.py compares both on
every test page.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from copy import deepcopy

import lxml.html
from htmldate import find_date
from lxml import etree
from trafilatura import metadata, xpaths
from trafilatura.htmlprocessing import prune_unwanted_nodes
from trafilatura.json_metadata import normalize_authors
from trafilatura.metadata import Document
from trafilatura.utils import trim

DATE_PARAMS = {"extensive_search": True, "original_date": True}  # htmldate: also search the text; the first date

# Every attribute value that one of trafilatura's author tests (AUTHOR_XPATHS) matches holds one
# of these (a test on the tag, <author>, or on a child, <rel>, is taken apart).
AUTHOR_WORDS = re.compile("uthor|byl|BBL|username|zuozhe|bianji|xiaobian|channel-name|submitted-by|posted-by"
                          "|journalist-name|screenname|writer|yline")
AUTHOR_SOURCES = "2af94d4a6e04e948"  # sha256 of AUTHOR_XPATHS and AUTHOR_DISCARD_XPATHS, one per line, first 16


def _sources() -> str:
    text = "\n".join(" ".join(x.path.split()) for x in xpaths.AUTHOR_XPATHS + xpaths.AUTHOR_DISCARD_XPATHS)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _branches(source: str) -> list[str]:
    """The location paths of an XPath union ("//*[…]|//author"), split where no bracket,
    parenthesis or quote is open."""
    branches, depth, quote, start = [], 0, "", 0
    for i, char in enumerate(source):
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in "[(":
            depth += 1
        elif char in "])":
            depth -= 1
        elif char == "|" and depth == 0:
            branches.append(source[start:i].strip())
            start = i + 1
    return [*branches, source[start:].strip()]


def on_self(expression: etree.XPath) -> etree.XPath:
    """``expression``, a union of whole-tree searches ("//*[…]", ".//a[…]"), as a test of the
    element it is given ("self::*[…]", "self::a[…]")."""
    tests = []
    for branch in _branches(" ".join(expression.path.split())):
        step = branch.removeprefix(".").removeprefix("//")
        if len(step) == len(branch):
            raise ValueError(f"not a whole-tree search: {branch}")
        tests.append(f"self::{step}")
    return etree.XPath(f"boolean({' | '.join(tests)})", namespaces={"re": xpaths.REGEXP_NS})


# Built only from the XPaths AUTHOR_WORDS was read off: others may not be whole-tree searches.
_READ_OFF = _sources() == AUTHOR_SOURCES
_AUTHOR_EACH = [on_self(x) for x in xpaths.AUTHOR_XPATHS] if _READ_OFF else []
_DISCARDED = [on_self(x) for x in xpaths.AUTHOR_DISCARD_XPATHS] if _READ_OFF else []


def _discarded(element: etree._Element) -> bool:
    return any(test(e) for e in (element, *element.iterancestors()) for test in _DISCARDED)


def _author_search(tree: lxml.html.HtmlElement) -> str | None:
    """trafilatura's ``metadata.extract_author``: the same name, in one walk of the page."""
    with_rel = {r.getparent() for r in tree.iter("rel")}  # rel='me': a child <rel> element
    found = [e for e in tree.iter(etree.Element)
             if e.tag == "author" or e in with_rel or AUTHOR_WORDS.search(" ".join(e.attrib.values()))]
    for matches in _AUTHOR_EACH:
        for element in found:
            if not matches(element) or _discarded(element):
                continue
            if any(test(e) for e in element.iterdescendants() for test in _DISCARDED):
                element = prune_unwanted_nodes(deepcopy(element), xpaths.AUTHOR_DISCARD_XPATHS)
            content = trim(" ".join(element.itertext()))
            if 2 < len(content) < 120:
                return normalize_authors(None, content)
    return None


extract_author = _author_search if _READ_OFF else metadata.extract_author


TEXT_FIELDS = ("title", "author", "url", "description", "sitename")


def trafilatura_metadata(tree: lxml.html.HtmlElement, url: str) -> Document:
    """trafilatura's metadata of the page (read-only on the tree, so it runs on the page's own
    tree, before the furniture is pruned, as in trafilatura)."""
    doc = metadata.examine_meta(tree)
    if doc.author and " " not in doc.author:
        doc.author = None
    with contextlib.suppress(Exception):  # as extract_metadata: a bug in its JSON-LD reader loses that source only
        doc = metadata.extract_meta_json(tree, doc)
    for name in TEXT_FIELDS:  # its JSON-LD reader passes on a list ("headline": ["…"]) or an object as it is
        if (value := getattr(doc, name)) is not None and not isinstance(value, str):
            first = next((v for v in value if isinstance(v, str)), None) if isinstance(value, list) else None
            setattr(doc, name, first)
    doc.title = doc.title or metadata.extract_title(tree)
    doc.author = doc.author or extract_author(tree)
    doc.url = doc.url or metadata.extract_url(tree, url)
    doc.date = find_date(tree, url=doc.url, extensive_search=DATE_PARAMS["extensive_search"],
                         original_date=DATE_PARAMS["original_date"])
    doc.sitename = doc.sitename or metadata.extract_sitename(tree)
    if doc.sitename:
        doc.sitename = doc.sitename.lstrip("@")
        if doc.sitename and "." not in doc.sitename and not doc.sitename[0].isupper():
            doc.sitename = doc.sitename.title()
    elif doc.url and (site := metadata.META_URL.match(doc.url)):
        doc.sitename = site[1]
    doc.categories = doc.categories or metadata.extract_catstags("category", tree)
    doc.clean_and_trim()
    return doc
