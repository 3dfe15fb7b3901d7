"""Scheduled runs: the `schedule` key, the per-dossier lock, the deployments built from a
config, prefect.yaml as `prefect deploy` reads it, and a served deployment firing on its
schedule against a real local `prefect server start`."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pyarrow.parquet as pq
import pytest
from conftest import TestSite, write_config

from dossier_pipeline.flows.cli import main
from dossier_pipeline.flows.deploy import CONCURRENCY, build_deployments
from dossier_pipeline.tasks.config import ConfigError, load_config, parse_config
from dossier_pipeline.tasks.lock import DossierLock, DossierLocked

ROOT = Path(__file__).resolve().parents[1]
FEED = '[[dossiers.{slug}.sources]]\nkind = "feed"\nurl = "https://example.com/feed.xml"\n'
HOLDER = (
    "import sys, time\nfrom dossier_pipeline.tasks.lock import DossierLock\n"
    "DossierLock(sys.argv[1], sys.argv[2]).acquire()\nprint('held', flush=True)\ntime.sleep(120)\n"
)


def dossier(slug: str, extra: str = "") -> str:
    return f"[dossiers.{slug}]\n{extra}\n" + FEED.format(slug=slug)


# --- the `schedule` key ------------------------------------------------------------------


def test_schedule_cron_string_and_table_forms() -> None:
    """A cron string runs in UTC; the table form names its zone. Neither touches the
    `timezone` setting, which is about the dates pages give."""
    text = (
        '[defaults]\ntimezone = "Asia/Tokyo"\n'
        + dossier("plain", 'schedule = "0 */6 * * *"')
        + dossier("paris", 'schedule = { cron = "30 5 * * 1-5", timezone = "Europe/Paris" }')
        + dossier("never")
    )
    config = parse_config(text, Path("dossiers.toml"))
    plain, paris, never = (config.get(s) for s in ("plain", "paris", "never"))
    assert plain.schedule is not None and (plain.schedule.cron, plain.schedule.timezone) == ("0 */6 * * *", "UTC")
    assert paris.schedule is not None
    assert (paris.schedule.cron, paris.schedule.timezone) == ("30 5 * * 1-5", "Europe/Paris")
    assert never.schedule is None
    assert plain.settings.timezone == paris.settings.timezone == "Asia/Tokyo"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ('"61 * * * *"', "key 'schedule': invalid cron expression '61 * * * *'"),
        ('"every day"', "key 'schedule': invalid cron expression 'every day'"),
        ('"H * * * *"', "key 'schedule': invalid cron expression 'H * * * *'"),  # croniter's hashed form
        ('{ cron = "0 6 * * *", timezone = "Europe/Pariss" }', "key 'schedule': unknown time zone 'Europe/Pariss'"),
        ('{ cron = "0 6 * * *", tz = "UTC" }', "key 'schedule.tz': unknown key"),
        ('{ timezone = "UTC" }', "key 'schedule.cron': Field required"),
        ("6", "key 'schedule': a cron string, or a table"),
    ],
)
def test_bad_schedule_names_file_dossier_and_key(value: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(dossier("syria", f"schedule = {value}"), Path("dossiers.toml"))
    assert str(info.value).startswith(f"dossiers.toml: dossier 'syria': {message}"), str(info.value)


def test_schedule_is_per_dossier_not_a_default() -> None:
    """One schedule in [defaults] would fire every dossier at the same instant."""
    with pytest.raises(ConfigError, match=r"\[defaults\]: key 'schedule': unknown key"):
        parse_config('[defaults]\nschedule = "0 * * * *"\n' + dossier("a"), Path("dossiers.toml"))


# --- the lock ------------------------------------------------------------------------------


def test_second_holder_is_refused_until_the_first_releases(tmp_path: Path) -> None:
    first = DossierLock(str(tmp_path), "syria").acquire()
    with pytest.raises(DossierLocked) as info:
        DossierLock(str(tmp_path), "syria").acquire()
    assert "dossier 'syria'" in str(info.value) and f"process {os.getpid()}" in str(info.value)
    with DossierLock(str(tmp_path), "other"):  # another dossier is independent
        pass
    first.release()
    with DossierLock(str(tmp_path), "syria"):
        pass


def test_lock_is_released_when_its_holder_is_killed(tmp_path: Path) -> None:
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_path), "syria"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(DossierLocked, match=f"process {holder.pid}"):
            DossierLock(str(tmp_path), "syria").acquire()
    finally:
        holder.kill()
        holder.wait(10)
    with DossierLock(str(tmp_path), "syria"):  # SIGKILL: no cleanup ran, the kernel released it
        pass


def test_uri_output_is_not_locked(tmp_path: Path) -> None:
    """Only local paths can be locked; a URI output relies on the deployment limit."""
    with DossierLock("s3://bucket/datasets", "syria"), DossierLock("s3://bucket/datasets", "syria"):
        pass


def test_second_run_while_locked_prints_one_line_only(site: TestSite, tmp_path: Path) -> None:
    """Two `dossier run` processes of one dossier: the first keeps the lock from its own
    check on (never a gap in which a second run passes the check and then fails inside
    Prefect, with Prefect's ERROR and a traceback); the second prints one line and exits 2."""
    site.faults["/articles/slow.html"] = lambda path, headers: time.sleep(4)  # keeps the first run going
    config = write_config(tmp_path, f'[dossiers.a]\n[[dossiers.a.sources]]\nkind = "urls"\n'
                                    f'urls = ["{site.base}/articles/slow.html"]\n')
    out = tmp_path / "datasets"
    lock = out / "a" / ".lock"
    lock.parent.mkdir(parents=True)
    lock.write_text("before\n")
    command = [sys.executable, "-m", "dossier_pipeline.flows.cli", "run", "a", "--config", str(config), "--output",
               str(out)]
    first = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while lock.read_text() == "before\n" and time.monotonic() < deadline and first.poll() is None:
            time.sleep(0.01)  # until the first run's check has taken the lock
        with pytest.raises(DossierLocked):  # held from the check on, not released until the run starts
            DossierLock(str(out), "a").acquire().release()
        second = subprocess.run(command, capture_output=True, text=True, timeout=60)
        assert first.poll() is None, "the first run ended too early for the test"
    finally:
        output, _ = first.communicate(timeout=120)
    assert first.returncode == 0 and "Traceback" not in output, output
    assert (second.returncode, second.stdout) == (2, "")
    assert second.stderr.count("\n") == 1, second.stderr
    assert second.stderr.startswith(f"error: dossier 'a' is already being run by process {first.pid} ")


@pytest.mark.usefixtures("prefect_api")
def test_manual_run_overlapping_a_running_one_fails_fast(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`dossier run` while another process runs the dossier: exit 2, one line naming the
    dossier and the process, and the dataset untouched by the refused run."""
    config = write_config(tmp_path, dossier("syria"))
    out = tmp_path / "datasets"
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(out), "syria"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        started = time.monotonic()
        assert main(["run", "syria", "--config", str(config), "--output", str(out)]) == 2
        assert time.monotonic() - started < 30
    finally:
        holder.kill()
        holder.wait(10)
    err = capsys.readouterr().err
    assert "dossier 'syria' is already being run by process" in err and str(holder.pid) in err
    assert "Traceback" not in err
    assert not list((out / "syria" / "runs").glob("*.json"))


# --- deployments and prefect.yaml ------------------------------------------------------------


def test_deployments_built_from_a_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """One deployment per scheduled dossier: its cron and zone, absolute paths (a served run
    may start anywhere), a limit of one run, and an entrypoint found wherever it is installed."""
    write_config(
        tmp_path,
        dossier("hourly", 'title = "Hourly"\nschedule = "0 * * * *"')
        + dossier("paris", 'schedule = { cron = "30 5 * * *", timezone = "Europe/Paris" }')
        + dossier("manual"),
    )
    monkeypatch.chdir(tmp_path)
    deployments = {d.name: d for d in build_deployments("dossiers.toml", "datasets")}
    assert sorted(deployments) == ["hourly", "paris"]
    hourly, paris = deployments["hourly"], deployments["paris"]
    assert hourly.parameters == {
        "slug": "hourly",
        "config_path": str(tmp_path / "dossiers.toml"),
        "output": str(tmp_path / "datasets"),
    }
    assert [(s.schedule.cron, s.schedule.timezone) for s in hourly.schedules] == [("0 * * * *", "UTC")]
    assert [(s.schedule.cron, s.schedule.timezone) for s in paris.schedules] == [("30 5 * * *", "Europe/Paris")]
    for deployment in deployments.values():
        assert deployment.flow_name == "scrape_dossier"
        assert deployment.entrypoint == "dossier_pipeline.flows.scrape.scrape_dossier"
        assert deployment.concurrency_limit == 1
        assert deployment.concurrency_options is not None
        assert deployment.concurrency_options.collision_strategy == CONCURRENCY.collision_strategy
        assert deployment.tags == ["dossier-pipeline", f"dossier:{deployment.name}"]
        assert deployment.work_pool_name is None
    assert hourly.description == "Hourly"
    assert build_deployments("dossiers.toml", "s3://bucket/d")[0].parameters["output"] == "s3://bucket/d"


def test_serve_without_schedules_or_without_api_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    unscheduled = write_config(tmp_path, dossier("a"), name="none.toml")
    assert main(["serve", "--config", str(unscheduled), "--output", str(tmp_path)]) == 2
    assert "no dossier has a schedule" in capsys.readouterr().err
    assert main(["prefect-yaml", "--config", str(unscheduled), "--pool", "p"]) == 2
    assert "no dossier has a schedule" in capsys.readouterr().err

    scheduled = write_config(tmp_path, dossier("a", 'schedule = "0 * * * *"'))
    with temporary_settings(restore_defaults={PREFECT_API_URL}):
        assert main(["serve", "--config", str(scheduled), "--output", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "no Prefect API is configured" in err and "prefect server start" in err and "PREFECT_API_URL" in err
    with temporary_settings(updates={PREFECT_API_URL: f"http://127.0.0.1:{free_port()}/api"}):
        assert main(["serve", "--config", str(scheduled), "--output", str(tmp_path)]) == 2
    assert "cannot reach the Prefect API" in capsys.readouterr().err


def test_committed_prefect_yaml_is_the_generated_one(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """prefect.yaml is what the command written in its first line prints for the example
    config, so it cannot drift from examples/dossiers.toml or from the generator."""
    committed = (ROOT / "prefect.yaml").read_text(encoding="utf-8")
    command = re.match(r"# Written by `(dossier [^`]+)`", committed)
    assert command, "prefect.yaml: first line names the command that wrote it"
    monkeypatch.chdir(ROOT)
    assert main(shlex.split(command.group(1))[1:]) == 0
    assert capsys.readouterr().out == committed
    assert "--config examples/dossiers.toml" in command.group(1)
    scheduled = {s for s, d in load_config(ROOT / "examples" / "dossiers.toml").dossiers.items() if d.schedule}
    assert len(scheduled) >= 1 and scheduled == {d.name for d in build_deployments("examples/dossiers.toml", "x")}


def test_prefect_reads_prefect_yaml_as_generated(monkeypatch: pytest.MonkeyPatch) -> None:
    """Prefect's own prefect.yaml loader and schedule conversion (what `prefect deploy`
    runs before it contacts the server) accept the file and read back what the config says."""
    from prefect.cli.deploy._config import _load_deploy_configs_and_actions
    from prefect.cli.deploy._schedules import _schedule_config_to_deployment_schedule
    from prefect.flows import load_flow_from_entrypoint
    from rich.console import Console

    monkeypatch.chdir(ROOT)
    console = Console(record=True)
    configs, actions = _load_deploy_configs_and_actions(ROOT / "prefect.yaml", console=console)
    assert console.export_text() == "", "Prefect skipped (part of) prefect.yaml"
    assert actions["pull"] is None  # `prefect deploy` adds set_working_directory: the directory it runs in
    dossiers = load_config("examples/dossiers.toml").dossiers
    assert sorted(c["name"] for c in configs) == sorted(s for s, d in dossiers.items() if d.schedule)
    for config in configs:
        expected = dossiers[config["name"]].schedule
        assert expected is not None
        [schedule] = [_schedule_config_to_deployment_schedule(s)["schedule"] for s in config["schedules"]]
        assert (schedule.cron, schedule.timezone) == (expected.cron, expected.timezone)
        flow = load_flow_from_entrypoint(config["entrypoint"])
        assert flow.name == "scrape_dossier"
        flow.validate_parameters(config["parameters"])
        assert config["parameters"]["config_path"] == "examples/dossiers.toml"
        assert config["concurrency_limit"] == {"limit": 1, "collision_strategy": "CANCEL_NEW"}
        assert config["work_pool"]["name"] == "dossiers"


# --- a real Prefect server ---------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(command: list[str], env: dict[str, str], log: Path, cwd: Path) -> subprocess.Popen[bytes]:
    """A subprocess in its own process group, so that stopping it stops what it started."""
    with log.open("wb") as out:
        return subprocess.Popen(command, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the process group, then SIGKILL what is left of it (a flow run, its workers)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(10)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(10)


@pytest.fixture(scope="module")
def prefect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    """`prefect server start` on a free port with its own home and database; yields its API
    URL and the environment of a client of it. The scheduler loops are shortened (runs of a
    new deployment are created within a second) — scheduling itself is Prefect's."""
    home = tmp_path_factory.mktemp("prefect-home")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env |= {
        "PREFECT_HOME": str(home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_SERVER_UI_ENABLED": "false",
        "PREFECT_SERVER_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{home / 'prefect.db'}",
        "PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS": "2",
        "PREFECT_SERVER_SERVICES_SCHEDULER_RECENT_DEPLOYMENTS_LOOP_SECONDS": "1",
    }
    api = f"http://127.0.0.1:{port}/api"
    server = start(
        [
            str(Path(sys.executable).parent / "prefect"),
            "server",
            "start",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-ui",
        ],
        env,
        home / "server.log",
        home,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{api}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None and time.monotonic() < deadline, (home / "server.log").read_text()
            time.sleep(0.3)
        yield api, {**env, "PREFECT_API_URL": api, "PREFECT_RUNNER_POLL_FREQUENCY": "1"}
    finally:
        stop(server)


def test_served_dossier_fires_on_its_schedule_and_writes_the_dataset(
    prefect_server: tuple[str, dict[str, str]], site: TestSite, tmp_path: Path
) -> None:
    """`dossier serve` against a real server: the deployment's cron fires, the scheduled run
    writes the dataset. The cron has Prefect's optional sixth field, seconds (every 10 s), so
    the test waits seconds for the schedule, not a minute."""
    api, env = prefect_server
    config = write_config(
        tmp_path,
        f'[dossiers.served]\nschedule = "* * * * * */10"\n'
        f'[[dossiers.served.sources]]\nkind = "feed"\nurl = "{site.base}/feed.xml"\n',
    )
    out = tmp_path / "datasets"
    serve = start(
        [sys.executable, "-m", "dossier_pipeline.flows.cli", "serve", "--config", str(config), "--output", str(out)],
        env,
        tmp_path / "serve.log",
        tmp_path,
    )
    try:
        deadline = time.monotonic() + 75
        while not list((out / "served" / "runs").glob("*.json")):
            assert serve.poll() is None, (tmp_path / "serve.log").read_text()
            assert time.monotonic() < deadline, "no scheduled run finished:\n" + (tmp_path / "serve.log").read_text()
            time.sleep(0.5)
        deployment = httpx.get(f"{api}/deployments/name/scrape_dossier/served").json()
    finally:
        stop(serve)
    record = json.loads(next((out / "served" / "runs").glob("*.json")).read_text())
    parameters = record["parameters"]
    assert (parameters["slug"], parameters["config_path"], parameters["output"]) == ("served", str(config), str(out))
    assert record["counts"]["discovered"] == 4
    assert pq.read_table(out / "served" / "articles").num_rows == record["counts"]["written"] > 0

    run = httpx.get(f"{api}/flow_runs/{record['run_id']}").json()
    assert run["deployment_id"] == deployment["id"] and run["auto_scheduled"] is True
    assert run["expected_start_time"][17:19] in {"00", "10", "20", "30", "40", "50"}  # on the cron's seconds
    assert [s["schedule"]["cron"] for s in deployment["schedules"]] == ["* * * * * */10"]
    assert deployment["global_concurrency_limit"]["limit"] == 1
    assert deployment["concurrency_options"]["collision_strategy"] == "CANCEL_NEW"


def test_prefect_deploy_all_reads_the_committed_prefect_yaml(
    prefect_server: tuple[str, dict[str, str]], tmp_path: Path
) -> None:
    """The README's commands for a team: create the work pool, `prefect deploy --all` from
    the repository; the server then holds each scheduled dossier with its schedule and limit."""
    api, env = prefect_server
    prefect = str(Path(sys.executable).parent / "prefect")
    for command in ([prefect, "work-pool", "create", "dossiers", "--type", "process"], [prefect, "deploy", "--all"]):
        done = subprocess.run(
            command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL
        )
        assert done.returncode == 0, done.stdout + done.stderr
    scheduled = {
        s: d.schedule
        for s, d in load_config(ROOT / "examples" / "dossiers.toml").dossiers.items()
        if d.schedule is not None
    }
    assert scheduled
    for dossier_, expected in scheduled.items():
        deployment = httpx.get(f"{api}/deployments/name/scrape_dossier/{dossier_}").json()
        assert [(s["schedule"]["cron"], s["schedule"]["timezone"]) for s in deployment["schedules"]] == [
            (expected.cron, expected.timezone)
        ]
        assert deployment["global_concurrency_limit"]["limit"] == 1
        assert deployment["concurrency_options"]["collision_strategy"] == "CANCEL_NEW"
        assert deployment["work_pool_name"] == "dossiers"
        assert deployment["parameters"] == {
            "slug": dossier_,
            "config_path": "examples/dossiers.toml",
            "output": "datasets",
        }
        assert deployment["pull_steps"] == [
            {"prefect.deployments.steps.set_working_directory": {"directory": str(ROOT)}}
        ]


def _post(url: str, body: dict[str, Any]) -> httpx.Response:
    """POST to the Prefect API, retried on 503 as Prefect's own client does (a busy SQLite
    database answers 503 on a loaded machine)."""
    for attempt in range(6):
        response = httpx.post(url, json=body, timeout=30)
        if response.status_code != 503:
            break
        wait = response.headers.get("retry-after", "")
        time.sleep(float(wait) if wait.isdigit() else 0.5 * (attempt + 1))
    response.raise_for_status()
    return response


def _flow_run(api: str, deployment_id: str) -> dict[str, Any]:
    """A new run of the deployment, Scheduled now (as its scheduler creates them)."""
    return _post(f"{api}/deployments/{deployment_id}/create_flow_run", {}).json()


def _state(api: str, run: dict[str, Any]) -> dict[str, Any]:
    return httpx.get(f"{api}/flow_runs/{run['id']}", timeout=30).json()["state"]


def _propose(api: str, run: dict[str, Any], kind: str, force: bool = False) -> str:
    """Propose a state to the server as a runner does; returns the server's answer (ACCEPT, REJECT, ABORT)."""
    return _post(f"{api}/flow_runs/{run['id']}/set_state", {"state": {"type": kind}, "force": force}).json()["status"]


def test_serve_logs_skipped_runs_and_releases_the_slot_on_ctrl_c(
    prefect_server: tuple[str, dict[str, str]], site: TestSite, tmp_path: Path
) -> None:
    """`dossier serve`: an occurrence cancelled by the concurrency limit (CANCEL_NEW) is
    logged at the default level, saying why; Ctrl-C while a run is in flight (Submitting,
    Pending) leaves it Cancelled or Crashed, never in flight, and its slot free: the next
    run is not cancelled."""
    api, env = prefect_server
    config = write_config(tmp_path, f'[dossiers.stopped]\nschedule = "0 0 1 1 *"\n'
                                    f'[[dossiers.stopped.sources]]\nkind = "feed"\nurl = "{site.base}/feed.xml"\n')
    log = tmp_path / "serve.log"
    serve = start([sys.executable, "-m", "dossier_pipeline.flows.cli", "serve", "--config", str(config), "--output",
                   str(tmp_path / "datasets")], env, log, tmp_path)
    try:
        deadline = time.monotonic() + 60
        while (found := httpx.get(f"{api}/deployments/name/scrape_dossier/stopped", timeout=30)).status_code != 200:
            assert serve.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        deployment = found.json()

        holder = _flow_run(api, deployment["id"])  # takes the deployment's one slot, as a run in flight
        for _ in range(3):  # the runner's first poll, as it starts, may take a run due now before the test does
            if (answer := _propose(api, holder, "PENDING")) != "ABORT":
                break
            assert _propose(api, holder, "CANCELLED", force=True) == "ACCEPT"
            time.sleep(1)
            holder = _flow_run(api, deployment["id"])
        assert answer == "ACCEPT"
        skipped = _flow_run(api, deployment["id"])  # due now: the runner takes it, the limit cancels it
        deadline = time.monotonic() + 60
        while f"scheduled run {skipped['name']!r} skipped" not in log.read_text():
            assert serve.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        assert _state(api, skipped)["type"] == "CANCELLED"
        line = next(line for line in log.read_text().splitlines() if skipped["name"] in line)
        assert "WARNING" in line and "concurrency limit" in line and holder["name"] in line, line
        assert _propose(api, holder, "CANCELLED", force=True) == "ACCEPT"

        run = _flow_run(api, deployment["id"])
        deadline = time.monotonic() + 60
        while _state(api, run)["type"] == "SCHEDULED":  # until the runner submits it
            assert serve.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.02)
        os.killpg(serve.pid, signal.SIGINT)  # Ctrl-C, as a terminal sends it to the whole group
        serve.wait(60)
    finally:
        stop(serve)
    assert _state(api, run)["type"] in {"CANCELLED", "CRASHED"}, log.read_text()
    limit = httpx.get(f"{api}/deployments/{deployment['id']}", timeout=30).json()["global_concurrency_limit"]
    assert limit["active_slots"] == 0, log.read_text()
    after = _flow_run(api, deployment["id"])
    assert _propose(api, after, "PENDING") == "ACCEPT"  # the next run gets the slot
    assert _propose(api, after, "CANCELLED", force=True) == "ACCEPT"
