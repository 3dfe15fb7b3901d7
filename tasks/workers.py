"""The extraction process pool: one worker per core, each page on a time and memory budget.

Extraction is CPU-bound pure Python (trafilatura on lxml trees); threads would share one
core. Pages travel as plain data (bytes and dicts), in chunks, to keep the inter-process
overhead small. A pathological page (megabytes of nested markup, one giant table) must
cost the run no more than its budget: inside a worker, a timer interrupts the page and a
memory limit turns a runaway allocation into a MemoryError; should a worker hang in C code
or die, the parent kills the pool, starts a fresh one and retries the unfinished pages
one by one, so only the culprit is recorded as failed (as datatrove's extractor sandbox
does).
"""

from __future__ import annotations

import multiprocessing
import os
import resource
import signal
import threading
from collections.abc import Callable
from concurrent.futures import CancelledError, ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from datetime import UTC, datetime
from multiprocessing.queues import SimpleQueue

from dossier_pipeline.tasks import memory
from dossier_pipeline.tasks.blocks import classify
from dossier_pipeline.tasks.config import Settings
from dossier_pipeline.tasks.contracts import Extraction, ExtractionStatus
from dossier_pipeline.tasks.extract import Page, extract_page

ATTEMPTS = 3  # a page sharing a chunk with a culprit is retried alone before being blamed


class PageTimeout(BaseException):
    """Raised by the worker's timer; a BaseException so extract_page's error handling,
    which records ordinary exceptions, does not swallow it."""


def _on_alarm(signum: int, frame: object) -> None:
    raise PageTimeout


def _init_worker(memory_bytes: int | None, pids: SimpleQueue[int]) -> None:
    pids.put(os.getpid())  # first: a worker stuck later can still be found and killed
    if memory_bytes and os.path.exists("/proc/self/statm"):  # Linux; elsewhere only the time budget applies
        # The budget is on top of what the worker already maps (interpreter, libraries and
        # whatever the parent's __main__ imports), which varies with how the pipeline is run.
        with open("/proc/self/statm") as f:
            mapped = int(f.read().split()[0]) * resource.getpagesize()
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        limit = mapped + memory_bytes
        resource.setrlimit(resource.RLIMIT_AS, (limit if hard == resource.RLIM_INFINITY else min(limit, hard), hard))
    signal.signal(signal.SIGALRM, _on_alarm)
    # Ctrl-C reaches the terminal's whole process group: the run decides when its workers
    # stop (tasks/interrupt.py), a worker interrupted mid-page would only print a traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # A first extraction loads what trafilatura, htmldate and the language model load
    # lazily (about a second), so that no page's budget pays for it.
    warm_up = "<html><body><article><h1>Titre</h1><p>" + "Un paragraphe de texte en français. " * 20
    extract_page(Page(0, "http://example.org/", (warm_up + "</p></article></body></html>").encode(), None, None,
                      {"dossier": "warm-up", "url": "http://example.org/", "final_url": None, "source_kind": "urls",
                       "source_url": "", "fetched_at": datetime.now(UTC), "http_status": 200,
                       "pipeline_version": "", "run_id": "", "domains": ["example.org"], "timezone": "UTC"}))


def process_chunk(pages: list[Page], seconds: float) -> list[Extraction]:
    """Extract pages within ``seconds`` each; tell apart pages that are not the article."""
    # The timer is a signal, delivered to the main thread: a worker that runs pages in
    # another thread (a Dask worker, tasks/distributed.py) relies on its own limits instead.
    timed = threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGALRM) is _on_alarm
    out: list[Extraction] = []
    for page in pages:
        if timed:
            signal.setitimer(signal.ITIMER_REAL, seconds)
        try:
            result = extract_page(page)
        except PageTimeout:
            result = {"key": page.key, "status": ExtractionStatus.FAILED,
                      "reason": f"extract_timeout: over {seconds:g} s"}
        finally:
            if timed:
                signal.setitimer(signal.ITIMER_REAL, 0)
        if (result["status"] in (ExtractionStatus.OK, ExtractionStatus.NOT_ARTICLE)
                and (kind := classify(page.body, result))):
            result = {"key": page.key, "status": ExtractionStatus.BLOCKED, "reason": kind}
        out.append(result)
    memory.release()
    return out


