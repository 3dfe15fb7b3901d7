"""The `reextract_dossier` flow: rebuild a dossier's articles from its WARC archive.

No network: the pages are the archived responses, extracted again with the current
extractor and normalisation (tasks/replay.py). Loading batch n+1 from the archive
overlaps the extraction of batch n, as fetching does in `scrape_dossier`.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from prefect import flow
from prefect.runtime import flow_run
from prefect.utilities.annotations import quote

from dossier_pipeline.tasks.config import BATCH_SIZE, load_config
from dossier_pipeline.tasks.lock import DossierLock
from dossier_pipeline.tasks.replay import Replay
from dossier_pipeline.tasks.steps import extract_and_commit, finish_task, load_task, scan_task
from dossier_pipeline.tasks.workers import ExtractorPool


@flow(name="reextract_dossier", log_prints=True)
def reextract_dossier(slug: str, config_path: str = "dossiers.toml", output: str = "datasets",
                      batch_size: int = BATCH_SIZE) -> dict[str, Any]:
    """Rebuild ``<output>/<slug>/articles`` (and ``edits``) from ``raw/``; returns the run record."""
    config = load_config(config_path)
    dossier = config.get(slug)
    parameters = {"slug": slug, "config_path": config_path, "output": output, "batch_size": batch_size}
    pool = ExtractorPool.for_settings(dossier.settings)
    replay = Replay(str(flow_run.get_id()), config, dossier, output, parameters, pool)
    lock = DossierLock(output, slug).acquire()  # it replaces articles/: never beside a scrape
    try:
        replay.prepare()
        queue = deque(scan_task(replay))
        if queue:
            pool.warm()
        extract_and_commit(replay, queue, lambda: load_task(replay, quote(replay.take(queue, batch_size))))
        return finish_task(replay)
    finally:
        pool.close()
        replay.discard()
        lock.release()
