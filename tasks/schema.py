"""The one place where the dataset's tables are declared: ``articles/`` (ARTICLE_SCHEMA,
hive-partitioned by PARTITIONING), the URL ledger ``urls/`` (URL_SCHEMA, its states the
``UrlState`` enum) and ``edits/`` (EDITS_SCHEMA).

Every column carries its documentation in the Arrow field metadata (``doc``: meaning,
``source``: where the value comes from, ``null_when``), so the schema reference in
``datasets/README.md`` is generated from this module (and checked by a test) and the
Parquet files themselves describe their columns. Each file records its SCHEMA_VERSION;
``Store.prepare`` rewrites article files of an older version under this one
(``store.upgrade_articles``: new columns null, ``word_count`` and ``char_count`` computed
from the stored text), so every reader sees one schema.
"""

from __future__ import annotations

from enum import StrEnum

import pyarrow as pa

# The columns each version added (docs/decisions.md, "Schema versions and upgrades"):
# 2: text_markdown, agency, date_evidence, text_simhash, duplicate_urls.
# 3: warc_file, warc_record_id, warc_offset, first_seen, last_seen, last_changed; edits/.
# 4: access, char_count, published_at_local, modified_at_local, archive_url, archive_captured_at;
#    word_count counts unspaced scripts (CJK, Thai …) by characters.
SCHEMA_VERSION = "4"

_TS = pa.timestamp("us", tz="UTC")
_STRINGS = pa.list_(pa.string())
DATE_EVIDENCE = pa.list_(pa.struct([pa.field("source", pa.string()), pa.field("value", pa.string())]))


def _f(name: str, type_: pa.DataType, doc: str, source: str, null_when: str = "never",
       nullable: bool = True) -> pa.Field:
    return pa.field(name, type_, nullable=nullable, metadata={"doc": doc, "source": source, "null_when": null_when})


