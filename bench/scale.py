"""Throughput at scale on real pages: the pipeline against two trafilatura ceilings, in one run.

The fixture pages (real news and blog pages, FIXTURES_DIR/pages/*.html) are replicated under
distinct URLs to N articles spread over 20 loopback host names, 127.0.0.2 … 127.0.0.21, so
that per-host connection limits and politeness are exercised as on a multi-site dossier:
URL i is ``http://127.0.0.{2 + i % 20}:PORT/p/{i}.html`` and serves fixture page i % 234.
The site runs in a separate process (one tasks.demo.server.LocalServer per address), so
serving does not compete with the measured code for a GIL, only for cores.

Replicas must not be folded back into 234 rows by the pipeline's duplicate detection (the
same text, or a SimHash within 7 bits), and a unique paragraph does not prevent that: with
40 random words of the page appended, 4 copies of a page still had two within 7 bits on 28
of 39 pages tried (23 of the 24 over 500 words); with 100 words, on 14. Instead each replica
keeps the page's bytes and markup but has half of the words of its <body> text (not scripts,
styles, comments or attributes) swapped for other words of the same page, drawn from a
generator seeded by i; a relative canonical/og:url link is pointed at the replica's own path.
Words are swapped as byte runs, so the page's encoding stays valid and its language the same.
Measured on the 234 pages with 6 replicas each: the pipeline's statuses are the same as the
originals', every replica's text is distinct, and replicas of one page are 31 SimHash bits
apart on average (at least 14), about as far as unrelated texts (32).

Three measurements, on the same URLs and bytes:

* pipeline: ``python -m dossier_pipeline.flows.cli run`` in a subprocess (Prefect's embedded API, the real
  flow, Parquet out, WARC archive unless --no-archive), its process tree sampled from /proc;
  counts, stage times and Prefect task runs read from its run record;
* ceiling (a): ``trafilatura.bare_extraction(body, url=…, with_metadata=True)`` on a
  2-process pool, pages in memory (the workers build each replica's bytes themselves: no
  network, no pickled bodies; that costs well under 1 % and is included);
* ceiling (b): trafilatura's own command line fetching and extracting the URL list
  (``--parallel 8 --with-metadata``), its config copied from trafilatura's settings.cfg with
  only the sleep between requests and the SSRF (private address) protection switched off.

Pages/s counts pages *processed* (fetched and extracted), not rows written.

``--startup`` checks the start-up budget: ``dossier run`` of a one-URL dossier may cost at
most 2 s more than an empty Prefect flow in the same mode; each runs in a fresh subprocess,
alternating, and medians are compared.

``--rounds N`` adds N - 1 pairs of a pipeline run and ceiling (a), alternating which goes
first, and prints the median ratio: the machine's speed drifts by several percent between
runs minutes apart (its neighbours), which one pair cannot tell from the pipeline's.

    python bench/scale.py [FIXTURES_DIR] --pages 1000 [--pages 10000 …] [--no-archive] [--startup] [--skip-ceilings]
                          [--skip-cli-ceiling] [--rounds N]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import re
import resource
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from importlib.metadata import version
from importlib.util import find_spec
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]


from throughput import sample_tree  # noqa: E402  (bench/ is on sys.path: this file's directory)

from dossier_pipeline.tasks.config import BATCH_SIZE  # noqa: E402
from dossier_pipeline.tasks.demo.server import LocalServer, Response  # noqa: E402

HOSTS = [f"127.0.0.{n}" for n in range(2, 22)]
SLUG = "scale"
PAGE_PATH = re.compile(r"/p/(\d+)\.html")
STARTUP_BUDGET = 2.0  # seconds over an empty flow (the requirement)
CHUNK = 16  # pages a ceiling-(a) task: as the pipeline's ExtractorPool (at most 16 a chunk)
TICKS = os.sysconf("SC_CLK_TCK")

# -- the replicated site ------------------------------------------------------------------

# One pass over a page's bytes: comments, script/style-like elements and tags are skipped
# whole (group 1 only names the element); group 2 is a word of body text: a run of ASCII
# letters and non-ASCII bytes (whole UTF-8 characters, or single-byte-encoding letters),
# never part of an entity (&amp; &#233;).
_TOKEN = re.compile(rb"<!--.*?-->|<(script|style|noscript|template|textarea)\b.*?</\1\s*>|<[^>]*>|"
                    rb"(?<![A-Za-z0-9&#\x80-\xff])([A-Za-z\x80-\xff]{3,40})(?![A-Za-z0-9;\x80-\xff])",
                    re.DOTALL | re.IGNORECASE)
_BODY = re.compile(rb"<body[\s>]", re.IGNORECASE)
_SELF_LINK = re.compile(rb"""<(?:link|meta)\b[^>]*(?:rel=["']?canonical|og:url)[^>]*>""", re.IGNORECASE)
_LINK_VALUE = re.compile(rb"""(?:href|content)=["']([^"']*)""", re.IGNORECASE)


class Replicator:
    """A fixture page cut once into static bytes and slots, so that building replica i is
    a join (about 0.3 ms), cheap enough to do on every request and in every worker.

    A slot is a body-text word (kept or swapped, each with probability 1/2) or, for a
    relative canonical/og:url link, the replica's own path: otherwise replicas of one page
    on one host would share a canonical URL, hence an article id, past 20 × 234 pages."""

    def __init__(self, body: bytes) -> None:
        statics: list[bytes] = []
        slots: list[bytes | None] = []  # None: the replica's own path
        pos = 0
        for link in _SELF_LINK.finditer(body):
            value = _LINK_VALUE.search(link.group(0))
            if value and value.group(1) and not value.group(1).lower().startswith((b"http:", b"https:", b"//")):
                statics.append(body[pos : link.start() + value.start(1)])
                slots.append(None)
                pos = link.start() + value.end(1)
        start = _BODY.search(body, pos)
        for token in _TOKEN.finditer(body, start.end() if start else pos):
            if token.group(2):
                statics.append(body[pos : token.start(2)])
                slots.append(token.group(2))
                pos = token.end(2)
        statics.append(body[pos:])
        self.statics = statics
        self.slots = slots
        self.vocabulary = sorted({w for w in slots if w})

    def replica(self, i: int) -> bytes:
        rng = random.Random(i)
        n = len(self.slots)
        if not n:
            return b"".join(self.statics)
        swap = format(rng.getrandbits(n), f"0{n}b")
        picks = rng.choices(self.vocabulary, k=n) if self.vocabulary else [b""] * n
        path = f"/p/{i}.html".encode()
        out = [self.statics[0]]
        for j, word in enumerate(self.slots):
            out.append(path if word is None else picks[j] if swap[j] == "1" else word)
            out.append(self.statics[j + 1])
        return b"".join(out)


def load_replicators(fixtures: Path) -> list[Replicator]:
    """Fixture pages in a fixed order (file name), so page i % 234 is the same in every process."""
    files = sorted((fixtures / "pages").glob("*.html"))
    if not files:
        raise SystemExit(f"{fixtures}/pages: no *.html files")
    return [Replicator(f.read_bytes()) for f in files]


def url_of(port: int, i: int) -> str:
    return f"http://{HOSTS[i % len(HOSTS)]}:{port}/p/{i}.html"


class _NoLog(list):
    """LocalServer logs every request; at 100,000 pages that is memory for nothing."""

    def append(self, item: object) -> None:
        pass


def _serve_site(fixtures: str, port: int, ready: Any, stop: Any, served: Any) -> None:
    """Site process: one LocalServer per loopback address, all on ``port``; ``served`` counts
    the pages served (index 0) and their bytes (index 1)."""
    pages = load_replicators(Path(fixtures))

    def app(path: str, headers: dict[str, str]) -> Response:
        match = PAGE_PATH.fullmatch(urlsplit(path).path)
        if match is None:  # robots.txt included: absent, everything allowed
            return Response(404, b"not found", {"Content-Type": "text/plain"})
        i = int(match.group(1))
        body = pages[i % len(pages)].replica(i)
        with served.get_lock():
            served[0] += 1
            served[1] += len(body)
        return Response(200, body, {"Content-Type": "text/html"})

    servers: list[LocalServer] = []
    try:
        for host in HOSTS:
            servers.append(LocalServer(app, host, port))
            servers[-1].log = _NoLog()
    except OSError as exc:
        ready.put(f"{host}:{port}: {exc}")
    else:
        ready.put("ok")
        stop.wait()
    for server in servers:
        server.close()


class Site:
    """The replicated site in a child process (spawned: a clean interpreter, no copy of
    this one's threads)."""

    def __init__(self, fixtures: Path) -> None:
        context = multiprocessing.get_context("spawn")
        self.served = context.Array("q", 2)
        for _ in range(5):  # a free port on 127.0.0.2 may be taken on another address: try again
            port = _free_port()
            ready, self.stop = context.Queue(), context.Event()
            self.process = context.Process(target=_serve_site, args=(str(fixtures), port, ready, self.stop,
                                                                      self.served), daemon=True)
            self.process.start()
            status = ready.get(timeout=120)
            if status == "ok":
                self.port = port
                return
            self.process.join()
        raise SystemExit(f"cannot serve the site on {HOSTS[0]}…{HOSTS[-1]}: {status}")

    def counters(self) -> tuple[int, int, float]:
        """Pages served, bytes served, CPU seconds of the site process so far."""
        with open(f"/proc/{self.process.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return self.served[0], self.served[1], (int(fields[11]) + int(fields[12])) / TICKS

    def close(self) -> None:
        self.stop.set()
        self.process.join(timeout=10)
        if self.process.is_alive():
            self.process.kill()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOSTS[0], 0))
        return s.getsockname()[1]


