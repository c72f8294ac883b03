"""TokenVerifier.verify: JOSE header rules, the algorithm allow-list and signatures."""

from __future__ import annotations

import json
import logging
import socket
import warnings
from typing import Any

import pytest

from helpers import IDENTIFIER, ISSUER, NOW, SECRET, make_settings
from jose_helpers import SECRET_64, b64url, failure_of, jws, token_with, valid_claims, verify
from scopegate import TokenVerifier
from scopegate.errors import TokenFailure

CLAIMS = json.dumps(valid_claims())


HEADERS = [
    pytest.param({"alg": "HS256", "typ": "JWT"}, None, id="typ-JWT"),
    pytest.param({"alg": "HS256", "typ": "jwt"}, None, id="typ-jwt"),
    pytest.param({"alg": "HS256", "typ": "at+jwt"}, None, id="typ-at+jwt"),
    pytest.param({"alg": "HS256", "typ": "AT+JWT"}, None, id="typ-AT+JWT"),
    pytest.param({"alg": "HS256", "typ": "application/at+jwt"}, None, id="typ-media-type"),
    pytest.param({"alg": "HS256", "typ": "JOSE"}, TokenFailure.TYPE, id="typ-JOSE"),
    pytest.param({"alg": "HS256", "typ": "id_token+jwt"}, TokenFailure.TYPE, id="typ-id-token"),
    pytest.param({"alg": "HS256", "typ": 5}, TokenFailure.TYPE, id="typ-number"),
    pytest.param({"alg": "HS256", "crit": ["exp"]}, TokenFailure.HEADER, id="crit-unknown"),
    pytest.param({"alg": "HS256", "crit": ["b64"]}, TokenFailure.HEADER, id="crit-b64"),
    pytest.param({"alg": "HS256", "b64": False}, TokenFailure.HEADER, id="b64-false"),
    pytest.param(
        {"alg": "HS256", "b64": False, "crit": ["b64"]}, TokenFailure.HEADER, id="b64-false-crit"
    ),
    pytest.param({"alg": "HS256", "b64": "false"}, TokenFailure.HEADER, id="b64-string"),
    pytest.param({"alg": "HS256", "b64": True}, None, id="b64-true"),
]


@pytest.mark.parametrize(("header", "failure"), HEADERS)
def test_header_rules(header: dict[str, Any], failure: TokenFailure | None) -> None:
    token = jws(header, CLAIMS)
    if failure is None:
        assert verify(token).audience == (IDENTIFIER,)
    else:
        assert failure_of(token) is failure


ALGORITHMS = [
    pytest.param({"alg": "none"}, "", {}, id="none-unsigned"),
    pytest.param({"alg": "None"}, "", {}, id="None-unsigned"),
    pytest.param({"alg": "NONE"}, "", {}, id="NONE-unsigned"),
    pytest.param({"alg": "none"}, "HS256", {}, id="none-with-hmac"),
    pytest.param({"alg": "hs256"}, "HS256", {}, id="hs256-lowercase"),
    pytest.param({}, "HS256", {}, id="alg-missing"),
    pytest.param({"alg": None}, "HS256", {}, id="alg-null"),
    pytest.param({"alg": ["HS256"]}, "HS256", {}, id="alg-list"),
    pytest.param({"alg": "HS384"}, "HS384", {}, id="HS384-not-allowed"),
    pytest.param({"alg": "HS512"}, "HS512", {"algorithms": ["HS256", "HS384"]}, id="HS512"),
    pytest.param({"alg": "RS256"}, "HS256", {}, id="RS256"),
    pytest.param({"alg": "ES256"}, "HS256", {}, id="ES256"),
    pytest.param({"alg": "PS256"}, "HS256", {"algorithms": ["HS256", "HS384"]}, id="PS256"),
]


@pytest.mark.parametrize(("header", "sign_as", "settings"), ALGORITHMS)
def test_algorithm_not_allowed(header: dict[str, Any], sign_as: str, settings: Any) -> None:
    assert failure_of(jws(header, CLAIMS, sign_as=sign_as), **settings) is TokenFailure.ALGORITHM


@pytest.mark.parametrize(
    ("token", "settings"),
    [
        pytest.param(token_with(algorithm="HS384"), {"algorithms": ["HS256", "HS384"]}, id="HS384"),
        pytest.param(token_with(), {"algorithms": ["HS256", "HS384"]}, id="HS256-with-HS384"),
        pytest.param(
            token_with(algorithm="HS512", key=SECRET_64),
            {"algorithms": ["HS512"], "signing_secret": SECRET_64},
            id="HS512-only",
        ),
    ],
)
def test_algorithm_allowed(token: str, settings: dict[str, Any]) -> None:
    assert verify(token, **settings).issuer == ISSUER


def tampered_payload() -> str:
    header, _, signature = token_with().split(".")
    return ".".join((header, b64url(json.dumps(valid_claims(scope="admin")).encode()), signature))


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(token_with(key=SECRET + "x"), id="wrong-key"),
        pytest.param(tampered_payload(), id="tampered-payload"),
        pytest.param(token_with()[:-4], id="truncated-signature"),
        pytest.param(jws({"alg": "HS256"}, CLAIMS, sign_as=""), id="empty-signature"),
        pytest.param(jws({"alg": "HS384"}, CLAIMS, sign_as="HS256"), id="HS256-labelled-HS384"),
    ],
)
def test_bad_signature(token: str) -> None:
    assert failure_of(token, algorithms=["HS256", "HS384"]) is TokenFailure.SIGNATURE


def test_key_url_headers_are_ignored_and_nothing_is_fetched(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    attempts: list[object] = []

    def refuse(*args: object, **kwargs: object) -> None:
        attempts.append(args)
        raise AssertionError("the verifier must not use the network")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    header = {
        "alg": "HS256",
        "kid": "attacker-key",
        "jku": "https://attacker.example/jwks.json",
        "x5u": "https://attacker.example/cert.pem",
        "x5c": ["MIIB"],
        "jwk": {"kty": "oct", "k": b64url(b"attacker-secret-attacker-secret!")},
    }
    assert verify(jws(header, CLAIMS)).audience == (IDENTIFIER,)
    forged = jws(header, CLAIMS, key="attacker-secret-attacker-secret!")
    assert failure_of(forged) is TokenFailure.SIGNATURE
    assert attempts == []


def test_weak_secret_allowed_warns_once_at_construction_not_per_token(
    caplog: pytest.LogCaptureFixture,
) -> None:
    weak = "short-but-allowed"
    settings = make_settings(signing_secret=weak, allow_weak_secret=True)
    with caplog.at_level(logging.WARNING, logger="scopegate"):
        verifier = TokenVerifier(settings, clock=lambda: NOW)
    assert [record.getMessage() for record in caplog.records] == [
        "scopegate: the signing secret is shorter than RFC 7518 section 3.2 allows "
        "(SCOPEGATE_ALLOW_WEAK_SECRET is set)"
    ]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert verifier.verify(jws({"alg": "HS256"}, CLAIMS, key=weak)).issuer == ISSUER
    assert caught == []
    assert weak not in caplog.text
