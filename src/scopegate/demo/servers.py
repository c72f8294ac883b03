"""Serving ASGI apps in this process: uvicorn in a thread, on a free 127.0.0.1 port.

The listening socket is bound here, before the app is built, so the port is
known (and the app can be told its own URL) with no window in which another
process could take it. Threads rather than subprocesses: nothing to find on
``PATH``, no port hand-over, nothing left running if the demo is killed, and
the apps are configured with Python objects instead of environment variables.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

try:
    import uvicorn
except ImportError as exc:  # pragma: no cover - exercised without the extra installed
    raise ImportError("scopegate demo needs uvicorn: pip install 'scopegate[demo]'") from exc

STARTUP_TIMEOUT = 15.0


class ServerError(RuntimeError):
    """A server did not start."""


@dataclass(frozen=True, slots=True)
class Served:
    """A running server: where it listens and the app it serves."""

    url: str
    app: Any


def _listen() -> tuple[socket.socket, str]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # Accepted connections inherit it; without it small responses wait for a delayed ACK.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind(("127.0.0.1", 0))
    port: int = sock.getsockname()[1]
    return sock, f"http://127.0.0.1:{port}"


@contextmanager
def serve(make_app: Callable[[str], Any], name: str = "server") -> Iterator[Served]:
    """Build ``make_app(base_url)`` for a free loopback port and serve it.

    The server stops, and the app's lifespan ends, when the block exits.

    Raises:
        ServerError: uvicorn did not start within ``STARTUP_TIMEOUT`` seconds.
    """
    sock, base_url = _listen()
    try:
        app = make_app(base_url)
        config = uvicorn.Config(
            app, log_level="warning", access_log=False, ws="none", lifespan="auto"
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name=name, daemon=True
        )
        thread.start()
        try:
            deadline = time.monotonic() + STARTUP_TIMEOUT
            while not server.started:
                if not thread.is_alive() or time.monotonic() > deadline:
                    raise ServerError(f"the {name} did not start on {base_url}")
                time.sleep(0.01)
            yield Served(base_url, app)
        finally:
            server.should_exit = True
            thread.join(STARTUP_TIMEOUT)
    finally:
        sock.close()
