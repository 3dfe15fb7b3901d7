"""The one place where the dataset's tables are declared.

Every column carries its documentation in the Arrow field metadata (``doc``), so the
schema reference in ``datasets/README.md`` is checked against this module by a test and
the Parquet files themselves describe their columns.
"""

from __future__ import annotations

import pyarrow as pa

SCHEMA_VERSION = "1"

_TS = pa.timestamp("us", tz="UTC")
_STRINGS = pa.list_(pa.string())


def _f(name: str, type_: pa.DataType, doc: str, nullable: bool = True) -> pa.Field:
    return pa.field(name, type_, nullable=nullable, metadata={"doc": doc})


ARTICLE_FIELDS: list[pa.Field] = [
    _f("article_id", pa.string(), "Stable id: first 32 hex digits of SHA-256 of the normalised canonical URL "
       "(or of the final URL when the page declares no usable canonical).", nullable=False),
    _f("dossier", pa.string(), "Slug of the dossier the row belongs to.", nullable=False),
    _f("url", pa.string(), "URL as discovered (normalised).", nullable=False),
    _f("final_url", pa.string(), "URL after redirects."),
    _f("canonical_url", pa.string(), "Normalised <link rel=canonical> or og:url when on an allowed domain, "
       "else the final URL."),
    _f("title", pa.string(), "Headline."),
    _f("text", pa.string(), "Article text only, paragraphs separated by a blank line; page furniture removed."),
    _f("authors", _STRINGS, "Person names, split and cleaned."),
    _f("published_at", _TS, "Publication time in UTC; null when unknown."),
    _f("modified_at", _TS, "Last modification time in UTC; null when unknown."),
    _f("date_precision", pa.string(), "'second' when the source gave a time, 'day' for a date-only value."),
    _f("date_source", pa.string(), "Where published_at came from (jsonld, meta, time, htmldate)."),
    _f("language", pa.string(), "ISO 639-1 code detected from the text."),
    _f("language_declared", pa.string(), "Language declared by the page (<html lang>, og:locale)."),
    _f("section", pa.string(), "Site section (JSON-LD articleSection, article:section)."),
    _f("tags", _STRINGS, "Tags/keywords shown by the page, trimmed and de-duplicated."),
    _f("dossier_labels", _STRINGS, "The site's own 'Dossier:'/topic labels shown on the page."),
    _f("related_urls", _STRINGS, "Links of 'Lire aussi'/'Read also' blocks (removed from text)."),
    _f("description", pa.string(), "Summary / lead as declared by the page."),
    _f("site_name", pa.string(), "Publisher or site name."),
    _f("word_count", pa.int32(), "Number of words in text."),
    _f("text_sha256", pa.string(), "SHA-256 of text, for exact-duplicate checks."),
    _f("source_kind", pa.string(), "Source kind that discovered the URL: listing, feed, sitemap or urls."),
    _f("source_url", pa.string(), "The listing page, feed, sitemap or URL file that yielded the URL."),
    _f("fetched_at", _TS, "When the body was received (UTC).", nullable=False),
    _f("http_status", pa.int16(), "Final HTTP status code."),
    _f("content_type", pa.string(), "Response Content-Type header."),
    _f("etag", pa.string(), "Response ETag, for conditional GET."),
    _f("last_modified", pa.string(), "Response Last-Modified header, for conditional GET."),
    _f("raw_sha256", pa.string(), "SHA-256 of the raw (decompressed) response body."),
    _f("extractor", pa.string(), "Extraction software and version, e.g. 'trafilatura 2.3.1'."),
    _f("pipeline_version", pa.string(), "dossier-pipeline version that wrote the row."),
    _f("run_id", pa.string(), "Id of the run (Prefect flow run id) that wrote the row.", nullable=False),
]

ARTICLE_SCHEMA = pa.schema(ARTICLE_FIELDS, metadata={"schema_version": SCHEMA_VERSION})

# Hive partition keys of articles/: derived from published_at (UTC); rows with no known
# publication date go to year=0/month=0 so every reader's integer partition inference works.
PARTITIONING = pa.schema([pa.field("year", pa.int16()), pa.field("month", pa.int8())])

URL_STATES = ("written", "updated", "unchanged", "duplicate", "skipped", "not_article", "failed")

URL_FIELDS: list[pa.Field] = [
    _f("run_id", pa.string(), "Run that recorded the state.", nullable=False),
    _f("url", pa.string(), "Discovered URL (normalised).", nullable=False),
    _f("state", pa.string(), "Terminal state in this run: " + ", ".join(URL_STATES) + ".", nullable=False),
    _f("stage", pa.string(), "Stage where a skipped/failed URL stopped: discover, robots, fetch, extract, write."),
    _f("reason", pa.string(), "Human-readable reason for skipped, not_article, failed and duplicate."),
    _f("article_id", pa.string(), "Row id in articles/ when the URL yielded an article."),
    _f("source_kind", pa.string(), "Source kind that discovered the URL."),
    _f("source_url", pa.string(), "Listing page, feed, sitemap or URL file that yielded it."),
    _f("final_url", pa.string(), "URL after redirects, when fetched."),
    _f("http_status", pa.int16(), "Final HTTP status, when fetched."),
    _f("recorded_at", _TS, "When the state was recorded (UTC).", nullable=False),
]

URL_SCHEMA = pa.schema(URL_FIELDS, metadata={"schema_version": SCHEMA_VERSION})


def markdown_table(schema: pa.Schema) -> str:
    """The schema reference as a Markdown table (kept in datasets/README.md, checked by a test)."""
    rows = ["| column | type | null | meaning |", "| --- | --- | --- | --- |"]
    for field in schema:
        doc = (field.metadata or {}).get(b"doc", b"").decode()
        rows.append(f"| `{field.name}` | `{field.type}` | {'yes' if field.nullable else 'no'} | {doc} |")
    return "\n".join(rows)
