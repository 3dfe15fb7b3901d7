"""Prefect's embedded API, started while the pipeline loads.

Without PREFECT_API_URL, Prefect starts a temporary API server (a uvicorn subprocess) at a
process's first flow call and sleeps until it answers: seconds in which this process does
nothing. Started from a thread as soon as the command line is checked, the server boots
(on the other core) while this process imports the pipeline (trafilatura, lxml, httpx, …);
the flow then finds it running: Prefect keeps one such server per process.
"""

from __future__ import annotations

import threading


def start_embedded_api() -> threading.Thread | None:
    """Start the embedded API in the background; join the thread before the first flow
    call (a server still booting would be used before it answers). None when the runs go
    to a server of their own (PREFECT_API_URL) or the embedded one is disabled."""
    from prefect.settings import get_current_settings

    settings = get_current_settings()
    if settings.api.url or not settings.server.ephemeral.enabled:
        return None

    # Imported here, not in the thread: importing holds the interpreter, and the server
    # process is spawned only once it is imported; this process's own imports come after.
    from prefect.server.api.server import SubprocessASGIServer

    def start() -> None:
        try:
            SubprocessASGIServer().start()
        except Exception:  # the flow call starts it again and reports what fails
            return

    # not a daemon: should this process end first, it waits for the server to be registered
    # for Prefect's stop at exit, instead of leaving it running
    thread = threading.Thread(target=start, name="prefect-api-start")
    thread.start()
    return thread
