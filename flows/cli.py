"""The `dossier` command line (typer): run, validate, list, demo, show, reextract, export,
backfill, serve, prefect-yaml. Its exit statuses are ExitStatus (documented in README.md)."""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import date
from enum import IntEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, NoReturn

# Only light modules at the top: the extraction workers import this module again (as
# multiprocessing does with the parent's __main__) and must not load pyarrow and pandas,
# which they never use (docs/benchmarks.md, "Memory"). typer loads neither (nor rich, until
# help is printed). The commands import the rest.
import typer
from typer._click.exceptions import ClickException  # typer vendors click and does not re-export it

from dossier_pipeline.tasks.api import embedded_api_exit_status, kill_embedded_api, start_embedded_api
from dossier_pipeline.tasks.config import BATCH_SIZE, ConfigError, load_config
from dossier_pipeline.tasks.demo.site import DEMO_PORT, demo_config, serve_demo
from dossier_pipeline.tasks.diskfull import DiskFull
from dossier_pipeline.tasks.interrupt import request_stop, stop_requested, wait_record_written

if TYPE_CHECKING:
    from dossier_pipeline.tasks.record import RunRecord
    from dossier_pipeline.tasks.store import Store


class ExitStatus(IntEnum):
    """What `dossier` exits with (a cron job's contract; README "Exit status")."""

    OK = 0  # the run did its job (single failed URLs, 404s, are normal: see the summary)
    FAILED = 1  # a backfill window failed; `show --url` knows no such URL
    USAGE = 2  # usage or config error: bad option or value, invalid config, unusable output, dossier locked
    NO_SOURCE = 3  # no source of a dossier could be read (every listing, feed, sitemap failed)
    NO_FETCH = 4  # a dossier had URLs to fetch and no server answered any (refused, unreachable, DNS down)
    API = 5  # the Prefect API failed (did not start, or died during the run)
    STRICT = 6  # with --strict: at least one URL failed
    DISK_FULL = 7  # the output's disk filled up: what was committed is readable, the same command does the rest
    INTERRUPTED = 130  # Ctrl-C: what was in flight is written, the run record says "interrupted"
    BROKEN_PIPE = 141  # `dossier export … | head`: the reader stopped reading


DEFAULT_CONFIG = "dossiers.toml"
LOAD_HINT = """\
Load it in a notebook:
    import pandas as pd
    df = pd.read_parquet("{path}")
or, with typed year/month and filters read from the matching files only:
    from dossier_pipeline import load_articles
    df = load_articles("{root}", start="2024-03-01", end="2024-04-01")"""
API_GRACE_SECONDS = 30.0  # once the embedded API is gone, at most: to write the batch in flight and the run record
PRIVATE_HINT = "set allow_private_addresses = true in the config to fetch loopback and private addresses"

app = typer.Typer(name="dossier", help="Turn news dossiers into Parquet datasets.", add_completion=False,
                  rich_markup_mode=None,
                  pretty_exceptions_enable=False, no_args_is_help=True)

# Options shared by several commands.
Slug = Annotated[str, typer.Argument(help="the dossier's slug: its [dossiers.SLUG] table in the config")]
ConfigOption = Annotated[str | None, typer.Option(
    "--config", help=f"dossier config (default: ./{DEFAULT_CONFIG}; commands that read a dataset fall back to "
    "the config its runs used)")]
OutputOption = Annotated[str, typer.Option("--output", help="output root: a directory or s3://bucket/prefix")]
BatchSize = Annotated[int, typer.Option("--batch-size", min=1, help="URLs per fetch/extract batch")]
Quiet = Annotated[bool, typer.Option("-q", "--quiet",
                                     help="no progress and no summary, only errors and the exit status (for cron)")]
Strict = Annotated[bool, typer.Option("--strict", help=f"exit {ExitStatus.STRICT} when any URL failed")]
Window = Literal["day", "week", "month", "year"]  # tasks/windows.py UNITS (a test keeps them equal)


