"""Pages served with status 200 that are not the article: bot challenges, consent walls,
paywall stubs and error pages.

Recognised by markers as data (title patterns, markup fingerprints of the common
challenge and consent vendors, paywall phrases per language), and, for all but bot
challenges, only when little text was extracted: an article that merely mentions
"Cloudflare" or "cookies" stays an article.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

PAYWALL_STUB_WORDS = 200  # a page declaring a paywall with no more text than this is the stub
HEAD_BYTES = 200_000  # markers are looked for in the start of the page (bytes, or characters once decoded)


@dataclass(frozen=True)
class BlockRule:
    kind: str  # bot_challenge, consent_wall, paywall, error_page
    title: str | None = None  # regex on <title>
    markup: tuple[str, ...] = ()  # substrings of the raw HTML (lower-cased)
    text: tuple[str, ...] = ()  # substrings of the extracted text (lower-cased)
    jsonld_paywall: bool = False  # JSON-LD isAccessibleForFree = false
    max_words: int | None = None  # only when the extracted text is this short (None: always)


RULES: tuple[BlockRule, ...] = (
    BlockRule("bot_challenge", title=r"just a moment\.{3}|attention required! \| cloudflare|please wait\.{3} \| "
              r"cloudflare|ddos-guard|checking your browser|access denied|are you a robot|pardon our interruption"),
    BlockRule("bot_challenge", markup=("/cdn-cgi/challenge-platform/", "cf-chl-", "_incapsula_resource",
                                       "captcha-delivery.com", "px-captcha", "g-recaptcha"), max_words=150),
    BlockRule("consent_wall", markup=("consent.google.com", "consent.yahoo.com", "sp_message_container",
                                      "didomi-popup", "qc-cmp2-container", "onetrust-consent-sdk", "cmpwrapper"),
              max_words=120),
    BlockRule("consent_wall", text=("before you continue", "avant d'accéder", "we value your privacy",
                                    "nous respectons votre vie privée", "accept all cookies", "accepter et continuer",
                                    "zustimmen und weiter"), max_words=120),
    BlockRule("paywall", jsonld_paywall=True, max_words=PAYWALL_STUB_WORDS),
    BlockRule("paywall", text=("subscribe to continue reading", "subscribe to read", "this article is for subscribers",
                               "réservé aux abonnés", "article réservé", "abonnez-vous pour lire",
                               "nur für abonnenten", "jetzt abonnieren und weiterlesen",
                               "доступен только подписчикам", "доступно только по подписке"), max_words=250),
    BlockRule("error_page", title=r"\b(404|410|not found|page introuvable|page non trouvée|seite nicht gefunden|"
              r"страница не найдена|error|erreur|fehler)\b", max_words=120),
)

TITLE_RE = re.compile(rb"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
PAYWALL_RE = re.compile(r'"isaccessibleforfree"\s*:\s*"?false', re.IGNORECASE)


def classify(body: bytes, result: dict[str, Any]) -> str | None:
    """The kind of non-article page ``body`` is, given what extraction made of it, or None."""
    match = TITLE_RE.search(body[:100_000])
    title = " ".join(match.group(1).decode("utf-8", errors="replace").split()).lower() if match else ""
    record = result.get("record") or {}
    words = record.get("word_count") or 0

    # The lower-cased markup and text only when a rule reads them: most pages, long
    # articles, are past every rule's max_words and need neither.
    @cache
    def head() -> str:
        return body[:HEAD_BYTES].decode("utf-8", errors="replace").lower()

    @cache
    def text() -> str:
        # With no extracted text (a wall often yields none), look for the phrases in the markup.
        return (record.get("text") or "").lower() or head()

    for rule in RULES:
        if rule.max_words is not None and words > rule.max_words:
            continue
        if rule.title and not re.search(rule.title, title):
            continue
        if rule.markup and not any(m in head() for m in rule.markup):
            continue
        if rule.text and not any(t in text() or t in title for t in rule.text):
            continue
        if rule.jsonld_paywall and not declares_paywall(head()):
            continue
        return rule.kind
    return None


def declares_paywall(html: str) -> bool:
    """The page says (schema.org isAccessibleForFree: false) that part of its text is for
    subscribers: that text is often in the markup, hidden."""
    return PAYWALL_RE.search(html, 0, HEAD_BYTES) is not None
