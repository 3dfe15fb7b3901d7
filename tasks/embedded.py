"""An article's text where its page's markup shows none: pages that scripts render.

A page that a JavaScript application renders in the browser (Sinclair's local stations, many
Next.js and Nuxt sites) serves its article as data: JSON-LD's ``articleBody``, or the
application's state, a JSON string of HTML paragraphs inside a ``<script>``. trafilatura reads
the markup and finds no article, or only the page's furniture ("This content is not available
due to your privacy preferences"), and the article would be lost. When the text it finds is
short (extract.py), the text is read from that data instead, if it holds more than that text
and is not in it: ``articleBody`` first; else the longest string in a script that holds HTML
paragraphs and, in them, the opening of the page's own description, which ties it to this
article (a state also holds other stories' texts, never with this page's description). Only on
a page that declares itself an article, and never on a paywalled one: its hidden text is not
for the public (its teaser stays the text).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from html import unescape

import lxml.html
from lxml import etree

from dossier_pipeline.tasks.textcount import count_words

MIN_OPENING = 40  # characters of the description that must occur in the embedded text
MIN_EMBEDDED = 200  # characters: a shorter string in a script is a label or a teaser, not a body
# A string literal of a script (JSON, or JavaScript assigning JSON): matched whole from its opening
# quote, so that a scan never starts inside one.
STRING_LITERAL = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
HTML_PARAGRAPH = re.compile(r"<p[\s>]", re.IGNORECASE)
BLOCKS = ("p", "h2", "h3", "h4", "h5", "h6", "li", "blockquote")


def declares_an_article(jsonld: dict[str, object], meta: dict[str, list[str]]) -> bool:
    """Whether the page says it is an article: a JSON-LD Article node, or article metas."""
    return bool(jsonld.get("headline")) or "article:published_time" in meta or "article" in meta.get("og:type", [])


def paragraphs(body: str) -> list[str]:
    """The paragraphs of an embedded body: HTML (block elements), else text (one a line)."""
    if HTML_PARAGRAPH.search(body) or "<br" in body.lower():
        try:
            root = lxml.html.fragment_fromstring(body, create_parent="div")
        except (etree.ParserError, ValueError):
            return []
        blocks = [e for e in root.iter(*BLOCKS) if not any(a.tag in BLOCKS for a in e.iterancestors())]
        return [text for e in blocks or [root] if (text := " ".join(e.text_content().split()))]
    return [text for line in unescape(body).splitlines() if (text := " ".join(line.split()))]


def embedded_paragraphs(tree: lxml.html.HtmlElement, article_body: str | None, descriptions: Iterable[str],
                        shown: str) -> tuple[list[str], str] | None:
    """(paragraphs, where they were read) of the article the page's data holds, when they are
    more than the ``shown`` text and not in it; else None."""
    if article_body and _more_than(found := paragraphs(article_body), shown):
        return found, "JSON-LD articleBody"
    opening = next((o for d in descriptions if len(o := _folded(d)) >= MIN_OPENING), "")[:MIN_OPENING]
    if not opening:
        return None
    best: tuple[tuple[int, int], list[str]] | None = None
    for script in tree.iter("script"):
        for literal in STRING_LITERAL.findall(script.text or ""):
            if len(literal) < MIN_EMBEDDED or not HTML_PARAGRAPH.search(literal):
                continue
            try:
                value = json.loads(literal)
            except ValueError:
                continue
            found = paragraphs(value)
            # the best-formed HTML first (its paragraphs closed), then the longest
            rank = (value.count("</p>"), len(value))
            if opening in _folded(" ".join(found)) and (best is None or rank > best[0]):
                best = rank, found
    return (best[1], "script") if best and _more_than(best[1], shown) else None


def _more_than(found: list[str], shown: str) -> bool:
    text = " ".join(found)
    return count_words(text) > count_words(shown) and _folded(text)[:MIN_OPENING] not in _folded(shown)


def _folded(text: str) -> str:
    return " ".join(unescape(text).split()).casefold()
