"""scopegate._jwk: which public key verifies a token, checked through the real verifier.

Every token here is minted by PyJWT (``jwt.encode``) or built by hand, never by
scopegate, and every key comes from ``cryptography``. The keys are served as the
static ``public_key`` setting, so no network is involved (and none is allowed).
"""

from __future__ import annotations

import base64
import hmac
import json
import warnings
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

from conformance.check import refuse_network
from helpers import IDENTIFIER, ISSUER, SECRET, make_claims
from jose_helpers import b64url
from scopegate import ConfigurationError, InvalidTokenError, Settings, TokenVerifier
from scopegate._jwk import KeySet, parse_key_set, parse_static_key
from scopegate.errors import TokenFailure

ALGORITHMS = [
    *("RS256", "RS384", "RS512", "PS256", "PS384", "PS512"),
    *("ES256", "ES384", "ES512", "EdDSA"),
]
_CURVES: dict[str, type[ec.EllipticCurve]] = {
    "ES256": ec.SECP256R1,
    "ES384": ec.SECP384R1,
    "ES512": ec.SECP521R1,
}
_KEYS: dict[str, Any] = {}


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """A static key never needs the network; jku/x5u must never be fetched."""
    refuse_network(monkeypatch)


def private_key(kind: str) -> Any:
    """One private key per kind, from cryptography (RSA 2048, the ES curves, Ed25519/Ed448)."""
    if kind not in _KEYS:
        if kind in ("RSA", "RSA-2"):
            _KEYS[kind] = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        elif kind == "RSA-1024":
            _KEYS[kind] = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505
        elif kind in _CURVES:
            _KEYS[kind] = ec.generate_private_key(_CURVES[kind]())
        elif kind == "Ed448":
            _KEYS[kind] = ed448.Ed448PrivateKey.generate()
        else:
            _KEYS[kind] = ed25519.Ed25519PrivateKey.generate()
    return _KEYS[kind]


def kind_of(alg: str) -> str:
    return "RSA" if alg[:2] in ("RS", "PS") else alg if alg.startswith("ES") else "Ed25519"


def public_jwk(key: Any, **members: Any) -> dict[str, Any]:
    """The public JWK of a private key, with extra members (``kid``, ``alg``, ``use``...)."""
    public = key.public_key()
    if isinstance(public, rsa.RSAPublicKey):
        jwk = RSAAlgorithm.to_jwk(public, as_dict=True)
    elif isinstance(public, ec.EllipticCurvePublicKey):
        jwk = ECAlgorithm.to_jwk(public, as_dict=True)
    else:
        jwk = OKPAlgorithm.to_jwk(public, as_dict=True)
    return {**jwk, **members}


def settings_for(jwks: dict[str, Any] | str, algorithms: list[str], **values: Any) -> Settings:
    text = jwks if isinstance(jwks, str) else json.dumps(jwks)
    return Settings(
        _env_file=None,
        identifier=IDENTIFIER,
        issuer=ISSUER,
        public_key=text,
        algorithms=algorithms,
        **values,
    )


def pyjwt_token(key: Any, alg: str, kid: str | None = "k1", **headers: Any) -> str:
    header = {"kid": kid, **headers} if kid is not None else headers
    return jwt.encode(make_claims(), key, algorithm=alg, headers=header or None)


def failure(settings: Settings, token: str) -> TokenFailure:
    with pytest.raises(InvalidTokenError) as info:
        TokenVerifier(settings).verify(token)
    return info.value.failure


@pytest.mark.parametrize("alg", [pytest.param(alg, id=alg) for alg in ALGORITHMS])
def test_every_algorithm_verifies_a_pyjwt_token(alg: str) -> None:
    key = private_key(kind_of(alg))
    settings = settings_for({"keys": [public_jwk(key, kid="k1", alg=alg, use="sig")]}, [alg])
    access = TokenVerifier(settings).verify(pyjwt_token(key, alg))
    assert access.scopes == frozenset({"sample-scope", "other-scope"})
    assert access.audience == (IDENTIFIER,)


def test_ed448_verifies_under_eddsa() -> None:
    key = private_key("Ed448")
    settings = settings_for({"keys": [public_jwk(key, kid="k1")]}, ["EdDSA"])
    assert TokenVerifier(settings).verify(pyjwt_token(key, "EdDSA")).subject is not None


