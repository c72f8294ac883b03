"""scopegate.testing with asymmetric keys: test key pairs, RS256/ES256 minting, the fixtures."""

from __future__ import annotations

import json

import jwt
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from scopegate import ConfigurationError, Settings, TokenVerifier
from scopegate.asgi import BearerAuthMiddleware
from scopegate.testing import bearer, key_pair, mint_token, test_settings

pytest_plugins = ["pytester"]

ALGORITHMS = ["RS256", "RS384", "PS256", "ES256", "ES384", "ES512", "EdDSA"]


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_minted_tokens_verify_with_the_static_key(alg: str) -> None:
    settings = test_settings(algorithms=[alg])
    assert settings.signing_secret is None
    token = mint_token(settings, scopes=["read"])
    assert jwt.get_unverified_header(token) == {"alg": alg, "kid": key_pair(alg).kid, "typ": "JWT"}
    assert TokenVerifier(settings).verify(token).scopes == {"read"}
    # Cross-check: PyJWT alone accepts it with the public half of the key pair.
    public = key_pair(alg).private_key.public_key()
    assert jwt.decode(token, public, [alg], audience=settings.identifier)["scope"] == "read"


def test_key_pairs_are_generated_once() -> None:
    assert key_pair("RS256") is key_pair("RS256")
    assert key_pair("RS256").jwks == {"keys": [key_pair("RS256").public_jwk]}
    assert "d" not in key_pair("RS256").public_jwk


def test_migrating_settings_mint_both() -> None:
    settings = test_settings(algorithms=["HS256", "RS256"])
    assert settings.signing_secret is not None
    verifier = TokenVerifier(settings)
    assert jwt.get_unverified_header(mint_token(settings))["alg"] == "HS256"
    assert verifier.verify(mint_token(settings, algorithm="RS256")).subject
    assert verifier.verify(mint_token(settings)).subject


def test_kid_can_be_left_out_or_replaced() -> None:
    settings = test_settings(algorithms=["ES256"])
    assert "kid" not in jwt.get_unverified_header(mint_token(settings, headers={"kid": None}))
    assert TokenVerifier(settings).verify(mint_token(settings, headers={"kid": None})).subject
    other = jwt.get_unverified_header(mint_token(settings, headers={"kid": "other"}))
    assert other["kid"] == "other"


def test_no_test_key_in_the_settings() -> None:
    settings = test_settings(algorithms=["RS256"], public_key=json.dumps(key_pair("ES256").jwks))
    with pytest.raises(ConfigurationError) as info:
        mint_token(settings)
    assert str(info.value) == (
        "mint_token: no test key for RS256 in these settings; use "
        "test_settings(algorithms=['RS256']) or pass key="
    )


def test_an_app_tests_rs256_offline() -> None:
    settings = test_settings(algorithms=["RS256"])
    app = FastAPI()
    app.add_middleware(BearerAuthMiddleware, settings=settings)
    app.get("/api/private")(lambda: {"ok": True})
    with TestClient(app) as client:
        response = client.get("/api/private", headers=bearer(mint_token(settings)))
    assert (response.status_code, response.json()) == (200, {"ok": True})


PLUGIN_TESTS = """
import os

import pytest

from scopegate import Settings, TokenVerifier


@pytest.fixture
def scopegate_settings_overrides():
    return {"algorithms": ["RS256"]}


def test_rs256(mint_token):
    assert TokenVerifier(Settings()).verify(mint_token(scopes=["read"])).scopes == {"read"}
    assert "SCOPEGATE_SIGNING_SECRET" not in os.environ
    assert os.environ["SCOPEGATE_PUBLIC_KEY"].startswith('{"keys": [')
"""


def test_the_fixtures_mint_rs256(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_api=PLUGIN_TESTS)
    pytester.runpytest("-W", "error").assert_outcomes(passed=1)


def test_settings_of_the_environment_need_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = test_settings(algorithms=["RS256"])
    monkeypatch.setenv("SCOPEGATE_IDENTIFIER", settings.identifier)
    monkeypatch.setenv("SCOPEGATE_PUBLIC_KEY", str(settings.public_key))
    monkeypatch.delenv("SCOPEGATE_SIGNING_SECRET", raising=False)
    monkeypatch.delenv("SCOPEGATE_ALGORITHMS", raising=False)
    assert Settings(_env_file=None).algorithms == ["RS256"]
