"""``DPoPKey``: the client's own key pair, and the DPoP proofs (RFC 9449 §4) it signs.

A DPoP proof is a JWS that the client signs for one request: its header
carries ``typ: dpop+jwt``, the signing ``alg`` and the public half of the key
as a ``jwk``; its claims are a fresh ``jti``, ``htm`` (the method), ``htu``
(the URL without query and fragment), ``iat``, and, on a call to an API,
``ath`` (the hash of the access token) and any ``nonce`` the server asked for.

Signing is PyJWT's (``jwt.encode`` with a ``cryptography`` private key); the
thumbprint is :func:`scopegate._jwk.jwk_thumbprint` and the ``ath`` value
:func:`scopegate._dpop.ath_for`, so the client computes both exactly as the
resource server checks them. Nothing here needs httpx.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import jwt

try:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
except ImportError as exc:  # pragma: no cover - exercised without the extra installed
    raise ImportError(
        "scopegate.client's DPoPKey needs cryptography: pip install 'scopegate[client]'"
    ) from exc
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

from scopegate._dpop import ath_for
from scopegate._jwk import jwk_thumbprint

__all__ = ["DEFAULT_ALGORITHM", "SUPPORTED_ALGORITHMS", "DPoPKey"]

DEFAULT_ALGORITHM = "ES256"
_RSA = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512")
_CURVES: dict[str, type[ec.EllipticCurve]] = {
    "ES256": ec.SECP256R1,
    "ES384": ec.SECP384R1,
    "ES512": ec.SECP521R1,
}
SUPPORTED_ALGORITHMS = (*_CURVES, *_RSA, "EdDSA")
_RSA_BITS = 2048
# The members RFC 7638 hashes, which are all a public key needs: nothing else
# (no private member, no key_ops) goes into a proof's header.
_PUBLIC_MEMBERS = {
    "RSA": ("e", "kty", "n"),
    "EC": ("crv", "kty", "x", "y"),
    "OKP": ("crv", "kty", "x"),
}
_KEY_TYPES = (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey, ed25519.Ed25519PrivateKey)
_KEY_TYPES_TEXT = "a DPoP key is an RSA, EC (P-256, P-384, P-521) or Ed25519 private key"

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey


def _algorithm_for(key: Any) -> str:
    """The algorithm a key signs with when none is named: RS256, ES256/384/512 or EdDSA."""
    if isinstance(key, rsa.RSAPrivateKey):
        return "RS256"
    if isinstance(key, ec.EllipticCurvePrivateKey):
        for alg, curve in _CURVES.items():
            if isinstance(key.curve, curve):
                return alg
        raise ValueError(f"the EC curve {key.curve.name} has no DPoP algorithm")
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return "EdDSA"
    raise ValueError(_KEY_TYPES_TEXT)


def _check_fits(key: Any, alg: str) -> None:
    if alg not in SUPPORTED_ALGORITHMS:
        raise ValueError(f"{alg!r} is not one of {', '.join(SUPPORTED_ALGORITHMS)}")
    if alg in _RSA:
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ValueError(f"{alg} needs an RSA private key")
        if key.key_size < _RSA_BITS:
            raise ValueError(f"an RSA key for DPoP has at least {_RSA_BITS} bits")
    elif alg == "EdDSA":
        if not isinstance(key, ed25519.Ed25519PrivateKey):
            raise ValueError("EdDSA needs an Ed25519 private key")
    elif not (isinstance(key, ec.EllipticCurvePrivateKey) and _algorithm_for(key) == alg):
        raise ValueError(f"{alg} needs an EC private key on {_CURVES[alg].name}")


def _public_jwk(key: PrivateKey) -> dict[str, str]:
    public = key.public_key()
    jwk: dict[str, Any]
    if isinstance(public, rsa.RSAPublicKey):
        jwk = RSAAlgorithm.to_jwk(public, as_dict=True)
    elif isinstance(public, ec.EllipticCurvePublicKey):
        jwk = ECAlgorithm.to_jwk(public, as_dict=True)
    else:
        jwk = OKPAlgorithm.to_jwk(public, as_dict=True)
    return {name: jwk[name] for name in _PUBLIC_MEMBERS[jwk["kty"]]}


def htu_of(url: str) -> str:
    """``url`` without its query and fragment: what a proof's ``htu`` holds (RFC 9449 §4.2)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"a DPoP proof is for an absolute http(s) URL, not {url!r}")
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", "", ""))


