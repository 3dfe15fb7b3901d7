"""Extraction quality on real pages: the pipeline against plain trafilatura.

The fixture pages are served from a local 127.0.0.1 site and fetched through the
pipeline's own fetch code; the bodies go through the flow's extraction + normalisation
(tasks.workers.ExtractorPool, 2 processes by default). Plain trafilatura runs on the same
bytes and URLs: ``trafilatura.extract`` for the text, ``bare_extraction(with_metadata=True)``
for the metadata, both with their defaults. Printed per system: the share of "with"
snippets kept, of "without" snippets removed, date, title and author accuracy, and the tags'
set F1 (its "hits" are the sum of the F1 of the pages whose truth has tags).

    python bench/quality.py [FIXTURES_DIR] [--workers 2]
    python bench/quality.py --corpus tests/corpus [--workers 2] [--pages]

With ``--corpus`` (a directory with pages/ and truth.json, see tests/corpus/README.md) every
figure is printed for all pages, per language and per class, pipeline next to trafilatura:
coverage (class=article pages that become a stored row), the text's token F1 (pages whose whole
text the corpus holds, texts/<id>.txt), "with" kept, "without" removed, the
publisher's day, the datetime to the minute (pages whose truth has one), title, author token F1
and author set F1, tags (set F1), language, for the challenges and consent walls the share
ledgered as not stored, and for paywalled articles the share stored as a row whose ``access``
says paywall or registration. Plain trafilatura "stores" a page when it returns text; it gives
no time of day and no access, so those columns are n/a.
``--pages`` also prints, page by page, each figure where the pipeline scores below plain
trafilatura, with the truth and both outputs. ``--dump FILE`` (either mode) writes every page's
truth and both outputs to a JSON file, to study the misses.

Dates are compared as the page states the day (the local date of the chosen source value,
which published_at holds converted to UTC); titles and authors after whitespace and case
normalisation, authors as sets of names (a row's authors, else its agency: "Reuters" alone is
kept as ``agency``); titles also with typographic quotes as plain ones (a
truth may write "you’ve" where the page writes "you've", or the other way round). A corpus title is
the entry's ``headline`` when it has one: the source's title is then the <title> tag, site name and all.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import re
import time
import unicodedata
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urljoin, urlsplit

import trafilatura
import trafilatura.utils

ROOT = Path(__file__).resolve().parents[1]


from dossier_pipeline.tasks.config import Settings  # noqa: E402
from dossier_pipeline.tasks.demo.server import LocalServer, Response  # noqa: E402
from dossier_pipeline.tasks.extract import TRAFILATURA_FILTER, Page  # noqa: E402
from dossier_pipeline.tasks.fetch import Politeness, fetch_all  # noqa: E402
from dossier_pipeline.tasks.normalise import QUOTES, publisher_day  # noqa: E402
from dossier_pipeline.tasks.workers import ExtractorPool  # noqa: E402

NAME_SPLIT = re.compile(r"\s*(?:;|,|&|\band\b|\bund\b|\bet\b)\s*", re.IGNORECASE)


def _norm(text: str | None) -> str:
    return unicodedata.normalize("NFC", " ".join((text or "").split())).casefold()


def _same_title(expected: str | None, found: str | None) -> bool:
    return _norm(expected).translate(QUOTES) == _norm(found).translate(QUOTES)


def _credited(record: dict[str, Any]) -> list[str]:
    """Who the row credits: its authors, else its agency ("Reuters" alone is an agency's byline,
    which the schema keeps in ``agency``, not in ``authors``)."""
    return list(record.get("authors") or []) or [a for a in (record.get("agency") or "").split(", ") if a]


def _names(value: str | None) -> frozenset[str]:
    return frozenset(n for n in (_norm(p) for p in NAME_SPLIT.split(value or "")) if n)


def _local_day(record: dict[str, Any]) -> str | None:
    """The publication day as the publisher states it (published_at is in UTC)."""
    day = publisher_day(record.get("published_at"), record.get("published_at_local"))
    return day.isoformat() if day else None


def _route(path: str) -> str:
    """A path as the HTTP client sends it: dot segments resolved, no trailing slash."""
    return urlsplit(urljoin("http://h/", path)).path.rstrip("/")


def serve(fixtures: Path, expectations: dict[str, dict]) -> tuple[LocalServer, dict[str, str]]:
    """Each page at /<original host><original path>, so URL-borne dates stay visible."""
    routes: dict[str, str] = {}
    urls: dict[str, str] = {}
    for name, exp in expectations.items():
        parts = urlsplit(exp["url"])
        path = unquote(f"/{parts.hostname or 'site'}{parts.path or '/'}")
        routes[_route(path)] = name
        urls[name] = quote(path, safe="/:@-._~!$&'()*+,;=")

    def app(path: str, headers: dict[str, str]) -> Response:
        name = routes.get(_route(unquote(urlsplit(path).path)))
        if name is None:
            return Response(404, b"not found")
        return Response(200, (fixtures / "pages" / name).read_bytes(), {"Content-Type": "text/html"})

    server = LocalServer(app)
    return server, {name: server.base_url + path for name, path in urls.items()}


def fetch_pages(urls: dict[str, str]) -> dict[str, tuple[str, bytes, Page]]:
    """Fetch every page through tasks.fetch and build the Page the flow would build."""
    settings = Settings(allow_private_addresses=True, requests_per_second=1000, max_connections_per_host=16,
                        respect_robots_txt=False)
    names = sorted(urls)
    results = asyncio.run(fetch_all([urls[n] for n in names], Politeness(settings), ["127.0.0.1"]))
    pages = {}
    for key, (name, result) in enumerate(zip(names, results, strict=True)):
        if not result.ok:
            raise SystemExit(f"fetch of {name} failed: {result.reason}")
        ctx = {"dossier": "bench", "url": urls[name], "final_url": result.final_url, "source_kind": "urls",
               "source_url": "bench", "fetched_at": result.fetched_at, "http_status": result.status,
               "content_type": result.headers.get("content-type"), "etag": None,
               "last_modified": result.headers.get("last-modified"), "pipeline_version": "bench", "run_id": "bench",
               "domains": ["127.0.0.1"], "timezone": "UTC", "hints": {}, "furniture": {}}
        page = Page(key, result.final_url or urls[name], result.body, result.headers.get("content-type"), None, ctx)
        pages[name] = (urls[name], result.body, page)
    return pages


def as_plain_trafilatura() -> None:
    """A worker's trafilatura as installed: importing this module imported the pipeline's
    extraction, which keeps the zero-width joiners trafilatura drops (extract.TRAFILATURA_FILTER)."""
    trafilatura.utils.return_printables_and_spaces = TRAFILATURA_FILTER
    trafilatura.utils.line_processing.cache_clear()


def plain_trafilatura(item: tuple[str, str, bytes]) -> tuple[str, dict[str, Any]]:
    name, url, body = item
    text = trafilatura.extract(body, url=url)
    doc = trafilatura.bare_extraction(body, url=url, with_metadata=True)
    return name, {"text": text or "", "date": doc.date if doc else None, "title": doc.title if doc else None,
                  "author": doc.author if doc else None, "tags": list(doc.tags or []) if doc else [],
                  "language": doc.language if doc else None}


def score(expectations: dict[str, dict], outputs: dict[str, dict[str, Any]]) -> dict[str, tuple[float, int]]:
    """(hits, total) per figure; for tags, the sum of the pages' set F1."""
    figures: dict[str, list[float]] = {k: [0, 0] for k in ("with kept", "without removed", "date", "title", "author",
                                                           "tags F1")}
    for name, exp in expectations.items():
        out = outputs[name]
        text = out["text"]
        for key, snippets, hit in (("with kept", exp["with"], True), ("without removed", exp["without"], False)):
            figures[key][0] += sum((s in text) == hit for s in snippets)
            figures[key][1] += len(snippets)
        for key, same in (("date", lambda e, o: e == o), ("title", lambda e, o: _same_title(e, o)),
                          ("author", lambda e, o: _names(e) == _names(o))):
            if exp.get(key):
                figures[key][0] += bool(out[key]) and same(exp[key], out[key])
                figures[key][1] += 1
        if exp.get("tags"):
            figures["tags F1"][0] += _f1({_norm(t) for t in exp["tags"]}, {_norm(t) for t in out["tags"]})
            figures["tags F1"][1] += 1
    return {k: (v[0], int(v[1])) for k, v in figures.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("fixtures", nargs="?", default=str(ROOT.parent / "shared" / "fixtures"),
                        help="directory with pages/ and expectations.json (default: ../shared/fixtures)")
    parser.add_argument("--corpus", metavar="DIR", help="score the corpus in DIR (pages/ and truth.json) instead, "
                        "per language and per class")
    parser.add_argument("--workers", type=int, default=2, help="extraction processes (default 2)")
    parser.add_argument("--pages", action="store_true", help="with --corpus: print the pages where the pipeline "
                        "scores below trafilatura")
    parser.add_argument("--dump", metavar="FILE", help="also write each page's truth and both outputs to FILE (JSON), "
                        "to study the misses")
    args = parser.parse_args()
    if args.corpus:
        corpus_main(Path(args.corpus), args.workers, args.pages, args.dump)
        return
    fixtures = Path(args.fixtures)
    expectations: dict[str, dict] = json.loads((fixtures / "expectations.json").read_text(encoding="utf-8"))

    started = time.monotonic()
    server, urls = serve(fixtures, expectations)
    try:
        pages = fetch_pages(urls)
    finally:
        server.close()
    fetched = time.monotonic()

    pool = ExtractorPool(args.workers)
    try:
        results = pool.extract([page for _, _, page in pages.values()])
    finally:
        pool.close()
    by_key = {r["key"]: r for r in results}
    ours: dict[str, dict[str, Any]] = {}
    statuses: dict[str, int] = {}
    for name, (_, _, page) in pages.items():
        result = by_key[page.key]
        status = str(result["status"])
        statuses[status] = statuses.get(status, 0) + 1
        record = result.get("record") or {}
        ours[name] = {"text": record.get("text") or "", "date": _local_day(record) if record else None,
                      "title": record.get("title"), "author": "; ".join(_credited(record)),
                      "tags": list(record.get("tags") or []),
                      "utc_day": record["published_at"].date().isoformat() if record.get("published_at") else None}
    extracted = time.monotonic()

    context = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(args.workers, mp_context=context, initializer=as_plain_trafilatura) as executor:
        items = [(name, url, body) for name, (url, body, _) in pages.items()]
        theirs = dict(executor.map(plain_trafilatura, items, chunksize=8))
    finished = time.monotonic()

    mine, base = score(expectations, ours), score(expectations, theirs)
    if args.dump:
        dump(args.dump, expectations, ours, theirs)
    print(f"{len(expectations)} pages from {fixtures}; pipeline statuses {statuses}")
    print(f"fetch {fetched - started:.1f} s, pipeline {extracted - fetched:.1f} s, "
          f"trafilatura {finished - extracted:.1f} s ({args.workers} processes)")
    print(f"{'figure':<18}{'pipeline':>22}{'trafilatura':>22}")
    worse = []
    for key in mine:
        (h1, n1), (h2, n2) = mine[key], base[key]
        print(f"{key:<18}{h1:>9.0f}/{n1:<4} {h1 / n1:6.1%}{h2:>9.0f}/{n2:<4} {h2 / n2:6.1%}")
        if h1 < h2:
            worse.append(key)
    print("pipeline matches or beats trafilatura on every figure" if not worse
          else f"pipeline is worse on: {', '.join(worse)}")
    dated = [name for name, exp in expectations.items() if exp.get("date")]
    utc = sum(ours[name]["utc_day"] == expectations[name]["date"] for name in dated)
    print(f"(published_at's UTC day equals the expected day on {utc}/{len(dated)} pages: "
          "a local day differs from the UTC one around midnight)")
    print(f"(run at {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, trafilatura {trafilatura.__version__})")


# --- the corpus (tests/corpus): every figure per language and per class ---

FIGURES = ("coverage", "text F1", "with kept", "without removed", "day", "datetime", "title", "author tokens F1",
           "author set F1", "tags F1", "language", "not stored", "paywall access")
# Text tokens: words, and each character of the scripts written without spaces (CJK).
TEXT_TOKEN = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]|\w+")


