"""Open-web fidelity: every script counted, every charset decoded, every article kept.

Pages: real pages under tests/pages and tests/site (see their README), served by a local
server as a publisher would, and fetched through ``dossier run``'s flow.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from conftest import write_config

from dossier_pipeline.flows.scrape import scrape_dossier
from dossier_pipeline.tasks.blocks import classify, declares_paywall
from dossier_pipeline.tasks.demo.server import LocalServer, Response
from dossier_pipeline.tasks.encoding import decode_html
from dossier_pipeline.tasks.textcount import count_words
from dossier_pipeline.tasks.urls import article_id

TESTS = Path(__file__).parent
CORPUS: dict[str, dict[str, Any]] = json.loads((TESTS / "corpus" / "truth.json").read_text("utf-8"))
DECLARATION = re.compile(r"<meta[^>]*charset[^>]*>", re.IGNORECASE)

# Real pages in scripts written without spaces (tests/pages/README.md), with a sentence of
# each that must reach the text.
UNSPACED = {
    "afpbb.com.nigeria.ja.html": "ナイジェリア北東部ボルノ（Borno）州で16日夜",
    "chinadaily.com.cn.experts.zh.html": "中美合作共赢符合国际社会利益",
    "prachatai.com.dna.th.html": "ผลการตรวจ DNA",
}
# Real pages served in a legacy charset declared nowhere (no HTTP charset, no <meta>).
UNDECLARED = {
    "site/pages/regards.fr.enquetes.html": ("latin-1", ["être", "à", "è"]),
    "pages/ru-news-story.html": ("windows-1251", ["Москв"]),
    "pages/afpbb.com.nigeria.ja.html": ("shift_jis", ["ナイジェリア北東部"]),
    "pages/chinadaily.com.cn.experts.zh.html": ("gbk", ["中美合作共赢"]),
    "pages/prachatai.com.dna.th.html": ("tis-620", ["ผลการตรวจ"]),
    "pages/ledevoir.com.trottinettes.html": ("windows-1252", ["à Montréal"]),
}


def undeclared(path: str, encoding: str) -> tuple[str, bytes]:
    """The page's markup without a charset declaration, and its bytes in ``encoding``."""
    html = DECLARATION.sub("", (TESTS / path).read_text(encoding="utf-8"))
    body = html.encode(encoding, errors="xmlcharrefreplace")
    return body.decode(encoding), body


def url_dossier(slug: str, urls: list[str]) -> str:
    """A dossier's configuration, its source a list of URLs."""
    listed = ", ".join(f'"{url}"' for url in urls)
    return f'[dossiers.{slug}]\ntitle = "{slug}"\n[[dossiers.{slug}.sources]]\nkind = "urls"\nurls = [{listed}]\n'


# -- text length by script -----------------------------------------------------------------------

@pytest.mark.parametrize(("text", "low", "high"), [
    # Japanese (AFPBB), Chinese (China Daily), Thai (Prachatai), Korean (spaced), English
    ("【6月18日 AFP】ナイジェリア北東部ボルノ（Borno）州で16日夜、イスラム過激派組織「ボコ・ハラム"
     "（Boko Haram）」によるものと思われる少女を使った自爆攻撃が起き、31人が死亡した。", 35, 60),
    ("在美国旧金山举行的中美元首会晤吸引了全世界的目光。多名外国专家告诉《中国日报》，中美合作共赢符合国际社会利益，美方应当采取更多行动。",
     30, 50),
    ("ผู้สื่อข่าวได้รับแจ้งจากนาย ต.(ไม่ประสงค์เปิดเผยชื่อ) บุตรชายของ 'ภูชนะ' คนสนิทของนายสุรชัย แซ่ด่าน ที่หายไปว่า", 15, 30),
    ("노소영 아트센터 나비 관장이 최태원 SK그룹 회장의 동거인 김희영 티앤씨재단 이사장을 "
     "상대로 낸 위자료 소송의 첫 정식 변론을", 18, 18),
    ("The storm closed every port on the coast for two days.", 11, 11),
])
def test_words_are_counted_by_script(text: str, low: int, high: int) -> None:
    assert low <= count_words(text) <= high


# -- charsets ------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", sorted(UNDECLARED))
def test_undeclared_legacy_charsets_decode(path: str) -> None:
    encoding, snippets = UNDECLARED[path]
    expected, body = undeclared(path, encoding)
    assert decode_html(body, "text/html") == expected
    assert all(s in expected for s in snippets)


