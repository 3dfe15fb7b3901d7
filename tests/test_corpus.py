"""The development corpus (tests/corpus): its truth is complete and every page is served at its own address."""

from __future__ import annotations

import importlib.util
import json
import urllib.request
from collections import Counter
from pathlib import Path
from types import ModuleType

CORPUS = Path(__file__).parent / "corpus"
CLASSES = {"article", "paywall", "challenge", "consent"}


def _bench_corpus() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_corpus", Path(__file__).parents[1] / "bench" / "corpus.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_truth_names_every_page_with_a_class_a_language_and_snippets() -> None:
    truth = _bench_corpus().load_corpus(CORPUS)
    assert {p.stem for p in (CORPUS / "pages").glob("*.html")} == set(truth)
    for page_id, entry in truth.items():
        assert entry["class"] in CLASSES, page_id
        assert entry["language"] and entry["source"] and entry["licence"], page_id
        assert entry["class"] != "article" or entry["with"], f"{page_id}: an article needs 'with' snippets"
        assert set(entry.get("hand_made", [])) <= set(entry), page_id
    languages = Counter(entry["language"] for entry in truth.values())
    # The README's counts are the truth's: keep them in step when pages are added.
    readme = (CORPUS / "README.md").read_text(encoding="utf-8")
    assert f"Per language ({len(languages)}):" in readme
    assert len(languages) >= 20


def test_each_page_is_served_at_its_original_path_and_query() -> None:
    bench = _bench_corpus()
    truth = json.loads((CORPUS / "truth.json").read_text(encoding="utf-8"))
    # Two captures of one site that differ only in their query string, and a page whose query is its identity.
    chosen = {k: truth[k] for k in ("challenge-flaresolverr-cloudflare-init-v1",
                                    "challenge-flaresolverr-cloudflare-spinner-v1", "rs-cooktalk_1")}
    server, urls = bench.serve_corpus(CORPUS, chosen)
    try:
        assert urls["rs-cooktalk_1"].endswith("/cook-talk.com/?p=3163")
        for page_id, url in urls.items():
            with urllib.request.urlopen(url, timeout=10) as response:
                assert response.read() == (CORPUS / "pages" / f"{page_id}.html").read_bytes(), page_id
    finally:
        server.close()
