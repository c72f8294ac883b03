"""Shared fixtures: one set of test settings and real tokens minted with PyJWT."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import jwt
import pytest

from scopegate import Settings

SECRET = "FF1prn9UxZotnFEfPVwEJhqqyRmwdSu5-test-secret-0123456789"
IDENTIFIER = "https://my-api-urn"
ISSUER = "https://tenant.example.auth0.com/"
CLIENT_ID = "zA9hQ0wZ2cL1sT8xK3mN5pR7vY4bD6fG"

Mint = Callable[..., str]


def make_claims(**overrides: Any) -> dict[str, Any]:
    """Claims of a valid client-credentials token; a value of None removes that claim."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "sub": f"{CLIENT_ID}@clients",
        "aud": IDENTIFIER,
        "iat": now,
        "exp": now + 86400,
        "azp": CLIENT_ID,
        "scope": "sample-scope other-scope",
        "gty": "client-credentials",
    }
    claims.update(overrides)
    return {name: value for name, value in claims.items() if value is not None}


def mint(
    *,
    key: str | bytes = SECRET,
    algorithm: str = "HS256",
    headers: dict[str, Any] | None = None,
    **overrides: Any,
) -> str:
    """A real HS256 token signed with ``key``, with ``overrides`` applied to valid claims."""
    return jwt.encode(make_claims(**overrides), key, algorithm=algorithm, headers=headers)


@pytest.fixture
def settings() -> Settings:
    return Settings(signing_secret=SECRET, identifier=IDENTIFIER, issuer=ISSUER, _env_file=None)


@pytest.fixture
def token() -> Mint:
    return mint
