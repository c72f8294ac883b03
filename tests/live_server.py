"""Real servers for the tests: a free port, a server subprocess, and stopping it again.

Also what the examples under examples/ need to run with every setting given, and the
``WWW-Authenticate`` challenges their APIs (and the demo's) answer with.
"""

from __future__ import annotations

import shlex
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from gunicorn.config import Config

from conformance.model import DPOP_OFFER
from helpers import IDENTIFIER, ISSUER, SECRET, subprocess_env
from scopegate.client import ManagementClient

ROOT = Path(__file__).resolve().parent.parent
STARTUP_TIMEOUT = 15.0
STOP_TIMEOUT = 10.0

NO_TOKEN = f'Bearer realm="api", {DPOP_OFFER}'
INSUFFICIENT_SCOPE = (
    'Bearer realm="api", error="insufficient_scope", '
    'error_description="The access token lacks the scopes this resource requires", '
    'scope="sample-scope"'
)
EXPIRED = (
    'Bearer realm="api", error="invalid_token", error_description="The access token has expired", '
    + DPOP_OFFER
)
BAD_SIGNATURE = (
    'Bearer realm="api", error="invalid_token", '
    f'error_description="The access token signature is invalid", {DPOP_OFFER}'
)


def free_port() -> int:
    """A port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def stop(process: subprocess.Popen[Any], timeout: float = STOP_TIMEOUT) -> None:
    """Terminate ``process``; kill it if it has not exited within ``timeout`` seconds."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def serve(
    command: Sequence[str],
    env: dict[str, str],
    port: int,
    *,
    log: Path,
    health_path: str = "/health",
    cwd: Path = ROOT,
    timeout: float = STARTUP_TIMEOUT,
) -> Iterator[str]:
    """Run ``command``, a server on ``port`` of 127.0.0.1; yield its base URL; always stop it.

    The base URL is yielded once ``health_path`` answers 200. The server's output goes to
    ``log``, which the failure shows if the server exits or does not answer in ``timeout``.
    """
    with log.open("wb") as output:
        process = subprocess.Popen(
            list(command),
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    base_url = f"http://127.0.0.1:{port}"
    name = shlex.join(command)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                pytest.fail(f"{name} exited with {process.returncode}:\n{log.read_text()}")
            try:
                if httpx.get(f"{base_url}{health_path}", timeout=1.0).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"{name} did not answer {health_path}:\n{log.read_text()}")
            time.sleep(0.05)
        yield base_url
    finally:
        stop(process)


SCOPEGATE = Path(sys.executable).with_name("scopegate")


@contextmanager
def authserver(
    folder: Path, management_id: str, management_secret: str, *options: str
) -> Iterator[tuple[str, ManagementClient]]:
    """A real ``scopegate authserver`` on a free port, its SQLite file in ``folder``.

    Yields its base URL and a :class:`ManagementClient` holding a Management API token of
    the given management client; ``options`` are added to the command (``--dpop-nonce``).
    """
    assert SCOPEGATE.is_file(), "run: pip install -e . (the console script is missing)"
    port = free_port()
    env = subprocess_env(SCOPEGATE_AUTHSERVER_MANAGEMENT_CLIENT_SECRET=management_secret)
    command = [str(SCOPEGATE), "authserver", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--db", str(folder / "auth.db"), "--management-client-id", management_id]
    command += options
    with (
        serve(
            command,
            env,
            port,
            log=folder / "authserver.log",
            health_path="/.well-known/openid-configuration",
        ) as url,
        ManagementClient.with_client_credentials(
            url, management_id, management_secret, timeout=10.0
        ) as management,
    ):
        yield url, management


def uvicorn_command(app_dir: str | Path, port: int) -> list[str]:
    """``uvicorn main:app`` from ``app_dir`` on ``port`` of 127.0.0.1."""
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "--app-dir",
        str(app_dir),
        "main:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]


def gunicorn_command(chdir: str, port: int) -> list[str]:
    """``gunicorn app:app`` as the README runs it, plus one worker of four threads."""
    command = [sys.executable, "-m", "gunicorn", "--chdir", chdir]
    command += ["--bind", f"127.0.0.1:{port}", "app:app"]
    command += ["--worker-class", "gthread", "--workers", "1", "--threads", "4"]
    if "control_socket_disable" in Config().settings:
        # gunicorn 24+ opens a control socket at one path in $HOME; tests need none.
        command.append("--no-control-socket")
    return command


def example_env() -> dict[str, str]:
    """The environment minus any SCOPEGATE_* of the caller, with every setting given.

    Every setting is set so that a developer's .env beside an example (which
    environment variables override) cannot change what the server accepts.
    """
    return subprocess_env(
        SCOPEGATE_SIGNING_SECRET=SECRET,
        SCOPEGATE_IDENTIFIER=IDENTIFIER,
        SCOPEGATE_ISSUER=ISSUER,
        SCOPEGATE_ALGORITHMS="HS256",
        SCOPEGATE_LEEWAY="5",
        SCOPEGATE_SCOPE_CLAIMS="scope",
        SCOPEGATE_REALM="api",
        SCOPEGATE_ALLOW_WEAK_SECRET="false",
        SCOPEGATE_MAX_TOKEN_BYTES="8192",
    )


def example_token(*args: str) -> str:
    """A token from the README's ``scopegate token``, with ``example_env()``."""
    result = subprocess.run(
        [sys.executable, "-m", "scopegate", "token", *args],
        cwd=ROOT,
        env=example_env(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return result.stdout.strip()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