# -- measuring processes ------------------------------------------------------------------


@dataclass
class Measured:
    wall: float = 0.0
    cpu: float = 0.0  # user + system seconds of the whole process tree
    peak_rss: int = 0  # peak of the summed RSS of the tree (shared pages counted per process)
    output: str = ""
    returncode: int = 0
    site: tuple[int, int, float] = (0, 0, 0.0)  # pages served, bytes, site CPU seconds during the run
    cpu_split: dict[str, tuple[int, float]] = field(default_factory=dict)  # label -> (processes, CPU seconds)
    rss_split: dict[str, int] = field(default_factory=dict)  # label -> summed peak RSS of its processes
    at_peak: tuple[float, dict[str, int]] = (0.0, {})  # when the tree peaked (s from start), label -> RSS then
    extra: dict[str, Any] = field(default_factory=dict)


class Sampler:
    """Samples the process trees under ``roots()`` from /proc every 0.1 s: peak summed RSS
    and, per process, its last CPU time (a process that exits loses at most its last 0.1 s)."""

    def __init__(self, roots: Callable[[], Iterable[int]]) -> None:
        self.roots = roots
        self.peak = 0
        self.cpu: dict[int, float] = {}
        self.rss: dict[int, int] = {}  # peak RSS of each process
        self.labels: dict[int, str] = {}
        self.started = time.monotonic()
        self.at_peak: tuple[float, dict[int, int]] = (0.0, {})  # when the tree peaked, pid -> RSS then
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._done.is_set():
            tree: dict[int, tuple[int, float]] = {}
            for root in self.roots():
                tree.update(sample_tree(root))
            if (total := sum(rss for rss, _ in tree.values())) > self.peak:
                self.peak = total
                self.at_peak = (time.monotonic() - self.started, {pid: rss for pid, (rss, _) in tree.items()})
            for pid, (rss, seconds) in tree.items():
                self.cpu[pid] = max(self.cpu.get(pid, 0.0), seconds)
                self.rss[pid] = max(self.rss.get(pid, 0), rss)
                if pid not in self.labels:
                    self.labels[pid] = _label(pid)
            self._done.wait(0.1)

    def cpu_by_label(self) -> dict[str, tuple[int, float]]:
        """label -> (processes, CPU seconds), largest first: where the CPU went."""
        out: dict[str, tuple[int, float]] = {}
        for pid, seconds in self.cpu.items():
            n, total = out.get(self.labels.get(pid, "?"), (0, 0.0))
            out[self.labels.get(pid, "?")] = (n + 1, total + seconds)
        return dict(sorted(out.items(), key=lambda item: -item[1][1]))

    def _by_label(self, rss_of: dict[int, int]) -> dict[str, int]:
        """pid -> RSS summed by label, largest first."""
        out: dict[str, int] = {}
        for pid, rss in rss_of.items():
            out[self.labels.get(pid, "?")] = out.get(self.labels.get(pid, "?"), 0) + rss
        return dict(sorted(out.items(), key=lambda item: -item[1]))

    def rss_by_label(self) -> dict[str, int]:
        """label -> the summed peak RSS of its processes: where the memory went."""
        return self._by_label(self.rss)

    def composition_at_peak(self) -> tuple[float, dict[str, int]]:
        """When the tree peaked and label -> summed RSS then: the peak is one moment, at
        which the processes need not each be at their own peak."""
        return self.at_peak[0], self._by_label(self.at_peak[1])

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()


