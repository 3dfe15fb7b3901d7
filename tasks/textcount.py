"""Text length by script: words are not whitespace-delimited in every writing system.

Chinese, Japanese, Thai, Lao, Khmer and Myanmar write words without spaces between them:
a whole Japanese paragraph is one "word" to ``str.split``. Their characters are counted
instead and divided by the script's mean word length, so that one length gate (and the
``word_count`` column) means about the same amount of text in every language. A dictionary
segmenter (ICU, or one per language) would give exact word counts at a heavy dependency and
many times the CPU cost; a gate needs an estimate.
"""

from __future__ import annotations

import re

# Scripts written without spaces between words, each with its mean word length in code points.
HAN_KANA = ("\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f", 1.5)  # Chinese, Japanese
SOUTHEAST_ASIAN = ("\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff", 4.0)  # Thai, Lao, Myanmar, Khmer (marks included)
UNSPACED = tuple((re.compile(f"[{chars}]"), per_word) for chars, per_word in (HAN_KANA, SOUTHEAST_ASIAN))
UNSPACED_CHARS = HAN_KANA[0] + SOUTHEAST_ASIAN[0]  # for a regex character class
ANY_UNSPACED = re.compile(f"[{UNSPACED_CHARS}]")


def count_words(text: str) -> int:
    """Whitespace-delimited words, plus, for scripts without spaces, their characters
    divided by the script's mean word length (rounded)."""
    if ANY_UNSPACED.search(text) is None:  # most pages: one C-level scan, then a split
        return len(text.split())
    estimate = 0.0
    for pattern, per_word in UNSPACED:
        text, found = pattern.subn("", text)
        estimate += found / per_word
    return len(text.split()) + round(estimate)
