"""scopegate._dpop: every RFC 9449 §4.3 proof rule, on proofs built from raw parts.

Proofs come from :mod:`dpop_helpers` (hand-made JSON, base64url and signatures
from ``cryptography``), so proofs no JOSE library would build can be tested.
The RFC 9449 examples are fixed vectors.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import pytest

from dpop_helpers import (
    ALGORITHMS,
    METHOD,
    NOW,
    TOKEN,
    URL,
    b64url,
    claims_for,
    key_kind,
    make_proof,
    private_key,
    public_jwk,
)
from scopegate._dpop import MAX_JTI_LENGTH, DPoPProof, ProofVerifier, ath_for
from scopegate._jwk import jwk_thumbprint
from scopegate._nonce import NonceSource
from scopegate.errors import DPoPFailure, InvalidDPoPProofError, UseDPoPNonceError

# RFC 9449 §4.1 figure 4 (the proof to the token endpoint, its jwk in figure 3) and §7.1
# figure 13 (the proof to a resource, with ath of the access token of figure 12).
RFC_JWK = {
    "kty": "EC",
    "x": "l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs",
    "y": "9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA",
    "crv": "P-256",
}
RFC_JKT = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"  # §6.1
RFC_HEADER = (
    "eyJ0eXAiOiJkcG9wK2p3dCIsImFsZyI6IkVTMjU2IiwiandrIjp7Imt0eSI6IkVDIiwieCI6Imw4dEZyaHgtMzR0"
    "VjNoUklDUkRZOXpDa0RscEJoRjQyVVFVZldWQVdCRnMiLCJ5IjoiOVZFNGpmX09rX282NHpiVFRsY3VOSmFqSG10N"
    "nY5VERWclUwQ2R2R1JEQSIsImNydiI6IlAtMjU2In19"
)
RFC_TOKEN_PROOF = (
    f"{RFC_HEADER}.eyJqdGkiOiItQndDM0VTYzZhY2MybFRjIiwiaHRtIjoiUE9TVCIsImh0dSI6Imh0dHBzOi8vc2Vy"
    "dmVyLmV4YW1wbGUuY29tL3Rva2VuIiwiaWF0IjoxNTYyMjYyNjE2fQ.2-GxA6T8lP4vfrg8v-FdWP0A0zdrj8igiML"
    "vqRMUvwnQg4PtFLbdLXiOSsX0x7NVY-FNyJK70nfbV37xRZT3Lg"
)
RFC_ACCESS_TOKEN = "Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"
RFC_ATH = "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo"
RFC_RESOURCE_PROOF = (
    f"{RFC_HEADER}.eyJqdGkiOiJlMWozVl9iS2ljOC1MQUVCIiwiaHRtIjoiR0VUIiwiaHR1IjoiaHR0cHM6Ly9yZXNv"
    "dXJjZS5leGFtcGxlLm9yZy9wcm90ZWN0ZWRyZXNvdXJjZSIsImlhdCI6MTU2MjI2MjYxOCwiYXRoIjoiZlVIeU8ycj"
    "JaM0RaNTNFc05yV0JiMHhXWG9hTnk1OUlpS0NBcWtzbVFFbyJ9.2oW9RP35yRqzhrtNP86L-Ey71EOptxRimPPToA1p"
    "lemAgR6pxHF8y6-yqyVnmcw6Fy1dqd-jfxSYoMxhAJpLjA"
)


def standard_base64() -> str:
    """A valid proof respelled in standard base64 (``+`` and ``/``), never left unchanged.

    A fresh proof's segments need not contain ``-`` or ``_`` at all, so proofs are
    drawn until one does.
    """
    while True:
        proof = make_proof()
        respelled = proof.replace("-", "+").replace("_", "/")
        if respelled != proof:
            return respelled


def verifier(**options: Any) -> ProofVerifier:
    options = {"algorithms": ALGORITHMS, "clock": lambda: NOW, **options}
    return ProofVerifier(**options)


def verify(proof: Any, options: dict[str, Any] | None = None, **request: Any) -> DPoPProof:
    request = {"method": METHOD, "url": URL, **request}
    return verifier(**(options or {})).verify(proof, **request)


def failure_of(proof: Any, options: dict[str, Any] | None = None, **request: Any) -> DPoPFailure:
    with pytest.raises(InvalidDPoPProofError) as info:
        verify(proof, options, **request)
    error = info.value
    assert (error.status_code, error.error) == (401, "invalid_dpop_proof")
    assert error.description == error.failure.value
    assert error.body() == {"error": "invalid_dpop_proof", "error_description": error.description}
    return error.failure


def segments(proof: str) -> list[str]:
    return proof.split(".")


def es256_signature_der() -> str:
    """A proof whose signature is DER (what cryptography returns), not JWS's raw r||s."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    head, body, _ = segments(make_proof())
    der = private_key("ES256").sign(f"{head}.{body}".encode(), ec.ECDSA(hashes.SHA256()))
    return f"{head}.{body}.{b64url(der)}"


