"""The algorithm tables have one owner each, and the places that read them agree."""

from __future__ import annotations

import pytest
from jwt.algorithms import HMACAlgorithm, get_default_algorithms

from scopegate import _jwk as jwk
from scopegate import _settings as settings
from scopegate.testing import key_pair


@pytest.mark.parametrize("name", settings.HMAC_ALGORITHMS)
def test_each_hmac_name_has_pyjwts_hash_of_the_size_the_secret_needs(name: str) -> None:
    algorithm = get_default_algorithms()[name]
    assert isinstance(algorithm, HMACAlgorithm)
    assert algorithm.hash_alg().digest_size == settings.SECRET_BYTES_NEEDED[name]


def test_the_hmac_names_are_the_secret_table() -> None:
    assert settings.HMAC_ALGORITHMS == ("HS256", "HS384", "HS512")
    assert tuple(settings.SECRET_BYTES_NEEDED) == settings.HMAC_ALGORITHMS


def test_settings_and_jwk_name_the_same_asymmetric_algorithms() -> None:
    # settings keeps its own tuple so it imports without cryptography (the jwks extra).
    assert settings.ASYMMETRIC_ALGORITHMS == jwk.ASYMMETRIC_ALGORITHMS


@pytest.mark.parametrize(
    ("algorithm", "curve"),
    [
        pytest.param("ES256", "secp256r1", id="ES256"),
        pytest.param("ES384", "secp384r1", id="ES384"),
        pytest.param("ES512", "secp521r1", id="ES512"),
    ],
)
def test_test_keys_are_on_the_curve_jwk_verifies_with(algorithm: str, curve: str) -> None:
    assert key_pair(algorithm).private_key.curve.name == curve


def test_an_unknown_algorithm_has_no_test_key() -> None:
    with pytest.raises(ValueError, match="'ES999' is not one of RS256"):
        key_pair("ES999")
