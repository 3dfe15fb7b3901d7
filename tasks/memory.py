"""Keeping the pipeline process's memory flat however long the run.

Every batch allocates and frees a few hundred MB: page bodies (bytes objects of 100 KB and
more), Arrow tables and Parquet buffers. With Arrow's default mimalloc pool and glibc's
default malloc, freed memory stays in the allocators' arenas, and glibc raises its mmap
threshold after each large free, so that later large blocks come from a fragmenting heap
and the process grows batch after batch. With Arrow on the system allocator, glibc's mmap
threshold fixed at 128 KiB and the heap trimmed after each batch, it stays flat
(docs/benchmarks.md, "Memory"). Off glibc these calls do nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools

M_MMAP_THRESHOLD = -3  # glibc mallopt parameter
MMAP_THRESHOLD = 128 * 1024  # glibc's default, but fixed: no longer raised by large frees


@functools.cache
def _glibc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
    except OSError:
        return None
    return libc if libc is not None and hasattr(libc, "malloc_trim") else None


@functools.cache
def configure() -> None:
    """Once per process, before the first batch."""
    import pyarrow as pa  # here: extraction workers release memory too, and need no pyarrow

    # for Python-level allocations when pyarrow was imported without ARROW_DEFAULT_MEMORY_POOL
    # (flows/cli.py sets it; the Parquet reader and writer keep the pool of the first import)
    pa.set_memory_pool(pa.system_memory_pool())
    if (libc := _glibc()) is not None:
        libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)


def release() -> None:
    """After a batch (a chunk, in an extraction worker): give the memory it freed back to
    the system (lxml trees of large pages leave a worker's heap holes of megabytes)."""
    if (libc := _glibc()) is not None:
        libc.malloc_trim(0)
