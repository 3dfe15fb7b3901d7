"""A full output disk: the run stops with one line (exit 7), every committed row stays
readable, no temporary file or partial WARC record is left, and the rerun once there is
room completes without duplicates.

The disk is filled for real where a small filesystem can be mounted (a tmpfs in a user
and mount namespace); everywhere, ENOSPC is also injected at the file writes themselves
(pyarrow's local output streams, the WARC files' FileIO), after a given number of files
or bytes, so that each writer meets it: Parquet commit, ledger, run record, WARC append.
"""

from __future__ import annotations

import errno
import io
import json
import logging
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq
import pytest
from test_faults import FaultSite, urls_config
from warcio.archiveiterator import ArchiveIterator

from dossier_pipeline.flows.cli import ExitStatus, main
from dossier_pipeline.tasks import archive
from dossier_pipeline.tasks.archive import ArchiveWriter, Exchange
from dossier_pipeline.tasks.diskfull import DiskFull

PAGES = 40


@pytest.fixture
def fault_site() -> Iterator[FaultSite]:
    site = FaultSite()
    yield site
    site.server.close()


class FullDisk:
    """The files whose path contains ``match``: the first ``files`` of them are written
    freely, then ``room`` bytes more fit, and every write beyond fails with ENOSPC (after
    writing what fits, as a real disk does)."""

    def __init__(self, match: str, files: int = 0, room: int = 0) -> None:
        self.match, self.files, self.room = match, files, room
        self.opened = 0
        self.refused = 0

    def opening(self, path: str) -> bool:
        """Whether writes to ``path`` are limited."""
        if self.match not in path:
            return False
        self.opened += 1
        return self.opened > self.files

    def allow(self, wanted: int) -> int:
        taken = min(wanted, self.room)
        self.room -= taken
        self.refused += taken < wanted
        return taken


def limited_file(disk: FullDisk) -> type[io.FileIO]:
    class Limited(io.FileIO):
        def __init__(self, path: Any, mode: str = "r", *args: Any, **kwargs: Any) -> None:
            super().__init__(path, mode, *args, **kwargs)
            self.limited = "r" not in mode and disk.opening(str(path))

        def write(self, data: Any) -> int:
            view = memoryview(data).cast("B")
            if not self.limited:
                return super().write(view)
            if (n := disk.allow(len(view))) < len(view):  # what fits is written, then the write fails
                super().write(view[:n])
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), self.name)
            return super().write(view) or 0

    return Limited


def limited_filesystem(disk: FullDisk) -> type[pafs.LocalFileSystem]:
    file_class = limited_file(disk)

    class Limited(pafs.LocalFileSystem):  # type: ignore[misc]
        def open_output_stream(self, path: str, *args: Any, **kwargs: Any) -> Any:
            return pa.PythonFile(file_class(path, "wb"), mode="w")

    return Limited


def _install(monkeypatch: pytest.MonkeyPatch, disk: FullDisk) -> None:
    monkeypatch.setattr(pafs, "LocalFileSystem", limited_filesystem(disk))
    monkeypatch.setattr(archive.io, "FileIO", limited_file(disk))


def _exchange(n: int) -> Exchange:
    body = os.urandom(3000)  # incompressible: each record's size is known
    return Exchange(f"http://example.org/{n}", f"/{n}", [("Host", "example.org")], "HTTP/1.1", 200, "OK",
                    [("Content-Type", "text/html")], body, datetime.now(UTC))


def _records(path: Path) -> list[str]:
    """The record types of a WARC file, read through to its end (raises when it is not valid)."""
    with open(path, "rb") as f:
        return [record.rec_headers.get_header("WARC-Type") for record in ArchiveIterator(f)]


def test_warc_append_without_space_is_cut_back_and_stops_the_archive(monkeypatch: pytest.MonkeyPatch,
                                                                     tmp_path: Path) -> None:
    disk = FullDisk(".warc.gz", room=6_000)  # the warcinfo record and one exchange, then part of a record
    _install(monkeypatch, disk)
    writer = ArchiveWriter(tmp_path, "run", {"pipeline_version": "test"}, datetime.now(UTC))
    written = 0
    with pytest.raises(DiskFull) as raised:
        for n in range(10):
            writer.write_exchange(_exchange(n))
            written += 1
    assert written == 1 and disk.room == 0  # the record that did not fit was partly written, then cut off
    assert raised.value.path.endswith(".warc.gz.open") and raised.value.needed and raised.value.needed > 3000
    assert raised.value.free is not None and str(raised.value).startswith("disk full: writing ")
    with pytest.raises(DiskFull):  # refused at once: the run stops
        writer.write_metadata(archive.WarcPointer("", "<urn:x>", 0), "http://example.org/", {})
    writer.close()
    files = archive.warc_files(tmp_path)
    assert [f.name for f in files] == [Path(writer.files[0]).name]
    assert _records(files[0]) == ["warcinfo", "response", "request"]
    assert not list(tmp_path.rglob("*.open"))


