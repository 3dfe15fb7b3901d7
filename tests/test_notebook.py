"""notebooks/explore_dossier.ipynb runs top to bottom on the demo dataset, as CI's proof that
the analysis recipes it shows (pandas, polars, DuckDB, matplotlib) work."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell
from test_load import shared_demo

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "explore_dossier.ipynb"


@pytest.fixture(scope="session")
def demo(pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return shared_demo(pytestconfig, tmp_path_factory)


def test_notebook_is_stored_without_outputs() -> None:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert code and all(cell.outputs == [] and cell.execution_count is None for cell in code)
    assert nb.metadata.kernelspec.name == "python3"


def test_notebook_runs_on_the_demo_dataset(demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The "python3" kernel is this interpreter, whatever kernels the machine has installed elsewhere.
    spec = tmp_path / "jupyter" / "kernels" / "python3"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (test)", "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "runtime"))
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("DOSSIER_DATASET", str(demo))

    nb = nbformat.read(NOTEBOOK, as_version=4)
    nb.cells.append(new_code_cell("import sys; print(sys.executable)"))
    # Raises CellExecutionError, with the cell and its traceback, when a cell fails.
    NotebookClient(nb, kernel_name="python3", timeout=180, resources={"metadata": {"path": str(tmp_path)}}).execute()

    streams = [(out.name, out.text) for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs
               if out.output_type == "stream"]
    assert [text for name, text in streams if name == "stderr"] == []  # no warnings either
    stdout = "".join(text for _, text in streams)
    assert "48 articles, published 2024-01-05 to 2024-07-29" in stdout
    assert re.search(r"read from \['articles/year=2024/month=01/part-\d+-[0-9a-f]+\.parquet'\]", stdout)  # one file
    assert "no failed URL in any run" in stdout
    assert "Retrieved " in stdout and 'dossier "demo", run ' in stdout  # the citation
    assert stdout.rstrip().splitlines()[-1] == sys.executable
