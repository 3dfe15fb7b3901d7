"""The `dossier` command as a user runs it: exit codes, messages, the offline demo."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pandas as pd
import pytest
from conftest import write_config

from dossier_pipeline.flows.cli import main

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


def test_extraction_workers_do_not_load_the_dataset_libraries() -> None:
    """multiprocessing imports the parent's __main__ (this module, for `dossier run`) in every
    extraction worker: it must stay light, or each worker carries pyarrow and pandas."""
    code = "import sys, dossier_pipeline.flows.cli; print(sorted({'pyarrow', 'pandas', 'prefect'} & set(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == "[]"


def _mark() -> dict[str, str]:
    """The environment for a subprocess, marked so that what it leaves running can be found,
    without a PREFECT_API_URL of the developer's: the embedded API is what is tested."""
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    return {**env, "DOSSIER_TEST_MARK": uuid.uuid4().hex}


def _left_running(env: dict[str, str]) -> list[str]:
    """PIDs of live processes started with the marked ``env`` (none found without /proc)."""
    mark = f"DOSSIER_TEST_MARK={env['DOSSIER_TEST_MARK']}".encode()
    found = []
    for environ in Path("/proc").glob("[0-9]*/environ"):
        try:
            if mark in environ.read_bytes():
                found.append(environ.parent.name)
        except OSError:  # gone meanwhile, or not ours to read
            continue
    return found


def test_demo_end_to_end_in_a_fresh_process(tmp_path: Path) -> None:
    """`dossier demo` as a new user runs it: real process, embedded Prefect API, no traceback,
    the API server stopped at exit; then `dossier list` reports the dataset."""
    out = tmp_path / "datasets"
    cmd = [sys.executable, "-m", "dossier_pipeline.flows.cli", "demo", "--port", "0", "--output", str(out)]
    env = _mark()
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert not _left_running(env), "the API server outlived the run"
    assert "written 48" in done.stdout and 'pd.read_parquet("' in done.stdout
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
    steps = [shlex.split(line) for line in done.stdout.split("\nNext:\n", 1)[1].splitlines() if line.strip()]
    assert [step[:2] for step in steps] == [["dossier", "list"], ["dossier", "show"], ["dossier", "export"]]
    outputs = {}
    for step in steps:
        ran = subprocess.run([sys.executable, "-m", "dossier_pipeline.flows.cli", *step[1:]], capture_output=True,
                             text=True, timeout=60, cwd=tmp_path)
        assert ran.returncode == 0, (step, ran.stderr)
        outputs[step[1]] = ran.stdout
    assert "48 articles" in outputs["list"] and "1 run(s)" in outputs["list"]
    assert "demo: runs, oldest first" in outputs["show"]
    assert len(pd.read_csv(tmp_path / "demo.csv")) == 48


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
    """)
    env = _mark()
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                          cwd=Path(__file__).parents[1], env=env)
    assert done.returncode == 0, done.stderr
    assert "flow returned 42" in done.stdout
    assert not _left_running(env), "the API server outlived the run"
