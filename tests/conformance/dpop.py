"""DPoP proofs built from raw parts (PyJWT and cryptography), for the conformance cases.

Nothing here uses scopegate: the key, its RFC 7638 thumbprint, ``ath`` and the
proofs are computed from the RFCs directly, so the suite checks scopegate's
verifier against an independent signer. A proof is a callable run at send
time (fresh ``iat`` and ``jti``); :class:`Exchange` pairs the ``Authorization``
value with the proof so that ``ath`` hashes the very token sent.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from .tokens import Token, mint

__all__ = [
    "ORIGIN",
    "OTHER_THUMBPRINT",
    "THUMBPRINT",
    "Exchange",
    "ath",
    "bound",
    "exchange",
    "proof",
]

#: Where the test clients send requests (Starlette's TestClient default; Flask is told so).
ORIGIN = "http://testserver"

_EC_KEY = ec.generate_private_key(ec.SECP256R1())
_OTHER_EC_KEY = ec.generate_private_key(ec.SECP256R1())
_RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _public_jwk(key: Any) -> dict[str, Any]:
    algorithm = "ES256" if isinstance(key, ec.EllipticCurvePrivateKey) else "RS256"
    jwk: dict[str, Any] = json.loads(jwt.get_algorithm_by_name(algorithm).to_jwk(key.public_key()))
    return jwk


def _thumbprint(jwk: dict[str, Any]) -> str:
    """RFC 7638 §3: the required members, sorted, no whitespace, SHA-256."""
    members = ("crv", "kty", "x", "y") if jwk["kty"] == "EC" else ("e", "kty", "n")
    canonical = json.dumps({m: jwk[m] for m in members}, separators=(",", ":"), sort_keys=True)
    return _b64url(hashlib.sha256(canonical.encode("utf-8")).digest())


JWK = _public_jwk(_EC_KEY)
THUMBPRINT = _thumbprint(JWK)
OTHER_THUMBPRINT = _thumbprint(_public_jwk(_OTHER_EC_KEY))
RSA_JWK = _public_jwk(_RSA_KEY)
RSA_THUMBPRINT = _thumbprint(RSA_JWK)
KEYS: dict[str, tuple[Any, dict[str, Any]]] = {
    "ec": (_EC_KEY, JWK),
    "other-ec": (_OTHER_EC_KEY, _public_jwk(_OTHER_EC_KEY)),
}
KEYS["rsa"] = (_RSA_KEY, RSA_JWK)


def ath(token: str) -> str:
    """RFC 9449 §4.2: base64url of the SHA-256 of the ASCII access token."""
    return _b64url(hashlib.sha256(token.encode("ascii")).digest())


def bound(jkt: str = THUMBPRINT, **claims: Any) -> Token:
    """A valid access token bound to ``jkt`` (``cnf.jkt``)."""
    return lambda: mint(cnf={"jkt": jkt}, **claims)


Proof = Callable[[str], str]
_DROP = object()


def proof(
    path: str = "/api/private",
    *,
    method: str = "GET",
    url: str | None = None,
    key: str = "ec",
    alg: str | None = None,
    headers: dict[str, Any] | None = None,
    age: int = 0,
    with_ath: bool = True,
    jwk: Any = None,
    **claims: Any,
) -> Proof:
    """A proof for ``method`` and ``ORIGIN + path`` (or ``url``) signed with ``key``.

    ``claims`` override the payload (a value of None removes the claim);
    ``headers`` the protected header (None removes a member); ``jwk`` replaces
    the public key sent; ``age`` moves ``iat`` into the past.
    """
    private, public = KEYS[key]
    algorithm = alg or ("ES256" if key != "rsa" else "RS256")

    def build(token: str) -> str:
        payload: dict[str, Any] = {
            "jti": str(uuid.uuid4()),
            "htm": method,
            "htu": url or ORIGIN + path,
            "iat": int(time.time()) - age,
        }
        if with_ath:
            payload["ath"] = ath(token)
        payload.update(claims)
        header: dict[str, Any] = {"typ": "dpop+jwt", "jwk": public if jwk is None else jwk}
        header.update(headers or {})
        sent = {k: v for k, v in header.items() if v is not None}
        if header.get("typ", "") is None:
            sent["typ"] = ""  # PyJWT writes typ "JWT" unless told "" (then none at all)
        encoded: str = jwt.encode(
            {k: v for k, v in payload.items() if v is not None},
            private,
            algorithm=algorithm,
            headers=sent,
        )
        return encoded

    return build


class Exchange:
    """An ``Authorization`` value and its proof: the proof is built for the token just sent.

    The case's header callables run in order, so :meth:`authorization` mints
    the token and :meth:`dpop` signs for it.
    """

    def __init__(self, token: Token, make_proof: Proof, scheme: str = "DPoP") -> None:
        self.token = token
        self.make_proof = make_proof
        self.scheme = scheme
        self.last = ""
        self.last_proof = ""

    def authorization(self) -> str:
        self.last = self.token()
        return f"{self.scheme} {self.last}"

    def dpop(self) -> str:
        self.last_proof = self.make_proof(self.last)
        return self.last_proof


def exchange(
    token: Token | None = None,
    make_proof: Proof | None = None,
    *,
    scheme: str = "DPoP",
    proofs: int = 1,
) -> tuple[tuple[str, Any], ...]:
    """The headers of a DPoP request: ``Authorization: DPoP <token>`` and ``proofs`` proofs."""
    pair = Exchange(token or bound(), make_proof or proof(), scheme)
    return (("Authorization", pair.authorization), *(("DPoP", pair.dpop) for _ in range(proofs)))