@pytest.mark.parametrize("alg", [pytest.param(alg, id=alg) for alg in ALGORITHMS])
def test_a_signature_by_another_key_of_the_same_type_is_refused(alg: str) -> None:
    key = private_key(kind_of(alg))
    other = private_key("RSA-2") if alg[:2] in ("RS", "PS") else None
    if other is None:  # a fresh key of the same kind
        other = (
            ec.generate_private_key(_CURVES[alg]())
            if alg in _CURVES
            else ed25519.Ed25519PrivateKey.generate()
        )
    settings = settings_for({"keys": [public_jwk(key, kid="k1")]}, [alg])
    assert failure(settings, pyjwt_token(other, alg)) is TokenFailure.SIGNATURE


@pytest.mark.parametrize("alg", [pytest.param(alg, id=alg) for alg in ALGORITHMS])
def test_a_tampered_payload_is_refused(alg: str) -> None:
    key = private_key(kind_of(alg))
    settings = settings_for({"keys": [public_jwk(key, kid="k1")]}, [alg])
    header, _, signature = pyjwt_token(key, alg).split(".")
    forged = b64url(json.dumps(make_claims(scope="admin")).encode())
    assert failure(settings, f"{header}.{forged}.{signature}") is TokenFailure.SIGNATURE


def rsa_pem() -> bytes:
    key: rsa.RSAPrivateKey = private_key("RSA")
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def hs256_with_pem_secret() -> str:
    """The classic confusion attack: an HS256 token whose "secret" is the public key PEM."""
    header = b64url(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "k1"}).encode())
    payload = b64url(json.dumps(make_claims()).encode())
    signature = hmac.new(rsa_pem(), f"{header}.{payload}".encode(), "sha256").digest()
    return f"{header}.{payload}.{b64url(signature)}"


@pytest.mark.parametrize(
    ("public_key", "algorithms", "secret", "expected"),
    [
        pytest.param("pem", ["RS256"], None, TokenFailure.ALGORITHM, id="pem-rs256-only"),
        pytest.param("jwks", ["RS256"], None, TokenFailure.ALGORITHM, id="jwks-rs256-only"),
        pytest.param("pem", ["HS256", "RS256"], SECRET, TokenFailure.SIGNATURE, id="pem-migrating"),
        pytest.param(
            "jwks", ["HS256", "RS256"], SECRET, TokenFailure.SIGNATURE, id="jwks-migrating"
        ),
    ],
)
def test_algorithm_confusion_is_refused(
    public_key: str, algorithms: list[str], secret: str | None, expected: TokenFailure
) -> None:
    text = (
        rsa_pem().decode()
        if public_key == "pem"
        else json.dumps({"keys": [public_jwk(private_key("RSA"), kid="k1")]})
    )
    settings = settings_for(text, algorithms, signing_secret=secret)
    assert failure(settings, hs256_with_pem_secret()) is expected


def test_migrating_settings_verify_each_algorithm_with_its_own_key() -> None:
    key = private_key("RSA")
    settings = settings_for(
        {"keys": [public_jwk(key, kid="k1")]}, ["HS256", "RS256"], signing_secret=SECRET
    )
    verifier = TokenVerifier(settings)
    assert verifier.verify(pyjwt_token(key, "RS256")).subject is not None
    assert verifier.verify(jwt.encode(make_claims(), SECRET, algorithm="HS256")).subject


