"""scopegate.dpop: every RFC 9449 §4.3 proof rule, on proofs built from raw parts."""

from __future__ import annotations

from typing import Any

import pytest

from dpop_helpers import ALGORITHMS, METHOD, NOW, TOKEN, URL, make_proof, private_key, public_jwk
from scopegate.dpop import DPoPProof, ProofVerifier, ath_for, normalize_htu
from scopegate.errors import DPoPFailure, InvalidDPoPProofError, UseDPoPNonceError
from scopegate.jwk import jwk_thumbprint
from scopegate.nonce import NonceSource


def verifier(**options: Any) -> ProofVerifier:
    options = {"algorithms": ALGORITHMS, "clock": lambda: NOW, **options}
    return ProofVerifier(**options)


def failure_of(proof: Any, **request: Any) -> DPoPFailure:
    options = request.pop("options", {})
    request = {"method": METHOD, "url": URL, **request}
    with pytest.raises(InvalidDPoPProofError) as info:
        verifier(**options).verify(proof, **request)
    assert info.value.status_code == 401
    assert info.value.error == "invalid_dpop_proof"
    assert info.value.description == info.value.failure.value
    return info.value.failure


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_a_valid_proof_of_each_algorithm_is_accepted(alg: str) -> None:
    token_key = private_key("Ed25519" if alg == "EdDSA" else alg)
    jwk = public_jwk(token_key)
    proof = make_proof(alg, ath=ath_for(TOKEN))
    result = verifier().verify(
        proof, method=METHOD, url=URL, access_token=TOKEN, jkt=jwk_thumbprint(jwk)
    )
    assert result == DPoPProof(
        jkt=jwk_thumbprint(jwk),
        jti="e1j3V_bKic8-LAEB",
        iat=NOW,
        htm=METHOD,
        htu=URL,
        nonce=None,
        jwk=jwk,
    )


@pytest.mark.parametrize(
    ("proof", "request_", "failure"),
    [
        pytest.param(make_proof(header={"typ": "JWT"}), {}, DPoPFailure.TYPE, id="typ"),
        pytest.param(make_proof(sign_as=""), {}, DPoPFailure.SIGNATURE, id="no-signature"),
        pytest.param(make_proof(htm="POST"), {}, DPoPFailure.METHOD, id="htm"),
        pytest.param(make_proof(htu="https://api.example/other"), {}, DPoPFailure.URI, id="htu"),
        pytest.param(make_proof(iat=NOW - 301), {}, DPoPFailure.IAT, id="iat-old"),
        pytest.param(make_proof(), {"access_token": TOKEN}, DPoPFailure.ATH, id="ath-missing"),
        pytest.param(make_proof(), {"jkt": "not-the-thumbprint"}, DPoPFailure.BINDING, id="jkt"),
        pytest.param("x" * 9000, {}, DPoPFailure.TOO_LARGE, id="too-large"),
    ],
)
def test_a_broken_rule_is_refused(
    proof: str, request_: dict[str, Any], failure: DPoPFailure
) -> None:
    assert failure_of(proof, **request_) is failure


def test_a_missing_nonce_asks_for_the_current_one() -> None:
    nonces = NonceSource(secret=b"s", clock=lambda: NOW)
    with pytest.raises(UseDPoPNonceError) as info:
        verifier(nonces=nonces).verify(make_proof(), method=METHOD, url=URL)
    assert info.value.nonce == nonces.current()
    assert ("dpop-nonce", nonces.current()) in info.value.response_headers("api")
    proof = make_proof(nonce=nonces.current())
    assert verifier(nonces=nonces).verify(proof, method=METHOD, url=URL).nonce == nonces.current()


def test_normalize_htu_examples() -> None:
    assert normalize_htu("HTTPS://Server.Example:443/a/./b/../c%7e%2f?q#f") == (
        "https://server.example/a/c~%2F"
    )


def test_replay_ttl_covers_the_window() -> None:
    assert verifier(max_age=300, leeway=5).replay_ttl() == 310
