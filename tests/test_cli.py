"""The `dossier` command as a user runs it: exit codes, messages, the offline demo."""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from pathlib import Path
from typing import get_args

import pandas as pd
import pytest
from conftest import PAGES, TestSite, left_running, marked_env, write_config

from dossier_pipeline.flows import cli
from dossier_pipeline.flows.cli import ExitStatus, Window, main
from dossier_pipeline.tasks import interrupt
from dossier_pipeline.tasks.store import Store

ENTRY_POINT = Path(sys.executable).parent / "dossier"  # the installed `dossier` command of this environment
FURNITURE = ["S'abonner", "URL courte", "Lire aussi", "Tags:", "Commenter", "Règles de conduite", "Dossier:",
             "Partager", "Les plus lus"]


def test_validate_ok(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path, '[dossiers.a]\n[[dossiers.a.sources]]\nkind = "feed"\nurl = "https://x.org/f"\n')
    assert main(["validate", "--config", str(config)]) == 0
    assert "OK, 1 dossier" in capsys.readouterr().out


def test_bad_config_is_one_clear_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path, '[dossiers.a]\n[[dossiers.a.sources]]\nkind = "feed"\nurll = "https://x.org"\n')
    assert main(["run", "a", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert str(config) in err and "'a'" in err and "urll" in err and "Traceback" not in err


def test_missing_config_and_unknown_dossier(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--config", str(tmp_path / "nope.toml")]) == 2
    assert "not found" in capsys.readouterr().err
    config = write_config(tmp_path, '[dossiers.a]\n[[dossiers.a.sources]]\nkind = "feed"\nurl = "https://x.org/f"\n')
    assert main(["run", "b", "--config", str(config)]) == 2
    assert "no dossier 'b'" in capsys.readouterr().err


def test_unusable_output_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path, '[dossiers.a]\n[[dossiers.a.sources]]\nkind = "feed"\nurl = "https://x.org/f"\n')
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    assert main(["run", "a", "--config", str(config), "--output", str(blocker)]) == 2
    assert "output directory" in capsys.readouterr().err


def _without_permission_override() -> None:
    """In a child process about to exec: drop the capabilities that let root ignore file
    permissions (from the bounding set, so that the exec'd program has them no longer)."""
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH):
        if libc.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


PR_CAPBSET_DROP, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH = 24, 1, 2  # linux/prctl.h, linux/capability.h


def test_read_only_output_directory_is_one_line_naming_it(tmp_path: Path) -> None:
    """A dataset directory that cannot be written: one line naming it, never the name of
    the file written to find out (as root, the command runs without the capabilities that
    let root ignore permissions)."""
    config = write_config(tmp_path, '[dossiers.a]\n[[dossiers.a.sources]]\nkind = "feed"\nurl = "https://x.org/f"\n')
    dataset = tmp_path / "out" / "a"
    for name in ("articles", "urls", "runs"):
        (dataset / name).mkdir(parents=True)
    for path in (dataset / "articles", dataset / "urls", dataset / "runs", dataset):
        path.chmod(0o555)
    done = subprocess.run([sys.executable, "-m", "dossier_pipeline.flows.cli", "run", "a", "--config", str(config),
                           "--output", "out"], capture_output=True, text=True, timeout=60, cwd=tmp_path,
                          preexec_fn=_without_permission_override if os.geteuid() == 0 else None)
    assert done.returncode == ExitStatus.USAGE and done.stdout == "", done.stderr
    assert done.stderr == "error: output directory out/a is not usable: cannot write a file in it (Permission denied)\n"


def test_extraction_workers_do_not_load_the_dataset_libraries() -> None:
    """multiprocessing imports the parent's __main__ (this module, for `dossier run`) in every
    extraction worker: it must stay light, or each worker carries pyarrow and pandas."""
    code = "import sys, dossier_pipeline.flows.cli; print(sorted({'pyarrow', 'pandas', 'prefect'} & set(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == "[]"


def _falls_back_cleanly(code: str) -> None:
    """Run ``code`` (which gives up the API server spawned ahead and runs an empty flow) in
    a fresh process: the flow runs on Prefect's own start and no server is left running."""
    env = marked_env()
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                          cwd=Path(__file__).parents[1], env=env)
    assert done.returncode == 0, done.stderr
    assert "flow returned 42" in done.stdout and "a server died: None" in done.stdout
    assert not left_running(env), "the API server outlived the run"


