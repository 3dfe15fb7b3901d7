"""Decoding of fetched HTML bytes into text, after the WHATWG encoding standard.

A byte order mark wins, then the charset the HTTP header declares, then the one a
``<meta>`` declares; labels mean what browsers make of them (``iso-8859-1`` is
windows-1252, ``gb2312`` is GB18030 …). Departures, all for pages as served: valid
UTF-8 is kept as UTF-8 whatever is declared (servers often declare wrongly, and UTF-8
validity is rarely an accident); a UTF-8 declaration is believed only when the bytes are
mostly UTF-8 (a few stray bytes, a widget pasted in latin-1, become U+FFFD as in browsers;
a latin-1 page that declares UTF-8 is not UTF-8 at all); and a page that declares nothing is windows-1252, as
browsers in most locales read it, unless detection (charset_normalizer, on the page's text:
its markup, scripts and styles are ASCII and drown the few bytes that tell encodings apart,
so that a Hebrew or a Chinese page detected whole reads as windows-1250) shows another
script, or the page's language is written in another Latin encoding. A detector left alone
reads French latin-1 as windows-1250 ("ministčre") and Italian as Slovene: single-byte Latin
encodings all decode the same bytes, and nothing but the language tells them apart. So a
Latin page is read in windows-1250 (Polish, Czech, Hungarian …), windows-1254 (Turkish),
windows-1257 (Baltic) or windows-1258 (Vietnamese) only when its ``<html lang>`` or
content-language, else its country's domain, names such a language; the detector then
says which encoding of that family (ISO 8859-2 or windows-1250).
"""

from __future__ import annotations

import codecs
import re
from urllib.parse import urlsplit

from charset_normalizer import from_bytes

CHARSET_RE = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([\w:.-]+)""", re.IGNORECASE)
PRESCAN_BYTES = 4096  # WHATWG's prescan reads 1,024; real pages often put comments and scripts before <meta>
BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
DEFAULT = "windows-1252"
# WHATWG labels Python's codecs read otherwise: browsers decode these as the superset encoding.
SUPERSETS = {"iso-8859-1": DEFAULT, "latin-1": DEFAULT, "latin1": DEFAULT, "iso8859-1": DEFAULT, "l1": DEFAULT,
             "us-ascii": DEFAULT, "ascii": DEFAULT, "iso-8859-9": "windows-1254", "latin5": "windows-1254",
             "iso-8859-11": "cp874", "tis-620": "cp874", "windows-874": "cp874", "gb2312": "gb18030",
             "gbk": "gb18030", "x-gbk": "gb18030", "shift_jis": "cp932", "shift-jis": "cp932", "sjis": "cp932",
             "x-sjis": "cp932", "windows-31j": "cp932", "euc-kr": "cp949", "ks_c_5601-1987": "cp949",
             "big5": "big5hkscs", "x-mac-roman": "mac-roman", "utf8": "utf-8", "unicode-1-1-utf-8": "utf-8"}
# A page's text for detection: its scripts, styles, comments and tags left out (ASCII all).
NOT_TEXT = re.compile(rb"<(script|style)\b.*?</\1\s*>|<!--.*?-->", re.IGNORECASE | re.DOTALL)
TAG = re.compile(rb"<[^>]*>")
SPACES = re.compile(rb"\s+")
LANG_RE = re.compile(rb"""<html[^>]*?\slang\s*=\s*["']?([a-z]{2,3})|"""
                     rb"""<meta[^>]+http-equiv\s*=\s*["']?content-language["']?[^>]+content\s*=\s*["']?([a-z]{2,3})""",
                     re.IGNORECASE)