_FETCH = "HTTP response"
_PAGE = "the page's markup"
ARTICLE_FIELDS: list[pa.Field] = [
    _f("article_id", pa.string(), "Stable row id: the first 32 hex digits of SHA-256 of canonical_url's identity "
       "key (courlan's normalisation of scheme, host and path; the query without tracking parameters, in name "
       "order: tasks/urls.py identity_key).", "computed", nullable=False),
    _f("dossier", pa.string(), "Slug of the dossier the row belongs to.", "config", nullable=False),
    _f("url", pa.string(), "URL as discovered (without its fragment; scheme and host lower-cased, the default "
       "port dropped), without tracking parameters (tasks/urls.py TRACKING_PARAMS); every other query parameter "
       "and path segment kept. The URL fetched was the one discovered, tracking parameters included.",
       "discovery", nullable=False),
    _f("final_url", pa.string(), "URL after redirects (the URL itself when not redirected).", _FETCH),
    _f("canonical_url", pa.string(), "The article's address: `<link rel=canonical>`, else og:url, when on an "
       "allowed domain, not the site root nor a listing, and keeping the query parameters that identify the page "
       "fetched; else the URL as discovered (`url`), not the one it redirected to. Tracking parameters (utm_*, "
       "fbclid, gclid, xtor …: tasks/urls.py TRACKING_PARAMS) removed, nothing else.", _PAGE + ", fetch", "never"),
    _f("title", pa.string(), "Headline, without a site name appended or prepended to it.",
       "JSON-LD headline, og:title, trafilatura (`<title>`, `<h1>`)", "the page has no headline"),
    _f("text", pa.string(), "Article text only: paragraphs (headings, list items) separated by a blank line, "
       "Unicode NFC; page furniture (related links, share/subscribe lines, tags, comments, credits) removed.",
       "trafilatura + furniture rules; on a page whose scripts render the article (its markup shows no text, or "
       "only furniture), its JSON-LD articleBody or its application state's paragraphs (tasks/embedded.py)",
       "never (a page without text is no row)"),
    _f("access", pa.string(), "Who may read the article: 'free'; 'paywall' (for subscribers: text then holds "
       "the public part, the teaser); 'registration' (for registered readers).", "JSON-LD isAccessibleForFree, "
       "paywall markup, the wall's phrases beside a teaser (tasks/blocks.py)", "rows written before schema 4"),
    _f("text_markdown", pa.string(), "The same text as Markdown: headings, lists, quotes, tables, code.",
       "trafilatura's body tree + furniture rules", "rows written before schema 2"),
    _f("authors", _STRINGS, "Person names: bylines split ('Par A et B', 'By A and B', 'А и Б'), prefixes and "
       "roles dropped; never a site name, an agency or a date.", "JSON-LD author, article:author/author meta, "
       "the article item's microdata author (first that yields a name), else the page's visible byline line "
       "('Von …', 'Autor: …', '11.12.2019 - …'), else trafilatura's byline; the visible line also spells out a "
       "one-word name (a user name, a given name alone)", "never (empty list when no person is named)"),
    _f("agency", pa.string(), "News agency credited in the byline (AFP, Reuters, dpa, ТАСС …), several "
       "joined by ', '.", "the same byline sources", "no agency is credited"),
    _f("published_at", _TS, "Publication time in UTC, never later than fetched_at; a date-only value is "
       "that day at 00:00.", "first usable of: JSON-LD datePublished, published-time meta, `<time>`, htmldate, "
       "then the news sitemap, feed or listing date; one that htmldate's search puts more than a day away and no "
       "other kind of source confirms gives way to the first that agrees with htmldate; the day a date line "
       "under the headline states (htmldate's date-expression parser) stands against htmldate alone",
       "no source gives a usable date"),
    _f("published_at_local", pa.string(), "The same publication time as the source states it, ISO 8601 with "
       "its UTC offset ('2022-05-03T22:46:08-03:00'; a time given without one carries the offset of a source "
       "stating the same instant with one, else that of the page's zone, in which it was read), or a date "
       "alone ('2022-05-03') when the source gives no time. Its first ten characters are the publisher's "
       "calendar day, which windows, filters and the card use.", "the value published_at was read from",
       "published_at is null, or rows written before schema 4"),
    _f("modified_at", _TS, "Last modification time in UTC, never later than fetched_at.",
       "JSON-LD dateModified, modified-time meta", "the page states no modification"),
    _f("modified_at_local", pa.string(), "The same modification time as the source states it, as "
       "published_at_local.", "the value modified_at was read from",
       "modified_at is null, or rows written before schema 4"),
    _f("date_precision", pa.string(), "'second' when the chosen value has a time of day, 'day' for a "
       "date-only value.", "computed", "published_at is null"),
    _f("date_source", pa.string(), "Where published_at came from: jsonld, meta, time, htmldate, dateline, "
       "news_sitemap_date, feed_date, listing_date (the first part of its date_evidence source).", "computed",
       "published_at is null"),
    _f("date_evidence", DATE_EVIDENCE, "Every date candidate seen, as found (source, raw value): publication "
       "candidates in order of trust (jsonld:datePublished, `meta:<name>`, time, htmldate, dateline (a date "
       "line under the headline, or opening the text), news_sitemap_date, "
       "feed_date, listing_date), then jsonld:dateModified, modified-time meta, sitemap_lastmod and "
       "http:last-modified; htmldate:copyright_year is htmldate's 1 January of the page's copyright year, "
       "never taken.",
       "page, discovery, HTTP response", "rows written before schema 2"),
    _f("language", pa.string(), "ISO 639-1 code detected from the text (py3langid); when detection is "
       "unsure, the declared or the dossier's language if the text supports it; the declared one when it is "
       "close to the detected one (id/ms, hr/sr/bs, no/nb/nn/da, cs/sk, gl/pt).", "computed",
       "the text is too short or in no language the detector knows"),
    _f("language_declared", pa.string(), "ISO 639-1 code the page declares; differs from language when the "
       "declaration disagrees with the text.", "JSON-LD inLanguage, `<html lang>`, og:locale",
       "the page declares none"),
    _f("section", pa.string(), "Site section.", "JSON-LD articleSection, article:section, trafilatura "
       "categories", "the page names none"),
    _f("tags", _STRINGS, "Tags/keywords the page shows, trimmed, de-duplicated (case-folded duplicates "
       "merged, first spelling kept), without counts ('Joe Biden (233)'); no dates, numbers or analytics tokens.",
       "JSON-LD keywords, tag metas (article:tag, taz:tag, parsely-tags …), news_keywords, visible tag lists; "
       "else the article's links to tag pages ('/tag/hotel/'); else <meta name=keywords>",
       "never (empty list when none)"),
    _f("dossier_labels", _STRINGS, "The site's own 'Dossier:'/topic labels shown on the page, without "
       "article counts.", "visible 'Dossier:' blocks", "never (empty list when none)"),
    _f("related_urls", _STRINGS, "Links of 'Lire aussi'/'Read also'/'Читайте также' blocks (removed from "
       "text), tracking parameters removed.", "visible related-link blocks", "never (empty list when none)"),
    _f("description", pa.string(), "Summary / lead as declared by the page.", "JSON-LD description, "
       "og:description, description meta", "the page declares none"),
    _f("site_name", pa.string(), "Publisher or site name.", "og:site_name, JSON-LD publisher, trafilatura",
       "the page names none"),
    _f("word_count", pa.int32(), "Words in text: whitespace-separated words; in scripts written without "
       "spaces, their characters divided by the script's mean word length (1.5 for Chinese and Japanese "
       "characters, 4 for Thai, Lao, Khmer and Myanmar code points), an estimate (tasks/textcount.py).",
       "computed", "never"),
    _f("char_count", pa.int32(), "Characters in text (Unicode code points, NFC, whitespace included): the "
       "length measure that means the same in every script.", "computed", "rows written before schema 4"),
    _f("text_sha256", pa.string(), "SHA-256 of text (UTF-8): equal for exact duplicates.", "computed",
       "never"),
    _f("text_simhash", pa.string(), "64-bit SimHash of the text's word 3-shingles, 16 hex digits: a few "
       "differing bits mean a near-duplicate.", "computed", "rows written before schema 2"),
    _f("duplicate_urls", _STRINGS, "Canonical URLs of other articles of the dossier with the same text, or "
       "nearly the same under a title sharing most of its words (a short text or a paywall's teaser: the "
       "same under the same title), merged into this row.",
       "duplicate detection (tasks/dedup.py)",
       "rows written before schema 2 (empty list when none)"),
    _f("source_kind", pa.string(), "Source kind that discovered the URL: listing, feed, sitemap, urls, wayback "
       "(a listing, feed or sitemap as a web archive captured it) or warc (a record of a WARC file).",
       "discovery", "never"),
    _f("source_url", pa.string(), "The listing page, feed, sitemap or URL file that yielded the URL; for wayback "
       "the raw capture of the listing read (`<archive>/web/<timestamp>id_/<url>`); for warc the WARC file.",
       "discovery", "never"),
    _f("fetched_at", _TS, "When the body was received (UTC).", _FETCH, nullable=False),
    _f("http_status", pa.int16(), "Final HTTP status code.", _FETCH, "never"),
    _f("content_type", pa.string(), "Response Content-Type header.", _FETCH, "the server sent none"),
    _f("etag", pa.string(), "Response ETag, for conditional GET.", _FETCH, "the server sent none"),
    _f("last_modified", pa.string(), "Response Last-Modified header, for conditional GET (also in "
       "date_evidence).", _FETCH, "the server sent none"),
    _f("raw_sha256", pa.string(), "SHA-256 of the raw (decompressed) response body.", "computed",
       "never"),
    _f("extractor", pa.string(), "Extraction software and version, e.g. 'trafilatura 2.3.1'; where the text was "
       "read from the page's data ('trafilatura 2.3.1 (metadata); text: JSON-LD articleBody', '…; text: script').",
       "pipeline", "never"),
    _f("pipeline_version", pa.string(), "dossier-pipeline version that wrote the row.", "pipeline",
       "never"),
    _f("run_id", pa.string(), "Id of the run (Prefect flow run id) that wrote the row.", "pipeline",
       nullable=False),
    _f("warc_file", pa.string(), "WARC file holding the HTTP response the row was extracted from, relative to "
       "the dossier directory (raw/….warc.gz).", "archive (tasks/archive.py)",
       "the run had archive = false, or the row predates the archive"),
    _f("warc_record_id", pa.string(), "WARC-Record-ID of that response record (<urn:uuid:…>).",
       "archive (tasks/archive.py)", "warc_file is null"),
    _f("warc_offset", pa.int64(), "Byte offset of that record's gzip member in warc_file: seek there and read "
       "one record (warcio).", "archive (tasks/archive.py)", "warc_file is null"),
    _f("archive_url", pa.string(), "The web archive capture the row was extracted from, raw "
       "(`<archive>/web/<timestamp>id_/<url>`: the bytes the site served, no archive rewriting), when the site "
       "no longer served the article.", "web archive (tasks/wayback.py)",
       "the page was fetched from the site itself, or read from a WARC file"),
    _f("archive_captured_at", _TS, "When the archived copy was captured (UTC): the capture's timestamp, or a "
       "WARC source's WARC-Date.", "web archive CDX / WARC-Date", "the page was fetched from the site itself"),
    _f("first_seen", _TS, "When the article was first fetched: fetched_at of its first stored version (kept "
       "when a --refresh replaces the row).", "the runs (tasks/history.py)", "the row predates history"),
    _f("last_seen", _TS, "When a fetch last found the article online (a 200, or a 304 on --refresh).",
       "the runs (tasks/history.py)", "the row predates history"),
    _f("last_changed", _TS, "When a --refresh last found the article edited or gone (404/410); each change "
       "is a row of edits/.", "the runs (tasks/history.py)", "no change observed"),
]

