"""Project-level contracts: the documented schema matches the code, the code is ruff clean."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tasks.schema import ARTICLE_SCHEMA, EDITS_SCHEMA, URL_SCHEMA, markdown_table

ROOT = Path(__file__).resolve().parents[1]


def test_dataset_readme_documents_every_column() -> None:
    """datasets/README.md holds the generated schema tables, so docs cannot drift from code."""
    readme = (ROOT / "datasets" / "README.md").read_text(encoding="utf-8")
    assert markdown_table(ARTICLE_SCHEMA) in readme
    assert markdown_table(URL_SCHEMA) in readme
    assert markdown_table(EDITS_SCHEMA) in readme


def test_ci_runs_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    command = (ROOT / ".ci" / "run").read_text(encoding="utf-8").strip().splitlines()[-1]
    assert command in readme


@pytest.mark.skipif(shutil.which("ruff") is None and not (Path(sys.executable).parent / "ruff").exists(),
                    reason="ruff not installed")
def test_ruff_clean() -> None:
    ruff = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    done = subprocess.run([ruff, "check", str(ROOT)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout
