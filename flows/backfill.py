"""The `backfill_dossier` flow: a dossier over a past period, one child flow run of
`scrape_dossier` per window (day, week, month or year), so that each window is a run of
its own in the Prefect UI, with its own record, and can fail and be retried alone.

Windows run one after the other: they fetch from the same hosts, whose politeness limits
hold per run. A window whose run succeeded is recorded (tasks/windows.py) and skipped by
the next backfill of the same period unless ``force``; so rerunning a backfill retries
only the windows that failed.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from prefect import flow
from prefect.client.schemas.objects import State
from prefect.runtime import flow_run
from prefect.states import Failed

from dossier_pipeline.flows.scrape import scrape_dossier
from dossier_pipeline.tasks.config import BATCH_SIZE
from dossier_pipeline.tasks.record import RunRecord
from dossier_pipeline.tasks.windows import outcome, read_done, split_period, write_done


@flow(name="backfill_dossier", flow_run_name="{slug} {since}..{until} by {window}", log_prints=True)
def backfill_dossier(
    slug: str,
    since: date,
    until: date,
    window: str = "month",
    force: bool = False,
    config_path: str = "dossiers.toml",
    output: str = "datasets",
    batch_size: int = BATCH_SIZE,
) -> list[dict[str, Any]] | State:
    """Scrape ``slug`` window by window from ``since`` to ``until`` (days, both included,
    an article's day being its publisher's: tasks/windows.py); returns one outcome per
    window (tasks/windows.outcome), in a Failed state when a window failed."""
    outcomes = []
    for span in split_period(since, until, window):
        done = None if force else read_done(output, slug, span)
        if done is not None:
            outcomes.append(outcome(span, RunRecord.model_validate(done), done=True))  # its run's id and counts
            continue
        state = scrape_dossier.with_options(flow_run_name=f"{slug} {span.key}")(
            slug,
            config_path=config_path,
            output=output,
            batch_size=batch_size,
            since=span.since,
            until=span.until,
            return_state=True,
        )
        if state.is_completed():
            run = RunRecord.model_validate(state.result())
            result = outcome(span, run)
        else:  # the child run's exception is in its state (and its logs): the other windows go on
            run = RunRecord(run_id=str(state.state_details.flow_run_id), dossier=slug)
            result = outcome(span, run, f"run {state.type.value.lower()}: {state.message}")
        if result["status"] == "done":
            write_done(output, slug, span, run, str(flow_run.get_id()))
        outcomes.append(result)
        print(f"{slug} {span.key}: {result['status']}" + (f" ({result['problem']})" if result["problem"] else ""))
    failed = [o["key"] for o in outcomes if o["status"] == "failed"]
    if failed:
        return Failed(message=f"{len(failed)} of {len(outcomes)} window(s) failed: {', '.join(failed)}", data=outcomes)
    return outcomes
