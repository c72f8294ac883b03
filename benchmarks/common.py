"""What every benchmark shares: the API's settings, its tokens and the request they carry."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from typing import Any

import jwt

from scopegate import Settings

SECRET = "FF1prn9UxZotnFEfPVwEJhqqyRmwdSu5-bench-secret-0123456789"  # noqa: S105 - a benchmark key
IDENTIFIER = "https://my-api-urn"
ISSUER = "https://tenant.example.auth0.com/"
CLIENT_ID = "zA9hQ0wZ2cL1sT8xK3mN5pR7vY4bD6fG"
SCOPE = "sample-scope"
LEEWAY = 5
PATH = "/api/private-scoped"
MESSAGE = "Hello from a private endpoint! You need to be authenticated and have a scope."

# The checks scopegate makes, spelled for PyJWT (the peers use exactly these).
DECODE_KWARGS: dict[str, Any] = {
    "algorithms": ["HS256"],
    "audience": IDENTIFIER,
    "issuer": ISSUER,
    "leeway": LEEWAY,
    "options": {"require": ["exp"]},
}


def make_settings(**overrides: Any) -> Settings:
    """The benchmarked API's settings (cache on at its default size unless overridden)."""
    values: dict[str, Any] = {
        "signing_secret": SECRET,
        "identifier": IDENTIFIER,
        "issuer": ISSUER,
        "leeway": LEEWAY,
        "_env_file": None,
    }
    values.update(overrides)
    return Settings(**values)


def claims(**overrides: Any) -> dict[str, Any]:
    """An Auth0 client-credentials access token's claims, valid for a day."""
    now = int(time.time())
    values: dict[str, Any] = {
        "iss": ISSUER,
        "sub": f"{CLIENT_ID}@clients",
        "aud": IDENTIFIER,
        "iat": now,
        "exp": now + 86400,
        "azp": CLIENT_ID,
        "scope": f"{SCOPE} other-scope",
        "gty": "client-credentials",
    }
    values.update(overrides)
    return values


def mint(**overrides: Any) -> str:
    """A real HS256 token minted by PyJWT."""
    return jwt.encode(claims(**overrides), SECRET, algorithm="HS256")


def _b64(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def cheap_tokens(count: int, start: int = 0) -> Iterator[str]:
    """``count`` distinct valid tokens (differing in ``jti``), minted without PyJWT.

    A few microseconds each, so a million can be verified without the minting
    dominating, and produced one at a time so they never sit in memory together.
    """
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    base = claims(jti="@@JTI@@")
    prefix, _, suffix = json.dumps(base, separators=(",", ":")).partition("@@JTI@@")
    key = SECRET.encode()
    for i in range(start, start + count):
        payload = _b64(f"{prefix}{i:012d}{suffix}".encode())
        signing_input = header + b"." + payload
        signature = _b64(hmac.new(key, signing_input, hashlib.sha256).digest())
        yield (signing_input + b"." + signature).decode()
