"""Duplicate articles within a dossier: the same text (SHA-256) or nearly the same (SimHash).

News sites publish one story under several URLs (a copy in another section, an updated
re-post, an agency dispatch run twice); research counts it once. Each row carries a
64-bit SimHash of its token 3-shingles (a token is a word, or one character of a script
written without spaces: textcount.UNSPACED_CHARS, so that Japanese, Chinese or Thai text is
shingled by character 3-grams instead of being a few clause-long "words"); two texts whose SimHashes differ in at most
``MAX_DISTANCE`` bits are near-duplicates. A short text or a paywalled article's teaser may be
the same for different articles of a site: it is one story's only under one title (text_key).
A site's articles may also share most of their extracted text (a template's testimonials, FAQ
or newsletter box around a short lead) but not their headlines: two texts nearly the same are
one story only when their titles agree too (same_story).
Lookups stay cheap on large dossiers: the
dossier's SimHashes are one array of 64-bit integers (8 bytes a row), compared with a new
text's in one vectorised XOR and bit count (docs/benchmarks.md).
"""

from __future__ import annotations

import hashlib
import re
import weakref
from array import array
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from dossier_pipeline.tasks.textcount import ANY_UNSPACED, UNSPACED_CHARS

if TYPE_CHECKING:  # only for types: extraction workers import simhash and need no pyarrow
    from dossier_pipeline.tasks.store import Store

BITS = 64
# Bits two near-duplicates may differ in: an edited sentence or an added paragraph moves a
# few; unrelated texts differ in 32 on average, and 8 or fewer with odds around 1e-10.
MAX_DISTANCE = 7
SHINGLE = 3  # words
MIN_WORDS = 50  # shorter texts are compared by exact hash only: a few shared words would dominate
_WORD = re.compile(r"\w+")
# A character of an unspaced script, or a run of other word characters (\w+ on spaced text).
_TOKEN = re.compile(rf"[{UNSPACED_CHARS}]|(?:(?![{UNSPACED_CHARS}])\w)+")


def tokens(text: str) -> list[str]:
    """The lower-cased words of the text, each character of an unspaced script a token."""
    folded = text.casefold()
    return _WORD.findall(folded) if ANY_UNSPACED.search(folded) is None else _TOKEN.findall(folded)


def simhash(text: str) -> str:
    """64-bit SimHash of the text's lower-cased token 3-shingles (see tokens), as 16 hex digits."""
    words = tokens(text)
    shingles = {" ".join(words[i : i + SHINGLE]) for i in range(max(1, len(words) - SHINGLE + 1))}
    # A bit of the SimHash is set when most shingle hashes have it set: the hashes' bits
    # (big-endian, as 64-bit integers) are counted column by column in numpy.
    digests = b"".join([hashlib.blake2b(s.encode(), digest_size=8).digest() for s in shingles])
    bits = np.unpackbits(np.frombuffer(digests, dtype=np.uint8).reshape(-1, 8), axis=1)
    return np.packbits(2 * bits.sum(axis=0, dtype=np.int64) > len(shingles)).tobytes().hex()


def distance(a: str, b: str) -> int:
    """Number of differing bits between two SimHashes."""
    return (int(a, 16) ^ int(b, 16)).bit_count()


Row = tuple[str, str, str | None]  # a kept row: article_id, canonical_url, title


@dataclass
class Match:
    """The row a new article duplicates: its id, its canonical URL and how (for the ledger)."""

    article_id: str
    canonical_url: str
    distance: int  # 0 for the same text

    @property
    def reason(self) -> str:
        if self.distance == 0:
            return f"same text as {self.canonical_url}"
        return f"near-duplicate of {self.canonical_url} (simhash distance {self.distance})"


