"""Per-page CPU cost of extraction, stage by stage, against plain trafilatura.

Extraction is the pipeline's bottleneck (CPU-bound, one process per core). This measures,
in one process on the fixture pages held in memory, the CPU time (``time.process_time``:
unlike wall time, barely moved by other programs sharing the cores) of:

* plain ``trafilatura.bare_extraction(body, url=…, with_metadata=True)`` (its defaults);
* ``extract_page`` end to end plus ``blocks.classify``, as a worker runs them;
* each of their stages, run in the same order on the same data: decode, parse, the
  class-name furniture rules, page_signals, the trafilatura call (fast mode, and the
  default mode again on a short result), furniture pruning + serialisation, build_record
  (normalisation, with the scans for a visible byline and tag links on a page whose markup
  names no writer or tags; without SimHash), SimHash, blocks.classify.

Every page is measured ``--repeats`` times after a warm-up pass (trafilatura, htmldate and
dateparser fill caches on first use, as in a long-running worker); a page's figure is its
fastest repeat, which discards the moments the process lost its caches to a neighbour.

    python bench/extract_cpu.py FIXTURES_DIR [--repeats 3] [--limit N] [--profile 30]
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import trafilatura

ROOT = Path(__file__).resolve().parents[1]


from dossier_pipeline.tasks.blocks import classify, declares_paywall  # noqa: E402
from dossier_pipeline.tasks.dedup import simhash  # noqa: E402
from dossier_pipeline.tasks.encoding import decode_html  # noqa: E402
from dossier_pipeline.tasks.extract import (  # noqa: E402
    Page,
    VisibleText,
    article_document,
    article_text,
    extract_page,
    extracted_fields,
    page_signals,
    parse_html,
)
from dossier_pipeline.tasks.furniture import match_classes, rules_for  # noqa: E402
from dossier_pipeline.tasks.normalise import build_record  # noqa: E402

STAGES = (
    "decode",
    "parse",
    "furniture classes",
    "page_signals",
    "trafilatura call",
    "prune + serialise",
    "build_record (no simhash)",
    "simhash",
    "blocks.classify",
)


def load_pages(fixtures: Path, limit: int | None) -> list[Page]:
    """The fixture pages as the flow's workers receive them (original URLs, so URL-borne
    dates count; pages without one get a made-up address)."""
    expectations: dict[str, dict[str, Any]] = json.loads((fixtures / "expectations.json").read_text("utf-8"))
    pages = []
    for key, name in enumerate(sorted(expectations)[:limit]):
        url = expectations[name]["url"]
        if not url.startswith(("http://", "https://")):
            url = f"http://site.invalid/{name}"
        ctx = {
            "dossier": "bench",
            "url": url,
            "final_url": url,
            "source_kind": "urls",
            "source_url": "bench",
            "fetched_at": datetime(2030, 1, 1, tzinfo=UTC),
            "http_status": 200,
            "content_type": "text/html",
            "etag": None,
            "last_modified": None,
            "pipeline_version": "bench",
            "run_id": "bench",
            "domains": [urlsplit(url).hostname or "site.invalid"],
            "timezone": "UTC",
            "hints": {},
            "furniture": {},
        }
        pages.append(Page(key, url, (fixtures / "pages" / name).read_bytes(), "text/html", None, ctx))
    return pages


def staged(page: Page) -> dict[str, float]:
    """CPU seconds of each stage of one page, in extract_page's order (tasks/extract.py)."""
    clock = time.process_time
    out = dict.fromkeys(STAGES, 0.0)
    t0 = clock()
    html = decode_html(page.body, page.content_type, page.url)
    t1 = clock()
    tree = parse_html(html)
    t2 = clock()
    classes = match_classes(tree)
    t2b = clock()
    rules = rules_for(page.language, page.ctx.get("furniture"))
    signals = page_signals(tree, rules, classes)
    t3 = clock()
    doc = article_document(tree, page.url, rules, declares_paywall(html))
    t4 = clock()
    out.update(
        {
            "decode": t1 - t0,
            "parse": t2 - t1,
            "furniture classes": t2b - t2,
            "page_signals": t3 - t2b,
            "trafilatura call": t4 - t3,
        }
    )
    result: dict[str, Any] = {"key": page.key, "status": "not_article"}
    if doc is not None:
        text, text_markdown = article_text(doc.body, signals, rules)
        t5 = clock()
        extracted = extracted_fields(doc, text, text_markdown, signals)
        record = build_record({**page.ctx, "raw_sha256": "", "language": page.language}, extracted,
                              VisibleText(tree))
        t6 = clock()
        simhash(text)
        t7 = clock()
        result = {"key": page.key, "status": "ok", "record": record}
        out.update(
            {"prune + serialise": t5 - t4, "build_record (no simhash)": (t6 - t5) - (t7 - t6), "simhash": t7 - t6}
        )
    t8 = clock()
    classify(page.body, result)
    out["blocks.classify"] = clock() - t8
    return out