@pytest.mark.parametrize(("page", "encoding"), [
    ("anyway-walla-3647947", "windows-1255"), ("omnivore-bbc-arabic", "windows-1256"),
    ("citer-isna-barjam", "windows-1256"), ("rs-cooktalk_1", "koi8-r"), ("rd-hukumusume", "euc-jp"),
    ("rd-youth", "gb18030"), ("goose-donga_korean", "euc-kr"), ("shared-forsal-godzina", "iso-8859-2"),
    ("rd-aktualne", "windows-1250"), ("rs-sobors", "iso-8859-2"), ("rs-yemek", "windows-1254"),
    ("np4k-latvian_article", "windows-1257"),
    # Western pages stay windows-1252, which a detector alone reads as Slovene or Polish
    ("shared-lastampa-temperature", "iso-8859-1"), ("crux-folha_uol_com_br", "windows-1252"),
    ("rphp-lemonde-2", "iso-8859-1"),
])
def test_real_pages_in_an_undeclared_legacy_charset(page: str, encoding: str) -> None:
    """Real pages of the corpus, their declarations removed and their bytes in a legacy
    charset: detection reads their text, not their markup (a Hebrew page detected whole read
    as windows-1250), and a Latin page's encoding follows the language it declares."""
    html = DECLARATION.sub("", (TESTS / "corpus" / "pages" / f"{page}.html").read_bytes().decode("utf-8", "replace"))
    body = html.encode(encoding, errors="xmlcharrefreplace")
    assert decode_html(body, "text/html", CORPUS[page]["url"]) == body.decode(encoding)


def test_a_utf8_page_with_a_few_stray_bytes_stays_utf8() -> None:
    """A page declared (and written) in UTF-8 with a widget pasted in latin-1 (a blog's
    "Küchenblogs" badge): its text keeps its UTF-8 letters, the stray byte becomes U+FFFD as
    in browsers. A latin-1 page that wrongly declares UTF-8 is still read as latin-1."""
    text = "So schön winterlich ist es wie schon lange nicht mehr. Grüße aus Köln, heiß und süß."
    body = (b'<html><head><meta http-equiv="Content-Type" content="text/html; charset=UTF-8"></head><body>'
            + f"<p>{text}</p>".encode() + b'<img alt="K\xfcchenblogs"></body></html>')
    html = decode_html(body, "text/html")
    assert text in html and 'alt="K\ufffdchenblogs"' in html
    latin = body.replace(f"<p>{text}</p>".encode(), f"<p>{text}</p>".encode("latin-1"))
    assert text in decode_html(latin, "text/html")


def test_declarations_follow_the_whatwg_order() -> None:
    text = "Le ministère a dû être prévenu à temps. " * 20
    page = f"<html><head><meta charset=iso-8859-1></head><body><p>{text}</p></body></html>"
    assert decode_html(page.encode("cp1252"), None) == page  # iso-8859-1 means windows-1252
    assert decode_html(page.encode("cp1252"), "text/html; charset=windows-1252") == page
    assert decode_html(b"\xef\xbb\xbf" + page.encode(), "text/html; charset=windows-1251") == page  # BOM first
    russian = page.replace("iso-8859-1", "windows-1251").replace(text, "Министерство было предупреждено. " * 20)
    assert decode_html(russian.encode("cp1251"), "text/html; charset=koi8-r") != russian  # HTTP before <meta>
    assert decode_html(russian.encode("cp1251"), "text/html") == russian


# -- through the pipeline -----------------------------------------------------------------------