def _label(pid: int) -> str:
    """What a process of a measured tree is, from its command line (and, for the
    forkserver's children, its parent): enough to tell where the CPU went."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
        with open(f"/proc/{pid}/stat") as f:
            ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        parent = Path(f"/proc/{ppid}/cmdline").read_bytes().decode(errors="replace")
    except (OSError, ValueError, IndexError):
        return "?"
    line = " ".join(argv)
    if "multiprocessing.forkserver" in line:
        return "pool workers" if "multiprocessing.forkserver" in parent else "forkserver"
    if "uvicorn" in line and "prefect" in line:
        return "Prefect API server (uvicorn)"
    if "resource_tracker" in line:
        return "resource tracker"
    return " ".join([Path(argv[0]).name, *argv[1:3]])[:60]


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure(cmd: list[str], site: Site, cwd: Path, env: dict[str, str] | None = None) -> Measured:
    """Run a command to completion; wall time, CPU and peak RSS of its process tree.

    CPU is the larger of two under-counts: the sampled tree (misses the last 0.1 s of a
    process) and the reaped children's rusage (misses orphans re-parented to init)."""
    site_before = site.counters()
    reaped_before = _children_cpu()
    started = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    with Sampler(lambda: [proc.pid]) as sampler:
        out, _ = proc.communicate()
    wall = time.monotonic() - started
    site_after = site.counters()
    cpu = max(sum(sampler.cpu.values()), _children_cpu() - reaped_before)
    site_delta = (site_after[0] - site_before[0], site_after[1] - site_before[1], site_after[2] - site_before[2])
    return Measured(wall, cpu, sampler.peak, out, proc.returncode, site_delta, sampler.cpu_by_label(),
                    rss_split=sampler.rss_by_label(), at_peak=sampler.composition_at_peak())


