"""WARC sources on a Dask LocalCluster: the speed-up of 2 workers over 1, and each worker's
peak memory as the number of files grows.

Makes FILES CC-NEWS-shaped WARC files of RECORDS response records each (request, response
and metadata records, a gzip member each) from real pages (default: tests/site/pages, each
page under many URLs), then extracts them as a ``warc`` source's tasks do on a cluster
(tasks/distributed.py extract_file_staged: a file per task, read as a stream, pages extracted
and their rows staged a chunk at a time), with 1 worker and with 2,
and with 2 workers over a quarter of the files.

    python bench/warc_dask.py [--files 20] [--records 500] [--pages DIR]

Prints the wall times, the speed-up, and the workers' peak resident memory (ru_maxrss of
each worker process, measured inside the task) for FILES/4 and FILES files.
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from dossier_pipeline.tasks.config import Dossier, Settings
from dossier_pipeline.tasks.distributed import extract_file_staged
from dossier_pipeline.tasks.sources import RowFilter
from dossier_pipeline.tasks.warcfiles import FileSpec
from dossier_pipeline.tasks.workers import process_chunk

HOST = "news.bench.example"


def make_files(folder: Path, files: int, records: int, pages: list[bytes]) -> list[str]:
    paths = []
    date = {"WARC-Date": datetime(2024, 3, 1, tzinfo=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
    for n in range(files):
        path = folder / f"CC-NEWS-20240301000000-{n:05d}.warc.gz"
        with open(path, "wb") as out:
            writer = WARCWriter(out, gzip=True)
            for i in range(records):
                url = f"https://{HOST}/{n}/{i}/article.html"
                body = pages[(n * records + i) % len(pages)]
                response = writer.create_warc_record(url, "response", payload=io.BytesIO(body), warc_headers_dict=date,
                                                     http_headers=StatusAndHeaders("200 OK", [
                                                         ("Content-Type", "text/html; charset=utf-8")],
                                                         protocol="HTTP/1.1"))
                request = writer.create_warc_record(url, "request", payload=io.BytesIO(b""), warc_headers_dict=date,
                                                    http_headers=StatusAndHeaders(f"GET /{n}/{i}/article.html HTTP/1.1",
                                                                                  [], is_http_request=True))
                metadata = writer.create_warc_record(url, "metadata", payload=io.BytesIO(b"fetchTimeMs: 100\r\n"),
                                                     warc_content_type="application/warc-fields",
                                                     warc_headers_dict=date)
                for record in (request, response, metadata):
                    writer.write_record(record)
        paths.append(str(path))
    return paths


def spec(path: str) -> FileSpec:
    return FileSpec(path, (HOST,), None, RowFilter())


DOSSIER = Dossier(slug="bench", allowed_domains=[HOST], sources=[{"kind": "warc", "paths": ["bench"]}],
                  settings=Settings())


def work(path: str) -> tuple[int, int, int]:
    """One file's task on a worker (rows staged next to the file): (articles, pages, the
    worker's peak resident KiB)."""
    staged = str(Path(path).with_suffix("").with_suffix(".parquet"))
    _, results, _ = extract_file_staged(spec(path), DOSSIER, "bench", 30.0, str(Path(path).parent / "out"), staged)
    return (sum(r["status"] == "ok" for r in results), len(results),
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def run(paths: list[str], workers: int) -> tuple[float, dict[str, int], int]:
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0",
                      host="127.0.0.1") as cluster, Client(cluster) as client:
        client.run(lambda: process_chunk([], 1.0))  # imports done before the clock starts
        started = time.perf_counter()
        results = client.gather(client.map(work, paths, pure=False))
        seconds = time.perf_counter() - started
        peaks = dict(client.run(lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))
    return seconds, peaks, sum(r[1] for r in results), sum(r[0] for r in results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=20)
    parser.add_argument("--records", type=int, default=500)
    parser.add_argument("--pages", type=Path, default=Path(__file__).parent.parent / "tests" / "site" / "pages")
    args = parser.parse_args()
    pages = [p.read_bytes() for p in sorted(args.pages.glob("*.html"))]
    print(f"load average before: {os.getloadavg()}  cores: {os.cpu_count()}")
    with tempfile.TemporaryDirectory() as folder:
        paths = make_files(Path(folder), args.files, args.records, pages)
        one, _, pages_done, articles = run(paths, 1)
        two, peaks, _, _ = run(paths, 2)
        _, small_peaks, _, _ = run(paths[: max(1, args.files // 4)], 2)
    print(f"{args.files} files x {args.records} records ({pages_done} pages, {articles} articles)")
    print(f"1 worker:  {one:.1f} s ({pages_done / one:.1f} pages/s)")
    print(f"2 workers: {two:.1f} s ({pages_done / two:.1f} pages/s)  speed-up {one / two:.2f}x")
    print(f"peak RSS per worker, {max(1, args.files // 4)} files: "
          + ", ".join(f"{v / 1024:.0f} MiB" for v in small_peaks.values()))
    print(f"peak RSS per worker, {args.files} files: " + ", ".join(f"{v / 1024:.0f} MiB" for v in peaks.values()))
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