@pytest.mark.usefixtures("prefect_api")
def test_unspaced_scripts_and_undeclared_charsets_become_rows(tmp_path: Path) -> None:
    pages = {f"/utf8/{name}": ((TESTS / "pages" / name).read_bytes(), "text/html; charset=utf-8")
             for name in UNSPACED}
    pages |= {f"/legacy/{Path(path).name}": (undeclared(path, encoding)[1], "text/html")
              for path, (encoding, _) in UNDECLARED.items()}

    def app(path: str, headers: dict[str, str]) -> Response:
        if path in pages:
            body, content_type = pages[path]
            return Response(200, body, {"Content-Type": content_type})
        return Response(404, b"not found", {"Content-Type": "text/html"})

    with LocalServer(app) as server:
        config = write_config(tmp_path, "".join(url_dossier(slug, [server.base_url + p for p in pages
                                                                   if p.startswith(f"/{prefix}/")])
                                                for slug, prefix in (("unspaced", "utf8"), ("legacy", "legacy"))))
        summaries = [scrape_dossier(slug, config_path=str(config), output=str(tmp_path / "out"))
                     for slug in ("unspaced", "legacy")]
    assert [s["counts"]["written"] for s in summaries] == [len(UNSPACED), len(UNDECLARED)], summaries[1]["reasons"]
    rows = pd.read_parquet(tmp_path / "out" / "unspaced" / "articles").set_index("url")
    for name, sentence in UNSPACED.items():
        row = rows.loc[f"{server.base_url}/utf8/{name}"]
        assert sentence in row["text"]
        assert row["char_count"] == len(row["text"]) and row["word_count"] >= 150
    rows = pd.read_parquet(tmp_path / "out" / "legacy" / "articles").set_index("url")
    for path, (_, snippets) in UNDECLARED.items():
        text = rows.loc[f"{server.base_url}/legacy/{Path(path).name}", "text"]
        assert all(s in text for s in snippets), path


# -- URL identity: fetch the address discovered, identify the article -----------------------------

# Addresses of real CMS shapes, each serving another real page; the last two differ only in ?id=
# and declare the same query-less canonical link (a CMS default that names no article).
SHAPES = {
    "/modules/news/article.php?storyid=504": "bondyblog.fr.paris-8.html",
    "/news_view.htm?lang=e&Seq_Code=181595": "caymancompass.com-prison.html",
    "/index.php?id=30&no_cache=1&tx_ttnews[tt_news]=477": "dalloz-actualite.fr.raoult.html",
    "/web/20080731095558/http://www.example.de/politik/artikel.html": "dw.com-elephants.html",
    "/article.php?id=1": "gala.fr.surnom.html",
    "/article.php?id=2": "regards.fr.enquetes.html",
}


@pytest.mark.usefixtures("prefect_api")
def test_addresses_are_fetched_as_discovered_and_identify_their_articles(tmp_path: Path) -> None:
    canonical = '<link rel="canonical" href="/article.php">'

    def app(path: str, headers: dict[str, str]) -> Response:
        if path in SHAPES:
            html = (TESTS / "site" / "pages" / SHAPES[path]).read_text(encoding="utf-8")
            html = re.sub(r"<link[^>]*rel=.canonical[^>]*>", "", html)
            if path.startswith("/article.php"):
                html = html.replace("</head>", canonical + "</head>", 1)
            return Response(200, html.encode(), {"Content-Type": "text/html; charset=utf-8"})
        return Response(404, b"not found", {"Content-Type": "text/html"})

    with LocalServer(app) as server:
        base = server.base_url
        # the same story again with campaign parameters and a fragment: one article, fetched once
        listed = [base + p for p in SHAPES] + [f"{base}/modules/news/article.php?storyid=504&utm_source=rss#top"]
        config = write_config(tmp_path, url_dossier("shapes", listed))
        summary = scrape_dossier("shapes", config_path=str(config), output=str(tmp_path / "out"))
        requested = [p for method, p, _ in server.log if method == "GET" and p != "/robots.txt"]
    assert sorted(requested) == sorted(SHAPES)  # exactly the addresses discovered, each once
    assert summary["counts"]["written"] == len(SHAPES), summary["reasons"]
    rows = pd.read_parquet(tmp_path / "out" / "shapes" / "articles").set_index("url")
    assert sorted(rows.index) == sorted(base + p for p in SHAPES)
    assert rows["article_id"].nunique() == len(SHAPES)
    assert rows.loc[f"{base}/article.php?id=1", "canonical_url"] == f"{base}/article.php?id=1"
    assert (rows["canonical_url"] == rows.index).all()