def _process_defaults(verbose: bool) -> None:
    """Process-wide settings of a command, set before prefect and pyarrow are imported
    (a user's own values are kept):

    - Prefect logs every task run at INFO; the CLI prints its own summary instead.
    - Prefect's embedded server writes a telemetry row at start-up, racing the first
      flow-run writes on its SQLite database (the loser logs "database is locked"); its
      client prints a telemetry banner in a terminal.
    - Arrow's Parquet readers and writers allocate from the pool chosen at pyarrow's first
      import; its default (mimalloc) keeps what they free, the system allocator gives it
      back (tasks/memory.py).
    """
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")
    if not verbose:
        os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_SERVER_LOGGING_LEVEL", "WARNING")


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        print(f"dossier-pipeline {version('dossier-pipeline')}")
        raise typer.Exit()


@app.callback()
def _options(
    verbose: Annotated[bool, typer.Option("-v", "--verbose", help="show Prefect's task-run logs")] = False,
    _: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                    help="print the version and exit")] = False,
) -> None:
    _process_defaults(verbose)
    os.environ["DOSSIER_VERBOSE"] = "1" if verbose else ""


def _verbose() -> bool:
    return bool(os.environ.get("DOSSIER_VERBOSE"))


def _exit_now(status: ExitStatus) -> NoReturn:
    """Exit at once, skipping the exit handlers (Prefect's would send events for minutes to
    an API that is gone): stop the extraction workers and the embedded API first."""
    import multiprocessing

    kill_embedded_api()
    for child in multiprocessing.active_children():  # the extraction workers ignore Ctrl-C
        child.kill()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


_api_gone_said = threading.Event()


def _api_gone(status: int) -> None:
    """Say once that the embedded API died, and hush Prefect's reports of every event and
    state it can no longer send (one line each, retried for seconds)."""
    import logging

    if _api_gone_said.is_set():
        return
    _api_gone_said.set()
    sys.stderr.write(f"\nerror: the Prefect API stopped during the run (its server exited with status {status}); "
                     "the batch in flight and the run record are written, the same command does the rest\n")
    logging.disable(logging.CRITICAL)


def _watch_api(done: threading.Event) -> None:
    """While the runs go: when the embedded API server dies, stop after the batch in flight
    (Prefect cannot record the run any longer) and exit once the run record is written
    (what follows are Prefect's calls to the API, each retried for a minute), at the latest
    API_GRACE_SECONDS later."""
    while not done.wait(1.0):
        status = embedded_api_exit_status()
        if status is not None:
            _api_gone(status)
            request_stop()
            wait_record_written(API_GRACE_SECONDS)
            if not done.is_set():
                _exit_now(ExitStatus.API)
            return


def _on_interrupt(signum: int, frame: object) -> None:
    """First Ctrl-C: stop after the batch in flight (tasks/interrupt.py); second: exit now."""
    # sys.stderr, not print: inside a flow run, Prefect's log_prints turns print into a log record
    if stop_requested():
        sys.stderr.write("\nforced exit: the batches not written are left for the next run\n")
        _exit_now(ExitStatus.INTERRUPTED)
    request_stop()
    sys.stderr.write("\ninterrupted: writing the batch in flight and the run record (Ctrl-C again to exit now)\n")


def _check_output(output: str, slugs: list[str]) -> None:
    """Fail before Prefect starts when the output directory cannot be written, or a dossier
    is being run by another process (`dossier serve`, whose runs start in processes of
    their own: they take the lock themselves)."""
    from dossier_pipeline.tasks.lock import DossierLock
    from dossier_pipeline.tasks.store import Store

    for slug in slugs:
        Store(output, slug, "").check()
        DossierLock(output, slug).acquire().release()


@contextmanager
def _locked_output(output: str, slugs: list[str]) -> Iterator[None]:
    """`_check_output`, keeping the dossiers' locks for the runs of this process: a second run
    is refused here in one line, never by the flow once Prefect has started (tasks/lock.py)."""
    from dossier_pipeline.tasks.lock import DossierLock
    from dossier_pipeline.tasks.store import Store

    with ExitStack() as locks:
        for slug in slugs:
            Store(output, slug, "").check()
            locks.enter_context(DossierLock(output, slug).held())
        yield


