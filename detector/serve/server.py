"""Runs the service under uvicorn: the app, the interface and port, and a clean exit.

On SIGTERM (or Ctrl-C) uvicorn stops accepting connections, lets the requests in flight finish (for
at most the request timeout), then the app shuts its batchers and model thread down, and the process
exits with code 0. A model or index that fails to load stops the server with the loader's error.
"""

from __future__ import annotations

import logging
import signal
import sys

from detector.serve.app import create_app
from detector.serve.config import LOCAL_HOST, ServeSettings

__all__ = ["run_server"]

log = logging.getLogger("uvicorn.error")  # logged as uvicorn logs
SWITCH_INTERVAL_S = 0.001  # how long the model thread may hold the GIL while the event loop waits (Python's default: 5 ms)


def run_server(settings: ServeSettings) -> None:
    """Serve until SIGTERM or SIGINT; raise the loading error if the model or index could not load."""
    import uvicorn

    failures: list[Exception] = []
    server: uvicorn.Server | None = None

    def stop(error: Exception) -> None:
        failures.append(error)
        server.should_exit = True

    app = create_app(settings, on_failure=stop)
    config = uvicorn.Config(app, host=settings.bind_host, port=settings.port, log_level="info", access_log=False,
                            timeout_graceful_shutdown=int(settings.limits.request_timeout_s) + 1)
    server = uvicorn.Server(config)
    if settings.token is None and settings.bind_host != LOCAL_HOST:
        log.warning("serving on %s without a token: anyone who reaches this port may call it", settings.bind_host)
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    signal.signal(signal.SIGTERM, _exit_cleanly)  # uvicorn raises the signal it caught again once it has drained
    server.run()
    if failures:
        raise failures[0]


def _exit_cleanly(signum, frame) -> None:
    """SIGTERM after uvicorn's drain (or before it started): exit with code 0."""
    raise SystemExit(0)
