"""A full disk: one error naming the path being written, the space it needed and the space left.

A write that finds no space (ENOSPC, or a quota's EDQUOT) is not the failure of one page or
one row: every later write fails too. So the writers (tasks/store.py, tasks/archive.py)
remove what the failed write left (a temporary file, a partial WARC record) and raise
``DiskFull``; the run stops there, writes its record as state ``disk_full`` if it can, and
the command line says so in one line (ExitStatus.DISK_FULL). Everything committed before
stays readable, and the next run, once there is room, does the rest.
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NotRequired

from typing_extensions import TypedDict  # (pydantic reads it: typing's before Python 3.12 lacks what it needs)

FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})


class DiskSpace(TypedDict):
    """What the run record says of a full disk."""

    path: str
    needed_bytes: int | None
    free_bytes: int | None
    record_written: NotRequired[bool]  # false: the record of the run could not be written (tasks/steps.py)


def _size(n: int | None) -> str:
    return "an unknown amount" if n is None else f"{n:,} bytes"  # exact: a write fails by a few bytes too


class DiskFull(Exception):
    """No space left where ``path`` is written: ``needed`` bytes (as far as known) for the
    write that failed, ``free`` left on that filesystem after its leftovers were removed."""

    def __init__(self, path: str, needed: int | None, free: int | None) -> None:
        super().__init__(path, needed, free)
        self.path, self.needed, self.free = path, needed, free

    def __str__(self) -> str:
        return (f"disk full: writing {self.path} needed {_size(self.needed)}, "
                f"{_size(self.free)} free on its filesystem")

    def as_dict(self) -> DiskSpace:
        return {"path": self.path, "needed_bytes": self.needed, "free_bytes": self.free}


def is_full(exc: BaseException) -> bool:
    """Whether ``exc`` says there is no space left (pyarrow's errors carry the errno too)."""
    return isinstance(exc, OSError) and exc.errno in FULL_ERRNOS


def free_bytes(path: str | Path) -> int | None:
    """Space left to an unprivileged writer on the filesystem of ``path`` (its nearest
    existing ancestor); None where there is no such filesystem (object storage)."""
    current = Path(path)
    while not current.exists() and current != current.parent:
        current = current.parent
    try:
        stat = os.statvfs(current)
    except OSError:
        return None
    return stat.f_bavail * stat.f_frsize


@contextlib.contextmanager
def writing(path: str, needed: int | Callable[[], int | None] | None,
            leftovers: Callable[[], None] | None = None) -> Iterator[None]:
    """Write ``path`` in the block: when it fails, ``leftovers`` removes what the write left;
    when it failed for want of space, DiskFull is raised instead of the OSError."""
    try:
        yield
    except BaseException as exc:
        if leftovers is not None:
            with contextlib.suppress(OSError):
                leftovers()
        if not is_full(exc):
            raise
        raise DiskFull(path, needed() if callable(needed) else needed, free_bytes(path)) from None
