"""Precision and recall of the interstitial classifier (tasks/blocks.py) on real pages.

Every page is extracted and classified as an extraction worker does (workers.process_chunk).
Real articles must never be taken for an interstitial (blocked) nor lost as not_article
for a paywall; real interstitials (bot challenges, consent walls) must be recognised, and a
paywalled article kept with its ``access``.

    python bench/blocks.py [--corpus tests/corpus] [--articles DIR ...]

``--articles`` adds directories of real article pages (``*.html``, e.g. tests/site/pages,
tests/pages, a fixtures directory's pages/); the corpus gives articles and interstitials
by its truth's ``class``.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dossier_pipeline.tasks.extract import Page
from dossier_pipeline.tasks.workers import process_chunk

INTERSTITIALS = {"challenge": "bot_challenge", "consent": "consent_wall"}


def page(key: int, body: bytes, url: str) -> Page:
    host = url.split("/")[2]
    ctx = {"dossier": "bench", "url": url, "final_url": url, "source_kind": "urls", "source_url": "bench",
           "fetched_at": datetime.now(UTC), "http_status": 200, "pipeline_version": "bench", "run_id": "bench",
           "domains": [host], "timezone": "UTC"}
    return Page(key, url, body, "text/html", None, ctx)


def pages(corpus: Path | None, article_dirs: list[Path]) -> list[tuple[str, str, bytes, str]]:
    """(name, class, body, url) of every page."""
    out = []
    for directory in article_dirs:
        for path in sorted(directory.glob("*.html")):
            out.append((str(path), "article", path.read_bytes(), f"https://{path.stem[:40] or 'site'}.example/a/1"))
    if corpus is not None:
        truth: dict[str, dict[str, Any]] = json.loads((corpus / "truth.json").read_text(encoding="utf-8"))
        for page_id, entry in truth.items():
            out.append((page_id, entry["class"], (corpus / "pages" / f"{page_id}.html").read_bytes(), entry["url"]))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=None, help="a corpus directory (truth.json, pages/)")
    parser.add_argument("--articles", type=Path, nargs="*", default=[], help="directories of real article pages")
    args = parser.parse_args()
    items = pages(args.corpus, args.articles)
    results = process_chunk([page(i, body, url) for i, (_, _, body, url) in enumerate(items)], 60.0)
    outcome: Counter[tuple[str, str]] = Counter()
    misses = []
    for (name, kind, _, _), result in zip(items, results, strict=True):
        status = result["status"]
        got = result["reason"] if status == "blocked" else (
            f"kept ({result['record'].get('access', 'free')})" if status == "ok" else status)
        outcome[(kind, got)] += 1
        access = result["record"].get("access", "free") if status == "ok" else None
        right = {"article": status == "ok", "paywall": access in ("paywall", "registration")}.get(
            kind, status == "blocked" and result["reason"] == INTERSTITIALS.get(kind))
        if not right:
            misses.append(f"  {kind:<10} {got:<22} {name}")
    for (kind, got), n in sorted(outcome.items()):
        print(f"{kind:<10} {got:<22} {n:>5}")
    blocked_right = sum(n for (kind, got), n in outcome.items() if INTERSTITIALS.get(kind) == got)
    blocked_all = sum(n for (kind, got), n in outcome.items() if got in INTERSTITIALS.values() or got == "error_page")
    interstitials = sum(n for (kind, _), n in outcome.items() if kind in INTERSTITIALS)
    articles = sum(n for (kind, _), n in outcome.items() if kind in ("article", "paywall"))
    articles_blocked = sum(n for (kind, got), n in outcome.items() if kind in ("article", "paywall")
                           and got in (*INTERSTITIALS.values(), "error_page"))
    print(f"real articles: {articles}, taken for an interstitial: {articles_blocked} "
          f"(articles kept from the classifier: {1 - articles_blocked / max(articles, 1):.4f})")
    print(f"interstitial decisions: precision {blocked_right / max(blocked_all, 1):.4f}, "
          f"recall {blocked_right / max(interstitials, 1):.4f} ({blocked_right} of {interstitials})")
    if misses:
        print("not as expected:\n" + "\n".join(misses))


if __name__ == "__main__":
    main()
