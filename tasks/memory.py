"""Keeping the pipeline process's memory flat however long the run.

Every batch allocates and frees a few hundred MB: page bodies (bytes objects of 100 KB and
more), Arrow tables and Parquet buffers. With Arrow's default mimalloc pool and glibc's
default malloc, freed memory stays in the allocators' arenas, and glibc raises its mmap
threshold after each large free, so that later large blocks come from a fragmenting heap:
over 2,560 pages of real news pages the process grew from 390 to 546 MB, batch after batch.
With Arrow on the system allocator, glibc's mmap threshold fixed at 128 KiB and the heap
trimmed after each batch, it stayed between 370 and 430 MB (bench/scale.py shows the
process tree's peak RSS at 1,000 to 100,000 pages). Off glibc these calls do nothing.
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

    # for Python-level allocations when pyarrow was imported before tasks/__init__.py set the
    # default pool (the Parquet reader and writer keep the pool of that first import)
    pa.set_memory_pool(pa.system_memory_pool())
    if (libc := _glibc()) is not None:
        libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)


def release() -> None:
    """After a batch (a chunk, in an extraction worker): give the memory it freed back to
    the system (lxml trees of large pages leave a worker's heap holes of megabytes)."""
    if (libc := _glibc()) is not None:
        libc.malloc_trim(0)
