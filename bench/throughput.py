"""End-to-end throughput of `dossier demo` on the demo site scaled to N pages.

Runs the real CLI in a subprocess (Prefect's embedded API, the real flow, Parquet out),
samples its whole process tree from /proc (the extraction workers included), and prints
pages/s, CPU utilisation and peak memory; a second, unchanged run measures the
incremental rerun.

    python bench/throughput.py --pages 1000
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

ARTICLES_IN_DEMO = 48
TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def sample_tree(root: int) -> dict[int, tuple[int, float]]:
    """pid -> (RSS bytes, CPU seconds) for a process and all its descendants."""
    stats: dict[int, tuple[int, int, float]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        stats[int(entry)] = (int(fields[1]), int(fields[21]) * PAGE, (int(fields[11]) + int(fields[12])) / TICKS)
    children: dict[int, list[int]] = {}
    for pid, (ppid, _, _) in stats.items():
        children.setdefault(ppid, []).append(pid)
    out, stack = {}, [root]
    while stack:
        pid = stack.pop()
        if pid in stats:
            out[pid] = stats[pid][1:]
        stack.extend(children.get(pid, []))
    return out


def run_once(copies: int, output: Path, port: int) -> dict:
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "dossier_pipeline.flows.cli", "demo", "--copies", str(copies),
                             "--port", str(port), "--output", str(output)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    peak, cpu = 0, {}
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            tree = sample_tree(proc.pid)
            peak = max(peak, sum(rss for rss, _ in tree.values()))
            for pid, (_, seconds) in tree.items():
                cpu[pid] = max(cpu.get(pid, 0.0), seconds)
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, _ = proc.communicate()
    done.set()
    sampler.join()
    wall = time.monotonic() - started
    if proc.returncode != 0:
        raise SystemExit(f"demo run failed ({proc.returncode}):\n{out}")
    runs = sorted((output / "demo" / "runs").glob("*.json"), key=lambda p: p.stat().st_mtime)
    record = json.loads(runs[-1].read_text())
    flow = (datetime.fromisoformat(record["finished_at"]) - datetime.fromisoformat(record["started_at"]))
    return {"wall": wall, "flow": flow.total_seconds(), "cpu": sum(cpu.values()), "peak_rss": peak,
            "counts": record["counts"], "durations": record["durations_seconds"],
            "tracebacks": out.count("Traceback")}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=1000, help="approximate number of article pages")
    args = parser.parse_args()
    copies = max(1, -(-args.pages // ARTICLES_IN_DEMO))
    port = free_port()  # the same port for both runs: same URLs, so the rerun is incremental
    with tempfile.TemporaryDirectory() as tmp:
        output = Path(tmp)
        first = run_once(copies, output, port)
        second = run_once(copies, output, port)
        size = sum(f.stat().st_size for f in (output / "demo").rglob("*") if f.is_file())
    pages = first["counts"]["written"]
    print(f"pages written            {pages} (discovered {first['counts']['discovered']}, "
          f"failed {first['counts']['failed']})")
    print(f"end-to-end wall          {first['wall']:.1f} s -> {pages / first['wall']:.1f} pages/s "
          f"(includes Prefect's embedded API start-up)")
    print(f"flow run                 {first['flow']:.1f} s -> {pages / first['flow']:.1f} pages/s")
    print(f"stage time (s)           {first['durations']}")
    print(f"CPU utilisation          {first['cpu'] / first['wall'] * 100:.0f} % of one core "
          f"over the whole run ({os.cpu_count()} cores)")
    print(f"peak RSS (process tree)  {first['peak_rss'] / 2**20:.0f} MiB")
    print(f"output bytes             {size}")
    print(f"rerun, unchanged         {second['wall']:.1f} s wall, flow {second['flow']:.1f} s, "
          f"written {second['counts']['written']}, unchanged {second['counts']['unchanged']}")
    print(f"tracebacks printed       {first['tracebacks'] + second['tracebacks']}")


if __name__ == "__main__":
    main()