ARTICLE_SCHEMA = pa.schema(ARTICLE_FIELDS, metadata={"schema_version": SCHEMA_VERSION})

# Hive partition keys of articles/: derived from published_at (UTC); rows with no known
# publication date go to year=0/month=0 so every reader's integer partition inference works.
PARTITIONING = pa.schema([pa.field("year", pa.int16()), pa.field("month", pa.int8())])



class UrlState(StrEnum):
    """The state a discovered URL ends a run in (the ledger's ``state`` column): exactly one
    per URL and run (tasks/ledger.py)."""

    WRITTEN = "written"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    DUPLICATE = "duplicate"
    SKIPPED = "skipped"
    NOT_ARTICLE = "not_article"
    BLOCKED = "blocked"
    FAILED = "failed"


URL_STATES = tuple(UrlState)

_LEDGER = "the run"
URL_FIELDS: list[pa.Field] = [
    _f("run_id", pa.string(), "Run that recorded the state.", _LEDGER, nullable=False),
    _f("url", pa.string(), "Discovered URL, without tracking parameters (as articles' url).", "discovery",
       nullable=False),
    _f("state", pa.string(), "Terminal state in this run: " + ", ".join(URL_STATES) + ".", _LEDGER,
       nullable=False),
    _f("stage", pa.string(), "Stage where a skipped/failed URL stopped: discover, robots, fetch, extract, write.",
       _LEDGER, "the state is not skipped, blocked or failed"),
    _f("reason", pa.string(), "Human-readable reason for skipped, not_article, blocked, failed and duplicate "
       "(which names the row kept, and for a merged near-duplicate its SimHash distance).", _LEDGER,
       "written, updated and most unchanged URLs"),
    _f("article_id", pa.string(), "Row id in articles/ when the URL yielded an article (for a duplicate: the "
       "row it was merged into).", _LEDGER, "the URL yielded no article"),
    _f("source_kind", pa.string(), "Source kind that discovered the URL.", "discovery"),
    _f("source_url", pa.string(), "Listing page, feed, sitemap or URL file that yielded it.", "discovery"),
    _f("final_url", pa.string(), "URL after redirects, when fetched.", _FETCH, "not fetched in this run"),
    _f("http_status", pa.int16(), "Final HTTP status, when fetched.", _FETCH, "not fetched in this run"),
    _f("recorded_at", _TS, "When the state was recorded (UTC).", _LEDGER, nullable=False),
]

