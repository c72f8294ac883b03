"""Hypothesis: no JWK Set, JWK or header, however odd, crashes key selection or loading."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scopegate._jwk import KeySet, parse_key_set, parse_static_key
from scopegate._jwks import max_age
from scopegate.errors import InvalidTokenError

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
MEMBER_NAMES = ["kty", "kid", "alg", "use", "key_ops", "crv", "n", "e", "x", "y", "d", "k"]
VALUES = (
    st.sampled_from(
        ["RSA", "EC", "OKP", "oct", "P-256", "P-521", "Ed25519", "sig", "enc", "AQAB", "", "AA"]
    )
    | JSON
)
JWK = st.dictionaries(st.sampled_from(MEMBER_NAMES), VALUES, max_size=8)
ALGS = st.sampled_from(["RS256", "PS512", "ES256", "ES384", "ES512", "EdDSA"])


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(JWK | JSON, max_size=5), st.dictionaries(st.sampled_from(["kid", "alg"]), JSON))
def test_any_set_and_header(members: list[Any], header: dict[str, Any]) -> None:
    keys = parse_key_set({"keys": members})
    assert isinstance(keys, KeySet)
    for alg in ("RS256", "ES256", "EdDSA"):
        refusal = None
        try:
            keys.select(header, alg)
        except InvalidTokenError as error:
            refusal = error
        # Every refusal says why, for scopegate inspect.
        assert refusal is None or refusal.detail is not None


@settings(max_examples=200)
@given(JSON)
def test_any_json_document(document: Any) -> None:
    with contextlib.suppress(ValueError):
        parse_key_set(document)


@settings(max_examples=200)
@given(st.text(max_size=200) | JSON.map(json.dumps))
def test_any_static_key_text(text: str) -> None:
    with contextlib.suppress(ValueError):
        parse_static_key(text)


@given(st.text(max_size=60), st.floats(min_value=0, max_value=1e6))
def test_max_age_never_lengthens(control: str, ceiling: float) -> None:
    assert 0 <= max_age({"cache-control": control}, ceiling) <= ceiling


@given(ALGS)
def test_an_empty_set_knows_no_key(alg: str) -> None:
    with pytest.raises(InvalidTokenError) as info:
        KeySet().select({"kid": "k"}, alg)
    assert info.value.failure.name == "UNKNOWN_KEY"
