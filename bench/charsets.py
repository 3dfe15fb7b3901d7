"""Decoding of real pages served in a legacy charset that they do not declare.

Each UTF-8 page of the corpus is written again in the legacy encodings its language was
published in (windows-1251 and KOI8-R for Russian, Shift_JIS and EUC-JP for Japanese, ISO
8859-2 for Polish …), its ``<meta charset>`` removed and no charset in the HTTP header, and
decoded as the pipeline decodes a page (encoding.decode_html, with the page's address).
A page counts as decoded when the text equals the one written. Characters the legacy
encoding lacks are written as numeric references, as a browser submits them.

    python bench/charsets.py [--corpus tests/corpus] [--show]
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

from corpus import load_corpus  # bench/ is on sys.path: this file's directory

from dossier_pipeline.tasks.encoding import decode_html

ROOT = Path(__file__).resolve().parent.parent
DECLARATION = re.compile(r"<meta[^>]*charset[^>]*>", re.IGNORECASE)
# The legacy encodings pages of each language were served in.
LEGACY = {
    "ru": ("windows-1251", "koi8-r"), "ja": ("shift_jis", "euc-jp"), "zh": ("gb18030", "big5"), "ko": ("euc-kr",),
    "ar": ("windows-1256",), "fa": ("windows-1256",), "he": ("windows-1255",), "el": ("iso-8859-7",),
    "th": ("cp874",), "tr": ("windows-1254",), "pl": ("iso-8859-2", "windows-1250"), "cs": ("windows-1250",),
    "sk": ("windows-1250",), "hr": ("windows-1250",), "hu": ("iso-8859-2",), "lv": ("windows-1257",),
    "fr": ("iso-8859-1",), "de": ("iso-8859-1",), "es": ("windows-1252",), "pt": ("iso-8859-1",),
    "it": ("iso-8859-1",), "nl": ("windows-1252",), "da": ("iso-8859-1",), "sv": ("iso-8859-1",),
    "no": ("iso-8859-1",), "fi": ("iso-8859-15",), "en": ("windows-1252",),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", default=str(ROOT / "tests" / "corpus"))
    parser.add_argument("--show", action="store_true", help="print each page decoded wrongly")
    args = parser.parse_args()
    root = Path(args.corpus)
    tally: Counter[tuple[str, bool]] = Counter()
    for page_id, truth in load_corpus(root).items():
        try:
            html = (root / "pages" / f"{page_id}.html").read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            continue  # written in a legacy charset already
        for encoding in LEGACY.get(truth["language"], ()):
            body = DECLARATION.sub("", html).encode(encoding, errors="xmlcharrefreplace")
            if body.isascii():
                continue  # nothing to tell apart
            right = decode_html(body, "text/html", truth["url"]) == body.decode(encoding)
            tally[truth["language"], right] += 1
            if args.show and not right:
                print(f"  wrong: {page_id} in {encoding}")
    languages = sorted({language for language, _ in tally})
    print("language  decoded / pages")
    for language in languages:
        print(f"{language:9} {tally[language, True]:4} / {tally[language, True] + tally[language, False]}")
    right, total = sum(tally[k] for k in tally if k[1]), sum(tally.values())
    print(f"all       {right:4} / {total}  ({100 * right / total:.1f} %)")


if __name__ == "__main__":
    main()
