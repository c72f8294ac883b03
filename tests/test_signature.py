"""scopegate._signature: the prepared check answers exactly as PyJWT's algorithm classes do."""

from __future__ import annotations

from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from hypothesis import given, settings
from hypothesis import strategies as st

from scopegate._signature import SIGNATURE_ALGORITHMS, signature_check

_RSA = rsa.generate_private_key(public_exponent=65537, key_size=2048)
_KEYS: dict[str, Any] = {
    **{f"{family}{size}": _RSA for family in ("RS", "PS") for size in (256, 384, 512)},
    "ES256": ec.generate_private_key(ec.SECP256R1()),
    "ES384": ec.generate_private_key(ec.SECP384R1()),
    "ES512": ec.generate_private_key(ec.SECP521R1()),
}
_EDDSA = {
    "Ed25519": ed25519.Ed25519PrivateKey.generate(),
    "Ed448": ed448.Ed448PrivateKey.generate(),
}
MESSAGE = b"eyJ0eXAiOiJkcG9wK2p3dCJ9.eyJqdGkiOiJhIn0"
CASES = [pytest.param(alg, _KEYS[alg], id=alg) for alg in _KEYS] + [
    pytest.param("EdDSA", key, id=f"EdDSA-{name}") for name, key in _EDDSA.items()
]


def test_every_asymmetric_algorithm_is_covered() -> None:
    assert sorted(SIGNATURE_ALGORITHMS) == sorted({*_KEYS, "EdDSA"})


@pytest.mark.parametrize(("alg", "private"), CASES)
def test_a_pyjwt_signature_verifies_and_a_changed_one_does_not(alg: str, private: Any) -> None:
    algorithm = jwt.get_algorithm_by_name(alg)
    signature = algorithm.sign(MESSAGE, private)
    public = private.public_key()
    check = signature_check(alg, public)
    flipped = bytes([signature[0] ^ 1]) + signature[1:]
    for message, sig, expected in [
        (MESSAGE, signature, True),
        (MESSAGE, flipped, False),
        (MESSAGE + b"x", signature, False),
        (MESSAGE, signature[:-1], False),
        (MESSAGE, signature + b"\x00", False),
        (MESSAGE, b"", False),
    ]:
        assert check(message, sig) is expected
        assert algorithm.verify(message, public, sig) is expected  # PyJWT agrees


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["ES256", "ES384", "ES512", "RS256", "PS256"]), st.binary(max_size=600))
def test_any_bytes_as_a_signature_get_pyjwt_s_answer(alg: str, signature: bytes) -> None:
    public = _KEYS[alg].public_key()
    assert signature_check(alg, public)(MESSAGE, signature) is jwt.get_algorithm_by_name(
        alg
    ).verify(MESSAGE, public, signature)


@pytest.mark.parametrize(
    ("alg", "key"),
    [
        pytest.param("HS256", _RSA.public_key(), id="hmac"),
        pytest.param("none", _RSA.public_key(), id="none"),
        pytest.param("ES256", _RSA.public_key(), id="es-with-rsa"),
        pytest.param("RS256", _KEYS["ES256"].public_key(), id="rs-with-ec"),
        pytest.param("EdDSA", _RSA.public_key(), id="eddsa-with-rsa"),
        pytest.param("RS256", _RSA, id="private-key"),
    ],
)
def test_an_algorithm_and_key_that_do_not_fit_are_refused(alg: str, key: Any) -> None:
    with pytest.raises(ValueError, match=r"asymmetric JWS algorithm|needs an"):
        signature_check(alg, key)