def _f1(expected: set[str], got: set[str]) -> float:
    if not expected and not got:
        return 1.0
    common = len(expected & got)
    return 0.0 if not common else 2 * common / (len(expected) + len(got))


def _text_f1(expected: str, got: str) -> float:
    """F1 of the text's tokens counted with repeats (precision: of the tokens extracted, recall:
    of the article's), as article-extraction benchmarks score a whole text."""
    want, have = (Counter(TEXT_TOKEN.findall(_nfc(t).casefold())) for t in (expected, got))
    common = sum((want & have).values())
    return 0.0 if not common else 2 * common / (sum(want.values()) + sum(have.values()))


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _tokens(names: list[str]) -> set[str]:
    return {t for n in names for t in re.findall(r"\w+", n.casefold())}


def _minute(value: datetime | str | None) -> str | None:
    if value is None:
        return None
    parsed = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        return None
    return parsed.astimezone(UTC).strftime("%Y-%m-%dT%H:%M")


def score_corpus(truth: dict[str, dict], outputs: dict[str, dict[str, Any]]) -> dict[str, dict[str, list[float]]]:
    """{group: {figure: [sum of hits, pages]}} for the groups all, lang:<code> and class:<class>."""
    groups: dict[str, dict[str, list[float]]] = {}
    for page_id, exp in truth.items():
        out = outputs[page_id]
        cls = exp["class"]
        marks: dict[str, float] = {}
        if cls == "article":
            marks["coverage"] = float(out["stored"])
        if cls in ("challenge", "consent"):
            marks["not stored"] = float(not out["stored"])
        if cls == "paywall" and out.get("access", False) is not False:
            # A paywalled article is a row (its teaser, title, date, byline) that says it is paywalled.
            marks["paywall access"] = float(out["stored"] and out["access"] in ("paywall", "registration"))
        # Canonically equivalent text is the same text: extractors may NFC-normalise what a page writes otherwise.
        text = _nfc(" ".join(out["text"].split()))
        if exp.get("text") and cls == "article":
            marks["text F1"] = _text_f1(exp["text"], out["text"] if out["stored"] else "")
        if exp["with"]:
            marks["with kept"] = sum(_nfc(s) in text for s in exp["with"]) / len(exp["with"])
        if exp["without"] and cls in ("article", "paywall"):
            marks["without removed"] = sum(_nfc(s) not in text for s in exp["without"]) / len(exp["without"])
        if exp.get("date"):
            marks["day"] = float(out["day"] == exp["date"])
        if exp.get("datetime") and out.get("datetime", False) is not False:
            marks["datetime"] = float(_minute(out["datetime"]) == _minute(exp["datetime"]))
        if exp.get("title") and cls == "article":
            marks["title"] = float(_same_title(exp.get("headline") or exp["title"], out["title"]))
        if "authors" in exp and cls == "article":
            marks["author tokens F1"] = _f1(_tokens(exp["authors"]), _tokens(out["authors"]))
            marks["author set F1"] = _f1({_norm(a) for a in exp["authors"]}, {_norm(a) for a in out["authors"]})
        if exp.get("tags"):
            marks["tags F1"] = _f1({_norm(t) for t in exp["tags"]}, {_norm(t) for t in out["tags"]})
        if exp.get("language") and cls == "article":
            marks["language"] = float((out["language"] or "").split("-")[0].lower() == exp["language"])
        for group in ("all", f"lang:{exp['language']}", f"class:{cls}"):
            figures = groups.setdefault(group, {})
            figures.setdefault("pages", [0.0, 0.0])[1] += 1
            for key, value in marks.items():
                cell = figures.setdefault(key, [0.0, 0.0])
                cell[0] += value
                cell[1] += 1
    return groups


