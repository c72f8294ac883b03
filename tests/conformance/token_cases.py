"""Token rows: tokens that reach the verifier, sent as ``Authorization: Bearer``.

Each rejection is 401 ``invalid_token`` with one fixed description per broken
rule; the accepted variants (audience lists, accepted ``typ`` values, key
headers that must not be fetched, leeway) are 200.
"""

from __future__ import annotations

from conftest import IDENTIFIER

from .model import Case, bad_token, ok
from .tokens import OTHER_SECRET, const, forged, header_and_payload, relative, tampered, valid

__all__ = ["SIGNATURE", "TOKEN_CASES"]

MALFORMED = "The access token is malformed"
TOO_LARGE = "The access token is too large"
ALGORITHM = "The access token algorithm is not allowed"
SIGNATURE = "The access token signature is invalid"
HEADER = "The access token header is not accepted"
TYPE = "The access token type is not accepted"
EXPIRED = "The access token has expired"
NOT_YET_VALID = "The access token is not yet valid"
AUDIENCE = "The access token audience is not accepted"
ISSUER = "The access token issuer is not accepted"
MISSING_CLAIM = "The access token is missing a required claim"
CLAIM_TYPE = "The access token has a claim of the wrong type"

HS256 = {"alg": "HS256", "typ": "JWT"}

NOT_A_JWS = [
    bad_token("one-segment", MALFORMED, const("garbage")),
    bad_token("two-segments", MALFORMED, header_and_payload),
    bad_token("three-garbage-segments", MALFORMED, const("abc.def.ghi")),
    bad_token("five-segments-jwe-like", MALFORMED, const("eyJhbGciOiJkaXIifQ.a.b.c.d")),
    bad_token("payload-not-json", MALFORMED, forged(HS256, payload=b"{not json")),
    bad_token("payload-json-array", MALFORMED, forged(HS256, payload=["sample-scope"])),
    bad_token("padded-signature-segment", MALFORMED, lambda: valid()() + "=="),
    # Under the header limit, over max_token_bytes (8192).
    bad_token("token-over-max-bytes", TOO_LARGE, const("a" * 8200)),
]

SIGNATURE_CASES = [
    bad_token("signed-with-other-secret", SIGNATURE, valid(key=OTHER_SECRET)),
    bad_token("tampered-payload", SIGNATURE, tampered(scope="admin sample-scope")),
    bad_token("signature-stripped", SIGNATURE, lambda: header_and_payload() + "."),
]

ALGORITHM_CASES = [
    bad_token("alg-none", ALGORITHM, forged({"alg": "none", "typ": "JWT"})),
    bad_token("alg-None", ALGORITHM, forged({"alg": "None", "typ": "JWT"})),
    bad_token("alg-NONE", ALGORITHM, forged({"alg": "NONE", "typ": "JWT"})),
    bad_token("alg-nOnE", ALGORITHM, forged({"alg": "nOnE"})),
    bad_token("alg-HS384-not-allowed", ALGORITHM, forged({"alg": "HS384", "typ": "JWT"})),
    bad_token("alg-HS512-not-allowed", ALGORITHM, forged({"alg": "HS512", "typ": "JWT"})),
    bad_token("alg-RS256", ALGORITHM, forged({"alg": "RS256", "typ": "JWT"})),
    bad_token("alg-missing", ALGORITHM, forged({"typ": "JWT"})),
]

