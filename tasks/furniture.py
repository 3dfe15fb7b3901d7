"""Page furniture rules, as data: what news sites wrap around an article.

trafilatura already drops most navigation and boilerplate; these rules catch what it
keeps on news pages (short-URL boxes, subscribe buttons, "Dossier:" and "Lire aussi"
blocks, tag lists, comment widgets). They are plain data per language ("*" applies to
all), so a new language or site is a new entry, not new code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Rules:
    # XPath expressions pruned from the tree before trafilatura extracts the text.
    prune_xpath: tuple[str, ...] = ()
    # Headings that open a related-links block; the block's links go to related_urls.
    related_headings: tuple[str, ...] = ()
    # Headings that open a tag list / the site's own dossier (topic) membership.
    tag_headings: tuple[str, ...] = ()
    dossier_headings: tuple[str, ...] = ()
    # A text paragraph matching one of these (whole paragraph, case-insensitive) is dropped.
    drop_paragraphs: tuple[str, ...] = field(default_factory=tuple)


def _cls(*names: str) -> str:
    """XPath predicate: the class attribute contains one of ``names`` as a word part."""
    return " or ".join(f"contains(concat(' ', translate(@class, '_', '-'), ' '), '{n}')" for n in names)


_SHORT = "[not(.//p[string-length(normalize-space()) > 200])]"
_FURNITURE_CLASSES = _cls("short-url", "shorturl", "-share ", " share ", "social", "subscribe", "-refs ", "related",
                          "read-also", "-tags ", " tags ", "-dossier ", "-supertag ")

RULES: dict[str, Rules] = {
    "*": Rules(
        # Class-name matches are guarded: a block holding a long paragraph is content, whatever
        # its class says (e.g. a wrapper named "article-with-related").
        prune_xpath=(
            f"//*[{_FURNITURE_CLASSES}]{_SHORT}",
            "//a[@rel='tag']",
        ),
        drop_paragraphs=(r"\d[\d\s.,]*", r"(share|partager|teilen)( on| sur| auf)?( \w+)?"),
    ),
    "fr": Rules(
        related_headings=("Lire aussi", "À lire aussi", "A lire aussi", "Voir aussi", "Sur le même sujet"),
        tag_headings=("Tags", "Mots-clés", "Mots clés", "Thèmes"),
        dossier_headings=("Dossier", "Dossiers"),
        drop_paragraphs=(
            r"s['’]abonner.*", r"url courte.*", r"lire aussi\s*:?.*", r"tags?\s*:.*", r"commenter( via .*)?",
            r"règles de conduite.*", r"dossier\s*:.*", r"discussion", r"mis à jour le [\d./ -]+",
        ),
    ),
    "en": Rules(
        related_headings=("Read also", "Read more", "Related", "See also", "More on this story"),
        tag_headings=("Tags", "Topics"),
        dossier_headings=("Dossier", "Topic"),
        drop_paragraphs=(r"subscribe.*", r"short url.*", r"read (also|more)\s*:?.*", r"tags?\s*:.*",
                         r"comment( via .*)?", r"sign up .{0,60}"),
    ),
    "ru": Rules(
        related_headings=("Читайте также", "Читать также", "Смотрите также"),
        tag_headings=("Теги", "Метки"),
        dossier_headings=("Сюжет", "Досье"),
        drop_paragraphs=(r"подписаться.*", r"короткий url.*", r"читайте также\s*:?.*", r"теги\s*:.*",
                         r"комментировать.*"),
    ),
}


@dataclass(frozen=True)
class CompiledRules:
    prune_xpath: list[str]
    related: re.Pattern[str]
    tags: re.Pattern[str]
    dossier: re.Pattern[str]
    drop: re.Pattern[str]


def _heading_re(headings: list[str]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(h) for h in headings) or "(?!)"
    return re.compile(rf"^\s*(?:{alternatives})\s*:?\s*$", re.IGNORECASE)


_CACHE: dict[str | None, CompiledRules] = {}


def rules_for(language: str | None) -> CompiledRules:
    """Rules of "*" plus the language's (all languages when unknown)."""
    if language not in _CACHE:
        chosen = [RULES["*"]]
        chosen += [RULES[language]] if language in RULES else [r for k, r in RULES.items() if k != "*"]
        _CACHE[language] = CompiledRules(
            prune_xpath=[x for r in chosen for x in r.prune_xpath],
            related=_heading_re([h for r in chosen for h in r.related_headings]),
            tags=_heading_re([h for r in chosen for h in r.tag_headings]),
            dossier=_heading_re([h for r in chosen for h in r.dossier_headings]),
            drop=re.compile("|".join(f"(?:{p})" for r in chosen for p in r.drop_paragraphs), re.IGNORECASE),
        )
    return _CACHE[language]


def clean_paragraphs(text: str, rules: CompiledRules, also_drop: set[str]) -> list[str]:
    """Split extracted text into paragraphs and drop furniture: rule matches and lines
    that repeat a related-link title, a tag or a dossier label found on the page."""
    drop = {s.casefold() for s in also_drop}
    kept = []
    for line in text.split("\n"):
        line = line.strip()
        if not line or line.casefold() in drop or rules.drop.fullmatch(line):
            continue
        kept.append(line)
    return kept
