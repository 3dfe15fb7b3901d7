"""Scheduled dossiers as Prefect deployments: served from one process (`dossier serve`), or
declared in a prefect.yaml for a work pool's workers (`dossier prefect-yaml`, then
`prefect deploy --all`).

Both build their deployments here, so a served dossier and a deployed one get the same
schedule, parameters, tags and concurrency limit.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from prefect import serve
from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
from prefect.client.schemas.schedules import CronSchedule
from prefect.deployments.runner import RunnerDeployment
from prefect.settings import PREFECT_API_URL
from prefect.types.entrypoint import EntrypointType

from dossier_pipeline.flows.scrape import scrape_dossier
from dossier_pipeline.tasks.config import ConfigError, load_config

# One run of a dossier at a time. CANCEL_NEW rather than ENQUEUE: runs are incremental, so
# an occurrence that fires while the previous run is still going would find nothing new once
# it got its turn, and queueing would pile up a backlog whenever runs outlast the interval.
# The skipped occurrence shows as Cancelled; the next one runs as usual.
CONCURRENCY = ConcurrencyLimitConfig(limit=1, collision_strategy=ConcurrencyLimitStrategy.CANCEL_NEW)
TAG = "dossier-pipeline"
NO_API = (
    "no Prefect API is configured: a schedule needs a Prefect server, whose scheduler creates the runs "
    "(the temporary API Prefect starts for a single run has none). Start one with `prefect server start` "
    "and set PREFECT_API_URL=http://127.0.0.1:4200/api, or point PREFECT_API_URL at Prefect Cloud"
)


def _path(value: str, absolute: bool) -> str:
    return value if not absolute or "://" in value else str(Path(value).resolve())


def build_deployments(
    config_path: str, output: str, *, work_pool: str | None = None, absolute: bool = True
) -> list[RunnerDeployment]:
    """One deployment of `scrape_dossier` per dossier with a `schedule`, named after its slug.

    Served deployments get absolute paths, whatever directory their runs start in. A
    prefect.yaml keeps them as given (``absolute=False``): they are read from the directory
    `prefect deploy` runs in, which Prefect's default pull step makes the workers' one.
    """
    config = load_config(config_path)
    scheduled = [(dossier, dossier.schedule) for dossier in config.dossiers.values() if dossier.schedule is not None]
    if not scheduled:
        raise ConfigError(
            f'{config_path}: no dossier has a schedule (add e.g. schedule = "0 */6 * * *" to a [dossiers.<slug>] table)'
        )
    return [
        scrape_dossier.to_deployment(
            name=dossier.slug,
            schedule=CronSchedule(cron=schedule.cron, timezone=schedule.timezone),
            parameters={
                "slug": dossier.slug,
                "config_path": _path(config_path, absolute),
                "output": _path(output, absolute),
            },
            concurrency_limit=CONCURRENCY,
            description=dossier.title,
            tags=[TAG, f"dossier:{dossier.slug}"],
            work_pool_name=work_pool,
            # a module path, not a file path: found wherever the package is installed
            entrypoint_type=EntrypointType.MODULE_PATH,
        )
        for dossier, schedule in scheduled
    ]


def serve_deployments(deployments: list[RunnerDeployment]) -> None:
    """Serve the deployments from this process until it is stopped (Ctrl-C), against the
    configured Prefect API, whose scheduler creates their runs."""
    api = PREFECT_API_URL.value()
    if not api:
        raise ConfigError(NO_API)
    with get_client(sync_client=True) as client:
        problem = client.api_healthcheck()
    if problem is not None:
        raise ConfigError(
            f"cannot reach the Prefect API at {api} ({problem}); is `prefect server start` running, "
            "and PREFECT_API_URL its address?"
        )
    for deployment in deployments:
        schedule = deployment.schedules[0].schedule
        print(f"{deployment.name}: cron {schedule.cron!r} ({schedule.timezone})")
    serve(*deployments)


def _yaml_entry(deployment: RunnerDeployment) -> dict[str, Any]:
    """A deployment as `prefect deploy` reads it from prefect.yaml."""
    return {
        "name": deployment.name,
        "description": deployment.description,
        "entrypoint": deployment.entrypoint,
        "parameters": deployment.parameters,
        "tags": deployment.tags,
        "schedules": [{"cron": s.schedule.cron, "timezone": s.schedule.timezone} for s in deployment.schedules],
        "concurrency_limit": {"limit": CONCURRENCY.limit, "collision_strategy": CONCURRENCY.collision_strategy.value},
        "work_pool": {"name": deployment.work_pool_name},
    }


def prefect_yaml(config_path: str, output: str, work_pool: str) -> str:
    """The prefect.yaml text declaring the scheduled dossiers of a config for a work pool."""
    deployments = build_deployments(config_path, output, work_pool=work_pool, absolute=False)
    header = (
        f"# Written by `dossier prefect-yaml --config {config_path} --output {output} --pool {work_pool}`:\n"
        "# one deployment per dossier with a `schedule`, at most one run of each at a time.\n"
        "# Deploy from this directory (relative paths are read from it, on the workers too):\n"
        f"#   prefect work-pool create {work_pool} --type process\n"
        "#   prefect deploy --all\n"
        f"#   prefect worker start --pool {work_pool}\n"
    )
    spec = {"name": TAG, "deployments": [_yaml_entry(d) for d in deployments]}
    return header + yaml.safe_dump(spec, sort_keys=False, allow_unicode=True)