def _print_summary(record: RunRecord) -> None:
    c = record.counts
    expected = c["expected"] if c["expected"] is not None else "unknown (the listing shows no count)"
    print(f"\n{record.dossier}: run {record.run_id}")
    print(f"  expected {expected} · discovered {c['discovered']} · fetched {c['fetched']} · "
          f"written {c['written']} (updated {c['updated']}) · unchanged {c['unchanged']} · "
          f"duplicate {c['duplicate']} · skipped {c['skipped']} · not article {c['not_article']} · "
          f"blocked {c['blocked']} · failed {c['failed']}")
    if record.incomplete:
        print(f"  note: the site states {c['expected']} articles but {c['discovered']} were discovered")
    for reason, count in list(record.reasons.items())[:8]:
        print(f"  {count:>6} × {reason}")
    if any(reason.startswith("failed: private_address") for reason in record.reasons):
        print(f"  hint: {PRIVATE_HINT}")
    for failure in record.source_failures[:5]:
        print(f"  source problem: {failure['source_url']}: {failure['reason']}")
    for host, kinds in record.blocked_by_host.items():
        print(f"  blocked at {host}: " + ", ".join(f"{n} {kind}" for kind, n in kinds.items()))
    print(f"  dataset: {record.dataset}")


def verdict(record: RunRecord, strict: bool = False) -> tuple[ExitStatus, str | None]:
    """A run's exit status, and the line saying why when it is not OK."""
    c, slug = record.counts, record.dossier
    if record.state == "disk_full" and (full := record.disk_full) is not None:
        written = "run record written" if full.get("record_written", True) else "the run record could not be written"
        return ExitStatus.DISK_FULL, (f"{slug}: {DiskFull(full['path'], full['needed_bytes'], full['free_bytes'])}; "
                                      f"rows committed before are readable, {written}; once there is room the same "
                                      "command does the rest")
    if record.state == "interrupted":
        return ExitStatus.INTERRUPTED, (f"{slug}: interrupted; what was in flight is written, the same command "
                                        "does the rest")
    if record.source_failures and not c["discovered"]:
        first = record.source_failures[0]
        return ExitStatus.NO_SOURCE, (f"{slug}: no source could be read ({len(record.source_failures)} failed; "
                                      f"{first['source_url']}: {first['reason']})")
    failed = [(reason, n) for reason, n in record.reasons.items() if reason.startswith("failed: ")]
    why = f" ({failed[0][1]} × {failed[0][0].removeprefix('failed: ')})" if failed else ""
    # nothing fetched and no server answered (a 404 is an answer: a rerun retrying dead links is normal)
    if c["failed"] and not c["fetched"] and not any(f["http_status"] for f in record.failures):
        hint = f"; {PRIVATE_HINT}" if why.endswith("private_address)") else ""
        return ExitStatus.NO_FETCH, f"{slug}: none of the {c['failed']} URL(s) could be fetched{why}{hint}"
    if strict and c["failed"]:
        return ExitStatus.STRICT, f"{slug}: {c['failed']} URL(s) failed{why} (--strict)"
    return ExitStatus.OK, None


def _report(records: list[RunRecord], quiet: bool, strict: bool) -> int:
    """Print the summaries (unless ``quiet``) and one line per run that did not do its job;
    the exit status is the highest of the runs'."""
    status = ExitStatus.OK
    for record in records:
        if not quiet:
            _print_summary(record)
            sys.stdout.flush()  # the summary before the verdict on stderr, also when both go to one pipe
        code, why = verdict(record, strict)
        if why:
            print(f"{'' if code == ExitStatus.INTERRUPTED else 'error: '}{why}", file=sys.stderr)
        status = max(status, code)
    if stop_requested() and status != ExitStatus.INTERRUPTED:  # stopped before a run started
        print("interrupted before the run started", file=sys.stderr)
        status = ExitStatus.INTERRUPTED
    return status


def _run_flows(config_path: str, slugs: list[str], output: str, limit: int | None = None,
               refresh: bool = False, batch_size: int = BATCH_SIZE, quiet: bool = False) -> list[RunRecord]:
    """Run the flows, with live progress on stderr unless ``quiet`` (plain lines with -v:
    Prefect's logs would tear a live view). A first Ctrl-C stops them cleanly (_on_interrupt)."""
    api_ready = start_embedded_api()  # boots while the pipeline's modules load
    from dossier_pipeline.flows.scrape import scrape_dossier
    from dossier_pipeline.tasks.progress import show
    from dossier_pipeline.tasks.record import RunRecord
    from dossier_pipeline.tasks.steps import wait_for_task_run_records

    # kept until the process exits: a Ctrl-C while the records are sent or at exit must not
    # raise KeyboardInterrupt in whatever thread is shutting down
    signal.signal(signal.SIGINT, _on_interrupt)
    api_ready()
    records = []
    done = threading.Event()
    threading.Thread(target=_watch_api, args=(done,), name="dossier-api-watch", daemon=True).start()
    try:
        with show(quiet=quiet, plain=_verbose()):
            for slug in slugs:
                if stop_requested():
                    break
                state = scrape_dossier(slug, config_path=config_path, output=output, limit=limit, refresh=refresh,
                                       batch_size=batch_size, return_state=True)
                record = state.result(raise_on_failure=False)  # an interrupted run is Cancelled, with its record
                if isinstance(record, BaseException):
                    raise record
                records.append(RunRecord.model_validate(record))
    finally:
        done.set()
        if (status := embedded_api_exit_status()) is not None:  # nothing more to wait for
            _api_gone(status)
            _exit_now(ExitStatus.API)
    for run in records:
        wait_for_task_run_records(run.run_id)
    return records


