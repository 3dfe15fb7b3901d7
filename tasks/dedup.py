"""Duplicate articles within a dossier: the same text (SHA-256) or nearly the same (SimHash).

News sites publish one story under several URLs (a copy in another section, an updated
re-post, an agency dispatch run twice); research counts it once. Each row carries a
64-bit SimHash of its word 3-shingles; two texts whose SimHashes differ in at most
``MAX_DISTANCE`` bits are near-duplicates. Lookups stay cheap on large dossiers: split
into ``MAX_DISTANCE + 1`` bands, two such SimHashes share at least one band exactly
(pigeonhole), so only rows sharing a band are compared.
"""

from __future__ import annotations

import hashlib
import re
import weakref
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # only for types: extraction workers import simhash and need no pyarrow
    from tasks.store import Store

BITS = 64
# Bits two near-duplicates may differ in: an edited sentence or an added paragraph moves a
# few; unrelated texts differ in 32 on average, and 8 or fewer with odds around 1e-10.
MAX_DISTANCE = 7
BANDS = MAX_DISTANCE + 1
SHINGLE = 3  # words
MIN_WORDS = 50  # shorter texts are compared by exact hash only: a few shared words would dominate
_WORD = re.compile(r"\w+")
_BAND_BITS = BITS // BANDS


def simhash(text: str) -> str:
    """64-bit SimHash of the text's lower-cased word 3-shingles, as 16 hex digits."""
    words = _WORD.findall(text.casefold())
    shingles = {" ".join(words[i : i + SHINGLE]) for i in range(max(1, len(words) - SHINGLE + 1))}
    # A bit of the SimHash is set when most shingle hashes have it set: the hashes' bits
    # (big-endian, as 64-bit integers) are counted column by column in numpy.
    digests = b"".join([hashlib.blake2b(s.encode(), digest_size=8).digest() for s in shingles])
    bits = np.unpackbits(np.frombuffer(digests, dtype=np.uint8).reshape(-1, 8), axis=1)
    return np.packbits(2 * bits.sum(axis=0, dtype=np.int64) > len(shingles)).tobytes().hex()


def distance(a: str, b: str) -> int:
    """Number of differing bits between two SimHashes."""
    return (int(a, 16) ^ int(b, 16)).bit_count()


def _bands(value: str) -> list[tuple[int, int]]:
    number = int(value, 16)
    mask = (1 << _BAND_BITS) - 1
    return [(band, number >> (band * _BAND_BITS) & mask) for band in range(BANDS)]


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
    """The dossier's rows by text hash and SimHash band, and what was merged into each;
    the first row of a text is the one kept."""

    by_sha: dict[str, tuple[str, str]] = field(default_factory=dict)
    simhashes: dict[str, tuple[str, str]] = field(default_factory=dict)  # article_id -> (simhash, canonical)
    by_band: defaultdict[tuple[int, int], list[str]] = field(default_factory=lambda: defaultdict(list))
    merged: dict[str, list[str]] = field(default_factory=dict)  # kept article_id -> duplicate_urls

    @classmethod
    def load(cls, store: Store) -> DuplicateIndex:
        index = cls()
        for row in store.read_articles(list(INDEX_COLUMNS)).to_pylist():
            index.add(row)
        return index

    def add(self, record: dict[str, Any]) -> None:
        aid, url = record["article_id"], record["canonical_url"]
        if record.get("duplicate_urls"):
            self.merged[aid] = list(record["duplicate_urls"])
        if record.get("text_sha256"):
            self.by_sha.setdefault(record["text_sha256"], (aid, url))
        if record.get("text_simhash") and (record.get("word_count") or 0) >= MIN_WORDS:
            self.simhashes[aid] = (record["text_simhash"], url)
            for band in _bands(record["text_simhash"]):
                self.by_band[band].append(aid)

    def match(self, record: dict[str, Any]) -> Match | None:
        """The kept row this record duplicates (never the record's own row), or None."""
        aid = record["article_id"]
        kept = self.by_sha.get(record["text_sha256"])
        if kept is not None and kept[0] != aid:
            return Match(kept[0], kept[1], 0)
        value = record.get("text_simhash")
        if not value or record["word_count"] < MIN_WORDS:
            return None
        best: Match | None = None
        for band in _bands(value):
            for other in self.by_band.get(band, ()):
                other_hash, url = self.simhashes[other]
                gap = distance(value, other_hash)
                if other != aid and gap <= MAX_DISTANCE and (best is None or gap < best.distance):
                    best = Match(other, url, gap)
        return best

    def merge(self, match: Match, record: dict[str, Any]) -> None:
        urls = self.merged.setdefault(match.article_id, [])
        if record["canonical_url"] not in urls:
            urls.append(record["canonical_url"])


INDEX_COLUMNS = ("article_id", "canonical_url", "text_sha256", "text_simhash", "word_count", "duplicate_urls")
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
    rows = store.read_articles(ids=stored).to_pylist()
    for row in rows:
        row["duplicate_urls"] = list(index.merged[row["article_id"]])
    return records + rows
