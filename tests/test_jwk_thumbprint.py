"""scopegate._jwk.jwk_thumbprint: RFC 7638 SHA-256 thumbprints."""

from __future__ import annotations

from typing import Any

import pytest

from scopegate._jwk import jwk_thumbprint

# RFC 7638 §3.1.
RFC7638_JWK = {
    "kty": "RSA",
    "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_"
    "BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2Q"
    "vzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu"
    "0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
    "e": "AQAB",
    "alg": "RS256",
    "kid": "2011-04-29",
}


def test_rfc7638_example() -> None:
    assert jwk_thumbprint(RFC7638_JWK) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


def test_rfc8037_okp_example() -> None:
    jwk = {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}
    assert jwk_thumbprint(jwk) == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"


def test_optional_members_do_not_change_it() -> None:
    bare = {name: RFC7638_JWK[name] for name in ("kty", "n", "e")}
    assert jwk_thumbprint(bare) == jwk_thumbprint({**RFC7638_JWK, "use": "sig"})


@pytest.mark.parametrize(
    "jwk",
    [
        pytest.param({}, id="empty"),
        pytest.param({"kty": "oct", "k": "AAAA"}, id="oct"),
        pytest.param({"kty": "RSA", "n": "AQAB"}, id="rsa-no-e"),
        pytest.param({"kty": "EC", "crv": "P-256", "x": "AA", "y": 1}, id="ec-int-y"),
        pytest.param({"kty": 1}, id="kty-int"),
        pytest.param([], id="not-object"),
    ],
)
def test_no_thumbprint(jwk: Any) -> None:
    with pytest.raises(ValueError, match="JWK"):
        jwk_thumbprint(jwk)