@app.command()
def run(
    slug: Annotated[str | None, typer.Argument(help="the dossier's slug: its [dossiers.SLUG] table in the config",
                                               show_default=False)] = None,
    all_: Annotated[bool, typer.Option("--all", help="every dossier of the config")] = False,
    limit: Annotated[int | None, typer.Option("--limit", min=0, help="fetch at most N new URLs per dossier")] = None,
    refresh: Annotated[bool, typer.Option("--refresh", help="re-fetch stored articles (conditional GET)")] = False,
    batch_size: BatchSize = BATCH_SIZE,
    quiet: Quiet = False,
    strict: Strict = False,
    config: ConfigOption = None,
    output: OutputOption = "datasets",
) -> int:
    """Scrape one dossier, or all of them."""
    config_path = config or DEFAULT_CONFIG
    loaded = load_config(config_path)
    if all_ == bool(slug):
        raise ConfigError("give a dossier SLUG or --all (not both)")
    slugs = sorted(loaded.dossiers) if all_ else [loaded.get(slug or "").slug]
    with _locked_output(output, slugs):
        records = _run_flows(config_path, slugs, output, limit, refresh, batch_size, quiet=quiet)
    return _report(records, quiet, strict)


def _day(value: str) -> date:
    from dossier_pipeline.tasks.windows import parse_day

    try:
        return parse_day(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


def _backfill(slug: str, since: date, until: date, window: Window, force: bool, config_path: str, output: str,
              batch_size: int) -> list[dict[str, Any]]:
    """The backfill flow's outcome per window, once Prefect has their task runs recorded."""
    api_ready = start_embedded_api()  # boots while the pipeline's modules load
    from dossier_pipeline.flows.backfill import backfill_dossier
    from dossier_pipeline.tasks.progress import show
    from dossier_pipeline.tasks.steps import wait_for_task_run_records

    api_ready()
    with show(plain=_verbose()):  # each window's run, live
        state = backfill_dossier(slug, since, until, window=window, force=force, config_path=config_path,
                                 output=output, batch_size=batch_size, return_state=True)
    outcomes: list[dict[str, Any]] | BaseException = state.result(raise_on_failure=False)
    if isinstance(outcomes, BaseException):
        raise outcomes
    for item in outcomes:
        if item["run_id"] and item["waits"]:
            wait_for_task_run_records(item["run_id"])
    return outcomes


@app.command()
def backfill(
    slug: Slug,
    since: Annotated[date, typer.Option("--since", parser=_day, metavar="YYYY-MM-DD",
                                        help="first day of the period (an article's day is its publisher's)")],
    until: Annotated[date, typer.Option("--until", parser=_day, metavar="YYYY-MM-DD",
                                        help="last day of the period, included")],
    window: Annotated[Window, typer.Option("--window", help="one run per day, week, month or year")] = "month",
    force: Annotated[bool, typer.Option("--force", help="run the windows already done again too")] = False,
    batch_size: BatchSize = BATCH_SIZE,
    config: ConfigOption = None,
    output: OutputOption = "datasets",
) -> int:
    """Scrape a dossier over a past period, one run per window (exit 1 when a window failed)."""
    from dossier_pipeline.tasks.windows import split_period

    config_path = config or DEFAULT_CONFIG
    slug = load_config(config_path).get(slug).slug
    try:
        split_period(since, until, window)
    except ValueError as exc:
        raise ConfigError(f"backfill {slug}: {exc}") from None
    with _locked_output(output, [slug]):
        outcomes = _backfill(slug, since, until, window, force, config_path, output, batch_size)
    width = max(len(item["key"]) for item in outcomes)
    print(f"\n{slug}: backfill {since} … {until} by {window}, {len(outcomes)} window(s)")
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
    return ExitStatus.FAILED if failed else ExitStatus.OK


@app.command()
def validate(config: ConfigOption = None) -> int:
    """Check a config file."""
    loaded = load_config(config or DEFAULT_CONFIG)
    for slug, dossier in loaded.dossiers.items():
        kinds = ", ".join(s.kind for s in dossier.sources)
        print(f"{slug}: {len(dossier.sources)} source(s) ({kinds}); domains: {', '.join(dossier.domains)}")
    print(f"{loaded.path}: OK, {len(loaded.dossiers)} dossier(s)")
    return ExitStatus.OK


def _datasets(output: str) -> list[Store]:
    """The datasets found in ``output`` (a directory per dossier, with its run records)."""
    from dossier_pipeline.tasks.store import Store

    root = Path(output)
    names = sorted(p.name for p in root.iterdir() if (p / "runs").is_dir()) if root.is_dir() else []
    return [Store(output, name, "") for name in names]


@app.command("list")
def list_(config: ConfigOption = None, output: OutputOption = "datasets") -> int:
    """The dossiers of the config and what their datasets hold (without a config: the datasets in --output)."""
    from dossier_pipeline.tasks.store import Store

    if config is None and not Path(DEFAULT_CONFIG).exists() and "://" not in output:
        stores = _datasets(output)
        if not stores:
            raise ConfigError(f"{DEFAULT_CONFIG}: config file not found, and no dataset in {output} "
                              "(give --config FILE, or --output DIR holding datasets)")
        titles = {store.path.name: (runs[-1].title if (runs := store.read_runs()) else None)
                  for store in stores}
    else:
        loaded = load_config(config or DEFAULT_CONFIG)
        stores = [Store(output, slug, "") for slug in loaded.dossiers]
        titles = {slug: dossier.title for slug, dossier in loaded.dossiers.items()}
    for store in stores:
        line = f"{store.path.name}: {titles.get(store.path.name) or ''}"
        if store.has("articles"):
            table = store.read_articles(["published_at"])
            runs = store.read_runs()
            span = ""
            if table.num_rows:
                import pyarrow.compute as pc

                lo, hi = pc.min(table["published_at"]).as_py(), pc.max(table["published_at"]).as_py()
                if lo and hi:
                    span = f", published {lo:%Y-%m-%d} … {hi:%Y-%m-%d}"
            last = f", last run {runs[-1].finished_at[:19]}" if runs else ""
            line += f"\n    {table.num_rows} articles{span}, {len(runs)} run(s){last} — {store.location}"
        else:
            line += "\n    no dataset yet"
        print(line)
    return ExitStatus.OK


def _dataset(slug: str, config: str | None, output: str) -> tuple[Store, str]:
    """The dataset of the dossier named on the command line (it must exist), and the config
    to use with it: --config, else ./dossiers.toml, else the dataset's own copy or the
    config its last run used (a dataset is readable on its own)."""
    from dossier_pipeline.tasks.store import OutputError, Store

    path = config or DEFAULT_CONFIG
    if config is None and not Path(path).exists():
        store = Store(output, slug, "")
        runs = store.read_runs() if store.has("runs") else []
        copy = store.root / DEFAULT_CONFIG if store.local else None
        if copy is not None and copy.exists():
            path = str(copy)
        elif runs and Path(runs[-1].config_path).exists():
            path = runs[-1].config_path
    slug = load_config(path).get(slug).slug
    store = Store(output, slug, "")
    if not store.has("runs"):
        raise OutputError(f"no dataset for {slug!r} in {output} (run `dossier run {slug}` first)")
    return store, path


@app.command()
def show(
    slug: Slug,
    url: Annotated[str | None, typer.Option("--url", help="an article URL (as discovered, final or canonical): "
                                            "its whole history")] = None,
    config: ConfigOption = None,
    output: OutputOption = "datasets",
) -> int:
    """A dataset's runs, or the whole history of one article."""
    from dossier_pipeline.tasks.lineage import article_report, runs_report
    from dossier_pipeline.tasks.store import OutputError

    store, _ = _dataset(slug, config, output)
    if url is None:
        print(f"{slug}: runs, oldest first ({store.location})")
        print("\n".join(runs_report(store)))
        return ExitStatus.OK
    if not store.local:
        raise OutputError(f"{store.location}: `dossier show --url` reads the WARC archive and needs a local dataset")
    lines = article_report(store, url)
    if not lines:
        print(f"{url}: no record of this URL in {store.root}", file=sys.stderr)
        return ExitStatus.FAILED
    print("\n".join(lines))
    return ExitStatus.OK


@app.command()
def reextract(
    slug: Slug,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, help="archived pages extracted together")]
    = BATCH_SIZE,
    config: ConfigOption = None,
    output: OutputOption = "datasets",
) -> int:
    """Rebuild the articles from the WARC archive, without network."""
    store, config_path = _dataset(slug, config, output)
    api_ready = start_embedded_api()  # boots while the pipeline's modules load
    from dossier_pipeline.flows.reextract import reextract_dossier
    from dossier_pipeline.tasks.record import RunRecord
    from dossier_pipeline.tasks.steps import wait_for_task_run_records

    api_ready()
    record = RunRecord.model_validate(reextract_dossier(store.path.name, config_path=config_path, output=output,
                                                        batch_size=batch_size))
    wait_for_task_run_records(record.run_id)
    if record.state == "disk_full":
        return _report([record], quiet=True, strict=False)
    c = record.counts
    print(f"\n{record.dossier}: reextract run {record.run_id} (no network), "
          f"trafilatura {record.versions['trafilatura']}")
    print(f"  archived fetches {c['replayed']} from {len(record.source_runs or [])} run(s) · written {c['written']} · "
          f"duplicate {c['duplicate']} · not article {c['not_article']} · blocked {c['blocked']} · "
          f"failed {c['failed']} · kept as they were (not archived) {c['kept_without_archive']}")
    print(f"  dataset: {record.dataset} ({len(store.read_articles(['article_id']))} rows)")
    return ExitStatus.OK