def end_to_end(page: Page) -> float:
    start = time.process_time()
    classify(page.body, extract_page(page))
    return time.process_time() - start


def plain(page: Page) -> float:
    start = time.process_time()
    trafilatura.bare_extraction(page.body, url=page.url, with_metadata=True)
    return time.process_time() - start


def fastest(pages: list[Page], repeats: int, measure: Callable[[Page], Any]) -> list[Any]:
    """Per page, the fastest of ``repeats`` measures (per key when a measure is a dict)."""
    best: list[Any] = [None] * len(pages)
    for _ in range(repeats):
        for i, page in enumerate(pages):
            value = measure(page)
            if best[i] is None:
                best[i] = value
            elif isinstance(value, dict):
                best[i] = {k: min(v, best[i][k]) for k, v in value.items()}
            else:
                best[i] = min(value, best[i])
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("fixtures", help="directory with pages/ and expectations.json")
    parser.add_argument("--repeats", type=int, default=3, help="measures per page, the fastest counts (default 3)")
    parser.add_argument("--limit", type=int, default=None, help="only the first N pages (by file name)")
    parser.add_argument(
        "--profile",
        type=int,
        default=0,
        metavar="N",
        help="also print the N functions of extract_page with the most own CPU time (cProfile)",
    )
    args = parser.parse_args()
    pages = load_pages(Path(args.fixtures), args.limit)

    for page in pages:  # warm-up: lazy imports, language model, date parsers' caches
        end_to_end(page)
        plain(page)
    base = sum(fastest(pages, args.repeats, plain))
    ours = sum(fastest(pages, args.repeats, end_to_end))
    per_stage = fastest(pages, args.repeats, staged)
    stages = {name: sum(page[name] for page in per_stage) for name in STAGES}

    n = len(pages)
    print(
        f"{n} pages from {args.fixtures}, CPU time per page (fastest of {args.repeats} after a warm-up), "
        f"one process, trafilatura {trafilatura.__version__}"
    )
    print(f"{'':<44}{'ms/page':>9}{'share':>8}")
    for name, seconds in stages.items():
        print(f"  {name:<42}{seconds / n * 1000:>9.2f}{seconds / ours:>8.1%}")
    print(f"  {'sum of the stages':<42}{sum(stages.values()) / n * 1000:>9.2f}{sum(stages.values()) / ours:>8.1%}")
    print(f"{'extract_page + classify, end to end':<44}{ours / n * 1000:>9.2f}{1:>8.0%}")
    print(f"{'trafilatura.bare_extraction(with_metadata)':<44}{base / n * 1000:>9.2f}{base / ours:>8.0%}")
    print(f"ours / trafilatura: {ours / base:.2f} (one core: {n / ours:.1f} vs {n / base:.1f} pages/s)")

    if args.profile:
        profile = cProfile.Profile()
        profile.enable()
        for page in pages:
            end_to_end(page)
        profile.disable()
        pstats.Stats(profile).sort_stats("tottime").print_stats(args.profile)


if __name__ == "__main__":
    main()
