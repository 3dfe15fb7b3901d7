"""The `dossier` command line: run, validate, list, demo, show, reextract, export."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from tasks.config import ConfigError, load_config
from tasks.demo.site import DEMO_PORT, demo_config, serve_demo
from tasks.store import OutputError, Store

LOAD_HINT = """\
Load it in a notebook:
    import pandas as pd
    df = pd.read_parquet("{path}")
or, with typed year/month and filters read from the matching files only:
    from tasks.load import load_articles
    df = load_articles("{root}", start="2024-03-01", end="2024-04-01")"""


def _quiet_prefect(verbose: bool) -> None:
    """Prefect logs every task run at INFO; the CLI prints its own summary instead.
    Must run before prefect is imported."""
    if not verbose:
        os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_SERVER_LOGGING_LEVEL", "WARNING")


def _check_output(output: str, slugs: list[str]) -> None:
    """Fail before Prefect starts when the output directory cannot be written."""
    for slug in slugs:
        Store(output, slug, "").prepare()


def _print_summary(record: dict[str, Any]) -> None:
    c = record["counts"]
    expected = c["expected"] if c["expected"] is not None else "?"
    print(f"\n{record['dossier']}: run {record['run_id']}")
    print(f"  expected {expected} · discovered {c['discovered']} · fetched {c['fetched']} · "
          f"written {c['written']} (updated {c['updated']}) · unchanged {c['unchanged']} · "
          f"duplicate {c['duplicate']} · skipped {c['skipped']} · not article {c['not_article']} · "
          f"blocked {c['blocked']} · failed {c['failed']}")
    if record.get("incomplete"):
        print(f"  note: the site states {c['expected']} articles but {c['discovered']} were discovered")
    for reason, count in list(record["reasons"].items())[:8]:
        print(f"  {count:>6} × {reason}")
    for failure in record["source_failures"][:5]:
        print(f"  source problem: {failure['source_url']}: {failure['reason']}")
    for host, kinds in record["blocked_by_host"].items():
        print(f"  blocked at {host}: " + ", ".join(f"{n} {kind}" for kind, n in kinds.items()))
    print(f"  dataset: {record['dataset']}")


def _run_flows(config_path: str, slugs: list[str], output: str, limit: int | None = None,
               refresh: bool = False, batch_size: int = 256) -> list[dict[str, Any]]:
    from flows.scrape import scrape_dossier
    from tasks.steps import wait_for_task_run_records

    records = [scrape_dossier(slug, config_path=config_path, output=output, limit=limit, refresh=refresh,
                              batch_size=batch_size) for slug in slugs]
    for record in records:
        wait_for_task_run_records(record["run_id"], record["prefect_task_runs"])
    return records


def cmd_run(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    if args.all == bool(args.slug):
        raise ConfigError("give a dossier SLUG or --all (not both)")
    slugs = sorted(config.dossiers) if args.all else [config.get(args.slug).slug]
    _check_output(args.output, slugs)
    for record in _run_flows(args.config, slugs, args.output, args.limit, args.refresh, args.batch_size):
        _print_summary(record)
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    for slug, dossier in config.dossiers.items():
        kinds = ", ".join(s.kind for s in dossier.sources)
        print(f"{slug}: {len(dossier.sources)} source(s) ({kinds}); domains: {', '.join(dossier.domains)}")
    print(f"{args.config}: OK, {len(config.dossiers)} dossier(s)")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    for slug, dossier in config.dossiers.items():
        store = Store(args.output, slug, "")
        line = f"{slug}: {dossier.title or ''}"
        if store.articles.exists():
            table = store.read_articles(["published_at"])
            runs = store.read_runs()
            span = ""
            if table.num_rows:
                import pyarrow.compute as pc

                lo, hi = pc.min(table["published_at"]).as_py(), pc.max(table["published_at"]).as_py()
                if lo and hi:
                    span = f", published {lo:%Y-%m-%d} … {hi:%Y-%m-%d}"
            last = f", last run {runs[-1]['finished_at'][:19]}" if runs else ""
            line += f"\n    {table.num_rows} articles{span}, {len(runs)} run(s){last} — {store.root}"
        else:
            line += "\n    no dataset yet"
        print(line)
    return 0


def _dataset(args: argparse.Namespace) -> Store:
    """The dataset of the dossier named on the command line; it must exist."""
    store = Store(args.output, load_config(args.config).get(args.slug).slug, "")
    if not store.runs.exists():
        raise OutputError(f"no dataset for {args.slug!r} in {args.output} (run `dossier run {args.slug}` first)")
    return store


def cmd_show(args: argparse.Namespace) -> int:
    from tasks.lineage import article_report, runs_report

    store = _dataset(args)
    if args.url is None:
        print(f"{args.slug}: runs, oldest first ({store.root})")
        print("\n".join(runs_report(store)))
        return 0
    lines = article_report(store, args.url)
    if not lines:
        print(f"{args.url}: no record of this URL in {store.root}", file=sys.stderr)
        return 1
    print("\n".join(lines))
    return 0


def cmd_reextract(args: argparse.Namespace) -> int:
    from flows.reextract import reextract_dossier
    from tasks.steps import wait_for_task_run_records

    _dataset(args)
    record = reextract_dossier(args.slug, config_path=args.config, output=args.output, batch_size=args.batch_size)
    wait_for_task_run_records(record["run_id"], record["prefect_task_runs"])
    c = record["counts"]
    print(f"\n{record['dossier']}: reextract run {record['run_id']} (no network), "
          f"trafilatura {record['versions']['trafilatura']}")
    print(f"  archived fetches {c['replayed']} from {len(record['source_runs'])} run(s) · written {c['written']} · "
          f"duplicate {c['duplicate']} · not article {c['not_article']} · blocked {c['blocked']} · "
          f"failed {c['failed']} · kept as they were (not archived) {c['kept_without_archive']}")
    print(f"  dataset: {record['dataset']} ({len(Store(args.output, args.slug, '').read_articles(['article_id']))} "
          "rows)")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from tasks.export import export_articles

    store = _dataset(args)
    if args.out is None:
        rows = export_articles(store, args.format, sys.stdout)
    else:
        target = Path(args.out)
        # Written beside the target and renamed: an interrupted export leaves no partial file.
        with tempfile.NamedTemporaryFile("w", encoding="utf-8", newline="", dir=target.parent,
                                         prefix=f".{target.name}.", suffix=".tmp", delete=False) as f:
            try:
                rows = export_articles(store, args.format, f)
            except BaseException:
                os.unlink(f.name)
                raise
        os.replace(f.name, target)
    print(f"{rows} article(s) exported as {args.format}" + (f" to {args.out}" if args.out else ""), file=sys.stderr)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    try:
        server, _ = serve_demo(copies=args.copies, port=args.port)
    except OSError as exc:
        raise OutputError(f"cannot start the demo site on 127.0.0.1:{args.port} ({exc.strerror}); "
                          "choose another with --port, or --port 0 for any free port (with a new port the "
                          "demo's URLs change: use a fresh --output)") from None
    try:
        store = Store(args.output, "demo", "")
        store.prepare()
        config_path = store.root / "dossiers.toml"  # kept beside the dataset: the run records point to it
        config_path.write_text(demo_config(server.base_url), encoding="utf-8")
        print(f"Demo news site running at {server.base_url} (offline, on this machine)")
        record = _run_flows(str(config_path), ["demo"], args.output)[0]
    finally:
        server.close()
    _print_summary(record)
    print(LOAD_HINT.format(path=record["dataset"], root=Path(record["dataset"]).parent))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dossier", description="Turn news dossiers into Parquet datasets.")
    parser.add_argument("-v", "--verbose", action="store_true", help="show Prefect's task-run logs")
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p: argparse.ArgumentParser, output: bool = True) -> None:
        p.add_argument("--config", default="dossiers.toml", help="dossier config (default: ./dossiers.toml)")
        if output:
            p.add_argument("--output", default="datasets", help="output root (default: ./datasets)")

    run = sub.add_parser("run", help="scrape one dossier or all of them")
    run.add_argument("slug", nargs="?")
    run.add_argument("--all", action="store_true", help="every dossier of the config")
    run.add_argument("--limit", type=int, help="fetch at most N new URLs per dossier")
    run.add_argument("--refresh", action="store_true", help="re-fetch stored articles (conditional GET)")
    run.add_argument("--batch-size", type=int, default=256,
                     help="URLs per fetch/extract/write batch; a batch is committed as a whole (default 256)")
    common(run)
    run.set_defaults(func=cmd_run)

    validate = sub.add_parser("validate", help="check a config file")
    common(validate, output=False)
    validate.set_defaults(func=cmd_validate)

    lst = sub.add_parser("list", help="dossiers of the config and what their datasets hold")
    common(lst)
    lst.set_defaults(func=cmd_list)

    demo = sub.add_parser("demo", help="run the pipeline on the bundled offline demo site")
    demo.add_argument("--output", default="datasets", help="output root (default: ./datasets)")
    demo.add_argument("--copies", type=int, default=1, help="replicate the demo articles N times")
    demo.add_argument("--port", type=int, default=DEMO_PORT, help=f"demo site port (default {DEMO_PORT}; 0: any)")
    demo.set_defaults(func=cmd_demo)

    show = sub.add_parser("show", help="a dataset's runs, or the whole history of one article")
    show.add_argument("slug")
    show.add_argument("--url", help="an article URL (as discovered, final or canonical): its history")
    common(show)
    show.set_defaults(func=cmd_show)

    reextract = sub.add_parser("reextract", help="rebuild the articles from the WARC archive, without network")
    reextract.add_argument("slug")
    reextract.add_argument("--batch-size", type=int, default=256, help="pages extracted and written together (256)")
    common(reextract)
    reextract.set_defaults(func=cmd_reextract)

    export = sub.add_parser("export", help="the articles as JSON Lines or CSV (streamed)")
    export.add_argument("slug")
    export.add_argument("--format", choices=("jsonl", "csv"), required=True)
    export.add_argument("--out", help="output file (default: standard output)")
    common(export)
    export.set_defaults(func=cmd_export)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _quiet_prefect(args.verbose)
    try:
        return args.func(args)
    except (ConfigError, OutputError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `dossier export … | head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        return 141


if __name__ == "__main__":
    sys.exit(main())
