"""The DPoP helpers of scopegate.testing: mint_token(dpop_key=), dpop_proof, the fixture."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest

from scopegate._dpop import ProofVerifier, ath_for
from scopegate._settings import Settings
from scopegate.client._dpop import DPoPKey
from scopegate.errors import DPoPFailure, InvalidDPoPProofError
from scopegate.testing import dpop_headers, dpop_proof, mint_token, test_settings

URL = "https://api.scopegate.test/orders"


@pytest.fixture(scope="module")
def key() -> DPoPKey:
    return DPoPKey.generate()


def unverified(token: str) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


def test_mint_token_binds_to_the_key(key: DPoPKey) -> None:
    settings = test_settings()
    token = mint_token(settings, scopes=["read"], dpop_key=key)
    assert unverified(token)["cnf"] == {"jkt": key.thumbprint}
    assert unverified(token)["scope"] == "read"


def test_a_cnf_claim_given_wins(key: DPoPKey) -> None:
    token = mint_token(test_settings(), dpop_key=key, cnf={"jkt": "another"})
    assert unverified(token)["cnf"] == {"jkt": "another"}


def test_no_key_no_cnf() -> None:
    assert "cnf" not in unverified(mint_token(test_settings()))


def test_dpop_proof_is_what_the_client_sends(key: DPoPKey) -> None:
    token = mint_token(test_settings(), dpop_key=key)
    proof = dpop_proof(key, "GET", URL + "?x=1", token=token)
    checked = ProofVerifier(algorithms=["ES256"]).verify(
        proof, method="GET", url=URL, access_token=token, jkt=key.thumbprint
    )
    assert checked.htu == URL
    assert unverified(proof)["ath"] == ath_for(token)


@pytest.mark.parametrize(
    ("overrides", "failure"),
    [
        pytest.param({"iat": 0}, DPoPFailure.IAT, id="iat"),
        pytest.param({"htm": "POST"}, DPoPFailure.METHOD, id="htm"),
        pytest.param({"htu": "https://elsewhere.test/"}, DPoPFailure.URI, id="htu"),
        pytest.param({"ath": None}, DPoPFailure.ATH, id="no-ath"),
        pytest.param({"ath": ath_for("another token")}, DPoPFailure.ATH, id="ath"),
        pytest.param({"jti": None}, DPoPFailure.CLAIM, id="no-jti"),
        pytest.param({"headers": {"typ": "jwt"}}, DPoPFailure.TYPE, id="typ"),
    ],
)
def test_any_claim_or_header_can_be_broken(
    key: DPoPKey, overrides: dict[str, Any], failure: DPoPFailure
) -> None:
    token = mint_token(test_settings(), dpop_key=key)
    proof = dpop_proof(key, "GET", URL, token=token, **overrides)
    with pytest.raises(InvalidDPoPProofError) as caught:
        ProofVerifier(algorithms=["ES256"]).verify(
            proof, method="GET", url=URL, access_token=token, jkt=key.thumbprint
        )
    assert caught.value.failure is failure


def test_overrides_set_and_remove_claims(key: DPoPKey) -> None:
    claims = unverified(dpop_proof(key, "GET", URL, jti="fixed", nonce="n", iat=None))
    assert claims == {"jti": "fixed", "htm": "GET", "htu": URL, "nonce": "n"}


def test_dpop_headers(key: DPoPKey) -> None:
    token = mint_token(test_settings(), dpop_key=key)
    headers = dpop_headers(token, key, "DELETE", URL)
    assert set(headers) == {"Authorization", "DPoP"}
    assert headers["Authorization"] == f"DPoP {token}"
    claims = unverified(headers["DPoP"])
    assert (claims["htm"], claims["htu"], claims["ath"]) == ("DELETE", URL, ath_for(token))
    assert abs(claims["iat"] - time.time()) < 5


def test_the_fixture_gives_a_fresh_es256_key(
    scopegate_dpop_key: DPoPKey, key: DPoPKey, scopegate_settings: Settings
) -> None:
    assert isinstance(scopegate_dpop_key, DPoPKey)
    assert scopegate_dpop_key.alg == "ES256"
    assert scopegate_dpop_key.thumbprint != key.thumbprint
    token = mint_token(scopegate_settings, dpop_key=scopegate_dpop_key)
    assert unverified(token)["cnf"]["jkt"] == scopegate_dpop_key.thumbprint


def test_the_readme_example(
    mint_token: Any, scopegate_dpop_key: DPoPKey, scopegate_settings: Settings
) -> None:
    """The README's testing snippet, against the FastAPI example's routes in process."""
    from starlette.testclient import TestClient

    from scopegate.demo.api import create_api

    with TestClient(create_api(scopegate_settings)) as client:
        url = "http://testserver/api/private"
        token = mint_token(dpop_key=scopegate_dpop_key)
        headers = dpop_headers(token, scopegate_dpop_key, "GET", url)
        assert client.get(url, headers=headers).status_code == 200
        stale = dpop_proof(scopegate_dpop_key, "GET", url, token=token, iat=0)
        headers = {"Authorization": f"DPoP {token}", "DPoP": stale}
        assert client.get(url, headers=headers).json()["error"] == "invalid_dpop_proof"
