"""DPoP proofs built from raw parts, signed with ``cryptography`` directly (never by scopegate).

Every part can be broken on purpose: any header (a private ``d`` in the jwk, an
``oct`` key, ``alg: none``), any payload text (duplicate names, float ``iat``),
any signature. Shared by the tests of :mod:`scopegate._dpop` and of the
resource-server integration.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

NOW = 1_700_000_000
METHOD = "GET"
URL = "https://api.example/orders"
TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJjbGllbnQifQ.c2lnbmF0dXJl"
ALGORITHMS = (
    *("RS256", "RS384", "RS512", "PS256", "PS384", "PS512"),
    *("ES256", "ES384", "ES512", "EdDSA"),
)
_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "256": hashes.SHA256,
    "384": hashes.SHA384,
    "512": hashes.SHA512,
}
_CURVES: dict[str, tuple[type[ec.EllipticCurve], str, int]] = {
    "ES256": (ec.SECP256R1, "P-256", 32),
    "ES384": (ec.SECP384R1, "P-384", 48),
    "ES512": (ec.SECP521R1, "P-521", 66),
}
_KEYS: dict[str, Any] = {}


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _int_bytes(value: int, length: int | None = None) -> bytes:
    return value.to_bytes(length or (value.bit_length() + 7) // 8, "big")


def private_key(kind: str = "ES256") -> Any:
    """One private key per kind (an algorithm name, ``Ed448``, ``RSA-1024`` or ``*-2``), cached."""
    if kind not in _KEYS:
        base = kind.removesuffix("-2")
        if base == "RSA-1024":
            _KEYS[kind] = rsa.generate_private_key(65537, 1024)  # noqa: S505
        elif base.startswith(("RS", "PS", "RSA")):
            _KEYS[kind] = rsa.generate_private_key(65537, 2048)
        elif base in _CURVES:
            _KEYS[kind] = ec.generate_private_key(_CURVES[base][0]())
        elif base == "Ed448":
            _KEYS[kind] = ed448.Ed448PrivateKey.generate()
        else:
            _KEYS[kind] = ed25519.Ed25519PrivateKey.generate()
    return _KEYS[kind]


def public_jwk(key: Any, *, private: bool = False) -> dict[str, Any]:
    """The JWK of ``key`` (a private key object), public members only unless ``private``."""
    if isinstance(key, rsa.RSAPrivateKey):
        numbers = key.private_numbers()
        jwk = {
            "kty": "RSA",
            "n": b64url(_int_bytes(numbers.public_numbers.n)),
            "e": b64url(_int_bytes(numbers.public_numbers.e)),
        }
        if private:
            jwk["d"] = b64url(_int_bytes(numbers.d))
        return jwk
    if isinstance(key, ec.EllipticCurvePrivateKey):
        size = (key.curve.key_size + 7) // 8
        crv = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}[key.curve.name]
        public = key.public_key().public_numbers()
        jwk = {
            "kty": "EC",
            "crv": crv,
            "x": b64url(_int_bytes(public.x, size)),
            "y": b64url(_int_bytes(public.y, size)),
        }
        if private:
            jwk["d"] = b64url(_int_bytes(key.private_numbers().private_value, size))
        return jwk
    from cryptography.hazmat.primitives.serialization import (
        Encoding,
        NoEncryption,
        PrivateFormat,
        PublicFormat,
    )

    crv = "Ed448" if isinstance(key, ed448.Ed448PrivateKey) else "Ed25519"
    jwk = {
        "kty": "OKP",
        "crv": crv,
        "x": b64url(key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)),
    }
    if private:
        jwk["d"] = b64url(key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption()))
    return jwk


def sign(alg: str, key: Any, signing_input: bytes) -> bytes:
    """The JWS signature (RFC 7518 §3) of ``signing_input``, made by ``cryptography``."""
    if alg == "EdDSA":
        return bytes(key.sign(signing_input))
    digest = _HASHES[alg[2:]]()
    if alg.startswith("RS"):
        return bytes(key.sign(signing_input, padding.PKCS1v15(), digest))
    if alg.startswith("PS"):
        pss = padding.PSS(mgf=padding.MGF1(digest), salt_length=digest.digest_size)
        return bytes(key.sign(signing_input, pss, digest))
    r, s = decode_dss_signature(key.sign(signing_input, ec.ECDSA(digest)))
    size = _CURVES[alg][2]
    return _int_bytes(r, size) + _int_bytes(s, size)


def key_kind(alg: str) -> str:
    return "Ed25519" if alg == "EdDSA" else alg


def claims_for(**overrides: Any) -> dict[str, Any]:
    """Valid claims for :data:`METHOD` :data:`URL` at :data:`NOW`; a None override removes one."""
    claims: dict[str, Any] = {"jti": "e1j3V_bKic8-LAEB", "htm": METHOD, "htu": URL, "iat": NOW}
    claims.update(overrides)
    return {name: value for name, value in claims.items() if value is not None}


def make_proof(
    alg: str = "ES256",
    *,
    key: Any = None,
    header: dict[str, Any] | None = None,
    claims: dict[str, Any] | None = None,
    raw_header: str | None = None,
    raw_payload: str | None = None,
    sign_as: str | None = None,
    **claim_overrides: Any,
) -> str:
    """A DPoP proof from raw parts.

    Args:
        alg: the header's ``alg`` and (unless ``sign_as``) the signing algorithm.
        key: the private key (default: the cached one of ``alg``).
        header: header members to set; a None value removes one.
        claims: the whole payload object (default :func:`claims_for` with ``claim_overrides``).
        raw_header: the header JSON text, exactly (``header`` is ignored then).
        raw_payload: the payload JSON text, exactly.
        sign_as: sign with this algorithm instead (a mismatch on purpose); ``""`` for none.
    """
    key = private_key(key_kind(alg if alg in ALGORITHMS else "ES256")) if key is None else key
    members: dict[str, Any] = {"typ": "dpop+jwt", "alg": alg, "jwk": public_jwk(key)}
    members.update(header or {})
    members = {name: value for name, value in members.items() if value is not None}
    header_text = raw_header if raw_header is not None else json.dumps(members)
    payload = claims if claims is not None else claims_for(**claim_overrides)
    payload_text = raw_payload if raw_payload is not None else json.dumps(payload)
    signing_input = f"{b64url(header_text.encode())}.{b64url(payload_text.encode())}"
    algorithm = alg if sign_as is None else sign_as
    if algorithm == "" or algorithm not in ALGORITHMS:
        return signing_input + "."
    return signing_input + "." + b64url(sign(algorithm, key, signing_input.encode()))