@pytest.mark.parametrize(
    ("jwk_members", "kind", "alg", "expected"),
    [
        pytest.param({"alg": "RS384"}, "RSA", "RS256", TokenFailure.KEY_MISMATCH, id="jwk-alg"),
        pytest.param({"alg": "PS256"}, "RSA", "RS256", TokenFailure.KEY_MISMATCH, id="jwk-alg-ps"),
        pytest.param({"use": "enc"}, "RSA", "RS256", TokenFailure.KEY_MISMATCH, id="use-enc"),
        pytest.param(
            {"key_ops": ["encrypt"]}, "RSA", "RS256", TokenFailure.KEY_MISMATCH, id="key-ops"
        ),
        pytest.param(
            {"key_ops": "verify"}, "RSA", "RS256", TokenFailure.KEY_MISMATCH, id="ops-str"
        ),
        pytest.param({"alg": "HS256"}, "RSA", "RS256", TokenFailure.KEY_MISMATCH, id="jwk-alg-hs"),
        pytest.param({}, "ES384", "ES256", TokenFailure.KEY_MISMATCH, id="curve-p384-for-es256"),
        pytest.param({}, "ES256", "ES512", TokenFailure.KEY_MISMATCH, id="curve-p256-for-es512"),
        pytest.param({}, "RSA", "ES256", TokenFailure.KEY_MISMATCH, id="rsa-for-es256"),
        pytest.param({}, "ES256", "RS256", TokenFailure.KEY_MISMATCH, id="ec-for-rs256"),
        pytest.param({}, "Ed25519", "RS256", TokenFailure.KEY_MISMATCH, id="okp-for-rs256"),
        pytest.param({}, "ES256", "EdDSA", TokenFailure.KEY_MISMATCH, id="ec-for-eddsa"),
        pytest.param({}, "RSA-1024", "RS256", TokenFailure.KEY_MISMATCH, id="rsa-1024"),
        pytest.param({"use": "sig", "key_ops": ["verify"]}, "RSA", "RS256", None, id="allowed"),
    ],
)
def test_key_must_fit_the_algorithm(
    jwk_members: dict[str, Any], kind: str, alg: str, expected: TokenFailure | None
) -> None:
    served = public_jwk(private_key(kind), kid="k1", **jwk_members)
    usable = public_jwk(private_key("Ed25519"), kid="other")  # so the set is never empty
    settings = settings_for({"keys": [served, usable]}, ["RS256", "ES256", "ES512", "EdDSA"])
    signer = private_key(kind) if expected is None else private_key(kind_of(alg))
    if kind == "RSA-1024":
        signer = private_key("RSA-1024")
    with warnings.catch_warnings():  # PyJWT warns when it signs with a short RSA key
        warnings.simplefilter("ignore")
        token = pyjwt_token(signer, alg)
    if expected is None:
        assert TokenVerifier(settings).verify(token).subject is not None
    else:
        assert failure(settings, token) is expected


def test_a_der_es256_signature_is_refused() -> None:
    """RFC 7518 §3.4: R||S, 64 bytes for ES256; the DER form of the same signature fails."""
    key = private_key("ES256")
    settings = settings_for({"keys": [public_jwk(key, kid="k1")]}, ["ES256"])
    header = b64url(json.dumps({"alg": "ES256", "kid": "k1"}).encode())
    payload = b64url(json.dumps(make_claims()).encode())
    der = key.sign(f"{header}.{payload}".encode(), ec.ECDSA(hashes.SHA256()))
    r, s = decode_dss_signature(der)
    raw = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    assert TokenVerifier(settings).verify(f"{header}.{payload}.{b64url(raw)}").subject
    assert failure(settings, f"{header}.{payload}.{b64url(der)}") is TokenFailure.SIGNATURE


def test_private_members_of_a_published_jwk_are_ignored() -> None:
    key = private_key("RSA")
    leaked = RSAAlgorithm.to_jwk(key, as_dict=True)  # d, p, q, dp, dq, qi included
    assert "d" in leaked
    del leaked["key_ops"]  # PyJWT marks a private JWK "sign": that alone would refuse it
    keys = parse_key_set({"keys": [{**leaked, "kid": "k1"}]})
    assert isinstance(keys.keys[0].key, rsa.RSAPublicKey)
    settings = settings_for({"keys": [{**leaked, "kid": "k1"}]}, ["RS256"])
    assert TokenVerifier(settings).verify(pyjwt_token(key, "RS256")).subject


def test_a_symmetric_jwk_is_never_a_key() -> None:
    secret = base64.urlsafe_b64encode(SECRET.encode()).rstrip(b"=").decode()
    keys = parse_key_set({"keys": [{"kty": "oct", "k": secret, "kid": "k1"}]})
    assert keys == KeySet((), skipped=1)


@pytest.mark.parametrize(
    ("kid", "served", "expected"),
    [
        pytest.param(None, ["a"], None, id="no-kid-one-key"),
        pytest.param(None, ["a", "b"], TokenFailure.UNKNOWN_KEY, id="no-kid-two-keys"),
        pytest.param("c", ["a", "b"], TokenFailure.UNKNOWN_KEY, id="unknown-kid"),
        pytest.param("b", ["a", "b"], None, id="second-kid"),
    ],
)
def test_kid_selects_the_key(kid: str | None, served: list[str], expected: Any) -> None:
    key = private_key("RSA")
    other = private_key("RSA-2")
    members = [
        public_jwk(key if name == "b" or len(served) == 1 else other, kid=name) for name in served
    ]
    settings = settings_for({"keys": members}, ["RS256"])
    token = pyjwt_token(key, "RS256", kid=kid)
    if expected is None:
        assert TokenVerifier(settings).verify(token).subject
    else:
        assert failure(settings, token) is expected