# Latin encodings other than windows-1252: the languages written in them, their countries'
# domains, and the codecs of each family that the detector may name.
LATIN_FAMILIES = {
    "cp1250": (("pl", "cs", "sk", "hu", "sl", "hr", "bs", "sr", "ro", "sq"),
               ("pl", "cz", "sk", "hu", "si", "hr", "ba", "rs", "ro", "al"),
               ("cp1250", "iso8859_2", "iso8859_16", "mac_latin2")),
    "cp1254": (("tr", "az"), ("tr", "az"), ("cp1254", "iso8859_9")),
    "cp1257": (("lt", "lv", "et"), ("lt", "lv", "ee"), ("cp1257", "iso8859_13", "iso8859_4")),
    "cp1258": (("vi",), ("vn",), ("cp1258",)),
}
# A word with a non-ASCII letter: read as another script, it must be wholly of that script
# (Cyrillic, Greek, Arabic, Hebrew, CJK …), not a Latin word with one odd letter ("ministиre").
WORD = re.compile(r"[^\W\d_]+")
LATIN_END = 0x024F  # Basic Latin to Latin Extended-B
STRONG = 0.8  # share of such words that must be wholly non-Latin
STRAY = 0.2  # at most this share of a UTF-8 reading's non-ASCII characters may be undecodable bytes


def label(name: str) -> str:
    """The codec browsers use for a charset label."""
    name = name.strip().lower()
    return SUPERSETS.get(name, name)


def declared_charsets(body: bytes, content_type: str | None) -> list[str]:
    """The charsets declared, in WHATWG order: the HTTP header's, then the ``<meta>``'s."""
    declared = []
    if content_type and "charset=" in content_type.lower():
        declared.append(content_type.lower().split("charset=")[-1].split(";")[0].strip(" \"'"))
    if match := CHARSET_RE.search(body[:PRESCAN_BYTES]):
        declared.append(match.group(1).decode("ascii", "ignore"))
    return [label(name) for name in declared if name]


def other_script(text: str) -> bool:
    """Strong evidence that ``text`` is in a non-Latin script: most of its words with a
    non-ASCII letter are wholly of letters past Latin."""
    foreign = mixed = 0
    for word in WORD.findall(text):
        if word.isascii():
            continue
        if all(ord(c) > LATIN_END for c in word):
            foreign += 1
        else:
            mixed += 1
    return foreign >= 10 and foreign >= STRONG * (foreign + mixed)


def mostly_utf8(body: bytes) -> str | None:
    """The bytes read as UTF-8 when few of them are not (STRAY), else None."""
    text = body.decode("utf-8", errors="replace")
    stray = text.count("\ufffd")
    wide = len(text) - len(text.encode("ascii", "ignore"))  # non-ASCII characters, counted in C
    return text if wide and stray <= STRAY * wide else None


def latin_family(body: bytes, url: str | None) -> str | None:
    """The Latin encoding family (LATIN_FAMILIES) of the language the page declares (``<html
    lang>``, a content-language ``<meta>``), else of its domain's country (``.pl``), if any."""
    if found := LANG_RE.search(body[:PRESCAN_BYTES]):
        language = (found[1] or found[2]).decode("ascii").lower()
        return next((family for family, (languages, _, _) in LATIN_FAMILIES.items() if language in languages), None)
    domain = ((urlsplit(url).hostname or "") if url else "").rpartition(".")[2]
    return next((family for family, (_, domains, _) in LATIN_FAMILIES.items() if domain in domains), None)


def detect(body: bytes, url: str | None) -> str:
    """An undeclared page that is not UTF-8, read as the module docstring says."""
    text = SPACES.sub(b" ", TAG.sub(b" ", NOT_TEXT.sub(b" ", body)))
    guess = from_bytes(text).best()
    if guess is not None and other_script(str(guess)):
        return body.decode(guess.encoding, errors="replace")
    if family := latin_family(body, url):
        members = LATIN_FAMILIES[family][2]
        return body.decode(guess.encoding if guess is not None and guess.encoding in members else family,
                           errors="replace")
    return body.decode(DEFAULT, errors="replace")


def decode_html(body: bytes, content_type: str | None, url: str | None = None) -> str:
    """Decode with the best evidence (see the module docstring); ``url``: the page's address,
    whose domain may name its country."""
    for bom, encoding in BOMS:
        if body.startswith(bom):
            return body[len(bom):].decode(encoding, errors="replace")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    for encoding in declared_charsets(body, content_type):
        if encoding == "utf-8" and (utf8 := mostly_utf8(body)) is not None:
            return utf8
        if encoding in ("utf-8", "utf-16", "utf-16le", "utf-16be"):
            continue  # not UTF-8 (above); a UTF-16 declaration in bytes read as ASCII is false
        try:
            return body.decode(encoding)
        except (LookupError, UnicodeDecodeError):
            continue
    return detect(body, url)
