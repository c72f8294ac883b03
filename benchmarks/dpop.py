"""DPoP (RFC 9449): what a DPoP request adds over a Bearer cache hit, against one signature check.

One group per proof algorithm (ES256, RS256), interleaved by ``benchmarks/timing.py``:

- ``cryptography`` verifying one signature of that algorithm over a proof-sized
  input (the baseline: the one cost a proof cannot avoid);
- a Bearer request answered from the header cache, through scopegate's ASGI
  middleware and through its WSGI middleware (in front of a trivial app);
- a DPoP request with a fresh proof each time (its own ``jti``, so the replay
  store records every one), through the same middlewares. The access token is
  the same bound token throughout, so its verification is a token-cache hit,
  as it is for a client that keeps its token: what is measured is the proof.

The figure with the target is the *added cost*: per round, (DPoP request -
Bearer hit) / signature check, then the median over rounds; target ≤ 1.3x
(issue 13: the rest of proof checking must be small next to the signature).

Proofs are signed before timing (an RS256 signature costs about 1 ms); the
pool is reused, and the replay store is swapped for an empty one each time the
pool wraps round, outside the timed requests' accounting only in that it is
one store construction per pool.

    python -m benchmarks.dpop              # just these rows (about 30 s)
    python -m benchmarks.dpop --rounds 21
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import jwt
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from benchmarks.common import PATH, make_settings, mint
from benchmarks.inprocess import asgi_scope, wsgi_environ
from benchmarks.timing import Batch, Case, clock, run_rounds

__all__ = [
    "DPOP_ROWS",
    "DPOP_TARGET",
    "dpop_batches",
    "dpop_results",
    "dpop_table_rows",
    "dpop_verdicts",
]

ALGORITHMS = ("ES256", "RS256")
URL = "http://127.0.0.1:8000" + PATH  # what benchmarks.inprocess requests
POOL = {"ES256": 4000, "RS256": 1500}
DPOP_ROWS = {
    f"{alg.lower()}_{row}": (alg, label)
    for alg in ALGORITHMS
    for row, label in (
        ("signature", f"cryptography: one {alg} signature check (baseline)"),
        ("asgi_bearer_hit", "ASGI middleware, Bearer, header-cache hit"),
        ("asgi_dpop", f"ASGI middleware, DPoP, fresh {alg} proof"),
        ("wsgi_bearer_hit", "WSGI middleware, Bearer, header-cache hit"),
        ("wsgi_dpop", f"WSGI middleware, DPoP, fresh {alg} proof"),
    )
}
DPOP_TARGET = 1.3


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _thumbprint(jwk: dict[str, Any]) -> str:
    members = ("crv", "kty", "x", "y") if jwk["kty"] == "EC" else ("e", "kty", "n")
    canonical = json.dumps({m: jwk[m] for m in members}, separators=(",", ":"), sort_keys=True)
    return _b64url(hashlib.sha256(canonical.encode()).digest())


def _key(alg: str) -> Any:
    if alg == "ES256":
        return ec.generate_private_key(ec.SECP256R1())
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _signature_check(alg: str, private: Any, data: bytes) -> Batch:
    """One verification with ``cryptography`` itself: DER ECDSA or PKCS#1 v1.5, SHA-256."""
    public = private.public_key()
    if alg == "ES256":
        signature = private.sign(data, ec.ECDSA(hashes.SHA256()))

        def verify() -> None:
            public.verify(signature, data, ec.ECDSA(hashes.SHA256()))

    else:
        signature = private.sign(data, padding.PKCS1v15(), hashes.SHA256())

        def verify() -> None:
            public.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())

    def batch(n: int) -> float:
        perf = clock()
        start = perf()
        for _ in range(n):
            verify()
        return perf() - start

    return batch