def _cell(figures: dict[str, list[float]], key: str) -> str:
    if key not in figures:
        return "-"
    hits, total = figures[key]
    return f"{100 * hits / total:.0f}"


def worse_pages(truth: dict[str, dict], ours: dict[str, dict[str, Any]], theirs: dict[str, dict[str, Any]]) -> None:
    """Each page and figure where the pipeline scores below trafilatura: truth, pipeline, trafilatura."""
    fields = {"text F1": "text", "with kept": "text", "without removed": "text", "day": "day", "title": "title",
              "author tokens F1": "authors", "author set F1": "authors", "tags F1": "tags", "language": "language",
              "coverage": "stored", "not stored": "stored"}
    truth_of = {"day": "date", "authors": "authors", "title": "title", "tags": "tags", "language": "language"}
    for page_id in sorted(truth):
        one = {page_id: truth[page_id]}
        mine = score_corpus(one, {page_id: ours[page_id]})["all"]
        base = score_corpus(one, {page_id: theirs[page_id]})["all"]
        for key, field in fields.items():
            if key in mine and mine[key][0] < base[key][0]:
                if field == "text":
                    print(f"{page_id}: {key} {mine[key][0]:.2f} < {base[key][0]:.2f}")
                    continue
                print(f"{page_id}: {key}: truth {truth[page_id].get(truth_of.get(field, field))!r}, "
                      f"pipeline {ours[page_id][field]!r}, trafilatura {theirs[page_id][field]!r}")


