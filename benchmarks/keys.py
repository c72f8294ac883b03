"""Asymmetric keys: RS256 and ES256 verification, and the p99 of requests during a JWKS refresh.

Verifier rows (interleaved with the others by ``benchmarks/timing.py``), one group per
algorithm, each against ``jwt.decode`` with the same key and the same checks:

- ``jwt.decode``, RS256 / ES256 (the baseline of the group);
- ``TokenVerifier.verify`` on a cache miss (full cache, evicting), keys from a JWK Set
  fetched from a local server (the same ``KeySet.select`` a static key uses);
- ``TokenVerifier.verify`` on a cache hit, which never touches a key: it should cost what
  the HS256 hit costs.

``refresh_p99`` serves the JWK Set from a server on 127.0.0.1 whose every answer takes
``delay`` seconds, keeps 8 concurrent request loops on one event loop calling
``authenticate_async`` (cache off, so each one verifies a signature), and compares the
latency percentiles of a steady phase with those of a phase where the set goes stale
every 50 ms, so a background refresh is almost always in flight.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from benchmarks.common import DECODE_KWARGS, IDENTIFIER, ISSUER, LEEWAY, claims
from benchmarks.timing import Batch, clock
from scopegate import Settings, TokenVerifier
from scopegate._protector import BearerProtector

KEY_ROWS = {
    "rs256_decode": ("RS256", "jwt.decode, RS256, same key and checks (baseline)"),
    "rs256_miss": ("RS256", "TokenVerifier.verify, RS256 from a JWKS, cache miss (evicting)"),
    "rs256_hit": ("RS256", "TokenVerifier.verify, RS256, cache hit"),
    "es256_decode": ("ES256", "jwt.decode, ES256, same key and checks (baseline)"),
    "es256_miss": ("ES256", "TokenVerifier.verify, ES256 from a JWKS, cache miss (evicting)"),
    "es256_hit": ("ES256", "TokenVerifier.verify, ES256, cache hit"),
}
BASELINE_OF = {"RS256": "rs256_decode", "ES256": "es256_decode"}
CACHE_SIZE = 500  # RS256 signing costs ~1 ms a token: 2 x 500 tokens to mint


def _token(token: Any) -> Any:
    """What the protector publishes here: the verified token itself (as on WSGI)."""
    return token


def _private(alg: str) -> Any:
    if alg == "ES256":
        return ec.generate_private_key(ec.SECP256R1())
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _jwk(alg: str, private: Any) -> dict[str, Any]:
    encoder = ECAlgorithm if alg == "ES256" else RSAAlgorithm
    jwk = encoder.to_jwk(private.public_key(), as_dict=True)
    return {**jwk, "kid": f"bench-{alg.lower()}", "alg": alg, "use": "sig"}


_SERVER = """
import json, sys, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
body, delay = sys.stdin.buffer.read(), float(sys.argv[1])