class ExtractorPool:
    """A process pool with one worker per core; broken or hung workers are replaced."""

    def __init__(self, workers: int | None = None, seconds_per_page: float = 30.0,
                 memory_bytes: int | None = 1 << 30) -> None:
        self.workers = workers or os.cpu_count() or 1
        self.seconds = seconds_per_page
        self.memory_bytes = memory_bytes
        self._pool: ProcessPoolExecutor | None = None
        self._pids: SimpleQueue[int] | None = None  # each worker of the pool announces itself on it
        self._lock = threading.Lock()

    @classmethod
    def for_settings(cls, settings: Settings) -> ExtractorPool:
        return cls(seconds_per_page=settings.extract_timeout_seconds, memory_bytes=settings.extract_memory_mb << 20)

    def _get(self) -> ProcessPoolExecutor:
        with self._lock:  # two batches may be in flight, each extracted from its own thread
            if self._pool is None:
                # forkserver: workers start from a clean process, never from a fork of this
                # multi-threaded one (Prefect and httpx run threads).
                context = multiprocessing.get_context("forkserver")
                self._pids = context.SimpleQueue()
                self._pool = ProcessPoolExecutor(self.workers, mp_context=context, initializer=_init_worker,
                                                 initargs=(self.memory_bytes, self._pids))
            return self._pool

    def warm(self) -> None:
        """Start the workers now, so their imports overlap with discovery and fetching."""
        pool = self._get()
        for _ in range(self.workers):
            pool.submit(_noop)

    def extract(self, pages: list[Page], on_chunk: Callable[[int], None] | None = None) -> list[Extraction]:
        """Extract pages in chunks spread over the workers; results in input order.
        ``on_chunk`` gets the number of pages of each chunk as it is done (live progress)."""
        size = max(1, min(16, -(-len(pages) // (self.workers * 4))))
        todo = [(pages[i : i + size], 1) for i in range(0, len(pages), size)]
        done: dict[int, Extraction] = {}
        while todo:
            submitted = []
            for chunk, attempt in todo:
                pool = self._get()
                submitted.append((chunk, attempt, pool, pool.submit(process_chunk, chunk, self.seconds)))
            todo = []
            for chunk, attempt, pool, future in submitted:
                try:
                    # Generous: the chunk may have queued behind others; the in-worker timer
                    # is the precise budget, this only catches a worker stuck in C code.
                    for result in future.result(timeout=2 * self.seconds * len(chunk) + 10):
                        done[result["key"]] = result
                    if on_chunk is not None:
                        on_chunk(len(chunk))
                    continue
                except (CancelledError, BrokenProcessPool) as exc:
                    if isinstance(exc, CancelledError) or not self._kill(pool):
                        # an innocent bystander of a pool killed for another chunk (maybe of
                        # the other batch in flight): the same attempt again
                        todo.append((chunk, attempt))
                        continue
                    reason = "extract_worker_died: out of memory or crashed"
                except FutureTimeout:
                    self._kill(pool)
                    reason = f"extract_timeout: worker stuck over {self.seconds:g} s a page, killed"
                if attempt < ATTEMPTS:
                    todo.extend(([page], attempt + 1) for page in chunk)
                else:
                    failed = ExtractionStatus.FAILED
                    done.update({p.key: {"key": p.key, "status": failed, "reason": reason} for p in chunk})
                    if on_chunk is not None:
                        on_chunk(len(chunk))
        return [done[p.key] for p in pages]

    def _kill(self, pool: ProcessPoolExecutor) -> bool:
        """Stop a broken or stuck pool at once (the next submit starts a fresh one); False
        when it was already replaced."""
        with self._lock:
            if self._pool is not pool:
                return False
            assert self._pids is not None
            pids = set()
            while not self._pids.empty():
                pids.add(self._pids.get())
            # Only live children of this process: a pid the system gave to another process
            # since a worker died is never signalled.
            for process in multiprocessing.active_children():
                if process.pid in pids:
                    process.kill()
            pool.shutdown(wait=False, cancel_futures=True)
            self._pids.close()
            self._pool = self._pids = None
            return True

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        if self._pids is not None:
            self._pids.close()
            self._pids = None


def _noop() -> None:
    return None
