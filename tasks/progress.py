"""A run's live progress: counts per stage, rates and an ETA, and their display on stderr.

The flow runs in the process that starts it, so a front end (the `dossier` command)
installs a sink with ``tracking()`` (or ``show()``) and every Run started meanwhile
registers its ``Progress`` there; flow parameters stay plain JSON. Without a sink (served
deployments, tests, scripts) a run gets ``NO_PROGRESS``, whose updates do nothing.
Updates come from the flow's thread (fetch responses, commits) and from Prefect's task
runner threads (extraction) while the display reads from its own thread: one lock.
"""

from __future__ import annotations

import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.spinner import Spinner
from rich.table import Table
from rich.text import Text

from dossier_pipeline.tasks.schema import UrlState

STAGES = ("discovered", "fetched", "extracted", "written", "failed")
SECONDARY = (UrlState.UNCHANGED, UrlState.DUPLICATE, UrlState.SKIPPED, UrlState.NOT_ARTICLE, UrlState.BLOCKED)
WINDOW_SECONDS = 10.0  # rates are measured over this recent window: they follow a run that slows down
REFRESH_PER_SECOND = 5
EARLIER_RUNS = 5  # finished runs of the same command shown above the current one
# one status line this often when stderr is not a terminal
PLAIN_EVERY_SECONDS = float(os.environ.get("DOSSIER_PROGRESS_SECONDS") or 15)


class _Meter:
    """Events per second over the last ``window`` seconds (written by hand: rich's own
    speed estimate lives in its Progress widget, and the state here must work without it)."""

    def __init__(self, start: float, window: float) -> None:
        self.window = window
        self.total = 0
        # (time, total) samples; the first one is at or before the window's start
        self.samples: deque[tuple[float, int]] = deque([(start, 0)])

    def _prune(self, now: float) -> None:
        while len(self.samples) > 1 and self.samples[1][0] <= now - self.window:
            self.samples.popleft()

    def add(self, n: int, now: float) -> None:
        self.total += n
        self.samples.append((now, self.total))
        self._prune(now)

    def rate(self, now: float) -> float:
        self._prune(now)
        since, base = self.samples[0]
        return (self.total - base) / (now - since) if now > since else 0.0


@dataclass(frozen=True)
class Snapshot:
    """A consistent reading of one run's progress."""

    dossier: str
    elapsed: float
    planned: int | None  # URLs to fetch in this run, once discovery is done
    counts: dict[str, int]  # STAGES and SECONDARY; fetched counts 200s and 304s, extracted every page through it
    rates: dict[str, float]  # per second over the recent window: fetched (responses), extracted, written
    eta: float | None  # seconds until every planned URL is fetched and extracted; None while unknown

    def line(self, timing: bool = True) -> str:
        """One plain-text line, for logs; without ``timing`` (rate, elapsed time, ETA) for a
        run that is over."""
        c = self.counts
        if self.planned is None:
            return (
                f"{self.dossier}: discovering · {clock(self.elapsed)}"
                if timing
                else f"{self.dossier}: ended in discovery"
            )
        counts = (
            f"{self.dossier}: discovered {c['discovered']} · fetched {c['fetched']}/{self.planned} · "
            f"extracted {c['extracted']} · written {c['written']} · failed {c['failed']}"
        )
        if not timing:
            return counts
        return (
            f"{counts} · {self.rates['extracted']:.1f} pages/s · elapsed {clock(self.elapsed)} · ETA {clock(self.eta)}"
        )


def clock(seconds: float | None) -> str:
    return "-:--:--" if seconds is None else str(timedelta(seconds=round(seconds)))


class Progress:
    """Thread-safe progress state of one run."""

    def __init__(self, dossier: str, window: float = WINDOW_SECONDS, now: Callable[[], float] = time.monotonic) -> None:
        self.dossier = dossier
        self._now = now
        self._window = window
        self._lock = threading.Lock()
        self._started = now()
        self._planned: int | None = None
        self._counts = dict.fromkeys(STAGES + SECONDARY, 0)
        self._attempted = 0  # fetches finished, whatever their outcome
        self._pages = 0  # fetched pages handed to extraction
        self._meters = self._new_meters(self._started)

    def _new_meters(self, start: float) -> dict[str, _Meter]:
        return {stage: _Meter(start, self._window) for stage in ("fetched", "extracted", "written")}

    def plan(self, discovered: int, todo: int) -> None:
        """Discovery is done: ``todo`` of the ``discovered`` URLs will be fetched."""
        with self._lock:
            now = self._now()
            self._counts["discovered"] = discovered
            self._planned = todo
            self._meters = self._new_meters(now)  # rates count from here, not from start-up

    def fetched(self, outcome: str) -> None:
        """One response: a ``page`` to extract, ``unchanged`` (304) or ``failed`` (an error, or
        robots.txt said no: the ledger tells which at the end of the batch)."""
        with self._lock:
            now = self._now()
            self._attempted += 1
            self._meters["fetched"].add(1, now)
            if outcome != "failed":
                self._counts["fetched"] += 1
            if outcome == "page":
                self._pages += 1

    def extracted(self, pages: int) -> None:
        """A chunk of ``pages`` went through extraction (whatever each page's result)."""
        with self._lock:
            self._counts["extracted"] += pages
            self._meters["extracted"].add(pages, self._now())

    def settled(self, state: str) -> None:
        """A URL reached its final state of the run (schema.URL_STATES)."""
        with self._lock:
            stage = "written" if state in (UrlState.WRITTEN, UrlState.UPDATED) else state
            if stage in self._counts:
                self._counts[stage] += 1
            if stage == "written":
                self._meters["written"].add(1, self._now())

    def snapshot(self) -> Snapshot:
        with self._lock:
            now = self._now()
            rates = {stage: meter.rate(now) for stage, meter in self._meters.items()}
            return Snapshot(
                self.dossier, now - self._started, self._planned, dict(self._counts), rates, self._eta(rates)
            )

    def _eta(self, rates: dict[str, float]) -> float | None:
        """The slower of the two stages' remaining work at its recent rate (they overlap);
        URLs not fetched yet are counted as pages that extraction will get."""
        if self._planned is None:
            return None
        to_fetch = self._planned - self._attempted
        to_extract = to_fetch + self._pages - self._counts["extracted"]
        seconds = 0.0
        for left, rate in ((to_fetch, rates["fetched"]), (to_extract, rates["extracted"])):
            if left > 0:
                if rate <= 0:
                    return None
                seconds = max(seconds, left / rate)
        return seconds


