"""DPoPKey: the proofs it signs pass scopegate's verifier and joserfc, an independent library.

Checking the signer only against our own verifier could hide a fault both
share (a wrong thumbprint member order, an ``ath`` over the wrong bytes), so
joserfc imports the public JWK, computes its own RFC 7638 thumbprint and
verifies every proof's signature too.
"""

from __future__ import annotations

import base64
import hashlib
import json
import warnings
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from joserfc import jws
from joserfc.jwk import JWKRegistry

from scopegate._dpop import ProofVerifier, ath_for
from scopegate._jwk import jwk_thumbprint
from scopegate.client._dpop import SUPPORTED_ALGORITHMS, DPoPKey
from scopegate.errors import DPoPFailure, InvalidDPoPProofError

URL = "https://api.example.com/orders"
TOKEN = "eyJhbGciOiJSUzI1NiJ9.e30.c2lnbmF0dXJl"
MEMBERS = {"RSA": {"e", "kty", "n"}, "EC": {"crv", "kty", "x", "y"}, "OKP": {"crv", "kty", "x"}}
ALGS = [pytest.param(alg, id=alg) for alg in SUPPORTED_ALGORITHMS]


@pytest.fixture(scope="module")
def keys() -> dict[str, DPoPKey]:
    """One key per algorithm for the module (RSA generation is slow on two shared cores)."""
    return {alg: DPoPKey.generate(alg) for alg in SUPPORTED_ALGORITHMS}


def segments(proof: str) -> tuple[dict[str, Any], dict[str, Any]]:
    def load(part: str) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
        return loaded

    header, payload, _ = proof.split(".")
    return load(header), load(payload)


def joserfc_verify(proof: str, jwk: dict[str, str], alg: str) -> dict[str, Any]:
    with warnings.catch_warnings():
        # joserfc warns that RFC 9864 deprecates the "EdDSA" name; the name is still RFC 9449's.
        warnings.simplefilter("ignore")
        key = JWKRegistry.import_key(jwk)  # type: ignore[arg-type]  # its dict type is invariant
        registry = jws.JWSRegistry(algorithms=[alg])
        registry.max_header_length = 4096  # an RSA jwk header is larger than the 512 default
        signature = jws.deserialize_compact(proof, key, registry=registry)
    claims: dict[str, Any] = json.loads(signature.payload)
    return claims


def test_the_default_is_es256() -> None:
    key = DPoPKey.generate()
    assert key.alg == "ES256"
    assert key.public_jwk["crv"] == "P-256"


@pytest.mark.parametrize("alg", ALGS)
def test_a_proof_has_the_rfc_9449_header_and_claims(keys: dict[str, DPoPKey], alg: str) -> None:
    key = keys[alg]
    header, claims = segments(key.proof("get", URL + "?page=2#top", access_token=TOKEN))
    assert header == {"typ": "dpop+jwt", "alg": alg, "jwk": key.public_jwk}
    assert set(claims) == {"jti", "htm", "htu", "iat", "ath"}
    assert claims["htm"] == "GET"
    assert claims["htu"] == URL
    assert claims["ath"] == ath_for(TOKEN)
    assert isinstance(claims["iat"], int)


@pytest.mark.parametrize("alg", ALGS)
def test_public_jwk_holds_the_public_members_only(keys: dict[str, DPoPKey], alg: str) -> None:
    jwk = keys[alg].public_jwk
    assert set(jwk) == MEMBERS[jwk["kty"]]
    assert not {"d", "p", "q", "dp", "dq", "qi"} & set(jwk)


@pytest.mark.parametrize("alg", ALGS)
def test_the_thumbprint_is_rfc_7638s_as_joserfc_computes_it(
    keys: dict[str, DPoPKey], alg: str
) -> None:
    key = keys[alg]
    assert key.thumbprint == jwk_thumbprint(key.public_jwk)
    imported = JWKRegistry.import_key(key.public_jwk)  # type: ignore[arg-type]  # invariant dict
    assert key.thumbprint == imported.thumbprint()


@pytest.mark.parametrize("alg", ALGS)
def test_scopegates_verifier_accepts_its_proofs(keys: dict[str, DPoPKey], alg: str) -> None:
    key = keys[alg]
    verifier = ProofVerifier(algorithms=[alg])
    proof = verifier.verify(
        key.proof("POST", URL, access_token=TOKEN, nonce="n-1"),
        method="POST",
        url=URL,
        access_token=TOKEN,
        jkt=key.thumbprint,
    )
    assert proof.jkt == key.thumbprint
    assert (proof.htm, proof.htu, proof.nonce) == ("POST", URL, "n-1")