def hs256_proof() -> str:
    """alg HS256 with a real HMAC over the signing input, keyed with the jwk's x."""
    header = b64url(
        json.dumps({"typ": "dpop+jwt", "alg": "HS256", "jwk": public_jwk(private_key())}).encode()
    )
    body = b64url(json.dumps(claims_for()).encode())
    digest = hmac.new(b"secret", f"{header}.{body}".encode(), hashlib.sha256).digest()
    return f"{header}.{body}.{b64url(digest)}"


def with_segment(proof: str, index: int, text: str) -> str:
    parts = segments(proof)
    parts[index] = text
    return ".".join(parts)


def padded(proof: str) -> str:
    head, body, signature = segments(proof)
    return f"{head}.{body}.{signature}" + "=" * (-len(signature) % 4 or 4)


def non_canonical(proof: str) -> str:
    """The signature segment with non-zero padding bits: decodes to the same bytes leniently."""
    head, body, signature = segments(proof)
    assert len(signature) % 4 in (2, 3)  # ES256: 64 bytes -> 86 characters
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = alphabet.index(signature[-1])
    return f"{head}.{body}.{signature[:-1]}{alphabet[last | 1]}"


OTHER_KEY = "ES256-2"


# --- the RFC 9449 vectors --------------------------------------------------------------------


def test_rfc9449_figure3_thumbprint() -> None:
    assert jwk_thumbprint(RFC_JWK) == RFC_JKT


def test_rfc9449_figure4_token_request_proof() -> None:
    proof = ProofVerifier(algorithms=["ES256"], clock=lambda: 1562262616).verify(
        RFC_TOKEN_PROOF, method="POST", url="https://server.example.com/token"
    )
    assert proof == DPoPProof(
        jkt=RFC_JKT,
        jti="-BwC3ESc6acc2lTc",
        iat=1562262616,
        htm="POST",
        htu="https://server.example.com/token",
        nonce=None,
        jwk=RFC_JWK,
    )


def test_rfc9449_figure13_resource_request_proof_and_ath() -> None:
    assert ath_for(RFC_ACCESS_TOKEN) == RFC_ATH
    proof = ProofVerifier(algorithms=["ES256"], clock=lambda: 1562262618).verify(
        RFC_RESOURCE_PROOF,
        method="GET",
        url="https://resource.example.org/protectedresource",
        access_token=RFC_ACCESS_TOKEN,
        jkt=RFC_JKT,
    )
    assert (proof.jti, proof.iat, proof.jkt) == ("e1j3V_bKic8-LAEB", 1562262618, RFC_JKT)


@pytest.mark.parametrize(
    ("request_", "failure"),
    [
        pytest.param({"access_token": RFC_ACCESS_TOKEN + "x"}, DPoPFailure.ATH, id="other-token"),
        pytest.param({"jkt": RFC_JKT[:-1] + "J"}, DPoPFailure.BINDING, id="other-jkt"),
        pytest.param({"method": "POST"}, DPoPFailure.METHOD, id="other-method"),
        pytest.param(
            {"url": "https://resource.example.org/other"}, DPoPFailure.URI, id="other-url"
        ),
    ],
)
def test_rfc9449_figure13_refused_for_another_request(
    request_: dict[str, Any], failure: DPoPFailure
) -> None:
    request = {
        "method": "GET",
        "url": "https://resource.example.org/protectedresource",
        "access_token": RFC_ACCESS_TOKEN,
        **request_,
    }
    with pytest.raises(InvalidDPoPProofError) as info:
        ProofVerifier(algorithms=["ES256"], clock=lambda: 1562262618).verify(
            RFC_RESOURCE_PROOF, **request
        )
    assert info.value.failure is failure


