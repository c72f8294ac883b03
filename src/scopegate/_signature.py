"""A JWS signature check bound to one public key: what a DPoP proof's key verifies, fast.

:func:`signature_check` prepares, once per key, a function
``check(signing_input, signature) -> bool`` that calls ``cryptography``
directly, with the padding, hash and signature-scheme objects made once: the
exact operation PyJWT's algorithm classes perform (RFC 7518 §3.3-3.5, RFC 8037
§3.1), without their per-call work.

Why not PyJWT here, when :mod:`scopegate._verifier` calls it for tokens: a
token is verified once and then cached, but every DPoP request carries a
proof that was never seen before, so its signature check is on the hot path
of every request. PyJWT's ``verify`` builds ``PKCS1v15()``/``PSS(MGF1(...))``/
``ECDSA(SHA256())`` objects on each call and turns the raw ES signature into
DER through hexadecimal strings; measured beside the same ``cryptography``
call, that is about 5 µs per ES256 proof and 1-2 µs per RS256 proof
(benchmarks/README.md, "DPoP"). PyJWT still loads the proof's key
(:mod:`scopegate._dpop`, ``from_jwk``); this module only verifies.

The rules kept exactly as PyJWT's: ``RS*`` is PKCS#1 v1.5 with the named
SHA-2; ``PS*`` is PSS with MGF1 of that hash and a salt as long as the digest;
``ES*`` is the raw ``r || s`` form (each the curve's byte size, anything else
is a bad signature) converted to DER; ``EdDSA`` is Ed25519 or Ed448 by key.
A signature that does not verify gives False; nothing but ``ValueError`` and
``TypeError`` (from ``cryptography``, for a malformed input) escapes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

__all__ = ["SIGNATURE_ALGORITHMS", "SignatureCheck", "signature_check"]

#: ``check(signing_input, signature)``: True when the signature verifies.
SignatureCheck = Callable[[bytes, bytes], bool]

_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "256": hashes.SHA256,
    "384": hashes.SHA384,
    "512": hashes.SHA512,
}
SIGNATURE_ALGORITHMS = (
    *(f"{family}{size}" for family in ("RS", "PS", "ES") for size in _HASHES),
    "EdDSA",
)


def signature_check(alg: str, key: Any) -> SignatureCheck:
    """The check of ``alg`` signatures by the ``cryptography`` public ``key``.

    Raises:
        ValueError: ``alg`` is not one of :data:`SIGNATURE_ALGORITHMS`, or
            ``key`` is not a public key of its family (a caller's bug: keys
            are checked against ``alg`` before they get here).
    """
    if alg not in SIGNATURE_ALGORITHMS:
        raise ValueError(f"not an asymmetric JWS algorithm: {alg!r}")
    if alg == "EdDSA":
        if not isinstance(key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey):
            raise ValueError("EdDSA needs an Ed25519 or Ed448 public key")
        return _eddsa(key)
    hash_alg = _HASHES[alg[2:]]
    if alg.startswith("ES"):
        if not isinstance(key, ec.EllipticCurvePublicKey):
            raise ValueError(f"{alg} needs an EC public key")
        return _ecdsa(key, ec.ECDSA(hash_alg()), (key.curve.key_size + 7) // 8)
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError(f"{alg} needs an RSA public key")
    scheme: padding.AsymmetricPadding = padding.PKCS1v15()
    if alg.startswith("PS"):
        scheme = padding.PSS(mgf=padding.MGF1(hash_alg()), salt_length=hash_alg().digest_size)
    return _rsa(key, scheme, hash_alg())


def _rsa(
    key: rsa.RSAPublicKey, scheme: padding.AsymmetricPadding, hash_alg: hashes.HashAlgorithm
) -> SignatureCheck:
    verify = key.verify

    def check(signing_input: bytes, signature: bytes) -> bool:
        try:
            verify(signature, signing_input, scheme, hash_alg)
        except InvalidSignature:
            return False
        return True

    return check


def _ecdsa(key: ec.EllipticCurvePublicKey, scheme: ec.ECDSA, size: int) -> SignatureCheck:
    verify = key.verify
    from_bytes = int.from_bytes

    def check(signing_input: bytes, signature: bytes) -> bool:
        if len(signature) != 2 * size:  # RFC 7518 §3.4: r and s, each exactly the curve's size
            return False
        der = encode_dss_signature(
            from_bytes(signature[:size], "big"), from_bytes(signature[size:], "big")
        )
        try:
            verify(der, signing_input, scheme)
        except InvalidSignature:
            return False
        return True

    return check


def _eddsa(key: ed25519.Ed25519PublicKey | ed448.Ed448PublicKey) -> SignatureCheck:
    verify = key.verify

    def check(signing_input: bytes, signature: bytes) -> bool:
        try:
            verify(signature, signing_input)
        except InvalidSignature:
            return False
        return True

    return check
