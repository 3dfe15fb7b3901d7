"""Date windows: a backfill's period split into windows, what belongs to a window, and the
record of the windows a backfill has completed.

A window is a span of whole days, both ends included, as people name periods ("October
2015", "until 31 March 2016"). Whether an article belongs to one is decided by its
publisher's calendar day once extracted (``published_at_local``: an article of 3 May 22:46
at -03:00 is a 3 May article, though 4 May in UTC; the UTC day where the page gives no
local value); before that, the dates discovery saw (news sitemap,
feed, listing and ``lastmod`` dates) only keep out what surely lies outside, with a day of
slack: such a date may be a bare day, or a local time without an offset (no zone is a day
away from UTC), and the article's own date decides in the end.

A completed window is recorded in ``<output>/<slug>/backfills/<key>.json`` once its run
succeeded; the next backfill over the same period skips it.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from dossier_pipeline.tasks.normalise import HINT_CHANGED, HINT_PUBLISHED, parse_date, publisher_day
from dossier_pipeline.tasks.record import RunRecord
from dossier_pipeline.tasks.store import Store

UNITS = ("day", "week", "month", "year")
OUTSIDE = "outside_window: "  # the reason an article is not a window's (the ledger keeps it)
UNDATED = "no date"
SLACK = timedelta(days=1)
DAY = timedelta(days=1)


@dataclass(frozen=True)
class Window:
    """The days ``since`` to ``until``, both included."""

    since: date
    until: date

    def __post_init__(self) -> None:
        if self.since > self.until:
            raise ValueError(f"the period starts ({self.since}) after it ends ({self.until})")

    @property
    def start(self) -> datetime:
        return datetime.combine(self.since, time(), UTC)

    @property
    def end(self) -> datetime:
        """The first moment after the window."""
        return datetime.combine(self.until + DAY, time(), UTC)

    @property
    def key(self) -> str:
        """The window's name, also its record's file name: the calendar unit it spans
        (``2015``, ``2015-10``, ``2015-W40``, ``2015-10-01``), else ``since..until``."""
        since, until = self.since, self.until
        if since == until:
            return since.isoformat()
        if (since.month, since.day, until.month, until.day) == (1, 1, 12, 31) and since.year == until.year:
            return str(since.year)
        if since.day == 1 and until == _unit_end(since, "month"):
            return f"{since:%Y-%m}"
        if since.weekday() == 0 and until - since == 6 * DAY:
            year, week, _ = since.isocalendar()
            return f"{year}-W{week:02d}"
        return f"{since}..{until}"

    def as_dict(self) -> dict[str, str]:
        return {"key": self.key, "since": self.since.isoformat(), "until": self.until.isoformat()}


def parse_day(value: str) -> date:
    """A day given as YYYY-MM-DD (a command-line argument)."""
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"not a day (YYYY-MM-DD): {value!r}") from None


def window_of(parameters: dict[str, Any]) -> Window | None:
    """The window of a run from its parameters (``since``/``until``, ISO days), if any."""
    since, until = parameters.get("since"), parameters.get("until")
    if since is None and until is None:
        return None
    if since is None or until is None:
        raise ValueError("a window needs both since and until")
    return Window(parse_day(str(since)), parse_day(str(until)))


def _unit_end(day: date, unit: str) -> date:
    """The last day of the calendar unit (ISO weeks start on Monday) holding ``day``."""
    if unit == "day":
        return day
    if unit == "week":
        return day + (6 - day.weekday()) * DAY
    if unit == "month":
        return day.replace(day=calendar.monthrange(day.year, day.month)[1])
    return day.replace(month=12, day=31)


def split_period(since: date, until: date, unit: str) -> list[Window]:
    """The calendar ``unit``s from ``since`` to ``until`` (both included), oldest first;
    the first and last are clipped to the period."""
    if unit not in UNITS:
        raise ValueError(f"unknown window {unit!r}: one of {', '.join(UNITS)}")
    Window(since, until)  # checks the order
    windows = []
    while since <= until:
        last = min(_unit_end(since, unit), until)
        windows.append(Window(since, last))
        since = last + DAY
    return windows


# -- what belongs to a window ---------------------------------------------------------------
def hint_date(value: str | None) -> datetime | None:
    """A date seen at discovery, in UTC (a value without an offset read as UTC: see SLACK)."""
    parsed = parse_date(value, "UTC", datetime.now(UTC))
    return parsed[0] if parsed else None


def before(moment: datetime, window: Window) -> bool:
    """Whether a discovery date surely precedes the window."""
    return moment < window.start - SLACK


def outside_by_hints(hints: dict[str, str], window: Window) -> str | None:
    """The reason to leave a discovered URL out of a window's run, from the dates discovery
    saw for it; None when it may belong to the window (no date is no reason)."""
    for key in HINT_PUBLISHED:  # the most trusted publication date decides
        if (published := hint_date(hints.get(key))) is not None:
            if before(published, window) or published >= window.end + SLACK:
                return f"outside_window: published {published:%Y-%m-%d} ({key})"
            return None
    for key in HINT_CHANGED:  # last modified before the window: published before it too
        if (changed := hint_date(hints.get(key))) is not None and before(changed, window):
            return f"outside_window: last modified {changed:%Y-%m-%d} ({key})"
    return None


def outside_by_date(record: dict[str, Any], window: Window) -> str | None:
    """The reason an extracted article (its row) is not the window's; None when it is,
    by its publisher's calendar day. An article without a publication date belongs to no
    window: a normal run writes it."""
    day = publisher_day(record["published_at"], record.get("published_at_local"))
    if day is None:
        return OUTSIDE + UNDATED
    return None if window.since <= day <= window.until else f"{OUTSIDE}published {day}"


def outside_too(reason: str | None, window: Window) -> bool:
    """Whether an article another window's run left out for ``reason`` (``outside_by_date``'s,
    read back from the ledger) lies outside ``window`` as well: undated, or published
    outside it. Any other reason is not known to: False."""
    if not reason or not reason.startswith(OUTSIDE):
        return False
    rest = reason.removeprefix(OUTSIDE)
    if rest == UNDATED:
        return True
    try:
        day = date.fromisoformat(rest.removeprefix("published ")) if rest.startswith("published ") else None
    except ValueError:  # (a discovery date's reason names its source after the day)
        day = None
    return day is not None and not window.since <= day <= window.until


def listing_goes_on(dates: list[str], window: Window, past_max_pages: bool) -> bool:
    """Whether to read the next page of a listing (newest first) after a page whose article
    links showed ``dates``: not once they all precede the window, and past ``max_pages``
    only while they still reach into or after it."""
    moments = [m for m in map(hint_date, dates) if m is not None]
    if moments and all(before(m, window) for m in moments):
        return False
    return bool(moments) or not past_max_pages


# -- completed windows ----------------------------------------------------------------------
def _record_name(window: Window) -> str:
    return f"backfills/{window.key}.json"


def read_done(output: str | Path, slug: str, window: Window) -> dict[str, Any] | None:
    """The record of the window's completed run, or None (never run, failed, unreadable)."""
    return Store(output, slug, "").read_json(_record_name(window))


