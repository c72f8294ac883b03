"""Cross-check with a second JOSE library: joserfc's tokens verify here, and ours verify there."""

from __future__ import annotations

import time
from typing import Any

import pytest
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import OctKey

from helpers import CLIENT_ID, IDENTIFIER, ISSUER, SECRET, make_settings
from scopegate import InvalidTokenError, TokenVerifier
from scopegate.errors import TokenFailure
from scopegate.testing import mint_token

KEY = OctKey.import_key(SECRET.encode())


def joserfc_token(header: dict[str, Any], **claims: Any) -> str:
    now = int(time.time())
    payload = {
        "iss": ISSUER,
        "sub": f"{CLIENT_ID}@clients",
        "aud": IDENTIFIER,
        "iat": now,
        "exp": now + 600,
        "client_id": CLIENT_ID,
        "jti": "joserfc-1",
        "scope": "read",
        **claims,
    }
    return jwt.encode({"alg": "HS256", **header}, payload, KEY)


@pytest.mark.parametrize(
    ("header", "profile"),
    [
        pytest.param({"typ": "JWT"}, "default", id="jwt"),
        pytest.param({}, "default", id="no-typ"),
        pytest.param({"typ": "at+jwt"}, "rfc9068", id="at+jwt-rfc9068"),
        pytest.param({"typ": "application/at+jwt"}, "rfc9068", id="application-at+jwt"),
    ],
)
def test_joserfc_tokens_verify(header: dict[str, Any], profile: str) -> None:
    verifier = TokenVerifier(make_settings(token_profile=profile))
    token = verifier.verify(joserfc_token(header))
    assert (token.client_id, token.scopes) == (CLIENT_ID, frozenset({"read"}))


@pytest.mark.parametrize(
    ("header", "claims", "failure"),
    [
        pytest.param({"typ": "JWT"}, {"cnf": {"jkt": "abc"}}, TokenFailure.BOUND, id="cnf"),
        pytest.param({"cty": "JWT"}, {}, TokenFailure.HEADER, id="nested"),
        pytest.param({"typ": "JWT"}, {"jti": 5}, TokenFailure.CLAIM_TYPE, id="jti-type"),
    ],
)
def test_joserfc_tokens_that_break_a_rule(
    header: dict[str, Any], claims: dict[str, Any], failure: TokenFailure
) -> None:
    with pytest.raises(InvalidTokenError) as raised:
        TokenVerifier(make_settings()).verify(joserfc_token(header, **claims))
    assert raised.value.failure is failure


@pytest.mark.parametrize("profile", ["default", "rfc9068"])
def test_minted_tokens_verify_in_joserfc(profile: str) -> None:
    settings = make_settings(token_profile=profile)
    token = jwt.decode(mint_token(settings, scopes=["read"]), KEY, algorithms=["HS256"])
    registry = jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": ISSUER},
        aud={"essential": True, "value": IDENTIFIER},
        exp={"essential": True},
        sub={"essential": True},
    )
    registry.validate(token.claims)
    assert token.header["typ"] == ("at+jwt" if profile == "rfc9068" else "JWT")
    if profile == "rfc9068":
        assert {"client_id", "jti", "iat"} <= set(token.claims)


def test_joserfc_refuses_what_we_sign_with_another_key() -> None:
    settings = make_settings()
    token = mint_token(settings, secret="another-secret-that-is-long-enough-for-hs256-0123")
    with pytest.raises(JoseError):
        jwt.decode(token, KEY, algorithms=["HS256"])
