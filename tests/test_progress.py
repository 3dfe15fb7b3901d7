"""Live progress: the state's counts, rates and ETA; what `dossier run` shows while it runs
(in a real terminal) and with --quiet; the run summary published as a Prefect artifact."""

from __future__ import annotations

import codecs
import io
import itertools
import json
import os
import pty
import random
import re
import select
import subprocess
import sys
import threading
import time
from datetime import date, timedelta
from pathlib import Path
from typing import NamedTuple
from urllib.parse import unquote, urlsplit
from uuid import UUID

import pytest
from rich.console import Console

from dossier_pipeline.tasks import progress
from dossier_pipeline.tasks.demo.server import LocalServer, Response
from dossier_pipeline.tasks.progress import NO_PROGRESS, Progress

PAGES = 1000
GONE = 3  # URLs of the config that the site does not have: failed, http_404
SYLLABLES = ("ba", "ce", "di", "fo", "gu", "la", "me", "ni", "po", "ru", "sa", "te", "vi", "zo", "mon", "tis")


class Clock:
    """A hand-driven monotonic clock."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_counts_per_stage() -> None:
    p = Progress("d", now=Clock())
    p.settled("unchanged")  # a stored URL, recorded at plan time
    p.plan(discovered=5, todo=4)
    for outcome in ("page", "page", "unchanged", "failed"):
        p.fetched(outcome)
    p.extracted(2)
    for state in ("written", "updated", "unchanged", "failed"):
        p.settled(state)
    s = p.snapshot()
    assert s.planned == 4
    assert {k: s.counts[k] for k in progress.STAGES} == {
        "discovered": 5,
        "fetched": 3,
        "extracted": 2,
        "written": 2,
        "failed": 1,
    }
    assert s.counts["unchanged"] == 2 and s.counts["duplicate"] == 0
    assert s.eta == 0.0  # everything fetched and extracted: only the last write is left


def test_rate_is_over_the_recent_window() -> None:
    clock = Clock()
    p = Progress("d", window=10.0, now=clock)
    p.plan(discovered=1000, todo=1000)
    for _ in range(20):  # 10 pages/s for 20 s
        clock.now += 1
        p.fetched("page")
        p.fetched("page")
        p.fetched("page")
        p.extracted(10)
    s = p.snapshot()
    assert s.rates["extracted"] == pytest.approx(10.0)
    assert s.rates["fetched"] == pytest.approx(3.0)
    for _ in range(10):  # then 2 pages/s: the rate follows within the window
        clock.now += 1
        p.extracted(2)
    assert p.snapshot().rates["extracted"] == pytest.approx(2.0)
    clock.now += 30  # a stall: nothing in the window
    assert p.snapshot().rates["extracted"] == 0.0 and p.snapshot().eta is None


def test_eta_is_the_slower_stage() -> None:
    clock = Clock()
    p = Progress("d", window=10.0, now=clock)
    assert p.snapshot().eta is None  # not planned yet
    p.plan(discovered=100, todo=100)
    for _ in range(5):
        clock.now += 1
        for _ in range(10):
            p.fetched("page")
    assert p.snapshot().eta is None  # pages to extract, and no extraction rate yet
    for _ in range(5):
        clock.now += 1
        p.extracted(4)
    s = p.snapshot()
    # fetched 50 at 50/10 s = 5/s: 50 left, 10 s; extracted 20 at 20/10 s = 2/s: 80 left, 40 s
    assert s.rates["fetched"] == pytest.approx(5.0) and s.rates["extracted"] == pytest.approx(2.0)
    assert s.eta == pytest.approx(40.0)
    assert "ETA 0:00:40" in s.line() and "fetched 50/100" in s.line()


def test_updates_from_many_threads() -> None:
    p = Progress("d")
    p.plan(discovered=8000, todo=8000)
    stop = threading.Event()
    readings = []

    def reader() -> None:
        while not stop.is_set():
            readings.append(p.snapshot())

    def writer() -> None:
        for _ in range(1000):
            p.fetched("page")
            p.extracted(1)
            p.settled("written")

    watcher = threading.Thread(target=reader)
    watcher.start()
    writers = [threading.Thread(target=writer) for _ in range(8)]
    for t in writers:
        t.start()
    for t in writers:
        t.join()
    stop.set()
    watcher.join()
    s = p.snapshot()
    assert s.counts["fetched"] == s.counts["extracted"] == s.counts["written"] == 8000 and s.eta == 0.0
    assert readings and all(r.counts["written"] <= r.counts["fetched"] for r in readings)


def test_runs_are_tracked_only_while_a_sink_is_installed() -> None:
    assert progress.for_run("a") is NO_PROGRESS
    NO_PROGRESS.fetched("page")
    NO_PROGRESS.settled("written")
    assert NO_PROGRESS.snapshot().counts["written"] == 0
    with progress.tracking() as runs:
        first, second = progress.for_run("a"), progress.for_run("b")
        assert runs == [first, second]
    assert progress.for_run("c") is NO_PROGRESS


def test_the_live_view_shows_the_current_run_and_the_last_few() -> None:
    runs = [Progress(f"d{i}") for i in range(8)]
    for run in runs:
        run.plan(discovered=10, todo=10)
    runs[-1].fetched("page")
    console = Console(record=True, width=120, file=io.StringIO())
    console.print(progress.render(runs))
    text = console.export_text()
    assert "… 2 earlier run(s)" in text and "d1:" not in text
    assert "d2: discovered 10 · fetched 0/10 · extracted 0 · written 0 · failed 0\n" in text  # over: no timing
    assert re.search(r"d7 · elapsed 0:00:00 · ETA -:--:--", text) and re.search(r"fetched +1 / 10", text)
    console.print(progress.render([Progress("d8")]))
    assert "d8: discovering URLs" in console.export_text()


def test_not_a_terminal_gets_a_plain_line_now_and_then() -> None:
    out = io.StringIO()
    with progress.show(console=Console(file=out, force_terminal=False), every=0.05):
        run = progress.for_run("demo")
        run.plan(discovered=10, todo=10)
        run.fetched("page")
        time.sleep(0.3)
    lines = out.getvalue().splitlines()
    assert lines and all(line.startswith("demo: discovered 10 · fetched 1/10") for line in lines)
    assert "\x1b" not in out.getvalue()
    quiet = io.StringIO()
    with progress.show(quiet=True, console=Console(file=quiet)):
        assert progress.for_run("demo") is NO_PROGRESS


# -- the command, on a local site of a thousand pages ---------------------------------------
def words(rng: random.Random, n: int) -> str:
    """``n`` pseudo-words: random text, so that no two pages are near-duplicates."""
    return " ".join("".join(rng.choices(SYLLABLES, k=rng.randint(1, 3))) for _ in range(n))


def make_site(root: Path, base: str) -> None:
    """PAGES small, distinct articles dated over January and February 2024, and a sitemap."""
    rng = random.Random(7)
    (root / "articles").mkdir(parents=True)
    for i in range(PAGES):
        published = date(2024, 1, 1) + timedelta(days=i % 60)
        paragraphs = "".join(
            f"<p>{words(rng, 12).capitalize()}. {words(rng, 15)}. {words(rng, 10)}.</p>" for _ in range(4)
        )
        (root / "articles" / f"{i}.html").write_text(
            f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>Story {i}</title>'
            f'<meta property="article:published_time" content="{published}T08:00:00+00:00"></head>'
            f"<body><article><h1>Story {i}: {words(rng, 5)}</h1>{paragraphs}</article></body></html>",
            encoding="utf-8",
        )
    urls = "".join(f"<url><loc>{base}/articles/{i}.html</loc></url>" for i in range(PAGES))
    (root / "sitemap.xml").write_text(
        f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>',
        encoding="utf-8",
    )


def serve_files(root: Path) -> LocalServer:
    types = {".html": "text/html; charset=utf-8", ".xml": "application/xml"}

    root = root.resolve()

    def app(path: str, headers: dict[str, str]) -> Response:
        file = (root / unquote(urlsplit(path).path).lstrip("/")).resolve()
        if file.is_relative_to(root) and file.is_file():
            return Response(200, file.read_bytes(), {"Content-Type": types[file.suffix]})
        return Response(404, b"<html><body>not found</body></html>", {"Content-Type": types[".html"]})

    return LocalServer(app)


def write_site_config(path: Path, base: str) -> None:
    gone = ", ".join(f'"{base}/gone/{i}.html"' for i in range(GONE))
    path.write_text(
        f"""[defaults]
