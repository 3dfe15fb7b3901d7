"""The extraction process pool: one worker per core, so extraction uses the whole machine.

Extraction is CPU-bound pure Python (trafilatura on lxml trees); threads would share one
core. Pages travel as plain data (bytes and dicts), in chunks, to keep the inter-process
overhead small.
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from tasks.extract import Page, extract_page


def extract_chunk(pages: list[Page]) -> list[dict[str, Any]]:
    return [extract_page(p) for p in pages]


class ExtractorPool:
    """A process pool with one worker per core; broken workers are replaced."""

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or os.cpu_count() or 1
        self._pool: ProcessPoolExecutor | None = None

    def _get(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # forkserver: workers start from a clean process, never from a fork of this
            # multi-threaded one (Prefect and httpx run threads).
            context = multiprocessing.get_context("forkserver")
            self._pool = ProcessPoolExecutor(self.workers, mp_context=context, initializer=_warm)
        return self._pool

    def warm(self) -> None:
        """Start the workers now, so their imports overlap with discovery and fetching."""
        pool = self._get()
        for _ in range(self.workers):
            pool.submit(_noop)

    def extract(self, pages: list[Page]) -> list[dict[str, Any]]:
        """Extract pages in chunks spread over the workers; results in input order."""
        if not pages:
            return []
        size = max(1, min(16, -(-len(pages) // (self.workers * 4))))
        chunks = [pages[i : i + size] for i in range(0, len(pages), size)]
        results: list[dict[str, Any]] = []
        futures = [self._get().submit(extract_chunk, chunk) for chunk in chunks]
        for chunk, future in zip(chunks, futures, strict=True):
            try:
                results.extend(future.result())
            except BrokenProcessPool as exc:
                self.close()
                results.extend(
                    {"key": p.key, "status": "failed", "reason": f"extract_worker_died: {exc}"} for p in chunk
                )
        return results

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


def _warm() -> None:
    import tasks.extract  # noqa: F401  (the import is the warm-up)


def _noop() -> None:
    return None
