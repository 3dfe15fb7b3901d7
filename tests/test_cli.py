"""The `dossier` command as a user runs it: exit codes, messages, the offline demo."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from conftest import write_config

from flows.cli import main

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
    code = "import sys, flows.cli; print(sorted({'pyarrow', 'pandas', 'prefect'} & set(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == "[]"


def test_demo_end_to_end_in_a_fresh_process(tmp_path: Path) -> None:
    """`dossier demo` as a new user runs it: real process, embedded Prefect API, no traceback;
    then a second run is incremental and `dossier list` reports the dataset."""
    out = tmp_path / "datasets"
    cmd = [sys.executable, "-m", "flows.cli", "demo", "--port", "0", "--output", str(out)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stdout + done.stderr
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

    listing = subprocess.run([sys.executable, "-m", "flows.cli", "list", "--config",
                              str(out / "demo" / "dossiers.toml"), "--output", str(out)],
                             capture_output=True, text=True, timeout=60)
    assert "48 articles" in listing.stdout and "1 run(s)" in listing.stdout
