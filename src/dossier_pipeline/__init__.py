"""dossier-pipeline: news dossiers (topic pages, feeds, sitemaps) into Parquet datasets.

The stages live in :mod:`dossier_pipeline.tasks` (plain functions, Prefect task wrappers in
``tasks/steps.py``), the Prefect flows and the ``dossier`` command line in
:mod:`dossier_pipeline.flows`. What a notebook or another program needs is importable from
here; the names load lazily, so that ``import dossier_pipeline`` costs nothing until one is
used (the loaders need pyarrow, the flows need Prefect)::

    from dossier_pipeline import load_articles
    df = load_articles("datasets/demo", start="2024-03-01", end="2024-04-01")
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dossier_pipeline.flows.backfill import backfill_dossier
    from dossier_pipeline.flows.reextract import reextract_dossier
    from dossier_pipeline.flows.scrape import scrape_dossier
    from dossier_pipeline.tasks.config import Config, ConfigError, Dossier, load_config
    from dossier_pipeline.tasks.load import article_filter, load_articles, load_runs, load_urls, open_dossier

_EXPORTS = {
    "open_dossier": "dossier_pipeline.tasks.load",
    "load_articles": "dossier_pipeline.tasks.load",
    "load_urls": "dossier_pipeline.tasks.load",
    "load_runs": "dossier_pipeline.tasks.load",
    "article_filter": "dossier_pipeline.tasks.load",
    "load_config": "dossier_pipeline.tasks.config",
    "Config": "dossier_pipeline.tasks.config",
    "ConfigError": "dossier_pipeline.tasks.config",
    "Dossier": "dossier_pipeline.tasks.config",
    "scrape_dossier": "dossier_pipeline.flows.scrape",
    "backfill_dossier": "dossier_pipeline.flows.backfill",
    "reextract_dossier": "dossier_pipeline.flows.reextract",
}

__all__ = ["Config", "ConfigError", "Dossier", "article_filter", "backfill_dossier", "load_articles", "load_config",
           "load_runs", "load_urls", "open_dossier", "reextract_dossier", "scrape_dossier"]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'dossier_pipeline' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
