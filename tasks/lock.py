"""One run of a dossier at a time: an exclusive, non-blocking lock on ``<output>/<slug>/.lock``.

Scheduled deployments are limited to one run per dossier by Prefect's deployment concurrency
limit, but a manual ``dossier run`` (or a script calling the flow) does not go through a
deployment. Two runs writing one dataset would race on its partitions, ledger and WARC
recovery, so the flow holds this lock for its whole run and a second run fails at once.

``flock`` rather than a lock file that exists or not: the kernel releases the lock when the
holding process dies, however it dies, so a killed run never leaves a stale lock behind.
(The extraction workers start from a forkserver, not a fork of the run, so they do not
inherit the lock's file descriptor and cannot keep it held after the run is gone.)

The command line takes the lock before it starts Prefect and keeps it for the runs it starts
(``DossierLock.held``): a second run is refused by its own check, in one line, and never
in the gap between that check and the flow's, where Prefect would report a failed flow run.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dossier_pipeline.tasks.store import OutputError

LOCK_FILE = ".lock"
_HELD_FOR_RUNS: set[Path] = set()  # locks this process holds for the runs it starts (DossierLock.held)


class DossierLocked(Exception):
    """Another process is running this dossier; the message is meant for the user."""


class DossierLock:
    """The lock of one dossier's dataset; ``acquire`` raises DossierLocked at once when it is held.

    An output that is a URI (``s3://…``) cannot be locked from here: runs of it rely on
    the deployment concurrency limit alone, and acquire/release do nothing.
    """

    def __init__(self, output: str, slug: str) -> None:
        self.slug = slug
        self.path = None if "://" in output else Path(output) / slug / LOCK_FILE
        self._key = None if self.path is None else self.path.absolute()  # the same lock, however named
        self._fd: int | None = None

    def acquire(self) -> DossierLock:
        if self.path is None or self._key in _HELD_FOR_RUNS:
            return self
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise OutputError(f"output directory {self.path.parent} is not usable: {exc}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
            os.close(fd)
            by = f"process {holder}" if holder.isdigit() else "another process"
            raise DossierLocked(
                f"dossier {self.slug!r} is already being run by {by} (lock {self.path}); "
                "wait for that run to finish, or stop it"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)  # named in the message of a refused run
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            os.close(self._fd)  # releases the lock
            self._fd = None

    @contextmanager
    def held(self) -> Iterator[DossierLock]:
        """Acquire the lock and keep it for the runs this process starts meanwhile: their
        own ``acquire`` of it passes."""
        self.acquire()
        if self._key is not None:
            _HELD_FOR_RUNS.add(self._key)
        try:
            yield self
        finally:
            if self._key is not None:
                _HELD_FOR_RUNS.discard(self._key)
            self.release()

    def __enter__(self) -> DossierLock:
        return self.acquire()

    def __exit__(self, *exc_info: object) -> None:
        self.release()
