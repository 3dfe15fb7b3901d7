"""Project-level contracts: the documented schema matches the code, the code is ruff clean."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dossier_pipeline.tasks.schema import ARTICLE_SCHEMA, EDITS_SCHEMA, URL_SCHEMA, markdown_table

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


def test_the_package_leaves_a_prefect_projects_own_tasks_and_flows_alone(tmp_path: Path) -> None:
    """Prefect projects often have top-level flows/ and tasks/ packages of their own: the
    pipeline installs as one package, dossier_pipeline, so both import side by side."""
    for name in ("tasks", "flows"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "__init__.py").write_text(f"OWNER = 'user {name}'\n", encoding="utf-8")
    code = ("import tasks, flows, dossier_pipeline.tasks.load, dossier_pipeline.flows.scrape;"
            "from dossier_pipeline import open_dossier, load_articles, load_config, scrape_dossier;"
            "print(tasks.OWNER, flows.OWNER, sorted(dossier_pipeline.__all__) == dossier_pipeline.__all__)")
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["user", "tasks", "user", "flows", "True"]


def test_tests_use_an_isolated_prefect_home() -> None:
    """The session and the commands it starts use a throwaway Prefect home, never ~/.prefect
    (conftest.py also fails the session when ~/.prefect changed)."""
    from conftest import PREFECT_HOME

    code = "from prefect.settings import get_current_settings; print(get_current_settings().home)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert Path(done.stdout.strip()) == PREFECT_HOME != Path.home() / ".prefect"