def tree_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) if path.exists() else 0


# -- the pipeline -------------------------------------------------------------------------


def write_dossier(work: Path, urls: list[str], archive: bool) -> Path:
    """A dossiers.toml with one ``urls`` source: every URL known up front, as a URL list
    given to trafilatura's command line, so both do the same work."""
    (work / "urls.txt").write_text("\n".join(urls) + "\n", encoding="utf-8")
    config = work / "dossiers.toml"
    config.write_text(f"""[dossiers.{SLUG}]
title = "bench/scale.py: fixture pages replicated over {len(HOSTS)} loopback hosts"
allow_private_addresses = true  # the site is on 127.0.0.x
requests_per_second = 1000  # per host: the bench measures the pipeline, not its politeness
max_connections_per_host = 8
archive = {str(archive).lower()}

[[dossiers.{SLUG}.sources]]
kind = "urls"
file = "urls.txt"
""", encoding="utf-8")
    return config


def api_task_runs(flow_run_id: str) -> int | None:
    """Task runs of the flow run as Prefect's API recorded them, when the API is the local
    embedded one with its default SQLite database (else None): a check on the figure
    expected from the batch count."""
    if os.environ.get("PREFECT_API_URL") or os.environ.get("PREFECT_API_DATABASE_CONNECTION_URL"):
        return None
    database = Path(os.environ.get("PREFECT_HOME", "~/.prefect")).expanduser() / "prefect.db"
    if not database.exists():
        return None
    try:
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=10) as db:
            return db.execute("SELECT count(*) FROM task_run WHERE flow_run_id = ?", (flow_run_id,)).fetchone()[0]
    except sqlite3.Error:
        return None


def run_pipeline(site: Site, work: Path, urls: list[str], archive: bool) -> Measured:
    config = write_dossier(work, urls, archive)
    output = work / "out"
    result = measure([sys.executable, "-m", "dossier_pipeline.flows.cli", "run", SLUG, "--config", str(config),
                      "--output", str(output)], site, ROOT)
    if result.returncode != 0:
        raise SystemExit(f"pipeline run failed ({result.returncode}):\n{result.output[-5000:]}")
    records = [json.loads(p.read_text()) for p in (output / SLUG / "runs").glob("*.json")]
    record = max(records, key=lambda r: r["started_at"])  # this run's (a rerun adds one)
    flow = datetime.fromisoformat(record["finished_at"]) - datetime.fromisoformat(record["started_at"])
    result.extra = {"record": record, "flow": flow.total_seconds(), "bytes": tree_bytes(output / SLUG),
                    "raw_bytes": tree_bytes(output / SLUG / "raw"), "api_task_runs": api_task_runs(record["run_id"]),
                    "tracebacks": result.output.count("Traceback")}
    return result


# -- ceiling (a): bare_extraction on a 2-process pool, pages in memory -------------------

_PAGES: list[Replicator] = []


