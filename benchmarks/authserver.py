"""What a token request costs the local authorization server, before and after the HMAC.

Three measurements, all in one run on one machine:

1. **Secret verification** in process: the old scrypt check (``scrypt$16384$8$1$...``,
   still verified for databases written before) against the HMAC-SHA-256 check
   that replaced it, interleaved round by round.
2. **Token requests per second** from real servers: ``python -m scopegate.authserver``
   from this checkout ("after") and from ``--before`` (a git ref, default ``main``;
   its ``src/`` is extracted with ``git archive`` into a temporary folder), one
   after the other, each loaded with valid client credentials by a separate
   load-generator process. Server CPU per request and peak RSS come from
   ``/proc`` (Linux only).
3. **Latency under a flood of bad credentials**: one legitimate token request
   every 20 ms against an idle server, then the same while another process
   sends wrong secrets for an unknown client as fast as ``--flood-concurrency``
   connections allow; median and 95th percentile of both, for both servers.

Only 127.0.0.1 is ever contacted. Run::

    pip install -e '.[authserver]'
    python benchmarks/authserver.py                # about 1 minute
    python benchmarks/authserver.py --before HEAD~3 --seconds 5

Results go to stdout as Markdown; the last run is in ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import json
import os
import re
import secrets
import socket
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
STARTUP_TIMEOUT = 30.0


# -- 1. verification in process ------------------------------------------------------


def legacy_hash(secret: str) -> str:
    """The stored form scopegate wrote before: scrypt, n=2**14, r=8, p=1."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(secret.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32)
    b64 = base64.b64encode
    return f"scrypt$16384$8$1${b64(salt).decode()}${b64(digest).decode()}"


def verification(rounds: int) -> dict[str, float]:
    """Median µs per check: scrypt (old), HMAC right secret, HMAC unknown client."""
    sys.path.insert(0, str(ROOT / "src"))
    from scopegate.authserver import credentials

    secret = credentials.new_client_secret()
    old, new = legacy_hash(secret), credentials.hash_secret(secret)
    rows: dict[str, list[float]] = {"scrypt": [], "hmac": [], "hmac-unknown": []}
    cases = {
        "scrypt": (secret, old, 5),
        "hmac": (secret, new, 2000),
        "hmac-unknown": (secret, credentials.dummy_hash(), 2000),
    }
    for _ in range(rounds):
        for name, (candidate, stored, batch) in cases.items():
            start = time.perf_counter()
            for _ in range(batch):
                credentials.verify_secret(candidate, stored)
            rows[name].append((time.perf_counter() - start) / batch * 1e6)
    return {name: statistics.median(values) for name, values in rows.items()}


# -- servers --------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


@dataclass
class Server:
    popen: subprocess.Popen[str]
    port: int
    client_id: str
    client_secret: str
    audience: str


