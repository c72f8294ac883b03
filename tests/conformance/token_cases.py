"""Token rows: tokens that reach the verifier, sent as ``Authorization: Bearer``.

Each rejection is 401 ``invalid_token`` with one fixed description per broken
rule; the accepted variants (audience lists, accepted ``typ`` values, key
headers that must not be fetched, leeway) are 200.
"""

from __future__ import annotations

import time

from helpers import IDENTIFIER

from .model import Case, bad_token, missing, ok
from .tokens import (
    OTHER_SECRET,
    const,
    forged,
    header_and_payload,
    relative,
    respelled,
    spliced,
    standard_alphabet,
    tampered,
    valid,
)

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
CLAIM_VALUE = "The access token has a claim value that is not accepted"
BOUND = "The access token is sender-constrained and cannot be used as a bearer token"
REJECTED = "The access token is not accepted by this resource"

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

# RFC 7515 §2 / RFC 7519 §7.2 / RFC 8259: one spelling per segment, UTF-8 JSON only.
# Every token here is correctly signed over its bytes: the only defect is the one named.
EXACT_JSON_CASES = [
    bad_token("payload-utf-16-le", MALFORMED, spliced(encoding="utf-16-le")),
    bad_token("payload-utf-16-be", MALFORMED, spliced(encoding="utf-16-be")),
    bad_token("payload-utf-16-with-bom", MALFORMED, spliced(encoding="utf-16")),
    bad_token("payload-utf-32", MALFORMED, spliced(encoding="utf-32")),
    bad_token("payload-utf-8-bom", MALFORMED, spliced(prefix=b"\xef\xbb\xbf")),
    bad_token("header-utf-16", MALFORMED, spliced(header='{"alg":"HS256"}', encoding="utf-16")),
    bad_token("payload-invalid-utf-8", MALFORMED, spliced(prefix=b"\xff")),
    bad_token("payload-nan", MALFORMED, spliced('"nbf":NaN')),
    bad_token("payload-infinity", MALFORMED, spliced('"ext":Infinity')),
    bad_token("payload-minus-infinity", MALFORMED, spliced('"ext":[1,-Infinity]')),
    bad_token("payload-nan-nested", MALFORMED, spliced('"ext":{"a":{"b":[NaN]}}')),
    bad_token("payload-float-overflow", MALFORMED, spliced('"ext":1e999')),
    bad_token("header-nan", MALFORMED, spliced(header='{"alg":"HS256","x":NaN}')),
    bad_token("sub-unpaired-high-surrogate", MALFORMED, spliced('"sub":"a\\ud800"', sub=None)),
    bad_token("sub-unpaired-low-surrogate", MALFORMED, spliced('"sub":"\\udc00b"', sub=None)),
    bad_token("claim-name-surrogate", MALFORMED, spliced('"\\uDBFF":1')),
    ok("sub-surrogate-pair-is-text", spliced('"sub":"\\ud83d\\ude00"', sub=None)),
    ok("escaped-backslash-before-u", spliced('"ext":"\\\\ud800"')),
    bad_token("duplicate-claim", MALFORMED, spliced('"scope":"admin"')),
    bad_token(
        "duplicate-header-member", MALFORMED, spliced(header='{"alg":"HS256","alg":"HS256"}')
    ),
    bad_token("signature-non-zero-trailing-bits", MALFORMED, respelled(valid(), 2)),
    bad_token("payload-non-zero-trailing-bits", MALFORMED, respelled(valid(), 1)),
    bad_token("signature-standard-alphabet", MALFORMED, standard_alphabet),
    bad_token("signature-length-4n-plus-1", MALFORMED, lambda: _length_4n_plus_1(valid()())),
    bad_token("header-empty-segment", MALFORMED, lambda: "." + valid()().partition(".")[2]),
]


def _length_4n_plus_1(token: str) -> str:
    """``token`` with its signature lengthened to 4n+1 characters: no base64 length."""
    signature = token.rpartition(".")[2]
    return token + "A" * ((1 - len(signature)) % 4 or 4)


