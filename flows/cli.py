"""The `dossier` command line: run, validate, list, demo, show, reextract, export, serve, prefect-yaml."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

# Only light modules at the top: the extraction workers import this module again (as
# multiprocessing does with the parent's __main__) and must not load pyarrow and pandas,
# which they never use (about 70 MB each). The commands import the rest.
from dossier_pipeline.tasks.api import start_embedded_api
from dossier_pipeline.tasks.config import BATCH_SIZE, ConfigError, load_config
from dossier_pipeline.tasks.demo.site import DEMO_PORT, demo_config, serve_demo

if TYPE_CHECKING:
    from dossier_pipeline.tasks.store import Store

LOAD_HINT = """\
Load it in a notebook:
    import pandas as pd
    df = pd.read_parquet("{path}")
or, with typed year/month and filters read from the matching files only:
    from dossier_pipeline.tasks.load import load_articles
    df = load_articles("{root}", start="2024-03-01", end="2024-04-01")"""
QUIET_HELP = "no progress and no summary, only errors and the exit status (for cron)"


def _process_defaults(verbose: bool) -> None:
    """Process-wide settings of a command, set before prefect and pyarrow are imported
    (a user's own values are kept):

    - Prefect logs every task run at INFO; the CLI prints its own summary instead.
    - Prefect's embedded server writes a telemetry row at start-up, racing the first
      flow-run writes on its SQLite database (the loser logs "database is locked").
    - Arrow's Parquet readers and writers allocate from the pool chosen at pyarrow's first
      import; its default (mimalloc) keeps what they free, the system allocator gives it
      back (tasks/memory.py).
    """
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")
    if not verbose:
        os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_SERVER_LOGGING_LEVEL", "WARNING")


def _check_output(output: str, slugs: list[str]) -> None:
    """Fail before Prefect starts when the output directory cannot be written."""
    from dossier_pipeline.tasks.store import Store

    for slug in slugs:
        Store(output, slug, "").check()


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
               refresh: bool = False, batch_size: int = BATCH_SIZE, quiet: bool = False,
               verbose: bool = False) -> list[dict[str, Any]]:
    """Run the flows, with live progress on stderr unless ``quiet`` (plain lines with ``verbose``:
    Prefect's logs would tear a live view)."""
    api_ready = start_embedded_api()  # boots while the pipeline's modules load
    from dossier_pipeline.flows.scrape import scrape_dossier
    from dossier_pipeline.tasks.progress import show
    from dossier_pipeline.tasks.steps import wait_for_task_run_records

    api_ready()
    with show(quiet=quiet, plain=verbose):
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
    records = _run_flows(args.config, slugs, args.output, args.limit, args.refresh, args.batch_size,
                         quiet=args.quiet, verbose=args.verbose)
    for record in [] if args.quiet else records:
        _print_summary(record)
    return 0


def _day(value: str) -> date:
    from dossier_pipeline.tasks.windows import parse_day

    try:
        return parse_day(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def cmd_backfill(args: argparse.Namespace) -> int:
    """One child flow run per window (flows/backfill.py); exit status 1 when a window failed."""
    from dossier_pipeline.tasks.windows import split_period

    slug = load_config(args.config).get(args.slug).slug
    try:
        split_period(args.since, args.until, args.window)
    except ValueError as exc:
        raise ConfigError(f"backfill {slug}: {exc}") from None
    _check_output(args.output, [slug])
    api_ready = start_embedded_api()  # boots while the pipeline's modules load
    from dossier_pipeline.flows.backfill import backfill_dossier
    from dossier_pipeline.tasks.progress import show
    from dossier_pipeline.tasks.steps import wait_for_task_run_records

    api_ready()
    with show(plain=args.verbose):  # each window's run, live
        state = backfill_dossier(slug, args.since, args.until, window=args.window, force=args.force,
                                 config_path=args.config, output=args.output, batch_size=args.batch_size,
                                 return_state=True)
    outcomes = state.result(raise_on_failure=False)
    if isinstance(outcomes, BaseException):
        raise outcomes
    for item in outcomes:
        if item["run_id"]:
            wait_for_task_run_records(item["run_id"], item["prefect_task_runs"])
    width = max(len(item["key"]) for item in outcomes)
    print(f"\n{slug}: backfill {args.since} … {args.until} by {args.window}, {len(outcomes)} window(s)")
    for item in outcomes:
        c = item["counts"]
        if item["status"] == "already done":
            print(f"  {item['key']:<{width}}  already done (run {item['run_id']})")
            continue
        failed = f"FAILED ({item['problem']}) · " if item["status"] == "failed" else ""
        print(f"  {item['key']:<{width}}  {failed}written {c['written']} · skipped {c['skipped']} "
              f"· failed {c['failed']} · run {item['run_id']}")
    failed = [item["key"] for item in outcomes if item["status"] == "failed"]
    if failed:
        print(f"{len(failed)} window(s) failed: {', '.join(failed)}; the same command retries them", file=sys.stderr)
    return 1 if failed else 0


def cmd_validate(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    for slug, dossier in config.dossiers.items():
        kinds = ", ".join(s.kind for s in dossier.sources)
        print(f"{slug}: {len(dossier.sources)} source(s) ({kinds}); domains: {', '.join(dossier.domains)}")
    print(f"{args.config}: OK, {len(config.dossiers)} dossier(s)")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from dossier_pipeline.tasks.store import Store

    config = load_config(args.config)
    for slug, dossier in config.dossiers.items():
        store = Store(args.output, slug, "")
        line = f"{slug}: {dossier.title or ''}"
        if store.has("articles"):
            table = store.read_articles(["published_at"])
            runs = store.read_runs()
            span = ""
            if table.num_rows:
                import pyarrow.compute as pc

                lo, hi = pc.min(table["published_at"]).as_py(), pc.max(table["published_at"]).as_py()
                if lo and hi:
                    span = f", published {lo:%Y-%m-%d} … {hi:%Y-%m-%d}"
            last = f", last run {runs[-1]['finished_at'][:19]}" if runs else ""
            line += f"\n    {table.num_rows} articles{span}, {len(runs)} run(s){last} — {store.location}"
        else:
            line += "\n    no dataset yet"
        print(line)
    return 0


def _dataset(args: argparse.Namespace) -> Store:
    """The dataset of the dossier named on the command line; it must exist."""
    from dossier_pipeline.tasks.store import OutputError, Store

    store = Store(args.output, load_config(args.config).get(args.slug).slug, "")
    if not store.has("runs"):
        raise OutputError(f"no dataset for {args.slug!r} in {args.output} (run `dossier run {args.slug}` first)")
    return store


def cmd_show(args: argparse.Namespace) -> int:
    from dossier_pipeline.tasks.lineage import article_report, runs_report
    from dossier_pipeline.tasks.store import OutputError

    store = _dataset(args)
    if args.url is None:
        print(f"{args.slug}: runs, oldest first ({store.location})")
        print("\n".join(runs_report(store)))
        return 0
    if not store.local:
        raise OutputError(f"{store.location}: `dossier show --url` reads the WARC archive and needs a local dataset")
    lines = article_report(store, args.url)
    if not lines:
        print(f"{args.url}: no record of this URL in {store.root}", file=sys.stderr)
        return 1
    print("\n".join(lines))
    return 0


def cmd_reextract(args: argparse.Namespace) -> int:
    store = _dataset(args)
    api_ready = start_embedded_api()  # boots while the pipeline's modules load
    from dossier_pipeline.flows.reextract import reextract_dossier
    from dossier_pipeline.tasks.steps import wait_for_task_run_records

    api_ready()
    record = reextract_dossier(args.slug, config_path=args.config, output=args.output, batch_size=args.batch_size)
    wait_for_task_run_records(record["run_id"], record["prefect_task_runs"])
    c = record["counts"]
    print(f"\n{record['dossier']}: reextract run {record['run_id']} (no network), "
          f"trafilatura {record['versions']['trafilatura']}")
    print(f"  archived fetches {c['replayed']} from {len(record['source_runs'])} run(s) · written {c['written']} · "
          f"duplicate {c['duplicate']} · not article {c['not_article']} · blocked {c['blocked']} · "
          f"failed {c['failed']} · kept as they were (not archived) {c['kept_without_archive']}")
    print(f"  dataset: {record['dataset']} ({len(store.read_articles(['article_id']))} rows)")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from dossier_pipeline.tasks.export import export_articles

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
    from dossier_pipeline.tasks.store import OutputError, Store

    try:
        server, _ = serve_demo(copies=args.copies, port=args.port)
    except OSError as exc:
        raise OutputError(f"cannot start the demo site on 127.0.0.1:{args.port} ({exc.strerror}); "
                          "choose another with --port, or --port 0 for any free port (with a new port the "
                          "demo's URLs change: use a fresh --output)") from None
    try:
        store = Store(args.output, "demo", "")
        store.check()
        config_path = store.root / "dossiers.toml"  # kept beside the dataset: the run records point to it
        config_path.write_text(demo_config(server.base_url), encoding="utf-8")
        if not args.quiet:
            print(f"Demo news site running at {server.base_url} (offline, on this machine)")
        record = _run_flows(str(config_path), ["demo"], args.output, quiet=args.quiet, verbose=args.verbose)[0]
    finally:
        server.close()
    if not args.quiet:
        _print_summary(record)
        print(LOAD_HINT.format(path=record["dataset"], root=Path(record["dataset"]).parent))
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from dossier_pipeline.flows.deploy import build_deployments, serve_deployments

    deployments = build_deployments(args.config, args.output)
    _check_output(args.output, [d.name for d in deployments])
    serve_deployments(deployments)
    return 0


def cmd_prefect_yaml(args: argparse.Namespace) -> int:
    from dossier_pipeline.flows.deploy import prefect_yaml

    sys.stdout.write(prefect_yaml(args.config, args.output, args.pool))
    return 0


def build_parser() -> argparse.ArgumentParser:
    from dossier_pipeline.tasks.windows import UNITS

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
    run.add_argument("--batch-size", type=int, default=BATCH_SIZE,
                     help=f"URLs per fetch/extract batch (default {BATCH_SIZE})")
    run.add_argument("-q", "--quiet", action="store_true", help=QUIET_HELP)
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
    demo.add_argument("-q", "--quiet", action="store_true", help=QUIET_HELP)
    demo.set_defaults(func=cmd_demo)

    show = sub.add_parser("show", help="a dataset's runs, or the whole history of one article")
    show.add_argument("slug")
    show.add_argument("--url", help="an article URL (as discovered, final or canonical): its history")
    common(show)
    show.set_defaults(func=cmd_show)

    reextract = sub.add_parser("reextract", help="rebuild the articles from the WARC archive, without network")
    reextract.add_argument("slug")
    reextract.add_argument("--batch-size", type=int, default=BATCH_SIZE,
                           help=f"archived pages extracted together ({BATCH_SIZE})")
    common(reextract)
    reextract.set_defaults(func=cmd_reextract)

    export = sub.add_parser("export", help="the articles as JSON Lines or CSV (streamed)")
    export.add_argument("slug")
    export.add_argument("--format", choices=("jsonl", "csv"), required=True)
    export.add_argument("--out", help="output file (default: standard output)")
    common(export)
    export.set_defaults(func=cmd_export)

    backfill = sub.add_parser("backfill", help="scrape a dossier over a past period, one run per window")
    backfill.add_argument("slug")
    backfill.add_argument("--since", type=_day, required=True, help="first day of the period (YYYY-MM-DD; "
                          "an article's day is its publisher's)")
    backfill.add_argument("--until", type=_day, required=True, help="last day of the period, included")
    backfill.add_argument("--window", choices=UNITS, default="month", help="one run per day, week, month or year")
    backfill.add_argument("--force", action="store_true", help="run the windows already done again too")
    backfill.add_argument("--batch-size", type=int, default=BATCH_SIZE,
                          help=f"URLs per fetch/extract batch ({BATCH_SIZE})")
    common(backfill)
    backfill.set_defaults(func=cmd_backfill)

    serve = sub.add_parser("serve", help="run the dossiers that have a schedule, on it (needs a Prefect server)")
    common(serve)
    serve.set_defaults(func=cmd_serve)

    prefect_yaml = sub.add_parser("prefect-yaml", help="print a prefect.yaml deploying the scheduled dossiers")
    prefect_yaml.add_argument("--pool", required=True, help="the work pool whose workers run them")
    common(prefect_yaml)
    prefect_yaml.set_defaults(func=cmd_prefect_yaml)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _process_defaults(args.verbose)
    from dossier_pipeline.tasks.lock import DossierLocked
    from dossier_pipeline.tasks.store import OutputError

    try:
        return args.func(args)
    except (ConfigError, OutputError, DossierLocked) as exc:
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
