"""Duplicates within a dossier: the same text (SHA-256) or nearly the same (SimHash) is one row."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
import trafilatura
from conftest import SITE, write_config

from dossier_pipeline.flows.scrape import scrape_dossier
from dossier_pipeline.tasks.dedup import (
    MAX_DISTANCE,
    MIN_WORDS,
    DuplicateIndex,
    distance,
    same_story,
    simhash,
    tokens,
)
from dossier_pipeline.tasks.demo.server import LocalServer, Response
from dossier_pipeline.tasks.extract import Page, extract_page
from dossier_pipeline.tasks.textcount import count_words

PAGES = Path(__file__).parent / "pages"
HTML = {"Content-Type": "text/html; charset=utf-8"}
UPDATE = ("<p>Mise à jour à 16h00 : le Kremlin a confirmé que le document du Pentagone serait examiné par les "
          "experts militaires des deux pays dans les prochains jours.</p>")


def real_text(name: str) -> str:
    return trafilatura.extract((SITE / "pages" / name).read_bytes())


def row(aid: str, text: str) -> dict:
    return {"article_id": aid, "canonical_url": f"https://a.example/{aid}", "text_sha256":
            hashlib.sha256(text.encode()).hexdigest(), "text_simhash": simhash(text), "word_count": count_words(text)}


def test_simhash_separates_edited_copies_from_other_articles() -> None:
    text = real_text("abc7news.com-Napa.html")  # 479 words, a short last paragraph
    paragraphs = text.split("\n")
    assert simhash(text) == simhash(text) and len(simhash(text)) == 16
    edited = {
        "added paragraph": text + "\nThis article was updated on Friday with comments from the ministry.",
        "dropped paragraph": "\n".join(paragraphs[:-1]),
        "changed sentence": text.replace(paragraphs[2], paragraphs[2].replace(" the ", " a ", 2)),
        "punctuation and case": text.upper().replace(".", " ."),
    }
    for kind, copy in edited.items():
        assert distance(simhash(text), simhash(copy)) <= MAX_DISTANCE, kind
    others = [real_text(name) for name in ("dw.com-elephants.html", "caymancompass.com-prison.html",
                                            "bondyblog.fr.paris-8.html", "gala.fr.surnom.html")]
    assert all(distance(simhash(text), simhash(other)) > 2 * MAX_DISTANCE for other in others)


def test_simhash_values_are_stable() -> None:
    """Stored rows keep their SimHashes: a new implementation must give the same values."""
    sentence = ("Le ministère russe de la Défense est prêt à coordonner ses frappes avec la coalition, a déclaré "
                "mercredi le porte-parole du ministère.")
    assert [simhash(t) for t in ("", "Un mot", sentence)] == ["e4a6a0577479b2b4", "fc455d1c7e77b84f",
                                                               "217da3bc6179fae6"]


def test_japanese_articles_are_shingled_by_characters() -> None:
    """Japanese has no spaces: its shingles are character 3-grams, so a copy with a changed
    sentence is near, and two different Japanese articles (real pages) are not."""
    afp = trafilatura.extract((PAGES / "afpbb.com.nigeria.ja.html").read_bytes())
    cnet = trafilatura.extract((PAGES.parent / "corpus" / "pages" / "mercury-japan.cnet.com.html").read_bytes())
    assert count_words(afp) >= MIN_WORDS and count_words(cnet) >= MIN_WORDS
    assert len(tokens(afp)) > len(afp.split()) * 10  # characters, not clause-long "words"
    sentence = next(s for s in afp.split("。") if len(s) > 30)
    changed = afp.replace(sentence, sentence[:-8] + "と政府が発表した")  # the sentence's end reworded
    assert changed != afp and distance(simhash(afp), simhash(changed)) <= MAX_DISTANCE
    assert distance(simhash(afp), simhash(cnet)) > 2 * MAX_DISTANCE
    index = DuplicateIndex()
    index.add(row("afp", afp))
    index.add(row("cnet", cnet))
    near = index.match(row("copy", changed))
    assert near is not None and near.article_id == "afp"
    assert index.match(row("other", trafilatura.extract((PAGES.parent / "corpus" / "pages" /
                                                          "mercury-www.lifehacker.jp.html").read_bytes()))) is None


def test_index_finds_exact_and_near_duplicates_but_never_the_row_itself() -> None:
    text = real_text("caymancompass.com-prison.html")
    index = DuplicateIndex()
    index.add(row("a", text))
    assert index.match(row("a", text)) is None  # the row itself (a refresh), not a duplicate
    exact = index.match(row("b", text))
    assert exact is not None and (exact.article_id, exact.distance) == ("a", 0)
    assert exact.reason == "same text as https://a.example/a"
    near = index.match(row("c", text + "\nUpdated: the ministry declined to comment."))
    assert near is not None and near.article_id == "a" and 0 < near.distance <= MAX_DISTANCE
    assert "near-duplicate of https://a.example/a (simhash distance" in near.reason
    assert index.match(row("d", real_text("gala.fr.surnom.html"))) is None


def test_short_texts_are_only_compared_exactly() -> None:
    short = "Le conseil municipal a voté le budget lundi soir."
    assert len(short.split()) < MIN_WORDS
    index = DuplicateIndex()
    index.add(row("a", short))
    assert index.match(row("b", short + " Fin.")) is None
    assert index.match(row("c", short)).article_id == "a"


def test_a_short_text_or_a_paywalls_teaser_is_one_storys_only_under_one_title() -> None:
    """Different articles of a site may show the same short text or the same teaser ("Subscribe
    to read"): they are one story only when their titles agree too."""
    teaser = real_text("caymancompass.com-prison.html")
    index = DuplicateIndex()
    index.add({**row("a", teaser), "access": "paywall", "title": "Prison official: anyone could escape"})
    index.add({**row("b", "Watch the video."), "title": "Budget vote"})
    assert index.match({**row("c", teaser), "access": "paywall", "title": "Another story"}) is None
    assert index.match({**row("d", teaser + " More."), "access": "paywall", "title": "Another story"}) is None
    same = index.match({**row("e", teaser), "access": "paywall", "title": "Prison  official: Anyone could escape"})
    assert same is not None and same.article_id == "a"
    assert index.match({**row("f", "Watch the video."), "title": "Storm warning"}) is None
    assert index.match({**row("g", "Watch the video."), "title": "Budget vote"}).article_id == "b"
    assert index.match(row("h", teaser)) is None  # the free text of another article: not the teaser's row


def test_articles_sharing_a_template_are_not_one_story() -> None:
    """Two recipes of kiddokitchen.se (real pages): each a short lead inside the same testimonials
    and FAQ, which the extraction keeps, so their SimHashes are near; their titles differ, so
    both are rows. A story re-posted with a longer headline, or the very same text, is still merged."""
    rows = []
    for n, slug in ((1, "pasta-med-broccolipesto"), (2, "flygande-jacob-i-stekpanna")):
        url = f"https://kiddokitchen.se/recept/{slug}"
        ctx = {"dossier": "t", "url": url, "final_url": url, "source_kind": "urls", "source_url": "test",
               "fetched_at": datetime(2026, 1, 1, tzinfo=UTC), "http_status": 200, "pipeline_version": "test",
               "run_id": "r", "domains": ["kiddokitchen.se"], "timezone": "Europe/Stockholm"}
        body = (PAGES / f"kiddokitchen.se.recipe-{n}.sv.html").read_bytes()
        rows.append(extract_page(Page(0, url, body, "text/html", None, ctx))["record"])
    pasta, jacob = rows
    assert distance(pasta["text_simhash"], jacob["text_simhash"]) <= MAX_DISTANCE
    assert (pasta["title"], jacob["title"]) == ("Pasta med broccolipesto", "Flygande Jacob i stekpanna")
    index = DuplicateIndex()
    index.add(pasta)
    assert index.match(jacob) is None
    assert index.match({**jacob, "title": None}).article_id == pasta["article_id"]  # no title: the text decides
    assert index.match({**pasta, "article_id": "y", "title": "Lunch"}).article_id == pasta["article_id"]  # same text
    reposted = {**pasta, "article_id": "x", "title": "Pasta med broccolipesto: barnens favorit"}
    assert index.match(reposted).article_id == pasta["article_id"]
    assert same_story("Storm hits the coast", "Storm hits the coast, death toll rises to five")
    assert not same_story("Storm hits the coast", "Council votes the budget")
    assert same_story("東京で大雨", "東京で大雨、交通に乱れ") and not same_story("東京で大雨", "大阪の選挙結果")


def news_site(pages: dict[str, str]) -> LocalServer:
    def app(path: str, headers: dict[str, str]) -> Response:
        if path in pages:
            return Response(200, pages[path].encode(), HTML)
        return Response(404, b"not found", HTML)

    return LocalServer(app)


@pytest.mark.usefixtures("prefect_api")
def test_duplicates_are_merged_into_the_first_row_across_runs(tmp_path: Path) -> None:
    """The same story at three addresses of one site (each page its own canonical URL), one
    of them updated with a paragraph, and another story: two rows; a later copy merges too."""
    french = (PAGES / "fr-sputnik-style.html").read_text(encoding="utf-8")
    english = (PAGES / "en-wire-story.html").read_text(encoding="utf-8")
    marker = "<p>\"Les actions de nos forces aériennes"
    pages = {
        "/syrie/1018279452.html": french,
        "/international/1018279452.html": french,  # the same page filed under another section
        "/maj/1018279452.html": french.replace(marker, UPDATE + marker),  # updated re-post
        "/uk/storm.html": english,
    }
    with news_site(pages) as server:
        base = server.base_url
        config = write_config(tmp_path, """
[dossiers.syrie]
[[dossiers.syrie.sources]]
kind = "urls"
file = "urls.txt"
""")
        (tmp_path / "urls.txt").write_text("\n".join(base + path for path in pages) + "\n", encoding="utf-8")
        first = scrape_dossier("syrie", config_path=str(config), output=str(tmp_path / "out"))
        assert first["counts"]["written"] == 2 and first["counts"]["merged_duplicates"] == 2
        articles = tmp_path / "out" / "syrie" / "articles"
        df = pd.read_parquet(articles).set_index("url")
        assert len(df) == 2
        kept = df.loc[f"{base}/syrie/1018279452.html"]
        assert list(kept["duplicate_urls"]) == [f"{base}/international/1018279452.html", f"{base}/maj/1018279452.html"]
        assert list(df.loc[f"{base}/uk/storm.html", "duplicate_urls"]) == []
        ledger = pd.read_parquet(tmp_path / "out" / "syrie" / "urls").set_index("url")
        assert ledger.loc[f"{base}/international/1018279452.html", "reason"] == f"same text as {kept['canonical_url']}"
        assert ledger.loc[f"{base}/maj/1018279452.html", "reason"].startswith(
            f"near-duplicate of {kept['canonical_url']} (simhash distance ")
        assert (ledger[ledger.state == "duplicate"]["article_id"] == kept["article_id"]).all()
        card = (tmp_path / "out" / "syrie" / "README.md").read_text(encoding="utf-8")
        assert "2 other URLs with the same or nearly the same text were merged" in card

        # a rerun settles nothing new; a copy found later is merged into the stored row
        again = scrape_dossier("syrie", config_path=str(config), output=str(tmp_path / "out"))
        assert again["counts"]["written"] == 0 and again["counts"]["merged_duplicates"] == 0
        pages["/archives/1018279452.html"] = french
        with (tmp_path / "urls.txt").open("a", encoding="utf-8") as f:
            f.write(f"{base}/archives/1018279452.html\n")
        later = scrape_dossier("syrie", config_path=str(config), output=str(tmp_path / "out"))
    assert later["counts"]["merged_duplicates"] == 1 and later["counts"]["written"] == 0
    df = pd.read_parquet(articles).set_index("url")
    assert len(df) == 2
    assert list(df.loc[f"{base}/syrie/1018279452.html", "duplicate_urls"])[-1] == f"{base}/archives/1018279452.html"