# RFC 7519 §4.1: a registered claim that is present has its registered type; null is present.
CLAIM_TYPE_CASES = [
    bad_token("exp-null", CLAIM_TYPE, spliced('"exp":null', exp=None)),
    bad_token("nbf-null", CLAIM_TYPE, spliced('"nbf":null')),
    bad_token("iat-null", CLAIM_TYPE, spliced('"iat":null', iat=None)),
    bad_token("sub-null", CLAIM_TYPE, spliced('"sub":null', sub=None)),
    bad_token("iss-null", CLAIM_TYPE, spliced('"iss":null', iss=None)),
    bad_token("aud-null", CLAIM_TYPE, spliced('"aud":null', aud=None)),
    bad_token("azp-null", CLAIM_TYPE, spliced('"azp":null', azp=None)),
    bad_token("jti-number", CLAIM_TYPE, valid(jti=12345)),
    bad_token("jti-null", CLAIM_TYPE, spliced('"jti":null')),
    bad_token("azp-number", CLAIM_TYPE, forged(HS256, azp=7)),
    bad_token("client-id-list", CLAIM_TYPE, valid(client_id=["a"])),
    # Stricter than RFC 7519, on purpose (README, Security notes): 1970 to 9999 only.
    bad_token("nbf-negative", CLAIM_TYPE, forged(HS256, nbf=-1)),
    bad_token("iat-negative", CLAIM_TYPE, forged(HS256, iat=-86400)),
    bad_token("nbf-past-year-9999", CLAIM_TYPE, forged(HS256, nbf=253_402_300_800)),
    ok("exp-float", lambda: valid(exp=time.time() + 3600.5)()),
]

NESTED_AND_TYPE_CASES = [
    bad_token("cty-jwt-nested", HEADER, forged({**HS256, "cty": "JWT"})),
    bad_token("cty-application-jwt", HEADER, forged({**HS256, "cty": "application/JWT"})),
    bad_token("cty-not-a-string", HEADER, forged({**HS256, "cty": 1})),
    ok("typ-application-jwt", forged({"alg": "HS256", "typ": "application/jwt"})),
    ok("typ-APPLICATION-JWT", forged({"alg": "HS256", "typ": "APPLICATION/JWT"})),
    ok("typ-lowercase-jwt", forged({"alg": "HS256", "typ": "jwt"})),
    bad_token("typ-application-json", TYPE, forged({"alg": "HS256", "typ": "application/json"})),
    bad_token("typ-null", TYPE, forged({"alg": "HS256", "typ": None})),
]

# RFC 9449 §7.1, RFC 8705 §3: a bound token presented as Bearer is refused.
SENDER_CONSTRAINED_CASES = [
    bad_token(
        "cnf-jkt-dpop-bound",
        BOUND,
        valid(cnf={"jkt": "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"}),
    ),
    bad_token(
        "cnf-x5t-mtls-bound",
        BOUND,
        valid(cnf={"x5t#S256": "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2"}),
    ),
    bad_token("cnf-jwk-bound", BOUND, valid(cnf={"jwk": {"kty": "oct", "k": "c2VjcmV0"}})),
    bad_token("cnf-not-an-object", CLAIM_TYPE, valid(cnf="jkt")),
]

RFC9068 = (("token_profile", "rfc9068"),)
AT_JWT = {"alg": "HS256", "typ": "at+jwt"}
PROFILE_CLAIMS = {"client_id": "zA9hQ0wZ2cL1sT8xK3mN5pR7vY4bD6fG", "jti": "id-1"}
PROFILE_CASES = [
    ok("rfc9068-at+jwt", forged(AT_JWT, **PROFILE_CLAIMS), settings=RFC9068),
    ok(
        "rfc9068-application-at+jwt",
        forged({"alg": "HS256", "typ": "application/AT+JWT"}, **PROFILE_CLAIMS),
        settings=RFC9068,
    ),
    bad_token("rfc9068-typ-jwt", TYPE, forged(HS256, **PROFILE_CLAIMS), settings=RFC9068),
    bad_token(
        "rfc9068-typ-absent", TYPE, forged({"alg": "HS256"}, **PROFILE_CLAIMS), settings=RFC9068
    ),
    *(
        bad_token(
            f"rfc9068-without-{name}",
            MISSING_CLAIM,
            forged(AT_JWT, **{**PROFILE_CLAIMS, name: None}),
            settings=RFC9068,
        )
        for name in ("iss", "exp", "aud", "sub", "client_id", "iat", "jti")
    ),
    ok("default-profile-accepts-at+jwt", forged(AT_JWT, **PROFILE_CLAIMS)),
]