allow_private_addresses = true
requests_per_second = 1000
max_connections_per_host = 8
commit_seconds = 0  # every batch written on its own: the view's "written" rises in ten steps

[dossiers.big]
title = "A thousand pages"
[[dossiers.big.sources]]
kind = "sitemap"
url = "{base}/sitemap.xml"
[[dossiers.big.sources]]
kind = "urls"
urls = [{gone}]
""",
        encoding="utf-8",
    )


def run_in_terminal(args: list[str], env: dict[str, str], timeout: float) -> tuple[int, str, list[tuple[float, str]]]:
    """Run the command with its stderr on a pseudo-terminal; returns the exit status, stdout,
    and what came out on the terminal, chunk by chunk, with the time each chunk arrived."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave, env=env, text=True)
    os.close(slave)
    chunks: list[tuple[float, str]] = []
    done = threading.Event()
    decoder = codecs.getincrementaldecoder("utf-8")()  # a character may straddle two reads

    def read() -> None:
        while not done.is_set():
            if select.select([master], [], [], 0.05)[0]:
                try:
                    data = os.read(master, 1 << 16)
                except OSError:  # the terminal's other side is closed
                    return
                if not data:
                    return
                chunks.append((time.monotonic(), decoder.decode(data)))

    reader = threading.Thread(target=read)
    reader.start()
    try:
        out, _ = proc.communicate(timeout=timeout)
    finally:
        proc.kill()
        done.set()
        reader.join()
        os.close(master)
    return proc.returncode, out, chunks


ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
FRAME = re.compile(
    r"elapsed (\d+):(\d\d):(\d\d) · ETA (\S+).*?fetched +(\d+) / (\d+).*?extracted +(\d+) / \d+"
    r".*?written +(\d+) / \d+",
    re.S,
)