class _NoProgress(Progress):
    """What a run gets when nobody displays its progress: updates cost a method call."""

    def plan(self, discovered: int, todo: int) -> None:
        pass

    def fetched(self, outcome: str) -> None:
        pass

    def extracted(self, pages: int) -> None:
        pass

    def settled(self, state: str) -> None:
        pass


NO_PROGRESS = _NoProgress("")
_sink: list[Progress] | None = None


@contextmanager
def tracking() -> Iterator[list[Progress]]:
    """Track the runs started in this process until exit; yields their states, in start order."""
    global _sink
    runs: list[Progress] = []
    previous, _sink = _sink, runs
    try:
        yield runs
    finally:
        _sink = previous


def for_run(dossier: str) -> Progress:
    """The progress state of a new run: tracked when a sink is installed, else a no-op."""
    if _sink is None:
        return NO_PROGRESS
    progress = Progress(dossier)
    _sink.append(progress)
    return progress


# -- display ------------------------------------------------------------------------------
def render(runs: list[Progress]) -> RenderableType:
    """The live view: the current run stage by stage, the last EARLIER_RUNS runs before it
    (``--all``, a backfill's windows) one line each."""
    if not runs:
        return Spinner("dots", "starting")
    earlier = runs[:-1]
    lines: list[RenderableType] = (
        [Text(f"… {len(earlier) - EARLIER_RUNS} earlier run(s)", style="dim")] if len(earlier) > EARLIER_RUNS else []
    )
    lines += [Text(run.snapshot().line(timing=False), style="dim") for run in earlier[-EARLIER_RUNS:]]
    s = runs[-1].snapshot()
    if s.planned is None:
        return Group(*lines, Spinner("dots", f"{s.dossier}: discovering URLs · {clock(s.elapsed)}"))
    lines.append(Text.assemble((s.dossier, "bold"), f" · elapsed {clock(s.elapsed)} · ETA {clock(s.eta)}"))
    grid = Table.grid(padding=(0, 2))
    for _ in range(4):
        grid.add_column(justify="right")
    grid.add_row("discovered", str(s.counts["discovered"]), "", f"{s.planned} to fetch")
    for stage in ("fetched", "extracted", "written"):
        done = s.counts[stage]
        grid.add_row(
            stage,
            f"{done} / {s.planned}",
            ProgressBar(total=max(s.planned, 1), completed=done, width=30),
            f"{s.rates[stage]:.1f}/s",
        )
    grid.add_row("failed", str(s.counts["failed"]), "", "")
    lines.append(grid)
    lines.append(Text(" · ".join(f"{k.replace('_', ' ')} {s.counts[k]}" for k in SECONDARY), style="dim"))
    return Group(*lines)


@contextmanager
def show(
    quiet: bool = False, plain: bool = False, console: Console | None = None, every: float = PLAIN_EVERY_SECONDS
) -> Iterator[None]:
    """Display the progress of the runs started inside, on stderr.

    On a terminal: a live view refreshed REFRESH_PER_SECOND times a second, cleared at the
    end (the caller prints its summary). When stderr is not a terminal (a log file, CI),
    or with ``plain`` (Prefect's own logs are shown and would tear a live view), a line on
    the current run every ``every`` seconds instead. ``quiet`` shows nothing and tracks nothing.
    rich decides what a terminal is; TTY_COMPATIBLE=1 or 0 overrides it (rich's variable).
    """
    if quiet:
        yield
        return
    console = console or Console(stderr=True)
    with tracking() as runs:
        if console.is_terminal and not console.is_dumb_terminal and not plain:
            with Live(
                console=console,
                refresh_per_second=REFRESH_PER_SECOND,
                transient=True,
                get_renderable=lambda: render(runs),
            ):
                yield
            return
        stop = threading.Event()

        def report() -> None:
            while not stop.wait(every):
                if runs:
                    console.print(runs[-1].snapshot().line(), highlight=False, markup=False, soft_wrap=True)

        thread = threading.Thread(target=report, name="progress-lines", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()