def test_demo_end_to_end_in_a_fresh_process(tmp_path: Path) -> None:
    """`dossier demo` as a new user runs it, through the installed entry point without the
    venv on PATH: real process, embedded Prefect API, no traceback, the API server stopped at
    exit; then the next commands it prints work as printed."""
    out = tmp_path / "datasets"
    cmd = [str(ENTRY_POINT), "demo", "--port", "0", "--output", str(out)]
    env = marked_env()
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep)
                                  if Path(p or ".").absolute() != ENTRY_POINT.parent)
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert not left_running(env), "the API server outlived the run"
    assert "written 48" in done.stdout and 'pd.read_parquet("' in done.stdout
    assert "from dossier_pipeline import load_articles" in done.stdout
    df = pd.read_parquet(out / "demo" / "articles")
    assert len(df) == 48 and df["article_id"].is_unique
    for phrase in FURNITURE:
        assert not df["text"].str.contains(phrase, regex=False).any(), phrase
    assert df["tags"].map(len).min() >= 3
    assert df["published_at"].notna().all() and df["title"].notna().all()
    assert (df["language"] == "fr").all()
    assert df["dossier_labels"].map(list).map(lambda x: x == ["Sécheresse et gestion de l'eau en Occitanie"]).all()
    assert df["related_urls"].map(len).min() == 3
    assert ((df["authors"].map(len) >= 1) | df["agency"].notna()).all()  # "AFP" is an agency, not a person
    # paragraphs are separated by blank lines
    assert df["text"].str.contains("\n\n").all() and not df["text"].str.contains("\n\n\n").any()

    # the next commands the demo prints work as printed, from where it ran, without --config
    # (`dossier` is not on this PATH: the entry point's own path is printed)
    steps = [shlex.split(line) for line in done.stdout.split("\nNext:\n", 1)[1].splitlines() if line.strip()]
    assert [step[:2] for step in steps] == [[str(ENTRY_POINT), c] for c in ("list", "show", "export")]
    outputs = {}
    for step in steps:
        ran = subprocess.run(step, capture_output=True, text=True, timeout=60, cwd=tmp_path, env=env)
        assert ran.returncode == 0, (step, ran.stderr)
        outputs[step[1]] = ran.stdout
    assert "48 articles" in outputs["list"] and "1 run(s)" in outputs["list"]
    assert "demo: runs, oldest first" in outputs["show"]
    assert len(pd.read_csv(tmp_path / "demo.csv")) == 48


