"""Pages served with status 200 that are not the article (bot challenges, consent walls,
error pages), and who may read an article that is one (free, paywall, registration).

An interstitial is recognised by what it is: a page whose title or text IS the challenge or
the consent request, with next to no other text. Never by a script or a vendor's markup
alone: Cloudflare injects /cdn-cgi/challenge-platform/ into ordinary pages, comment forms
carry g-recaptcha, and most European news pages load a consent manager beside the article.
The phrases are data (CONSENT_PHRASES: the consent managers' texts and button labels in
the EU's most used languages), matched lower-cased. A paywalled article is kept (its public
part, the teaser, is the text): ``access_of`` tells which it is.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from dossier_pipeline.tasks.contracts import Extraction

PAYWALL_STUB_WORDS = 200  # a page declaring a paywall with no more text than this is the stub
HEAD_BYTES = 200_000  # markers are looked for in the start of the page (bytes, or characters once decoded)
PAYWALL_PHRASE_WORDS = 400  # a paywall or registration phrase counts in a text this short (a teaser)
WALL_TEASER_WORDS = 200  # a wall's call beside the text is looked for when the text is this short (~1 ms a page)

# IAB-TCF / consent-manager walls: their texts and button labels, by language.
CONSENT_PHRASES: dict[str, tuple[str, ...]] = {
    "en": ("before you continue", "we value your privacy", "we and our partners", "accept all cookies",
           "reject all cookies", "manage cookie preferences", "your privacy choices", "accept all and continue"),
    "de": ("wir und unsere partner", "alle akzeptieren", "alle ablehnen", "zustimmen und weiter",
           "ihre privatsphäre ist uns wichtig", "cookie-einstellungen", "einwilligung verwalten"),
    "fr": ("nous et nos partenaires", "tout accepter", "tout refuser", "accepter et continuer",
           "avant d'accéder", "nous respectons votre vie privée", "gérer mes choix", "paramétrer les cookies"),
    "es": ("nosotros y nuestros socios", "aceptar todo", "rechazar todo", "aceptar y continuar",
           "valoramos tu privacidad", "configurar cookies"),
    "it": ("noi e i nostri partner", "accetta tutto", "rifiuta tutto", "accetta e continua",
           "la tua privacy è importante", "gestisci le preferenze"),
    "pl": ("my i nasi partnerzy", "akceptuję wszystkie", "zaakceptuj wszystko", "odrzuć wszystko",
           "cenimy twoją prywatność", "ustawienia plików cookie"),
    "nl": ("wij en onze partners", "alles accepteren", "alles weigeren", "akkoord en doorgaan",
           "wij respecteren je privacy", "cookie-instellingen"),
    "pt": ("nós e os nossos parceiros", "nós e nossos parceiros", "aceitar tudo", "rejeitar tudo",
           "aceitar e continuar", "valorizamos a sua privacidade"),
    "ro": ("noi și partenerii noștri", "acceptă tot", "accept toate", "respinge tot", "respingeți tot",
           "apreciem confidențialitatea"),
    "sv": ("vi och våra partner", "godkänn alla", "acceptera alla", "avvisa alla", "neka alla",
           "vi värnar om din integritet"),
    "cs": ("my a naši partneři", "přijmout vše", "odmítnout vše", "souhlasím a pokračovat",
           "vážíme si vašeho soukromí"),
    "hu": ("mi és partnereink", "összes elfogadása", "elfogadom mindet", "összes elutasítása",
           "fontos számunkra az ön adatainak védelme"),
    "el": ("εμείς και οι συνεργάτες μας", "αποδοχή όλων", "απόρριψη όλων", "εκτιμούμε την ιδιωτικότητά σας"),
    "da": ("vi og vores partnere", "accepter alle", "afvis alle", "tillad alle"),
    "fi": ("me ja kumppanimme", "hyväksy kaikki", "hylkää kaikki", "arvostamme yksityisyyttäsi"),
    "sk": ("my a naši partneri", "prijať všetko", "odmietnuť všetko"),
    "bg": ("ние и нашите партньори", "приемам всички", "отхвърляне на всички"),
    "hr": ("mi i naši partneri", "prihvati sve", "odbij sve"),
}
CHALLENGE_PHRASES = ("completing the captcha proves you are a human",
                     "checking your browser before accessing", "checking if the site connection is secure",
                     "verify you are human", "verifying you are human", "enable javascript and cookies to continue",
                     "please complete the security check", "please turn javascript on and reload the page",
                     "press & hold to confirm you are a human", "why have i been blocked", "access to this page has "
                     "been denied", "you have been blocked", "request unsuccessful. incapsula incident id",
                     "please verify you are a human", "ddos protection by")
PAYWALL_PHRASES = ("subscribe to continue reading", "subscribe to read", "this article is for subscribers",
                   "subscribers only", "réservé aux abonnés", "article réservé", "abonnez-vous pour lire",
                   "nur für abonnenten", "jetzt abonnieren und weiterlesen", "exklusiv für abonnenten",
                   "solo para suscriptores", "riservato agli abbonati", "alleen voor abonnees",
                   "доступен только подписчикам", "доступно только по подписке", "有料会員限定", "会員限定")
REGISTRATION_PHRASES = ("register to continue reading", "create a free account to continue", "sign up for free to "
                        "continue", "inscrivez-vous gratuitement pour lire", "kostenlos registrieren und weiterlesen",
                        "registrieren sie sich kostenlos", "regístrate gratis para seguir leyendo",
                        "registrati gratuitamente per continuare", "無料会員登録")
# What a wall says where the text stops: a call to subscribe or register to read on. Unlike the
# phrases above, which may also be a badge on a teaser of another article ("subscribers only",
# "会員限定"), these are read in the whole page's visible text (the wall stands beside the teaser,
# outside what extraction keeps), and only when the article's text is a teaser's length
# (WALL_TEASER_WORDS).
PAYWALL_WALLS = ("to read the full story, subscribe", "to read the full story, join now",
                 "subscribe to continue reading", "to continue reading, please login or subscribe",
                 "to continue reading, subscribe", "subscribe now to continue reading",
                 "subscribe to keep reading", "subscribe to read the full", "abonnez-vous pour lire la suite",
                 "la suite est réservée aux abonnés", "cet article est réservé aux abonnés",
                 "jetzt abonnieren und weiterlesen", "abonnieren sie, um weiterzulesen",
                 "suscríbete para seguir leyendo", "suscríbete para continuar leyendo",
                 "abbonati per continuare a leggere", "assine para continuar lendo", "assine para continuar a ler",
                 "abonneer om verder te lezen", "word abonnee om verder te lezen", "zaloguj się lub wykup subskrypcję",
                 "订阅后继续阅读", "订阅后阅读全文", "訂閱後繼續閱讀", "続きを読むには有料会員", "有料会員になると続き",
                 "구독하고 계속 읽기")
REGISTRATION_WALLS = ("please log in or create an account", "log in or create a free account",
                      "register for free to continue reading", "create a free account to keep reading",
                      "kostenlos registrieren und direkt weiterlesen",
                      "registrieren sie sich kostenlos, um weiterzulesen",
                      "créez un compte gratuit pour lire la suite", "regístrate gratis para continuar leyendo",
                      "無料会員登録で続きを読む")


# An error page's title is nothing but these words, numbers and punctuation, in one of its parts
# ("404 Not Found", "Erreur 404 - page non trouvée | Site", "Oops! That page can’t be found. – Site"):
# a headline holding one of them ("… Error Logging On iOS", "Fehler im System") is an article's.
ERROR_TITLE_WORDS = (
    "404", "410", "error", "erreur", "fehler", "errore", "erro", "fout", "błąd", "hata", "ошибка", "oops", "sorry",
    "whoops", "gone",
    "page", "seite", "página", "pagina", "strona", "sayfa", "страница", "file", "http", "the", "this", "that",
    "requested", "le", "la", "die", "de", "di", "not", "no", "non", "nie", "nicht", "не",
    "found", "introuvable", "trouvée", "gefunden", "encontrada", "encontrado", "trovata", "gevonden", "znaleziono",
    "bulunamadı", "найдена", "can't be found", "can’t be found", "cannot be found", "could not be found",
    "does not exist", "doesn't exist", "n'existe pas", "existiert nicht", "no existe", "non esiste",
    "ページが見つかりません", "页面不存在", "页面未找到", "找不到页面", "페이지를 찾을 수 없습니다",
)
ERROR_TITLE = re.compile(rf"(?:[\W\d_]*(?:{'|'.join(sorted(map(re.escape, ERROR_TITLE_WORDS), key=len, reverse=True))})"
                         r"(?![^\W\d_]))+[\W\d_]*")
ERROR_TITLE_MARK = re.compile(r"\b(?:404|410|not found|introuvable|non trouvée|nicht gefunden|не найдена|error|erreur|"
                              r"fehler|can[’']t be found|cannot be found|could not be found|does not exist|"
                              r"doesn't exist|n'existe pas|existiert nicht)\b|"
                              r"ページが見つかりません|页面不存在|页面未找到|找不到页面|페이지를 찾을 수 없습니다")
TITLE_PARTS = re.compile(r"\s+[|–—·:~-]+\s+|\s*[|｜]\s*")  # between a title's parts: "… | Site", "… - Site"


def error_title(title: str) -> bool:
    """Whether a (lower-cased) title names an error page: one of its parts is only error words
    (ERROR_TITLE) and says which error (ERROR_TITLE_MARK: not "Sorry" or "The page" alone)."""
    return any(ERROR_TITLE.fullmatch(part) and ERROR_TITLE_MARK.search(part) for part in TITLE_PARTS.split(title))


@dataclass(frozen=True)
class BlockRule:
    kind: str  # bot_challenge, consent_wall, error_page
    max_words: int  # only when the extracted text is this short: the page is little else
    title: Callable[[str], object] | None = None  # a test of the <title> (lower-cased): a regex's search
    text: tuple[str, ...] = ()  # substrings of the extracted text, or of the title (lower-cased)


RULES: tuple[BlockRule, ...] = (
    BlockRule("bot_challenge", 60, title=re.compile(
        r"^(just a moment\.{3}|attention required! \| cloudflare|please wait\.{3} \| cloudflare|ddos-guard|checking "
        r"your browser|access denied|are you a robot\??|pardon our interruption|you are being redirected\.{3}|"
        r"one more step|security check|captcha)").search),
    BlockRule("bot_challenge", 150, text=CHALLENGE_PHRASES),  # phrases only a challenge says
    BlockRule("consent_wall", 120, text=tuple(p for phrases in CONSENT_PHRASES.values() for p in phrases)),
    BlockRule("error_page", 120, title=error_title),
)

TITLE_RE = re.compile(rb"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
# schema.org's property, in JSON-LD ("isAccessibleForFree": false, "False") or microdata
# (itemprop="isAccessibleForFree" content="false"), read after each place the name occurs
ACCESSIBLE_FOR_FREE = "sAccessibleForFree"
NOT_FREE = re.compile(r'"\s*(?::\s*"?|content\s*=\s*")false', re.IGNORECASE)


def classify(body: bytes, result: Extraction) -> str | None:
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
        if words > rule.max_words:
            continue
        if rule.title and not rule.title(title):
            continue
        if rule.text and not any(t in text() or t in title for t in rule.text):
            continue
        return rule.kind
    return None


def access_of(declared_paywall: bool, text: str, words: int, wall: Callable[[], str | None] = lambda: None) -> str:
    """Who may read the article: 'paywall' when the page declares it (``declared_paywall``:
    declares_paywall) or its short text says so, 'registration' when that says readers must
    register, else 'free'. ``wall``: the call of a wall beside the text (wall_in on the page's
    shown text), asked only for a teaser's length of text (WALL_TEASER_WORDS)."""
    if words <= PAYWALL_PHRASE_WORDS:
        lowered = text.lower()
        if any(p in lowered for p in REGISTRATION_PHRASES):
            return "registration"
        if any(p in lowered for p in PAYWALL_PHRASES):
            return "paywall"
        if words <= WALL_TEASER_WORDS and (beside := wall()):
            return beside
    return "paywall" if declared_paywall else "free"


def wall_in(text: str) -> str | None:
    """'registration' or 'paywall' when ``text`` holds a wall's call (REGISTRATION_WALLS, PAYWALL_WALLS)."""
    lowered = " ".join(text.split()).lower()
    if any(p in lowered for p in REGISTRATION_WALLS):
        return "registration"
    if any(p in lowered for p in PAYWALL_WALLS):
        return "paywall"
    return None


def declares_paywall(html: str) -> bool:
    """The page says (schema.org isAccessibleForFree: false) that part of its text is for
    subscribers: that text is often in the markup, hidden. Read anywhere in the page (a JSON-LD
    script may come after 400 kB of inline styles); a plain search for the name is fast."""
    at = html.find(ACCESSIBLE_FOR_FREE)
    while at >= 0:
        if NOT_FREE.match(html, at + len(ACCESSIBLE_FOR_FREE)):
            return True
        at = html.find(ACCESSIBLE_FOR_FREE, at + 1)
    return False