class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        time.sleep(delay)
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
"""


@contextmanager
def jwks_server(document: dict[str, Any], delay: float = 0.0) -> Iterator[str]:
    """A JWK Set on 127.0.0.1 (answering after ``delay`` s), in its own process.

    Its own process, not a thread: the authorization server is never in the API's
    process, and a thread would compete with the event loop for the GIL.
    """
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", _SERVER, str(delay)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    assert process.stdin is not None
    assert process.stdout is not None
    process.stdin.write(json.dumps(document).encode())
    process.stdin.close()
    port = int(process.stdout.readline())
    try:
        yield f"http://127.0.0.1:{port}/.well-known/jwks.json"
    finally:
        process.terminate()
        process.wait(10)
        process.stdout.close()


def _settings(url: str, alg: str, **values: Any) -> Settings:
    return Settings(
        _env_file=None,
        identifier=IDENTIFIER,
        issuer=ISSUER,
        leeway=LEEWAY,
        jwks_uri=url,
        algorithms=[alg],
        **values,
    )


def _timed_loop(call: Any, tokens: Iterator[str]) -> Batch:
    def batch(n: int) -> float:
        perf = clock()
        start = perf()
        for _ in range(n):
            call(next(tokens))
        return perf() - start

    return batch


def _hit_loop(verifier: TokenVerifier, token: str) -> Batch:
    """The same loop as the HS256 hit row (``benchmarks/verifier.py``), so they compare."""

    def hit(n: int) -> float:
        verify = verifier.verify
        perf = clock()
        start = perf()
        for _ in range(n):
            verify(token)
        return perf() - start

    return hit


def key_batches(stack: Any) -> dict[str, Batch]:
    """Batch functions for each key row; the JWK Set servers live as long as ``stack``."""
    batches: dict[str, Batch] = {}
    for alg in ("RS256", "ES256"):
        private = _private(alg)
        kid = f"bench-{alg.lower()}"
        url = stack.enter_context(jwks_server({"keys": [_jwk(alg, private)]}))
        pool = [
            jwt.encode(claims(jti=str(i)), private, algorithm=alg, headers={"kid": kid})
            for i in range(2 * CACHE_SIZE)
        ]
        public = private.public_key()
        kwargs = {**DECODE_KWARGS, "algorithms": [alg]}
        prefix = alg.lower()

        decode_tokens = itertools.cycle(pool)
        batches[f"{prefix}_decode"] = _timed_loop(
            lambda token, public=public, kwargs=kwargs: jwt.decode(token, public, **kwargs),
            decode_tokens,
        )
        miss = TokenVerifier(_settings(url, alg, cache_maxsize=CACHE_SIZE))
        protector = BearerProtector(None, verifier=miss, publish=_token)
        protector.authenticate([f"Bearer {pool[0]}"])  # fetches the set once
        for token in pool:
            miss.verify(token)
        if miss.cache is None or miss.cache.get(pool[0]) is not None:
            raise RuntimeError("the cache-miss benchmark would hit the cache")
        batches[f"{prefix}_miss"] = _timed_loop(miss.verify, itertools.cycle(pool))
        hit = TokenVerifier(_settings(url, alg))
        warm = BearerProtector(None, verifier=hit, publish=_token)
        warm.authenticate([f"Bearer {pool[0]}"])  # fetches the set
        # Cache the very string the loop sends, as the HS256 hit row does: the header
        # slice above is an equal but distinct string, and would cost a compare per hit.
        assert hit.cache is not None
        hit.cache.clear()
        hit.verify(pool[0])
        batches[f"{prefix}_hit"] = _hit_loop(hit, pool[0])
    return batches


def _percentiles(samples: list[float]) -> dict[str, float]:
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return {"p50_ms": cuts[49] * 1e3, "p99_ms": cuts[98] * 1e3, "count": float(len(samples))}


def refresh_p99(
    seconds: float = 3.0, delay: float = 0.2, workers: int = 8, rounds: int = 6
) -> dict[str, Any]:
    """p50/p99 of ``authenticate_async`` without and with background refreshes in flight.

    The two phases alternate, ``rounds`` times ``seconds / rounds`` each, so the
    noise of a shared machine hits both alike; the p99 of each phase is taken per
    round, and the results are the medians over rounds (the ratio too).
    """
    private = _private("RS256")
    kid = "bench-rs256"
    tokens = [
        jwt.encode(claims(jti=str(i)), private, algorithm="RS256", headers={"kid": kid})
        for i in range(200)
    ]
    header = [[f"Bearer {token}"] for token in tokens]
    window = seconds / rounds
    with jwks_server({"keys": [_jwk("RS256", private)] * 20}, delay=delay) as url:

        async def phase(protector: BearerProtector) -> list[float]:
            latencies: list[float] = []
            deadline = time.perf_counter() + window

            async def loop(offset: int) -> None:
                i = offset
                while time.perf_counter() < deadline:
                    started = time.perf_counter()
                    await protector.authenticate_async(header[i % len(header)])
                    latencies.append(time.perf_counter() - started)
                    i += workers
                    await asyncio.sleep(0)

            await asyncio.gather(*(loop(n) for n in range(workers)))
            return latencies

        async def run() -> dict[str, Any]:
            protectors = {
                name: BearerProtector(
                    _settings(
                        url, "RS256", cache_maxsize=0, jwks_cache_ttl=ttl, jwks_refresh_cooldown=0
                    ),
                    publish=_token,
                )
                for name, ttl in (("steady", 3600.0), ("refreshing", 0.05))
            }
            for protector in protectors.values():
                await protector.prefetch()
            fetched = {name: _fetches(p) for name, p in protectors.items()}
            samples: dict[str, list[dict[str, float]]] = {name: [] for name in protectors}
            for r in range(rounds):
                order = list(protectors) if r % 2 == 0 else list(reversed(protectors))
                for name in order:
                    samples[name].append(_percentiles(await phase(protectors[name])))
            await asyncio.sleep(delay * 2)  # let the last refresh finish
            result: dict[str, Any] = {}
            for name, protector in protectors.items():
                result[name] = {
                    "p50_ms": statistics.median(s["p50_ms"] for s in samples[name]),
                    "p99_ms": statistics.median(s["p99_ms"] for s in samples[name]),
                    "count": sum(s["count"] for s in samples[name]),
                    "fetches": _fetches(protector) - fetched[name],
                }
            result["p99_ratio"] = statistics.median(
                busy["p99_ms"] / calm["p99_ms"]
                for busy, calm in zip(samples["refreshing"], samples["steady"], strict=True)
            )
            return result

        result = asyncio.run(run())
    return {**result, "delay_ms": delay * 1e3, "workers": workers, "rounds": rounds}


def _fetches(protector: BearerProtector) -> int:
    source: Any = protector.verifier.key_source
    return int(source.fetches)
