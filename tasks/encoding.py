"""Decoding of fetched HTML bytes into text.

trafilatura's own decoding ignores the charset a server or page declares and guesses;
servers often declare it wrongly too. Valid UTF-8 is kept as is (it is rarely an
accident), then the declared charsets are tried, then trafilatura's detection.
"""

from __future__ import annotations

import re

from trafilatura.utils import detect_encoding

CHARSET_RE = re.compile(rb"""<meta[^>]+charset=["']?([\w-]+)""", re.IGNORECASE)


def decode_html(body: bytes, content_type: str | None) -> str:
    """Decode with the best evidence: valid UTF-8 first (a declared charset is often
    wrong, UTF-8 validity rarely is), then the declared charset (HTTP, then <meta>),
    then trafilatura's detection."""
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    declared = []
    if content_type and "charset=" in content_type.lower():
        declared.append(content_type.lower().split("charset=")[-1].split(";")[0].strip(" \"'"))
    if match := CHARSET_RE.search(body[:4096]):
        declared.append(match.group(1).decode("ascii", "ignore").lower())
    for encoding in [*declared, *detect_encoding(body)]:
        if encoding in ("utf-8", "utf8"):
            continue
        try:
            return body.decode(encoding)
        except (LookupError, UnicodeDecodeError):
            continue
    return body.decode("utf-8", errors="replace")
