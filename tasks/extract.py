"""Extraction: raw HTML bytes -> article text and raw metadata candidates.

trafilatura does the text and its own metadata; this module adds what it lacks for
news dossiers: structured-data candidates (JSON-LD, OpenGraph/article meta, <time>) kept
separately so normalise.py can choose by trust, the page's tag list, "Dossier:" labels
and "Lire aussi" links, and furniture removal rules (furniture.py). Each page is parsed
once: the tree read here is handed to trafilatura (which works on its own copy).
Extraction is CPU-bound pure Python: workers.py runs it on a process pool.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import lxml.html
import trafilatura
from lxml import etree

from tasks.encoding import decode_html
from tasks.furniture import CompiledRules, clean_paragraphs, rules_for
from tasks.normalise import build_record

EXTRACTOR = f"trafilatura {trafilatura.__version__}"
ARTICLE_TYPES = re.compile(r"(News|Blog|Report|Opinion|Analysis|Review|Scholarly|Tech)?Article|BlogPosting|"
                           r"LiveBlogPosting|Report", re.IGNORECASE)
MIN_ARTICLE_WORDS = 15  # below this, what trafilatura found is a navigation or stub page


@dataclass
class Page:
    """One fetched page sent to a worker (plain data: it crosses process boundaries)."""

    key: int
    url: str
    body: bytes
    content_type: str | None
    language: str | None  # the dossier's expected language, selects furniture rules
    ctx: dict[str, Any]  # fetch provenance and dossier settings, for normalise.build_record


def _jsonld_objects(tree: lxml.html.HtmlElement) -> Iterator[dict[str, Any]]:
    for script in tree.xpath("//script[@type='application/ld+json']/text()"):
        try:
            data = json.loads(script)
        except (ValueError, RecursionError):
            continue
        stack = data if isinstance(data, list) else [data]
        while stack:
            item = stack.pop(0)
            if isinstance(item, dict):
                stack.extend(item.get("@graph", []) if isinstance(item.get("@graph"), list) else [])
                yield item


def _names(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return _names(value.get("name"))
    if isinstance(value, list):
        return [n for v in value for n in _names(v)]
    return []


def _texts(elements: list[Any]) -> list[str]:
    return [" ".join(e.text_content().split()) for e in elements if e.text_content().strip()]


def page_signals(tree: lxml.html.HtmlElement, rules: CompiledRules) -> dict[str, Any]:
    """Metadata candidates from the page's own markup, each kept with its origin."""
    meta: dict[str, list[str]] = {}
    for element in tree.xpath("//meta[@content]"):
        key = (element.get("property") or element.get("name") or element.get("itemprop") or "").strip().lower()
        if key:
            meta.setdefault(key, []).append(element.get("content").strip())
    out: dict[str, Any] = {"meta": meta, "jsonld": {}}
    for obj in _jsonld_objects(tree):
        types = obj.get("@type")
        types = types if isinstance(types, list) else [types]
        if any(isinstance(t, str) and ARTICLE_TYPES.fullmatch(t) for t in types):
            keywords = obj.get("keywords")
            if isinstance(keywords, str):
                keywords = [k for k in re.split(r"[,;]", keywords)]
            out["jsonld"] = {
                "headline": obj.get("headline") or obj.get("name"),
                "datePublished": obj.get("datePublished"),
                "dateModified": obj.get("dateModified"),
                "authors": _names(obj.get("author")),
                "author_types": [a.get("@type") for a in obj.get("author", []) if isinstance(a, dict)]
                if isinstance(obj.get("author"), list) else [],
                "keywords": [k for k in keywords or [] if isinstance(k, str)],
                "section": _names(obj.get("articleSection")),
                "publisher": (_names(obj.get("publisher")) or [None])[0],
                "description": obj.get("description"),
                "inLanguage": obj.get("inLanguage") if isinstance(obj.get("inLanguage"), str) else None,
            }
            break
    out["canonical"] = tree.xpath("string(//link[@rel='canonical']/@href)") or None
    out["html_lang"] = tree.xpath("string(/html/@lang)") or None
    times = tree.xpath("//article//time/@datetime | //time/@datetime")
    out["time"] = times[0] if times else None
    # Visible blocks introduced by a heading ("Tags:", "Dossier:", "Lire aussi:"): the
    # links that follow the heading inside the same parent block.
    blocks: dict[str, list[tuple[str, str]]] = {"tags": [], "dossier": [], "related": []}
    for heading in tree.xpath("//body//*[not(self::a)][string-length(normalize-space(text())) < 40]"):
        text = (heading.text or "").strip()
        if not text:
            continue
        kind = next((k for k, rx in (("related", rules.related), ("tags", rules.tags), ("dossier", rules.dossier))
                     if rx.match(text)), None)
        if kind is None:
            continue
        parent = heading.getparent()
        if parent is None:
            continue
        for link in parent.xpath(".//a[@href]"):
            label = " ".join(link.text_content().split())
            if label:
                blocks[kind].append((label, link.get("href")))
    out["visible_tags"] = [label for label, _ in blocks["tags"]] + _texts(tree.xpath("//a[@rel='tag']"))
    out["dossier_labels"] = [label for label, _ in blocks["dossier"]]
    out["related"] = blocks["related"]
    return out


def extract_page(page: Page) -> dict[str, Any]:
    """Extract one page; never raises: problems come back as ``status``/``reason``."""
    try:
        return _extract(page)
    except Exception as exc:  # a broken page must become a recorded failure, not a crashed batch
        return {"key": page.key, "status": "failed", "reason": f"extract_error: {type(exc).__name__}: {exc}"}


def _extract(page: Page) -> dict[str, Any]:
    html = decode_html(page.body, page.content_type)
    if not html.strip():
        return {"key": page.key, "status": "not_article", "reason": "empty_page"}
    try:
        tree = lxml.html.document_fromstring(html.encode("utf-8"), parser=_PARSER)
    except (etree.ParserError, ValueError) as exc:
        return {"key": page.key, "status": "not_article", "reason": f"unparseable_html: {exc}"}
    rules = rules_for(page.language)
    signals = page_signals(tree, rules)
    doc = trafilatura.bare_extraction(
        tree,
        url=page.url,
        with_metadata=True,
        include_comments=False,
        include_tables=True,
        prune_xpath=rules.prune_xpath,
        date_extraction_params={"extensive_search": True, "original_date": True},
    )
    if doc is None or not (doc.text or "").strip():
        return {"key": page.key, "status": "not_article", "reason": "no_article_text"}
    furniture = {t for t, _ in signals["related"]} | set(signals["visible_tags"]) | set(signals["dossier_labels"])
    paragraphs = clean_paragraphs(doc.text, rules, furniture)
    if sum(len(p.split()) for p in paragraphs) < MIN_ARTICLE_WORDS:
        return {"key": page.key, "status": "not_article", "reason": "too_little_text"}
    extracted = {
        "text": "\n\n".join(paragraphs),
        "title": doc.title,
        "author": doc.author,
        "date": doc.date,
        "description": doc.description,
        "sitename": doc.sitename,
        "categories": doc.categories or [],
        "signals": signals,
        "extractor": EXTRACTOR,
    }
    ctx = {**page.ctx, "raw_sha256": hashlib.sha256(page.body).hexdigest()}
    return {"key": page.key, "status": "ok", "record": build_record(ctx, extracted)}


_PARSER = lxml.html.HTMLParser(collect_ids=False, remove_comments=True, encoding="utf-8")