def backfill_runs(store: Store, backfill_run_id: str) -> set[str]:
    """The runs of the windows the backfill ``backfill_run_id`` has completed so far."""
    return {str(r["run_id"]) for r in store.read_records("backfills") if r.get("backfill_run_id") == backfill_run_id}


def write_done(output: str | Path, slug: str, window: Window, run: RunRecord, backfill_run_id: str) -> str:
    """Record a window as completed by ``run`` (its run record), whole or not at all."""
    record = {
        "dossier": slug,
        "window": window.as_dict(),
        "run_id": run.run_id,
        "counts": run.counts,
        "backfill_run_id": backfill_run_id,
        "completed_at": datetime.now(UTC).isoformat(),
    }
    return Store(output, slug, "").write_json(_record_name(window), record)


def outcome(window: Window, run: RunRecord, error: str | None = None, done: bool = False) -> dict[str, Any]:
    """What a backfill reports of a window, from its run record (or a done record):
    ``already done``, ``done``, or ``failed`` — a run that failed, could not read a source or
    failed to fetch or write pages leaves the window to the next backfill, which fetches only
    what is still missing."""
    counts = run.counts
    problems = [error] if error else []
    if not done and counts.get("failed"):
        problems.append(f"{counts['failed']} URL(s) failed")
    if not done and run.source_failures:
        problems.append(f"{len(run.source_failures)} source problem(s)")
    return {
        **window.as_dict(),
        "status": "already done" if done else "failed" if problems else "done",
        "run_id": run.run_id,
        "counts": {k: counts.get(k, 0) for k in ("written", "skipped", "failed")},
        "problem": "; ".join(problems) or None,
        "waits": not done,  # a run of its own, whose task runs the CLI waits for
    }