URL_SCHEMA = pa.schema(URL_FIELDS, metadata={"schema_version": SCHEMA_VERSION})

EDIT_KINDS = ("edit", "takedown", "restored")
_SEEN = "the refresh (tasks/history.py)"
EDIT_FIELDS: list[pa.Field] = [
    _f("article_id", pa.string(), "Row id in articles/ of the article that changed.", _SEEN, nullable=False),
    _f("canonical_url", pa.string(), "The article's canonical URL.", _SEEN),
    _f("url", pa.string(), "URL fetched when the change was observed.", "discovery"),
    _f("kind", pa.string(), "edit: a refresh found other content, or the live page differs from an older archived "
       "version; takedown: a refresh got 404/410 for a stored article, or the site answered 404/410 for an article "
       "read from an archive; restored: it answered again after a takedown.", _SEEN, nullable=False),
    _f("fields", _STRINGS, "Columns whose value changed (title, text, authors, agency, published_at, "
       "modified_at, section, tags, description).", _SEEN, "never (empty list for a takedown)"),
    _f("old_text_sha256", pa.string(), "text_sha256 before the change.", _SEEN, "never"),
    _f("new_text_sha256", pa.string(), "text_sha256 after the change.", _SEEN, "a takedown"),
    _f("old_fetched_at", _TS, "When the previous version was fetched (for an archived version: captured): "
       "the change happened between it and observed_at.", _SEEN, "never"),
    _f("observed_at", _TS, "When the change was observed (fetched_at of the new response).", _FETCH,
       nullable=False),
    _f("http_status", pa.int16(), "HTTP status of the response that showed the change.", _FETCH, "never"),
    _f("old_warc_file", pa.string(), "WARC file of the previous version's response.", "archive",
       "the previous version was not archived"),
    _f("old_warc_record_id", pa.string(), "WARC-Record-ID of the previous version's response.", "archive",
       "the previous version was not archived"),
    _f("old_warc_offset", pa.int64(), "Offset of the previous version's response in old_warc_file.", "archive",
       "the previous version was not archived"),
    _f("warc_file", pa.string(), "WARC file of the response that showed the change.", "archive",
       "the run had archive = false"),
    _f("warc_record_id", pa.string(), "WARC-Record-ID of that response.", "archive", "the run had archive = false"),
    _f("warc_offset", pa.int64(), "Offset of that response in warc_file.", "archive", "the run had archive = false"),
    _f("run_id", pa.string(), "Run that observed the change.", _LEDGER, nullable=False),
]

EDITS_SCHEMA = pa.schema(EDIT_FIELDS, metadata={"schema_version": SCHEMA_VERSION})


def markdown_table(schema: pa.Schema) -> str:
    """The schema reference as a Markdown table (kept in datasets/README.md, checked by a test)."""
    rows = ["| column | type | meaning | source | null when |", "| --- | --- | --- | --- | --- |"]
    for field in schema:
        meta = {k.decode(): v.decode() for k, v in (field.metadata or {}).items()}
        rows.append(f"| `{field.name}` | `{field.type}` | {meta.get('doc', '')} | {meta.get('source', '')} | "
                    f"{meta.get('null_when', '')} |")
    return "\n".join(rows)