class Frame(NamedTuple):
    """One render of the live view, as the terminal received it."""

    arrived: float
    elapsed: int  # seconds, on the display's own clock
    eta: str
    fetched: int
    planned: int
    extracted: int
    written: int


def frames_in(chunks: list[tuple[float, str]]) -> list[Frame]:
    """The renders in the terminal's output, each at the time its last chunk arrived."""
    frames: list[Frame] = []
    pending = ""
    for when, text in chunks:
        pending = ANSI.sub("", pending + text)
        end = 0
        for match in FRAME.finditer(pending):
            h, m, s, eta, *numbers = match.groups()
            frames.append(Frame(when, int(h) * 3600 + int(m) * 60 + int(s), eta, *map(int, numbers)))
            end = match.end()
        pending = pending[end:]
    return frames


@pytest.mark.usefixtures("prefect_api")
def test_run_shows_live_progress_quiet_shows_nothing_and_the_artifact_sums_up(tmp_path: Path) -> None:
    from prefect import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId, ArtifactFilterKey
    from prefect.settings import PREFECT_API_URL

    site = tmp_path / "site"
    server = serve_files(site)
    make_site(site, server.base_url)
    config = tmp_path / "dossiers.toml"
    write_site_config(config, server.base_url)
    # the runs record to the test session's Prefect API, where the artifact is read back
    env = {k: v for k, v in os.environ.items() if k not in ("TTY_COMPATIBLE", "FORCE_COLOR", "NO_COLOR")}
    env.update(PREFECT_API_URL=PREFECT_API_URL.value(), COLUMNS="120", LINES="40")
    command = [sys.executable, "-m", "dossier_pipeline.flows.cli", "run", "big", "--config", str(config)]
    try:  # batches of 100: extraction starts sooner (a shorter test) and writes advance in ten steps
        status, out, chunks = run_in_terminal(
            [*command, "--output", str(tmp_path / "out"), "--batch-size", "100"], env, timeout=240
        )
        quiet = subprocess.run(
            [*command, "--output", str(tmp_path / "quiet"), "--limit", "5", "--quiet"],
            capture_output=True,
            text=True,
            timeout=120,
            env={**env, "TTY_COMPATIBLE": "1"},
        )
    finally:
        server.close()
    screen = "".join(text for _, text in chunks)
    assert status == 0, out + screen
    assert f"written {PAGES} (updated 0)" in out and f"failed {GONE}" in out and "Traceback" not in screen

    # successive renders of the live view: several a second, no second of the display's clock
    # skipped (that clock, unlike the arrival times here, is immune to this process's delays)
    frames = frames_in(chunks)
    assert len(frames) > 10, screen[-2000:]
    seconds = frames[-1].elapsed - frames[0].elapsed + 1
    assert all(0 <= b.elapsed - a.elapsed <= 1 for a, b in itertools.pairwise(frames))
    assert len(frames) >= 2 * seconds
    assert frames[-1].arrived - frames[0].arrived > seconds / 2  # streamed as it runs, not at exit
    assert {f.planned for f in frames} == {PAGES + GONE}
    for stage in ("fetched", "extracted", "written"):  # counts go up, never past the pages (none counted twice)
        values = [getattr(f, stage) for f in frames]
        assert values == sorted(values) and len(set(values)) >= 5 and values[-1] <= PAGES, (stage, values)
    assert any(re.fullmatch(r"\d+:\d\d:\d\d", f.eta) for f in frames)  # an ETA once rates are known

    # --quiet: nothing at all on success, even on a terminal
    assert quiet.returncode == 0 and quiet.stdout == "" and quiet.stderr == "", quiet.stdout + quiet.stderr
    assert len(list((tmp_path / "quiet" / "big" / "runs").glob("*.json"))) == 1

    # the run record and the flow run's artifact: counts, reasons, dates written, dataset
    [record_file] = (tmp_path / "out" / "big" / "runs").glob("*.json")
    record = json.loads(record_file.read_text())
    assert record["published_range"] == {"min": "2024-01-01T08:00:00+00:00", "max": "2024-02-29T08:00:00+00:00"}
    with get_client(sync_client=True) as client:
        [artifact] = client.read_artifacts(
            artifact_filter=ArtifactFilter(
                key=ArtifactFilterKey(any_=["big-run-summary"]),
                flow_run_id=ArtifactFilterFlowRunId(any_=[UUID(record["run_id"])]),
            )
        )
    assert artifact.type == "table" and record["dataset"] in artifact.description
    rows = {row["measure"]: row["value"] for row in json.loads(artifact.data)}
    assert rows["discovered"] == PAGES + GONE and rows["fetched"] == rows["written"] == PAGES
    assert rows["failed"] == GONE and rows["reason: failed: http_404"] == GONE
    assert rows["expected"] == "not stated"
    assert rows["published from"] == "2024-01-01T08:00:00+00:00" and rows["published to"] == "2024-02-29T08:00:00+00:00"
    assert rows["dataset"] == record["dataset"]