def test_rfc9449_vector_is_too_old_today() -> None:
    with pytest.raises(InvalidDPoPProofError) as info:
        ProofVerifier(algorithms=["ES256"]).verify(
            RFC_TOKEN_PROOF, method="POST", url="https://server.example.com/token"
        )
    assert info.value.failure is DPoPFailure.IAT


# --- accepted proofs -------------------------------------------------------------------------


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_a_valid_proof_of_each_algorithm_is_accepted(alg: str) -> None:
    jwk = public_jwk(private_key(key_kind(alg)))
    proof = make_proof(alg, ath=ath_for(TOKEN))
    result = verify(proof, access_token=TOKEN, jkt=jwk_thumbprint(jwk))
    assert result == DPoPProof(
        jkt=jwk_thumbprint(jwk),
        jti="e1j3V_bKic8-LAEB",
        iat=NOW,
        htm=METHOD,
        htu=URL,
        nonce=None,
        jwk=jwk,
    )


def test_ed448_is_accepted_as_eddsa() -> None:
    key = private_key("Ed448")
    assert verify(make_proof("EdDSA", key=key)).jkt == jwk_thumbprint(public_jwk(key))


def test_the_jwk_is_read_only() -> None:
    jwk = verify(make_proof()).jwk
    with pytest.raises(TypeError):
        jwk["kty"] = "RSA"  # type: ignore[index]


@pytest.mark.parametrize(
    ("overrides", "options"),
    [
        pytest.param({"iat": NOW - 300}, {}, id="iat-max-age"),
        pytest.param({"iat": NOW - 305}, {"leeway": 5}, id="iat-max-age-leeway"),
        pytest.param({"iat": NOW + 5}, {"leeway": 5}, id="iat-future-leeway"),
        pytest.param({"iat": NOW - 60}, {"max_age": 60}, id="iat-short-max-age"),
        pytest.param({"htu": URL + "?page=2"}, {}, id="htu-query"),
        pytest.param({"htu": URL + "#top"}, {}, id="htu-fragment"),
        pytest.param({"htu": "https://api.example:443/orders"}, {}, id="htu-default-port"),
        pytest.param({"htu": "https://api.example:/orders"}, {}, id="htu-empty-port"),
        pytest.param({"htu": "HTTPS://API.Example/orders"}, {}, id="htu-case"),
        pytest.param({"htu": "https://api.example/a/../orders"}, {}, id="htu-dot-dot"),
        pytest.param({"htu": "https://api.example/./orders"}, {}, id="htu-dot"),
        pytest.param({"htu": "https://api.example/%6Frders"}, {}, id="htu-unreserved-encoded"),
        pytest.param({"htu": "https://api.example/%6frders"}, {}, id="htu-lowercase-hex"),
        pytest.param({"jti": "x" * MAX_JTI_LENGTH}, {}, id="jti-longest"),
        pytest.param({"ath": "not-checked"}, {}, id="ath-without-token"),
        pytest.param({"nonce": "abc"}, {}, id="nonce-not-required"),
        pytest.param({"exp": "ignored", "extra": [1, 2]}, {}, id="extra-claims"),
    ],
)
def test_accepted(overrides: dict[str, Any], options: dict[str, Any]) -> None:
    assert verify(make_proof(**overrides), options).jti == overrides.get("jti", "e1j3V_bKic8-LAEB")


@pytest.mark.parametrize(
    ("url", "htu"),
    [
        pytest.param("http://api.example:80/orders", "http://api.example/orders", id="http-80"),
        pytest.param("https://api.example:8443/x", "https://api.example:8443/x", id="port"),
        pytest.param("https://api.example", "https://api.example/", id="empty-path"),
        pytest.param("https://[::1]:8443/x", "https://[::1]:8443/x", id="ipv6"),
        pytest.param("https://api.example/a%2Fb", "https://api.example/a%2fb", id="reserved-hex"),
        pytest.param("https://api.example/caf%C3%A9", "https://api.example/café", id="iri"),
    ],
)
def test_accepted_for_equivalent_urls(url: str, htu: str) -> None:
    assert verify(make_proof(htu=htu), url=url).htu == htu


