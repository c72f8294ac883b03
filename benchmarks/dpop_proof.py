"""What checking a DPoP proof costs next to the signature check it contains.

    python benchmarks/dpop_proof.py             # ES256 and RS256, 15 rounds
    python benchmarks/dpop_proof.py --rounds 31 --proofs 4000

Side by side in one run, on the same proofs: ``cryptography``'s verification of
each proof's signature over its signing input (ECDSA P-256 / SHA-256 for ES256,
RSA PKCS#1 v1.5 / SHA-256 for RS256), and :meth:`scopegate._dpop.ProofVerifier.verify`
of the whole proof (parsing, header and key checks, signature, claims, ``htu``
normalisation, ``ath``, ``jkt``). Every proof has its own ``jti``, as a client's
proofs do; they share a key, as one client's proofs do. The two sides
alternate every 50 proofs; the figure is the median over rounds of the CPU time
per proof (this thread's: other processes on shared cores do not count). Target: the
ratio verify / signature at most 1.3.

Standalone: the end-to-end DPoP request benchmark is in benchmarks/run.py.
"""

from __future__ import annotations

import argparse
import base64
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make src/ importable from a checkout
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from scopegate._dpop import ProofVerifier, ath_for
from scopegate._jwk import jwk_thumbprint

NOW = 1_700_000_000
URL = "https://api.example/orders"
TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJjbGllbnQifQ.c2lnbmF0dXJl"  # noqa: S105
TARGET = 1.3


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _int(value: int, size: int | None = None) -> bytes:
    return value.to_bytes(size or (value.bit_length() + 7) // 8, "big")


def make_case(
    alg: str, count: int
) -> tuple[list[str], list[tuple[bytes, bytes]], Callable[..., Any], dict[str, Any]]:
    """``count`` proofs of one key, the (signing input, signature) pairs, and the raw verify."""
    if alg == "ES256":
        private: Any = ec.generate_private_key(ec.SECP256R1())
        numbers = private.public_key().public_numbers()
        jwk = {
            "kty": "EC",
            "crv": "P-256",
            "x": b64url(_int(numbers.x, 32)),
            "y": b64url(_int(numbers.y, 32)),
        }
    else:
        private = rsa.generate_private_key(65537, 2048)
        numbers = private.public_key().public_numbers()
        jwk = {"kty": "RSA", "n": b64url(_int(numbers.n)), "e": b64url(_int(numbers.e))}
    public = private.public_key()
    header = b64url(json.dumps({"typ": "dpop+jwt", "alg": alg, "jwk": jwk}).encode())
    proofs, pairs = [], []
    for index in range(count):
        claims = {
            "jti": f"proof-{index:08d}",
            "htm": "GET",
            "htu": URL,
            "iat": NOW,
            "ath": ath_for(TOKEN),
        }
        signing_input = f"{header}.{b64url(json.dumps(claims).encode())}".encode()
        if alg == "ES256":
            r, s = decode_dss_signature(private.sign(signing_input, ec.ECDSA(hashes.SHA256())))
            signature = _int(r, 32) + _int(s, 32)
            # What cryptography verifies: DER (the JWS form is r||s; PyJWT converts it).
            pairs.append((signing_input, encode_dss_signature(r, s)))
        else:
            signature = private.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
            pairs.append((signing_input, signature))
        proofs.append(f"{signing_input.decode()}.{b64url(signature)}")

    if alg == "ES256":

        def raw_verify(message: bytes, signature: bytes) -> None:
            public.verify(signature, message, ec.ECDSA(hashes.SHA256()))
    else:

        def raw_verify(message: bytes, signature: bytes) -> None:
            public.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())

    return proofs, pairs, raw_verify, jwk


def measure(alg: str, rounds: int, count: int) -> dict[str, float]:
    proofs, pairs, raw_verify, jwk = make_case(alg, count)
    jkt = jwk_thumbprint(jwk)
    verifier = ProofVerifier(algorithms=[alg], clock=lambda: NOW)

    batch = 50  # proofs per timed batch: the two sides alternate every batch

    def signatures(start: int) -> None:
        for message, signature in pairs[start : start + batch]:
            raw_verify(message, signature)

    def proofs_(start: int) -> None:
        verify = verifier.verify
        for proof in proofs[start : start + batch]:
            verify(proof, method="GET", url=URL, access_token=TOKEN, jkt=jkt)

    # Warm up both (and fill the verifier's header cache, as a client's first proof does).
    signatures(0)
    proofs_(0)
    raw: list[float] = []
    full: list[float] = []
    # CPU time of this thread, not wall time: the cores are shared with other processes,
    # and time spent descheduled is no cost of either side.
    clock = time.thread_time
    for _ in range(rounds):
        # A round: every proof once on each side, alternating batch by batch, so that
        # both sides see the same machine load (other processes share the cores).
        raw_total = full_total = 0.0
        for start in range(0, count, batch):
            started = clock()
            signatures(start)
            middle = clock()
            proofs_(start)
            full_total += clock() - middle
            raw_total += middle - started
        raw.append(raw_total / count)
        full.append(full_total / count)
    signature_us = statistics.median(raw) * 1e6
    verify_us = statistics.median(full) * 1e6
    return {"signature_us": signature_us, "verify_us": verify_us, "ratio": verify_us / signature_us}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--proofs", type=int, default=2000, help="proofs per round")
    parser.add_argument("--algs", default="ES256,RS256")
    args = parser.parse_args(argv)
    print(f"| alg | signature only (µs) | ProofVerifier.verify (µs) | ratio | target <= {TARGET} |")
    print("|---|---:|---:|---:|---|")
    missed = 0
    for alg in args.algs.split(","):
        result = measure(alg, args.rounds, args.proofs)
        met = result["ratio"] <= TARGET
        missed += not met
        print(
            f"| {alg} | {result['signature_us']:.1f} | {result['verify_us']:.1f} | "
            f"{result['ratio']:.2f}x | {'met' if met else 'missed'} |",
            flush=True,
        )
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
