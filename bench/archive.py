"""The cost of the raw WARC archive: end-to-end throughput and output bytes, archive on
and off, on the demo site scaled to N pages.

Serves the demo site from this process and runs the real CLI (`dossier run`, Prefect's
embedded API, the real flow) in a subprocess into a fresh directory for each run,
alternating off/on ``--rounds`` times so that drift (thermal, page cache) hits both;
reports the best run of each mode.

    python bench/archive.py --pages 1000
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

from dossier_pipeline.tasks.demo.site import demo_config, serve_demo

ARTICLES_IN_DEMO = 48


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tree_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) if path.exists() else 0


def run_once(base_url: str, workdir: Path, archive: bool) -> dict:
    config = workdir / "dossiers.toml"
    config.write_text(demo_config(base_url).replace("[defaults]\n", f"[defaults]\narchive = {str(archive).lower()}\n",
                                                    1), encoding="utf-8")
    output = workdir / "out"
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "dossier_pipeline.flows.cli", "run", "demo", "--config", str(config),
                           "--output", str(output)], capture_output=True, text=True)
    wall = time.monotonic() - started
    if done.returncode != 0:
        raise SystemExit(f"run failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    [record] = [json.loads(p.read_text()) for p in (output / "demo" / "runs").glob("*.json")]
    flow = (datetime.fromisoformat(record["finished_at"]) - datetime.fromisoformat(record["started_at"]))
    return {"wall": wall, "flow": flow.total_seconds(), "written": record["counts"]["written"],
            "durations": record["durations_seconds"], "bytes": tree_bytes(output / "demo"),
            "raw_bytes": tree_bytes(output / "demo" / "raw"), "warc_files": len(record.get("warc_files", []))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=1000, help="approximate number of article pages")
    parser.add_argument("--rounds", type=int, default=2, help="runs of each mode (alternating)")
    args = parser.parse_args()
    copies = max(1, -(-args.pages // ARTICLES_IN_DEMO))
    server, _ = serve_demo(copies=copies, port=free_port())
    results: dict[bool, list[dict]] = {False: [], True: []}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for n in range(args.rounds):
                for archive in (False, True):
                    workdir = Path(tmp) / f"{'on' if archive else 'off'}-{n}"
                    workdir.mkdir()
                    result = run_once(server.base_url, workdir, archive)
                    results[archive].append(result)
                    print(f"  archive {'on ' if archive else 'off'} round {n + 1}: {result['written']} pages, "
                          f"flow {result['flow']:.1f} s, wall {result['wall']:.1f} s", file=sys.stderr)
    finally:
        server.close()
    best = {mode: min(runs, key=lambda r: r["flow"]) for mode, runs in results.items()}
    off, on = best[False], best[True]
    pages = on["written"]
    print(f"pages written              {pages} (off: {off['written']}); best of {args.rounds} runs per mode, "
          f"{os.cpu_count()} cores")
    for name, r in (("archive off", off), ("archive on", on)):
        print(f"{name:<12} flow run     {r['flow']:.1f} s -> {r['written'] / r['flow']:.1f} pages/s; end-to-end "
              f"{r['wall']:.1f} s -> {r['written'] / r['wall']:.1f} pages/s; output {r['bytes']:,} bytes")
    print(f"archive on   stages (s)   {on['durations']}")
    cost_flow = 1 - (on["written"] / on["flow"]) / (off["written"] / off["flow"])
    cost_wall = 1 - (on["written"] / on["wall"]) / (off["written"] / off["wall"])
    print(f"throughput cost            {cost_flow:+.1%} (flow run), {cost_wall:+.1%} (end-to-end, with Prefect "
          f"start-up)")
    print(f"archive bytes              {on['raw_bytes']:,} in {on['warc_files']} WARC file(s), "
          f"{on['raw_bytes'] / max(1, pages):,.0f} bytes a page; output x{on['bytes'] / max(1, off['bytes']):.1f}")


if __name__ == "__main__":
    main()
