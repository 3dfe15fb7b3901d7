"""Prefect's embedded API, started while the pipeline loads.

Without PREFECT_API_URL, Prefect starts a temporary API server (a uvicorn subprocess) at a
process's first flow call and sleeps until it answers: seconds in which this process does
nothing. Prefect's own start (``SubprocessASGIServer.start``) first imports its whole server
package in this process (docs/benchmarks.md: start-up) and only then spawns the server,
which imports it again. So the server is spawned here first, with the command and
environment Prefect uses, and handed to Prefect's ``SubprocessASGIServer``: it boots on the
other core while this process imports Prefect's server package and the pipeline
(trafilatura, lxml, httpx, …); the flow then finds it running, and Prefect stops it at exit
as it stops its own.

That hand-over relies on a private class of Prefect: everything that touches it is in
``EphemeralServer``, which first checks that the installed Prefect has the shape it was
written for (pinned in requirements.lock). When it has not, or the hand-over does not work
(the server exits early, say a port taken meanwhile), Prefect's own start runs at the flow
call instead: slower, never wrong.
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
from typing import Any, ClassVar


def _free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# Run before the server's own command (which it execs): on Linux the server is sent SIGTERM
# when the process that spawned it dies, even of a SIGKILL that leaves no time to stop it
# (the death signal survives exec); elsewhere it is stopped at exit only.
_END_WITH_PARENT = """
import ctypes, os, signal, sys
try:
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
except (AttributeError, OSError):
    pass
if os.getppid() != int(sys.argv[1]):
    sys.exit(0)  # the spawner died before the signal was set
os.execv(sys.executable, [sys.executable, *sys.argv[2:]])
"""


def _spawn(port: int, settings: Any) -> subprocess.Popen[bytes]:
    """The server process, as ``SubprocessASGIServer._run_uvicorn_command`` spawns it, ended
    with the spawning process (the CLI's main thread: the death signal follows the thread)."""
    import prefect

    return subprocess.Popen(
        [sys.executable, "-c", _END_WITH_PARENT, str(os.getpid()),
         "-m", "uvicorn", "--app-dir", str(prefect.__module_path__.parent), "--factory",
         "prefect.server.api.server:create_app", "--host", "127.0.0.1", "--port", str(port),
         "--log-level", "error", "--lifespan", "on"],
        env={**os.environ, "PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1", "PREFECT__SERVER_FINAL": "1",
             **settings.to_environment_variables(exclude_unset=True)},
        # out of the terminal's process group: a Ctrl-C stops the run, which still needs the
        # API to record how it ended; Prefect stops the server at exit
        start_new_session=True)


def _server_class() -> type | None:
    """Prefect's ephemeral server class (private: prefect.server.api.server)."""
    try:
        from prefect.server.api.server import SubprocessASGIServer
    except ImportError:
        return None
    return SubprocessASGIServer


class EphemeralServer:
    """The one adapter to Prefect's private ``SubprocessASGIServer``: the per-process
    instance Prefect's clients start and use (``SubprocessASGIServer()``, port None).
    ``adopt`` hands it a server spawned here; Prefect then finds it running, uses its
    ``api_url`` and stops it at exit."""

    # what the adapter reads or sets on the instance, and the types it expects
    ATTRIBUTES: ClassVar[dict[str, tuple[type, ...]]] = {
        "port": (int, type(None)), "running": (bool,), "server_process": (subprocess.Popen, type(None))}
    METHODS = ("start", "stop", "_run_uvicorn_command")  # Prefect's own start and stop, and the spawn mirrored

    def __init__(self, server: Any) -> None:
        self._server = server

    @classmethod
    def find(cls, server_class: type | None = None) -> EphemeralServer | None:
        """The adapter, when Prefect's class has the expected shape and its instance is not
        started yet (a second call in one process); None otherwise (Prefect starts its own)."""
        server_class = server_class or _server_class()
        if server_class is None or not all(callable(getattr(server_class, m, None)) for m in cls.METHODS) \
                or not isinstance(getattr(server_class, "api_url", None), property):
            return None
        try:
            server = server_class()
            if server is not server_class():  # one instance per process: the one Prefect's clients use
                return None
            shaped = all(isinstance(getattr(server, name), types) for name, types in cls.ATTRIBUTES.items())
        except (TypeError, AttributeError):
            return None
        return cls(server) if shaped and not server.running else None

    @property
    def api_url(self) -> str:
        return str(self._server.api_url)

    def adopt(self, process: subprocess.Popen[bytes], port: int) -> None:
        """Make ``process`` (the server listening on ``port``) Prefect's running server."""
        self._server.port, self._server.server_process, self._server.running = port, process, True
        atexit.register(self.stop)

    def alive(self) -> bool:
        process = self._server.server_process
        return process is not None and process.poll() is None

    def stop(self) -> None:
        """Stop the server and forget it: Prefect's own start runs at the next flow call."""
        self._server.stop()


def _wait_ready(server: EphemeralServer, timeout: float) -> bool:
    """True once the adopted server answers; False if it exited first or never answered."""
    import httpx

    deadline = time.monotonic() + timeout
    with httpx.Client() as client:
        while time.monotonic() < deadline:
            if not server.alive():
                return False
            with contextlib.suppress(httpx.HTTPError):
                if client.get(f"{server.api_url}/health").status_code == 200:
                    return True
            time.sleep(0.05)
    return False


def _nothing() -> None:
    return None


_started: list[subprocess.Popen[bytes]] = []  # the server processes this process spawned


def kill_embedded_api() -> None:
    """Kill the server at once (a forced exit, which skips the exit handlers that stop it:
    out of the terminal's process group, it would outlive this process)."""
    for process in _started:
        process.kill()


def embedded_api_exit_status() -> int | None:
    """The exit status of the embedded API server this process started, once it has exited;
    None while it runs, or when this process started none."""
    for process in _started:
        status = process.poll()
        if status is not None:
            return status
    return None


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
    server = EphemeralServer.find()
    if server is None:
        process.terminate()
        process.wait()
        return _nothing
    server.adopt(process, port)
    _started.append(process)

    def ready() -> None:
        if not _wait_ready(server, settings.server.ephemeral.startup_timeout_seconds):
            server.stop()  # forgotten by Prefect, whose own start then runs at the flow call
            _started.remove(process)  # stopped on purpose: not an API that died (embedded_api_exit_status)

    # not a daemon: should this process end first, it waits for the server to answer and be
    # stopped at exit, instead of leaving it running
    thread = threading.Thread(target=ready, name="prefect-api-start")
    thread.start()
    return thread.join
