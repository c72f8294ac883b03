"""Cross-check with a second JOSE library: proofs signed by joserfc verify here.

joserfc builds the JWS (its own base64url, JSON and signatures) and computes the
RFC 7638 thumbprints, so the verifier is never checked only against proofs and
thumbprints made by our own test helpers.
"""

from __future__ import annotations

import json
import warnings
from typing import Any

import pytest
from joserfc import jws
from joserfc.jwk import ECKey, OKPKey, RSAKey

from dpop_helpers import METHOD, NOW, TOKEN, URL, claims_for
from scopegate._dpop import ProofVerifier, ath_for
from scopegate._jwk import jwk_thumbprint
from scopegate.errors import DPoPFailure, InvalidDPoPProofError

_KEYS: dict[str, Any] = {}


def joserfc_key(alg: str) -> Any:
    if alg not in _KEYS:
        if alg in ("RS256", "PS256"):
            _KEYS[alg] = RSAKey.generate_key(2048)
        elif alg == "ES256":
            _KEYS[alg] = ECKey.generate_key("P-256")
        else:
            _KEYS[alg] = OKPKey.generate_key("Ed25519")
    return _KEYS[alg]


def joserfc_proof(alg: str, **claims: Any) -> str:
    key = joserfc_key(alg)
    header = {"typ": "dpop+jwt", "alg": alg, "jwk": key.as_dict(private=False)}
    payload = json.dumps(claims_for(**claims))
    with warnings.catch_warnings():
        # joserfc warns that "EdDSA" is deprecated by RFC 9864 in favour of "Ed25519";
        # RFC 9449 proofs in the field still say EdDSA.
        warnings.simplefilter("ignore")
        return jws.serialize_compact(header, payload, key, algorithms=[alg])


ALGS = ["ES256", "RS256", "PS256", "EdDSA"]


@pytest.mark.parametrize("alg", ALGS)
def test_joserfc_proofs_verify(alg: str) -> None:
    key = joserfc_key(alg)
    proof = ProofVerifier(algorithms=[alg], clock=lambda: NOW).verify(
        joserfc_proof(alg, ath=ath_for(TOKEN)),
        method=METHOD,
        url=URL,
        access_token=TOKEN,
        jkt=key.thumbprint(),
    )
    assert proof.jkt == key.thumbprint()
    assert proof.jwk == key.as_dict(private=False)


@pytest.mark.parametrize("alg", ALGS)
def test_thumbprints_agree_with_joserfc(alg: str) -> None:
    key = joserfc_key(alg)
    assert jwk_thumbprint(key.as_dict(private=False)) == key.thumbprint()
    assert jwk_thumbprint({**key.as_dict(private=False), "kid": "x", "use": "sig"}) == (
        key.thumbprint()
    )


@pytest.mark.parametrize(
    ("claims", "request_", "failure"),
    [
        pytest.param({"htm": "POST"}, {}, DPoPFailure.METHOD, id="htm"),
        pytest.param({"htu": URL + "/x"}, {}, DPoPFailure.URI, id="htu"),
        pytest.param({"iat": NOW - 3600}, {}, DPoPFailure.IAT, id="iat"),
        pytest.param({}, {"access_token": TOKEN}, DPoPFailure.ATH, id="ath"),
        pytest.param({}, {"jkt": "x"}, DPoPFailure.BINDING, id="jkt"),
    ],
)
@pytest.mark.parametrize("alg", ALGS)
def test_joserfc_proofs_that_break_a_rule(
    alg: str, claims: dict[str, Any], request_: dict[str, Any], failure: DPoPFailure
) -> None:
    with pytest.raises(InvalidDPoPProofError) as info:
        ProofVerifier(algorithms=ALGS, clock=lambda: NOW).verify(
            joserfc_proof(alg, **claims), method=METHOD, url=URL, **request_
        )
    assert info.value.failure is failure


def test_a_joserfc_proof_with_the_private_key_in_its_header_is_refused() -> None:
    key = joserfc_key("ES256")
    header = {"typ": "dpop+jwt", "alg": "ES256", "jwk": key.as_dict(private=True)}
    proof = jws.serialize_compact(header, json.dumps(claims_for()), key, algorithms=["ES256"])
    with pytest.raises(InvalidDPoPProofError) as info:
        ProofVerifier(algorithms=["ES256"], clock=lambda: NOW).verify(proof, method=METHOD, url=URL)
    assert info.value.failure is DPoPFailure.KEY