def _init_ceiling(fixtures: str) -> None:
    """Load the pages and run one extraction, so that no measured page pays for imports
    and trafilatura's lazily loaded data (the pipeline's workers warm up the same way)."""
    import trafilatura

    _PAGES.extend(load_replicators(Path(fixtures)))
    trafilatura.bare_extraction(_PAGES[0].replica(0), url="http://127.0.0.2/p/0.html", with_metadata=True)


def _ceiling_ready() -> tuple[int, float]:
    time.sleep(0.5)  # long enough that both workers take one
    return os.getpid(), time.process_time()


def _ceiling_chunk(items: list[tuple[int, str]]) -> tuple[int, int, float, int, float]:
    """(pid, documents, seconds building the bytes, body bytes, CPU time so far) for one chunk."""
    import trafilatura

    documents, building, size = 0, 0.0, 0
    for i, url in items:
        started = time.perf_counter()
        body = _PAGES[i % len(_PAGES)].replica(i)
        building += time.perf_counter() - started
        size += len(body)
        documents += trafilatura.bare_extraction(body, url=url, with_metadata=True) is not None
    return os.getpid(), documents, building, size, time.process_time()


def ceiling_extraction(fixtures: Path, urls: list[str], workers: int = 2) -> Measured:
    context = multiprocessing.get_context("forkserver")  # as tasks.workers.ExtractorPool
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_init_ceiling,
                             initargs=(str(fixtures),)) as pool:
        start_cpu: dict[int, float] = {}
        while len(start_cpu) < workers:
            for future in [pool.submit(_ceiling_ready) for _ in range(workers)]:
                pid, cpu = future.result()
                start_cpu.setdefault(pid, cpu)
        items = list(enumerate(urls))
        chunks = [items[i : i + CHUNK] for i in range(0, len(items), CHUNK)]
        last_cpu = dict(start_cpu)
        documents, building, size = 0, 0.0, 0
        with Sampler(lambda: list(start_cpu)) as sampler:
            started = time.monotonic()
            for pid, docs, seconds, nbytes, cpu in pool.map(_ceiling_chunk, chunks):
                documents += docs
                building += seconds
                size += nbytes
                last_cpu[pid] = max(last_cpu.get(pid, 0.0), cpu)
            wall = time.monotonic() - started
    cpu = sum(last_cpu[pid] - start_cpu.get(pid, 0.0) for pid in last_cpu)
    return Measured(wall, cpu, sampler.peak, extra={"documents": documents, "building": building, "bytes": size})


# -- ceiling (b): trafilatura's command line ----------------------------------------------


def trafilatura_config(path: Path) -> Path:
    """trafilatura's default settings.cfg with only SLEEP_TIME = 0 (no pause between two
    requests to one host) and SSRF_PROTECTION = off (the site is on loopback addresses)."""
    spec = find_spec("trafilatura")
    assert spec is not None and spec.origin is not None
    text = Path(spec.origin).with_name("settings.cfg").read_text(encoding="utf-8")
    for key, value in (("SLEEP_TIME", "0"), ("SSRF_PROTECTION", "off")):
        text, n = re.subn(rf"(?m)^{key}\s*=.*$", f"{key} = {value}", text)
        if n != 1:
            raise SystemExit(f"trafilatura's settings.cfg has no single {key} line: check the ceiling's config")
    path.write_text(text, encoding="utf-8")
    return path


def ceiling_cli(site: Site, work: Path, parallel: int = 8) -> Measured:
    output = work / "trafilatura-out"
    config = trafilatura_config(work / "trafilatura.cfg")
    command = str(Path(sys.executable).with_name("trafilatura"))
    result = measure([command, "--input-file", str(work / "urls.txt"), "--output-dir", str(output),
                      "--with-metadata", "--parallel", str(parallel), "--config-file", str(config)], site, work)
    files = [f for f in output.rglob("*") if f.is_file()] if output.exists() else []
    result.extra = {"files": len(files), "bytes": sum(f.stat().st_size for f in files),
                    "no_result": result.output.count("No result for URL")}
    return result


# -- report ---------------------------------------------------------------------------------


def _mib(n: int) -> str:
    return f"{n / 2**20:,.0f} MiB"


def _cpu(seconds: float, wall: float) -> str:
    return f"{seconds:.1f} s CPU = {seconds / wall * 100:.0f} % of one core"


