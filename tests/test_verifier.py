"""TokenVerifier.verify: claim rules, leeway, size and malformed input, each with its exact failure.

Headers, algorithms and signatures are in test_verifier_jose.py, AccessToken
fields in test_token.py, fuzzing in test_verifier_fuzz.py.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from helpers import IDENTIFIER, ISSUER, NOW, SECRET, make_settings, mint
from jose_helpers import (
    b64url,
    failure_of,
    jws,
    raw_token,
    signed,
    token_with,
    valid_claims,
    verify,
)
from scopegate import ConfigurationError, InvalidTokenError, TokenVerifier
from scopegate.errors import TokenFailure


def test_valid_token_is_accepted() -> None:
    assert verify(token_with()).subject == "zA9hQ0wZ2cL1sT8xK3mN5pR7vY4bD6fG@clients"
    assert verify(raw_token(f'"exp": {NOW + 1}')).scopes == frozenset({"a", "b"})


CLAIM_FAILURES = [
    pytest.param({"exp": NOW - 60}, TokenFailure.EXPIRED, id="expired"),
    pytest.param({"exp": NOW - 5}, TokenFailure.EXPIRED, id="expired-by-leeway"),
    pytest.param({"nbf": NOW + 60}, TokenFailure.NOT_YET_VALID, id="nbf-in-future"),
    pytest.param({"iat": NOW + 60}, TokenFailure.NOT_YET_VALID, id="iat-in-future"),
    pytest.param({"exp": None}, TokenFailure.MISSING_CLAIM, id="exp-missing"),
    pytest.param({"exp": str(NOW + 3600)}, TokenFailure.CLAIM_TYPE, id="exp-numeric-string"),
    pytest.param({"exp": "123"}, TokenFailure.CLAIM_TYPE, id="exp-string-123"),
    pytest.param({"exp": True}, TokenFailure.CLAIM_TYPE, id="exp-bool"),
    pytest.param({"exp": 1e20}, TokenFailure.CLAIM_TYPE, id="exp-1e20"),
    pytest.param({"exp": 10**400}, TokenFailure.CLAIM_TYPE, id="exp-huge-int"),
    pytest.param({"exp": -1}, TokenFailure.CLAIM_TYPE, id="exp-negative"),
    pytest.param({"exp": [NOW + 3600]}, TokenFailure.CLAIM_TYPE, id="exp-list"),
    pytest.param({"nbf": "0"}, TokenFailure.CLAIM_TYPE, id="nbf-string"),
    pytest.param({"iat": False}, TokenFailure.CLAIM_TYPE, id="iat-bool"),
    pytest.param({"aud": None}, TokenFailure.MISSING_CLAIM, id="aud-missing"),
    pytest.param({"aud": "https://other-api"}, TokenFailure.AUDIENCE, id="aud-wrong"),
    pytest.param({"aud": IDENTIFIER.upper()}, TokenFailure.AUDIENCE, id="aud-other-case"),
    pytest.param({"aud": IDENTIFIER + "/"}, TokenFailure.AUDIENCE, id="aud-trailing-slash"),
    pytest.param({"aud": ["https://a", "https://b"]}, TokenFailure.AUDIENCE, id="aud-list-wrong"),
    pytest.param({"aud": []}, TokenFailure.AUDIENCE, id="aud-empty-list"),
    pytest.param({"aud": [IDENTIFIER, 5]}, TokenFailure.CLAIM_TYPE, id="aud-list-non-string"),
    pytest.param({"aud": [[IDENTIFIER]]}, TokenFailure.CLAIM_TYPE, id="aud-nested-list"),
    pytest.param({"aud": 5}, TokenFailure.CLAIM_TYPE, id="aud-number"),
    pytest.param({"aud": {IDENTIFIER: True}}, TokenFailure.CLAIM_TYPE, id="aud-object"),
    pytest.param({"iss": "https://evil.example/"}, TokenFailure.ISSUER, id="iss-wrong"),
    pytest.param({"iss": ISSUER.rstrip("/")}, TokenFailure.ISSUER, id="iss-without-slash"),
    pytest.param({"iss": None}, TokenFailure.ISSUER, id="iss-missing"),
    pytest.param({"iss": 5}, TokenFailure.CLAIM_TYPE, id="iss-number"),
    pytest.param({"sub": 5}, TokenFailure.CLAIM_TYPE, id="sub-number"),
    pytest.param({"sub": ["x"]}, TokenFailure.CLAIM_TYPE, id="sub-list"),
    pytest.param({"azp": 5}, TokenFailure.CLAIM_TYPE, id="azp-number"),
    pytest.param({"azp": None, "client_id": 5}, TokenFailure.CLAIM_TYPE, id="client-id-number"),
    pytest.param({"scope": 5}, TokenFailure.CLAIM_TYPE, id="scope-number"),
    pytest.param({"scope": [1, 2]}, TokenFailure.CLAIM_TYPE, id="scope-list-of-ints"),
    pytest.param({"scope": ["a", 2]}, TokenFailure.CLAIM_TYPE, id="scope-mixed-list"),
    pytest.param({"scope": True}, TokenFailure.CLAIM_TYPE, id="scope-bool"),
    pytest.param({"scope": {"a": 1}}, TokenFailure.CLAIM_TYPE, id="scope-object"),
]


@pytest.mark.parametrize(("overrides", "failure"), CLAIM_FAILURES)
def test_claim_rules(overrides: dict[str, Any], failure: TokenFailure) -> None:
    assert failure_of(signed(**overrides)) is failure


@pytest.mark.parametrize(
    ("fields", "failure"),
    [
        # Not JSON (RFC 8259 §6), or a number no float or int can hold: the segment is malformed.
        pytest.param('"exp": NaN', TokenFailure.MALFORMED, id="exp-nan"),
        pytest.param('"exp": Infinity', TokenFailure.MALFORMED, id="exp-infinity"),
        pytest.param('"exp": -Infinity', TokenFailure.MALFORMED, id="exp-minus-infinity"),
        pytest.param('"exp": 1e400', TokenFailure.MALFORMED, id="exp-float-overflow"),
        pytest.param('"exp": 1' + "0" * 4000, TokenFailure.CLAIM_TYPE, id="exp-4001-digits"),
        pytest.param('"exp": 1' + "0" * 30, TokenFailure.CLAIM_TYPE, id="exp-31-digits"),
        # Present, so it must be a NumericDate: null is not absent (RFC 7519 §4.1).
        pytest.param('"exp": null', TokenFailure.CLAIM_TYPE, id="exp-null"),
        pytest.param(f'"exp": {NOW + 60}, "nbf": NaN', TokenFailure.MALFORMED, id="nbf-nan"),
        pytest.param(f'"exp": {NOW + 60}, "iat": Infinity', TokenFailure.MALFORMED, id="iat-inf"),
        pytest.param(f'"exp": {NOW + 60}, "nbf": null', TokenFailure.CLAIM_TYPE, id="nbf-null"),
        pytest.param(f'"exp": {NOW + 60}, "sub": null', TokenFailure.CLAIM_TYPE, id="sub-null"),
        # raw_token's claims already hold iat: a second one is a duplicate member.
        pytest.param(f'"exp": {NOW + 60}, "iat": null', TokenFailure.MALFORMED, id="iat-twice"),
    ],
)
def test_hand_written_numbers(fields: str, failure: TokenFailure) -> None:
    assert failure_of(raw_token(fields)) is failure


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({"iss": "https://anyone.example/"}, id="iss-any-string"),
        pytest.param({"iss": None}, id="iss-missing"),
    ],
)
def test_issuer_unchecked_when_unset(overrides: dict[str, Any]) -> None:
    assert verify(token_with(**overrides), issuer=None).issuer == overrides["iss"]


def test_issuer_type_checked_even_when_unset() -> None:
    assert failure_of(signed(iss=5), issuer=None) is TokenFailure.CLAIM_TYPE


def test_permissions_type_checked_only_when_configured() -> None:
    token = token_with(permissions=[1])
    assert verify(token).scopes == frozenset({"sample-scope", "other-scope"})
    assert failure_of(token, scope_claims=["scope", "permissions"]) is TokenFailure.CLAIM_TYPE


@pytest.mark.parametrize(
    "token",
    [
        pytest.param("", id="empty"),
        pytest.param("abc", id="one-segment"),
        pytest.param("a.b", id="two-segments"),
        pytest.param("a.b.c", id="three-junk-segments"),
        pytest.param(token_with() + ".x", id="four-segments"),
        pytest.param(token_with().encode(), id="bytes"),
        pytest.param(None, id="None"),
        pytest.param(12345, id="int"),
        pytest.param(["a", "b", "c"], id="list"),
        pytest.param(jws({"alg": "HS256"}, "[1, 2]"), id="payload-array"),
        pytest.param(jws({"alg": "HS256"}, "null"), id="payload-null"),
        pytest.param(jws({"alg": "HS256"}, '"claims"'), id="payload-string"),
        pytest.param(jws({"alg": "HS256"}, "not json"), id="payload-not-json"),
        pytest.param(
            jws({"alg": "HS256"}, json.dumps(valid_claims()) + "x"), id="payload-trailing-garbage"
        ),
        pytest.param(jws({"alg": "HS256"}, b'{"exp": "\xff"}'), id="payload-not-utf8"),
        pytest.param(b64url(b"[]") + ".e30.c2ln", id="header-array"),
    ],
)
def test_malformed(token: Any) -> None:
    assert failure_of(token) is TokenFailure.MALFORMED


def test_too_large_boundary() -> None:
    token = token_with(pad="x" * 300)
    assert verify(token, max_token_bytes=len(token)).issuer == ISSUER
    assert failure_of(token, max_token_bytes=len(token) - 1) is TokenFailure.TOO_LARGE
    assert failure_of("x" * 8193) is TokenFailure.TOO_LARGE


@pytest.mark.parametrize(
    ("claims", "now", "failure"),
    [
        pytest.param({"exp": 1000}, 1004.9, None, id="exp-inside-leeway"),
        pytest.param({"exp": 1000}, 1005, TokenFailure.EXPIRED, id="exp-at-leeway"),
        pytest.param({"exp": 1000}, 1005.1, TokenFailure.EXPIRED, id="exp-past-leeway"),
        pytest.param({"exp": 5000, "nbf": 1000}, 995, None, id="nbf-at-leeway"),
        pytest.param({"exp": 5000, "nbf": 1000}, 994.9, TokenFailure.NOT_YET_VALID, id="nbf-early"),
        pytest.param({"exp": 5000, "iat": 1000}, 995, None, id="iat-at-leeway"),
        pytest.param({"exp": 5000, "iat": 1000}, 994.9, TokenFailure.NOT_YET_VALID, id="iat-early"),
    ],
)
def test_leeway_boundary(claims: dict[str, Any], now: float, failure: TokenFailure | None) -> None:
    token = mint(**{"iat": None, **claims})
    if failure is None:
        assert verify(token, now, leeway=5).expires_at.timestamp() == claims["exp"]
    else:
        assert failure_of(token, now, leeway=5) is failure


def test_zero_leeway() -> None:
    token = mint(iat=None, exp=1000)
    assert verify(token, 999.999, leeway=0).expires_at.timestamp() == 1000
    assert failure_of(token, 1000, leeway=0) is TokenFailure.EXPIRED


@pytest.mark.parametrize(
    "cache_maxsize", [pytest.param(0, id="uncached"), pytest.param(100, id="cached")]
)
def test_same_verifier_expires_token_on_its_clock(cache_maxsize: int) -> None:
    now = [float(NOW)]
    verifier = TokenVerifier(make_settings(cache_maxsize=cache_maxsize), clock=lambda: now[0])
    token = token_with()
    assert verifier.verify(token).issuer == ISSUER
    now[0] = NOW + 3600 + 4.9
    assert verifier.verify(token).issuer == ISSUER
    now[0] = NOW + 3600 + 5
    with pytest.raises(InvalidTokenError) as info:
        verifier.verify(token)
    assert info.value.failure is TokenFailure.EXPIRED


def test_validators_see_the_verified_claims() -> None:
    seen: list[Any] = []

    def tenant(claims: Any) -> bool:
        seen.append(claims)
        return bool(claims.get("org") == "acme")

    verifier = TokenVerifier(make_settings(), clock=lambda: NOW, validators=[tenant])
    accepted = token_with(org="acme")
    assert verifier.verify(accepted).claims["org"] == "acme"
    assert verifier.verify(accepted).claims["org"] == "acme"  # a cache hit: not run again
    assert len(seen) == 1
    with pytest.raises(InvalidTokenError) as raised:
        verifier.verify(token_with(org="other"))
    assert raised.value.failure is TokenFailure.REJECTED
    assert raised.value.description == "The access token is not accepted by this resource"
    assert verifier.cache is not None
    assert len(verifier.cache) == 1  # the rejected token was not cached


def test_validators_run_after_scopegates_rules() -> None:
    def never(claims: Any) -> bool:
        raise AssertionError("a validator ran on a token scopegate rejects")

    verifier = TokenVerifier(make_settings(), clock=lambda: NOW, validators=[never])
    assert failure_of_with(verifier, token_with(exp=NOW - 3600)) is TokenFailure.EXPIRED


def failure_of_with(verifier: TokenVerifier, token: str) -> TokenFailure:
    with pytest.raises(InvalidTokenError) as raised:
        verifier.verify(token)
    return raised.value.failure


def test_key_for_is_the_one_key_lookup() -> None:
    verifier = TokenVerifier(
        make_settings(algorithms=["HS256", "HS512"], signing_secret=SECRET * 2)
    )
    assert verifier._key_for({"alg": "HS256", "kid": "other"}, "HS256") == (SECRET * 2).encode()
    assert verifier._key_for({"alg": "HS512"}, "HS512") == (SECRET * 2).encode()


def test_a_secret_shaped_like_a_jwk_stops_the_app() -> None:
    jwk = '{"kty": "oct", "k": "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA"}'
    with pytest.raises(ConfigurationError) as raised:
        TokenVerifier(make_settings(signing_secret=jwk))
    assert str(raised.value) == (
        "Invalid scopegate settings:\n  signing_secret (SCOPEGATE_SIGNING_SECRET): "
        "looks like an asymmetric key or a JWK, not an HMAC secret"
    )
    assert "c2VjcmV0" not in str(raised.value)


@pytest.mark.parametrize(
    ("header", "claims", "failure"),
    [
        pytest.param({"typ": "at+jwt"}, {"client_id": "c", "jti": "j", "sub": "s"}, None, id="ok"),
        pytest.param(
            {"typ": "JWT"},
            {"client_id": "c", "jti": "j", "sub": "s"},
            TokenFailure.TYPE,
            id="typ-jwt",
        ),
        pytest.param(
            {}, {"client_id": "c", "jti": "j", "sub": "s"}, TokenFailure.TYPE, id="no-typ"
        ),
        pytest.param(
            {"typ": "at+jwt"},
            {"jti": "j", "sub": "s"},
            TokenFailure.MISSING_CLAIM,
            id="no-client-id",
        ),
        pytest.param(
            {"typ": "at+jwt"},
            {"client_id": "c", "sub": "s"},
            TokenFailure.MISSING_CLAIM,
            id="no-jti",
        ),
        pytest.param(
            {"typ": "at+jwt"},
            {"client_id": "c", "jti": "j"},
            TokenFailure.MISSING_CLAIM,
            id="no-sub",
        ),
        pytest.param(
            {"typ": "at+jwt"},
            {"client_id": 1, "jti": "j", "sub": "s"},
            TokenFailure.CLAIM_TYPE,
            id="client-id-type",
        ),
    ],
)
def test_rfc9068_profile(
    header: dict[str, Any], claims: dict[str, Any], failure: TokenFailure | None
) -> None:
    token = jws({"alg": "HS256", **header}, json.dumps(valid_claims(**claims)))
    if failure is None:
        assert verify(token, token_profile="rfc9068").client_id == "c"
    else:
        assert failure_of(token, token_profile="rfc9068") is failure


def test_one_token_one_spelling_one_cache_entry() -> None:
    """Other spellings of a signature (padding bits, padding, + and /) are refused, uncached."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    verifier = TokenVerifier(make_settings(), clock=lambda: NOW)
    token = token_with()
    verifier.verify(token)
    head, _, signature = token.rpartition(".")
    last = alphabet.index(signature[-1])
    spellings = [
        *(f"{head}.{signature[:-1]}{alphabet[last | bits]}" for bits in (1, 2, 3)),
        f"{head}.{signature}=",
        f"{head}.{signature.replace('-', '+').replace('_', '/')}",
    ]
    for spelling in {s for s in spellings if s != token}:
        assert failure_of_with(verifier, spelling) is TokenFailure.MALFORMED
    assert verifier.cache is not None
    assert len(verifier.cache) == 1