@app.command()
def export(
    slug: Slug,
    format_: Annotated[Literal["jsonl", "csv"], typer.Option("--format", help="JSON Lines or CSV")],
    out: Annotated[Path | None, typer.Option("--out", help="output file (default: standard output)")] = None,
    config: ConfigOption = None,
    output: OutputOption = "datasets",
) -> int:
    """The articles as JSON Lines or CSV (streamed)."""
    from dossier_pipeline.tasks.export import export_articles

    store, _ = _dataset(slug, config, output)
    if out is None:
        rows = export_articles(store, format_, sys.stdout)
    else:
        # Written beside the target and renamed: an interrupted export leaves no partial file.
        with tempfile.NamedTemporaryFile("w", encoding="utf-8", newline="", dir=out.parent,
                                         prefix=f".{out.name}.", suffix=".tmp", delete=False) as f:
            try:
                rows = export_articles(store, format_, f)
            except BaseException:
                os.unlink(f.name)
                raise
        os.replace(f.name, out)
    print(f"{rows} article(s) exported as {format_}" + (f" to {out}" if out else ""), file=sys.stderr)
    return ExitStatus.OK


def _command() -> str:
    """`dossier` as the user can run it again from the current directory: bare when `dossier`
    on PATH is this very entry point, else the entry point's path (relative inside the current
    directory: `.venv/bin/dossier`), or `python -m` when it ran as a module."""
    script = Path(sys.argv[0])
    if script.name != "dossier":  # `python -m dossier_pipeline.flows.cli`, or an embedding script
        return f"{shlex.quote(_relative(Path(sys.executable)))} -m dossier_pipeline.flows.cli"
    on_path = shutil.which("dossier")
    if on_path is not None and Path(on_path).resolve() == script.resolve():
        return "dossier"
    return shlex.quote(_relative(script))


