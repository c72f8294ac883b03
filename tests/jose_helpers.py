"""Hand-built and PyJWT-minted tokens for the verifier tests, on a fixed clock."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import pytest

from helpers import IDENTIFIER, ISSUER, NOW, SECRET, make_claims, make_settings, mint
from scopegate import AccessToken, InvalidTokenError, TokenVerifier
from scopegate.errors import TokenFailure

SECRET_64 = "0123456789abcdef" * 4  # RFC 7518 §3.2: HS512 needs a 64-byte key
DIGESTS = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}


def verify(token: Any, now: float = NOW, **settings: Any) -> AccessToken:
    return TokenVerifier(make_settings(**settings), clock=lambda: now).verify(token)


def failure_of(token: Any, now: float = NOW, **settings: Any) -> TokenFailure:
    with pytest.raises(InvalidTokenError) as info:
        verify(token, now, **settings)
    assert info.value.description == info.value.failure.value
    return info.value.failure


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def jws(
    header: dict[str, Any], payload: str | bytes, *, key: str = SECRET, sign_as: str = "HS256"
) -> str:
    """A compact JWS built by hand: any header, any payload text, an HMAC (or no) signature."""
    raw = payload.encode() if isinstance(payload, str) else payload
    signing_input = b64url(json.dumps(header).encode()) + "." + b64url(raw)
    if sign_as == "":
        return signing_input + "."
    digest = hmac.new(key.encode(), signing_input.encode(), DIGESTS[sign_as]).digest()
    return signing_input + "." + b64url(digest)


def valid_claims(**overrides: Any) -> dict[str, Any]:
    claims = {"iss": ISSUER, "aud": IDENTIFIER, "iat": NOW, "exp": NOW + 3600, "scope": "a b"}
    claims.update(overrides)
    return {name: value for name, value in claims.items() if value is not None}


def token_with(**overrides: Any) -> str:
    """A token minted by PyJWT: valid at NOW unless ``overrides`` break a rule."""
    return mint(**{"iat": NOW, "exp": NOW + 3600, **overrides})


def signed(**overrides: Any) -> str:
    """Like :func:`token_with`, signed by hand: PyJWT refuses to encode some bad claims."""
    claims = make_claims(**{"iat": NOW, "exp": NOW + 3600, **overrides})
    return jws({"alg": "HS256", "typ": "JWT"}, json.dumps(claims))


def raw_token(payload_json_fields: str, **overrides: Any) -> str:
    """A signed token with hand-written payload fields (for NaN, Infinity, huge numbers, null).

    ``payload_json_fields`` is added to :func:`valid_claims` (without ``exp``, with ``overrides``).
    """
    base = json.dumps(valid_claims(exp=None, **overrides))[:-1]
    return jws({"alg": "HS256"}, f"{base}, {payload_json_fields}}}")