M2M = (("claim_values", {"gty": ["client-credentials"]}),)
AZP = (("claim_values", {"azp": ["zA9hQ0wZ2cL1sT8xK3mN5pR7vY4bD6fG", "another-client"]}),)
REQUIRED = (("required_claims", ["org_id"]),)
DECLARED_CASES = [
    ok("claim-values-m2m", valid(), settings=M2M),
    bad_token("claim-values-other-grant", CLAIM_VALUE, valid(gty="password"), settings=M2M),
    bad_token("claim-values-missing", MISSING_CLAIM, valid(gty=None), settings=M2M),
    bad_token("claim-values-wrong-type", CLAIM_VALUE, valid(gty=1), settings=M2M),
    ok("claim-values-azp-allow-list", valid(), settings=AZP),
    bad_token("claim-values-azp-unknown", CLAIM_VALUE, valid(azp="intruder"), settings=AZP),
    ok("required-claims-present", valid(org_id="org-1"), settings=REQUIRED),
    bad_token("required-claims-absent", MISSING_CLAIM, valid(), settings=REQUIRED),
    bad_token("required-claims-null", MISSING_CLAIM, spliced('"org_id":null'), settings=REQUIRED),
]

# Application validators on the verifier (TokenVerifier(..., validators=[...])): a jti deny-list.
VALIDATOR_CASES = [
    ok("validator-accepts", valid(jti="fine-jti"), validated=True),
    bad_token("validator-rejects", REJECTED, valid(jti="revoked-jti-0001"), validated=True),
    bad_token(
        "validator-after-scopegate-rules",
        EXPIRED,
        valid(jti="revoked-jti-0001", exp=1),
        validated=True,
    ),
    ok("no-validator-no-deny-list", valid(jti="revoked-jti-0001")),
]

# Route guards: require_claim and require_token, 401 invalid_token like the verifier's checks.
ROUTE_CLAIM_CASES = [
    ok("route-claim-m2m", valid(), "/api/claim"),
    bad_token("route-claim-other-grant", CLAIM_VALUE, valid(gty="password"), path="/api/claim"),
    bad_token("route-claim-in-array", CLAIM_VALUE, valid(gty=["password"]), path="/api/claim"),
    ok("route-claim-array-holding-it", valid(gty=["password", "client-credentials"]), "/api/claim"),
    bad_token("route-claim-missing", MISSING_CLAIM, valid(gty=None), path="/api/claim"),
    bad_token("route-claim-boolean-not-string", CLAIM_VALUE, valid(gty=True), path="/api/claim"),
    ok("route-check-our-client", valid(), "/api/check"),
    missing("route-claim-anonymous", "/api/claim", auth_required=False),
    missing("route-check-anonymous", "/api/check", auth_required=False),
    bad_token("route-check-other-client", REJECTED, valid(azp="another-client"), path="/api/check"),
]

TOKEN_CASES: tuple[Case, ...] = (
    *NOT_A_JWS,
    *SIGNATURE_CASES,
    *ALGORITHM_CASES,
    *HEADER_CASES,
    *AUDIENCE_ISSUER_CASES,
    *TIME_CASES,
    *SCOPE_CLAIM_CASES,
    *EXACT_JSON_CASES,
    *CLAIM_TYPE_CASES,
    *NESTED_AND_TYPE_CASES,
    *SENDER_CONSTRAINED_CASES,
    *PROFILE_CASES,
    *DECLARED_CASES,
    *VALIDATOR_CASES,
    *ROUTE_CLAIM_CASES,
)