def test_a_header_member_the_rfc_does_not_name_is_ignored() -> None:
    assert verify(make_proof(header={"kid": "client-key-1"})).jti == "e1j3V_bKic8-LAEB"


def test_a_jwk_with_its_own_matching_alg_and_kid_is_accepted() -> None:
    jwk = {**public_jwk(private_key()), "alg": "ES256", "kid": "k1", "use": "sig"}
    proof = verify(make_proof(header={"jwk": jwk}))
    assert proof.jkt == jwk_thumbprint(jwk)


def test_repeated_proofs_of_one_client_are_each_checked() -> None:
    checker = verifier()
    for index in range(3):
        assert checker.verify(make_proof(jti=f"j{index}"), method=METHOD, url=URL).jti == (
            f"j{index}"
        )
    tampered = with_segment(make_proof(jti="j9"), 1, b64url(json.dumps(claims_for()).encode()))
    with pytest.raises(InvalidDPoPProofError) as info:
        checker.verify(tampered, method=METHOD, url=URL)
    assert info.value.failure is DPoPFailure.SIGNATURE


# --- refused proofs --------------------------------------------------------------------------

_EC = public_jwk(private_key())
_RSA = public_jwk(private_key("RS256"))

REFUSED = [
    # structure
    pytest.param("", {}, DPoPFailure.MALFORMED, id="empty"),
    pytest.param(None, {}, DPoPFailure.MALFORMED, id="none"),
    pytest.param(b"a.b.c", {}, DPoPFailure.MALFORMED, id="bytes"),
    pytest.param("a.b", {}, DPoPFailure.MALFORMED, id="two-segments"),
    pytest.param("a.b.c.d", {}, DPoPFailure.MALFORMED, id="four-segments"),
    pytest.param("not a jws", {}, DPoPFailure.MALFORMED, id="garbage"),
    pytest.param(padded(make_proof()), {}, DPoPFailure.MALFORMED, id="b64-padding"),
    pytest.param(non_canonical(make_proof()), {}, DPoPFailure.MALFORMED, id="b64-trailing-bits"),
    pytest.param(standard_base64(), {}, DPoPFailure.MALFORMED, id="b64-std"),
    pytest.param(
        with_segment(make_proof(), 0, b64url(b"not json")), {}, DPoPFailure.MALFORMED, id="header"
    ),
    pytest.param(
        make_proof(
            raw_header='{"typ":"dpop+jwt","typ":"JWT","alg":"ES256","jwk":' + json.dumps(_EC) + "}"
        ),
        {},
        DPoPFailure.MALFORMED,
        id="header-duplicate-name",
    ),
    pytest.param(
        make_proof(
            raw_payload='{"jti":"a","jti":"b","htm":"GET","htu":"'
            + URL
            + '","iat":'
            + str(NOW)
            + "}"
        ),
        {},
        DPoPFailure.MALFORMED,
        id="payload-duplicate-name",
    ),
    pytest.param(make_proof(raw_payload="[1]"), {}, DPoPFailure.MALFORMED, id="payload-array"),
    pytest.param(
        make_proof(raw_payload='{"iat": NaN}'), {}, DPoPFailure.MALFORMED, id="payload-nan"
    ),
    pytest.param(
        make_proof(raw_payload="\ufeff" + json.dumps(claims_for())),
        {},
        DPoPFailure.MALFORMED,
        id="payload-bom",
    ),
    pytest.param(make_proof(header={"crit": ["exp"]}), {}, DPoPFailure.MALFORMED, id="crit"),
    pytest.param("x" * 9000, {}, DPoPFailure.TOO_LARGE, id="oversize"),
    pytest.param(
        make_proof(), {"options": {"max_proof_bytes": 100}}, DPoPFailure.TOO_LARGE, id="over-limit"
    ),
    # typ
    pytest.param(make_proof(header={"typ": None}), {}, DPoPFailure.TYPE, id="typ-missing"),
    pytest.param(make_proof(header={"typ": "JWT"}), {}, DPoPFailure.TYPE, id="typ-jwt"),
    pytest.param(make_proof(header={"typ": "DPOP+JWT"}), {}, DPoPFailure.TYPE, id="typ-case"),
    pytest.param(
        make_proof(header={"typ": "application/dpop+jwt"}), {}, DPoPFailure.TYPE, id="typ-media"
    ),
    pytest.param(make_proof(header={"typ": 1}), {}, DPoPFailure.TYPE, id="typ-int"),
    # alg
    pytest.param(make_proof("none", sign_as=""), {}, DPoPFailure.ALGORITHM, id="alg-none"),
    pytest.param(make_proof(header={"alg": None}), {}, DPoPFailure.ALGORITHM, id="alg-missing"),
    pytest.param(hs256_proof(), {}, DPoPFailure.ALGORITHM, id="alg-hs256"),
    pytest.param(make_proof(header={"alg": "es256"}), {}, DPoPFailure.ALGORITHM, id="alg-case"),
    pytest.param(make_proof(header={"alg": ["ES256"]}), {}, DPoPFailure.ALGORITHM, id="alg-list"),
    pytest.param(
        make_proof("RS256"),
        {"options": {"algorithms": ["ES256"]}},
        DPoPFailure.ALGORITHM,
        id="alg-not-configured",
    ),
    # jwk
    pytest.param(make_proof(header={"jwk": None}), {}, DPoPFailure.KEY, id="jwk-missing"),
    pytest.param(make_proof(header={"jwk": json.dumps(_EC)}), {}, DPoPFailure.KEY, id="jwk-string"),
    pytest.param(
        make_proof(header={"jwk": public_jwk(private_key(), private=True)}),
        {},
        DPoPFailure.KEY,
        id="jwk-ec-private-d",
    ),
    pytest.param(
        make_proof("RS256", header={"jwk": public_jwk(private_key("RS256"), private=True)}),
        {},
        DPoPFailure.KEY,
        id="jwk-rsa-private-d",
    ),
    pytest.param(
        make_proof("EdDSA", header={"jwk": public_jwk(private_key("Ed25519"), private=True)}),
        {},
        DPoPFailure.KEY,
        id="jwk-okp-private-d",
    ),
    pytest.param(
        make_proof(header={"jwk": {"kty": "oct", "k": b64url(b"secret")}}),
        {},
        DPoPFailure.KEY,
        id="jwk-oct",
    ),
    pytest.param(
        make_proof(header={"jwk": {**_RSA, "p": "AQAB"}}, key=private_key("RS256"), alg="RS256"),
        {},
        DPoPFailure.KEY,
        id="jwk-rsa-prime",
    ),
    pytest.param(
        make_proof(header={"alg": "RS256"}), {}, DPoPFailure.KEY, id="alg-rs256-with-ec-key"
    ),
    pytest.param(
        make_proof("ES256", key=private_key("RS256"), sign_as="RS256"),
        {},
        DPoPFailure.KEY,
        id="alg-es256-with-rsa-key",
    ),
    pytest.param(
        make_proof("ES256", key=private_key("ES384"), sign_as="ES384"),
        {},
        DPoPFailure.KEY,
        id="alg-es256-with-p384-key",
    ),
    pytest.param(
        make_proof("EdDSA", key=private_key("ES256"), sign_as="ES256"),
        {},
        DPoPFailure.KEY,
        id="alg-eddsa-with-ec-key",
    ),
    pytest.param(
        make_proof(header={"jwk": {**_EC, "alg": "ES384"}}), {}, DPoPFailure.KEY, id="jwk-alg"
    ),
    pytest.param(
        make_proof(header={"jwk": {**_EC, "x": _EC["x"][:-2]}}), {}, DPoPFailure.KEY, id="jwk-x"
    ),
    pytest.param(
        make_proof(header={"jwk": {**_EC, "y": _EC["x"]}}), {}, DPoPFailure.KEY, id="jwk-off-curve"
    ),
    pytest.param(make_proof(header={"jwk": {**_EC, "x": 5}}), {}, DPoPFailure.KEY, id="jwk-x-int"),
    pytest.param(
        make_proof(header={"jwk": {**_EC, "crv": []}}), {}, DPoPFailure.KEY, id="jwk-crv-list"
    ),
    pytest.param(
        make_proof("RS256", key=private_key("RSA-1024")), {}, DPoPFailure.KEY, id="jwk-rsa-1024"
    ),
    pytest.param(
        make_proof("RS256", header={"jwk": {**_RSA, "n": _RSA["n"] * 5}}),
        {},
        DPoPFailure.KEY,
        id="jwk-rsa-over-8192-bits",
    ),
    # signature
    pytest.param(make_proof(sign_as=""), {}, DPoPFailure.SIGNATURE, id="signature-empty"),
    pytest.param(
        make_proof(header={"jwk": public_jwk(private_key(OTHER_KEY))}),
        {},
        DPoPFailure.SIGNATURE,
        id="signature-other-key",
    ),
    pytest.param(
        with_segment(make_proof(), 2, b64url(b"\x00" * 64)), {}, DPoPFailure.SIGNATURE, id="zero"
    ),
    pytest.param(
        with_segment(make_proof(), 2, b64url(b"\x01" * 7)), {}, DPoPFailure.SIGNATURE, id="short"
    ),
    pytest.param(es256_signature_der(), {}, DPoPFailure.SIGNATURE, id="signature-der"),
    pytest.param(
        with_segment(make_proof(), 1, b64url(json.dumps(claims_for(htm="POST")).encode())),
        {},
        DPoPFailure.SIGNATURE,
        id="payload-tampered",
    ),
    pytest.param(
        make_proof("PS256", sign_as="RS256"), {}, DPoPFailure.SIGNATURE, id="ps256-signed-rs256"
    ),
    # jti
    pytest.param(make_proof(jti=None), {}, DPoPFailure.CLAIM, id="jti-missing"),
    pytest.param(make_proof(jti=""), {}, DPoPFailure.CLAIM, id="jti-empty"),
    pytest.param(make_proof(jti=7), {}, DPoPFailure.CLAIM, id="jti-int"),
    pytest.param(
        make_proof(jti="x" * (MAX_JTI_LENGTH + 1)), {}, DPoPFailure.CLAIM, id="jti-too-long"
    ),
    # htm
    pytest.param(make_proof(htm=None), {}, DPoPFailure.CLAIM, id="htm-missing"),
    pytest.param(make_proof(htm=["GET"]), {}, DPoPFailure.CLAIM, id="htm-list"),
    pytest.param(make_proof(htm="get"), {}, DPoPFailure.METHOD, id="htm-case"),
    pytest.param(make_proof(htm="POST"), {}, DPoPFailure.METHOD, id="htm-other"),
    pytest.param(make_proof(htm="GET "), {}, DPoPFailure.METHOD, id="htm-space"),
    # htu
    pytest.param(make_proof(htu=None), {}, DPoPFailure.CLAIM, id="htu-missing"),
    pytest.param(make_proof(htu=1), {}, DPoPFailure.CLAIM, id="htu-int"),
    pytest.param(make_proof(htu="/orders"), {}, DPoPFailure.URI, id="htu-relative"),
    pytest.param(make_proof(htu="http://api.example/orders"), {}, DPoPFailure.URI, id="htu-http"),
    pytest.param(
        make_proof(htu="https://api.example:8443/orders"), {}, DPoPFailure.URI, id="htu-port"
    ),
    pytest.param(make_proof(htu="https://api.example/Orders"), {}, DPoPFailure.URI, id="htu-path"),
    pytest.param(
        make_proof(htu="https://api.example/orders/"), {}, DPoPFailure.URI, id="htu-slash"
    ),
    pytest.param(
        make_proof(htu="https://other.example/orders"), {}, DPoPFailure.URI, id="htu-host"
    ),
    pytest.param(
        make_proof(htu="https://user@api.example/orders"), {}, DPoPFailure.URI, id="htu-userinfo"
    ),
    pytest.param(
        make_proof(htu="https://api.example/ord%2" + "0ers"), {}, DPoPFailure.URI, id="htu-%20"
    ),
    pytest.param(make_proof(htu="https://api.example/ord%zzers"), {}, DPoPFailure.URI, id="htu-%"),
    pytest.param(make_proof(htu="https://api.example/or\nders"), {}, DPoPFailure.URI, id="htu-lf"),
    pytest.param(make_proof(htu="ftp://api.example/orders"), {}, DPoPFailure.URI, id="htu-ftp"),
    pytest.param(make_proof(htu="https:///orders"), {}, DPoPFailure.URI, id="htu-no-host"),
    pytest.param(make_proof(), {"url": "/orders"}, DPoPFailure.URI, id="request-url-relative"),
    # iat
    pytest.param(make_proof(iat=None), {}, DPoPFailure.CLAIM, id="iat-missing"),
    pytest.param(make_proof(iat=float(NOW)), {}, DPoPFailure.CLAIM, id="iat-float"),
    pytest.param(make_proof(iat=NOW + 0.5), {}, DPoPFailure.CLAIM, id="iat-fraction"),
    pytest.param(make_proof(iat=str(NOW)), {}, DPoPFailure.CLAIM, id="iat-string"),
    pytest.param(make_proof(iat=True), {}, DPoPFailure.CLAIM, id="iat-bool"),
    pytest.param(make_proof(iat=NOW - 301), {}, DPoPFailure.IAT, id="iat-too-old"),
    pytest.param(make_proof(iat=NOW + 1), {}, DPoPFailure.IAT, id="iat-future"),
    pytest.param(
        make_proof(iat=NOW - 306), {"options": {"leeway": 5}}, DPoPFailure.IAT, id="iat-old-leeway"
    ),
    pytest.param(
        make_proof(iat=NOW + 6), {"options": {"leeway": 5}}, DPoPFailure.IAT, id="iat-future-leeway"
    ),
    pytest.param(make_proof(iat=10**30), {}, DPoPFailure.IAT, id="iat-huge"),
    pytest.param(make_proof(iat=-(10**30)), {}, DPoPFailure.IAT, id="iat-negative"),
    pytest.param(make_proof(iat=10**400), {}, DPoPFailure.IAT, id="iat-beyond-float"),
    # nonce, ath, binding
    pytest.param(make_proof(nonce=5), {}, DPoPFailure.CLAIM, id="nonce-int"),
    pytest.param(make_proof(), {"access_token": TOKEN}, DPoPFailure.ATH, id="ath-missing"),
    pytest.param(
        make_proof(ath=ath_for(TOKEN + "x")), {"access_token": TOKEN}, DPoPFailure.ATH, id="ath"
    ),
    pytest.param(make_proof(ath=5), {"access_token": TOKEN}, DPoPFailure.ATH, id="ath-int"),
    pytest.param(
        make_proof(ath=ath_for(TOKEN) + "="), {"access_token": TOKEN}, DPoPFailure.ATH, id="ath-pad"
    ),
    pytest.param(
        make_proof(ath=base64.urlsafe_b64encode(hashlib.sha256(TOKEN.encode()).digest()).decode()),
        {"access_token": TOKEN},
        DPoPFailure.ATH,
        id="ath-padded-b64",
    ),
    pytest.param(
        make_proof(ath=ath_for(TOKEN)), {"access_token": "tokén"}, DPoPFailure.ATH, id="ath-ascii"
    ),
    pytest.param(make_proof(), {"jkt": "not-the-thumbprint"}, DPoPFailure.BINDING, id="jkt"),
    pytest.param(
        make_proof(), {"jkt": jwk_thumbprint(_RSA)}, DPoPFailure.BINDING, id="jkt-other-key"
    ),
    pytest.param(make_proof(), {"jkt": "é"}, DPoPFailure.BINDING, id="jkt-non-ascii"),
]


