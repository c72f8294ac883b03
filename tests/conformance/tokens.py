"""Token builders for the conformance cases, framework-free.

Every builder returns a callable, so tokens are minted (and their times
computed) when a test sends its request, never when the module is imported.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jwt

from helpers import SECRET, make_claims
from helpers import mint as mint_hs256

__all__ = [
    "OTHER_SECRET",
    "SIGNER",
    "Signer",
    "Token",
    "const",
    "forged",
    "header_and_payload",
    "relative",
    "respelled",
    "spliced",
    "standard_alphabet",
    "tampered",
    "valid",
]

Token = Callable[[], str]

# As long as SECRET, so only its value differs.
OTHER_SECRET = SECRET[::-1]

_DIGESTS = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _segment(value: Any) -> str:
    return _b64url(json.dumps(value, separators=(",", ":")).encode("utf-8"))


@dataclass
class Signer:
    """How "valid" tokens are signed: HS256 with SECRET, or RS256 with ``rs256_key``.

    With ``rs256_key`` set (the RS256 run of the token cases), every token that
    would be HS256-signed with SECRET is RS256-signed with it instead (and
    OTHER_SECRET becomes ``other_rs256_key``), and a forged header's ``HS256``
    and ``RS256`` swap places, so each case breaks the same rule under both
    configurations.
    """

    rs256_key: Any = None
    other_rs256_key: Any = None


SIGNER = Signer()


def mint(*, key: str | bytes = SECRET, headers: dict[str, Any] | None = None, **claims: Any) -> str:
    if SIGNER.rs256_key is None:
        return mint_hs256(key=key, headers=headers, **claims)
    private = SIGNER.rs256_key if key == SECRET else SIGNER.other_rs256_key
    return jwt.encode(make_claims(**claims), private, algorithm="RS256", headers=headers)


def _swap(header: dict[str, Any]) -> dict[str, Any]:
    if SIGNER.rs256_key is None or header.get("alg") not in ("HS256", "RS256"):
        return header
    return {**header, "alg": "RS256" if header["alg"] == "HS256" else "HS256"}


def const(token: str) -> Token:
    """A fixed string sent as the token."""
    return lambda: token


def valid(*, key: str = SECRET, headers: dict[str, Any] | None = None, **claims: Any) -> Token:
    """A token minted with PyJWT (HS256, SECRET) from valid claims plus ``claims``."""
    return lambda: mint(key=key, headers=headers, **claims)


def relative(claim: str, seconds: int, **claims: Any) -> Token:
    """A valid token whose time ``claim`` is ``seconds`` from the moment it is sent."""
    return lambda: mint(**{claim: int(time.time()) + seconds, **claims})


def forged(header: dict[str, Any], payload: Any = None, **claims: Any) -> Token:
    """A compact JWS built by hand, for headers and payloads PyJWT would not encode.

    HS256/384/512 headers get a real HMAC with SECRET, so the only defect is
    the one under test; any other ``alg`` (``none``, ``RS256``...) gets an
    empty signature. ``payload`` replaces the claims object when given
    (bytes are sent as they are, not as JSON).
    """

    def build() -> str:
        body = make_claims(**claims) if payload is None else payload
        encoded = _b64url(body) if isinstance(body, bytes) else _segment(body)
        sent = _swap(header)
        signing_input = f"{_segment(sent)}.{encoded}"
        if SIGNER.rs256_key is not None and sent.get("alg") == "RS256":
            algorithm = jwt.get_algorithm_by_name("RS256")
            signature = algorithm.sign(signing_input.encode("ascii"), SIGNER.rs256_key)
            return f"{signing_input}.{_b64url(signature)}"
        digest = _DIGESTS.get(sent.get("alg", ""))
        if digest is None:
            return signing_input + "."
        mac = hmac.new(SECRET.encode("utf-8"), signing_input.encode("ascii"), digest)
        return f"{signing_input}.{_b64url(mac.digest())}"

    return build


def tampered(**claims: Any) -> Token:
    """A valid token whose payload was swapped for ``claims`` after signing."""

    def build() -> str:
        header, _, signature = mint().split(".")
        return f"{header}.{_segment(make_claims(**claims))}.{signature}"

    return build


def header_and_payload() -> str:
    """A valid token with its signature segment cut off: two segments."""
    return mint().rpartition(".")[0]


def _signed(header: bytes, payload: bytes) -> str:
    """Raw header and payload bytes, signed as :data:`SIGNER` says (HS256, or RS256)."""
    if SIGNER.rs256_key is not None:
        header = header.replace(b'"alg":"HS256"', b'"alg":"RS256"')
        signing_input = f"{_b64url(header)}.{_b64url(payload)}"
        signature = jwt.get_algorithm_by_name("RS256").sign(
            signing_input.encode("ascii"), SIGNER.rs256_key
        )
        return f"{signing_input}.{_b64url(signature)}"
    signing_input = f"{_b64url(header)}.{_b64url(payload)}"
    mac = hmac.new(SECRET.encode("utf-8"), signing_input.encode("ascii"), hashlib.sha256)
    return f"{signing_input}.{_b64url(mac.digest())}"


def spliced(
    members: str = "",
    *,
    header: str = '{"alg":"HS256","typ":"JWT"}',
    encoding: str = "utf-8",
    prefix: bytes = b"",
    **claims: Any,
) -> Token:
    """A correctly signed token built from raw bytes, for what no JSON library writes.

    The payload is the valid claims (with ``claims`` applied) as JSON text with
    ``members`` (raw JSON text such as ``"exp":NaN``) spliced in before the
    closing brace, encoded as ``encoding`` after ``prefix`` (a byte order mark);
    ``header`` is the header's JSON text, encoded the same way.
    """

    def build() -> str:
        text = json.dumps(make_claims(**claims), separators=(",", ":"))
        if members:
            text = f"{text[:-1]},{members}}}"
        return _signed(header.encode(encoding), prefix + text.encode(encoding))

    return build


_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def respelled(token: Token, segment: int) -> Token:
    """``token`` with a non-zero padding bit in segment ``segment``: the same bytes, spelled anew.

    The segment's length must not be a multiple of 4 (then it has no padding bits).
    """

    def build() -> str:
        parts = token().split(".")
        text = parts[segment]
        assert len(text) % 4 in (2, 3), "no padding bits to set"
        parts[segment] = text[:-1] + _ALPHABET[_ALPHABET.index(text[-1]) | 1]
        return ".".join(parts)

    return build


def standard_alphabet() -> str:
    """A valid token whose signature is spelled in the standard alphabet (``+`` and ``/``)."""
    for attempt in range(1000):
        token = mint(jti=f"standard-{attempt}")
        head, _, signature = token.rpartition(".")
        if "-" in signature or "_" in signature:
            return f"{head}.{signature.replace('-', '+').replace('_', '/')}"
    raise AssertionError("no signature with - or _ in 1000 tries")  # pragma: no cover
