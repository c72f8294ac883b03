"""Whatever it is given, TokenVerifier.verify returns an AccessToken or raises InvalidTokenError."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import IDENTIFIER, ISSUER, NOW, make_settings
from jose_helpers import b64url, jws
from scopegate import AccessToken, TokenVerifier
from scopegate.errors import InvalidTokenError, TokenFailure

LARGEST = 1_048_576
TOO_LARGE, MALFORMED, CLAIM_TYPE = (
    TokenFailure.TOO_LARGE,
    TokenFailure.MALFORMED,
    TokenFailure.CLAIM_TYPE,
)
FUZZ = settings(max_examples=250, deadline=None)


VERIFIER = TokenVerifier(make_settings(cache_maxsize=0), clock=lambda: NOW)


def outcome(token: Any, verifier: TokenVerifier = VERIFIER) -> AccessToken | TokenFailure:
    """The token or its failure; any other exception fails the test."""
    try:
        return verifier.verify(token)
    except InvalidTokenError as exc:
        error = exc
    except Exception as exc:
        pytest.fail(f"verify raised {type(exc).__name__}: {exc!r}")
    assert isinstance(error.failure, TokenFailure)
    assert error.description == error.failure.value
    assert error.detail is not None, "every rule hands scopegate inspect its detail"
    return error.failure


SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=10**300, max_value=10**400),
    st.floats(),  # NaN and Infinity too: json.dumps writes them, json.loads reads them
    st.text(max_size=16),
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)


def mostly(good: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Plausible values three times out of four, so that some tokens pass every rule."""
    return st.one_of(good, good, good, JSON)


FUTURE = st.one_of(st.integers(NOW - 20, NOW + 100), st.floats(NOW - 20, NOW + 100))
PAST = st.one_of(st.integers(NOW - 100, NOW + 10), st.floats(NOW - 100, NOW + 10))
TEXT = st.text(max_size=12)
CLAIM_VALUES = {
    "exp": mostly(FUTURE),
    "nbf": mostly(PAST),
    "iat": mostly(PAST),
    "aud": mostly(st.sampled_from([IDENTIFIER, [IDENTIFIER], ["x", IDENTIFIER], "x"])),
    "iss": mostly(st.just(ISSUER)),
    "sub": mostly(TEXT),
    "azp": mostly(TEXT),
    "client_id": mostly(TEXT),
    "scope": mostly(st.one_of(TEXT, st.lists(TEXT, max_size=3))),
    "permissions": mostly(st.lists(TEXT, max_size=3)),
}
REQUIRED = ("exp", "aud", "iss")
CLAIMS = st.fixed_dictionaries(
    {name: CLAIM_VALUES[name] for name in REQUIRED},
    optional={name: value for name, value in CLAIM_VALUES.items() if name not in REQUIRED},
)
HEADER_EXTRAS = st.fixed_dictionaries(
    {},
    optional={
        "typ": mostly(st.sampled_from(["JWT", "at+jwt", "JOSE"])),
        "kid": mostly(TEXT),
        "jku": mostly(st.just("https://attacker.example/jwks.json")),
    },
)
# crit and b64 fail almost any value, so they appear in a minority of headers.
HEADERS = st.builds(
    lambda extras, rare: {**extras, **rare, "alg": "HS256"},
    HEADER_EXTRAS,
    st.one_of(st.just({}), st.just({}), st.dictionaries(st.sampled_from(["crit", "b64"]), JSON)),
)


@FUZZ
@given(token=st.text())
def test_any_text(token: str) -> None:
    assert isinstance(outcome(token), TokenFailure)


@FUZZ
@given(raw=st.binary())
def test_any_latin_1_bytes(raw: bytes) -> None:
    assert isinstance(outcome(raw.decode("latin-1")), TokenFailure)
    assert outcome(raw) is TokenFailure.MALFORMED


@FUZZ
@given(header=JSON, payload=JSON, signature=st.binary(max_size=64))
def test_three_segments_of_random_json(header: Any, payload: Any, signature: bytes) -> None:
    segments = (json.dumps(header).encode(), json.dumps(payload).encode(), signature)
    assert isinstance(outcome(".".join(b64url(s) for s in segments)), TokenFailure)


@FUZZ
@given(
    header=HEADERS,
    claims=CLAIMS,
    scope_claims=st.sampled_from([["scope"], ["scope", "permissions"]]),
)
def test_signed_random_claims(
    header: dict[str, Any], claims: dict[str, Any], scope_claims: list[str]
) -> None:
    verifier = TokenVerifier(
        make_settings(scope_claims=scope_claims, cache_maxsize=0), clock=lambda: NOW
    )
    result = outcome(jws(header, json.dumps(claims)), verifier)
    if isinstance(result, AccessToken):
        exp = claims["exp"]
        assert type(exp) in (int, float)
        assert exp + 5 > NOW
        assert IDENTIFIER in result.audience
        assert result.issuer == claims.get("iss")
        assert result.issuer == ISSUER
        assert all(isinstance(scope, str) for scope in result.scopes)


@pytest.mark.parametrize(
    ("payload", "default", "failure"),
    [
        pytest.param("[" * 100_000 + "]" * 100_000, TOO_LARGE, MALFORMED, id="arrays-100000"),
        pytest.param('{"a":' * 50_000 + "1" + "}" * 50_000, TOO_LARGE, MALFORMED, id="objects"),
        pytest.param(
            f'{{"exp": {NOW + 60}, "aud": "{IDENTIFIER}", "scope": '
            + "[" * 100_000
            + "]" * 100_000
            + "}",
            TOO_LARGE,
            MALFORMED,
            id="deep-scope-claim",
        ),
        pytest.param(
            f'{{"exp": {NOW + 60}, "aud": "{IDENTIFIER}", "iss": "{ISSUER}", "scope": '
            + "[" * 500
            + "]" * 500
            + "}",
            CLAIM_TYPE,
            CLAIM_TYPE,
            id="shallow-enough-to-parse",
        ),
    ],
)
def test_deeply_nested_payload(payload: str, default: TokenFailure, failure: TokenFailure) -> None:
    token = jws({"alg": "HS256"}, payload)
    assert outcome(token) is default
    roomy = TokenVerifier(make_settings(max_token_bytes=LARGEST), clock=lambda: NOW)
    assert len(token) <= LARGEST
    assert outcome(token, roomy) is failure


def test_deeply_nested_header() -> None:
    header = b64url(b"[" * 100_000 + b"]" * 100_000)
    token = f"{header}.{b64url(b'{}')}.{b64url(b'x' * 32)}"
    roomy = TokenVerifier(make_settings(max_token_bytes=LARGEST), clock=lambda: NOW)
    assert outcome(token, roomy) is TokenFailure.MALFORMED
