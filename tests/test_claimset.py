"""The client-credentials claim set: one builder for mint_token and the authorization server."""

from __future__ import annotations

from typing import Any

import jwt
import pytest

from scopegate._claimset import CLIENT_SUFFIX, client_credentials_claims, client_subject
from scopegate.testing import TEST_SUBJECT, mint_token, test_settings

BASE: dict[str, Any] = {
    "issuer": "https://auth.example/",
    "client_id": "abc",
    "audience": "urn:api",
    "scopes": ["read write", "read"],
    "issued_at": 1_700_000_000.9,
    "lifetime": 3600,
}


def without(name: str) -> dict[str, Any]:
    return {key: value for key, value in FULL.items() if key != name}


FULL = {
    "iss": "https://auth.example/",
    "sub": "abc@clients",
    "aud": "urn:api",
    "iat": 1_700_000_000,
    "exp": 1_700_003_600,
    "azp": "abc",
    "scope": "read write",
    "gty": "client-credentials",
}


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        pytest.param({}, FULL, id="auth0-claims"),
        pytest.param({"issuer": None}, without("iss"), id="no-iss"),
        pytest.param({"scopes": ()}, without("scope"), id="no-scope"),
        pytest.param({"subject": "someone"}, {**FULL, "sub": "someone"}, id="subject"),
        pytest.param({"lifetime": -60}, {**FULL, "exp": 1_699_999_940}, id="expired"),
        pytest.param(
            {"extra": {"cnf": {"jkt": "x"}, "gty": None}},
            {**without("gty"), "cnf": {"jkt": "x"}},
            id="extra-adds-and-removes",
        ),
        pytest.param({"audience": ["a", "b"]}, {**FULL, "aud": ["a", "b"]}, id="audience-list"),
    ],
)
def test_client_credentials_claims(changes: dict[str, Any], expected: dict[str, Any]) -> None:
    assert client_credentials_claims(**{**BASE, **changes}) == expected


def test_client_subject() -> None:
    assert client_subject("abc") == "abc" + CLIENT_SUFFIX == "abc@clients"
    assert TEST_SUBJECT == "scopegate-test-client@clients"


def test_mint_token_signs_the_builders_claims() -> None:
    settings = test_settings()
    token = mint_token(settings, scopes=["read write"], now=1_700_000_000.5, expires_in=60)
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims == client_credentials_claims(
        issuer=settings.issuer,
        client_id="scopegate-test-client",
        audience=settings.identifier,
        scopes="read write",
        issued_at=1_700_000_000.5,
        lifetime=60,
    )