def _relative(path: Path) -> str:
    """``path`` relative to the current directory when inside it (with a slash: never looked up on PATH)."""
    absolute = path.absolute()
    if absolute.is_relative_to(Path.cwd()):
        relative = absolute.relative_to(Path.cwd())
        return str(relative) if relative.parent != Path(".") else f"./{relative}"
    return str(absolute)


def _next_steps(output: str) -> str:
    """The commands to try after the demo, as they work from the directory it ran in."""
    where = "" if output == "datasets" else f" --output {shlex.quote(output)}"
    dossier = _command()
    return (f"Next:\n    {dossier} list{where}\n    {dossier} show demo{where}\n"
            f"    {dossier} export demo --format csv --out demo.csv{where}")


@app.command()
def demo(
    output: OutputOption = "datasets",
    copies: Annotated[int, typer.Option("--copies", min=1, help="replicate the demo articles N times")] = 1,
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="demo site port (0: any free port)")]
    = DEMO_PORT,
    quiet: Quiet = False,
    strict: Strict = False,
) -> int:
    """Run the pipeline on the bundled offline demo site."""
    from dossier_pipeline.tasks.store import OutputError, Store

    try:
        server, _ = serve_demo(copies=copies, port=port)
    except OSError as exc:
        raise OutputError(f"cannot start the demo site on 127.0.0.1:{port} ({exc.strerror}); "
                          "choose another with --port, or --port 0 for any free port (with a new port the "
                          "demo's URLs change: use a fresh --output)") from None
    try:
        with _locked_output(output, ["demo"]):
            # kept beside the dataset: the run records point to it
            config_path = Store(output, "demo", "").root / DEFAULT_CONFIG
            config_path.write_text(demo_config(server.base_url), encoding="utf-8")
            if not quiet:
                print(f"Demo news site running at {server.base_url} (offline, on this machine)")
            records = _run_flows(str(config_path), ["demo"], output, quiet=quiet)
    finally:
        server.close()
    status = _report(records, quiet, strict)
    if not quiet and status == ExitStatus.OK:
        print(LOAD_HINT.format(path=records[0].dataset, root=Path(records[0].dataset).parent))
        print(_next_steps(output))
    return status