@pytest.mark.parametrize("alg", ALGS)
def test_joserfc_verifies_its_proofs(keys: dict[str, DPoPKey], alg: str) -> None:
    key = keys[alg]
    proof = key.proof("GET", URL, access_token=TOKEN)
    header, _ = segments(proof)
    claims = joserfc_verify(proof, header["jwk"], alg)
    digest = hashlib.sha256(TOKEN.encode("ascii")).digest()
    assert claims["ath"] == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def test_every_proof_is_fresh() -> None:
    now = [1_700_000_000.0]
    key = DPoPKey.generate(clock=lambda: now[0])
    first = segments(key.proof("GET", URL))[1]
    now[0] += 5
    second = segments(key.proof("GET", URL))[1]
    assert first["jti"] != second["jti"]
    assert (first["iat"], second["iat"]) == (1_700_000_000, 1_700_000_005)
    assert len(first["jti"]) >= 22  # 128 bits or more


def test_no_ath_and_no_nonce_unless_given() -> None:
    claims = segments(DPoPKey.generate().proof("POST", "http://127.0.0.1:8787/oauth/token"))[1]
    assert set(claims) == {"jti", "htm", "htu", "iat"}
    assert claims["htu"] == "http://127.0.0.1:8787/oauth/token"


@pytest.mark.parametrize(
    ("url", "htu"),
    [
        pytest.param("https://a.test", "https://a.test/", id="empty-path"),
        pytest.param("https://a.test/x?y=1", "https://a.test/x", id="query"),
        pytest.param("https://a.test/x#f", "https://a.test/x", id="fragment"),
        pytest.param("http://a.test:8080/x/", "http://a.test:8080/x/", id="port-kept"),
    ],
)
def test_htu_is_the_url_without_query_and_fragment(url: str, htu: str) -> None:
    assert segments(DPoPKey.generate().proof("GET", url))[1]["htu"] == htu


@pytest.mark.parametrize("url", ["/relative", "ftp://a.test/x", "https://"])
def test_a_proof_is_for_an_absolute_http_url(url: str) -> None:
    with pytest.raises(ValueError, match="absolute http"):
        DPoPKey.generate().proof("GET", url)


def test_a_proof_from_another_key_is_refused_for_the_binding(keys: dict[str, DPoPKey]) -> None:
    verifier = ProofVerifier(algorithms=["ES256"])
    other = DPoPKey.generate()
    with pytest.raises(InvalidDPoPProofError) as caught:
        verifier.verify(
            other.proof("GET", URL), method="GET", url=URL, jkt=keys["ES256"].thumbprint
        )
    assert caught.value.failure is DPoPFailure.BINDING


@pytest.mark.parametrize("alg", ALGS)
def test_from_pem_gives_the_same_key(keys: dict[str, DPoPKey], alg: str) -> None:
    again = DPoPKey.from_pem(keys[alg].private_pem(), alg)
    assert again.thumbprint == keys[alg].thumbprint
    assert again.alg == alg


@pytest.mark.parametrize(
    ("make", "alg"),
    [
        pytest.param(lambda: rsa.generate_private_key(65537, 2048), "RS256", id="rsa"),
        pytest.param(lambda: ec.generate_private_key(ec.SECP256R1()), "ES256", id="p256"),
        pytest.param(lambda: ec.generate_private_key(ec.SECP384R1()), "ES384", id="p384"),
        pytest.param(lambda: ec.generate_private_key(ec.SECP521R1()), "ES512", id="p521"),
        pytest.param(ed25519.Ed25519PrivateKey.generate, "EdDSA", id="ed25519"),
    ],
)
def test_the_algorithm_follows_the_key(make: Any, alg: str) -> None:
    assert DPoPKey(make()).alg == alg


@pytest.mark.parametrize(
    ("make", "alg", "message"),
    [
        pytest.param(
            lambda: ec.generate_private_key(ec.SECP256R1()), "RS256", "needs an RSA", id="ec-rs256"
        ),
        pytest.param(
            lambda: ec.generate_private_key(ec.SECP384R1()), "ES256", "secp256r1", id="p384-es256"
        ),
        pytest.param(
            lambda: rsa.generate_private_key(65537, 2048), "EdDSA", "Ed25519", id="rsa-eddsa"
        ),
        pytest.param(
            lambda: rsa.generate_private_key(65537, 1024),  # noqa: S505 - the point
            "PS256",
            "2048",
            id="rsa-1024",
        ),
        pytest.param(
            lambda: ec.generate_private_key(ec.SECP256R1()), "HS256", "not one of", id="hs256"
        ),
        pytest.param(
            lambda: ec.generate_private_key(ec.SECP256K1()), None, "no DPoP algorithm", id="k1"
        ),
    ],
)
def test_a_key_that_does_not_fit_is_refused(make: Any, alg: str | None, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        DPoPKey(make(), alg)


@pytest.mark.parametrize("alg", ["none", "HS256", "ES999"])
def test_generate_refuses_other_algorithms(alg: str) -> None:
    with pytest.raises(ValueError, match="not one of"):
        DPoPKey.generate(alg)


def test_from_pem_refuses_what_is_not_a_private_key() -> None:
    with pytest.raises(ValueError, match="not a PEM private key"):
        DPoPKey.from_pem("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")


def test_the_repr_shows_no_private_key() -> None:
    key = DPoPKey.generate()
    assert repr(key) == f"DPoPKey(alg='ES256', thumbprint={key.thumbprint!r})"
