"""The identity rule (``sub``, else the client id): AccessToken owns it, every adapter reads it."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timezone
from types import MappingProxyType
from typing import Any

import flask
import pytest

from scopegate._token import AccessToken
from scopegate.asgi import TokenCredentials, TokenUser
from scopegate.flask import ScopeGate, current_token
from scopegate.testing import bearer, mint_token, test_settings


def _token(subject: str | None, client_id: str | None) -> AccessToken:
    return AccessToken(
        claims=MappingProxyType({}),
        subject=subject,
        client_id=client_id,
        scopes=frozenset(),
        audience=("urn:api",),
        issuer=None,
        expires_at=datetime(2030, 1, 1, tzinfo=timezone.utc),
    )


@pytest.mark.parametrize(
    ("subject", "client_id", "identity", "user_identity"),
    [
        pytest.param("abc@clients", "abc", "abc@clients", "abc@clients", id="sub-wins"),
        pytest.param(None, "abc", "abc", "abc", id="client-id"),
        pytest.param("", "abc", "abc", "abc", id="empty-sub"),
        pytest.param(None, None, None, "", id="neither"),
    ],
)
def test_identity(
    subject: str | None, client_id: str | None, identity: str | None, user_identity: str
) -> None:
    token = _token(subject, client_id)
    assert token.identity == identity
    assert TokenUser(token).identity == user_identity
    assert TokenUser(token).display_name == user_identity


@pytest.mark.parametrize(
    ("claims", "identity"),
    [
        pytest.param({}, "scopegate-test-client@clients", id="sub"),
        pytest.param({"sub": None}, "scopegate-test-client", id="azp"),
        pytest.param({"sub": None, "azp": None, "client_id": "c-1"}, "c-1", id="client_id"),
    ],
)
def test_flask_code_reads_the_same_identity(claims: dict[str, Any], identity: str) -> None:
    settings = test_settings()
    app = flask.Flask(__name__)
    ScopeGate(app, settings=settings)

    @app.get("/me")
    def me() -> dict[str, object]:
        return {"identity": current_token.identity}

    response = app.test_client().get("/me", headers=bearer(mint_token(settings, **claims)))
    assert response.status_code == 200
    assert response.get_json() == {"identity": identity}


def test_request_auth_scopes_are_sorted_as_the_readme_says() -> None:
    token = dataclasses.replace(_token("abc@clients", "abc"), scopes=frozenset({"b", "c", "a"}))
    assert TokenCredentials(token).scopes == ["a", "b", "c"]
    assert TokenCredentials(None).scopes == []