def test_a_write_without_space_leaves_no_temporary_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from dossier_pipeline.tasks.store import Store

    _install(monkeypatch, FullDisk("/runs/", files=1, room=100))
    store = Store(tmp_path, "d", "test")
    record = {"run_id": "a", "failures": [{"url": f"http://example.org/{n}"} for n in range(100)]}
    store.write_run(record)
    with pytest.raises(DiskFull) as raised:
        store.write_run({**record, "run_id": "b"})
    assert raised.value.path.endswith("runs/b.json") and raised.value.needed and raised.value.needed > 3000
    assert [p.name for p in (tmp_path / "d" / "runs").iterdir()] == ["a.json"]  # no temporary left
    assert store.read_json("runs/a.json") == record


def _check_dataset(root: Path) -> pa.Table:
    """Every data file readable, no temporary or unfinished file, every WARC file valid;
    the articles."""
    assert not [p for p in root.rglob("*") if p.name.endswith((".tmp", ".open"))]
    for path in root.rglob("*.parquet"):
        pq.read_table(path)
    for path in archive.warc_files(root):
        assert _records(path)[0] == "warcinfo"
    return pq.read_table(root / "articles") if (root / "articles").exists() else pa.table({"article_id": []})


CASES = {
    "articles": (FullDisk("/articles/", files=1, room=200), "articles/"),
    "ledger": (FullDisk("/urls/", files=1), "urls/"),
    "warc": (FullDisk(".warc.gz", room=40_000), ".warc.gz.open"),
    "record": (FullDisk("/runs/"), "runs/"),
}


@pytest.mark.usefixtures("prefect_api")
@pytest.mark.parametrize("case", list(CASES))
def test_full_disk_stops_the_run_with_one_line_and_the_rerun_completes(
        case: str, fault_site: FaultSite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture) -> None:
    disk, where = CASES[case]
    disk = FullDisk(disk.match, disk.files, disk.room)  # a fresh one per run
    config = urls_config(tmp_path, [f"{fault_site.base}/a/{n}.html" for n in range(PAGES)], "commit_seconds = 0\n")
    out = tmp_path / "out"
    argv = ["run", "f", "-q", "--config", str(config), "--output", str(out), "--batch-size", "8"]
    with monkeypatch.context() as patched:
        _install(patched, disk)
        assert main(argv) == ExitStatus.DISK_FULL
    captured = capfd.readouterr()
    assert disk.refused, "the disk never filled up"
    # neither our traceback nor Prefect's report of a failed task or flow run
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info], caplog.text
    assert "Traceback" not in captured.out + captured.err and "Errno" not in captured.err
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("error: f: disk full: writing ") and where in lines[0] and " free on its " in lines[0]
    root = out / "f"
    first = _check_dataset(root)
    assert first.num_rows == PAGES if case == "record" else first.num_rows < PAGES  # the record is written last
    records = sorted((root / "runs").glob("*.json")) if (root / "runs").exists() else []
    if case == "record":
        assert not records and "the run record could not be written" in lines[0]
    else:
        assert [json.loads(r.read_text())["state"] for r in records] == ["disk_full"]
        assert "run record written" in lines[0]

    assert main(argv) == ExitStatus.OK  # room again
    assert "Traceback" not in "".join(capfd.readouterr())
    articles = _check_dataset(root)
    ids = articles["article_id"].to_pylist()
    urls = articles["url"].to_pylist()
    assert len(ids) == len(set(ids)) == len(set(urls)) == PAGES
    assert len(archive.warc_files(root)) == (1 if case == "record" else 2)  # (nothing left to fetch)


def _namespace_mount_works() -> str | None:
    """Why a small tmpfs cannot be mounted here (None when it can)."""
    if not shutil.which("unshare"):
        return "no unshare command"
    done = subprocess.run(["unshare", "-r", "-m", "sh", "-c", "mount -t tmpfs -o size=1m tmpfs /mnt"],
                          capture_output=True, text=True, timeout=30)
    return None if done.returncode == 0 else f"no user+mount namespace for a tmpfs: {done.stderr.strip()}"


