"""Page furniture rules, as data: what news sites wrap around an article.

trafilatura already drops most navigation and boilerplate; these rules catch what it
keeps on news pages: "Lire aussi / Read also / Читайте также" blocks, subscribe, share
and short-URL lines, tag and dossier lists, comment and "rules of conduct" widgets, photo
credits repeated from captions. They are plain data per language ("*" applies to all),
and a dossier may add its own (``site_rules``), so a new language or site is a new entry,
not new code.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from urllib.parse import unquote, urlsplit

from lxml import etree

from dossier_pipeline.tasks.textcount import count_words


@dataclass(frozen=True)
class Rules:
    # XPath expressions pruned from the page before trafilatura extracts the text.
    prune_xpath: tuple[str, ...] = ()
    # Headings that open a related-links block; the block's links go to related_urls.
    related_headings: tuple[str, ...] = ()
    # Blocks that are related links whatever their heading says (their links go to related_urls too).
    related_xpath: tuple[str, ...] = ()
    # Headings that open a tag list / the site's own dossier (topic) membership.
    tag_headings: tuple[str, ...] = ()
    dossier_headings: tuple[str, ...] = ()
    # A paragraph of the extracted text matching one of these regexes (the whole paragraph,
    # case-insensitive, at most MAX_FURNITURE_CHARS long) is dropped.
    drop_paragraphs: tuple[str, ...] = ()
    # Page elements whose text, repeated as a paragraph of the extracted text, is furniture
    # (photo credits of captions).
    repeated_xpath: tuple[str, ...] = ()


MAX_FURNITURE_CHARS = 300  # a longer paragraph is article text, whatever it starts with


# Class-name rules, for every language, matched in one pass over the page's elements with a
# class attribute (see match_classes): an XPath per rule, contains(@class, ...) for each name
# on every element, cost more than the rest of the page's signals together. A name matches
# the class attribute padded with spaces, "_" read as "-": "-share " is a class ending in
# "share", " tags " the class "tags".
# pruned before trafilatura extracts the text (" video-js ", " vjs-": a video.js player's controls and dialogs)
FURNITURE_CLASSES = ("short-url", "shorturl", "-share ", " share ", "social", "subscribe", "-follow ", "-refs ",
                     "related", "read-also", "readalso", "lire-aussi", "-tags ", " tags ", "-dossier ", "-supertag ",
                     "newsletter", "comments", "-rules ", " video-js ", " vjs-")
RELATED_CLASSES = ("read-also", "readalso", "lire-aussi", "see-also", "-refs ")  # their links are related_urls
FIGURE_CREDIT_CLASSES = ("credit", "copyright", "source", "author")  # inside a <figure>: a caption credit
CREDIT_CLASSES = ("photo-credit", "image-credit", "caption-credit", "media-credit", "credits ")  # anywhere
PRUNE_MARK = "data-dossier-furniture"  # set on the elements match_classes picks for pruning


# What follows a "read also" label: after a colon anything (a headline), else no sentence
# ("Leggi anche: Il governo approva" is furniture, "Leggi anche tu il rapporto." is text).
READ_ON = r"\b(?:\s*:.*|[^.!?]*)"

RULES: dict[str, Rules] = {
    "*": Rules(
        # (and FURNITURE_CLASSES, RELATED_CLASSES, ...: class-name rules, see match_classes)
        prune_xpath=("//a[@rel='tag']",),
        drop_paragraphs=(
            r"[\d\s.,:|/•·-]+",  # view and comment counters, separators
            r"(share|partager|teilen|compartir|condividi|поделиться)( (on|sur|auf|en|su|в) \w+)?:?",
            r"(©|\(c\)|copyright\b).{0,120}",
            r"(photo|foto|фото|image|bild|illustration|crédit photo|credits?)( ?:| ?©| ?/).{0,120}",
            r"(facebook|twitter|x|whatsapp|telegram|linkedin|e-?mail|email|vk|ok|pinterest|reddit)"
            r"(\s*[|·•,]?\s*(facebook|twitter|x|whatsapp|telegram|linkedin|e-?mail|email|vk|ok|pinterest|reddit))*",
        ),
        repeated_xpath=("//figcaption//small",),
    ),
    "fr": Rules(
        related_headings=("Lire aussi", "À lire aussi", "A lire aussi", "Lire également", "À lire également",
                          "Voir aussi", "Sur le même sujet", "Pour aller plus loin", "Nos articles sur le sujet"),
        tag_headings=("Tags", "Mots-clés", "Mots clés", "Thèmes", "Sujets"),
        dossier_headings=("Dossier", "Dossiers"),
        drop_paragraphs=(
            r"s['’]abonner.*", r"abonnez-vous\b.*", r"(url|lien) court.*", r"(à |a )?lire (aussi|également)\b.*",
            r"voir aussi\b.*", r"sur le même sujet\b.*", r"(tags?|mots[- ]clés|thèmes)\s*:.*", r"dossier\s*:.*",
            r"commenter( via .*)?", r"réagir.*", r"\d+ (commentaires?|réactions?)", r"(les )?règles de conduite.*",
            r"discussion", r"suivez-nous\b.*", r"recevez (notre|la) newsletter\b.*", r"partager (sur|cet|l['’]).*",
            r"mis à jour le [\d./ -]+",
            r"crédits? photos?\s*:.{0,120}", r"catégories?\s*:.{0,120}", r"temps de lecture\s*:?.{0,30}",
            r"(pour )?(lire|accéder à) la suite\b.{0,200}", r"pour accéder en illimité\b.{0,200}",
        ),
    ),
    "en": Rules(
        related_headings=("Read also", "Also read", "Read more", "Related", "Related articles", "Related stories",
                          "See also", "More on this story", "Recommended", "Related posts", "You may also like",
                          "You might also like"),
        tag_headings=("Tags", "Topics", "Filed under"),
        dossier_headings=("Dossier", "Topic"),
        drop_paragraphs=(
            r"subscribe\b.{0,120}", r"sign up\b.{0,120}", r"short (url|link).*", r"(read (also|more)|also read)\b.*",
            r"related( articles| stories)?\s*:.*", r"see also\b.*", r"(tags?|topics)\s*:.*", r"filed under\b.*",
            r"(comments?( \(\d+\))?|comment via .*)", r"\d+ comments?", r"(leave|post) a comment\b.*",
            r"join the (discussion|conversation)\b.*", r"(community guidelines|house rules)\b.*",
            r"share (this|on)\b.{0,80}", r"follow us\b.{0,80}",
            r"(no comments( yet)?|be the first to comment)\b.{0,40}", r"categor(y|ies)\s*:.{0,120}",
            r"posted in\b[^.!?]{0,120}", r"\d+\s*min(ute)?s?\s+read", r"reading time\s*:?.{0,30}",
            r"(you (may|might) also like|more from|related posts)\b[^.!?]{0,80}",
            # a newsletter's call ("Join our daily and weekly newsletters for …", "… in this weekly newsletter.")
            r"(join|get|receive|click here to get|sign up for|subscribe to)\b.{0,60}\bnewsletters?\b.{0,120}",
            r".{0,80}\bin (this|our) (free )?(daily|weekly|monthly) newsletter\.?",
            # an affiliate disclosure ("… We may receive compensation if you visit partners we recommend. …")
            r".{0,160}\bwe may (receive|earn) (compensation|a commission)\b.{0,160}",
        ),
    ),
    "de": Rules(
        related_headings=("Lesen Sie auch", "Lesen Sie mehr", "Mehr zum Thema", "Auch interessant", "Auch lesen",
                          "Das könnte Sie auch interessieren", "Das könnte dich auch interessieren", "Passend dazu",
                          "Weitere Artikel", "Weitere Beiträge", "Verwandte Artikel", "Ähnliche Artikel"),
        tag_headings=("Schlagworte", "Schlagwörter", "Stichworte", "Themen", "Tags"),
        dossier_headings=("Dossier",),
        drop_paragraphs=(
            r"(jetzt )?abonnieren\b.{0,120}", r"lesen sie (auch|mehr)\b.*", r"mehr zum thema\b.*",
            r"(schlagw(o|ö)rter?|stichw(o|ö)rter?|themen)\s*:.*", r"kommentare?( \(\d+\))?", r"\d+ kommentare?",
            r"(teilen|artikel teilen)( auf \w+)?", r"kurz-?url.*",
            # headings of other articles' lists: no sentence ("Weitere Themen waren …" is text)
            r"(auch lesen|passend (dazu|zum thema)|weitere (aktuelle )?(artikel|beiträge|themen|news))\b[^.!?]{0,80}",
            r"(noch )?keine kommentare\b.{0,80}", r"kategorien?\s*:.{0,120}", r"lesedauer\s*:?.{0,30}",
            r"video verfügbar bis\b.{0,40}", r"beiträge aus dem forum", r"vorschau auf den nächsten artikel",
            r"inhaltsverzeichnis",
            # an affiliate disclosure ("Letzte Aktualisierung am 2.02.2022 / Bei den Verlinkungen handelt es sich um
            # Affiliate Links / …")
            r".{0,60}\bbei den (verlinkungen|links) handelt es sich um (affiliate|partner).{0,200}",
        ),
    ),
    "es": Rules(
        related_headings=("Lee también", "Lea también", "Leer también", "Te puede interesar", "Le puede interesar",
                          "Contenido relacionado", "Noticias relacionadas", "Artículos relacionados", "Ver también"),
        tag_headings=("Etiquetas", "Temas", "Tags"),
        drop_paragraphs=(
            r"(lee|lea|leer) (también|además)" + READ_ON, r"(te|le) puede (también )?interesar" + READ_ON,
            r"(contenido|noticias|artículos) relacionad[oa]s?\b[^.!?]{0,80}", r"ver también" + READ_ON,
            r"(etiquetas|temas)\s*:.*", r"suscr[ií]bete\b.{0,120}", r"hazte (miembro|socio)\b.{0,120}",
            r".{0,80}\bcancela cuando quieras\.?",  # a membership's call
            r"\d+ comentarios?", r"comentarios?( \(\d+\))?", r"compartir( en \w+)?",
        ),
    ),
    "it": Rules(
        related_headings=("Leggi anche", "Potrebbe interessarti", "Ti potrebbe interessare", "Articoli correlati",
                          "Vedi anche"),
        tag_headings=("Tag", "Argomenti"),
        drop_paragraphs=(
            r"leggi anche" + READ_ON, r"(ti )?potrebbe (anche )?interessarti" + READ_ON,
            r"articoli correlati\b[^.!?]{0,80}", r"vedi anche" + READ_ON, r"(tag|argomenti)\s*:.*",
            r"abbonati\b.{0,120}", r"iscriviti alla newsletter\b.{0,120}", r"\d+ commenti", r"commenti( \(\d+\))?",
            r"condividi( su \w+)?",
        ),
    ),
    "pt": Rules(
        related_headings=("Leia também", "Leia mais", "Veja também", "Notícias relacionadas", "Matérias relacionadas"),
        tag_headings=("Tags", "Temas", "Assuntos"),
        drop_paragraphs=(
            r"(leia|veja) (também|mais)" + READ_ON, r"(notícias|matérias) relacionadas\b[^.!?]{0,80}",
            r"(tags|temas|assuntos)\s*:.*", r"assine\b.{0,120}", r"\d+ comentários?", r"comentários?( \(\d+\))?",
            r"compartilh(e|ar)( no \w+)?",
        ),
    ),
    "nl": Rules(
        related_headings=("Lees ook", "Lees meer", "Bekijk ook", "Meer over dit onderwerp", "Gerelateerde artikelen"),
        tag_headings=("Tags", "Onderwerpen", "Trefwoorden"),
        drop_paragraphs=(
            r"lees (ook|meer)" + READ_ON, r"bekijk ook" + READ_ON, r"gerelateerde artikelen\b[^.!?]{0,80}",
            r"(tags|onderwerpen|trefwoorden)\s*:.*", r"abonneer\b.{0,120}", r"\d+ reacties?", r"reacties?( \(\d+\))?",
            r"deel (dit|op)\b.{0,80}",
        ),
    ),
    "pl": Rules(
        related_headings=("Czytaj też", "Czytaj także", "Zobacz też", "Zobacz także", "Przeczytaj też",
                          "Przeczytaj również", "Polecamy"),
        tag_headings=("Tagi", "Tematy"),
        drop_paragraphs=(
            r"(czytaj|zobacz|przeczytaj) (też|także|również)" + READ_ON, r"polecamy\s*:.*", r"(tagi|tematy)\s*:.*",
            r"ten tekst przeczytasz w .{0,40}", r"\d+ komentarz(y|e)?", r"komentarze( \(\d+\))?",
            r"udostępnij\b.{0,80}", r"subskrybuj\b.{0,120}",
        ),
    ),
    # Swedish, Danish, Norwegian, Finnish, Czech, Turkish: the "read also" lines and tag lists
    "sv": Rules(related_headings=("Läs också", "Läs även", "Läs mer"), tag_headings=("Taggar", "Ämnen"),
                drop_paragraphs=(r"läs (också|även|mer)" + READ_ON, r"(taggar|ämnen)\s*:.*", r"\d+ kommentarer")),
    "da": Rules(related_headings=("Læs også", "Læs mere"), tag_headings=("Emner", "Tags"),
                drop_paragraphs=(r"læs (også|mere)" + READ_ON, r"(emner|tags)\s*:.*", r"\d+ kommentarer")),
    "no": Rules(related_headings=("Les også", "Les mer"), tag_headings=("Emner", "Tags"),
                drop_paragraphs=(r"les (også|mer)" + READ_ON, r"(emner|tags)\s*:.*", r"\d+ kommentarer")),
    "fi": Rules(related_headings=("Lue myös", "Lue lisää"), tag_headings=("Aiheet", "Avainsanat"),
                drop_paragraphs=(r"lue (myös|lisää)" + READ_ON, r"(aiheet|avainsanat)\s*:.*", r"\d+ kommenttia")),
    "cs": Rules(related_headings=("Čtěte také", "Čtěte též", "Související články", "Mohlo by vás zajímat"),
                tag_headings=("Témata", "Štítky"),
                drop_paragraphs=(r"čtěte (také|též)" + READ_ON, r"související články\b[^.!?]{0,80}",
                                 r"(témata|štítky)\s*:.*", r"\d+ komentář(e|ů)?")),
    "tr": Rules(related_headings=("Ayrıca okuyun", "İlgili haberler", "Bunlar da ilginizi çekebilir"),
                tag_headings=("Etiketler",),
                drop_paragraphs=(r"(ayrıca okuyun|ilgili haberler)\b[^.!?]{0,80}", r"etiketler\s*:.*")),
    "ru": Rules(
        related_headings=("Читайте также", "Читать также", "Смотрите также", "По теме", "Материалы по теме"),
        tag_headings=("Теги", "Метки", "Темы"),
        dossier_headings=("Сюжет", "Досье"),
        drop_paragraphs=(
            r"подпи(саться|шитесь)\b.*", r"короткий (url|адрес).*", r"короткая ссылка.*",
            r"(читайте|читать|смотрите) также\b.*", r"по теме\s*:.*", r"(теги|метки|темы)\s*:.*", r"сюжет\s*:.*",
            r"комментировать.*", r"комментари(и|ев)( \d+)?", r"\d+ комментари(й|я|ев)",
            r"правила (комментирования|поведения|общения)\b.*", r"обсуждение", r"поделиться\b.*",
        ),
    ),
}

SITE_RULE_KEYS = tuple(f.name for f in fields(Rules))

# Path segments of a site's own structure pages, never an article: section and tag indexes,
# topic and dossier pages, author pages, subscription, account and search pages. A related-
# links block often holds them beside its articles ("Lire aussi" under a section link).
STRUCTURE_SEGMENTS = frozenset((
    "tag", "tags", "topic", "topics", "theme", "themes", "thema", "themen", "trend", "trends", "dossier", "dossiers",
    "category", "categories", "categorie", "categoria", "categorias", "kategorie", "rubrique", "rubriques", "rubrik",
    "ressort", "section", "sections", "sujet", "sujets", "schlagwort", "schlagworte", "stichwort", "label", "labels",
    "etiqueta", "etiquetas", "tema", "temas", "argomenti", "onderwerp", "tagi", "teg", "tegi",
    "author", "authors", "auteur", "auteurs", "autor", "autoren", "autores", "autori", "journalist", "journalists",
    "subscribe", "subscription", "subscriptions", "abonnement", "abonnements", "abo", "abonnieren", "suscripcion",
    "newsletter", "newsletters", "account", "compte", "konto", "login", "signin", "sign-in", "register", "signup",
    "sign-up", "profile", "user", "users", "search", "recherche", "suche", "buscar", "archive", "archives",
    "about", "contact", "impressum", "privacy", "comments", "feed", "rss", "docs", "help", "shop",
))
_LONG_NUMBER = re.compile(r"\d{4,}")
_WORD_SEPARATORS = re.compile(r"[-_+.]+")


def related_article(url: str, same_site: bool) -> bool:
    """Whether a link of a related-links block is an article of the site: on the site, not
    one of its structure pages (STRUCTURE_SEGMENTS), and article-like: an id or a date in
    its path ("/france/202008111044160000/", "/2024/03/30/…"), a slug of at least three
    words ("/poutine-annonce-le-vaccin"), or an id in its query ("article.php?storyid=504").
    A section index ("/international/") is none of these."""
    parts = urlsplit(url)
    segments = [unquote(s).casefold() for s in parts.path.split("/") if s]
    if not same_site or any(s in STRUCTURE_SEGMENTS for s in segments):
        return False
    last = segments[-1].rsplit(".", 1)[0] if segments else ""
    return bool(_LONG_NUMBER.search(parts.path) or len(_WORD_SEPARATORS.split(last)) >= 3
                or any(c.isdigit() for c in parts.query))


def site_rules(raw: Mapping[str, Sequence[str]]) -> Rules:
    """A dossier's own rules from a plain dict (``[dossiers.<slug>.furniture]`` in the
    config), keys as in ``Rules``; raises ValueError naming the bad key or value."""
    for key, values in raw.items():
        if key not in SITE_RULE_KEYS:
            raise ValueError(f"unknown furniture key {key!r} (known: {', '.join(SITE_RULE_KEYS)})")
        if isinstance(values, str) or not all(isinstance(v, str) for v in values):
            raise ValueError(f"furniture key {key!r} must be a list of strings")
        for value in values:
            try:
                if key.endswith("_xpath"):
                    etree.XPath(value)
                elif key == "drop_paragraphs":
                    re.compile(value)
            except (etree.XPathSyntaxError, re.error) as exc:
                raise ValueError(f"furniture key {key!r}: invalid {key.split('_')[-1]} {value!r}: {exc}") from None
    return Rules(**{key: tuple(values) for key, values in raw.items()})


@dataclass(frozen=True)
class CompiledRules:
    prune_xpath: list[str]
    related_xpath: list[str]
    repeated_xpath: list[str]
    related: re.Pattern[str]
    tags: re.Pattern[str]
    dossier: re.Pattern[str]
    drop: re.Pattern[str]


def _heading_re(headings: list[str]) -> re.Pattern[str]:
    """A whole heading text: "Lire aussi :", "À lire aussi »", "LIRE AUSSI SUR REGARDS.FR >>"."""
    alternatives = "|".join(re.escape(h) for h in headings) or "(?!)"
    return re.compile(rf"^\s*(?:{alternatives})(?:\s+(?:sur|on|auf|на)\s+\S+)?\s*[:»>›→.…–—-]*\s*$",
                      re.IGNORECASE)


_CACHE: dict[tuple[str | None, tuple[tuple[str, tuple[str, ...]], ...]], CompiledRules] = {}


def rules_for(language: str | None, site: Mapping[str, Sequence[str]] | None = None) -> CompiledRules:
    """Rules of "*" plus the language's (all languages when unknown) plus the site's own."""
    key = (language, tuple(sorted((k, tuple(v)) for k, v in (site or {}).items())))
    if key not in _CACHE:
        chosen = [RULES["*"]]
        chosen += [RULES[language]] if language in RULES else [r for k, r in RULES.items() if k != "*"]
        if site:
            chosen.append(site_rules(site))

        def merged(name: str) -> list[str]:
            return [value for rules in chosen for value in getattr(rules, name)]

        _CACHE[key] = CompiledRules(
            prune_xpath=[f"//*[@{PRUNE_MARK}]", *merged("prune_xpath")],
            related_xpath=merged("related_xpath"),
            repeated_xpath=merged("repeated_xpath"),
            related=_heading_re(merged("related_headings")),
            tags=_heading_re(merged("tag_headings")),
            dossier=_heading_re(merged("dossier_headings")),
            drop=re.compile("|".join(f"(?:{p})" for p in merged("drop_paragraphs")), re.IGNORECASE),
        )
    return _CACHE[key]


def _names_re(names: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(re.escape(name) for name in names))


_FURNITURE_RE, _RELATED_RE = _names_re(FURNITURE_CLASSES), _names_re(RELATED_CLASSES)
_FIGURE_CREDIT_RE, _CREDIT_RE = _names_re(FIGURE_CREDIT_CLASSES), _names_re(CREDIT_CLASSES)
# Class words of an article's lead (standfirst, chapô, perex, bajada): the paragraph under
# the headline that many pages set apart from the body, where trafilatura's main extractor
# does not look. Not a lead picture or video ("c-lead-image").
LEAD = re.compile(r"(?<![a-z])(?:lead|lede|intro|perex|standfirst|bajada|chapo|chapeau|sapo|excerpt|description|"
                  r"summary|dek|deck|subtitle|sub-title|subheadline|abstract|teaser-text)(?![a-z])"
                  r"(?!-(?:image|img|media|photo|picture|video|figure|art|asset))")
_ANY_RE = _names_re(FURNITURE_CLASSES + RELATED_CLASSES + FIGURE_CREDIT_CLASSES + CREDIT_CLASSES)
# Class words of a date line besides "date", "timestamp" and "publish": a time ("time",
# "pubtime", "post-time", CSS modules' "time-hm3v7ddj", as Chinese and Korean news pages name
# it), not a timeline's, a runtime's or a reading time's; and CNN's "strytmstmp".
TIME_CLASS = re.compile(r"(?<![a-z])(?<!read-)(?<!reading-)(?:pub|post|publish|news|article|info|entry|meta)?-?"
                        r"time(?:stamp)?(?![a-z])")
# The body's descendants: <html> and <body> are the page, whatever their classes say (Squarespace's
# body lists its theme's settings, "tweak-share-buttons-style-icon-only", "event-list-like-and-share-buttons")
_CLASSED = etree.XPath("//body//*[@class]")
_HOLDS_LONG_TEXT = etree.XPath("boolean(.//p[string-length(normalize-space()) > 200])")
MIN_HEADLINE_WORDS = 3  # a lone <h1> shorter than this is a label ("About us", a section), not a headline


def headline_holders(tree: etree._Element) -> set[etree._Element]:
    """The elements holding the page's headline, its first <h1> of a headline's length (not a
    widget's title; a sidebar's teasers come after it): whatever their class words say
    ("social-ui", "post-wrap sidebar-on", a WordPress post's "category-popular"), they are the
    article's, not a sidebar or furniture."""
    headline = next((h for h in tree.iter("h1") if count_words(" ".join("".join(h.itertext()).split()))
                     >= MIN_HEADLINE_WORDS), None)
    return set(headline.iterancestors()) if headline is not None else set()


@dataclass
class ClassMatches:
    """The page's elements picked by the class-name rules, in document order."""

    related: list[etree._Element]  # related-links blocks
    credits: list[etree._Element]  # caption credits
    dated: list[etree._Element]  # elements whose class names a date (an article's date line)
    leads: list[etree._Element]  # elements whose class names a lead (extract.lead_paragraph)


def match_classes(tree: etree._Element) -> ClassMatches:
    """Apply the class-name rules in one pass, and mark the furniture blocks (PRUNE_MARK)
    for trafilatura to prune from its copy of the tree before it extracts the text
    (rules.prune_xpath finds them by the mark); the metadata is read from the whole page,
    as trafilatura does with its prune_xpath. A furniture or related block holding a long
    paragraph or the headline is content whatever its class says (a wrapper named
    "article-with-related", LinkedIn's "social-ui" around a post of short paragraphs).
    The same pass picks the elements whose class names a date (page_signals' date lines)
    or a lead (LEAD)."""
    related, credits, dated, leads = [], [], [], []
    holders: set[etree._Element] | None = None
    for element in _CLASSED(tree):
        names = f" {element.get('class').replace('_', '-')} "
        lowered = names.lower()
        if ("date" in lowered or ("time" in lowered and TIME_CLASS.search(lowered)) or "tmstmp" in lowered
                or ("publish" in lowered and "publisher" not in lowered)):
            dated.append(element)
        if LEAD.search(lowered):
            leads.append(element)
        if not _ANY_RE.search(names):
            continue
        if _CREDIT_RE.search(names) or (_FIGURE_CREDIT_RE.search(names)
                                        and next(element.iterancestors("figure"), None) is not None):
            credits.append(element)
        furniture, linked = _FURNITURE_RE.search(names), _RELATED_RE.search(names)
        if (furniture or linked) and not _HOLDS_LONG_TEXT(element) and element not in (
                holders := headline_holders(tree) if holders is None else holders):
            if furniture:
                element.set(PRUNE_MARK, "")
            if linked:
                related.append(element)
    return ClassMatches(related, credits, dated, leads)


def is_furniture(paragraph: str, rules: CompiledRules, repeated: set[str]) -> bool:
    """True for a paragraph that is a rule match, a lone block heading ("Related", "Tags:")
    or repeats a related-link title, tag, dossier label or caption credit found on the page
    (``repeated``, case-folded)."""
    if paragraph.casefold() in repeated:
        return True
    return len(paragraph) <= MAX_FURNITURE_CHARS and any(
        rx.fullmatch(paragraph) for rx in (rules.drop, rules.related, rules.tags, rules.dossier))


# Block elements of trafilatura's output tree that are a paragraph of the text (not table
# rows: a row of figures is data, not a counter).
BLOCKS = ("p", "head", "item", "quote")


def prune_body(body: etree._Element, rules: CompiledRules, repeated: set[str]) -> None:
    """Remove furniture paragraphs from trafilatura's body tree (in place), so the plain
    text and the Markdown made from it are both clean; lists left empty go too."""
    drop = [el for el in body.iter(*BLOCKS)
            if is_furniture(" ".join("".join(el.itertext()).split()), rules, repeated)]
    for element in drop:
        _remove(element)
    for element in list(body.iter("list")):
        if not "".join(element.itertext()).strip():
            _remove(element)


def _remove(element: etree._Element) -> None:
    """Remove an element, keeping its tail text in the tree."""
    parent = element.getparent()
    if parent is None:
        return
    if element.tail and element.tail.strip():
        previous = element.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + element.tail
        else:
            parent.text = (parent.text or "") + element.tail
    parent.remove(element)