class DPoPKey:
    """A private key that signs DPoP proofs; the tokens issued for it are bound to it.

    Keep one key for as long as its tokens are used: a token bound to a key is
    refused with a proof from any other.

    Args:
        private_key: a ``cryptography`` RSA (2048 bits or more), EC (P-256,
            P-384, P-521) or Ed25519 private key.
        alg: the JWS algorithm; None picks the key's own (RS256 for RSA, the
            curve's ES algorithm, EdDSA).
        clock: seconds since the epoch, for ``iat``; replace it in tests.

    Raises:
        ValueError: the key does not fit ``alg``, or ``alg`` is not one of
            :data:`SUPPORTED_ALGORITHMS`.

    Example::

        key = DPoPKey.generate()  # ES256
        proof = key.proof("GET", "https://api.example.com/orders", access_token=token)
        headers = {"Authorization": f"DPoP {token}", "DPoP": proof}
    """

    __slots__ = ("_clock", "_private_key", "_public_jwk", "_thumbprint", "alg")

    def __init__(
        self,
        private_key: PrivateKey,
        alg: str | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        chosen = _algorithm_for(private_key) if alg is None else alg
        _check_fits(private_key, chosen)
        self.alg = chosen
        self._private_key = private_key
        self._public_jwk = _public_jwk(private_key)
        self._thumbprint = jwk_thumbprint(self._public_jwk)
        self._clock = clock

    @classmethod
    def generate(
        cls, alg: str = DEFAULT_ALGORITHM, *, clock: Callable[[], float] = time.time
    ) -> DPoPKey:
        """A new key for ``alg``: RSA 2048 bits (RS*, PS*), the ES algorithm's curve, Ed25519."""
        key: PrivateKey
        if alg in _RSA:
            key = rsa.generate_private_key(public_exponent=65537, key_size=_RSA_BITS)
        elif alg in _CURVES:
            key = ec.generate_private_key(_CURVES[alg]())
        elif alg == "EdDSA":
            key = ed25519.Ed25519PrivateKey.generate()
        else:
            raise ValueError(f"{alg!r} is not one of {', '.join(SUPPORTED_ALGORITHMS)}")
        return cls(key, alg, clock=clock)

    @classmethod
    def from_pem(
        cls,
        pem: str | bytes,
        alg: str | None = None,
        *,
        password: bytes | None = None,
        clock: Callable[[], float] = time.time,
    ) -> DPoPKey:
        """The key in a PEM private key (PKCS#8, or the traditional RSA/EC forms).

        Raises:
            ValueError: not a PEM private key (or the wrong ``password``), or one
                that does not fit ``alg``.
        """
        data = pem.encode("ascii") if isinstance(pem, str) else pem
        try:
            key = serialization.load_pem_private_key(data, password=password)
        except (ValueError, TypeError) as exc:
            raise ValueError("not a PEM private key (or not this password)") from exc
        if not isinstance(
            key, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey, ed25519.Ed25519PrivateKey)
        ):
            raise ValueError(
                "a DPoP key is an RSA, EC (P-256, P-384, P-521) or Ed25519 private key"
            )
        return cls(key, alg, clock=clock)

    def private_pem(self) -> bytes:
        """The private key as unencrypted PKCS#8 PEM, to keep the key across runs."""
        return self._private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    @property
    def public_jwk(self) -> dict[str, str]:
        """The public half as a JWK: only its RFC 7638 members (a copy)."""
        return dict(self._public_jwk)

    @property
    def thumbprint(self) -> str:
        """The RFC 7638 SHA-256 thumbprint: the ``cnf.jkt`` of the tokens bound to this key."""
        return self._thumbprint

    def __repr__(self) -> str:
        return f"{type(self).__name__}(alg={self.alg!r}, thumbprint={self._thumbprint!r})"

    def claims(
        self,
        method: str,
        url: str,
        *,
        access_token: str | None = None,
        nonce: str | None = None,
    ) -> dict[str, Any]:
        """The claims of a proof for ``method`` on ``url``: fresh ``jti`` and ``iat``."""
        claims: dict[str, Any] = {
            "jti": secrets.token_urlsafe(18),
            "htm": method.upper(),
            "htu": htu_of(url),
            "iat": int(self._clock()),
        }
        if access_token is not None:
            claims["ath"] = ath_for(access_token)
        if nonce is not None:
            claims["nonce"] = nonce
        return claims

    def sign(self, claims: Mapping[str, Any], headers: Mapping[str, Any] | None = None) -> str:
        """A compact JWS of ``claims`` with the DPoP header (``typ``, ``alg``, ``jwk``).

        ``headers`` adds or replaces header parameters (a test may want a wrong
        ``typ``); :meth:`proof` is what a client sends.
        """
        header: dict[str, Any] = {"typ": "dpop+jwt", "jwk": dict(self._public_jwk)}
        header.update(headers or {})
        return jwt.encode(dict(claims), self._private_key, algorithm=self.alg, headers=header)

    # Same parameters as claims, and as the server's ProofVerifier.verify (duplicates pairs
    # them), on purpose: the one request a proof is for.
    def proof(
        self,
        method: str,
        url: str,
        *,
        access_token: str | None = None,
        nonce: str | None = None,
    ) -> str:
        """The ``DPoP`` header value for one request: a new ``jti`` and ``iat`` every call.

        Args:
            method: the request's method (``htm``).
            url: the request's URL; its query and fragment are left out of ``htu``.
            access_token: the token sent with the request; adds ``ath``.
            nonce: the last ``DPoP-Nonce`` the server sent.
        """
        return self.sign(self.claims(method, url, access_token=access_token, nonce=nonce))