def test_no_kid_picks_the_one_key_of_the_right_type() -> None:
    rsa_key, ec_key = private_key("RSA"), private_key("ES256")
    settings = settings_for(
        {"keys": [public_jwk(rsa_key, kid="r"), public_jwk(ec_key, kid="e")]}, ["RS256", "ES256"]
    )
    assert TokenVerifier(settings).verify(pyjwt_token(ec_key, "ES256", kid=None)).subject


@pytest.mark.parametrize("parameter", ["jwk", "jku", "x5u", "x5c"])
def test_header_key_parameters_never_supply_a_key(parameter: str) -> None:
    attacker = private_key("RSA-2")
    values: dict[str, Any] = {
        "jwk": public_jwk(attacker, kid="k1"),
        "jku": "https://attacker.example/jwks.json",
        "x5u": "https://attacker.example/cert.pem",
        "x5c": ["MIIBIjANBgkq"],
    }
    settings = settings_for({"keys": [public_jwk(private_key("RSA"), kid="k1")]}, ["RS256"])
    token = pyjwt_token(attacker, "RS256", **{parameter: values[parameter]})
    assert failure(settings, token) is TokenFailure.SIGNATURE


def test_a_pem_key_verifies_whatever_the_kid() -> None:
    key = private_key("RSA")
    settings = settings_for(rsa_pem().decode(), ["RS256"])
    verifier = TokenVerifier(settings)
    assert verifier.verify(pyjwt_token(key, "RS256", kid="anything")).subject
    assert verifier.verify(pyjwt_token(key, "RS256", kid=None)).subject


def test_a_non_string_kid_is_a_header_failure() -> None:
    key = private_key("RSA")
    settings = settings_for({"keys": [public_jwk(key, kid="k1")]}, ["RS256"])
    header = b64url(json.dumps({"alg": "RS256", "kid": 7}).encode())
    payload = b64url(json.dumps(make_claims()).encode())
    assert failure(settings, f"{header}.{payload}.AAAA") is TokenFailure.HEADER


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("junk", "is neither a PEM public key nor JSON", id="junk"),
        pytest.param('{"keys": 1}', "not a JWK Set", id="keys-not-a-list"),
        pytest.param('{"keys": []}', "holds no usable public key", id="empty-set"),
        pytest.param(
            json.dumps({"kty": "RSA", "n": "AQAB"}), "holds no usable public key", id="bad-rsa"
        ),
        pytest.param(
            "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----",
            "is not a PEM public key",
            id="bad-pem",
        ),
        pytest.param("private-pem", "is not a PEM public key", id="private-pem"),
        pytest.param("rsa-1024", "RSA 1024 bits", id="rsa-1024"),
        pytest.param(
            json.dumps({"keys": [{"kty": "EC", "crv": "P-256"}] * 101}),
            "at most 100 are read",
            id="too-many-keys",
        ),
    ],
)
def test_a_bad_public_key_is_refused_at_configuration(text: str, message: str) -> None:
    if text == "private-pem":
        text = (
            private_key("RSA")
            .private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            .decode()
        )
    if text == "rsa-1024":
        text = json.dumps(public_jwk(private_key("RSA-1024"), kid="short"))
    with pytest.raises(ConfigurationError) as info:
        settings_for(text, ["RS256"])
    assert str(info.value).startswith(
        "Invalid scopegate settings:\n  public_key (SCOPEGATE_PUBLIC_KEY): "
    )
    assert message in str(info.value)
    assert "PRIVATE" not in str(info.value)


def test_static_key_forms_agree() -> None:
    key = private_key("ES256")
    jwk = public_jwk(key, kid="k1")
    for text in (json.dumps(jwk), json.dumps({"keys": [jwk]})):
        assert parse_static_key(text).kids == ("k1",)
    pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    keys = parse_static_key(pem.decode())
    assert (keys.wildcard, keys.keys[0].kty, keys.keys[0].crv) == (True, "EC", "P-256")


def test_two_key_sources_are_refused() -> None:
    with pytest.raises(ConfigurationError) as info:
        settings_for(rsa_pem().decode(), ["RS256"], jwks_uri="https://tenant.example/jwks.json")
    assert str(info.value) == (
        "Invalid scopegate settings:\n  public_key (SCOPEGATE_PUBLIC_KEY): and "
        "SCOPEGATE_JWKS_URI are two key sources; set one of them"
    )
