"""Normalisation: raw extraction output -> one article row, one meaning per column.

Candidates are taken in order of trust (JSON-LD, then OpenGraph/article meta, then
<time>, then trafilatura/htmldate) and each value is cleaned the same way on every site:
times to UTC, bylines split into person names and agencies, tags de-duplicated, URLs
normalised. Every date candidate, from the page and from outside it (feed, sitemaps,
HTTP), is kept with its origin in ``date_evidence``, so a wrong date can be explained.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import unicodedata
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from functools import cache, partial
from html import unescape
from typing import Any, NamedTuple, Protocol
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, available_timezones

import courlan
import jdatetime
from babel.core import Locale, get_global
from dateparser.languages.loader import default_loader
from dateutil import parser as dateparser
from htmldate.extractors import try_date_expr
from py3langid.langid import MODEL_FILE, LanguageIdentifier

from dossier_pipeline.tasks.dedup import simhash, tokens
from dossier_pipeline.tasks.furniture import MIN_HEADLINE_WORDS, related_article
from dossier_pipeline.tasks.textcount import ANY_UNSPACED, count_words
from dossier_pipeline.tasks.urls import article_id, host_of, identifying_params, identity_url, in_domains

# -- dates ------------------------------------------------------------------------------
PUBLISHED_META = ("article:published_time", "og:article:published_time", "datepublished", "pubdate",
                  "publishdate", "dc.date.issued", "dcterms.created", "date", "sailthru.date", "parsely-pub-date",
                  # scholarly pages (Highwire/Google Scholar tags, PRISM, Dublin Core)
                  "citation_publication_date", "citation_online_date", "citation_date", "prism.publicationdate",
                  "dc.date", "dcterms.issued",
                  # publishers' and platforms' own names (sharing and analytics plugins; Tencent's apub:time,
                  # Phoenix's og:time, NetEase's ptime, Sina's Weibo card, the New York Times' pdate); not
                  # cXense's recs:publishtime, hours off the page's own on pagina12.com.ar and afpbb.com
                  "article:published", "og:published_time", "article:publicationdate", "publish_date", "publish-date",
                  "pub_date", "published_at", "iso-8601-publish-date", "shareaholic:article_published_time",
                  "dcsext.articlefirstpublished", "article_date_original",
                  "og:time", "apub:time", "ptime", "weibo: article:create_at", "pdate")
MODIFIED_META = ("article:modified_time", "og:updated_time", "datemodified", "dcterms.modified", "last-modified",
                 "og:article:modified_time", "shareaholic:article_modified_time", "article_date_updated", "utime",
                 "weibo: article:update_at")
# More distinct values of one publication tag than this are the dates of a list of other
# articles (itemprop="datePublished" in each teaser), not the article's own and its restatement
MAX_OWN_DATES = 2
# Discovery hints (DiscoveredURL.hints) that date the article, as publication dates of last
# resort, then the ones that only say when something changed.
HINT_PUBLISHED = ("news_sitemap_date", "feed_date", "listing_date")
HINT_CHANGED = ("sitemap_lastmod",)
# Zone abbreviations dateutil does not know (it would silently read them as local time): fixed
# offsets, and the US zones that sites name without saying standard or daylight time ("2:30 PM
# ET"). IST (India, Israel or Ireland) is the page's zone when that is one of the three, else
# India's (IST_ZONES); AST (Atlantic or Arabia) is left to the page's zone.
TZINFOS: dict[str, tzinfo] = {
    **{name: timezone(timedelta(hours=hours)) for name, hours in {
        "UTC": 0, "GMT": 0, "Z": 0, "WET": 0, "WEST": 1, "BST": 1, "CET": 1, "CEST": 2, "MEZ": 1, "MESZ": 2,
        "EET": 2, "EEST": 3, "MSK": 3, "EST": -5, "EDT": -4, "CST": -6, "CDT": -5, "MST": -7, "MDT": -6,
        "PST": -8, "PDT": -7, "AKST": -9, "AKDT": -8, "HST": -10, "BRT": -3, "ART": -3, "WAT": 1, "CAT": 2,
        "SAST": 2, "EAT": 3, "PKT": 5, "ICT": 7, "WIB": 7, "WITA": 8, "WIT": 9, "SGT": 8, "HKT": 8, "PHT": 8,
        "AWST": 8, "JST": 9, "KST": 9, "ACST": 9.5, "ACDT": 10.5, "AEST": 10, "AEDT": 11, "NZST": 12,
        "NZDT": 13}.items()},
    **{name: ZoneInfo(zone) for name, zone in {"ET": "America/New_York", "CT": "America/Chicago",
                                                "MT": "America/Denver", "PT": "America/Los_Angeles"}.items()}}
ZONE_AFTER = re.compile(rf"\s*\(?({'|'.join(sorted(TZINFOS, key=len, reverse=True))})\b")  # "14:30 (CET)"
ZONE_NAME = re.compile(rf"\b(?:{'|'.join(sorted(TZINFOS, key=len, reverse=True))}|IST)\b")
# "10.34PM IST": India's on a page whose clock is not Israel's or Ireland's (economictimes.indiatimes.com)
IST_AFTER = re.compile(r"\s*\(?IST\b")
IST_ZONES = ("Asia/Kolkata", "Asia/Jerusalem", "Europe/Dublin")
AFTER_LAST_DIGIT = re.compile(r"\D+$")
# "18:13 GMT+8", "(GMT+0400)", "UTC+05:30": the offset the page means, ahead of UTC (POSIX, and
# dateutil with it, reads "GMT+8" as eight hours behind)
GMT_OFFSET = re.compile(r"\s*\(?\b(?:GMT|UTC)\s*([+\-−])\s*(\d{1,2})(?::?([0-5]\d))?\b\)?")
HAS_YEAR = re.compile(r"(?<!\d)(19|20)\d\d(?!\d)")
HAS_TIME = re.compile(r"\d{1,2}:\d{2}")
ISO_TIME = re.compile(r"\d[T ]\d\d")  # an ISO 8601 string with a time part
DAY_FIRST = re.compile(r"^\s*\d{1,2}\.\d{1,2}\.\d{2,4}")  # 16.10.2019: European order
NUMERIC_DATE = re.compile(r"^\s*\d{1,2}[-/]\d{1,2}[-/]\d{2,4}\b")  # 01-11-2023: which comes first depends on the page
EPOCH = re.compile(r"1\d{9}(?:\d{3})?")  # Unix time in seconds or milliseconds, 2001 to 2286
# an offset written "+5.30" or "+530" (India's "2016-05-14T16:34+5.30"), which ISO 8601 writes "+05:30"
SHORT_OFFSET = re.compile(r"(T\d\d:\d\d(?::\d\d(?:\.\d+)?)?)([+-])(\d{1,2})[.:]?(\d\d)$")
# a time written with a dot, where a label or the half of the day says it is one ("klo 14.00",
# "kl. 9.30" in the Nordic languages; "10.34PM"), as CLOCK reads it
DOTTED_CLOCK = re.compile(r"\b((?:klo|kl\.?|kello)\s*\d{1,2})\.(\d\d)\b|\b(\d{1,2})\.(\d\d)(?=\s*[ap]\.?\s*m\b)",
                          re.IGNORECASE)
# An ISO 8601 offset after a time of day's minutes ("20:30:39+00:00", "09:15Z")
ISO_OFFSET_AFTER = re.compile(r"(?::\d\d(?:\.\d+)?)?(Z|[+-][01]\d:?[0-5]\d)(?![\d:])")
# A time of day in a date line: 13:59, 13h59, 9時00分, 3:49 pm
CLOCK = re.compile(r"(?<!\d)([01]?\d|2[0-3])\s*[:hH時시]\s*([0-5]\d)(?!\d)(?:\s*([ap])\.?\s*m\b)?", re.IGNORECASE)
NUMBER = re.compile(r"\d+")
FIRST_DIGIT = re.compile(r"\d")
# A day written in CJK ("2019年4月4日", "2019년 4월 4일"), which htmldate's expression parser does not read
CJK_DAY = re.compile(r"((?:19|20)\d\d)\s*[年년]\s*(1[0-2]|0?[1-9])\s*[月월]\s*(3[01]|[12]\d|0?[1-9])\s*[日일]")
MIN_DATE = datetime(1990, 1, 1)  # parse_date refuses earlier years
# Every script's decimal digits as ASCII ones: Persian "۱۳۹۶/۰۲/۲۸", Eastern Arabic, Devanagari "२८ जून २०२०",
# Bengali "০২ জানুয়ারি ২০২০"; and, for Persian month names only, the Arabic letters Persian text may be typed
# with ("ارديبهشت"; Arabic's own month names keep theirs)
DECIMAL_DIGITS = {code: str(unicodedata.digit(chr(code))) for code in range(128, 0x10000)
                  if unicodedata.category(chr(code)) == "Nd"}
PERSIAN_LETTERS = str.maketrans("يك", "یک")
# A year of the Buddhist era in Thai text ("7 ธ.ค. 2567", พ.ศ.): 543 years ahead of the Common Era's
THAI = re.compile(r"[\u0e00-\u0e7f]")
# The months' names that Arab countries write besides the ones dateparser knows (Egypt's and the
# Gulf's, with hamza): the Levant's and Iraq's, the Maghreb's (Algeria and Tunisia; Morocco), and
# the hamza left out, as pages often write; a pair such as "آب/أغسطس" (the Levant's name, then
# Egypt's) names one month.
ARABIC_MONTHS = {standard: names for standard, names in (
    ("يناير", ("كانون الثاني", "جانفي")), ("فبراير", ("شباط", "فيفري")), ("مارس", ("آذار", "اذار")),
    ("أبريل", ("نيسان", "أفريل", "افريل", "ابريل", "إبريل")), ("مايو", ("أيار", "ايار", "ماي")),
    ("يونيو", ("حزيران", "جوان")), ("يوليو", ("تموز", "جويلية", "يوليوز")),
    ("أغسطس", ("آب", "أوت", "اوت", "غشت", "اغسطس")), ("سبتمبر", ("أيلول", "ايلول", "شتنبر")),
    ("أكتوبر", ("تشرين الأول", "تشرين الاول", "اكتوبر")), ("نوفمبر", ("تشرين الثاني", "نونبر")),
    ("ديسمبر", ("كانون الأول", "كانون الاول", "دجنبر")))}
_ARABIC_MONTH_OF = {name: standard for standard, names in ARABIC_MONTHS.items() for name in (standard, *names)}
_ARABIC_MONTH = "|".join(sorted(map(re.escape, _ARABIC_MONTH_OF), key=len, reverse=True))
ARABIC_LETTER = re.compile(r"[\u0620-\u064a]")
ARABIC_MONTH = re.compile(rf"(?<!\w)({_ARABIC_MONTH})(?:\s*/\s*(?:{_ARABIC_MONTH}))?(?!\w)")
BUDDHIST_YEAR = re.compile(r"(?<!\d)25[3-7]\d(?!\d)")
BUDDHIST_ERA_MARK = re.compile(r"พ\.\s?ศ\.\s*")  # "พ.ศ. 2567", which date parsers do not expect before a year
BUDDHIST_ERA = 543
# A date of the Solar Hijri calendar (Iran, Afghanistan), numeric ("1396/02/28 - 22:57") or with
# the month's Iranian or Afghan name ("۲۸ اردیبهشت ۱۳۹۶"). Its years from 1369 (1990) to 1409
# (2030); a Lunar Hijri year of those days is 1410 or later, and is left alone.
SOLAR_HIJRI_YEAR = r"(13[6-9]\d|140\d)"
SOLAR_HIJRI = re.compile(rf"^{SOLAR_HIJRI_YEAR}[/.-](\d{{1,2}})[/.-](\d{{1,2}})(?:\D+?(\d{{1,2}}:\d\d(?::\d\d)?))?")
SOLAR_HIJRI_MONTHS = {name: i % 12 + 1 for i, name in enumerate((
    "فروردین", "اردیبهشت", "خرداد", "تیر", "مرداد", "شهریور", "مهر", "آبان", "آذر", "دی", "بهمن", "اسفند",
    "حمل", "ثور", "جوزا", "سرطان", "اسد", "سنبله", "میزان", "عقرب", "قوس", "جدی", "دلو", "حوت"))}
SOLAR_HIJRI_DAY = re.compile(rf"(\d{{1,2}})\s+({'|'.join(SOLAR_HIJRI_MONTHS)})\s+{SOLAR_HIJRI_YEAR}")
# A year or a numeric date: what a byline line must hold to be read as a date line
DATE_LIKE = re.compile(r"(?<!\d)(?:1[89]|20)\d\d(?!\d)|(?<!\d)\d{1,2}[./-]\d{1,2}[./-]\d{2}")
BYLINE_RANK = 1  # extract._time_rank's rank of a line in a byline
HEADER_RANK = 2  # a date line ranked up to this (extract._time_rank) sits in the article's header or body
# A date opening one of the first paragraphs of the article's text, before a bracket or a dash
# (press releases, local news): "(21. November 2022) Energieverbraucher …", "Berlin, 21.11.2022 – …",
# "PARIS, 3 mai 2021 : …", "March 3, 2021 - …". Not d/m/y with slashes: month-first in the US.
LEAD_DATELINE = re.compile(
    r"\(?(?:[^\W\d_][\w'.-]*(?:[ /-][^\W\d_][\w'.-]*){0,3},\s+)?"
    r"(\d{1,2}\.\s?\d{1,2}\.\s?(?:19|20)\d\d|(?:19|20)\d\d-\d\d-\d\d|\d{1,2}\.?\s+[^\W\d_]{3,10}\.?\s+(?:19|20)\d\d"
    r"|[^\W\d_]{3,10}\.?\s+\d{1,2},?\s+(?:19|20)\d\d)\s*(?:\)|\s[-–—:|]\s)")
LEAD_PARAGRAPHS = 3
UPDATE_RANK = 9  # the rank of a date line whose class names an update ("date-updated")
# The label of an update's date ("Mis à jour le …", "Aktualisiert:", "更新")
UPDATE_LABEL = re.compile(r"updated|aktualisiert|mis à jour|actualizad[oa]|aggiornat[oa]|bijgewerkt|zaktualizowan|"
                          r"обновлен|atualizad[oa]|güncelle|opdateret|uppdaterad|oppdatert|päivitetty|"
                          r"更新|수정|업데이트|تحديث|به‌روز|بروز|अपडेट|আপডেট", re.IGNORECASE)
CLOCK_SKEW = timedelta(minutes=10)
MAX_OFFSET = timedelta(hours=14)  # UTC+14 (Kiribati) to UTC-12
QUARTER_HOUR = timedelta(minutes=15)  # every offset in use is a multiple ("+05:45")
# Two fillers of the fields a date string lacks: a field in which the two readings differ is missing.
DEFAULTS = (datetime(2000, 1, 1), datetime(2000, 2, 2))
ONE_DAY = timedelta(days=1)
# Country domains of English-language pages that write numeric dates day first (elsewhere
# English pages, .com included, are read month first).
DAY_FIRST_ENGLISH_TLDS = frozenset(("uk", "ie", "au", "nz", "za", "in", "pk", "ng", "ke", "gh", "sg", "my", "hk",
                                    "mt", "cy", "eu", "de", "fr", "nl", "be", "at", "ch", "se", "dk", "no", "fi"))
# Country-code domains used as generic ones (.io, .tv, .co …): they name no country's clock.
GENERIC_CCTLDS = frozenset(("io", "co", "tv", "me", "ai", "fm", "ly", "to", "cc", "ws", "gg", "sh", "ac", "la", "so",
                            "im", "vc", "gl", "eu", "su", "nu", "tk", "ml", "ga", "cf", "gq"))
# CLDR's primary zones (supplemental metaZones.xml, which babel does not ship): the zone of a
# country whose clock is one but for a region's (China's Beijing time, not Xinjiang's; Kyiv's,
# not occupied Crimea's; Auckland's, not the Chatham Islands'), where no zone has a majority.
PRIMARY_ZONES = {"CL": "America/Santiago", "CN": "Asia/Shanghai", "DE": "Europe/Berlin", "EC": "America/Guayaquil",
                 "ES": "Europe/Madrid", "MH": "Pacific/Majuro", "MY": "Asia/Kuala_Lumpur", "NZ": "Pacific/Auckland",
                 "PT": "Europe/Lisbon", "UA": "Europe/Kyiv", "UZ": "Asia/Tashkent"}
COUNTRY_OF_TLD = {"uk": "GB"}  # the one country-code domain that is not its ISO 3166 code

# -- authors ----------------------------------------------------------------------------
BYLINE_PREFIXES = ("propos recueillis par", "written by", "reported by", "posted by", "submitted by", "article by",
                   "recipe by", "rezept von",
                   "zum profil von", "artikel von", "ein beitrag von", "geschrieben von", "verfasst von", "publié par",
                   "par", "by", "von", "vom", "por", "door", "avec", "with", "mit", "texte", "text", "interview",
                   "auteur", "auteure", "autor", "autorin", "author", "автор", "авторы", "текст", "подготовил",
                   "подготовила", "מאת", "بقلم", "بواسطة", "كتب", "كتبت", "به قلم", "نویسنده", "خبرنگار", "लेखक",
                   "yazan", "yazar", "muhabir", "kirjoittaja", "szerző", "írta", "penulis", "piše", "napisao",
                   "napisala", "tác giả", "reportagem de", "γράφει ο", "γράφει η", "γράφει", "συντάκτης",
                   "autorius", "autors", "avtor", "avtorica", "shkruan", "โดย", "লেখক")
# Short prefixes that are also the first word of names ("Di Maio", "Av"): stripped only
# before a name of two words at least.
SHORT_BYLINE_PREFIXES = ("di", "da", "av", "af", "przez", "tekst", "escrito por", "scritto da", "geschreven door",
                         "skrevet av", "skrevet af", "napisał", "napisała", "autore", "autora", "του", "της",
                         "oleh", "texto", "testo", "teksti",  # "Oleh" is also a given name (Oleh Sentsov)
                         "nga",  # Albanian's "by", also a Vietnamese given name
                         # a profession before the name ("Rechtsanwalt Sebastian Einbock")
                         "rechtsanwalt", "rechtsanwältin", "fachanwalt", "fachanwältin", "steuerberater",
                         "steuerberaterin", "notar", "notarin")
# CJK bylines: 文/王小明, 記者 王小明, 作者：…
CJK_PREFIX = r"(?:本报记者|文|撰文|记者|記者|作者|編集|编辑|기자)\s*[/／:：]?\s*"
# A credit for the text and the pictures together ("Text & Fotos:", "Texte et photos :", "Words and
# pictures by"), and a German piece's kind before its writer ("Eine Kolumne von", "Ein Gastbeitrag von")
BYLINE_PHRASES = (r"(?:(?:text|texte|tekst|testo|texto|words)\s*(?:&|\+|/|und|and|et|e|y|en|og|och|i)\s*"
                  r"(?:fotos?|photos?|bilder?|pictures?|images?|foto's)(?:\s*:\s*|\s+by\s+|\s+von\s+|\s+par\s+)"
                  r"|eine?\s+\w+\s+von\s+)")
AUTHOR_PREFIX = re.compile(rf"^(?:{BYLINE_PHRASES}|(?:{'|'.join(BYLINE_PREFIXES)})(?:\s*:\s*|\s+)|{CJK_PREFIX}|"
                           rf"(?:{'|'.join(SHORT_BYLINE_PREFIXES)})(?:\s*:\s*|\s+)(?=\S+\s+\S))", re.IGNORECASE)
# A CJK byline's role after the name (송유민 기자, 王小明 记者, 田中太郎 特派員)
CJK_ROLE_SUFFIX = re.compile(r"\s*(?:기자|특파원|객원기자|记者|記者|特派员|特派員|通讯员|編集委員)$")
CJK_LABELLED = re.compile(r"^(?:本报记者|记者|記者|作者|著者|撰文|文)\s*[\s/／:：]\s*")
CJK_NAME = re.compile(r"^[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af·・]{2,6}$")  # a name of one unspaced word
# "A, B, and C": the serial comma goes with its conjunction
AUTHOR_SPLIT = re.compile(r"\s*(?:,?\s+(?:et|and|und|и|y|e|avec|with|mit)\s+|[;,&|/•·、，،]|\s[-–—@]\s)\s*",
                          re.IGNORECASE)
PARENTHESES = re.compile(r"\(([^()]*)\)")
MARKS = re.compile(r"[®™©]")  # a brand's marks in a byline ("RECEITA PARA A BIMBY ®")
MARKUP = re.compile(r"<[^<>]*>")  # a tag's markup in an author meta (techcrunch.com's sailthru.author: a link)
AGENCY_NAMES: dict[str, tuple[str, ...]] = {
    "AFP": ("AFP", "Agence France-Presse", "Agence France Presse"), "Reuters": ("Reuters",),
    "AP": ("AP", "Associated Press", "The Associated Press"), "dpa": ("dpa", "Deutsche Presse-Agentur"),
    "EFE": ("EFE", "Agencia EFE"), "ANSA": ("ANSA",), "Xinhua": ("Xinhua", "Xinhua News Agency"),
    "TASS": ("TASS",), "ТАСС": ("ТАСС",), "RIA Novosti": ("RIA Novosti",), "РИА Новости": ("РИА Новости",),
    "Interfax": ("Interfax",), "Интерфакс": ("Интерфакс",), "Bloomberg": ("Bloomberg",), "PA": ("PA", "PA Media"),
    "KNA": ("KNA",), "epd": ("epd",), "APA": ("APA",), "SDA": ("SDA", "Keystone-SDA", "ats", "Keystone-ATS"),
    "Belga": ("Belga",), "ANP": ("ANP",), "PAP": ("PAP",), "Kyodo": ("Kyodo", "Kyodo News"),
    "Yonhap": ("Yonhap", "Yonhap News Agency"), "UPI": ("UPI",), "AAP": ("AAP",),
    "Anadolu": ("Anadolu", "AA", "Anadolu Agency", "Anadolu Ajansı"), "Ukrinform": ("Ukrinform",),
    "Relaxnews": ("Relaxnews",), "CP": ("The Canadian Press", "Canadian Press"),
    "PTI": ("PTI", "Press Trust of India"), "IANS": ("IANS",), "ANI": ("Asian News International",),
    "Bernama": ("Bernama",), "Antara": ("Antara",), "Europa Press": ("Europa Press",),
    "Lusa": ("Lusa", "Agência Lusa"), "AGI": ("AGI",), "Adnkronos": ("Adnkronos",), "ČTK": ("ČTK", "CTK"),
    "MTI": ("MTI",), "NTB": ("NTB",), "Ritzau": ("Ritzau",), "STT": ("STT",), "HINA": ("HINA",),
    "Notimex": ("Notimex",), "Télam": ("Télam",), "IRNA": ("IRNA",),
}
AGENCIES = {name.casefold(): label for label, names in AGENCY_NAMES.items() for name in names}
# An agency named after a writer's name, spelt as the agency spells itself or in capitals
# ("Narayana Kocherlakota Bloomberg", "John Smith REUTERS"): not a word of the name.
AGENCY_SPELLINGS = {spelt: label for label, names in AGENCY_NAMES.items() for name in names
                    for spelt in (name, name.upper())}
# A byline with one of these words names a desk, a role or an organisation, not a person.
# A byline of one of these words names the publisher's own desk ("Redaktion", "Staff Writer",
# "ZDNet Japan Staff"): kept as the byline when no person is named, as the page credits it.
INSTITUTION_WORDS = frozenset((
    "redaktion", "rédaction", "redaction", "redactie", "redacción", "redazione", "redakcja", "redação", "redakce",
    "redaksjon", "redaktionen", "staff", "editorial", "editors", "newsroom", "desk", "team", "редакция",
    "編集部", "编辑部", "편집부", "verslaggever", "verslaggevers",  # "Van onze verslaggever"
))
NOT_PERSON_WORDS = frozenset((
    "redaktion", "rédaction", "redaction", "staff", "editorial", "editors", "newsroom", "desk", "team", "admin",
    "administrator", "wordpressadmin", "anonymous", "unknown", "редакция", "correspondent", "reporter", "journalist",
    "xxx", "n/a", "null", "none", "undefined", "email", "e-mail",  # placeholders ("name, email@gmail.com")
    "未知", "佚名", "匿名",  # Chinese: "unknown", "anonymous"
    # buttons beside a name: follow, subscribe, share, copy link
    "关注", "關注", "订阅", "訂閱", "分享", "复制链接", "複製連結",
    "writer", "correspondant", "correspondante", "journaliste", "envoyé", "envoyée", "rédacteur", "rédactrice",
    "verslaggever", "verslaggevers",
    "korrespondent", "korrespondentin", "redakteur", "redakteurin", "корреспондент", "редактор", "обозреватель",
    "text", "texte", "interview", "foto", "photo", "fotos", "photos", "datum", "date", "artikel", "article",
    "e.v.", "e.v", "gmbh", "ag", "kg", "inc.", "inc", "ltd.", "ltd", "llc", "publisher", "editor", "webmaster",
    "verlag", "herausgeber", "contributor", "contributors", "guest", "media", "group", "gruppe", "network",
    # "News" in a byline is a desk or a section (a JSON-LD Person named "חדשות", "Fox News")
    "news", "nachrichten", "actualités", "noticias", "notizie", "nieuws", "notícias", "wiadomości", "новости",
    "haberler", "חדשות", "أخبار", "ニュース", "新闻", "新聞", "뉴스",
    # labels of a byline box that extractors take for its name ("Submitted on …", "Lesedauer: 3 Minuten")
    "submitted", "posted", "published", "updated", "lesedauer", "veröffentlicht", "aktualisiert", "publié", "publiée",
    "publicado", "actualizado", "pubblicato", "aggiornato", "gepubliceerd", "bijgewerkt",
    # an editor's credit, not the writer's (ISNA's "دبیر", the desk editor who published the piece)
    "دبیر", "ویراستار", "محرر", "संपादक", "责任编辑", "責任編輯",
))
# The languages whose month names open htmldate's slow search of a date line (_month_words)
MONTH_LANGUAGES = ("en", "fr", "de", "es", "it", "pt", "nl", "pl", "sv", "da", "nb", "fi", "cs", "tr", "ru", "uk",
                   "el", "hu", "ro", "bg", "hr", "sr", "sk", "sl", "lt", "lv", "et", "ca", "id", "ms", "vi", "ar",
                   "fa", "he", "hi", "bn", "ur", "ml", "ta", "te", "mr", "gu", "kn", "pa", "ne", "si", "my",
                   "km", "hy", "ka", "az", "kk", "uz", "sw", "tl", "th", "ko", "ja", "zh")
LETTERS = re.compile(r"[^\W\d_]+")
MONTH_KEYS = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
              "november", "december")  # dateparser's names of its locales' month entries
WEEKDAY_LANGUAGES = ("en", "fr", "de", "es", "it", "pt", "nl", "pl", "sv", "da", "nb", "fi", "cs", "tr", "ru")
NAME_PARTICLES = frozenset(("de", "da", "di", "du", "des", "del", "della", "van", "von", "der", "den", "le", "la",
                            "ter", "ten", "al", "el", "bin", "ibn"))
MAX_NAME_WORDS = 5
# What a role under a writer's name says of it ("Sports reporter", "Contributing Reporter", "Senior Editor")
ROLE_KINDS = frozenset((
    "senior", "junior", "chief", "deputy", "associate", "assistant", "managing", "executive", "contributing", "staff",
    "special", "freelance", "lead", "head", "general", "political", "politics", "sports", "sport", "business",
    "finance", "financial", "markets", "tech", "technology", "science", "health", "climate", "environment",
    "culture", "arts", "entertainment", "music", "film", "travel", "food", "education", "legal", "crime", "data",
    "digital", "video", "photo", "features", "opinion", "foreign", "national", "international", "local", "world",
    "investigative", "breaking", "news", "weekend", "global", "economics", "economy",
))
MIN_USER_NAME = 4  # letters of a one-word user name that a blog's name may open with ("mywakenews")
# A writer's profile address in an author tag ("https://www.engadget.com/editors/jon-fingas"): the
# folder that holds the site's writers, then the writer's name as a slug of two to four words
PROFILE_URL = re.compile(r"https?://[^/\s,]+/(?:[^\s,]*/)?(?:authors?|autor(?:en)?|auteurs?|editors?|profiles?|people|"
                         r"staff|journalists?|writers?|contributors?|columnists?|redakteure?)/"
                         r"([a-z]{2,}(?:[-_][a-z]{2,}){1,3})/?(?=$|[\s,?#])", re.IGNORECASE)
AUTHOR_META = ("article:author", "og:article:author", "author", "dc.creator", "parsely-author", "sailthru.author")
# One author a tag, often "Family, Given" (Highwire/Google Scholar tags of scholarly pages).
SCHOLARLY_AUTHOR_META = ("citation_author", "dcterms.creator")
# A visible line that opens with a date and then names the writer ("11.12.2019 - Amelie Loevenich",
# "06.11.2023 13:30 von Olga"): the date and its separator.
DATE_THEN_NAME = re.compile(r"^(?:\d{1,2}\.\s?\d{1,2}\.\s?\d{2,4}|\d{4}-\d{2}-\d{2}|\d{1,2}/\d{1,2}/\d{2,4})"
                            r"(?:,?\s+\d{1,2}[:.]\d{2}(?:\s*Uhr)?)?\s*(?:[-–|]|von|by)\s+", re.IGNORECASE)
# A byline's date after the name: the line from its first number on ("Por Mauricio Luna 1 de
# diciembre de 2017", "Author: Bo2man am 29.12.2010, 13:36 Uhr")
NUMBER_AFTER_NAME = re.compile(r"\s\d")
# A label naming the writer outright, before a colon ("Autor: Гаспадыня" is no phrase)
AUTHOR_LABEL = re.compile(r"^(?:author|autor|autorin|auteur|auteure|autore|автор|авторы|yazar|szerző|kirjoittaja|"
                          r"penulis|tác giả|συντάκτης|نویسنده|लेखक|作者|著者)\s*[:：]", re.IGNORECASE)
# What opens a page's labels and links, never a name: trafilatura's byline guess may take the
# "More from" over a writer's other articles ("More"), or a review's "in <category>" line
GUESS_NOT_NAME = frozenset(("in", "on", "at", "for", "from", "of", "to", "with", "about", "more", "read", "see",
                            "view", "share", "follow", "all", "latest", "related", "popular", "next", "previous",
                            "back", "print", "comments", "comment", "reply", "login", "log", "sign", "subscribe"))
# First words that open a phrase, not a name: "By The Numbers", "Von Der Leyen" aside (a particle).
NOT_NAME_START = frozenset(("the", "a", "an", "this", "these", "our", "my", "your", "all", "die", "das", "dem",
                            "ein", "eine", "einem", "einer", "les", "un", "une", "el", "los", "las", "il", "una"))
HOST = re.compile(r"(?:www\.)?([\w-]+(?:\.[\w-]+)+)")
URL_LIKE = re.compile(r"https?:|//|[\w.-]+\.[a-z]{2,24}/", re.IGNORECASE)  # a profile's address, "facebook.com/x"
DOMAIN_LIKE = re.compile(r"\w\.[a-z]{2,24}$", re.IGNORECASE)  # "LAOLA1.at": a site, not a user name
NOT_ALNUM = re.compile(r"[\W_]+")
SITE_NAME_PARTS = re.compile(r"\s+[/|–—-]\s+")
# A copyright notice's end after the site's name, as extractors take it for the name ("网易版权所有", NetEase's)
ALL_RIGHTS_RESERVED = re.compile(r"\s*(?:版权所有|版權所有|all rights reserved)\W*$", re.IGNORECASE)
TITLE_SEPARATOR_CHARS = "|–—:·•›»‹«~⁄*⋆-"
TITLE_SEPARATORS = rf"[{TITLE_SEPARATOR_CHARS}]{{1,2}}"  # between a headline and what a page adds to it ("--", "›" too)
# What follows a headline that a title candidate extends ("Headline | Site", "見出し：朝日新聞",
# "标题-新华网", "标题_科技_腾讯网"): a separator between spaces, or, written without spaces,
# CJK punctuation, an underscore, or (after a CJK headline) any separator.
HEADLINE_END = re.compile(rf"\s+{TITLE_SEPARATORS}(?:\s|$)|\s*[_：｜]")
CJK_HEADLINE_END = re.compile(rf"\s*{TITLE_SEPARATORS}")
SITE_DOMAIN = re.compile(r"(?:www\.)?([\w-]+)\.[a-z]{2,24}", re.IGNORECASE)  # "lastampa.it": its name, "lastampa"
LAST_SEGMENT = re.compile(rf"\s+{TITLE_SEPARATORS}\s+([^{TITLE_SEPARATOR_CHARS}]{{2,40}})$")  # "… - La Stampa"
FIRST_SEGMENT = re.compile(rf"^([^{TITLE_SEPARATOR_CHARS}]{{2,40}})\s+{TITLE_SEPARATORS}\s+")  # "BMAS - …"
KICKER_END = re.compile(r"^.{0,60}\w\s?[:：]\s*$")  # "Klimaschutz: " before a headline
# a section's name and a dash before a headline, shorter than it ("Autoconsumo - <headline> - Energías
# Renovables"); not a label and a bar, which some sites make part of the title ("Opinion | <headline>")
SECTION_BEFORE = re.compile(rf"^[^{TITLE_SEPARATOR_CHARS}]{{2,40}}\s+[-–—]\s+$")
CJK = re.compile(r"[\u2e80-\u9fff\uac00-\ud7af\uff00-\uffef]")
CJK_SITE_TAIL = re.compile(r"\s*[_\-–—|｜]\s*[^_\-–—|｜\s]{1,18}(?:网站|網站|官网|官網|网|網)\s*$")
MIN_SHARED_WORD = 4  # letters of a word an SEO title shares with the headline ("Rackspace"; not "the")
MIN_CJK_HEADLINE = 6  # characters of a headline left before a site's name is cut off
CJK_SECTION_TAIL = re.compile(r"\s*_\s*[\u4e00-\u9fff]{2,6}\s*$")
SURROGATE = re.compile("[\ud800-\udfff]")
QUOTES = str.maketrans("’‘‛‚„“”«»", "''''" + '"' * 5)

# -- language ---------------------------------------------------------------------------
CONFIDENT = 0.9  # detector probability above which the text's language wins over any declaration
PLAUSIBLE = 0.05  # a declared language with at least this probability is kept when detection is unsure
# Languages a detector tells apart by a few words: the page's own declaration names which it is.
CLOSE_LANGUAGES = {code: group for group in (frozenset(("id", "ms")), frozenset(("hr", "sr", "bs")),
                                             frozenset(("no", "nb", "nn", "da")), frozenset(("cs", "sk")),
                                             frozenset(("gl", "pt"))) for code in group}
# Characters of the text the language detector reads: it walks every byte in Python, and the
# start of an article this long decides as the whole would (docs/benchmarks.md).
LANGUAGE_SAMPLE = 2000

COUNT_SUFFIX = re.compile(r"\s*\(\d[\d\s.,]*(?:\s+\w+)?\)\s*$")  # "Joe Biden (233)", "2020 Election (611 posts)"
# Tag metas: article:tag, taz:tag, parsely-tags, sailthru.tags (not a video's og:video:tag).
TAG_META = re.compile(r"(?:^|[:._-])tags?$")
KEYWORD_SPLIT = re.compile(r"[,;，；、]")  # between the values of a <meta name="keywords"> list
MACHINE_TOKEN = re.compile(r"[\w-]+[_:][\w:-]+")  # one word joined by "_" or ":"


class ParsedDate(NamedTuple):
    """A date as an instant in UTC, its precision, and as the source states it (ISO 8601)."""

    at: datetime  # UTC; a date-only value is that day at 00:00 UTC
    precision: str  # 'second' | 'day'
    local: str  # "2022-05-03T22:46:08-03:00" (the source's offset, else the zone it was read in) or "2022-05-03"
    zoned: bool = True  # False: a time of day the source gave without offset, read in an assumed zone


def parse_date(value: str | None, tz: str, not_after: datetime, dayfirst: bool = False) -> ParsedDate | None:
    """A date string as a ParsedDate, or None when it cannot be parsed, names no year or no
    day (a reference's "2019", an issue's "March 2019"), or lies after the fetch. A time
    without offset is in ``tz``; a date-only value is kept as that day, whatever the zone.
    ``dayfirst``: an ambiguous numeric date (01-11-2023, 01/11/2023) is read day first, as
    on pages of most of the world (see numeric_day_first); dotted dates (16.10.2019) always are.
    A Solar Hijri date is read in the Gregorian calendar (gregorian)."""
    if not value or not isinstance(value, str):
        return None
    value = SHORT_OFFSET.sub(_full_offset, gregorian(value.strip()))
    if EPOCH.fullmatch(value):  # Unix time ("1714076350", in milliseconds "1714076350000"): an instant
        at = datetime.fromtimestamp(int(value[:10]), UTC)
        return ParsedDate(at, "second", at.isoformat()) if at <= not_after + CLOCK_SKEW else None
    try:  # ISO 8601, the form of nearly every meta and JSON-LD date, basic (20180619T055000+0900) included
        parsed, has_time = datetime.fromisoformat(value), bool(ISO_TIME.search(value))
    except ValueError:
        parsed, has_time = None, bool(HAS_TIME.search(value))
    if parsed is None and not HAS_YEAR.search(value):
        return None
    read = partial(dateparser.parse, value, tzinfos=TZINFOS,
                   dayfirst=bool(DAY_FIRST.match(value) or (dayfirst and NUMERIC_DATE.match(value))))
    try:
        if parsed is None:
            parsed = read(default=DEFAULTS[0])
            # dateutil fills a missing month or day from its default: "2019" or "March 2019"
            # (a reference's year, an issue's month) names no day, and is no publication date.
            if (parsed.month == 1 or parsed.day == 1) and read(default=DEFAULTS[1]).date() != parsed.date():
                return None
    except (ValueError, OverflowError, TypeError, dateparser.ParserError):
        return None
    if has_time:
        local = parsed.replace(tzinfo=ZoneInfo(tz)) if parsed.tzinfo is None else parsed
        result = ParsedDate(local.astimezone(UTC), "second", local.replace(microsecond=0).isoformat(),
                            parsed.tzinfo is not None)
    else:
        result = ParsedDate(datetime(parsed.year, parsed.month, parsed.day, tzinfo=UTC), "day",
                            parsed.date().isoformat())
    if result.at > not_after + CLOCK_SKEW or parsed.year < MIN_DATE.year:
        return None
    return result


def _full_offset(match: re.Match[str]) -> str:
    return f"{match[1]}{match[2]}{int(match[3]):02d}:{match[4]}"


SLASHED_DAY = re.compile(r"\b(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})\b")
SPACED_DOTTED_DAY = re.compile(r"\b(\d{1,2})\.\s+(\d{1,2})\.\s+(\d{4})\b")
DASH_BEFORE_TIME = re.compile(r"\s+[—–]\s+(?=\d{1,2}[:.h]\d\d)")  # "June 14, 2017 — 12:39 PM EDT" (philly.com)


def gregorian(value: str) -> str:
    """A date of the Solar Hijri calendar (SOLAR_HIJRI) as ISO 8601 in the Gregorian one
    ("۱۳۹۶/۰۲/۲۸ - ۲۲:۵۷" is "2017-05-18T22:57"); any other value as it is, its digits in ASCII
    (DECIMAL_DIGITS), a dash before the time as a space (DASH_BEFORE_TIME), a dotted day with
    spaces written without them ("10. 4. 2011", as Czech, Slovak and German pages print it,
    which htmldate's parser reads month first), an offset from GMT or UTC as ISO 8601's ("18:13
    GMT+8" is "18:13+08:00": GMT_OFFSET), an Arabic month's name as dateparser knows it
    (ARABIC_MONTHS: "آب/أغسطس", "جويلية") and, in Thai, its years of the Buddhist era in the
    Common one (BUDDHIST_YEAR)."""
    value = DASH_BEFORE_TIME.sub(" ", SPACED_DOTTED_DAY.sub(r"\1.\2.\3", value.translate(DECIMAL_DIGITS)))
    if "GMT" in value or "UTC" in value:
        value = GMT_OFFSET.sub(_iso_offset, value)
    if ARABIC_LETTER.search(value):
        value = ARABIC_MONTH.sub(lambda found: _ARABIC_MONTH_OF[found[1]], value)
    if THAI.search(value):
        value = BUDDHIST_YEAR.sub(lambda year: str(int(year[0]) - BUDDHIST_ERA), BUDDHIST_ERA_MARK.sub("", value))
    if not (found := SOLAR_HIJRI.match(value)):
        return value
    try:
        day = jdatetime.date(int(found[1]), int(found[2]), int(found[3])).togregorian()
    except ValueError:  # no such day ("1396/13/40")
        return value
    return f"{day.isoformat()}T{found[4]}" if found[4] else day.isoformat()


def _iso_offset(found: re.Match[str]) -> str:
    return f"{'-' if found[1] in '-−' else '+'}{int(found[2]):02d}:{found[3] or '00'}"


def solar_hijri_day(line: str) -> str | None:
    """The day a line states in the Solar Hijri calendar, with the month's name ("پنجشنبه ۲۸
    ارديبهشت ۱۳۹۶"), as an ISO 8601 Gregorian date, or None."""
    if not (found := SOLAR_HIJRI_DAY.search(line.translate(DECIMAL_DIGITS).translate(PERSIAN_LETTERS))):
        return None
    return gregorian(f"{found[3]}/{SOLAR_HIJRI_MONTHS[found[2]]}/{found[1]}")


def lead_dateline(text: str) -> list[tuple[str, int]]:
    """The date that opens one of the text's first paragraphs (LEAD_DATELINE), as a date
    line of the article's body (HEADER_RANK), or none."""
    for paragraph in text.split("\n\n", LEAD_PARAGRAPHS)[:LEAD_PARAGRAPHS]:
        if found := LEAD_DATELINE.match(paragraph):
            return [(found[1], HEADER_RANK)]
    return []


def date_evidence(ex: dict[str, Any], ctx: dict[str, Any], date_lines: list[tuple[str, int]]) -> list[dict[str, str]]:
    """Every date candidate as (source, raw value): the page's own in order of trust for
    the publication date, then the discovery hints, then modification dates and HTTP."""
    signals, meta, ld = ex["signals"], ex["signals"]["meta"], ex["signals"]["jsonld"]
    hints = ctx.get("hints") or {}
    candidates = [("jsonld:datePublished", ld.get("datePublished")),
                  *[(f"meta:{key}", v) for key in PUBLISHED_META
                    if len(set(meta.get(key, []))) <= MAX_OWN_DATES for v in meta.get(key, [])],
                  *[("time", v) for v in signals.get("times", [])],
                  # htmldate's 1 January of the page's copyright year: the notice's, not the article's
                  ("htmldate:copyright_year" if (found := ex.get("date") or "").endswith("-01-01")
                   and found[:4] in signals.get("copyright_years", []) else "htmldate", ex.get("date")),
                  *[("dateline", line) for line, rank in date_lines if rank <= HEADER_RANK],
                  *[(key, hints.get(key)) for key in HINT_PUBLISHED],
                  ("jsonld:dateModified", ld.get("dateModified")),
                  *[(f"meta:{key}", v) for key in MODIFIED_META for v in meta.get(key, [])],
                  *[(key, hints.get(key)) for key in HINT_CHANGED],
                  ("http:last-modified", ctx.get("last_modified"))]
    out: list[dict[str, str]] = []
    for source, value in candidates:
        if isinstance(value, str) and value.strip() and {"source": source, "value": value.strip()} not in out:
            out.append({"source": source, "value": value.strip()})
    return out


_MODIFIED_SOURCES = frozenset(["jsonld:dateModified", *[f"meta:{key}" for key in MODIFIED_META]])
_PUBLISHED_SOURCES = frozenset(["jsonld:datePublished", *[f"meta:{key}" for key in PUBLISHED_META], "time",
                                "htmldate", *HINT_PUBLISHED])


def choose_dates(evidence: list[dict[str, str]], tz: str, fetched_at: datetime, dayfirst: bool = False,
                 date_lines: list[tuple[str, int]] | None = None
                 ) -> tuple[ParsedDate | None, str | None, ParsedDate | None]:
    """(published, its source kind, modified) from the evidence, the first usable candidate
    of each in order of trust, except that a publication date from a tag which htmldate's
    search of the whole page (URL, header, text) puts more than a day away, and which no
    source of another kind confirms, gives way to the first candidate that agrees with
    htmldate (a meta or JSON-LD stamped by a later edit); a <time> the page shows stands,
    unless the date line in the article's header agrees with htmldate against it (a news
    ticker's <time>s, rt.com).
    When another candidate states the same instant in the publisher's own offset (a meta
    in UTC, a visible <time> at -04:00), that statement is kept as the local value: it
    holds the publisher's calendar day. The day a date line in the article's header states
    (line_day) stands against htmldate's alone, and gives the day when no source does. A
    publication date without time takes the one the article's ``date_lines`` give that day
    (timed)."""
    parsed_all = on_stated_clocks([(item["source"], parsed) for item in evidence
                                   if item["source"] in _PUBLISHED_SOURCES | _MODIFIED_SOURCES
                                   and (parsed := parse_date(item["value"], tz, fetched_at, dayfirst))])
    published = next(((p, s.split(":")[0]) for s, p in parsed_all if s in _PUBLISHED_SOURCES), None)
    if published is None and (shown := line_day(date_lines or [], fetched_at, dayfirst)):
        published = shown, "dateline"
    modified = next((p for s, p in parsed_all if s in _MODIFIED_SOURCES), None)

    def in_own_offset(chosen: ParsedDate | None) -> ParsedDate | None:
        if chosen is None or chosen.precision != "second" or not chosen.local.endswith("+00:00"):
            return chosen
        return next((p for _, p in parsed_all if p.at == chosen.at and p.precision == "second"
                     and not p.local.endswith("+00:00")), chosen)

    if published is None:
        return None, None, in_own_offset(modified)
    first, kind = published
    candidates = [(p, s.split(":")[0]) for s, p in parsed_all if s in _PUBLISHED_SOURCES]
    if first.precision == "day":  # a bare day ("2016-05-26" in a meta), and a <time> stating its time
        first, kind = next(((p, k) for p, k in candidates if p.precision == "second" and p.local[:10] == first.local),
                           (first, kind))
    elif modified is not None and first.at == modified.at:  # stamped by the last edit (pagina12.com.ar's JSON-LD)
        first, kind = next(((p, k) for p, k in candidates if p.precision == "second" and p.at < first.at
                            and _near(p, first)), (first, kind))
    htmldate = next((p for p, k in candidates if k == "htmldate"), None)
    if htmldate is not None and kind != "time" and not _near(first, htmldate) and not any(
            _near(first, p) for p, k in candidates if k not in (kind, "htmldate")):
        first, kind = next((p, k) for p, k in candidates if _near(p, htmldate))
    lines = [line for line, _ in date_lines or []]
    # the date line is read only when it may change the choice (reading one costs up to milliseconds)
    against_time = kind == "time" and htmldate is not None and not _near(first, htmldate)
    if (kind == "htmldate" or against_time) and (shown := line_day(date_lines or [], fetched_at, dayfirst)) and (
            shown.local != first.local if kind == "htmldate" else htmldate is not None and _near(shown, htmldate)):
        first, kind = shown, "dateline"  # against htmldate alone; or a <time> of another story (a ticker's)
    return in_own_offset(timed(first, lines, tz)), kind, in_own_offset(modified)


def on_stated_clocks(dated: list[tuple[str, ParsedDate]]) -> list[tuple[str, ParsedDate]]:
    """Each time given without offset that is the instant of a time given with one, on another
    clock (bostonherald.com's <time> "16:56:18" beside its JSON-LD "21:56:18Z"; observer.com's
    sailthru.date "17:19:12" beside "22:19:12+00:00"), read at that offset: the publisher's
    wall clock, not another time. Same minute and second (the minute when one has no
    seconds), a whole number of quarter hours (MAX_OFFSET at most) apart; the nearest clock
    when several are."""
    zoned = [p.at for _, p in dated if p.precision == "second" and p.zoned]
    out = []
    for source, p in dated:
        if p.precision == "second" and not p.zoned and p.at not in zoned:
            wall = datetime.fromisoformat(p.local).replace(tzinfo=UTC)
            offsets = [wall - at if wall.second and at.second else wall.replace(second=0) - at.replace(second=0)
                       for at in zoned]
            if offsets := [o for o in offsets if abs(o) <= MAX_OFFSET and not o % QUARTER_HOUR]:
                stated = wall.replace(tzinfo=timezone(min(offsets, key=abs)))
                p = ParsedDate(stated.astimezone(UTC), "second", stated.isoformat())
        out.append((source, p))
    return out


def line_day(date_lines: list[tuple[str, int]], not_after: datetime, dayfirst: bool = True) -> ParsedDate | None:
    """The day the first date line in the article's header or body (HEADER_RANK) states before
    any update's label, read by htmldate's parser of date expressions (in many languages;
    from the line's first digit when a label in another script opens it: "Опубликовано: 5
    марта 2021", "نشر في: 18 مايو 2023", which it reads only without). That parser reads a
    numeric date day first: on a page that writes the month first (numeric_day_first),
    "10/9/10" is given to it as 2010-10-09."""
    latest = not_after.replace(tzinfo=None)
    for whole, rank in date_lines:
        line, *update = UPDATE_LABEL.split(whole, 1)
        if update:  # an update's label may open with a word ("Last updated", "آخر تحديث"): no part of the day
            line = AFTER_LAST_DIGIT.sub("", line)
        if rank > HEADER_RANK or not line.strip():
            continue
        day: str | None
        if found := CJK_DAY.search(line):
            day = f"{found[1]}-{int(found[2]):02d}-{int(found[3]):02d}"
        elif not (day := solar_hijri_day(line)):
            text = gregorian(line) if dayfirst else SLASHED_DAY.sub(_month_first, gregorian(line), 1)
            # the day only: a clock's zone name ("7:15 AM EDT") is left to timed (dateutil warns of the names it lacks)
            text = ZONE_NAME.sub(" ", text)
            extensive = _names_a_month(text)  # for htmldate's slow search (dateparser, every language it has)
            day = try_date_expr(text, "%Y-%m-%d", extensive, MIN_DATE, latest)
            if not day and (digit := FIRST_DIGIT.search(text)) and digit.start():
                day = try_date_expr(text[digit.start():], "%Y-%m-%d", extensive, MIN_DATE, latest)
        if day:
            return parse_date(day, "UTC", not_after)
    return None


def _month_first(found: re.Match[str]) -> str:
    """A numeric date month first ("10/9/10", "2/13/2010") as ISO 8601 (a two-digit year in
    this century up to the current one's, else the last)."""
    month, day, year = int(found[1]), int(found[2]), int(found[3])
    if len(found[3]) == 2:
        year += 2000 if year <= datetime.now(UTC).year % 100 else 1900
    return f"{year:04d}-{month:02d}-{day:02d}" if month <= 12 else found[0]


def timed(day: ParsedDate, date_lines: list[str], tz: str) -> ParsedDate:
    """A publication day with the time of day the article's date line gives it ("Publié le
    07 mai 2019 à 13h59", "2023. 2. 5. 11:40", "19.2.2020 klo 14.00"), on the clock the line
    names after it ("2:30 PM ET", TZINFOS; an ISO offset, "20:30:39+00:00"), else on the
    page's clock ``tz``; else the day.
    The line must name the day before its time (the year and the day, and the month when it
    is written in numbers), so that an update's time ("Mis à jour le 08 mai … 09h03") is
    not taken for the publication's. Hand-written: htmldate, which finds these lines in
    any language, returns the day alone, and a multilingual date parser costs more CPU per
    line than the whole normalisation of a page."""
    if day.precision != "day":
        return day
    when = date.fromisoformat(day.local)
    for line in map(gregorian, date_lines):
        line = DOTTED_CLOCK.sub(lambda m: f"{m[1] or m[3]}:{m[2] or m[4]}", line)
        if not (clock := CLOCK.search(line)):
            continue
        numbers = [int(n) for n in NUMBER.findall(line[:clock.start()])]
        if when.year in numbers and when.day in numbers and (len(numbers) < 3 or when.month in numbers):
            hour = int(clock[1]) % 12 + 12 if (clock[3] or "").lower() == "p" else int(clock[1])
            hour = 0 if (clock[3] or "").lower() == "a" and hour == 12 else hour
            if named := ZONE_AFTER.match(line, clock.end()):
                zone: tzinfo = TZINFOS[named[1]]
            elif IST_AFTER.match(line, clock.end()):
                zone = ZoneInfo(tz if tz in IST_ZONES else IST_ZONES[0])
            elif offset := ISO_OFFSET_AFTER.match(line, clock.end()):  # "2016-04-08T20:30:39+00:00"
                zone = datetime.strptime(offset[1], "%z").tzinfo or UTC
            else:
                zone = ZoneInfo(tz)
            local = datetime(when.year, when.month, when.day, hour, int(clock[2]), tzinfo=zone)
            return ParsedDate(local.astimezone(UTC), "second", local.isoformat())
    return day


def _near(a: ParsedDate, b: ParsedDate) -> bool:
    """Whether two dates are at most a day apart, by the publisher's calendar days."""
    return abs(date.fromisoformat(a.local[:10]) - date.fromisoformat(b.local[:10])) <= ONE_DAY


def publisher_day(at: datetime | None, local: str | None) -> date | None:
    """The publisher's calendar day of a date column pair (published_at, published_at_local):
    the local value's day, else (rows written before it existed) the UTC day."""
    if local:
        return date.fromisoformat(local[:10])
    return at.date() if at is not None else None


def numeric_day_first(language: str | None, host: str, region: str | None = None) -> bool:
    """Whether an ambiguous numeric date (01-11-2023) on this page (of the site ``host``,
    its locale's ``region``) is day first: on every page but an English one outside the
    English-speaking countries that write day first (by the domain, else the locale: en-GB)."""
    if language != "en":
        return True
    country = {"GB": "uk"}.get(region or "", (region or "").lower())
    return host.rsplit(".", 1)[-1] in DAY_FIRST_ENGLISH_TLDS or country in DAY_FIRST_ENGLISH_TLDS


def site_host(signals: dict[str, Any], url: str) -> str:
    """The publisher's host: the page's canonical link or og:url, trusted or not as the
    article's identity (canonical_url), as they name the site when the page was served from
    elsewhere (an archive, a mirror); else the address's."""
    for candidate in (signals.get("canonical"), _first(signals["meta"].get("og:url")), url):
        with contextlib.suppress(ValueError):  # "http://[broken"
            if candidate and (host := urlsplit(candidate.strip()).hostname):
                return host
    return ""


@cache
def _known_zones() -> set[str]:
    return available_timezones()  # reads the zone database's directory: once


@cache
def _territory_zone(territory: str) -> str | None:
    """The time zone of a country whose clocks mostly agree: its primary zone (PRIMARY_ZONES),
    else the first of the zones sharing the UTC offsets (January, July) of more than half of
    its zones (Argentina's twelve zones keep one clock; none for the United States or Russia)."""
    if not (len(territory) == 2 and territory.isalpha()):
        return None  # a region ("001", the world, of Esperanto), not a country
    if territory in PRIMARY_ZONES:
        return PRIMARY_ZONES[territory]
    zones = [zone for zone in get_global("territory_zones").get(territory, []) if zone in _known_zones()]

    def offsets(zone: str) -> tuple[timedelta | None, ...]:
        return tuple(datetime(2024, month, 1, tzinfo=ZoneInfo(zone)).utcoffset() for month in (1, 7))

    by_offsets: dict[tuple[timedelta | None, ...], list[str]] = {}
    for zone in zones:  # CLDR's "Etc/Unknown" (territory ZZ) and zones this system lacks left out
        by_offsets.setdefault(offsets(zone), []).append(zone)
    majority = max(by_offsets.values(), key=len, default=[])
    return majority[0] if 2 * len(majority) > len(zones) else None


def page_zone(host: str, language: str | None, configured: str, region: str | None = None) -> str:
    """The zone a time the page gives without an offset is in: its country's, by the
    country-code domain, else by the region its locale declares ("es-AR", "en_IN"; none
    for "en-US", whose country has several zones), whatever the dossier's zone; else the
    dossier's zone, unless that is the default UTC, which names no place: then the country
    the page's language is mostly written in (babel's likely subtags: ja -> JP, zh -> CN,
    uk -> UA; none for en or pt, whose main country has several zones and no primary one)."""
    tld = host.rsplit(".", 1)[-1].lower()
    if (len(tld) == 2 and tld.isalpha() and tld not in GENERIC_CCTLDS
            and (zone := _territory_zone(COUNTRY_OF_TLD.get(tld, tld.upper())))):
        return zone
    if region and (zone := _territory_zone(region)):
        return zone
    if configured != "UTC" or not language:
        return configured
    likely: str = get_global("likely_subtags").get(language, "")  # "ja_Jpan_JP"
    return (_territory_zone(likely.rsplit("_", 1)[-1]) if likely else None) or configured


def _squash(text: str) -> str:
    """Letters and digits only, case-folded (NOT_ALNUM is what str.isalnum refuses)."""
    return NOT_ALNUM.sub("", text.casefold())


def _domain_names(sites: set[str]) -> set[str]:
    """The names of the sites given as a domain ("www.lastampa.it" is "lastampa"), squashed."""
    return {_squash(found[1]) for site in sites if (found := SITE_DOMAIN.fullmatch(site.strip()))}


def _is_site(name: str, sites: set[str]) -> bool:
    """The site's name, alone or as the first words of it ("The Local" of "The Local Sweden",
    not "Matthew Davis" of "Matthew Davis's Blog")."""
    folded, squashed = name.casefold(), _squash(name)
    return any(squashed == _squash(s) or s.startswith(folded + " ") for s in sites)


def _without_role(words: list[str], sites: set[str]) -> list[str]:
    """A name run together with the role under it: the site's role label ("Adam Aaronson
    PhillyVoice Staff", "Jane Doe Le Monde Correspondent") or a role with its kind ("Jonathan
    Harding Sports reporter", "Lawrence Bonk Contributing Reporter"): the words before it,
    two at least. Without the site's name or a kind before it, a role word makes the whole a
    desk ("ZDNet Japan Staff")."""
    end = len(words)
    while end > 2 and words[end - 1].casefold() in NOT_PERSON_WORDS:
        end -= 1
    if end < len(words):
        for start in range(2, end):
            if _is_site(" ".join(words[start:end]), sites):
                return words[:start]
        kinds = end
        while kinds > 2 and words[kinds - 1].casefold() in ROLE_KINDS:
            kinds -= 1
        if kinds < end:
            return words[:kinds]
    return words


def _person(part: str, alone: bool, sites: set[str]) -> str | None:
    """The part of a byline as a person's name, or None. Not the site ("The Local" on "The
    Local Sweden"). A lone part may be a user name ("jesusfreak", "Bo2man"); among several,
    a part must look like a name (a capital or a particle first: not "envoyé spécial à Moscou")."""
    words = _without_role(part.split(), sites)
    if len(words) % 2 == 0 and words[: len(words) // 2] == words[len(words) // 2 :]:
        words = words[: len(words) // 2]  # "jesusfreak jesusfreak": a link text and its image alt
    name = " ".join(words)
    if (not words or len(words) > MAX_NAME_WORDS or len(name) > 60 or _is_site(name, sites)
            or any(w in NOT_PERSON_WORDS for w in _word_parts(words)) or any(c in "@/:：" for c in name)
            or DOMAIN_LIKE.search(name)):
        return None
    if (alone and len(words) == 1) or CJK_NAME.match(name):
        return name if any(c.isalpha() for c in name) else None
    if len(words) == 1 or any(c.isdigit() for c in name):
        return None
    initial = words[0][:1]
    if not (initial.isupper() or initial.lower() == initial.upper() or words[0].casefold() in NAME_PARTICLES):
        return None  # a name starts with a capital, in the scripts that have them (not Hebrew, Arabic, Bengali …)
    return name.title() if name.isupper() else name


def _word_parts(words: list[str]) -> set[str]:
    """Words, lower case, and the parts of hyphenated ones ("JuraForum.de-Redaktion": a desk)."""
    return {part for word in words for part in (word.casefold(), *word.casefold().split("-"))}


def _given_name(word: str) -> bool:
    """One word written as a given name is: three letters or more, a capital and then small
    letters, in the scripts that have them ("Chungah"; not "PP", "iPhone", "i")."""
    return len(word) >= 3 and word.isalpha() and not word[0].islower() and not any(c.isupper() for c in word[1:])


def _agency_after_name(part: str) -> tuple[str, str] | None:
    """(the words, the agency) of an agency that ends a writer's name of two words or more
    (AGENCY_SPELLINGS), or None."""
    words = part.split()
    for count in (3, 2, 1):
        tail = " ".join(words[-count:])
        if len(words) - count >= 2 and tail in AGENCY_SPELLINGS:
            return tail, AGENCY_SPELLINGS[tail]
    return None


def _institution(part: str, sites: set[str]) -> str | None:
    """A byline part naming the publisher's desk ("Redaktion", "Staff Writer"), or a role at
    the site ("Jewish Business News Correspondent"), or None."""
    words = part.split()
    if (not words or len(words) > MAX_NAME_WORDS or _is_site(part, sites) or any(c in "@/:：" for c in part)
            or not (any(w in INSTITUTION_WORDS for w in _word_parts(words))
                    or (words[-1].casefold() in NOT_PERSON_WORDS and _is_site(" ".join(words[:-1]), sites)))):
        return None
    return part.title() if part.isupper() else part


def byline_parts(raw: list[str], site_names: set[str],
                 beside_site: bool = True) -> tuple[list[str], list[str], list[str]]:
    """(person names, desks, agencies) of bylines (see split_byline); ``beside_site``: a name
    beside the site's name stands alone (not in a guess, where one word may be a menu's)."""
    # a site's name, and each part of a name joined of two ("stol.it / Suedtirol Online")
    bare = [PARENTHESES.sub(" ", s) for s in site_names if s]
    sites = {" ".join(part.split()).casefold() for s in bare for part in [s, *SITE_NAME_PARTS.split(s),
                                                                         ALL_RIGHTS_RESERVED.sub("", s)]
             if part.strip()}
    # a site named by its host ("usatoday.com"), written out beside a writer ("Jefferson Graham, USA TODAY");
    # alone, it may be the writer's own ("wolfgangschmale.eu")
    hosts = _domain_names(site_names)
    people: list[str] = []
    desks: list[str] = []
    agencies: list[str] = []
    for value in raw:
        value = " ".join(MARKS.sub(" ", MARKUP.sub(" ", value)).split())
        if URL_LIKE.match(value):
            continue
        for inner in PARENTHESES.findall(value):
            if inner.strip().casefold() in AGENCIES:
                agencies.append(AGENCIES[inner.strip().casefold()])
        parts = [CJK_ROLE_SUFFIX.sub("", AUTHOR_PREFIX.sub("", p)).strip(" ·-–—:") for p in
                 AUTHOR_SPLIT.split(AUTHOR_PREFIX.sub("", PARENTHESES.sub(" ", value).strip()))]
        parts = [p for p in parts if p]
        # beside the site's name ("Chungah @ Damn Delicious", "Sue | My Korean Kitchen"), one word
        # written as a given name is (not "PP", "i" of "Mac & i")
        named = [p for p in parts if not (beside_site and (_is_site(p, sites) or _squash(p) in hosts))]
        for part in parts:
            if part.casefold() in AGENCIES:
                agencies.append(AGENCIES[part.casefold()])
                continue
            if after := _agency_after_name(part):
                part = part[:-len(after[0])].rstrip()
                agencies.append(after[1])
            if len(parts) > 1 and _squash(part) in hosts:
                continue
            elif name := _person(part, len(parts) == 1 or (named == [part] and _given_name(part)), sites):
                people.append(name)
            elif desk := _institution(part, sites):
                desks.append(desk)
    return dedupe(people), dedupe(desks), dedupe(agencies)


def split_byline(raw: list[str], site_names: set[str]) -> tuple[list[str], list[str]]:
    """(person names, agencies) of bylines such as "Par Jean Dupont et Marie Curie",
    "By AFP", "Иван Петров и Анна Смирнова (ТАСС)": prefixes, roles, site names, dates
    and URLs dropped, case-folded duplicates merged. A byline naming no person but the
    publisher's desk ("Redaktion", "Staff Writer") gives that desk as the name."""
    people, desks, agencies = byline_parts(raw, site_names)
    return people or desks, agencies


def clean_authors(raw: list[str], site_names: set[str]) -> list[str]:
    """Person names only (see split_byline)."""
    return split_byline(raw, site_names)[0]


def visible_authors(lines: list[str], site_names: set[str]) -> tuple[list[str], list[str]]:
    """(persons, agencies) of the first of the page's visible bylines (extract.visible_bylines)
    that names a person, without the date that may follow (_before_its_date). Stricter than a
    byline tag, as a line of text may be a phrase ("By The Way"): a name has two words at
    least, each with a capital first (or a particle, or in a script without capitals), and no
    article opens it. One word is a user name when the line says it is the writer's, with a
    label and a colon ("Autor: Гаспадыня") or a date beside it ("06.11.2023 13:30 von Olga",
    "Author: Bo2man am 29.12.2010"), and it is written as a name is (a capital, a digit or an
    underscore in it: not "von heute", nor "Autor: red", the desk); or when it names the site
    ("von zahlenzauberin" on the blog Zahlenzauberin, "von mywakenews" on Mywakenews's Blog):
    a blog's writer, whose user name the blog bears."""
    blogs = {_squash(site) for site in site_names if site}
    for line in lines:
        rest = DATE_THEN_NAME.sub("", line)
        if rest == line and not AUTHOR_PREFIX.match(line):
            continue  # a date line that names no one
        rest, dated = _before_its_date(rest)
        labelled = bool(AUTHOR_LABEL.match(rest))
        named, _, agencies = byline_parts([rest], site_names)
        people = [name for name in map(_without_weekday, named)
                  if (len(words := name.split()) >= 2 and words[0].casefold() not in NOT_NAME_START
                      and all(_capital(w) for w in words)
                      and (not CJK.search(name) or all(CJK_NAME.match(w) for w in words)))
                  or (len(words) == 1 and (labelled or dated or rest != line) and _user_name(name))
                  # a Chinese or Japanese name alone after its label and a separator ("记者 贺梨萍",
                  # "作者：山田太郎"; not "作者最新文章", the heading of the writer's other articles)
                  or (CJK_NAME.match(name) is not None and (label := CJK_LABELLED.match(rest)) is not None
                      and rest[label.end():].strip() == name)]
        if people:
            return people, agencies
        user = AUTHOR_PREFIX.sub("", rest).strip()
        if " " not in user and len(squashed := _squash(user)) >= MIN_USER_NAME and any(
                blog.startswith(squashed) for blog in blogs):
            return [user], []
    return [], []


def _before_its_date(line: str) -> tuple[str, bool]:
    """A byline line without the date after its name, and whether there was one: the line up to
    its first number, less the lower-case words ("on", "am", "le") and the month before it,
    a word of the name kept ("Por Mauricio Luna 1 de diciembre de 2017", "Author: Bo2man am
    29.12.2010, 13:36 Uhr", "By Nathan Willis March 25, 2015"; a month is a name's last word
    when two words stay: "Theresa May 12 June 2019")."""
    prefix = AUTHOR_PREFIX.match(line)
    start = prefix.end() if prefix else 0
    if not (found := NUMBER_AFTER_NAME.search(line, start)):
        return line, False
    words = line[start:found.start()].split()
    while len(words) > 1 and (words[-1][:1].islower()
                              or (len(words) > 2 and words[-1].strip(".,").casefold() in _month_words())):
        words.pop()
    return line[:start] + " ".join(words), True


def _user_name(word: str) -> bool:
    """Whether a word is written as a name or a user name is: a capital, a digit or an underscore in it."""
    return any(c.isupper() or c.isdigit() or c == "_" for c in word)


def _without_weekday(name: str) -> str:
    """A name from a byline line without the weekday its date opens with ("Bryan Walsh Tuesday,
    Aug. 17, 2010"), when two words stay ("Plácido Domingo" stays)."""
    words = name.split()
    if len(words) > 2 and words[-1].casefold() in _weekdays():
        return " ".join(words[:-1])
    return name


def _names_a_month(text: str) -> bool:
    """Whether a line names a month (_month_words): a word, or the end of one after up to
    three letters of a prefix (Hebrew's "במרץ", in March), dots aside (Thai's "ธ.ค.")."""
    words = _month_words()
    return any(token[start:] in words for token in
               (t.casefold().strip(",:;()").replace(".", "") for t in [*text.split(), *LETTERS.findall(text)])
               for start in range(min(3, max(len(token) - 2, 0)) + 1))


@cache
def _month_words() -> frozenset[str]:
    """The months' names, case-folded and without dots, that dateparser knows in the languages
    of MONTH_LANGUAGES (its own data, which its slow search loads anyway): what a date line must
    name for htmldate's slow search. A line of no date ("Veröffentlicht am: 6. hat 2009") costs
    that search tens of milliseconds, each language dateparser has tried in turn."""
    return frozenset(word.casefold().replace(".", "") for code in MONTH_LANGUAGES
                     for month in MONTH_KEYS for word in default_loader.get_locale(code).info.get(month, []))


@cache
def _weekdays() -> frozenset[str]:
    """The weekdays' full names in the languages of the furniture rules (babel's CLDR data)."""
    return frozenset(day.casefold() for code in WEEKDAY_LANGUAGES for context in ("format", "stand-alone")
                     for day in Locale.parse(code).days[context]["wide"].values())


def _capital(word: str) -> bool:
    """Whether a word may stand in a name: a capital first, a particle ("van"), or a script without capitals."""
    return word[:1].isupper() or word[:1].lower() == word[:1].upper() or word in NAME_PARTICLES


def _phrase(name: str) -> bool:
    """Whether a "name" is written as a phrase is, in sentence case: a capital first and a
    lower-case word after ("Китайские куриные рулетики", a recipe's title that a byline
    heuristic took). A user name in lower case ("zahlenzauberin") is not one."""
    words = name.split()
    return bool(words) and words[0][:1].isupper() and not all(_capital(w) for w in words[1:])


def _given_first(name: str) -> str:
    """"Curie, Marie" as "Marie Curie": a scholarly tag names one author, family name first."""
    family, comma, given = name.partition(",")
    return f"{given.strip()} {family.strip()}" if comma and given.strip() and "," not in given else name


def _one_per_person(values: list[str]) -> list[str]:
    """Dublin Core creators given one tag each name one person each, in the library's order
    when a comma says so ("Jong, Michiel de", "Kooman, F." on an IETF page): given name
    first. A single tag may list several people ("Jane Doe, John Smith") and stays as it is."""
    return [_given_first(v) for v in values] if len(values) > 1 else values


def authors_and_agency(ex: dict[str, Any], site_names: set[str],
                       byline_lines: Callable[[], list[str]] | None = None) -> tuple[list[str], str | None]:
    """Persons from the first byline source that names one (JSON-LD, scholarly author tags,
    each author meta, the article's microdata item, trafilatura's byline), else the first desk
    named ("Redaktion"); agencies from all of them. A JSON-LD Person may bear the site's name (a
    personal blog); any other byline equal to the site name is the site. The persons the
    visible byline names ("Par …": visible_authors of ``byline_lines()``, only called then, as
    finding them scans the page's text) win over trafilatura's byline, a guess from class names
    that may be another article's teaser; on a page with no byline source, or only a desk's
    ("Us Weekly Staff" in the author tag, "By Megan French" shown), or one-word names, they name
    or spell out the writers (as the microdata's full names do too)."""
    meta, ld = ex["signals"]["meta"], ex["signals"]["jsonld"]
    ld_authors = ld.get("authors", [])
    guessed = [ex.get("author") or ""]  # trafilatura's byline ("A; B"): its heuristics may take a phrase
    ld_persons = [name for name, kinds in ld_authors if "Person" in kinds]
    publisher = ld.get("publisher")
    # a publisher named otherwise than the site (og:site_name) is its owner, and a Person so named
    # the writer (thevaluable.dev: the Organization "Matthieu Cneude" publishes "The Valuable Dev");
    # not a name within the other ("Le Monde" of "Le Monde.fr", "Feasting at Home Blog")
    owned, site = _squash(publisher or ""), _squash(next(iter(meta.get("og:site_name", [])), ""))
    owner = bool(owned and site) and owned not in site and site not in owned
    tags = [
        ([name for name in ld_persons if _squash(name) == owned] if owner else [], set()),
        # a JSON-LD Person may bear the site's name (a personal blog), not an Organization's that publishes it
        (ld_persons, set() if ld.get("publisher_is_person") or not publisher else {publisher}),
        ([name for name, kinds in ld_authors if not {"Person", "Organization"} & set(kinds)], site_names),
        ([_given_first(a) for key in SCHOLARLY_AUTHOR_META for a in meta.get(key, [])], site_names),
        # one key at a time: a page naming its writer in article:author may name its
        # publisher in its plain author tag ("Condé Nast")
        *[(_one_per_person(meta.get(key, [])) if key == "dc.creator" else meta.get(key, []), site_names)
          for key in AUTHOR_META],
        (microdata := ex["signals"].get("microdata_authors", []), site_names),  # the article item's byline
    ]
    # last, writers' profile addresses in the author tags, named by their slugs (an account's,
    # "l-horstmann", may stand for a byline the page shows as the desk's)
    profiles = [_slug_name(found[1], guessed[0]) for key in AUTHOR_META for value in meta.get(key, [])
                for found in PROFILE_URL.finditer(value)]
    sources = [*tags, (guessed, site_names), (profiles, site_names)]
    people: list[str] = []
    desks: list[str] = []
    agencies = [AGENCIES[name.casefold()] for name, kinds in ld_authors
                if "Person" not in kinds and name.casefold() in AGENCIES]
    from_guess = False
    # trafilatura's byline reads the same tags: a name it made of a value refused here is refused
    # ("facebook.com/vegolosi" in article:author is its "Facebook Com"); of an address, only the
    # host, as a profile's slug may be the writer's name ("/source/titiou-lecoq")
    tagged = {_squash(part) for raw, _ in tags for value in raw
              for part in (HOST.findall(value)[:1] if URL_LIKE.match(value) else AUTHOR_SPLIT.split(value))}
    # an author tag naming the site says who wrote the page: trafilatura's guess is not asked then
    # (on 163.com, whose author tags say "网易", it takes a commenter's user name)
    site_keys = {_squash(ALL_RIGHTS_RESERVED.sub("", name)) for name in site_names if name}
    named_site = any(_squash(value) in site_keys for raw, _ in tags for value in raw if value.strip())
    for raw, sites in sources:
        if raw is guessed and named_site and not people:
            continue
        persons, credited_desks, credited = byline_parts([r for r in raw if r.strip()], sites, raw is not guessed)
        if raw is guessed:
            persons = [name for name in persons if not _phrase(name) and _squash(name) not in tagged
                       and name.split()[0].casefold() not in GUESS_NOT_NAME
                       and name.casefold() not in _month_words() and name.casefold() not in _weekdays()]  # "January"
            from_guess = not people and bool(persons)
        agencies += credited
        people = people or persons
        desks = desks or credited_desks
    if byline_lines is not None and (from_guess or not people or any(" " not in name for name in people)):
        shown, shown_agencies = visible_authors(byline_lines(), site_names)  # one scan of the page's text
        if shown and (from_guess or not people):
            agencies += shown_agencies
        spelt = shown + [name for name in microdata if " " in name]  # "Ann-Christine Hellerup Brandt"
        people = shown if from_guess and shown else [_as_shown(name, spelt) for name in people] if people else shown
    return people or desks, ", ".join(dedupe(agencies)) or None


def _slug_name(slug: str, byline: str) -> str:
    """A writer named by a profile address's slug ("julia-carrie-wong"): as the byline spells
    that name ("Julia Carrie Wong", "José García" for "jose-garcia"), else its words with capitals."""
    letters = _squash(unicodedata.normalize("NFKD", slug).encode("ascii", "ignore").decode())
    for name in AUTHOR_SPLIT.split(byline):
        if _squash(unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()) == letters:
            return " ".join(name.split())
    return " ".join(word.capitalize() for word in re.split(r"[-_]", slug))


def _as_shown(name: str, shown: list[str]) -> str:
    """A one-word name from a tag as the visible byline writes that person: a user name
    ("arianschlichenmayer" is "Arian Schlichenmayer", the same letters) or the given name
    alone ("Nils" is "Nils Pickert")."""
    if " " in name:
        return name
    return next((full for full in shown if _squash(full) == _squash(name)
                 or full.split()[0].casefold() == name.casefold()), name)


def _loose(text: str) -> str:
    """A title as compared with another: lower case, typographic quotes as plain ones."""
    return text.translate(QUOTES).lower()


def _confirms(title: str, headline: str) -> bool:
    """Whether a title candidate (<title>, og:title, JSON-LD headline) states the headline:
    alone, or after a kicker ("Klimaschutz: …") or a section's name (SECTION_BEFORE: "Autoconsumo
    - …"), and before what pages add (HEADLINE_END: "… | Site", "… - Section")."""
    title, headline = _loose(title), _loose(headline)
    at = title.find(headline)
    if at < 0:
        return False
    before, rest = title[:at], title[at + len(headline):]
    return (not before or bool(KICKER_END.search(before))
            or (len(before) < len(headline) and bool(SECTION_BEFORE.match(before)))) and (
        not rest or bool(HEADLINE_END.match(rest) or (CJK.match(headline[-1]) and CJK_HEADLINE_END.match(rest))))


def _trimmed(title: str, sites: set[str], others: list[str]) -> str | None:
    """A title without what some pages add around it: a site name and what follows it
    ("… | Site | Slogan"), or any affix another candidate (``others``) shows is not part of
    it ("Kücknitz - …")."""
    for affix in sorted(sites | set(others), key=len, reverse=True):
        name = re.escape(affix)
        if affix in others:  # the shorter candidate is the headline with the affix removed
            if re.fullmatch(rf"(.+?)\s*{TITLE_SEPARATORS}\s*{name}|{name}\s*{TITLE_SEPARATORS}\s*(.+)", title):
                return affix
            continue
        title = re.sub(rf"^\s*{name}\s*{TITLE_SEPARATORS}\s+|\s+{TITLE_SEPARATORS}\s*{name}"
                       rf"(?:\s+{TITLE_SEPARATORS}\s.*)?$", "", title, flags=re.IGNORECASE)
    # a site named by its domain ("lastampa.it") and written out in the title ("… - La Stampa", "BMAS - …")
    domains = _domain_names(sites)
    if (last := LAST_SEGMENT.search(title)) and _squash(last[1]) in domains:
        title = title[:last.start()]
    if (first := FIRST_SEGMENT.match(title)) and _squash(first[1]) in domains:
        title = title[first.end():]
    # a Chinese site's name closing the title without spaces ("…交通-新华网", "…_证券时报网"): a website's;
    # and the section Chinese CMSs put between them with underscores ("标题_教育频道_中国青年网")
    for tail_of in (CJK_SITE_TAIL, CJK_SECTION_TAIL):
        if not ((tail := tail_of.search(title)) and len(CJK.findall(title[:tail.start()])) >= MIN_CJK_HEADLINE):
            break
        title = title[:tail.start()]
    return title.strip() or None


def choose_title(candidates: list[str | None], site_names: set[str], headlines: list[str] | None = None,
                 declared_sites: set[str] | None = None) -> str | None:
    """The headline the page shows, when a title candidate confirms it (_confirms): the longest
    <h1> of ``headlines`` that a candidate holds (a section label may be an <h1> too, and the
    <title> may hold it: "Opinion | Headline"). Else the page's one <h1> that is a headline
    (MIN_HEADLINE_WORDS; others are labels), when no candidate is a part of it (not "Local
    News | <og:title>"): the candidates then say something else (an SEO title, a title for
    sharing), nor holds one of its labels ("Opinion | …"), but tell the same story: one has a
    word of it (_shares_a_word; not of a search box's "No matches for your search" nor of a
    section's "Biz & Tech"). Otherwise the first candidate that
    is not the site's name (a logo's <h1> that trafilatura took) nor a one-word label,
    trimmed (_trimmed). The <h1> comes first because it is what the reader sees: meta titles
    are often written for search engines or social sharing, and the <title> tag adds site
    and section names in each site's own way.
    ``declared_sites``: the names the page gives itself (og:site_name, the JSON-LD publisher,
    a logo); ``site_names`` adds trafilatura's, which it may have guessed from a part of the
    <title> (a part of the headline, or all of it)."""
    declared = {" ".join(s.split()) for s in declared_sites or set() if s and s.strip()}
    folded = {s.casefold() for s in declared}
    titles = [" ".join(c.split()) for c in candidates if c and c.strip()]
    titles = [t for t in titles if not _is_site(t, folded)] or titles
    shown = [h for h in headlines or [] if not _is_site(h, folded) and any(_loose(h) in _loose(t) for t in titles)]
    if shown and any(_confirms(t, headline := max(shown, key=len)) for t in titles):
        return _trimmed(headline, declared, [])
    own = [h for h in headlines or [] if not _is_site(h, folded)]
    long = [h for h in own if len(h.split()) >= MIN_HEADLINE_WORDS]
    labels = [_loose(h) for h in own if h not in long]
    if len(long) == 1 and _shares_a_word(long[0], titles) and not any(
            _loose(t) in _loose(long[0]) or any(label in _loose(t) for label in labels) for t in titles):
        return long[0]
    # a one-word candidate that no other one holds is a label ("Medienmitteilungen", "Kontakt")
    titles = [t for t in titles if len(t.split()) > 1 or any(_loose(t) in _loose(o) for o in titles if o != t)
              ] or titles
    sites = declared | {" ".join(s.split()) for s in site_names if s and s.strip()}
    return _trimmed(titles[0], sites, titles[1:]) if titles else None


def _shares_a_word(headline: str, titles: list[str]) -> bool:
    """Whether a title candidate, if any, shares a word with the headline (of MIN_SHARED_WORD
    characters or more, or a character of a script written without spaces), or a compound's
    part ("Finanzierung Ihres Autos", "Autofinanzierung – …")."""
    words = {w for w in tokens(headline) if len(w) >= MIN_SHARED_WORD or ANY_UNSPACED.match(w)}
    return not titles or any(w in t or (len(t) >= MIN_SHARED_WORD and t in w)
                             for title in titles for t in set(tokens(title)) for w in words)


def clean_tags(values: list[str]) -> list[str]:
    """Tags deduplicated (dedupe), without the counts of a tag list ("Joe Biden (233)");
    a date or a number ("6. August 2009", "2023": more digits and signs than letters) and a
    machine token of an analytics tag ("type_review", "repository:274214725") are no tags."""
    return [tag for tag in dedupe([COUNT_SUFFIX.sub("", value) for value in values])
            if 2 * sum(c.isalpha() for c in tag) >= len(tag) and not MACHINE_TOKEN.fullmatch(tag)]


def dedupe(values: list[str]) -> list[str]:
    """Trim, drop empties and case-folded duplicates, keep first spelling and order."""
    seen: set[str] = set()
    out = []
    for value in values:
        value = " ".join(str(value).split()).strip(" ,;#")
        if value and len(value) <= 100 and value.casefold() not in seen:
            seen.add(value.casefold())
            out.append(value)
    return out


@cache
def _identifier() -> LanguageIdentifier:
    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def detect_language(text: str, declared: str | None = None, expected: str | None = None) -> str | None:
    """ISO 639-1 code of the text. A confident detection wins, except over a declared language
    close to it (CLOSE_LANGUAGES: Malay for Indonesian, Bosnian for Croatian, Bokmål for
    Norwegian); otherwise the page's declared language, then the dossier's, when the text
    makes it plausible."""
    if len(text) < 20:
        return declared or expected
    ranked: list[tuple[str, float]] = _identifier().rank(text[:LANGUAGE_SAMPLE])
    best, probability = ranked[0]
    if probability >= CONFIDENT and len(best) == 2:
        return declared if declared in CLOSE_LANGUAGES.get(best, ()) else best
    scores = dict(ranked)
    for candidate in (declared, expected):
        if candidate and scores.get(candidate, 0.0) >= PLAUSIBLE:
            return candidate
    return best if len(best) == 2 else None


def locale_region(*values: Any) -> str | None:
    """The country of the first locale that names one ("es-AR", "pt_BR", "zh-Hant-TW"), upper-cased."""
    for value in values:
        for locale in value if isinstance(value, list) else [value]:
            subtags = (locale or "").replace("_", "-").split("-") if isinstance(locale, str) else []
            if region := next((t.upper() for t in subtags[1:] if len(t) == 2 and t.isalpha()), None):
                return region
    return None


def iso_language(value: str | None) -> str | None:
    """'fr-FR', 'fr_FR', 'FR' -> 'fr'."""
    code = (value or "").replace("_", "-").split("-")[0].strip().lower()
    return code if len(code) == 2 and code.isalpha() else None


def _first(*values: Any) -> Any:
    for value in values:
        if isinstance(value, list):
            value = value[0] if value else None
        if isinstance(value, str) and value.strip():
            return " ".join(value.split())
    return None


def trusted_canonical(candidate: str, address: str, domains: list[str]) -> bool:
    """A canonical link names the article when it is on the dossier's domains, not the site
    root nor a listing (common CMS defaults), and keeps the query parameters that identify
    the page fetched (a CMS that drops ``?storyid=504`` names one address for every story)."""
    parts = urlsplit(candidate)
    if not in_domains(candidate, domains) or not (parts.path.strip("/") or parts.query):
        return False
    if courlan.is_navigation_page(candidate):
        return False
    fetched = urlsplit(address)
    return not (parts.path.rstrip("/") == fetched.path.rstrip("/")
                and not identifying_params(address) <= identifying_params(candidate))


def canonical_url(signals: dict[str, Any], url: str, final_url: str, domains: list[str]) -> str:
    """The article's address: <link rel=canonical>, else og:url, when trusted
    (trusted_canonical, against the page served at ``final_url``); else the address as
    discovered (``url``), never where it redirected to: two discovered addresses that land
    on one page (a redirect to a home page, a paywall, a moved article) stay two articles
    unless their texts are the same, which duplicate detection then records as such.
    Tracking parameters removed (urls.identity_url)."""
    for candidate in (signals.get("canonical"), _first(signals["meta"].get("og:url"))):
        norm: str | None = identity_url(candidate, final_url) if candidate else None
        if norm and trusted_canonical(norm, final_url, domains):
            return norm
    return identity_url(url) or url


class PageText(Protocol):
    """What the page's visible text shows (extract.VisibleText), asked for only when its
    markup lacks it."""

    def bylines(self) -> list[str]: ...

    def tag_links(self) -> list[str]: ...


def build_record(ctx: dict[str, Any], ex: dict[str, Any], visible: PageText | None = None) -> dict[str, Any]:
    """The article row for one page, from fetch context ``ctx`` and extraction ``ex``
    (``visible``: the page's byline lines and tag links, asked for when nothing else names
    the writer or the tags)."""
    signals, meta, ld = ex["signals"], ex["signals"]["meta"], ex["signals"]["jsonld"]
    final_url = ctx["final_url"] or ctx["url"]
    canonical = canonical_url(signals, ctx["url"], final_url, ctx["domains"])
    fetched_at: datetime = ctx["fetched_at"]
    text = ex["text"]
    declared = iso_language(_first(ld.get("inLanguage"), signals.get("html_lang"), meta.get("og:locale")))
    language = detect_language(text, declared, ctx.get("language"))
    # the page's date lines by their class names, then one that opens the text
    date_lines = signals.get("date_lines", []) + lead_dateline(text)
    evidence = date_evidence(ex, ctx, date_lines)
    host = site_host(signals, canonical)
    region = locale_region(ld.get("inLanguage"), signals.get("html_lang"), meta.get("og:locale"))
    zone, dayfirst = page_zone(host, language or declared, ctx["timezone"], region), numeric_day_first(
        language or declared, host, region)
    published, date_source, modified = choose_dates(evidence, zone, fetched_at, dayfirst, date_lines)
    if date_source in (None, "htmldate") and visible is not None and (dated := [
            (line, BYLINE_RANK) for line in visible.bylines()[:1] if DATE_LIKE.search(line)]):
        # no tag dates the page: its byline may ("by Michael Larabel on 21 December 2024 at 09:31 AM EST")
        date_lines += dated
        evidence = date_evidence(ex, ctx, date_lines)
        published, date_source, modified = choose_dates(evidence, zone, fetched_at, dayfirst, date_lines)

    site_name = _first(meta.get("og:site_name"), ld.get("publisher"), ex.get("sitename"))
    # an author tag naming the publisher ("Deutsche Welle (www.dw.com)" in both) names no writer
    site_names = {site_name or "", ld.get("publisher") or "", ex.get("sitename") or "", *meta.get("publisher", []),
                  *meta.get("dc.publisher", []), host}
    # the names the page gives itself; an <h1> that is the site's logo is one (extract._headings)
    declared_sites = {_first(meta.get("og:site_name")) or "", ld.get("publisher") or "", *signals.get("site_logos", [])}
    authors, agency = authors_and_agency(ex, site_names, visible.bylines if visible else None)
    tag_metas = [v for key, values in meta.items() if TAG_META.search(key) and "video" not in key for v in values]
    tags = clean_tags([t for v in ld.get("keywords", []) + tag_metas + meta.get("news_keywords", [])
                       for t in v.split(",")] + signals.get("visible_tags", []))
    if not tags and visible is not None:
        tags = clean_tags(visible.tag_links())
    if not tags:  # last: <meta name="keywords">, the article's topics on many sites, a site-wide SEO list on some
        tags = clean_tags([t for v in meta.get("keywords", []) for t in KEYWORD_SPLIT.split(unescape(v))])
    related = []
    for _, href in signals.get("related", []):
        if ((norm := identity_url(href, final_url)) and norm not in related and norm != canonical
                and related_article(norm, in_domains(norm, ctx["domains"]) or host_of(norm) == host_of(canonical))):
            related.append(norm)
    record: dict[str, Any] = well_formed({
        "article_id": article_id(canonical),
        "dossier": ctx["dossier"],
        "url": ctx["url"],
        "final_url": final_url,
        "canonical_url": canonical,
        "title": choose_title([ld.get("headline"), _first(meta.get("og:title")), ex.get("title"),
                               signals.get("html_title")], site_names, signals.get("headlines"), declared_sites),
        "text": text,
        "access": ex.get("access", "free"),
        "text_markdown": ex.get("text_markdown"),
        "authors": authors,
        "agency": agency,
        "published_at": published.at if published else None,
        "published_at_local": published.local if published else None,
        "modified_at": modified.at if modified else None,
        "modified_at_local": modified.local if modified else None,
        "date_precision": published.precision if published else None,
        "date_source": date_source,
        "date_evidence": evidence,
        "language": language,
        "language_declared": declared,
        "section": _first(ld.get("section"), meta.get("article:section"), ex.get("categories")),
        "tags": tags,
        "dossier_labels": dedupe([COUNT_SUFFIX.sub("", label) for label in signals.get("dossier_labels", [])]),
        "related_urls": related,
        "description": _first(ld.get("description"), meta.get("og:description"), meta.get("description"),
                              ex.get("description")),
        "site_name": site_name,
        "word_count": count_words(text),
        "char_count": len(text),
        "text_sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
        "text_simhash": simhash(text),
        "duplicate_urls": [],
        "source_kind": ctx["source_kind"],
        "source_url": ctx["source_url"],
        "fetched_at": fetched_at,
        "http_status": ctx["http_status"],
        "content_type": ctx.get("content_type"),
        "etag": ctx.get("etag"),
        "last_modified": ctx.get("last_modified"),
        "raw_sha256": ctx["raw_sha256"],
        "extractor": ex["extractor"],
        "pipeline_version": ctx["pipeline_version"],
        "run_id": ctx["run_id"],
        "archive_url": ctx.get("archive_url"),  # a page read from a web archive (tasks/wayback.py)
        "archive_captured_at": ctx.get("archive_captured_at"),
    })
    return record


def well_formed(value: Any) -> Any:
    """A record's strings (in lists and mappings too) with each lone surrogate as U+FFFD: a
    JSON-LD escape ("\\ud800") gives one, which UTF-8, and so Parquet, cannot hold."""
    if isinstance(value, str):
        return value if not SURROGATE.search(value) else SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [well_formed(v) for v in value]
    if isinstance(value, dict):
        return {k: well_formed(v) for k, v in value.items()}
    return value
