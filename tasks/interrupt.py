"""A request to stop a run early (the command line's first Ctrl-C).

The run then takes no new batch, writes the batches it holds and in flight, and records
itself as interrupted; the URLs it did not reach stay out of the ledger, so the next run
does them. The command line, stopping a run because Prefect's API is gone, waits for its record
(``wait_record_written``) and no longer. A plain flag rather than KeyboardInterrupt: an exception raised wherever the
main thread happens to be would stop a commit halfway and skip the run record.
"""

from __future__ import annotations

import threading

_requested = threading.Event()
_recorded = threading.Event()


def request_stop() -> None:
    _requested.set()


def stop_requested() -> bool:
    return _requested.is_set()


def record_written() -> None:
    """Called once a run has written its record (before it reports to Prefect)."""
    _recorded.set()


def wait_record_written(timeout: float) -> bool:
    """Wait until a run of this process has written its record; False after ``timeout`` seconds."""
    return _recorded.wait(timeout)
