"""Scheduled dossiers as Prefect deployments: served from one process (`dossier serve`), or
declared in a prefect.yaml for a work pool's workers (`dossier prefect-yaml`, then
`prefect deploy --all`).

Both build their deployments here, so a served dossier and a deployed one get the same
schedule, parameters, tags and concurrency limit.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import yaml
from prefect import serve
from prefect.client.orchestration import SyncPrefectClient, get_client
from prefect.client.schemas.filters import (
    DeploymentFilter,
    DeploymentFilterId,
    FlowRunFilter,
    FlowRunFilterState,
    FlowRunFilterStateType,
)
from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy, FlowRun, StateType
from prefect.client.schemas.schedules import CronSchedule
from prefect.deployments.runner import RunnerDeployment
from prefect.exceptions import ObjectNotFound
from prefect.logging import get_logger
from prefect.settings import PREFECT_API_URL
from prefect.states import Cancelled
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
IN_FLIGHT = (StateType.PENDING, StateType.RUNNING, StateType.CANCELLING)  # a run holding its deployment's slot
SKIP_CHECK_SECONDS = 5.0  # how often `dossier serve` looks for occurrences skipped by CANCEL_NEW
logger = get_logger("dossier_pipeline.serve")  # under Prefect's logger: shown at its default level


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


def serve_deployments(deployments: list[RunnerDeployment], skip_check_seconds: float = SKIP_CHECK_SECONDS) -> None:
    """Serve the deployments from this process until it is stopped (Ctrl-C), against the
    configured Prefect API, whose scheduler creates their runs.

    Meanwhile, an occurrence skipped by the concurrency limit (CANCEL_NEW) is logged with
    why. When it stops, the runs it had in flight (Submitting, Pending, Running) are marked
    Cancelled: their processes are gone, and a run left Pending or Running would keep the
    deployment's one slot, so the next occurrences would be skipped until its lease expired.
    """
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
    watcher = SkippedRuns(deployments, skip_check_seconds)
    watcher.start()
    try:
        serve(*deployments)
    finally:
        watcher.stop()
        with get_client(sync_client=True) as client:
            cancel_runs_in_flight(client, _deployment_ids(client, deployments))


def _deployment_ids(client: SyncPrefectClient, deployments: list[RunnerDeployment]) -> dict[UUID, str]:
    """The served deployments' ids (those registered so far), with their names."""
    ids = {}
    for deployment in deployments:
        try:
            ids[client.read_deployment_by_name(f"{deployment.flow_name}/{deployment.name}").id] = deployment.name
        except ObjectNotFound:
            continue
    return ids


def _runs(client: SyncPrefectClient, ids: dict[UUID, str], states: tuple[StateType, ...]) -> list[FlowRun]:
    return client.read_flow_runs(
        deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=list(ids))),
        flow_run_filter=FlowRunFilter(state=FlowRunFilterState(type=FlowRunFilterStateType(any_=list(states)))),
    )


def cancel_runs_in_flight(client: SyncPrefectClient, ids: dict[UUID, str]) -> list[FlowRun]:
    """Mark the deployments' runs in flight Cancelled (forced: whatever state they were left
    in), which releases their concurrency slots; returns them."""
    runs = _runs(client, ids, IN_FLIGHT) if ids else []
    for run in runs:
        was = run.state.name if run.state else "unknown"
        client.set_flow_run_state(run.id, Cancelled(message=f"`dossier serve` stopped while this run was {was}"),
                                  force=True)
        logger.warning("%s: run %r was %s when `dossier serve` stopped: marked Cancelled, its concurrency slot "
                       "is free for the next run", ids.get(run.deployment_id or UUID(int=0), "?"), run.name, was)
    return runs


class SkippedRuns(threading.Thread):
    """Logs each occurrence of the served deployments that the concurrency limit cancelled
    (CANCEL_NEW), and which run held the slot: Prefect's runner says it at INFO only."""

    def __init__(self, deployments: list[RunnerDeployment], every: float) -> None:
        super().__init__(name="dossier-skipped-runs", daemon=True)
        self.deployments, self.every = deployments, every
        self.since = datetime.now(UTC)
        self.reported: set[UUID] = set()
        self._stop_event = threading.Event()

    def stop(self) -> None:
        self._stop_event.set()
        self.join(self.every + 5)

    def run(self) -> None:
        with get_client(sync_client=True) as client:
            while not self._stop_event.wait(self.every):
                try:
                    self.check(client)
                except Exception as exc:  # the API is away for a moment: serving goes on
                    logger.debug("could not look for skipped runs: %s", exc)

    def check(self, client: SyncPrefectClient) -> None:
        ids = _deployment_ids(client, self.deployments)
        if not ids:
            return
        for run in _runs(client, ids, (StateType.CANCELLED,)):
            state = run.state
            if (run.id in self.reported or state is None or state.timestamp < self.since
                    or "concurrency limit" not in (state.message or "")):
                continue
            self.reported.add(run.id)
            holders = [r for r in _runs(client, ids, IN_FLIGHT) if r.deployment_id == run.deployment_id]
            held = "the previous run held its slot"
            if holders:
                held = f"run {holders[0].name!r} ({holders[0].state_name or '?'}) still holds its slot"
            logger.warning("%s: scheduled run %r skipped (%s): %s; one run of a dossier at a time "
                           "(collision strategy CANCEL_NEW), the next occurrence runs as usual",
                           ids.get(run.deployment_id or UUID(int=0), "?"), run.name, state.message, held)


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