@pytest.mark.parametrize(("proof", "request_", "failure"), REFUSED)
def test_refused(proof: Any, request_: dict[str, Any], failure: DPoPFailure) -> None:
    request = dict(request_)
    assert failure_of(proof, request.pop("options", None), **request) is failure


def test_the_signature_is_checked_before_the_claims() -> None:
    proof = make_proof(header={"jwk": public_jwk(private_key(OTHER_KEY))}, htm="POST", iat=0)
    assert failure_of(proof) is DPoPFailure.SIGNATURE


def test_a_failure_detail_never_reaches_the_description() -> None:
    with pytest.raises(InvalidDPoPProofError) as info:
        verify(make_proof(htu="https://api.example/secret-path"))
    assert info.value.detail is not None
    assert info.value.detail.found == "https://api.example/secret-path"
    assert "secret-path" not in info.value.description
    assert "secret-path" not in json.dumps(info.value.body())


# --- nonces ----------------------------------------------------------------------------------


def nonce_source() -> NonceSource:
    return NonceSource(secret=b"shared", period=300, clock=lambda: NOW)


@pytest.mark.parametrize(
    "nonce",
    [
        pytest.param(None, id="missing"),
        pytest.param("stale", id="wrong"),
        pytest.param(NonceSource(secret=b"other", clock=lambda: NOW).current(), id="other-secret"),
        pytest.param(
            NonceSource(secret=b"shared", clock=lambda: NOW - 600).current(), id="two-periods-old"
        ),
    ],
)
def test_a_missing_or_stale_nonce_asks_for_the_current_one(nonce: str | None) -> None:
    nonces = nonce_source()
    with pytest.raises(UseDPoPNonceError) as info:
        verify(make_proof(nonce=nonce), {"nonces": nonces})
    error = info.value
    assert (error.status_code, error.error, error.nonce) == (
        401,
        "use_dpop_nonce",
        nonces.current(),
    )
    assert error.response_headers("api") == [
        ("content-type", "application/json"),
        (
            "www-authenticate",
            'Bearer realm="api", error="use_dpop_nonce", '
            'error_description="The DPoP proof must carry the server nonce"',
        ),
        ("cache-control", "no-store"),
        ("dpop-nonce", nonces.current()),
    ]


