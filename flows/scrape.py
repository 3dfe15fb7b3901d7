"""The `scrape_dossier` flow: discover -> fetch -> extract -> normalise -> write.

Fetching batch n+1 overlaps the extraction of batch n (extraction runs on a process pool
with one worker per core); the write of batch n follows once batch n+1's extraction has
been handed to the pool, so both cores stay busy.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from prefect import flow
from prefect.runtime import flow_run

from tasks.config import load_config
from tasks.run import Run
from tasks.steps import commit_task, discover_task, extract_task, fetch_task, finish_task, plan_task
from tasks.workers import ExtractorPool


@flow(name="scrape_dossier", log_prints=True)
def scrape_dossier(slug: str, config_path: str = "dossiers.toml", output: str = "datasets",
                   limit: int | None = None, refresh: bool = False, batch_size: int = 256) -> dict[str, Any]:
    """Scrape one dossier into ``<output>/<slug>/``; returns the run record."""
    config = load_config(config_path)
    parameters = {"slug": slug, "config_path": config_path, "output": output, "limit": limit,
                  "refresh": refresh, "batch_size": batch_size}
    dossier = config.get(slug)
    pool = ExtractorPool.for_settings(dossier.settings)
    run = Run(str(flow_run.get_id()), config, dossier, output, parameters, pool)
    try:
        run.prepare()
        todo = plan_task(run, discover_task(run), refresh, limit)
        if todo:
            pool.warm()
        pending = None
        queue = deque(todo)
        while queue:
            fetched = fetch_task(run, run.next_batch(queue, batch_size))
            done = pending.result() if pending is not None else None
            pending = extract_task.submit(run, fetched)
            if done is not None:
                commit_task(run, done)
        if pending is not None:
            commit_task(run, pending.result())
        return finish_task(run)
    finally:
        pool.close()
        run.close()