@contextmanager
def authserver(pythonpath: Path, folder: Path) -> Iterator[Server]:
    """``python -m scopegate.authserver`` with ``pythonpath`` first, on a fresh database."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCOPEGATE_")}
    env["PYTHONPATH"] = str(pythonpath)
    db = folder / f"bench-{port}.db"
    command = [sys.executable, "-m", "scopegate.authserver", "--port", str(port)]
    popen = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        [*command, "--db", str(db), "--log-level", "warning"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    try:
        found: dict[str, str] = {}
        assert popen.stdout is not None
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while len(found) < 3 and time.monotonic() < deadline:
            line = popen.stdout.readline()
            if not line:
                raise RuntimeError("the authorization server exited")
            match = re.match(r"\s*(client_id|client_secret|audience):\s+(\S+)", line)
            if match:
                found[match.group(1)] = match.group(2)
        while True:  # the port is open once uvicorn has started
            try:
                socket.create_connection((HOST, port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("the authorization server did not start") from None
                time.sleep(0.05)
        yield Server(popen, port, found["client_id"], found["client_secret"], found["audience"])
    finally:
        popen.terminate()
        try:
            popen.wait(10)
        except subprocess.TimeoutExpired:
            popen.kill()
            popen.wait()


def token_request(port: int, client_id: str, secret: str, audience: str) -> bytes:
    body = urlencode(
        {
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": secret,
            "audience": audience,
        }
    ).encode()
    head = (
        f"POST /oauth/token HTTP/1.1\r\nHost: {HOST}:{port}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


# -- load: keep-alive connections sending one request after another -------------------


async def _exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> int:
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    length = next(
        int(line.split(":", 1)[1]) for line in lines if line.lower().startswith("content-length:")
    )
    await reader.readexactly(length)
    return int(lines[0].split(" ", 2)[1])


async def _load(
    port: int, request: bytes, concurrency: int, seconds: float, rate: float
) -> dict[str, Any]:
    """``concurrency`` connections for ``seconds``; at most ``rate`` requests/s in all
    (0: each sends its next request as soon as the answer to the last arrives)."""
    deadline = time.perf_counter() + seconds
    statuses: dict[int, int] = {}
    interval = concurrency / rate if rate else 0.0

    async def worker(offset: float) -> None:
        reader, writer = await asyncio.open_connection(HOST, port)
        due = time.perf_counter() + offset
        try:
            while time.perf_counter() < deadline:
                if interval:
                    await asyncio.sleep(max(0.0, due - time.perf_counter()))
                    due += interval
                status = await _exchange(reader, writer, request)
                statuses[status] = statuses.get(status, 0) + 1
        finally:
            writer.close()

    start = time.perf_counter()
    await asyncio.gather(*(worker(i * interval / concurrency) for i in range(concurrency)))
    elapsed = time.perf_counter() - start
    return {"rps": sum(statuses.values()) / elapsed, "statuses": statuses}


async def _probe(port: int, request: bytes, seconds: float, interval: float) -> list[float]:
    reader, writer = await asyncio.open_connection(HOST, port)
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds
    try:
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            status = await _exchange(reader, writer, request)
            if status != 200:
                raise RuntimeError(f"a legitimate token request got {status}")
            latencies.append(time.perf_counter() - start)
            await asyncio.sleep(max(0.0, interval - (time.perf_counter() - start)))
    finally:
        writer.close()
    return latencies


def load_process(
    port: int, request: bytes, concurrency: int, seconds: float, rate: float = 0.0
) -> Any:
    """The load generator in a process of its own: returns its Popen (JSON on stdout)."""
    payload = base64.b64encode(request).decode()
    args = ["--load", str(port), payload, str(concurrency), str(seconds), str(rate)]
    return subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        [sys.executable, __file__, *args], stdout=subprocess.PIPE, text=True, cwd=ROOT
    )


def throughput(server: Server, concurrency: int, seconds: float) -> dict[str, Any]:
    request = token_request(server.port, server.client_id, server.client_secret, server.audience)
    cpu_before = cpu_seconds(server.popen.pid)
    loader = load_process(server.port, request, concurrency, seconds)
    out, _ = loader.communicate()
    result: dict[str, Any] = json.loads(out)
    served = sum(result["statuses"].values())
    result["cpu_ms"] = (cpu_seconds(server.popen.pid) - cpu_before) / max(served, 1) * 1000
    return result


def flood_latency(
    server: Server, concurrency: int, seconds: float, rates: list[float]
) -> dict[str, Any]:
    """Legitimate latency idle, then under a bad-credential flood at each of ``rates``."""
    good = token_request(server.port, server.client_id, server.client_secret, server.audience)
    bad = token_request(server.port, "no-such-client", "x" * 64, server.audience)
    result: dict[str, Any] = {
        "idle": _percentiles(asyncio.run(_probe(server.port, good, seconds, 0.02)))
    }
    for rate in rates:
        flood = load_process(server.port, bad, concurrency, seconds + 1.0, rate)
        time.sleep(0.5)  # let the flood build up
        flooded = asyncio.run(_probe(server.port, good, seconds, 0.02))
        out, _ = flood.communicate()
        flood_result = json.loads(out)
        result[rate] = {**_percentiles(flooded), "flood_rps": flood_result["rps"]}
    result["peak_rss_mib"] = peak_rss_mib(server.popen.pid)
    return result


def _percentiles(latencies: list[float]) -> dict[str, float]:
    ordered = sorted(latencies)
    return {
        "p50_ms": statistics.median(ordered) * 1000,
        "p95_ms": ordered[int(len(ordered) * 0.95) - 1] * 1000,
        "n": len(ordered),
    }


# -- the report -----------------------------------------------------------------------


def extract(ref: str, folder: Path) -> Path:
    """``src/`` of git ``ref``, extracted under ``folder``."""
    command = ["git", "-C", str(ROOT), "archive", "--format=tar", ref, "src"]
    archive = subprocess.run(  # noqa: S603 - git with our own arguments
        command,
        check=True,
        capture_output=True,
    ).stdout
    target = folder / "before"
    target.mkdir()
    archive_path = folder / "before.tar"
    archive_path.write_bytes(archive)
    with tarfile.open(archive_path) as tar:
        tar.extractall(target, filter="data")
    return target / "src"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", default="main", help="git ref of the 'before' server")
    parser.add_argument("--seconds", type=float, default=5.0, help="length of each load run")
    parser.add_argument("--concurrency", type=int, default=8, help="connections, throughput")
    parser.add_argument(
        "--flood-concurrency", type=int, default=16, help="connections of the bad-credential flood"
    )
    parser.add_argument(
        "--flood-rate",
        type=float,
        action="append",
        help="bad requests/s of a flood (repeatable; 0: as fast as the server answers); "
        "default: 500 and 0",
    )
    parser.add_argument("--rounds", type=int, default=7, help="rounds of the in-process timing")
    args = parser.parse_args(argv)
    args.flood_rate = args.flood_rate or [500.0, 0.0]

    print("verifying secrets in process...", file=sys.stderr)
    micro = verification(args.rounds)
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="scopegate-bench-") as tmp:
        folder = Path(tmp)
        sources = {f"before ({args.before})": extract(args.before, folder), "after": ROOT / "src"}
        for name, src in sources.items():
            print(f"{name}: token requests per second...", file=sys.stderr)
            with authserver(src, folder) as server:
                rate = throughput(server, args.concurrency, args.seconds)
            print(f"{name}: latency, idle and under a flood...", file=sys.stderr)
            with authserver(src, folder) as server:
                flooded = flood_latency(
                    server, args.flood_concurrency, args.seconds, args.flood_rate
                )
                results[name] = {"rate": rate, **flooded}
    print(report(micro, results, args))
    return 0


def report(micro: dict[str, float], results: dict[str, dict[str, Any]], args: Any) -> str:
    lines = [
        "## Local authorization server: token requests",
        "",
        f"`python benchmarks/authserver.py --before {args.before} --seconds {args.seconds:g} "
        f"--concurrency {args.concurrency} --flood-concurrency {args.flood_concurrency}` "
        f"({os.cpu_count()} CPUs, Python {sys.version.split()[0]}).",
        "",
        "Secret verification, in process (median µs per check):",
        "",
        "| check | µs |",
        "|---|---:|",
        "| scrypt n=2^14 r=8 p=1 (before; legacy hashes still verify this way) "
        f"| {micro['scrypt']:,.0f} |",
        f"| HMAC-SHA-256, right secret (after) | {micro['hmac']:.1f} |",
        f"| HMAC-SHA-256, unknown client (dummy hash) | {micro['hmac-unknown']:.1f} |",
        "",
        "Real servers (`python -m scopegate.authserver`, uvicorn, one process), loaded from "
        "another process. Throughput: valid client credentials on "
        f"{args.concurrency} keep-alive connections:",
        "",
        "| server | valid token requests/s | server CPU ms/request | peak RSS MiB (after floods) |",
        "|---|---:|---:|---:|",
    ]
    for name, row in results.items():
        lines.append(
            f"| {name} | {row['rate']['rps']:,.0f} | {row['rate']['cpu_ms']:.2f} "
            f"| {row['peak_rss_mib']:.0f} |"
        )
    lines += [
        "",
        "Latency of one legitimate token request every 20 ms (p50 / p95 ms), idle and while "
        f"another process floods /oauth/token with wrong credentials on "
        f"{args.flood_concurrency} connections (a rate of 0 is as fast as the server answers):",
        "",
        "| server | idle | "
        + " | ".join(f"flood {_rate(rate)}" for rate in args.flood_rate)
        + " |",
        "|---|---:|" + "---:|" * len(args.flood_rate),
    ]
    for name, row in results.items():
        idle = row["idle"]
        cells = [f"{idle['p50_ms']:.1f} / {idle['p95_ms']:.1f}"]
        for rate in args.flood_rate:
            flood = row[rate]
            cells.append(
                f"{flood['p50_ms']:.1f} / {flood['p95_ms']:.1f} "
                f"(x{flood['p50_ms'] / idle['p50_ms']:.1f}; {flood['flood_rps']:,.0f} bad/s served)"
            )
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _rate(rate: float) -> str:
    return f"{rate:,.0f}/s" if rate else "unbounded"


def _load_main(port: str, payload: str, concurrency: str, seconds: str, rate: str) -> int:
    request = base64.b64decode(payload)
    result = asyncio.run(_load(int(port), request, int(concurrency), float(seconds), float(rate)))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 7 and sys.argv[1] == "--load":
        sys.exit(_load_main(*sys.argv[2:]))
    sys.exit(main())