@pytest.mark.skipif(sys.platform != "linux", reason="user and mount namespaces are Linux's")
def test_a_real_small_filesystem_fills_up_midway(fault_site: FaultSite, tmp_path: Path) -> None:
    """`dossier run` on a tmpfs too small for the whole run (half of what it needs), then,
    the same filesystem grown, the same command: exit 7 with one line, then 0, no
    duplicates, valid WARC files (tmpfs mounted in a user and mount namespace of its own)."""
    if (why := _namespace_mount_works()) is not None:
        pytest.skip(why)
    pages = 40
    config = urls_config(tmp_path, [f"{fault_site.base}/a/{n}.html" for n in range(pages)], "commit_seconds = 0\n")
    mount = tmp_path / "small"
    mount.mkdir()
    run = [sys.executable, "-m", "dossier_pipeline.flows.cli", "run", "f", "-q", "--config", str(config),
           "--output", str(mount), "--batch-size", "10"]
    check = textwrap.dedent(f"""
        import json, sys
        from pathlib import Path
        import pyarrow.parquet as pq
        from warcio.archiveiterator import ArchiveIterator
        root = Path({str(mount / "f")!r})
        leftovers = [p.name for p in root.rglob("*") if p.name.endswith((".tmp", ".open"))]
        for path in root.rglob("*.parquet"):
            pq.read_table(path)
        warcs = []
        for path in sorted(root.glob("raw/*.warc.gz")):
            with open(path, "rb") as f:
                warcs.append(sum(1 for _ in ArchiveIterator(f)))
        table = pq.read_table(root / "articles", columns=["article_id", "url"])
        runs = sorted((json.loads(p.read_text()) for p in root.glob("runs/*.json")), key=lambda r: r["started_at"])
        states = [r["state"] for r in runs]
        print(json.dumps({{"ids": table["article_id"].to_pylist(), "urls": table["url"].to_pylist(),
                           "warcs": warcs, "leftovers": leftovers, "states": states}}))
    """)
    (tmp_path / "check.py").write_text(check, encoding="utf-8")
    size = 160 * 1024  # a whole run of these pages needs about twice that: checked below
    script = (f"mount -t tmpfs -o size={size} tmpfs {mount} && "
              f"{{ {' '.join(run)} 2>{tmp_path}/err1; echo $? > {tmp_path}/rc1; }}; "
              f"{sys.executable} {tmp_path}/check.py > {tmp_path}/check1.json; "
              f"df -B1 --output=used {mount} | tail -1 > {tmp_path}/used1; "
              f"mount -o remount,size={16 * size} {mount} && "
              f"{{ {' '.join(run)} 2>{tmp_path}/err2; echo $? > {tmp_path}/rc2; }}; "
              f"{sys.executable} {tmp_path}/check.py > {tmp_path}/check2.json; "
              f"df -B1 --output=used {mount} | tail -1 > {tmp_path}/used2")
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    subprocess.run(["unshare", "-r", "-m", "sh", "-c", script], timeout=600, env=env, cwd=tmp_path)
    err1 = (tmp_path / "err1").read_text()
    assert int((tmp_path / "rc1").read_text()) == ExitStatus.DISK_FULL, err1
    assert len(err1.strip().splitlines()) == 1 and "Traceback" not in err1, err1
    assert err1.startswith("error: f: disk full: writing ") and str(mount) in err1 and " free on its " in err1
    first = json.loads((tmp_path / "check1.json").read_text())
    assert not first["leftovers"] and 0 < len(first["ids"]) < pages
    # the record is written when the write that failed left room for it
    recorded = [] if "the run record could not be written" in err1 else ["disk_full"]
    assert first["states"] == recorded
    assert int((tmp_path / "used2").read_text()) > size  # the whole run did not fit
    err2 = (tmp_path / "err2").read_text()
    assert int((tmp_path / "rc2").read_text()) == ExitStatus.OK, err2
    second = json.loads((tmp_path / "check2.json").read_text())
    assert not second["leftovers"] and second["states"] == [*recorded, "completed"]
    assert len(second["ids"]) == len(set(second["ids"])) == len(set(second["urls"])) == pages
    assert len(second["warcs"]) == 2 and all(n > 1 for n in second["warcs"])
