"""A small, bounded HTTP/1.1 load generator for loopback servers.

``concurrency`` keep-alive connections each send one request, read the whole
response, and send the next, until ``max_requests`` responses have arrived or
``seconds`` have passed, whichever comes first. Only 127.0.0.1 (or another
loopback address) is accepted as a target. Run it as a separate process
(``python -m benchmarks.loadgen``) so it does not share an interpreter with the
server; it prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import json
import statistics
import time
from typing import Any


class _Connection(asyncio.Protocol):
    """One keep-alive connection issuing requests back to back."""

    def __init__(self, run: _Run) -> None:
        self.run = run
        self.buffer = bytearray()
        self.expected: int | None = None
        self.sent_at = 0.0
        self.transport: asyncio.Transport | None = None
        self.closed = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self._send()

    def _send(self) -> None:
        assert self.transport is not None
        if not self.run.claim():
            self.transport.close()
            return
        self.sent_at = time.perf_counter()
        self.transport.write(self.run.request)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            if self.expected is None:
                end = self.buffer.find(b"\r\n\r\n")
                if end < 0:
                    return
                head = bytes(self.buffer[:end]).decode("latin-1")
                length = 0
                close = False
                for line in head.split("\r\n")[1:]:
                    name, _, value = line.partition(":")
                    name = name.strip().lower()
                    if name == "content-length":
                        length = int(value)
                    elif name == "connection" and value.strip().lower() == "close":
                        close = True
                    elif name == "transfer-encoding":
                        raise RuntimeError("chunked responses are not supported")
                self.status = int(head.split(" ", 2)[1])
                self.must_close = close
                self.expected = end + 4 + length
            if len(self.buffer) < self.expected:
                return
            del self.buffer[: self.expected]
            self.expected = None
            self.run.record(self.status, time.perf_counter() - self.sent_at)
            if self.must_close:
                assert self.transport is not None
                self.transport.close()
                return
            self._send()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)


class _Run:
    def __init__(self, request: bytes, max_requests: int, deadline: float) -> None:
        self.request = request
        self.max_requests = max_requests
        self.deadline = deadline
        self.issued = 0
        self.statuses: dict[int, int] = {}
        self.latencies: list[float] = []

    def claim(self) -> bool:
        if self.issued >= self.max_requests or time.perf_counter() >= self.deadline:
            return False
        self.issued += 1
        return True

    def record(self, status: int, latency: float) -> None:
        self.statuses[status] = self.statuses.get(status, 0) + 1
        self.latencies.append(latency)


async def load(
    host: str,
    port: int,
    path: str,
    authorization: str | None,
    *,
    concurrency: int = 16,
    seconds: float = 3.0,
    max_requests: int = 200_000,
) -> dict[str, Any]:
    """Load ``http://host:port/path``; returns requests per second, statuses and latencies."""
    if not ipaddress.ip_address(host).is_loopback:
        raise ValueError("the load generator only targets loopback addresses")
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}:{port}", "User-Agent: scopegate-bench"]
    if authorization is not None:
        lines.append(f"Authorization: {authorization}")
    request = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    loop = asyncio.get_running_loop()
    start = time.perf_counter()
    run = _Run(request, max_requests, start + seconds)
    connections: list[_Connection] = []
    while run.issued < run.max_requests and time.perf_counter() < run.deadline:
        # Reopen connections the server closed until the time or count budget is spent.
        live = [c for c in connections if not c.closed.done()]
        for _ in range(concurrency - len(live)):
            _, protocol = await loop.create_connection(lambda: _Connection(run), host, port)
            connections.append(protocol)
        await asyncio.wait(
            [c.closed for c in connections if not c.closed.done()],
            timeout=max(0.0, run.deadline - time.perf_counter()),
            return_when=asyncio.FIRST_COMPLETED,
        )
    # Let the requests in flight finish: each connection closes once it may send no more.
    pending = [c.closed for c in connections if not c.closed.done()]
    if pending:
        await asyncio.wait(pending, timeout=5.0)
    for connection in connections:
        if connection.transport is not None:
            connection.transport.close()
    elapsed = time.perf_counter() - start
    done = len(run.latencies)
    latencies = sorted(run.latencies) or [0.0]
    return {
        "requests": done,
        "seconds": elapsed,
        "rps": done / elapsed if elapsed else 0.0,
        "statuses": {str(k): v for k, v in sorted(run.statuses.items())},
        "p50_ms": statistics.median(latencies) * 1e3,
        "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1e3,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", default="/")
    parser.add_argument("--authorization", default=None)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--max-requests", type=int, default=200_000)
    args = parser.parse_args(argv)
    result = asyncio.run(
        load(
            args.host,
            args.port,
            args.path,
            args.authorization,
            concurrency=args.concurrency,
            seconds=args.seconds,
            max_requests=args.max_requests,
        )
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