@pytest.mark.usefixtures("prefect_api")
def test_a_redirected_address_without_a_trusted_canonical_keeps_the_identity_it_was_discovered_by(
        tmp_path: Path) -> None:
    """No canonical link on the dossier's domains (real pages, their canonical names their own
    site): the article is the address discovered, not where it redirects. Two addresses
    redirected to one page stay two URLs, recorded as one text, never one silently merged id."""
    pages = {"/story/moved.html": "gala.fr.surnom.html", "/story/other.html": "regards.fr.enquetes.html"}
    redirects = {"/p?id=1": "/story/moved.html", "/p?id=2": "/story/moved.html", "/q?id=3": "/story/other.html"}

    def app(path: str, headers: dict[str, str]) -> Response:
        if (target := redirects.get(path.replace("&utm_source=rss", ""))) is not None:
            return Response(301, b"", {"Location": target})
        if path in pages:
            return Response(200, (TESTS / "site" / "pages" / pages[path]).read_bytes(),
                            {"Content-Type": "text/html; charset=utf-8"})
        return Response(404, b"not found", {"Content-Type": "text/html"})

    with LocalServer(app) as server:
        base = server.base_url
        listed = [f"{base}/p?id=1", f"{base}/p?id=2", f"{base}/q?id=3&utm_source=rss"]
        config = write_config(tmp_path, url_dossier("moved", listed))
        summary = scrape_dossier("moved", config_path=str(config), output=str(tmp_path / "out"))
    assert (summary["counts"]["written"], summary["counts"]["duplicate"]) == (2, 1), summary["reasons"]
    rows = pd.read_parquet(tmp_path / "out" / "moved" / "articles").set_index("url")
    first, other = rows.loc[f"{base}/p?id=1"], rows.loc[f"{base}/q?id=3"]
    assert (first["canonical_url"], first["final_url"]) == (f"{base}/p?id=1", f"{base}/story/moved.html")
    assert first["article_id"] == article_id(f"{base}/p?id=1")
    assert (other["canonical_url"], other["final_url"]) == (f"{base}/q?id=3", f"{base}/story/other.html")
    assert list(first["duplicate_urls"]) == [f"{base}/p?id=2"]
    ledger = pd.read_parquet(tmp_path / "out" / "moved" / "urls").set_index("url")
    second = ledger.loc[f"{base}/p?id=2"]
    assert second["state"] == "duplicate" and second["reason"] == f"same text as {base}/p?id=1"
    assert second["final_url"] == f"{base}/story/moved.html"


# -- interstitials by what they are; paywalled articles kept -----------------------------------

CLOUDFLARE = '<script src="/cdn-cgi/challenge-platform/h/b/scripts/jsd/main.js"></script>'
COMMENTS = ('<form id="commentform"><textarea name="comment"></textarea>'
            '<div class="g-recaptcha" data-sitekey="6Lc"></div><input type="submit" value="Envoyer"></form>')
BANNER = ('<div id="didomi-popup" class="didomi-popup"><p>Nous et nos partenaires utilisons des cookies et '
          'technologies similaires pour stocker et accéder à des informations sur votre appareil.</p>'
          '<button>Tout accepter</button><button>Tout refuser</button><a>Paramétrer les cookies</a></div>')
# The wall a French publisher serves instead of the article until consent is given (the
# IAB-TCF texts and buttons of the banner above, as a page of its own).
WALL = (f'<html lang="fr"><head><meta charset="utf-8"><title>Gestion de vos choix</title></head><body>{BANNER}'
        '</body></html>')


@pytest.mark.usefixtures("prefect_api")
def test_interstitials_are_recognised_by_what_they_are_and_paywalled_articles_kept(tmp_path: Path) -> None:
    article = (TESTS / "site" / "pages" / "regards.fr.enquetes.html").read_text(encoding="utf-8")
    served = {
        # a real article with a Cloudflare script, a reCAPTCHA comment form and a consent banner
        "/2024/enquete.html": article.replace("</head>", CLOUDFLARE + "</head>", 1)
                                     .replace("</body>", COMMENTS + BANNER + "</body>", 1),
        "/2024/consentement.html": WALL,
        # a real subscriber-only article (nikkei.com): its teaser, title and date are kept
        "/article/DGXMZO31897660Y8A610C1000000/": (TESTS / "corpus" / "pages" / "np4k-japanese_article.html")
        .read_text(encoding="utf-8"),
    }

    def app(path: str, headers: dict[str, str]) -> Response:
        if path in served:
            return Response(200, served[path].encode(), {"Content-Type": "text/html; charset=utf-8"})
        return Response(404, b"not found", {"Content-Type": "text/html"})

    with LocalServer(app) as server:
        listed = [server.base_url + p for p in served]
        skipping = url_dossier("free", listed).replace('title = "free"\n', 'title = "free"\nkeep_paywalled = false\n')
        config = write_config(tmp_path, url_dossier("open", listed) + skipping)
        kept, free = (scrape_dossier(slug, config_path=str(config), output=str(tmp_path / "out"))
                      for slug in ("open", "free"))
    assert (kept["counts"]["written"], kept["counts"]["blocked"]) == (2, 1), kept["reasons"]
    rows = pd.read_parquet(tmp_path / "out" / "open" / "articles").set_index("url")
    assert rows.loc[listed[0], "access"] == "free" and "Tout accepter" not in rows.loc[listed[0], "text"]
    teaser = rows.loc[listed[2]]
    assert teaser["access"] == "paywall" and teaser["title"].startswith("米朝首脳直通電話") and teaser["text"]
    ledger = pd.read_parquet(tmp_path / "out" / "open" / "urls").set_index("url")
    assert (ledger.loc[listed[1], "state"], ledger.loc[listed[1], "reason"]) == ("blocked", "consent_wall")
    assert (free["counts"]["written"], free["counts"]["skipped"]) == (1, 1)