def run_size(args: argparse.Namespace, site: Site, pages: int) -> None:
    fixtures = Path(args.fixtures)
    urls = [url_of(site.port, i) for i in range(pages)]
    with tempfile.TemporaryDirectory(prefix=f"scale-{pages}-") as tmp:
        work = Path(args.keep) / f"scale-{pages}" if args.keep else Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        print(f"  [{pages:,} pages] pipeline …", file=sys.stderr, flush=True)
        pipe = run_pipeline(site, work, urls, args.archive)
        print(f"  [{pages:,} pages] pipeline again, nothing changed …", file=sys.stderr, flush=True)
        pipe.extra["rerun"] = run_pipeline(site, work, urls, args.archive)
        ext = cli = None
        if not args.skip_ceilings:
            print(f"  [{pages:,} pages] ceiling (a) …", file=sys.stderr, flush=True)
            ext = ceiling_extraction(fixtures, urls)
            if not args.skip_cli_ceiling:
                print(f"  [{pages:,} pages] ceiling (b) …", file=sys.stderr, flush=True)
                cli = ceiling_cli(site, work)
        report(pages, site, pipe, ext, cli, args.archive)
        if ext is not None and args.rounds > 1:
            rounds(args, site, work, urls, [(pipe, ext)])


def rounds(args: argparse.Namespace, site: Site, work: Path, urls: list[str],
           pairs: list[tuple[Measured, Measured]]) -> None:
    """More (pipeline, ceiling (a)) pairs, in alternating order so that a drift of the
    machine's speed (its neighbours) hits both: the ratio of one pair moves by several
    percent from run to run, the median of the pairs much less."""
    for n in range(2, args.rounds + 1):
        fresh = work / f"round-{n}"
        fresh.mkdir()
        order = ["ceiling (a)", "pipeline"] if n % 2 == 0 else ["pipeline", "ceiling (a)"]
        done: dict[str, Measured] = {}
        for name in order:
            print(f"  [{len(urls):,} pages] round {n}: {name} …", file=sys.stderr, flush=True)
            done[name] = (run_pipeline(site, fresh, urls, args.archive) if name == "pipeline"
                          else ceiling_extraction(Path(args.fixtures), urls))
        pairs.append((done["pipeline"], done["ceiling (a)"]))
    print(f"pipeline/(a) over {len(pairs)} rounds (pipeline and ceiling (a) alternating; end-to-end, flow run):")
    ratios = []
    for n, (pipe, ext) in enumerate(pairs, 1):
        processed, a = pipe.extra["record"]["counts"]["fetched"], len(urls) / ext.wall
        ratios.append((processed / pipe.wall / a, processed / pipe.extra["flow"] / a))
        workers = pipe.cpu_split.get("pool workers", (0, 0.0))[1]
        print(f"  round {n}: pipeline {pipe.wall:.1f} s (workers' CPU {workers:.0f} s), "
              f"(a) {ext.wall:.1f} s (CPU {ext.cpu:.0f} s): {ratios[-1][0]:.3f}, {ratios[-1][1]:.3f}")
    print(f"  median {statistics.median(r[0] for r in ratios):.3f} end-to-end, "
          f"{statistics.median(r[1] for r in ratios):.3f} flow run")


