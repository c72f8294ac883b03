"""Drive ASGI and WSGI apps in-process: no socket, no server, no test client.

An ASGI app is awaited directly with a prepared scope and trivial
``receive``/``send``; a WSGI app is called with a prepared environ. Each call
gets a fresh shallow copy of the prepared scope or environ (apps write into
them), which costs the same for every variant.
"""

from __future__ import annotations

import asyncio
import io
import sys
from typing import Any

from benchmarks.common import PATH
from benchmarks.timing import Batch, clock


def asgi_scope(authorization: str | None) -> dict[str, Any]:
    """The scope of ``GET /api/private-scoped`` as uvicorn would build it."""
    headers = [(b"host", b"127.0.0.1:8000"), (b"user-agent", b"bench"), (b"accept", b"*/*")]
    if authorization is not None:
        headers.append((b"authorization", authorization.encode("latin-1")))
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 50000),
        "scheme": "http",
        "method": "GET",
        "root_path": "",
        "path": PATH,
        "raw_path": PATH.encode(),
        "query_string": b"",
        "headers": headers,
        "state": {},
    }


def wsgi_environ(authorization: str | None) -> dict[str, Any]:
    """The environ of ``GET /api/private-scoped`` as gunicorn would build it."""
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "",
        "PATH_INFO": PATH,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1:8000",
        "HTTP_USER_AGENT": "bench",
        "HTTP_ACCEPT": "*/*",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    if authorization is not None:
        environ["HTTP_AUTHORIZATION"] = authorization
    return environ


_REQUEST = {"type": "http.request", "body": b"", "more_body": False}


async def _receive() -> dict[str, Any]:
    return _REQUEST


async def _discard(message: dict[str, Any]) -> None:
    return None


def _start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
    return None


class AsgiDriver:
    """Runs batches of requests against ASGI apps on one private event loop."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()

    def close(self) -> None:
        self.loop.close()

    def request(self, app: Any, authorization: str | None) -> tuple[int, bytes]:
        """One request, recording the status and body (for the sanity checks)."""
        sent: list[dict[str, Any]] = []

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        self.loop.run_until_complete(app(asgi_scope(authorization), _receive, send))
        status = next(m["status"] for m in sent if m["type"] == "http.response.start")
        body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
        return status, body

    def batch(self, app: Any, authorization: str | None) -> Batch:
        """A function timing ``n`` requests; returns the elapsed seconds."""
        template = asgi_scope(authorization)

        async def run(n: int) -> float:
            perf = clock()
            start = perf()
            for _ in range(n):
                await app(dict(template), _receive, _discard)
            return perf() - start

        return lambda n: self.loop.run_until_complete(run(n))


class WsgiDriver:
    """Runs batches of requests against WSGI apps."""

    def request(self, app: Any, authorization: str | None) -> tuple[int, bytes]:
        """One request, recording the status and body (for the sanity checks)."""
        statuses: list[str] = []

        def start_response(status: str, headers: Any, exc_info: Any = None) -> Any:
            statuses.append(status)
            return None

        result = app(wsgi_environ(authorization), start_response)
        try:
            body = b"".join(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        return int(statuses[0].split()[0]), body

    def batch(self, app: Any, authorization: str | None) -> Batch:
        """A function timing ``n`` requests; returns the elapsed seconds."""
        template = wsgi_environ(authorization)

        def run(n: int) -> float:
            perf = clock()
            start = perf()
            for _ in range(n):
                result = app(dict(template), _start_response)
                for _chunk in result:
                    pass
                close = getattr(result, "close", None)
                if close is not None:
                    close()
            return perf() - start

        return run
