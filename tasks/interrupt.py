"""A request to stop a run early (the command line's first Ctrl-C).

The run then takes no new batch, writes the batches it holds and in flight, and records
itself as interrupted; the URLs it did not reach stay out of the ledger, so the next run
does them. A plain flag rather than KeyboardInterrupt: an exception raised wherever the
main thread happens to be would stop a commit halfway and skip the run record.
"""

from __future__ import annotations

import threading

_requested = threading.Event()


def request_stop() -> None:
    _requested.set()


def stop_requested() -> bool:
    return _requested.is_set()