HEADER_CASES = [
    # No JWS extension is understood, so any critical one must fail (RFC 7515 §4.1.11),
    # as HEADER whether or not PyJWT would have refused it too.
    bad_token("crit-unknown-extension", HEADER, forged({**HS256, "crit": ["exp"]})),
    bad_token("crit-empty-list", HEADER, forged({**HS256, "crit": []})),
    bad_token("crit-b64-extension", HEADER, forged({**HS256, "crit": ["b64"], "b64": True})),
    bad_token("b64-false", HEADER, forged({**HS256, "b64": False})),
    bad_token("b64-not-a-boolean", HEADER, forged({**HS256, "b64": "false"})),
    ok("b64-true-is-the-default", forged({**HS256, "b64": True})),
    bad_token("typ-dpop", TYPE, forged({"alg": "HS256", "typ": "dpop+jwt"})),
    bad_token("typ-not-a-string", TYPE, forged({"alg": "HS256", "typ": 1})),
    ok("typ-at+jwt", forged({"alg": "HS256", "typ": "at+jwt"})),
    ok("typ-JWT", forged({"alg": "HS256", "typ": "JWT"})),
    ok("typ-application-at+jwt", forged({"alg": "HS256", "typ": "application/at+jwt"})),
    ok("typ-absent", forged({"alg": "HS256"})),
    # Key-locating headers are never looked up: the configured secret still verifies.
    ok("kid-header", valid(headers={"kid": "key-1"})),
    ok("jku-header", valid(headers={"jku": "https://attacker.example/jwks.json"})),
    ok("x5u-header", valid(headers={"x5u": "https://attacker.example/cert.pem"})),
    ok("jwk-header", valid(headers={"jwk": {"kty": "oct", "k": "c2VjcmV0"}})),
]

AUDIENCE_ISSUER_CASES = [
    bad_token("aud-wrong", AUDIENCE, valid(aud="https://other-api")),
    bad_token("aud-missing", MISSING_CLAIM, valid(aud=None)),
    bad_token("aud-list-without-identifier", AUDIENCE, valid(aud=["a", "b"])),
    bad_token("aud-list-of-numbers", CLAIM_TYPE, valid(aud=[1, 2])),
    bad_token("aud-prefix-of-identifier", AUDIENCE, valid(aud=IDENTIFIER[:-1])),
    ok("aud-list-with-identifier", valid(aud=["https://other-api", IDENTIFIER]), "/api/whoami"),
    bad_token("iss-wrong", ISSUER, valid(iss="https://evil.example/")),
    bad_token("iss-missing", ISSUER, valid(iss=None)),
    bad_token("iss-not-a-string", CLAIM_TYPE, forged(HS256, iss=5)),
    bad_token("sub-not-a-string", CLAIM_TYPE, forged(HS256, sub=5)),
]

TIME_CASES = [
    bad_token("expired", EXPIRED, relative("exp", -3600)),
    # The default leeway is 5 s, on exp, nbf and iat alike.
    bad_token("expired-10s-ago", EXPIRED, relative("exp", -10)),
    bad_token("expired-7s-ago", EXPIRED, relative("exp", -7)),
    ok("expired-2s-ago-within-leeway", relative("exp", -2)),
    bad_token("nbf-in-future", NOT_YET_VALID, relative("nbf", 3600)),
    bad_token("nbf-8s-ahead", NOT_YET_VALID, relative("nbf", 8)),
    ok("nbf-2s-ahead-within-leeway", relative("nbf", 2)),
    bad_token("iat-in-future", NOT_YET_VALID, relative("iat", 3600)),
    ok("iat-2s-ahead-within-leeway", relative("iat", 2)),
    bad_token("exp-missing", MISSING_CLAIM, valid(exp=None)),
    bad_token("exp-string", CLAIM_TYPE, valid(exp="9999999999")),
    bad_token("exp-bool", CLAIM_TYPE, valid(exp=True)),
    bad_token("exp-negative", CLAIM_TYPE, forged(HS256, exp=-1)),
    bad_token("exp-past-year-9999", CLAIM_TYPE, forged(HS256, exp=10**20)),
    bad_token("nbf-string", CLAIM_TYPE, valid(nbf="0")),
]

SCOPE_CLAIM_CASES = [
    bad_token("scope-number", CLAIM_TYPE, valid(scope=42)),
    bad_token("scope-list-of-numbers", CLAIM_TYPE, valid(scope=[1, 2])),
    bad_token("scope-object", CLAIM_TYPE, valid(scope={"sample-scope": True})),
    bad_token("scope-list-mixed", CLAIM_TYPE, valid(scope=["sample-scope", 1])),
]

TOKEN_CASES: tuple[Case, ...] = (
    *NOT_A_JWS,
    *SIGNATURE_CASES,
    *ALGORITHM_CASES,
    *HEADER_CASES,
    *AUDIENCE_ISSUER_CASES,
    *TIME_CASES,
    *SCOPE_CLAIM_CASES,
)