@pytest.mark.parametrize(("title", "kind"), [
    ("404 Not Found", "error_page"), ("Erreur 404 - page non trouvée | Le Monde", "error_page"),
    ("Oops! That page can’t be found. – Best Paths", "error_page"), ("Seite nicht gefunden - SPIEGEL", "error_page"),
    ("404 页面未找到", "error_page"), ("404", "error_page"), ("Page 404 | Site", "error_page"),
    # a headline holding an error's word: a short article's (bestpaths.com's teaser of 57 words)
    ("Twitter’s Fabric Announces Unity SDK Support, Error Logging On iOS And tvOS | Best Paths", None),
    ("Fehler im System: Bahn stoppt Fernzüge | tagesschau.de", None), ("Not found: the lost city of Z | Site", None),
])
def test_an_error_page_is_titled_by_its_error_only(title: str, kind: str | None) -> None:
    body = f"<html><head><title>{title}</title></head><body><p>Short text.</p></body></html>".encode()
    assert classify(body, {"status": "ok", "record": {"word_count": 57, "text": "Short text."}}) == kind


def test_a_paywall_is_read_where_the_page_declares_it() -> None:
    """bostonglobe.com writes its JSON-LD after 400 kB of inline styles; microdata says it too."""
    globe = (TESTS / "corpus" / "pages" / "ms-the-boston-globe.html").read_text(encoding="utf-8")
    assert globe.find("isAccessibleForFree") > 400_000 and declares_paywall(globe)
    assert declares_paywall('<meta itemprop="isAccessibleForFree" content="False">')
    assert declares_paywall('{"isAccessibleForFree" : "false"}')
    assert not declares_paywall('{"isAccessibleForFree": true, "x": false}')


@pytest.mark.usefixtures("prefect_api")
def test_a_paywalled_article_skipped_by_the_setting_is_not_fetched_again_until_it_changes(tmp_path: Path) -> None:
    paywalled = "/article/DGXMZO31897660Y8A610C1000000/"  # a real subscriber-only article (nikkei.com)
    served = {"/2024/enquete.html": (TESTS / "site" / "pages" / "regards.fr.enquetes.html").read_bytes(),
              paywalled: (TESTS / "corpus" / "pages" / "np4k-japanese_article.html").read_bytes()}
    requests: list[str] = []

    def app(path: str, headers: dict[str, str]) -> Response:
        requests.append(path)
        if path in served:
            return Response(200, served[path], {"Content-Type": "text/html; charset=utf-8"})
        return Response(404, b"not found", {"Content-Type": "text/html"})

    def run(keep: str) -> dict[str, Any]:
        dossier = url_dossier("d", listed).replace('title = "d"\n', f'title = "d"\nkeep_paywalled = {keep}\n')
        return scrape_dossier("d", config_path=str(write_config(tmp_path, dossier)), output=str(tmp_path / "out"))

    with LocalServer(app) as server:
        listed = [server.base_url + p for p in served]
        first, second = run("false"), run("false")
        assert requests.count(paywalled) == 1  # the second run knows it skipped the article for the setting
        assert (first["counts"]["written"], first["counts"]["skipped"]) == (1, 1)
        assert (second["counts"]["written"], second["counts"]["skipped"]) == (0, 1)
        kept = run("true")  # the setting changed: the article is fetched again and kept
        assert requests.count(paywalled) == 2 and kept["counts"]["written"] == 1
    ledger = pd.read_parquet(tmp_path / "out" / "d" / "urls")
    skips = ledger[(ledger["url"] == listed[1]) & (ledger["state"] == "skipped")]
    assert len(skips) == 2 and skips["reason"].str.endswith("(keep_paywalled = false)").all()
    rows = pd.read_parquet(tmp_path / "out" / "d" / "articles").set_index("url")
    assert rows.loc[listed[1], "access"] == "paywall"