def dump(path: str, truth: dict[str, dict], ours: dict[str, dict[str, Any]], theirs: dict[str, dict[str, Any]]) -> None:
    """{page: {truth, pipeline, trafilatura}} as JSON (datetimes as ISO 8601)."""
    pages = {name: {"truth": truth[name], "pipeline": ours[name], "trafilatura": theirs[name]} for name in truth}
    Path(path).write_text(json.dumps(pages, ensure_ascii=False, indent=1, default=str), encoding="utf-8")


def corpus_main(root: Path, workers: int, per_page: bool = False, dump_to: str | None = None) -> None:
    from corpus import load_corpus, serve_corpus

    truth = load_corpus(root)
    started = time.monotonic()
    server, urls = serve_corpus(root, truth)
    try:
        pages = fetch_pages(urls)
    finally:
        server.close()
    fetched = time.monotonic()

    pool = ExtractorPool(workers)
    try:
        results = pool.extract([page for _, _, page in pages.values()])
    finally:
        pool.close()
    by_key = {r["key"]: r for r in results}
    ours: dict[str, dict[str, Any]] = {}
    statuses: dict[str, int] = {}
    for name, (_, _, page) in pages.items():
        result = by_key[page.key]
        status = str(result["status"])
        statuses[status] = statuses.get(status, 0) + 1
        stored = result["status"] == "ok"
        record = (result.get("record") or {}) if stored else {}
        ours[name] = {"stored": stored, "text": record.get("text") or "",
                      "day": _local_day(record) if record else None,
                      "datetime": record.get("published_at") if record.get("date_precision") == "second" else None,
                      "title": record.get("title"), "authors": _credited(record),
                      "tags": list(record.get("tags") or []), "language": record.get("language"),
                      "access": record.get("access")}
    extracted = time.monotonic()

    context = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=as_plain_trafilatura) as executor:
        items = [(name, url, body) for name, (url, body, _) in pages.items()]
        plain = dict(executor.map(plain_trafilatura, items, chunksize=8))
    theirs = {name: {"stored": bool(out["text"].strip()), "text": out["text"], "day": out["date"],
                     "datetime": False, "title": out["title"],
                     "authors": [n for n in (p.strip() for p in NAME_SPLIT.split(out["author"] or "")) if n],
                     "tags": out["tags"], "language": out["language"], "access": False}
              for name, out in plain.items()}
    finished = time.monotonic()

    mine, base = score_corpus(truth, ours), score_corpus(truth, theirs)
    if dump_to:
        dump(dump_to, truth, ours, theirs)
    if per_page:
        worse_pages(truth, ours, theirs)
    print(f"{len(truth)} pages from {root}; pipeline statuses {statuses}")
    print(f"fetch {fetched - started:.1f} s, pipeline {extracted - fetched:.1f} s, "
          f"trafilatura {finished - extracted:.1f} s ({workers} processes)")
    print("each cell: pipeline % / trafilatura % (\"-\": no page of the group has that truth; "
          "n/a: trafilatura gives no time of day and no access)")
    short = {"coverage": "cover", "text F1": "txtF1", "with kept": "with", "without removed": "w/o", "day": "day",
             "datetime": "dtime", "title": "title", "author tokens F1": "autTok", "author set F1": "autSet",
             "tags F1": "tags", "language": "lang", "not stored": "notSto", "paywall access": "paywal"}
    header = f"{'group':<16}{'pages':>6} " + "".join(f"{short[k]:>9}" for k in FIGURES)
    print(header)
    classes = sorted((g for g in mine if g.startswith("class:")), key=lambda g: -mine[g]["pages"][1])
    languages = sorted((g for g in mine if g.startswith("lang:")), key=lambda g: (-mine[g]["pages"][1], g))
    order = ["all", *classes, *languages]
    for group in order:
        cells = []
        for key in FIGURES:
            ours_cell = _cell(mine[group], key)
            no_figure = key in ("datetime", "paywall access") and ours_cell != "-"
            theirs_cell = "n/a" if no_figure else _cell(base[group], key)
            cells.append(f"{ours_cell}/{theirs_cell}" if ours_cell != "-" else "-")
        print(f"{group:<16}{int(mine[group]['pages'][1]):>6} " + "".join(f"{c:>9}" for c in cells))
    counts = {key: int(mine["all"][key][1]) for key in FIGURES if key in mine["all"]}
    print("pages with each truth: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    print(f"(run at {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, trafilatura {trafilatura.__version__})")


if __name__ == "__main__":
    main()
