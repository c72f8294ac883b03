"""Cross-check against another JOSE library: tokens and JWK Sets made by joserfc.

scopegate verifies with PyJWT's algorithm classes, so checking it only against
PyJWT-minted tokens could hide a fault both share. Here joserfc generates the
keys, serializes the public JWK Set and signs the tokens.
"""

from __future__ import annotations

import json
import time
import warnings
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, OKPKey, RSAKey

from conformance.check import refuse_network
from helpers import IDENTIFIER, ISSUER
from scopegate import InvalidTokenError, Settings, TokenVerifier
from scopegate.errors import TokenFailure

KEYS: dict[str, Any] = {
    "RS256": lambda: RSAKey.generate_key(2048),
    "RS384": lambda: RSAKey.generate_key(2048),
    "RS512": lambda: RSAKey.generate_key(2048),
    "PS256": lambda: RSAKey.generate_key(2048),
    "PS384": lambda: RSAKey.generate_key(2048),
    "PS512": lambda: RSAKey.generate_key(2048),
    "ES256": lambda: ECKey.generate_key("P-256"),
    "ES384": lambda: ECKey.generate_key("P-384"),
    "ES512": lambda: ECKey.generate_key("P-521"),
    "EdDSA": lambda: OKPKey.generate_key("Ed25519"),
}


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    refuse_network(monkeypatch)


def joserfc_token(key: Any, alg: str, **claims: Any) -> str:
    now = int(time.time())
    payload = {"iss": ISSUER, "aud": IDENTIFIER, "sub": "c@clients", "iat": now, "exp": now + 60}
    with warnings.catch_warnings():
        # joserfc warns that RFC 9864 deprecates the fully-specified-less "EdDSA" name.
        warnings.simplefilter("ignore")
        return jwt.encode({"alg": alg, "kid": "k1"}, {**payload, **claims}, key, algorithms=[alg])


def settings_for(key: Any, alg: str) -> Settings:
    jwk = {**key.as_dict(private=False), "kid": "k1"}
    return Settings(
        _env_file=None,
        identifier=IDENTIFIER,
        issuer=ISSUER,
        public_key=json.dumps({"keys": [jwk]}),
        algorithms=[alg],
    )


@pytest.mark.parametrize("alg", list(KEYS))
def test_joserfc_tokens_verify(alg: str) -> None:
    key = KEYS[alg]()
    access = TokenVerifier(settings_for(key, alg)).verify(joserfc_token(key, alg, scope="read"))
    assert access.scopes == frozenset({"read"})
    assert access.subject == "c@clients"


@pytest.mark.parametrize("alg", list(KEYS))
def test_joserfc_tokens_by_another_key_are_refused(alg: str) -> None:
    settings = settings_for(KEYS[alg](), alg)
    with pytest.raises(InvalidTokenError) as info:
        TokenVerifier(settings).verify(joserfc_token(KEYS[alg](), alg))
    assert info.value.failure is TokenFailure.SIGNATURE


def test_the_private_half_joserfc_publishes_by_mistake_is_not_used() -> None:
    key = RSAKey.generate_key(2048)
    leaked = {**key.as_dict(private=True), "kid": "k1"}
    assert "d" in leaked
    settings = Settings(
        _env_file=None,
        identifier=IDENTIFIER,
        issuer=ISSUER,
        public_key=json.dumps({"keys": [leaked]}),
        algorithms=["RS256"],
    )
    assert TokenVerifier(settings).verify(joserfc_token(key, "RS256")).subject
