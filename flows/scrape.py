"""The `scrape_dossier` flow: discover -> fetch -> extract -> normalise -> write.

Fetching batch n+1 overlaps the extraction of batch n (tasks/steps.py extract_and_commit).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from prefect import flow
from prefect.client.schemas.objects import State
from prefect.runtime import flow_run
from prefect.states import Cancelled, Failed

from dossier_pipeline.tasks.config import BATCH_SIZE, load_config
from dossier_pipeline.tasks.lock import DossierLock
from dossier_pipeline.tasks.run import Run, RunSpec
from dossier_pipeline.tasks.steps import (
    discover_task,
    extract_and_commit,
    finish_task,
    plan_task,
    read_warc_files,
    unvisited,
)
from dossier_pipeline.tasks.workers import ExtractorPool


@flow(name="scrape_dossier", log_prints=True)
def scrape_dossier(slug: str, config_path: str = "dossiers.toml", output: str = "datasets",
                   limit: int | None = None, refresh: bool = False, batch_size: int = BATCH_SIZE,
                   since: date | None = None, until: date | None = None) -> dict[str, Any] | State:
    """Scrape one dossier into ``<output>/<slug>/``; returns the run record. With ``since``
    and ``until`` (days, both included), only the articles whose publisher's day falls
    then are written (tasks/windows.py). A run stopped on request (tasks/interrupt.py)
    ends Cancelled in Prefect, with its record (state "interrupted") as its result; one
    stopped by a full disk (tasks/diskfull.py) ends Failed, with its record (state "disk_full")."""
    config = load_config(config_path)
    parameters = {"slug": slug, "config_path": config_path, "output": output, "limit": limit,
                  "refresh": refresh, "batch_size": batch_size,
                  "since": since and since.isoformat(), "until": until and until.isoformat()}
    dossier = config.get(slug)
    pool = ExtractorPool.for_settings(dossier.settings)
    run = Run(RunSpec(str(flow_run.get_id()), config, dossier, parameters), pool)
    lock = DossierLock(output, slug).acquire()  # one run of a dossier at a time: tasks/lock.py
    source = None
    try:
        with run.stops_when_full():  # a full disk ends the run with its record, not a traceback
            run.prepare()
            source = run.live_source()
            queue = plan_task(run, source, unvisited(discover_task(run, source)), limit)
            if queue and not run.distributed:
                pool.warm()
            extract_and_commit(run, source, queue, batch_size)
            # the files of warc sources after the live pages: an article found in both is the live row
            backfill = flow_run.parent_flow_run_id if run.window else None  # a backfill's window (or none)
            if not run.interrupted and run.disk_full is None \
                    and (warc := run.warc_source(source, backfill)) is not None:
                read_warc_files(run, warc, batch_size)
            run.settle_gone(source)
        pool.close()  # not needed for the record: stopped before Prefect is told (which may hang without its API)
        record = finish_task(run, source)
        if run.disk_full is not None:
            return Failed(message=str(run.disk_full), data=record)
        if run.interrupted:
            return Cancelled(message=f"interrupted: {record['counts']['written']} article(s) written, the rest is "
                             "left for the next run", data=record)
        return record
    finally:
        pool.close()
        if source is not None:
            source.close()
        run.close()
        lock.release()