@pytest.mark.parametrize("age", [0, 300], ids=["current", "previous"])
def test_the_current_and_previous_nonces_are_accepted(age: int) -> None:
    nonce = NonceSource(secret=b"shared", clock=lambda: NOW - age).current()
    assert verify(make_proof(nonce=nonce), {"nonces": nonce_source()}).nonce == nonce


def test_the_nonce_is_checked_after_the_signature() -> None:
    proof = make_proof(header={"jwk": public_jwk(private_key(OTHER_KEY))})
    assert failure_of(proof, {"nonces": nonce_source()}) is DPoPFailure.SIGNATURE


# --- configuration ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "options",
    [
        pytest.param({"algorithms": []}, id="no-algorithms"),
        pytest.param({"algorithms": ["HS256"]}, id="hs256"),
        pytest.param({"algorithms": ["none"]}, id="none"),
        pytest.param({"algorithms": "ES256"}, id="one-string"),
        pytest.param({"max_age": 0}, id="max-age-0"),
        pytest.param({"max_age": float("nan")}, id="max-age-nan"),
        pytest.param({"leeway": -1}, id="negative-leeway"),
        pytest.param({"max_proof_bytes": 0}, id="max-bytes-0"),
    ],
)
def test_bad_configuration_is_refused(options: dict[str, Any]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - each option has its own message
        ProofVerifier(**{"algorithms": ["ES256"], **options})


def test_algorithms_are_kept_in_order_for_the_challenge() -> None:
    assert ProofVerifier(algorithms=["EdDSA", "ES256", "EdDSA"]).algorithms == ("EdDSA", "ES256")


@pytest.mark.parametrize(
    ("options", "ttl"),
    [({}, 300), ({"leeway": 5}, 310), ({"max_age": 60, "leeway": 0.5}, 61)],
)
def test_replay_ttl_covers_the_whole_window(options: dict[str, Any], ttl: float) -> None:
    assert verifier(**options).replay_ttl() == ttl


def test_ath_for_is_base64url_sha256_without_padding() -> None:
    digest = hashlib.sha256(b"token").digest()
    assert ath_for("token") == base64.urlsafe_b64encode(digest).decode().rstrip("=")