@dataclass
class DuplicateIndex:
    """The dossier's rows by text hash and SimHash, and what was merged into each; the
    first row of a text is the one kept."""

    by_sha: dict[str, Row] = field(default_factory=dict)  # text_key -> its first row
    merged: dict[str, list[str]] = field(default_factory=dict)  # kept article_id -> duplicate_urls
    hashes: array[int] = field(default_factory=lambda: array("Q"))  # SimHashes of the rows long enough to compare
    rows: list[Row] = field(default_factory=list)  # their rows, in the same order

    @classmethod
    def load(cls, store: Store) -> DuplicateIndex:
        index = cls()
        for batch in store.article_batches(columns=list(INDEX_COLUMNS)):
            for row in batch.to_pylist():
                index.add(row)
        return index

    def add(self, record: dict[str, Any]) -> None:
        aid = record["article_id"]
        row = (aid, record["canonical_url"], record.get("title"))
        if record.get("duplicate_urls"):
            self.merged[aid] = list(record["duplicate_urls"])
        if key := text_key(record):
            self.by_sha.setdefault(key, row)
        if record.get("text_simhash") and _comparable(record):
            self.hashes.append(int(record["text_simhash"], 16))
            self.rows.append(row)

    def match(self, record: dict[str, Any]) -> Match | None:
        """The kept row this record duplicates (never the record's own row), or None; the
        nearest one when several are near."""
        aid, title = record["article_id"], record.get("title")
        kept = self.by_sha.get(text_key(record) or "")
        if kept is not None and kept[0] != aid:  # the very text: titles may differ by how they were read
            return Match(kept[0], kept[1], 0)
        value = record.get("text_simhash")
        if not value or not _comparable(record) or not self.hashes:
            return None
        gaps = np.bitwise_count(np.frombuffer(self.hashes, dtype=np.uint64) ^ np.uint64(int(value, 16)))
        near = np.flatnonzero(gaps <= MAX_DISTANCE)
        for i in near[np.argsort(gaps[near], kind="stable")]:
            other, url, other_title = self.rows[i]
            if other != aid and same_story(title, other_title):
                return Match(other, url, int(gaps[i]))
        return None

    def merge(self, match: Match, record: dict[str, Any]) -> None:
        urls = self.merged.setdefault(match.article_id, [])
        if record["canonical_url"] not in urls:
            urls.append(record["canonical_url"])


def same_story(title: str | None, other: str | None) -> bool:
    """Whether two rows' titles may head one story: one is unknown, or the shorter shares at
    least half of its words with the other (an updated or re-posted story keeps most of its
    headline; two recipes of a site wrapped in the same testimonials and FAQ do not)."""
    mine, theirs = set(tokens(title or "")), set(tokens(other or ""))
    return not mine or not theirs or 2 * len(mine & theirs) >= min(len(mine), len(theirs))


def _comparable(record: dict[str, Any]) -> bool:
    """Whether a row's text is the article's, long enough to be compared by SimHash: not a
    short text, nor the teaser of a paywalled article."""
    return (record.get("word_count") or 0) >= MIN_WORDS and record.get("access") in (None, "free")


def text_key(record: dict[str, Any]) -> str | None:
    """What two rows of one story share: the text's SHA-256; with the title when the text
    may be common to different articles of a site (short, or a paywall's teaser: "Subscribe
    to read", the same under every headline)."""
    if not (sha := record.get("text_sha256")):
        return None
    return sha if _comparable(record) else f"{sha} {' '.join((record.get('title') or '').split()).casefold()}"


INDEX_COLUMNS = ("article_id", "canonical_url", "text_sha256", "text_simhash", "word_count", "access", "title",
                 "duplicate_urls")
_INDEXES: weakref.WeakKeyDictionary[Store, DuplicateIndex] = weakref.WeakKeyDictionary()


def index_for(store: Store) -> DuplicateIndex:
    """The duplicate index of a store, read from its rows once and kept as long as the
    store object (one run) lives."""
    if store not in _INDEXES:
        _INDEXES[store] = DuplicateIndex.load(store)
    return _INDEXES[store]


def with_merged_duplicates(store: Store, index: DuplicateIndex, records: list[dict[str, Any]],
                           kept: set[str]) -> list[dict[str, Any]]:
    """The batch's records with their duplicate_urls set, plus the stored rows of ``kept``
    ids (rows that gained duplicates in this batch) re-read to be written again."""
    for record in records:
        record["duplicate_urls"] = list(index.merged.get(record["article_id"], []))
    stored = kept - {r["article_id"] for r in records}
    if not stored:
        return records
    rows: list[dict[str, Any]] = store.read_articles(ids=stored).to_pylist()
    for row in rows:
        row["duplicate_urls"] = list(index.merged[row["article_id"]])
    return records + rows
