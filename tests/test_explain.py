"""explain(): the real verifier's verdict, with the specifics put into words."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import jwt
import pytest

from helpers import IDENTIFIER, ISSUER, SECRET
from scopegate import Settings, TokenVerifier
from scopegate.errors import InvalidTokenError, TokenFailure
from scopegate.explain import Report, explain, format_time, relative_time
from scopegate.testing import mint_token

NOW = 1_800_000_000  # 2027-01-15T08:00:00Z
OTHER_SECRET = "another-secret-that-is-long-enough-for-hs256-0123456789"


def raw(header: bytes, payload: bytes) -> str:
    """A token signed with SECRET from the exact header and payload bytes."""
    signing_input = f"{b64(header)}.{b64(payload)}"
    mac = hmac.new(SECRET.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(mac)}"


ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def respelled(jwt_text: str) -> str:
    """The same token with one trailing padding bit of the signature set: the same bytes."""
    last = ALPHABET.index(jwt_text[-1])
    return jwt_text[:-1] + ALPHABET[last | 1]


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims_bytes(settings: Settings, **overrides: Any) -> bytes:
    """The claims of :func:`token` as compact JSON bytes (None removes a claim)."""
    payload = jwt.decode(token(settings), options={"verify_signature": False})
    payload.update(overrides)
    return json.dumps({k: v for k, v in payload.items() if v is not None}).encode()


def segment(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


def unsigned(header: Any, payload: Any) -> str:
    return f"{segment(header)}.{segment(payload)}.c2lnbmF0dXJl"


def token(settings: Settings, **overrides: Any) -> str:
    return mint_token(settings, **{"now": NOW - 600, "scopes": ["sample-scope"], **overrides})


# Each case: how to build the token from the settings, the failure, the exact reason.
CASES = [
    pytest.param(
        lambda s: "garbage",
        TokenFailure.MALFORMED,
        "malformed: a JWT has 3 dot-separated parts, this has 1",
        id="malformed-one-part",
    ),
    pytest.param(
        lambda s: "a.b",
        TokenFailure.MALFORMED,
        "malformed: a JWT has 3 dot-separated parts, this has 2",
        id="malformed-two-parts",
    ),
    pytest.param(
        lambda s: "",
        TokenFailure.MALFORMED,
        "malformed: the token is empty",
        id="malformed-empty",
    ),
    pytest.param(
        lambda s: "!!!." + segment({"aud": IDENTIFIER}) + ".c2ln",
        TokenFailure.MALFORMED,
        "malformed: the header is not canonical base64url "
        "(URL-safe alphabet, no padding, no stray trailing bits)",
        id="malformed-header",
    ),
    pytest.param(
        lambda s: jwt.PyJWS().encode(b"[1, 2]", SECRET, algorithm="HS256"),
        TokenFailure.MALFORMED,
        "malformed: the payload is not a JSON object",
        id="malformed-payload-array",
    ),
    pytest.param(
        lambda s: unsigned(["HS256"], {"aud": IDENTIFIER}),
        TokenFailure.MALFORMED,
        "malformed: the header is not a JSON object",
        id="malformed-header-array",
    ),
    pytest.param(
        lambda s: token(s, padding="x" * 9000),
        TokenFailure.TOO_LARGE,
        "too large: the token is {length} bytes, the limit is 8192 (SCOPEGATE_MAX_TOKEN_BYTES)",
        id="too-large",
    ),
    pytest.param(
        lambda s: token(s, algorithm="HS384"),
        TokenFailure.ALGORITHM,
        "algorithm HS384 is not allowed (allowed: HS256)",
        id="algorithm-hs384",
    ),
    pytest.param(
        lambda s: unsigned({"alg": "none"}, {"aud": IDENTIFIER}),
        TokenFailure.ALGORITHM,
        "algorithm none is not allowed (allowed: HS256)",
        id="algorithm-none",
    ),
    pytest.param(
        lambda s: unsigned({"typ": "JWT"}, {"aud": IDENTIFIER}),
        TokenFailure.ALGORITHM,
        "algorithm: the header names none (allowed: HS256)",
        id="algorithm-missing",
    ),
    pytest.param(
        lambda s: token(s, secret=OTHER_SECRET),
        TokenFailure.SIGNATURE,
        "signature does not match the configured signing secret",
        id="signature",
    ),
    pytest.param(
        lambda s: token(s, headers={"crit": ["exp"]}),
        TokenFailure.HEADER,
        "header: crit ['exp'] asks for JWS extensions scopegate does not support",
        id="header-crit",
    ),
    pytest.param(
        lambda s: unsigned({"alg": "HS256", "b64": False}, {"aud": IDENTIFIER}),
        TokenFailure.HEADER,
        "header: b64 is False; only base64url-encoded payloads are accepted",
        id="header-b64",
    ),
    pytest.param(
        lambda s: token(s, headers={"typ": "JOSE"}),
        TokenFailure.TYPE,
        "type: typ 'JOSE' is not accepted "
        "(accepted: application/at+jwt, application/jwt, at+jwt, jwt)",
        id="type",
    ),
    pytest.param(
        lambda s: token(s, now=NOW - 7200, expires_in=3600),
        TokenFailure.EXPIRED,
        "expired 1 hour ago (at 2027-01-15T07:00:00Z)",
        id="expired",
    ),
    pytest.param(
        lambda s: token(s, now=NOW - 3 * 86400, expires_in=60),
        TokenFailure.EXPIRED,
        "expired 2 days ago (at 2027-01-12T08:01:00Z)",
        id="expired-days",
    ),
    pytest.param(
        lambda s: token(s, nbf=NOW + 300),
        TokenFailure.NOT_YET_VALID,
        "not yet valid until 2027-01-15T08:05:00Z (in 5 minutes)",
        id="nbf",
    ),
    pytest.param(
        lambda s: token(s, now=NOW + 7200),
        TokenFailure.NOT_YET_VALID,
        "not yet valid: issued in the future, at 2027-01-15T10:00:00Z (in 2 hours)",
        id="iat-future",
    ),
    pytest.param(
        lambda s: token(s, aud="https://other"),
        TokenFailure.AUDIENCE,
        "audience: expected 'https://my-api-urn', got 'https://other'",
        id="audience",
    ),
    pytest.param(
        lambda s: token(s, aud=["https://a", "https://b"]),
        TokenFailure.AUDIENCE,
        "audience: expected 'https://my-api-urn', got ['https://a', 'https://b']",
        id="audience-list",
    ),
    pytest.param(
        lambda s: token(s, iss="https://evil.example/"),
        TokenFailure.ISSUER,
        "issuer: expected 'https://tenant.example.auth0.com/', got 'https://evil.example/'",
        id="issuer",
    ),
    pytest.param(
        lambda s: token(s, iss=None),
        TokenFailure.ISSUER,
        "issuer: expected 'https://tenant.example.auth0.com/', got no iss claim",
        id="issuer-missing",
    ),
    pytest.param(
        lambda s: token(s, exp=None),
        TokenFailure.MISSING_CLAIM,
        "missing claim: 'exp' (expiration time) is required",
        id="missing-exp",
    ),
    pytest.param(
        lambda s: token(s, aud=None),
        TokenFailure.MISSING_CLAIM,
        "missing claim: 'aud' (audience) is required",
        id="missing-aud",
    ),
    pytest.param(
        lambda s: token(s, exp="tomorrow"),
        TokenFailure.CLAIM_TYPE,
        "claim type: 'exp' must be a NumericDate (seconds since 1970, up to year 9999), "
        "got 'tomorrow'",
        id="claim-type-exp",
    ),
    pytest.param(
        lambda s: token(s, nbf=True),
        TokenFailure.CLAIM_TYPE,
        "claim type: 'nbf' must be a NumericDate (seconds since 1970, up to year 9999), got True",
        id="claim-type-nbf-bool",
    ),
    pytest.param(
        lambda s: token(s, iat=10**20),
        TokenFailure.CLAIM_TYPE,
        "claim type: 'iat' must be a NumericDate (seconds since 1970, up to year 9999), "
        "got 100000000000000000000",
        id="claim-type-iat-huge",
    ),
    pytest.param(
        lambda s: token(s, aud=5),
        TokenFailure.CLAIM_TYPE,
        "claim type: 'aud' must be a string or an array of strings, got 5",
        id="claim-type-aud",
    ),
    pytest.param(
        lambda s: token(s, sub=["a"]),
        TokenFailure.CLAIM_TYPE,
        "claim type: 'sub' must be a string, got ['a']",
        id="claim-type-sub",
    ),
    pytest.param(
        lambda s: token(s, scope={"read": True}),
        TokenFailure.CLAIM_TYPE,
        "claim type: 'scope' must be a space-separated string or an array of strings, "
        "got {'read': True}",
        id="claim-type-scope",
    ),
    pytest.param(
        lambda s: raw(b'{"alg":"HS256"}', claims_bytes(s, sub=None) + b"x"),
        TokenFailure.MALFORMED,
        "malformed: the payload is not JSON (Extra data)",
        id="malformed-payload-json",
    ),
    pytest.param(
        lambda s: raw(b'{"alg":"HS256"}', claims_bytes(s, sub=None)[:-1] + b',"exp":NaN}'),
        TokenFailure.MALFORMED,
        "malformed: the payload is not JSON (NaN is not JSON)",
        id="malformed-nan",
    ),
    pytest.param(
        lambda s: raw(b'{"alg":"HS256","alg":"HS256"}', claims_bytes(s)),
        TokenFailure.MALFORMED,
        "malformed: the header is not JSON (duplicate member name 'alg')",
        id="malformed-duplicate-header-member",
    ),
    pytest.param(
        lambda s: raw(b'{"alg":"HS256"}', claims_bytes(s, sub=None)[:-1] + b',"sub":"\\ud800"}'),
        TokenFailure.MALFORMED,
        "malformed: the payload holds a string with an unpaired surrogate (\\ud800-\\udfff), "
        "which is not Unicode text",
        id="malformed-surrogate",
    ),
    pytest.param(
        lambda s: raw(b'{"alg":"HS256"}', "\ufeff".encode() + claims_bytes(s)),
        TokenFailure.MALFORMED,
        "malformed: the payload starts with a byte order mark",
        id="malformed-bom",
    ),
    pytest.param(
        lambda s: raw(b'{"alg":"HS256"}', claims_bytes(s).decode().encode("utf-16-le")),
        TokenFailure.MALFORMED,
        "malformed: the payload is not JSON (Expecting property name enclosed in double quotes)",
        id="malformed-utf-16",
    ),
    pytest.param(
        lambda s: raw(b'{"alg":"HS256"}', b'{"sub":"\xff"}'),
        TokenFailure.MALFORMED,
        "malformed: the payload is not UTF-8",
        id="malformed-not-utf-8",
    ),
    pytest.param(
        lambda s: respelled(token(s)),
        TokenFailure.MALFORMED,
        "malformed: the signature is not canonical base64url "
        "(URL-safe alphabet, no padding, no stray trailing bits)",
        id="malformed-signature-spelling",
    ),
    pytest.param(
        lambda s: token(s, headers={"cty": "JWT"}),
        TokenFailure.HEADER,
        "header: cty 'JWT' announces a nested JWT, which scopegate does not accept",
        id="header-cty-nested",
    ),
    pytest.param(
        lambda s: token(s, sub=None, jti=7),
        TokenFailure.CLAIM_TYPE,
        "claim type: 'jti' must be a string, got 7",
        id="claim-type-jti",
    ),
    pytest.param(
        lambda s: raw(b'{"alg":"HS256"}', claims_bytes(s, nbf=None)[:-1] + b',"nbf":null}'),
        TokenFailure.CLAIM_TYPE,
        "claim type: 'nbf' must be a NumericDate (seconds since 1970, up to year 9999), got None",
        id="claim-type-nbf-null",
    ),
    pytest.param(
        lambda s: token(s, cnf={"jkt": "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"}),
        TokenFailure.BOUND,
        "sender-constrained: cnf binds the token to a key (jkt), so it needs its proof and "
        "cannot be used as a bearer token (RFC 9449 §7.1, RFC 8705 §3)",
        id="bound-dpop",
    ),
]


@pytest.mark.parametrize(("build", "failure", "reason"), CASES)
def test_every_failure_is_explained(
    settings: Settings, build: Any, failure: TokenFailure, reason: str
) -> None:
    jwt_text = build(settings)
    report = explain(jwt_text, settings, now=NOW)
    assert report.valid is False
    assert report.failure is failure
    assert report.reason == reason.replace("{length}", str(len(jwt_text)))
    assert report.scopes == ()
    # The verdict is the verifier's own.
    with pytest.raises(InvalidTokenError) as raised:
        TokenVerifier(settings, clock=lambda: NOW).verify(jwt_text)
    assert raised.value.failure is failure


# Failures that need settings other than the fixture's: see the tests below.
OTHER_SETTINGS = {TokenFailure.CLAIM_VALUE, TokenFailure.REJECTED}


def test_every_token_failure_has_a_case() -> None:
    # The key failures need a key source: their cases are in test_explain_keys.py.
    keys = {TokenFailure.UNKNOWN_KEY, TokenFailure.KEY_MISMATCH}
    # The DPoP scheme's failures are the request's (scheme, proof), never a token's alone.
    scheme = {TokenFailure.NOT_BOUND, TokenFailure.DPOP_BINDING, TokenFailure.DPOP_REQUIRED}
    expected = set(TokenFailure) - keys - scheme
    assert {case.values[1] for case in CASES} | OTHER_SETTINGS == expected


@pytest.mark.parametrize(("build", "failure", "reason"), CASES)
def test_the_secret_is_never_in_a_report(
    settings: Settings, build: Any, failure: TokenFailure, reason: str
) -> None:
    report = explain(build(settings), settings, now=NOW)
    text = repr(report) + json.dumps(report.to_dict()) + report.reason
    assert SECRET not in text


def test_valid_token(settings: Settings) -> None:
    jwt_text = token(settings, scopes=["write read", "sample-scope"])
    report = explain(jwt_text, settings, now=NOW)
    assert report.valid is True
    assert report.failure is None
    assert report.scopes == ("read", "sample-scope", "write")
    assert report.reason == "scopes: read sample-scope write"
    assert report.header == {"alg": "HS256", "typ": "JWT"}
    assert report.claims is not None
    assert report.claims["aud"] == IDENTIFIER
    assert SECRET not in repr(report) + json.dumps(report.to_dict())


def test_valid_token_without_scopes(settings: Settings) -> None:
    report = explain(token(settings, scopes=()), settings, now=NOW)
    assert (report.valid, report.reason, report.scopes) == (True, "no scopes granted", ())


def test_the_current_time_is_the_default(settings: Settings) -> None:
    assert explain(mint_token(settings), settings).valid is True
    expired = explain(mint_token(settings, expires_in=-7200), settings)
    assert expired.failure is TokenFailure.EXPIRED
    assert expired.reason.startswith("expired 2 hours ago (at ")


def test_leeway_is_the_verifiers(settings: Settings) -> None:
    just_expired = token(settings, now=NOW - 3603, expires_in=3600)  # 3 s ago, leeway 5 s
    assert explain(just_expired, settings, now=NOW).valid is True
    strict = settings.model_copy(update={"leeway": 0.0})
    report = explain(just_expired, strict, now=NOW)
    assert report.reason == "expired 3 seconds ago (at 2027-01-15T07:59:57Z)"


def test_no_issuer_configured_accepts_any(settings: Settings) -> None:
    any_issuer = settings.model_copy(update={"issuer": None})
    assert explain(token(settings, iss="https://anyone/"), any_issuer, now=NOW).valid


def test_scope_claims_follow_the_settings(settings: Settings) -> None:
    rbac = settings.model_copy(update={"scope_claims": ["scope", "permissions"]})
    jwt_text = token(settings, permissions=["read:messages"])
    assert explain(jwt_text, rbac, now=NOW).scopes == ("read:messages", "sample-scope")
    bad = token(settings, permissions="read:messages write")
    assert explain(bad, rbac, now=NOW).valid  # a space-separated string is fine
    report = explain(token(settings, permissions=[1]), rbac, now=NOW)
    assert report.reason == (
        "claim type: 'permissions' must be a space-separated string or an array of strings, got [1]"
    )


def test_the_settings_cache_is_neither_used_nor_filled(settings: Settings) -> None:
    jwt_text = token(settings)
    verifier = TokenVerifier(settings, clock=lambda: NOW)
    verifier.verify(jwt_text)
    # A cached success must not hide a failure: explain() never shares a cache.
    later = explain(jwt_text, settings, now=NOW + 86400)
    assert later.failure is TokenFailure.EXPIRED
    assert settings.cache_maxsize > 0


def test_long_values_are_shortened(settings: Settings) -> None:
    report = explain(token(settings, aud="https://" + "x" * 500), settings, now=NOW)
    assert report.failure is TokenFailure.AUDIENCE
    assert report.reason.endswith("...")
    assert len(report.reason) < 200


def test_to_dict(settings: Settings) -> None:
    report = explain(token(settings, aud="https://other"), settings, now=NOW)
    data = report.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data == {
        "valid": False,
        "failure": "AUDIENCE",
        "description": "The access token audience is not accepted",
        "reason": "audience: expected 'https://my-api-urn', got 'https://other'",
        "rule": "aud",
        "claim": "aud",
        "scopes": [],
        "checked_at": "2027-01-15T08:00:00Z",
        "header": {"alg": "HS256", "typ": "JWT"},
        "claims": report.claims,
        "dates": {
            "iat": {"time": "2027-01-15T07:50:00Z", "relative": "10 minutes ago"},
            "exp": {"time": "2027-01-15T08:50:00Z", "relative": "in 50 minutes"},
        },
    }
    assert data["claims"]["iss"] == ISSUER


def test_report_is_frozen(settings: Settings) -> None:
    report = explain("garbage", settings, now=NOW)
    assert isinstance(report, Report)
    assert (report.header, report.claims) == (None, None)
    with pytest.raises(AttributeError):
        report.valid = True  # type: ignore[misc]


@pytest.mark.parametrize(
    ("delta", "expected"),
    [
        pytest.param(0, "now", id="now"),
        pytest.param(0.5, "now", id="under-a-second"),
        pytest.param(1, "in 1 second", id="one-second"),
        pytest.param(-59, "59 seconds ago", id="seconds"),
        pytest.param(60, "in 1 minute", id="one-minute"),
        pytest.param(-150, "2 minutes ago", id="minutes"),
        pytest.param(86399, "in 23 hours", id="hours-floor"),
        pytest.param(-86400 * 400, "400 days ago", id="days"),
    ],
)
def test_relative_time(delta: float, expected: str) -> None:
    assert relative_time(NOW + delta, NOW) == expected


def test_format_time() -> None:
    assert format_time(NOW) == "2027-01-15T08:00:00Z"
    assert format_time(NOW + 0.999) == "2027-01-15T08:00:00Z"
    assert format_time(0) == "1970-01-01T00:00:00Z"


def test_claim_values_are_explained(settings: Settings) -> None:
    m2m = settings.model_copy(update={"claim_values": {"gty": ["client-credentials"]}})
    assert explain(token(settings), m2m, now=NOW).valid
    report = explain(token(settings, gty="password"), m2m, now=NOW)
    assert report.failure is TokenFailure.CLAIM_VALUE
    assert report.reason == (
        "claim value: 'gty' must be one of ['client-credentials'], got 'password'"
    )
    missing = explain(token(settings, gty=None), m2m, now=NOW)
    assert missing.failure is TokenFailure.MISSING_CLAIM
    assert missing.reason == (
        "missing claim: 'gty' is required by claim_values (SCOPEGATE_CLAIM_VALUES)"
    )


def test_required_claims_are_explained(settings: Settings) -> None:
    strict = settings.model_copy(update={"required_claims": ["org_id"]})
    report = explain(token(settings), strict, now=NOW)
    assert report.failure is TokenFailure.MISSING_CLAIM
    assert report.reason == (
        "missing claim: 'org_id' is required by required_claims (SCOPEGATE_REQUIRED_CLAIMS)"
    )


def test_the_rfc9068_profile_is_explained(settings: Settings) -> None:
    profile = settings.model_copy(update={"token_profile": "rfc9068"})
    report = explain(token(settings), profile, now=NOW)
    assert report.failure is TokenFailure.TYPE
    assert report.reason == (
        "type: typ 'JWT' is not accepted (accepted: application/at+jwt, at+jwt)"
    )
    untyped = explain(token(settings, headers={"typ": None}), profile, now=NOW)
    assert untyped.reason == (
        "type: the header has no typ; one of application/at+jwt, at+jwt is required"
    )
    report = explain(token(settings, headers={"typ": "at+jwt"}), profile, now=NOW)
    assert report.failure is TokenFailure.MISSING_CLAIM
    assert report.reason == (
        "missing claim: 'client_id' (client identifier) is required by token_profile rfc9068 "
        "(SCOPEGATE_TOKEN_PROFILE)"
    )
    full = mint_token(settings, profile="rfc9068", now=NOW - 600)
    assert explain(full, profile, now=NOW).valid


def test_validators_are_explained(settings: Settings) -> None:
    def same_tenant(claims: Any) -> bool:
        return bool(claims["org"] == "acme")

    accepted = explain(token(settings, org="acme"), settings, now=NOW, validators=[same_tenant])
    assert accepted.valid
    report = explain(token(settings, org="other"), settings, now=NOW, validators=[same_tenant])
    assert report.failure is TokenFailure.REJECTED
    assert report.reason == (
        "rejected by the validator test_validators_are_explained.<locals>.same_tenant "
        "(it returned False)"
    )
    crashed = explain(token(settings), settings, now=NOW, validators=[same_tenant])
    assert crashed.reason.endswith("(it raised KeyError)")