@app.command()
def serve(config: ConfigOption = None, output: OutputOption = "datasets") -> int:
    """Run the dossiers that have a schedule, on it (needs a Prefect server)."""
    from dossier_pipeline.flows.deploy import build_deployments, serve_deployments

    deployments = build_deployments(config or DEFAULT_CONFIG, output)
    _check_output(output, [d.name for d in deployments])
    serve_deployments(deployments)
    return ExitStatus.OK


@app.command("prefect-yaml")
def prefect_yaml(
    pool: Annotated[str, typer.Option("--pool", help="the work pool whose workers run them")],
    config: ConfigOption = None,
    output: OutputOption = "datasets",
) -> int:
    """Print a prefect.yaml deploying the scheduled dossiers."""
    from dossier_pipeline.flows.deploy import prefect_yaml as render

    sys.stdout.write(render(config or DEFAULT_CONFIG, output, pool))
    return ExitStatus.OK


def _api_failed(exc: BaseException) -> bool:
    """Whether ``exc`` says that the Prefect API is gone or did not start (the pipeline's
    own HTTP errors never propagate: they are ledgered)."""
    import httpx

    return isinstance(exc, httpx.TransportError | httpx.HTTPStatusError) or (
        isinstance(exc, RuntimeError) and "Prefect API" in str(exc))


def main(argv: list[str] | None = None) -> int:
    """The `dossier` command; returns its exit status (ExitStatus)."""
    from dossier_pipeline.tasks.lock import DossierLocked
    from dossier_pipeline.tasks.store import OutputError

    command = typer.main.get_command(app)
    try:
        status = command.main(args=argv, prog_name="dossier", standalone_mode=False)
    except ClickException as exc:  # a bad option or value, refused by typer: one line
        name = exc.ctx.command_path if getattr(exc, "ctx", None) else "dossier"
        print(f"error: {exc.format_message()} (see `{name} --help`)", file=sys.stderr)
        return ExitStatus.USAGE
    except (ConfigError, OutputError, DossierLocked) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return ExitStatus.USAGE
    except DiskFull as exc:  # before a run started (its own are reported by its record)
        print(f"error: {exc}", file=sys.stderr)
        return ExitStatus.DISK_FULL
    except BrokenPipeError:  # `dossier export … | head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        return ExitStatus.BROKEN_PIPE
    except Exception as exc:
        if not _api_failed(exc):
            raise
        print(f"error: the Prefect API failed ({type(exc).__name__}: {exc})", file=sys.stderr)
        return ExitStatus.API
    if status == ExitStatus.INTERRUPTED and not stop_requested():  # typer's own Ctrl-C handling
        print("interrupted", file=sys.stderr)
    return int(status or 0)


if __name__ == "__main__":
    sys.exit(main())
