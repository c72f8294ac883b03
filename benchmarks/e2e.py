"""End to end: real servers on 127.0.0.1 under a bounded load, requests per second.

ASGI variants run under uvicorn (one worker), WSGI variants under gunicorn (one
gthread worker, 4 threads); each server is its own process, loaded by
:mod:`benchmarks.loadgen` in another process, so on a 2-core machine the server
has one core and the load generator the other. All servers start first; then
every round loads each for a few seconds, in an order rotated from round to
round, so a slow moment of the machine hits all variants alike.

Besides requests per second (wall time, so sensitive to whatever else runs on
the machine), each round reads the CPU time the server's processes used, from
``/proc/<pid>/stat``, and reports it per request: the server's own cost, which
other processes' load barely moves.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.apps import BASELINES, VARIANTS
from benchmarks.common import PATH, mint

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
E2E_VARIANTS = [
    "starlette_bare",
    "starlette_scopegate",
    "starlette_pyjwt",
    "fastapi_bare",
    "fastapi_scopegate",
    "fastapi_tutorial",
    "flask_bare",
    "flask_scopegate",
    "flask_jwt_extended",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _env(name: str) -> dict[str, str]:
    env = dict(os.environ, BENCH_APP=name)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def server_command(name: str, port: int) -> list[str]:
    if VARIANTS[name].kind == "asgi":
        return [
            sys.executable,
            "-m",
            "uvicorn",
            "benchmarks.serve:app",
            "--host",
            HOST,
            "--port",
            str(port),
            "--workers",
            "1",
            "--log-level",
            "warning",
            "--no-access-log",
        ]
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "benchmarks.serve:app",
        "--bind",
        f"{HOST}:{port}",
        "--workers",
        "1",
        "--worker-class",
        "gthread",
        "--threads",
        "4",
        "--keep-alive",
        "5",
        "--log-level",
        "warning",
    ]


def _children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children", encoding="ascii") as file:
                found.extend(int(child) for child in file.read().split())
    except OSError:
        return found
    return found + [grandchild for child in found for grandchild in _children(child)]


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of ``pid`` and its descendants (Linux only)."""
    ticks = 0
    for process in [pid, *_children(pid)]:
        try:
            with open(f"/proc/{process}/stat", encoding="ascii") as file:
                fields = file.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return ticks / os.sysconf("SC_CLK_TCK")


def get(port: int, authorization: str | None) -> int:
    connection = http.client.HTTPConnection(HOST, port, timeout=5)
    try:
        headers = {} if authorization is None else {"Authorization": authorization}
        connection.request("GET", PATH, headers=headers)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    rps: list[float] = field(default_factory=list)
    p50_ms: list[float] = field(default_factory=list)
    cpu_us: list[float] = field(default_factory=list)  # server CPU time per request

    @classmethod
    def start(cls, name: str) -> Server:
        port = free_port()
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            server_command(name, port),
            cwd=ROOT,
            env=_env(name),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        return cls(name, port, process)

    def wait_ready(self, authorization: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                stderr = self.process.stderr.read().decode() if self.process.stderr else ""
                raise RuntimeError(f"server {self.name} exited: {stderr[-2000:]}")
            try:
                status = get(self.port, authorization)
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
                continue
            break
        if status != 200:
            raise RuntimeError(f"{self.name}: a valid token got {status}")
        if VARIANTS[self.name].protected and get(self.port, None) == 200:
            raise RuntimeError(f"{self.name}: a request without a token got 200")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def load(port: int, authorization: str, seconds: float, concurrency: int) -> dict[str, Any]:
    """Run the load generator in its own process against one server."""
    command = [
        sys.executable,
        "-m",
        "benchmarks.loadgen",
        "--port",
        str(port),
        "--path",
        PATH,
        "--authorization",
        authorization,
        "--seconds",
        str(seconds),
        "--concurrency",
        str(concurrency),
    ]
    done = subprocess.run(  # noqa: S603 - our own interpreter and arguments
        command, cwd=ROOT, env=_env(""), capture_output=True, check=True, timeout=seconds + 60
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def run_e2e(
    rounds: int = 5,
    seconds: float = 2.0,
    concurrency: int = 8,
    names: list[str] | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, dict[str, Any]]:
    """Requests per second of each variant (median over rounds) and its ratio to bare."""
    say = progress or (lambda message: None)
    authorization = f"Bearer {mint(jti='e2e')}"
    names = names or E2E_VARIANTS
    servers: list[Server] = []
    try:
        say(f"[e2e] starting {len(names)} servers on {HOST}")
        for name in names:
            servers.append(Server.start(name))
        for server in servers:
            say(f"[e2e] {VARIANTS[server.name].label}: checking and warming up")
            server.wait_ready(authorization)
            load(server.port, authorization, min(1.0, seconds), concurrency)  # warm-up
        for r in range(rounds):
            shift = r % len(servers)
            for server in [*servers[shift:], *servers[:shift]]:
                say(f"[e2e] {VARIANTS[server.name].label}, round {r + 1}/{rounds}")
                before = cpu_seconds(server.process.pid)
                result = load(server.port, authorization, seconds, concurrency)
                used = cpu_seconds(server.process.pid) - before
                if set(result["statuses"]) != {"200"}:
                    raise RuntimeError(f"{server.name}: unexpected statuses {result['statuses']}")
                server.rps.append(result["rps"])
                server.p50_ms.append(result["p50_ms"])
                server.cpu_us.append(used / max(1, result["requests"]) * 1e6)
    finally:
        for server in servers:
            server.stop()
    by_name = {server.name: server for server in servers}
    results: dict[str, dict[str, Any]] = {}
    for server in servers:
        base = by_name.get(BASELINES[VARIANTS[server.name].framework])
        ratios, cpu_ratios = [], []
        if base is not None:
            ratios = [s / b for s, b in zip(server.rps, base.rps, strict=True)]
            cpu_ratios = [s / b for s, b in zip(server.cpu_us, base.cpu_us, strict=True)]
        results[server.name] = {
            "rps": statistics.median(server.rps),
            "rps_rounds": server.rps,
            "p50_ms": statistics.median(server.p50_ms),
            "ratio": statistics.median(ratios) if ratios else None,
            "cpu_us": statistics.median(server.cpu_us),
            "cpu_us_rounds": server.cpu_us,
            "cpu_ratio": statistics.median(cpu_ratios) if cpu_ratios else None,
            "server": "uvicorn" if VARIANTS[server.name].kind == "asgi" else "gunicorn",
        }
    return results
