"""Normalisation: raw extraction output -> one article row, one meaning per column.

Candidates are taken in order of trust (JSON-LD, then OpenGraph/article meta, then
<time>, then trafilatura/htmldate) and each value is cleaned the same way on every site:
times to UTC, authors split into person names, tags de-duplicated, URLs normalised.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import py3langid
from dateutil import parser as dateparser

from tasks.urls import article_id, in_domains, normalise_url

PUBLISHED_META = ("article:published_time", "og:article:published_time", "datepublished", "pubdate",
                  "publishdate", "dc.date.issued", "dcterms.created", "date", "sailthru.date", "parsely-pub-date")
MODIFIED_META = ("article:modified_time", "og:updated_time", "datemodified", "dcterms.modified", "last-modified")
AUTHOR_SPLIT = re.compile(r"\s*(?:;|,|&|\||\s+(?:et|and|und|и|y|e)\s+)\s*", re.IGNORECASE)
AUTHOR_PREFIX = re.compile(r"^(?:par|by|von|de|автор[ы]?:?|texte|text|propos recueillis par)\s+", re.IGNORECASE)
COUNT_SUFFIX = re.compile(r"\s*\(\d[\d\s.,]*\)\s*$")
CLOCK_SKEW = timedelta(minutes=10)


def parse_date(value: str | None, tz: str, not_after: datetime) -> tuple[datetime, str] | None:
    """A date string as (UTC datetime, precision 'second'|'day'), or None when it cannot be
    parsed or lies in the future of the fetch. Values without offset are in ``tz``."""
    if not value or not isinstance(value, str):
        return None
    value = value.strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            day = date.fromisoformat(value)
            parsed, precision = datetime(day.year, day.month, day.day, tzinfo=UTC), "day"
        else:
            parsed = dateparser.parse(value)
            precision = "second"
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=ZoneInfo(tz))
            parsed = parsed.astimezone(UTC)
    except (ValueError, OverflowError, TypeError):
        return None
    if parsed > not_after + CLOCK_SKEW or parsed.year < 1990:
        return None
    return parsed, precision


def clean_authors(raw: list[str], site_names: set[str]) -> list[str]:
    """Person names: split multi-author strings, strip bylines, drop site names, dates, URLs."""
    sites = {s.casefold() for s in site_names if s}
    out: list[str] = []
    for value in raw:
        for part in AUTHOR_SPLIT.split(AUTHOR_PREFIX.sub("", value.strip())):
            name = " ".join(AUTHOR_PREFIX.sub("", part).split()).strip(" .·-")
            if (not name or name.casefold() in sites or any(c.isdigit() for c in name) or "/" in name
                    or "@" in name or len(name) > 60 or len(name.split()) > 5):
                continue
            if name.casefold() not in {o.casefold() for o in out}:
                out.append(name)
    return out


def dedupe(values: list[str]) -> list[str]:
    """Trim, drop empties and case-folded duplicates, keep first spelling and order."""
    seen: set[str] = set()
    out = []
    for value in values:
        value = " ".join(str(value).split()).strip(" ,;#")
        if value and len(value) <= 100 and value.casefold() not in seen:
            seen.add(value.casefold())
            out.append(value)
    return out


def detect_language(text: str) -> str | None:
    if len(text) < 20:
        return None
    lang, _ = py3langid.classify(text[:4000])
    return lang


def _first(*values: Any) -> Any:
    for value in values:
        if isinstance(value, list):
            value = value[0] if value else None
        if isinstance(value, str) and value.strip():
            return " ".join(value.split())
    return None


def build_record(ctx: dict[str, Any], ex: dict[str, Any]) -> dict[str, Any]:
    """The article row for one page, from fetch context ``ctx`` and extraction ``ex``."""
    signals, meta, ld = ex["signals"], ex["signals"]["meta"], ex["signals"]["jsonld"]
    final_url = ctx["final_url"] or ctx["url"]
    canonical = None
    for candidate in (signals.get("canonical"), _first(meta.get("og:url"))):
        norm = normalise_url(candidate, final_url) if candidate else None
        if norm and in_domains(norm, ctx["domains"]):
            canonical = norm
            break
    canonical = canonical or normalise_url(final_url) or final_url
    fetched_at: datetime = ctx["fetched_at"]
    tz = ctx["timezone"]

    published = None
    date_source = None
    for source, value in [("jsonld", ld.get("datePublished")),
                          *[("meta", v) for k in PUBLISHED_META for v in meta.get(k, [])],
                          ("time", signals.get("time")), ("htmldate", ex.get("date"))]:
        if parsed := parse_date(value, tz, fetched_at):
            published, date_source = parsed, source
            break
    modified = None
    for value in [ld.get("dateModified"), *[v for k in MODIFIED_META for v in meta.get(k, [])]]:
        if parsed := parse_date(value, tz, fetched_at):
            modified = parsed[0]
            break

    site_name = _first(meta.get("og:site_name"), ld.get("publisher"), ex.get("sitename"))
    author_raw = ld.get("authors") or [a for a in meta.get("article:author", []) + meta.get("author", [])
                                       if not a.startswith("http")]
    if not author_raw and ex.get("author"):
        author_raw = ex["author"].split(";")
    text = ex["text"]
    declared = _first(ld.get("inLanguage"), signals.get("html_lang"), meta.get("og:locale"))
    # Editorial tags only: SEO <meta name="keywords"> lists are not the page's tags.
    tags = dedupe([t for v in ld.get("keywords", []) + meta.get("article:tag", []) + meta.get("news_keywords", [])
                   for t in v.split(",")] + signals.get("visible_tags", []))
    related = []
    for _, href in signals.get("related", []):
        if (norm := normalise_url(href, final_url)) and norm not in related and norm != canonical:
            related.append(norm)
    return {
        "article_id": article_id(canonical),
        "dossier": ctx["dossier"],
        "url": ctx["url"],
        "final_url": final_url,
        "canonical_url": canonical,
        "title": _first(ld.get("headline"), meta.get("og:title"), ex.get("title")),
        "text": text,
        "authors": clean_authors(author_raw, {site_name or "", *(ld.get("publisher") or "",)}),
        "published_at": published[0] if published else None,
        "modified_at": modified,
        "date_precision": published[1] if published else None,
        "date_source": date_source,
        "language": detect_language(text),
        "language_declared": declared.replace("_", "-").split("-")[0].lower() if declared else None,
        "section": _first(ld.get("section"), meta.get("article:section"), ex.get("categories")),
        "tags": tags,
        "dossier_labels": dedupe([COUNT_SUFFIX.sub("", label) for label in signals.get("dossier_labels", [])]),
        "related_urls": related,
        "description": _first(ld.get("description"), meta.get("og:description"), meta.get("description"),
                              ex.get("description")),
        "site_name": site_name,
        "word_count": len(text.split()),
        "text_sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
        "source_kind": ctx["source_kind"],
        "source_url": ctx["source_url"],
        "fetched_at": fetched_at,
        "http_status": ctx["http_status"],
        "content_type": ctx.get("content_type"),
        "etag": ctx.get("etag"),
        "last_modified": ctx.get("last_modified"),
        "raw_sha256": ctx["raw_sha256"],
        "extractor": ex["extractor"],
        "pipeline_version": ctx["pipeline_version"],
        "run_id": ctx["run_id"],
    }