@pytest.mark.parametrize("how", ["on PATH", "inside cwd", "elsewhere", "module"])
def test_next_steps_name_dossier_as_it_can_be_run(how: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The printed command runs as printed from the current directory: bare `dossier` only
    when PATH finds this entry point; otherwise its path (relative inside the directory), or
    `python -m` when the CLI ran as a module."""
    path = os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep)
                           if Path(p or ".").absolute() != ENTRY_POINT.parent)
    monkeypatch.setenv("PATH", f"{ENTRY_POINT.parent}{os.pathsep}{path}" if how == "on PATH" else path)
    monkeypatch.chdir(ENTRY_POINT.parents[2] if how == "inside cwd" else tmp_path)
    monkeypatch.setattr(sys, "argv", [str(Path(cli.__file__)) if how == "module" else str(ENTRY_POINT)])
    first = shlex.split(cli._next_steps("out").splitlines()[1])
    assert first[-3:] == ["list", "--output", "out"]
    expected = {"on PATH": ["dossier"], "inside cwd": [str(ENTRY_POINT.relative_to(ENTRY_POINT.parents[2]))],
                "elsewhere": [str(ENTRY_POINT)], "module": [sys.executable, "-m", "dossier_pipeline.flows.cli"]}[how]
    assert first[:-3] == expected
    ran = subprocess.run([*first[:-3], "--version"], capture_output=True, text=True, timeout=60)
    assert ran.returncode == 0 and ran.stdout.startswith("dossier-pipeline "), ran.stderr


def test_embedded_api_falls_back_to_prefects_own_start() -> None:
    """When the API server spawned ahead exits before answering (a port taken meanwhile,
    say), Prefect's own start serves the flow, and nothing is left running."""
    code = textwrap.dedent("""
        import subprocess, sys
        from dossier_pipeline.tasks import api
        api._spawn = lambda port, settings: subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
        api.start_embedded_api()()  # waits for the server to answer or be given up
        from prefect import flow
        print("flow returned", flow(lambda: 42, name="empty")())
        print("a server died:", api.embedded_api_exit_status())  # the one given up was stopped on purpose
    """)
    _falls_back_cleanly(code)


def test_embedded_api_adapter_fits_the_pinned_prefect() -> None:
    """Against the installed Prefect: the adapter finds its server object, and a process
    handed to it is the server Prefect's clients use and stop (in a fresh process: this
    one's Prefect server may be started already)."""
    code = textwrap.dedent("""
        import subprocess, sys
        from prefect.server.api.server import SubprocessASGIServer
        from dossier_pipeline.tasks.api import EphemeralServer, _free_port
        server = EphemeralServer.find()
        assert server is not None, "the installed Prefect does not fit the adapter"
        port, process = _free_port(), subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        server.adopt(process, port)
        prefects = SubprocessASGIServer()  # as Prefect's client takes it
        assert prefects.running and prefects.api_url == f"http://127.0.0.1:{port}/api" == server.api_url
        assert EphemeralServer.find() is None  # started already: not adopted twice
        server.stop()
        assert process.poll() is not None and not SubprocessASGIServer().running
        print("adapted")
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          cwd=Path(__file__).parents[1], env=marked_env())
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "adapted"


class _Shaped:
    """Prefect's server class as the adapter expects it (one instance per process)."""

    _instance: _Shaped | None = None

    def __new__(cls) -> _Shaped:
        if cls.__dict__.get("_instance") is None:
            cls._instance = super().__new__(cls)
            cls._instance.port, cls._instance.server_process, cls._instance.running = None, None, False
        return cls._instance

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def _run_uvicorn_command(self) -> None: ...


class _NoProcess(_Shaped):
    def __new__(cls) -> _Shaped:
        instance = super().__new__(cls)
        instance.__dict__.pop("server_process", None)
        return instance


class _TextRunning(_Shaped):
    def __new__(cls) -> _Shaped:
        instance = super().__new__(cls)
        instance.running = "no"  # type: ignore[assignment]
        return instance


class _NoSpawn(_Shaped):
    _run_uvicorn_command = None  # type: ignore[assignment]


class _NotOnePerProcess(_Shaped):
    def __new__(cls) -> _Shaped:
        instance = object.__new__(cls)
        instance.port, instance.server_process, instance.running = None, None, False
        return instance


def test_embedded_api_adapter_refuses_another_shape() -> None:
    from dossier_pipeline.tasks.api import EphemeralServer

    assert EphemeralServer.find(_Shaped) is not None
    for other in (_NoProcess, _TextRunning, _NoSpawn, _NotOnePerProcess):
        assert EphemeralServer.find(other) is None, other.__name__


def test_embedded_api_falls_back_when_prefects_server_class_differs() -> None:
    """A Prefect whose server class lacks what the adapter sets: the server spawned ahead
    is stopped, Prefect's own start serves the flow, and nothing is left running."""
    code = textwrap.dedent("""
        from dossier_pipeline.tasks import api
        class Other:  # no server_process, no running
            port = None
            api_url = property(lambda self: "")
            def start(self): ...
            def stop(self): ...
            def _run_uvicorn_command(self): ...
        api._server_class = lambda: Other
        api.start_embedded_api()()
        assert not api._started, "adopted by a server class of another shape"
        from prefect import flow
        print("flow returned", flow(lambda: 42, name="empty")())
        print("a server died:", api.embedded_api_exit_status())  # the one given up was stopped on purpose
    """)
    _falls_back_cleanly(code)


@pytest.mark.parametrize("argv", [["run", "a", "--batch-size", "0"], ["run", "a", "--limit", "-5"],
                                  ["demo", "--copies", "0"], ["demo", "--port", "70000"],
                                  ["reextract", "a", "--batch-size", "-1"], ["backfill", "a", "--since", "2024-13-01",
                                                                             "--until", "2024-12-31"],
                                  ["export", "a", "--format", "xml"], ["run", "a", "--no-such-option"]])
def test_bad_options_are_refused_at_once(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """Refused by the command line library before anything starts: one line, exit 2."""
    assert main(argv) == ExitStatus.USAGE
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and err.startswith("error: ") and "Traceback" not in err


def test_version_and_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("dossier-pipeline ")
    for command in ("run", "show", "export", "reextract", "backfill"):
        assert main([command, "--help"]) == 0
        assert "the dossier's slug" in capsys.readouterr().out, command


def test_window_choices_are_the_backfill_units() -> None:
    from dossier_pipeline.tasks.windows import UNITS

    assert get_args(Window) == UNITS


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens there once closed


@pytest.mark.usefixtures("prefect_api")
def test_exit_status_when_nothing_could_be_collected(site: TestSite, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """Every feed unreachable: no source read (3); every URL refused as well: nothing fetched
    (4); a 404 among good pages: 0, or 6 with --strict. One line on stderr says why, with -q too."""
    down = f"http://127.0.0.1:{_closed_port()}"
    config = tmp_path / "dossiers.toml"
    config.write_text(f"""
[dossiers.down]
[[dossiers.down.sources]]
kind = "feed"
url = "{down}/feed.xml"

[dossiers.refused]
[[dossiers.refused.sources]]
kind = "feed"
url = "{down}/feed.xml"
[[dossiers.refused.sources]]
kind = "urls"
urls = ["{site.article_url(PAGES[0])}", "{site.article_url(PAGES[1])}"]
""", encoding="utf-8")
    out = str(tmp_path / "out")
    assert main(["run", "down", "-q", "--config", str(config), "--output", out]) == ExitStatus.NO_SOURCE
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1 and "no source could be read" in captured.err
    assert main(["run", "refused", "-q", "--config", str(config), "--output", out]) == ExitStatus.NO_FETCH
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "none of the 2 URL(s) could be fetched" in err
    assert "private_address" in err and "allow_private_addresses" in err

    good = write_config(tmp_path, f"""
[dossiers.some]
[[dossiers.some.sources]]
kind = "urls"
urls = ["{site.article_url(PAGES[0])}", "{site.base}/articles/gone.html"]
""", name="good.toml")
    assert main(["run", "some", "-q", "--config", str(good), "--output", str(tmp_path / "a")]) == ExitStatus.OK
    assert capsys.readouterr().err == ""
    assert main(["run", "some", "-q", "--strict", "--config", str(good), "--output", str(tmp_path / "b")]) \
        == ExitStatus.STRICT
    assert "1 URL(s) failed" in capsys.readouterr().err
    # the rerun retries the dead link only: a server answered, so not "nothing fetched"
    assert main(["run", "some", "-q", "--config", str(good), "--output", str(tmp_path / "a")]) == ExitStatus.OK


@pytest.mark.usefixtures("prefect_api")
def test_interrupted_run_is_cancelled_in_prefect(site: TestSite, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """A run stopped on request (Ctrl-C) while a batch is fetched: its record says
    "interrupted" and Prefect shows its flow run as Cancelled, never Completed."""
    monkeypatch.setattr(interrupt, "_requested", threading.Event())  # this test's own stop request
    site.faults[f"/articles/{PAGES[1]}"] = lambda path, headers: interrupt.request_stop()  # then served as usual
    config = write_config(tmp_path, f"""
[dossiers.stopped]
[[dossiers.stopped.sources]]
kind = "urls"
urls = {json.dumps([site.article_url(page) for page in PAGES[:4]])}
""")
    out = tmp_path / "out"
    handler = signal.getsignal(signal.SIGINT)
    try:
        status = main(["run", "stopped", "-q", "--batch-size", "1", "--config", str(config), "--output", str(out)])
    finally:
        signal.signal(signal.SIGINT, handler)  # the command's Ctrl-C handler is for its own process
    assert status == ExitStatus.INTERRUPTED
    (record,) = Store(out, "stopped", "").read_runs()
    assert record.state == "interrupted" and record.counts["written"] == 1
    from prefect import get_client

    with get_client(sync_client=True) as client:
        state = client.read_flow_run(uuid.UUID(record.run_id)).state
    assert state is not None and state.is_cancelled() and state.message is not None
    assert state.message.startswith("interrupted: 1 article(s) written")


def _interrupt_demo(cmd: list[str], env: dict[str, str], signals: int) -> tuple[int, str, float]:
    """Start the demo in its own session and, once a progress line shows pages extracted,
    send Ctrl-C to its whole process group (as a terminal does) ``signals`` times;
    returns the exit status, the output and the seconds from the first Ctrl-C to the exit."""
    process = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
                               start_new_session=True)
    assert process.stdout is not None
    lines = []
    for line in process.stdout:
        lines.append(line)
        if re.search(r"extracted [1-9]", line):  # a progress line: a batch is extracted, more to come
            break
    sent = time.monotonic()
    for _ in range(signals):
        os.killpg(process.pid, signal.SIGINT)
        time.sleep(0.5)
    rest, _ = process.communicate(timeout=60)
    return process.returncode, "".join(lines) + rest, time.monotonic() - sent


def test_ctrl_c_during_a_run_of_a_thousand_pages(tmp_path: Path) -> None:
    """Ctrl-C: out within seconds with a few lines, the batch in flight written, the run
    recorded as interrupted, nothing left running; twice: out at once; the rerun completes
    without duplicates."""
    out = tmp_path / "datasets"
    cmd = [sys.executable, "-m", "dossier_pipeline.flows.cli", "demo", "--copies", "21", "--port", str(_closed_port()),
           "--output", str(out)]
    env = {**marked_env(), "DOSSIER_PROGRESS_SECONDS": "1"}
    status, output, seconds = _interrupt_demo(cmd, env, signals=1)
    assert status == ExitStatus.INTERRUPTED, output
    assert seconds < 15 and len(output.splitlines()) < 60 and "Traceback" not in output, output
    assert "interrupted" in output.splitlines()[-1], output
    assert not left_running(env), "a process outlived the run"
    store = Store(out, "demo", "")
    (record,) = store.read_runs()
    assert record.state == "interrupted" and 0 < (record.counts["written"] or 0) < 1008
    rows = store.read_articles(["article_id", "run_id"])
    assert rows.num_rows == record.counts["written"] and set(rows["run_id"].to_pylist()) == {record.run_id}
    assert set(store.read_urls(["run_id"])["run_id"].to_pylist()) == {record.run_id}  # the ledger is flushed

    status, output, seconds = _interrupt_demo(cmd, env, signals=2)
    assert status == ExitStatus.INTERRUPTED and "forced exit" in output and "Traceback" not in output, output
    assert not left_running(env), "a process outlived the forced exit"

    done = subprocess.run([*cmd, "--quiet"], capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr
    runs = {run.run_id: run for run in store.read_runs()}
    assert runs[max(runs, key=lambda r: runs[r].finished_at)].state == "completed"
    ids = store.read_articles(["article_id", "run_id"])
    assert ids.num_rows == 1008 and len(set(ids["article_id"].to_pylist())) == 1008


def test_api_server_dying_mid_run_ends_the_command_at_once(tmp_path: Path) -> None:
    """The embedded API server killed during a run: one line saying so, exit 5 within
    seconds (not Prefect retrying every event for minutes), the batch in flight and the run
    record written, nothing left running."""
    out = tmp_path / "datasets"
    env = {**marked_env(), "DOSSIER_PROGRESS_SECONDS": "1"}
    process = subprocess.Popen([sys.executable, "-m", "dossier_pipeline.flows.cli", "demo", "--copies", "21",
                                "--port", str(_closed_port()), "--output", str(out)], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, env=env, start_new_session=True)
    assert process.stdout is not None
    lines = []
    for line in process.stdout:
        lines.append(line)
        if re.search(r"extracted [1-9]", line):  # a batch extracted, more to come
            break
    (server,) = left_running(env, b"uvicorn")  # the embedded API server (tasks/api.py)
    os.kill(int(server), signal.SIGKILL)
    try:
        rest, _ = process.communicate(timeout=60)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
    output = "".join(lines) + rest
    assert process.returncode == ExitStatus.API, output
    errors = [line for line in output.splitlines() if "error" in line.lower() or "warn" in line.lower()]
    assert len(errors) == 1 and errors[0].startswith("error: the Prefect API stopped during the run"), output
    assert "Traceback" not in output
    assert not left_running(env), "a process outlived the run"
    store = Store(out, "demo", "")
    (record,) = store.read_runs()
    assert record.state == "interrupted" and 0 < (record.counts["written"] or 0) < 1008
    assert set(store.read_articles(["run_id"])["run_id"].to_pylist()) == {record.run_id}
