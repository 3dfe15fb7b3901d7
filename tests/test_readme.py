"""Following README.md and docs/*.md as a newcomer would: every fenced ``sh`` and ``python``
block runs and every ``toml`` config validates, and the references (configuration keys, CLI
options, URL states) cannot drift from the code.

Blocks run in document order in one copy of the repository made like a clean clone (no
.git, no local datasets, caches or dossiers.toml), holding ``datasets/demo`` from `dossier
demo` and a ``.venv`` that is this interpreter's environment. A block that cannot run
offline (it needs a real website, PyPI or a long-running server) has the line
``<!-- not tested: REASON -->`` just above its opening fence.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import get_args

import pytest
import typer
from test_load import shared_demo

from dossier_pipeline.flows.cli import app, main
from dossier_pipeline.tasks.config import Dossier, Settings, Source, load_config
from dossier_pipeline.tasks.schema import URL_STATES

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```([\w-]*)\s*$")
MARKER = re.compile(r"^<!-- not tested: (\S.*?) -->$")
RUN = {"sh", "python", "toml"}
SHOWN = {"", "text"}  # file trees and other listings, nothing to run
FRESH_MACHINE = [
    "python3 -m venv .venv && .venv/bin/pip install -q -r requirements.lock -e . && .venv/bin/dossier demo",
    "python3 -m venv .venv && .venv/bin/pip install -q -r requirements.lock -e '.[test]' && .venv/bin/python -m pytest",
]


@dataclass
class Block:
    doc: Path
    line: int
    lang: str
    code: str
    skip: str | None

    def __str__(self) -> str:
        return f"{self.doc.relative_to(ROOT)}:{self.line} ({self.lang or 'plain'})"


def fenced_blocks(doc: Path) -> list[Block]:
    lines = doc.read_text(encoding="utf-8").splitlines()
    found, i = [], 0
    while i < len(lines):
        match = FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        end = next(j for j in range(i + 1, len(lines)) if lines[j].strip() == "```")
        marker = MARKER.match(lines[i - 1]) if i else None
        found.append(Block(doc, i + 1, match.group(1), "\n".join(lines[i + 1 : end]) + "\n",
                           marker.group(1) if marker else None))
        i = end + 1
    return found


BLOCKS = [block for doc in DOCS for block in fenced_blocks(doc)]


@pytest.fixture(scope="session")
def demo(pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return shared_demo(pytestconfig, tmp_path_factory)


def _as_in_a_clean_clone(directory: str, names: list[str]) -> set[str]:
    here = Path(directory)
    ignored = {n for n in names if n in {".git", ".venv", "__pycache__", ".pytest_cache", ".ruff_cache", "build",
                                         "dist"} or n.endswith(".egg-info")}
    if here == ROOT:
        ignored |= {n for n in names if n == "dossiers.toml"}
    if here == ROOT / "datasets":
        ignored |= {n for n in names if n != "README.md"}
    return ignored


def test_blocks_are_run_or_say_why_not() -> None:
    assert len(BLOCKS) > 10
    for block in BLOCKS:
        assert block.lang in RUN | SHOWN, f"{block}: use sh, python or toml (run by this test), or text"
    for doc in DOCS:
        lines = doc.read_text(encoding="utf-8").splitlines()
        for n, line in enumerate(lines[:-1]):
            if line.startswith("<!-- not tested"):
                assert MARKER.match(line) and FENCE.match(lines[n + 1]), f"{doc.name}:{n + 1}: marker without a fence"
    readme = [b.code.strip() for b in BLOCKS if b.doc.name == "README.md"]
    assert all(command in readme for command in FRESH_MACHINE)


def test_documented_commands_work(demo: Path, tmp_path: Path) -> None:
    work = tmp_path / "repo"
    shutil.copytree(ROOT, work, ignore=_as_in_a_clean_clone)
    shutil.copytree(demo, work / "datasets" / "demo")
    (work / ".venv").symlink_to(sys.prefix, target_is_directory=True)
    assert (work / ".venv" / "bin" / "dossier").exists()
    kernel = tmp_path / "jupyter" / "kernels" / "python3"  # a notebook's "python3" kernel is this interpreter
    kernel.mkdir(parents=True)
    (kernel / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3", "language": "python"}))
    env = {**os.environ, "PATH": f"{work / '.venv' / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
           "JUPYTER_PATH": str(tmp_path / "jupyter"), "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
           "IPYTHONDIR": str(tmp_path / "ipython")}

    failures = []
    for n, block in enumerate(b for b in BLOCKS if b.lang in RUN and b.skip is None):
        script = tmp_path / f"block-{n}.{block.lang}"
        script.write_text(block.code, encoding="utf-8")
        command = {"sh": ["bash", "-eo", "pipefail", str(script)],
                   "python": [str(work / ".venv" / "bin" / "python"), str(script)],
                   "toml": [str(work / ".venv" / "bin" / "dossier"), "validate", "--config", str(script)]}[block.lang]
        done = subprocess.run(command, cwd=work, env=env, capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            output = done.stdout[-2000:] + done.stderr[-3000:]
            failures.append(f"{block} exited {done.returncode}:\n{block.code}{output}")
    assert not failures, "\n\n".join(failures)
    assert (work / "dossiers.toml").read_text() == (ROOT / "examples" / "dossiers.toml").read_text()
    assert '"image/png"' in (work / "notebooks" / "explored.ipynb").read_text()  # the notebook's figures


def test_examples_validate_without_network(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("`dossier validate` touched the network")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    examples = ROOT / "examples" / "dossiers.toml"
    assert main(["validate", "--config", str(examples)]) == 0, capsys.readouterr().err
    assert "OK, 4 dossier(s)" in capsys.readouterr().out
    dossiers = load_config(examples).dossiers.values()
    assert {d.language for d in dossiers} == {"fr", "en"}
    sources = [s for d in dossiers for s in d.sources]
    assert {"feed", "sitemap"} <= {s.kind for s in sources}
    assert any(s.kind == "listing" and "{page}" in s.url and s.link_pattern for s in sources)


def _toml(value: object) -> str:
    return json.dumps(value) if isinstance(value, bool | list) else str(value)


def test_configuration_reference_names_every_key_and_default() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    reference = readme.split("### Configuration reference", 1)[1].split("\n## ", 1)[0]
    rows = {m.group(1): m.group(0) for m in re.finditer(r"^\| `(\w+)` \|.*$", reference, re.MULTILINE)}
    sources = get_args(get_args(Source)[0])
    fields = [*Settings.model_fields.items(), *((k, f) for k, f in Dossier.model_fields.items()
                                                 if k not in ("slug", "settings")),
              *((k, f) for model in sources for k, f in model.model_fields.items())]
    for key, field in fields:
        assert key in rows, f"configuration reference: no row for `{key}`"
        if not field.is_required() and field.default not in (None, []) and key != "allowed_domains":
            assert f"`{_toml(field.default)}`" in rows[key], f"configuration reference: default of `{key}`"


def test_every_cli_option_and_command_is_documented() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    group = typer.main.get_command(app)
    for name, command in {"": group, **group.commands}.items():
        assert f"dossier {name}" in readme
        for param in command.params:
            for option in (*param.opts, *param.secondary_opts):
                if option.startswith("-"):
                    assert option == "--help" or option in readme, f"`dossier {name} {option}` is not documented"


def test_every_url_state_is_explained() -> None:
    concepts = (ROOT / "README.md").read_text(encoding="utf-8").split("## Concepts", 1)[1].split("\n## ", 1)[0]
    assert [s for s in URL_STATES if f"| `{s}` |" not in concepts] == []
