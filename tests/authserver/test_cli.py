"""``python -m scopegate.authserver``: a real process, its printed credentials, a restart."""

from __future__ import annotations

import os
import queue
import signal
import ssl
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from helpers import InProcessCli, subprocess_env
from live_server import free_port, stop
from scopegate.cli.authserver import main as authserver_main

STARTUP_TIMEOUT = 15.0


class Process:
    def __init__(self, popen: subprocess.Popen[str]) -> None:
        self.popen = popen
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.popen.stdout is not None
        for line in self.popen.stdout:
            self.lines.put(line.rstrip("\n"))

    def read_until(self, prefix: str) -> list[str]:
        """Lines printed up to and including the first starting with ``prefix``."""
        seen: list[str] = []
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.1)
            except queue.Empty:
                if self.popen.poll() is not None:
                    break
                continue
            seen.append(line)
            if line.strip().startswith(prefix):
                return seen
        pytest.fail(f"no line starting with {prefix!r}; got {seen}")


@contextmanager
def authserver(*args: str, env: dict[str, str] | None = None) -> Iterator[Process]:
    popen = subprocess.Popen(
        [sys.executable, "-m", "scopegate.authserver", "--log-level", "warning", *args],
        env=env or subprocess_env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        yield Process(popen)
    finally:
        stop(popen)
        assert popen.stdout is not None
        popen.stdout.close()


def wait_ready(base_url: str) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        try:
            httpx.post(f"{base_url}/oauth/token", data={}, timeout=1.0)
            return
        except httpx.TransportError:
            time.sleep(0.05)
    pytest.fail("the server did not answer")


def field(lines: list[str], name: str) -> str:
    return next(line.split(":", 1)[1].strip() for line in lines if line.strip().startswith(name))


def test_first_start_prints_credentials_once_and_restart_keeps_data(tmp_path: Path) -> None:
    db = str(tmp_path / "cli.db")
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    with authserver("--port", str(port), "--db", db) as server:
        lines = server.read_until("token URL:")
        client_id, secret = field(lines, "client_id"), field(lines, "client_secret")
        assert field(lines, "audience") == f"{base_url}/api/v2/"
        wait_ready(base_url)
        form = {
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": secret,
            "audience": f"{base_url}/api/v2/",
        }
        token = httpx.post(f"{base_url}/oauth/token", data=form).json()["access_token"]
        created = httpx.post(
            f"{base_url}/api/v2/resource-servers",
            json={"identifier": "https://my-api-urn"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert created.status_code == 201
    # uvicorn shuts down gracefully, then re-raises SIGTERM so the exit status reports it.
    assert server.popen.returncode in (0, -signal.SIGTERM)

    # Settings from the environment; the secret is not printed again.
    env = subprocess_env(SCOPEGATE_AUTHSERVER_PORT=str(port), SCOPEGATE_AUTHSERVER_DB=db)
    with authserver(env=env) as server:
        lines = server.read_until("scopegate authserver: management client")
        assert client_id in lines[-1]
        assert secret not in "\n".join(lines)
        wait_ready(base_url)
        token = httpx.post(f"{base_url}/oauth/token", data=form).json()["access_token"]
        api = httpx.get(
            f"{base_url}/api/v2/resource-servers/https%3A%2F%2Fmy-api-urn",
            headers={"Authorization": f"Bearer {token}"},
        )
        assert api.status_code == 200
        assert api.json()["identifier"] == "https://my-api-urn"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(
            ["--management-client-id", "x", "--management-client-secret", "short"],
            "scopegate authserver: error: management_client_secret: must be 32 to 512",
            id="weak-secret",
        ),
        pytest.param(["--base-url", "ftp://x"], "scopegate authserver: error: base_url", id="url"),
        pytest.param(["--port", "0"], "is not a port from 1 to 65535", id="port"),
        pytest.param(
            ["--db", "/nonexistent/dir/a.db"],
            "scopegate authserver: error: db: cannot open /nonexistent/dir/a.db",
            id="db",
        ),
    ],
)
def test_bad_options_exit_2(
    cli: InProcessCli, tmp_path: Path, args: list[str], message: str
) -> None:
    result = cli("--db", str(tmp_path / "x.db"), *args, main=authserver_main)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_a_bad_option_exits_2_through_the_entry_point(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "scopegate.authserver", "--db", "/nonexistent/dir/a.db"],
        env=subprocess_env(),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith("scopegate authserver: error: db: cannot open ")


def test_tls_makes_a_certificate_once_and_serves_https(tmp_path: Path) -> None:
    db = str(tmp_path / "tls.db")
    port = free_port()
    base_url = f"https://127.0.0.1:{port}"
    for first in (True, False):
        with authserver("--port", str(port), "--db", db, "--tls") as server:
            lines = server.read_until(
                "scopegate authserver: management client" if not first else "token URL:"
            )
            made = "scopegate authserver: made a certificate for 127.0.0.1, ::1 and localhost: "
            reused = "scopegate authserver: TLS: "
            assert lines[0] == (made if first else reused) + f"{db}-cert.pem (key {db}-key.pem)"
            assert lines[1] == f"  trust its CA:  {db}-ca.pem"
            assert f"NODE_EXTRA_CA_CERTS={db}-ca.pem" in lines[2]
            if first:
                assert field(lines, "audience") == f"{base_url}/api/v2/"
            deadline = time.monotonic() + STARTUP_TIMEOUT
            while True:
                try:
                    response = httpx.post(
                        f"{base_url}/oauth/token",
                        data={},
                        verify=ssl.create_default_context(cafile=f"{db}-ca.pem"),
                        timeout=2.0,
                    )
                    break
                except httpx.ConnectError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)
            assert response.status_code == 400
            assert response.json()["error"] == "invalid_request"
            for name in ("localhost", "127.0.0.1"):
                with pytest.raises(httpx.ConnectError):  # not trusted without the CA
                    httpx.post(f"https://{name}:{port}/oauth/token", data={}, timeout=2.0)
    assert stat.S_IMODE(os.stat(f"{db}-key.pem").st_mode) == 0o600


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(
            ["--db", ":memory:", "--tls"],
            "scopegate authserver: error: tls: --tls keeps its certificate beside the database",
            id="tls-in-memory",
        ),
        pytest.param(
            ["--certfile", "/nonexistent.pem"],
            "scopegate authserver: error: tls: --certfile and --keyfile go together",
            id="certfile-alone",
        ),
        pytest.param(
            ["--certfile", "/nonexistent.pem", "--keyfile", "/nonexistent-key.pem"],
            "scopegate authserver: error: tls: cannot use --certfile /nonexistent.pem",
            id="missing-files",
        ),
    ],
)
def test_bad_tls_options_exit_2(
    cli: InProcessCli, tmp_path: Path, args: list[str], message: str
) -> None:
    result = cli("--db", str(tmp_path / "x.db"), *args, main=authserver_main)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert message in result.stderr
