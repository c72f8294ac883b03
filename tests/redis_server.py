"""A real ``redis-server`` on 127.0.0.1 for the tests, on a free port, stopped afterwards.

Use the context manager :func:`redis_server` (a password, a stop and a restart
on the same port), or the fixture :func:`redis_url` (one server for the whole
session, no password)::

    from redis_server import redis_url  # the fixture


    def test_shared(redis_url: str) -> None: ...

Both skip the test, with the reason, when the ``redis-server`` binary is not
installed (``apt-get install redis-server``; ``.ci/run`` installs it).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest

STARTUP_TIMEOUT = 10.0
MISSING = (
    "redis-server is not installed: the Redis replay store is tested against a real server "
    "(apt-get install redis-server)"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _answers(port: int, password: str | None) -> bool:
    """True when the server on ``port`` answers PING (after AUTH, when it has a password)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            if password is not None:
                sock.sendall(f"AUTH {password}\r\n".encode())
                if not sock.recv(64).startswith(b"+OK"):
                    return False
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


@dataclass
class RedisServer:
    """One ``redis-server`` process; :meth:`stop` and :meth:`start` keep the port."""

    port: int = field(default_factory=free_port)
    password: str | None = None
    process: subprocess.Popen[Any] | None = None
    directory: str = field(default_factory=lambda: tempfile.mkdtemp(prefix="scopegate-redis-"))

    @property
    def url(self) -> str:
        auth = f":{self.password}@" if self.password is not None else ""
        return f"redis://{auth}127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.skip(MISSING)
        command = [binary, "--bind", "127.0.0.1", "--port", str(self.port), "--save", ""]
        command += ["--appendonly", "no", "--dir", self.directory, "--loglevel", "warning"]
        if self.password is not None:
            command += ["--requirepass", self.password]
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not _answers(self.port, self.password):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"redis-server did not start on port {self.port}")
            time.sleep(0.02)

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None


@contextmanager
def redis_server(password: str | None = None) -> Iterator[RedisServer]:
    """A running ``redis-server`` for the block; skips the test when the binary is absent."""
    server = RedisServer(password=password)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.directory, ignore_errors=True)


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """The URL of one ``redis-server`` shared by the session (use a unique key prefix per test)."""
    with redis_server() as server:
        yield server.url
