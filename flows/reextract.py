"""The `reextract_dossier` flow: rebuild a dossier's articles from its WARC archive.

No network: the pages are the archived responses, extracted again with the current
extractor and normalisation (tasks/replay.py). Loading batch n+1 from the archive
overlaps the extraction of batch n, as fetching does in `scrape_dossier`.
"""

from __future__ import annotations

from typing import Any

from prefect import flow
from prefect.runtime import flow_run

from dossier_pipeline.tasks.config import BATCH_SIZE, load_config
from dossier_pipeline.tasks.lock import DossierLock
from dossier_pipeline.tasks.replay import ArchiveSource
from dossier_pipeline.tasks.run import Run, RunSpec
from dossier_pipeline.tasks.staging import Staging
from dossier_pipeline.tasks.steps import extract_and_commit, finish_task, scan_task
from dossier_pipeline.tasks.store import Store
from dossier_pipeline.tasks.version import PIPELINE_VERSION
from dossier_pipeline.tasks.workers import ExtractorPool


@flow(name="reextract_dossier", log_prints=True)
def reextract_dossier(slug: str, config_path: str = "dossiers.toml", output: str = "datasets",
                      batch_size: int = BATCH_SIZE) -> dict[str, Any]:
    """Rebuild ``<output>/<slug>/articles`` (and ``edits``) from ``raw/``; returns the run record."""
    config = load_config(config_path)
    dossier = config.get(slug)
    parameters = {"slug": slug, "config_path": config_path, "output": output, "batch_size": batch_size}
    pool = ExtractorPool.for_settings(dossier.settings)
    run_id = str(flow_run.get_id())
    staging = Staging(Store(output, slug, PIPELINE_VERSION), run_id)
    run = Run(RunSpec(run_id, config, dossier, parameters, kind="reextract"), pool, staging)
    source = ArchiveSource(staging.target, dossier, run_id, run.ledger.counts, run.durations)
    lock = DossierLock(output, slug).acquire()  # it replaces articles/: never beside a scrape
    try:
        with run.stops_when_full():  # a full disk ends the run with its record, not a traceback
            run.prepare()
            queue = scan_task(source)
            if queue:
                pool.warm()
            extract_and_commit(run, source, queue, batch_size)
        return finish_task(run, source)
    finally:
        pool.close()
        staging.discard()
        run.close()
        lock.release()