async def _asgi_app(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


def _wsgi_app(environ: Any, start_response: Any) -> list[bytes]:
    start_response("200 OK", [])
    return [b"ok"]


async def _receive() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


async def _discard(message: dict[str, Any]) -> None:
    return None


def _start_response(status: str, headers: Any, exc_info: Any = None) -> None:
    return None


class _Apps:
    """The ASGI and WSGI middlewares of one algorithm's rows, and their proofs."""

    def __init__(self, alg: str) -> None:
        import asyncio

        from scopegate.asgi import BearerAuthMiddleware as Asgi
        from scopegate.wsgi import BearerAuthMiddleware as Wsgi

        self.loop = asyncio.new_event_loop()
        private = _key(alg)
        encoder = jwt.get_algorithm_by_name(alg)
        jwk = json.loads(encoder.to_jwk(private.public_key()))  # type: ignore[attr-defined]
        self.token = mint(cnf={"jkt": _thumbprint(jwk)})
        self.bearer = mint(jti="bench-bearer")
        ath = _b64url(hashlib.sha256(self.token.encode()).digest())
        now = int(time.time())
        self.proofs = [
            jwt.encode(
                {"jti": str(uuid.uuid4()), "htm": "GET", "htu": URL, "iat": now, "ath": ath},
                private,
                algorithm=alg,
                headers={"typ": "dpop+jwt", "jwk": jwk},
            )
            for _ in range(POOL[alg])
        ]
        head, payload, _ = self.proofs[0].split(".")
        self.signing_input = f"{head}.{payload}".encode()
        self.private = private
        # Proofs are signed before the run: allow them the run's length.
        settings = make_settings(dpop_algorithms=[alg], dpop_max_age=3600)
        self.asgi = Asgi(_asgi_app, settings)
        self.wsgi = Wsgi(_wsgi_app, settings)

    def _new_store(self, middleware: Any) -> None:
        from scopegate._replay import MemoryReplayStore

        middleware.protector._dpop.store = MemoryReplayStore()

    def asgi_bearer(self) -> Batch:
        template = asgi_scope(f"Bearer {self.bearer}")
        app = self.asgi

        async def run(n: int) -> float:
            perf = clock()
            start = perf()
            for _ in range(n):
                await app(dict(template), _receive, _discard)
            return perf() - start

        return lambda n: self.loop.run_until_complete(run(n))

    def _asgi_scopes(self) -> list[dict[str, Any]]:
        scopes = []
        for proof in self.proofs:
            scope = asgi_scope(f"DPoP {self.token}")
            scope["headers"].append((b"dpop", proof.encode()))
            scopes.append(scope)
        return scopes

    def asgi_dpop(self) -> Batch:
        scopes = self._asgi_scopes()
        app = self.asgi
        position = [0]

        async def run(n: int) -> float:
            perf = clock()
            start = perf()
            i = position[0]
            for _ in range(n):
                if i == len(scopes):
                    self._new_store(app)
                    i = 0
                await app(dict(scopes[i]), _receive, _discard)
                i += 1
            position[0] = i
            return perf() - start

        return lambda n: self.loop.run_until_complete(run(n))

    def wsgi_bearer(self) -> Batch:
        template = wsgi_environ(f"Bearer {self.bearer}")
        app = self.wsgi

        def run(n: int) -> float:
            perf = clock()
            start = perf()
            for _ in range(n):
                for _chunk in app(dict(template), _start_response):
                    pass
            return perf() - start

        return run

    def wsgi_dpop(self) -> Batch:
        environs = []
        for proof in self.proofs:
            environ = wsgi_environ(f"DPoP {self.token}")
            environ["HTTP_DPOP"] = proof
            environs.append(environ)
        app = self.wsgi
        position = [0]

        def run(n: int) -> float:
            perf = clock()
            start = perf()
            i = position[0]
            for _ in range(n):
                if i == len(environs):
                    self._new_store(app)
                    i = 0
                for _chunk in app(dict(environs[i]), _start_response):
                    pass
                i += 1
            position[0] = i
            return perf() - start

        return run

    def check(self) -> None:
        """Every row answers 200 (a refused request would be measured as fast)."""
        for authorization, proof in ((f"Bearer {self.bearer}", None), (f"DPoP {self.token}", 0)):
            statuses: list[int] = []

            async def send(message: dict[str, Any], statuses: list[int] = statuses) -> None:
                if message["type"] == "http.response.start":
                    statuses.append(message["status"])

            scope = asgi_scope(authorization)
            environ = wsgi_environ(authorization)
            environ["wsgi.input"] = io.BytesIO(b"")
            if proof is not None:
                scope["headers"].append((b"dpop", self.proofs[-1].encode()))
                environ["HTTP_DPOP"] = self.proofs[-2]
            self.loop.run_until_complete(self.asgi(scope, _receive, send))
            wsgi_status: list[str] = []

            def start(status: str, headers: Any, exc: Any = None, seen: Any = wsgi_status) -> None:
                seen.append(status)

            body = self.wsgi(environ, start)
            if statuses != [200] or not wsgi_status[0].startswith("200") or body != [b"ok"]:
                raise RuntimeError(f"DPoP benchmark app refused {authorization[:10]}...")
        self._new_store(self.asgi)
        self._new_store(self.wsgi)


def dpop_batches() -> dict[str, Batch]:
    """Batch functions for every DPoP row (keys of :data:`DPOP_ROWS`)."""
    batches: dict[str, Batch] = {}
    for alg in ALGORITHMS:
        apps = _Apps(alg)
        apps.check()
        prefix = alg.lower()
        batches[f"{prefix}_signature"] = _signature_check(alg, apps.private, apps.signing_input)
        batches[f"{prefix}_asgi_bearer_hit"] = apps.asgi_bearer()
        batches[f"{prefix}_asgi_dpop"] = apps.asgi_dpop()
        batches[f"{prefix}_wsgi_bearer_hit"] = apps.wsgi_bearer()
        batches[f"{prefix}_wsgi_dpop"] = apps.wsgi_dpop()
    return batches


def _added(dpop: Case, hit: Case, signature: Case) -> float:
    return statistics.median(
        (d - h) / s for d, h, s in zip(dpop.samples, hit.samples, signature.samples, strict=True)
    )


def dpop_results(cases: dict[str, Case]) -> dict[str, Any]:
    """Per algorithm: each row's median and the added cost over the hit, in signature checks."""
    results: dict[str, Any] = {"target": {"limit": DPOP_TARGET, "at_least": False}, "groups": []}
    for alg in ALGORITHMS:
        prefix = alg.lower()
        rows = {key: cases[key] for key in DPOP_ROWS if key.startswith(prefix + "_")}
        signature = rows[f"{prefix}_signature"]
        group: dict[str, Any] = {
            "alg": alg,
            "rows": [
                {"key": key, "label": DPOP_ROWS[key][1], "median_us": case.median_us}
                for key, case in rows.items()
            ],
            "added": {},
        }
        for kind in ("asgi", "wsgi"):
            dpop, hit = rows[f"{prefix}_{kind}_dpop"], rows[f"{prefix}_{kind}_bearer_hit"]
            value = _added(dpop, hit, signature)
            group["added"][kind] = {
                "added_us": statistics.median(
                    d - h for d, h in zip(dpop.samples, hit.samples, strict=True)
                )
                * 1e6,
                "ratio": value,
                "met": value <= DPOP_TARGET,
            }
        results["groups"].append(group)
    return results


def dpop_table_rows(results: dict[str, Any]) -> list[str]:
    """Markdown rows in ``benchmarks/run.py``'s table format."""
    lines = []
    for group in results["groups"]:
        title = f"DPoP {group['alg']}"
        for row in group["rows"]:
            lines.append(f"| {title} | {row['label']} | {row['median_us']:.1f} µs |  |  |  |")
        for kind, added in group["added"].items():
            verdict = "met" if added["met"] else "MISSED"
            lines.append(
                f"| {title} | {kind.upper()}: DPoP request - Bearer hit | "
                f"{added['added_us']:.1f} µs | {added['ratio']:.2f}x the signature check |  | "
                f"≤ {DPOP_TARGET:.2f}x: {verdict} |"
            )
    return lines


def dpop_verdicts(results: dict[str, Any]) -> list[tuple[str, str, str, bool]]:
    """(what, the ratio, the verdict, met) for ``benchmarks/run.py``'s Targets table."""
    found = []
    for group in results["groups"]:
        for kind, added in group["added"].items():
            what = (
                f"DPoP {group['alg']}: {kind.upper()} DPoP request minus Bearer hit "
                f"≤ {DPOP_TARGET:.2f}x one cryptography {group['alg']} signature check"
            )
            verdict = "met" if added["met"] else "missed"
            found.append((what, f"{added['ratio']:.2f}x", verdict, bool(added["met"])))
    return found


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="scopegate DPoP benchmark rows only")
    parser.add_argument("--rounds", type=int, default=21)
    args = parser.parse_args(argv)

    def say(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    say("[setup] signing proofs (ES256, RS256)")
    cases = [
        Case(key, batch, f"dpop-{DPOP_ROWS[key][0]}", DPOP_ROWS[key][1])
        for key, batch in dpop_batches().items()
    ]
    run_rounds(cases, args.rounds, batch_seconds=0.02, warmup_seconds=0.3, progress=say)
    results = dpop_results({case.key: case for case in cases})
    print("| group | row | median | x baseline | IQR | target |")
    print("|---|---|---:|---:|---:|---|")
    print("\n".join(dpop_table_rows(results)))
    print()
    for what, value, verdict, _ in dpop_verdicts(results):
        print(f"- {what}: {value} ({verdict})")


if __name__ == "__main__":
    main()