def report(pages: int, site: Site, pipe: Measured, ext: Measured | None, cli: Measured | None, archive: bool) -> None:
    record = pipe.extra["record"]
    c, durations = record["counts"], record["durations_seconds"]
    processed = c["fetched"]
    flow = pipe.extra["flow"]
    served_pages, served_bytes, site_cpu = pipe.site
    print(f"\n=== {pages:,} pages · {len(HOSTS)} hosts {HOSTS[0]}…{HOSTS[-1]}:{site.port} · archive "
          f"{'on' if archive else 'off'} · {os.cpu_count()} cores ===")
    print("pages/s below count pages processed (fetched and extracted), not rows written")
    print("pipeline   python -m dossier_pipeline.flows.cli run (Prefect embedded API, fresh output directory)")
    print(f"  pages        discovered {c['discovered']:,}, fetched {c['fetched']:,}, extracted ok "
          f"{c['extracted']:,}; rows written {c['written']:,}, duplicate {c['duplicate']:,}, not article "
          f"{c['not_article']:,}, blocked {c['blocked']:,}, failed {c['failed']:,}, skipped {c['skipped']:,}")
    print(f"  site         served {served_pages:,} pages ({served_bytes / 2**20:,.0f} MiB), site process "
          f"{site_cpu:.1f} s CPU")
    print(f"  end-to-end   {pipe.wall:.1f} s -> {processed / pipe.wall:.1f} pages/s (includes interpreter and "
          f"Prefect start-up and shutdown: {pipe.wall - flow:.1f} s outside the flow run)")
    print(f"  flow run     {flow:.1f} s -> {processed / flow:.1f} pages/s")
    print(f"  stages (s)   {durations} (fetch of batch n+1 overlaps extraction of batch n; archive is "
          "part of fetch)")
    print(f"  CPU          {_cpu(pipe.cpu, pipe.wall)} (whole tree, extraction workers included)")
    print("  CPU by proc  " + ", ".join(f"{label}{f' ×{n}' if n > 1 else ''} {seconds:.1f} s"
                                        for label, (n, seconds) in pipe.cpu_split.items()))
    print(f"  peak RSS     {_mib(pipe.peak_rss)} (process tree, summed); each process's peak: "
          + ", ".join(f"{label} {_mib(rss)}" for label, rss in pipe.rss_split.items()))
    when, then = pipe.at_peak
    print(f"  at the peak  {when:.1f} s into the run ({100 * when / pipe.wall:.0f} %): "
          + ", ".join(f"{label} {_mib(rss)}" for label, rss in then.items()))
    api = pipe.extra["api_task_runs"]
    batches = -(-record["counts"]["fetched"] // BATCH_SIZE)
    print(f"  Prefect      {3 + 3 * batches} task runs expected"
          + (f", {api} recorded by the API" if api is not None else "") + f" (3 + 3 per batch of {BATCH_SIZE} URLs); "
          f"tracebacks printed {pipe.extra['tracebacks']}")
    rerun = pipe.extra["rerun"]
    print(f"  rerun        unchanged site, same output: {rerun.wall:.1f} s end-to-end = "
          f"{100 * rerun.wall / pipe.wall:.1f} % of the first run (flow run {rerun.extra['flow']:.1f} s = "
          f"{100 * rerun.extra['flow'] / flow:.1f} %); fetched {rerun.extra['record']['counts']['fetched']:,}, "
          f"written {rerun.extra['record']['counts']['written']:,}; peak RSS {_mib(rerun.peak_rss)}")
    print(f"  per page     {1000 * pipe.wall / processed:.2f} ms end-to-end, "
          f"{1000 * flow / processed:.2f} ms in the flow run")
    print(f"  output       {pipe.extra['bytes']:,} bytes ({pipe.extra['raw_bytes']:,} of them WARC in raw/, "
          f"{record.get('warc_bytes', 0):,} per the run record)")
    if record["reasons"]:
        print(f"  reasons      {record['reasons']}")
    if ext is None:
        return
    docs = ext.extra["documents"]
    print("ceiling (a) trafilatura.bare_extraction(with_metadata=True), 2 processes, pages in memory")
    print(f"  pages        {pages:,} extracted ({docs:,} documents returned), {ext.extra['bytes'] / 2**20:,.0f} MiB")
    print(f"  time         {ext.wall:.1f} s -> {pages / ext.wall:.1f} pages/s (warm workers; building the replicas' "
          f"bytes in the workers: {ext.extra['building']:.2f} s of it, included)")
    print(f"  CPU          {_cpu(ext.cpu, ext.wall)}; peak RSS {_mib(ext.peak_rss)} (the 2 workers)")
    a = pages / ext.wall
    ratios = [("(a)", a)]
    if cli is not None:
        served_b, bytes_b, site_cpu_b = cli.site
        print("ceiling (b) trafilatura command line: --input-file --with-metadata --parallel 8 "
              "(SLEEP_TIME = 0, SSRF_PROTECTION = off)")
        print(f"  pages        {served_b:,} fetched from the site ({bytes_b / 2**20:,.0f} MiB), "
              f"{cli.extra['files']:,} files written, {cli.extra['no_result']:,} 'No result' warnings, "
              f"exit code {cli.returncode}")
        print(f"  time         {cli.wall:.1f} s -> {served_b / cli.wall:.1f} pages/s (end-to-end, start-up included)")
        print(f"  CPU          {_cpu(cli.cpu, cli.wall)}; site process {site_cpu_b:.1f} s; "
              f"peak RSS {_mib(cli.peak_rss)}")
        print(f"  output       {cli.extra['bytes']:,} bytes")
        ratios.append(("(b)", served_b / cli.wall))
    print("ratios (pipeline pages/s over ceiling pages/s)")
    for name, ceiling in ratios:
        print(f"  pipeline/{name} {processed / pipe.wall / ceiling:.2f} end-to-end, "
              f"{processed / flow / ceiling:.2f} flow run")


# -- start-up budget ------------------------------------------------------------------------

EMPTY_FLOW = """\
from prefect import flow


@flow
def empty() -> None:
    return None


empty()
"""


def startup(site: Site, rounds: int, archive: bool) -> None:
    """An empty @flow and `dossier run` of a one-URL dossier, each in a fresh subprocess,
    alternating (drift hits both), in the same Prefect mode: the same environment, so the
    same API (the embedded one unless PREFECT_API_URL is set) and the log level the CLI
    sets for itself (PREFECT_LOGGING_LEVEL=WARNING unless already set)."""
    env = {**os.environ}
    env.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    dossier = Path(sys.executable).with_name("dossier")
    cli = [str(dossier)] if dossier.exists() else [sys.executable, "-m", "dossier_pipeline.flows.cli"]
    walls: dict[str, list[float]] = {"empty flow": [], "dossier run": []}
    with tempfile.TemporaryDirectory(prefix="scale-startup-") as tmp:
        config = write_dossier(Path(tmp), [url_of(site.port, 0)], archive)
        for n in range(rounds):
            empty = measure([sys.executable, "-c", EMPTY_FLOW], site, Path(tmp), env)
            if empty.returncode != 0:
                raise SystemExit(f"empty flow failed ({empty.returncode}):\n{empty.output[-3000:]}")
            walls["empty flow"].append(empty.wall)
            run = measure([*cli, "run", SLUG, "--config", str(config), "--output", str(Path(tmp) / f"out-{n}")],
                          site, Path(tmp), env)
            if run.returncode != 0 or run.site[0] != 1:
                raise SystemExit(f"dossier run failed ({run.returncode}, {run.site[0]} pages served):\n"
                                 f"{run.output[-3000:]}")
            walls["dossier run"].append(run.wall)
            print(f"  startup round {n + 1}: empty flow {empty.wall:.2f} s, dossier run {run.wall:.2f} s",
                  file=sys.stderr, flush=True)
    mode = os.environ.get("PREFECT_API_URL") or "embedded API (no PREFECT_API_URL)"
    print(f"\n=== start-up: {rounds} fresh subprocesses each, alternating; Prefect {version('prefect')}, {mode} ===")
    for name, values in walls.items():
        print(f"  {name:<12} median {statistics.median(values):.2f} s (min {min(values):.2f}, max {max(values):.2f}; "
              f"{', '.join(f'{v:.2f}' for v in values)})")
    extra = statistics.median(walls["dossier run"]) - statistics.median(walls["empty flow"])
    verdict = "within" if extra <= STARTUP_BUDGET else "OVER"
    print(f"  dossier run of a one-page dossier costs {extra:+.2f} s over an empty flow (median): {verdict} the "
          f"{STARTUP_BUDGET:g} s budget")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("fixtures", nargs="?", default=str(ROOT.parent / "shared" / "fixtures"),
                        help="directory with pages/*.html (default: ../shared/fixtures from the repository root)")
    parser.add_argument("--pages", type=int, action="append", help="articles to replicate to; repeatable "
                        "(default 1000)")
    parser.add_argument("--archive", action=argparse.BooleanOptionalAction, default=True,
                        help="the pipeline keeps its WARC archive (default: on)")
    parser.add_argument("--startup", action="store_true", help="also measure the start-up budget")
    parser.add_argument("--startup-rounds", type=int, default=5, help="runs of each start-up command (default 5)")
    parser.add_argument("--skip-ceilings", action="store_true", help="measure the pipeline only")
    parser.add_argument("--skip-cli-ceiling", action="store_true", help="measure ceiling (a) but not (b), "
                        "trafilatura's command line (the slowest part of a round)")
    parser.add_argument("--rounds", type=int, default=1, help="pairs of pipeline and ceiling (a) runs, "
                        "alternating, whose median ratio is printed (default 1)")
    parser.add_argument("--keep", metavar="DIR", help="keep each size's work directory under DIR")
    args = parser.parse_args()
    sizes = args.pages or [1000]
    fixtures = Path(args.fixtures)
    if not (fixtures / "pages").is_dir():
        raise SystemExit(f"{fixtures}: no pages/ directory (give the fixtures directory as the first argument)")
    started = time.monotonic()
    site = Site(fixtures)
    try:
        print(f"bench/scale.py: {len(list((fixtures / 'pages').glob('*.html')))} fixture pages from {fixtures}; "
              f"trafilatura {version('trafilatura')}, prefect {version('prefect')}, Python {sys.version.split()[0]}")
        for pages in sizes:
            run_size(args, site, pages)
        if args.startup:
            startup(site, args.startup_rounds, args.archive)
    finally:
        site.close()
    print(f"\n(bench took {time.monotonic() - started:.0f} s)")


if __name__ == "__main__":
    main()
