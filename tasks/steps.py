"""Thin Prefect task wrappers around the plain step functions.

Each task run handles a whole batch (never one URL): Prefect task runs cost milliseconds
each. Caching is off: inputs are raw page bodies, and a rerun's incrementality comes from
the dataset itself, not from Prefect's result cache.
"""

from __future__ import annotations

from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE

from tasks.discover import DiscoveredURL, Discovery, discover
from tasks.run import Fetched, Run


@task(name="discover", cache_policy=NO_CACHE)
def discover_task(run: Run) -> Discovery:
    return discover(run.dossier, run.politeness)


@task(name="plan", cache_policy=NO_CACHE)
def plan_task(run: Run, discovery: Discovery, refresh: bool, limit: int | None) -> list[DiscoveredURL]:
    return run.plan(discovery, refresh, limit)


@task(name="fetch-batch", cache_policy=NO_CACHE)
def fetch_task(run: Run, batch: list[DiscoveredURL]) -> Fetched:
    return run.fetch(batch)


@task(name="extract-batch", cache_policy=NO_CACHE)
def extract_task(run: Run, fetched: Fetched) -> tuple[Fetched, list[dict[str, Any]]]:
    return run.extract(fetched)


@task(name="write-batch", cache_policy=NO_CACHE)
def commit_task(run: Run, extracted: tuple[Fetched, list[dict[str, Any]]]) -> None:
    run.commit(extracted)


@task(name="finish", cache_policy=NO_CACHE)
def finish_task(run: Run) -> dict[str, Any]:
    record = run.summary()
    run.store.write_run(record)
    return record
