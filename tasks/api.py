"""Prefect's embedded API, started while the pipeline loads.

Without PREFECT_API_URL, Prefect starts a temporary API server (a uvicorn subprocess) at a
process's first flow call and sleeps until it answers: seconds in which this process does
nothing. Prefect's own start (``SubprocessASGIServer.start``) first imports its whole server
package in this process (docs/benchmarks.md: start-up) and only then spawns the server,
which imports it again. So the server is spawned here first, with the command and
environment Prefect uses, and handed to Prefect's ``SubprocessASGIServer``: it boots on the
other core while this process imports Prefect's server package and the pipeline
(trafilatura, lxml, httpx, …); the flow then finds it running, and Prefect stops it at exit
as it stops its own. Should that hand-over not work (the server exits early, say a port
taken meanwhile), Prefect's own start runs at the flow call instead.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Any


def _free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _spawn(port: int, settings: Any) -> subprocess.Popen[Any]:
    """The server process, as ``SubprocessASGIServer._run_uvicorn_command`` spawns it."""
    import prefect

    return subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--app-dir", str(prefect.__module_path__.parent), "--factory",
         "prefect.server.api.server:create_app", "--host", "127.0.0.1", "--port", str(port),
         "--log-level", "error", "--lifespan", "on"],
        env={**os.environ, "PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1", "PREFECT__SERVER_FINAL": "1",
             **settings.to_environment_variables(exclude_unset=True)},
        # out of the terminal's process group: a Ctrl-C stops the run, which still needs the
        # API to record how it ended; Prefect stops the server at exit
        start_new_session=True)


def _wait_ready(server: Any, timeout: float) -> bool:
    """True once the adopted server answers; False if it exited first or never answered."""
    import httpx

    deadline = time.monotonic() + timeout
    with httpx.Client() as client:
        while time.monotonic() < deadline:
            if server.server_process is None or server.server_process.poll() is not None:
                return False
            with contextlib.suppress(httpx.HTTPError):
                if client.get(f"{server.api_url}/health").status_code == 200:
                    return True
            time.sleep(0.05)
    return False


def _nothing() -> None:
    return None


_started: list[subprocess.Popen[Any]] = []  # the server processes this process spawned


def kill_embedded_api() -> None:
    """Kill the server at once (a forced exit, which skips the exit handlers that stop it:
    out of the terminal's process group, it would outlive this process)."""
    for process in _started:
        process.kill()


def start_embedded_api() -> Callable[[], None]:
    """Start the embedded API in the background; returns what to call before the first
    flow call, which waits until the server answers (one still booting would be used before
    it answers). Nothing is started when the runs go to a server of their own
    (PREFECT_API_URL) or the embedded one is disabled."""
    from prefect.settings import get_current_settings

    settings = get_current_settings()
    if settings.api.url or not settings.server.ephemeral.enabled:
        return _nothing
    port = _free_port()
    process = _spawn(port, settings)
    try:
        from prefect.server.api.server import SubprocessASGIServer

        server = SubprocessASGIServer()  # the instance Prefect's client starts and uses in this process
        # not when already started (a second call in one process)
        adopted = not server.running
    except (ImportError, AttributeError):  # a Prefect whose server class changed: it starts its own
        adopted = False
    if not adopted:
        process.terminate()
        process.wait()
        return _nothing
    server.port, server.server_process, server.running = port, process, True
    atexit.register(server.stop)
    _started.append(process)

    def ready() -> None:
        if not _wait_ready(server, settings.server.ephemeral.startup_timeout_seconds):
            server.stop()  # forgotten by Prefect, whose own start then runs at the flow call

    # not a daemon: should this process end first, it waits for the server to answer and be
    # stopped at exit, instead of leaving it running
    thread = threading.Thread(target=ready, name="prefect-api-start")
    thread.start()
    return thread.join
