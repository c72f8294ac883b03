"""The DPoP (RFC 9449) conformance cases, as data: the same rows on every adapter.

Each row is one request and its exact answer (status, ``WWW-Authenticate``,
JSON body). Proofs are built from raw parts (:mod:`.dpop`); the rules that need
two requests (replay, the nonce round trip) are in ``test_conformance_dpop.py``.
"""

from __future__ import annotations

from typing import Any

from .dpop import (
    JWK,
    ORIGIN,
    OTHER_THUMBPRINT,
    RSA_THUMBPRINT,
    THUMBPRINT,
    bound,
    exchange,
    proof,
)
from .model import (
    DPOP_ALGS,
    IDENTITY,
    MISSING,
    ROUTE_BODIES,
    Case,
    WsCase,
    auth,
    bearer,
    challenge,
    dpop_challenge,
)
from .tokens import OTHER_SECRET, valid

__all__ = ["DPOP_CASES", "DPOP_WS_CASES"]

PRIVATE = "/api/private"
SCOPED = "/api/private-scoped"
WHOAMI = "/api/whoami"

# The fixed descriptions, spelled out (CORE's DPoPFailure and our TokenFailure texts).
PROOF_MISSING = "A DPoP proof is required"
PROOF_MULTIPLE = "Exactly one DPoP proof is allowed"
PROOF_MALFORMED = "The DPoP proof is malformed"
PROOF_TYPE = "The DPoP proof type is not dpop+jwt"
PROOF_ALGORITHM = "The DPoP proof algorithm is not allowed"
PROOF_KEY = "The DPoP proof key is not an acceptable public key"
PROOF_SIGNATURE = "The DPoP proof signature is invalid"
PROOF_CLAIM = "The DPoP proof is missing a claim or has a claim of the wrong type"
PROOF_METHOD = "The DPoP proof method does not match the request"
PROOF_URI = "The DPoP proof URI does not match the request"
PROOF_IAT = "The DPoP proof is too old or issued in the future"
PROOF_ATH = "The DPoP proof does not match the access token"
BOUND = "The access token is sender-constrained and cannot be used as a bearer token"
NOT_BOUND = "The access token is not bound to a DPoP key"
BINDING = "The access token is not bound to the DPoP proof key"
DPOP_REQUIRED = "The access token must be sent with the DPoP scheme"
EXPIRED = "The access token has expired"
SIGNATURE = "The access token signature is invalid"
INSUFFICIENT = "The access token lacks the scopes this resource requires"


def dpop_ok(case_id: str, headers: Any, path: str = PRIVATE, **fields: Any) -> Case:
    """A 200 through the DPoP scheme: the route's own body."""
    fields.setdefault("body", ROUTE_BODIES.get(path))
    return Case(case_id, 200, path, headers=headers, **fields)


def bad_proof(case_id: str, description: str, headers: Any, **fields: Any) -> Case:
    """401 ``invalid_dpop_proof`` on the DPoP challenge (RFC 9449 §7.1)."""
    mode = dict(fields.get("settings", ())).get("dpop", "")
    return Case(
        case_id,
        401,
        fields.pop("path", PRIVATE),
        headers=headers,
        challenge=dpop_challenge("invalid_dpop_proof", description, mode=mode),
        error="invalid_dpop_proof",
        description=description,
        **fields,
    )


def dpop_bad_token(case_id: str, description: str, headers: Any, **fields: Any) -> Case:
    """401 ``invalid_token`` for a token sent with the DPoP scheme: on the DPoP challenge."""
    mode = dict(fields.get("settings", ())).get("dpop", "")
    return Case(
        case_id,
        401,
        fields.pop("path", PRIVATE),
        headers=headers,
        challenge=dpop_challenge("invalid_token", description, mode=mode),
        error="invalid_token",
        description=description,
        **fields,
    )


REQUIRED = (("dpop", "required"),)
DISABLED = (("dpop", "disabled"),)
BASE = "https://api.example.com/v1"

VALID_CASES = [
    dpop_ok("dpop-valid", exchange()),
    dpop_ok(
        "dpop-whoami-shows-the-key",
        exchange(make_proof=proof(WHOAMI)),
        WHOAMI,
        body={**IDENTITY, "confirmation": THUMBPRINT},
    ),
    dpop_ok("dpop-scheme-lowercase", exchange(scheme="dpop")),
    dpop_ok("dpop-scheme-uppercase", exchange(scheme="DPOP")),
    dpop_ok("dpop-scoped-route", exchange(make_proof=proof(SCOPED)), SCOPED),
    dpop_ok("dpop-rs256-key", exchange(bound(RSA_THUMBPRINT), proof(key="rsa"))),
    # RFC 9449 §4.3 step 9 compares after RFC 3986 §6.2.2/§6.2.3 normalisation.
    dpop_ok("dpop-htu-host-case", exchange(make_proof=proof(url="http://TestServer/api/private"))),
    dpop_ok(
        "dpop-htu-default-port", exchange(make_proof=proof(url="http://testserver:80/api/private"))
    ),
    dpop_ok("dpop-htu-dot-segment", exchange(make_proof=proof(url=f"{ORIGIN}/api/x/../private"))),
    # A DPoP header beside the Bearer scheme is not part of a Bearer request: ignored.
    Case(
        "bearer-with-stray-dpop-header",
        200,
        PRIVATE,
        headers=(*auth(bearer(valid())), ("DPoP", "not-even-a-jws")),
        body=ROUTE_BODIES[PRIVATE],
    ),
]

PROOF_CASES = [
    bad_proof("dpop-proof-missing", PROOF_MISSING, exchange(proofs=0)),
    bad_proof("dpop-proof-empty", PROOF_MISSING, (*exchange(proofs=0), ("DPoP", ""))),
    bad_proof("dpop-two-proofs", PROOF_MULTIPLE, exchange(proofs=2)),
    bad_proof("dpop-proof-not-a-jws", PROOF_MALFORMED, (*exchange(proofs=0), ("DPoP", "a.b"))),
    bad_proof("dpop-proof-typ-jwt", PROOF_TYPE, exchange(make_proof=proof(headers={"typ": "JWT"}))),
    bad_proof(
        "dpop-proof-typ-absent", PROOF_TYPE, exchange(make_proof=proof(headers={"typ": None}))
    ),
    Case(
        "dpop-proof-alg-not-allowed",
        401,
        PRIVATE,
        headers=exchange(make_proof=proof()),
        # algs lists the configured dpop_algorithms (RFC 9449 §7.1).
        challenge=dpop_challenge("invalid_dpop_proof", PROOF_ALGORITHM).replace(DPOP_ALGS, "RS256"),
        error="invalid_dpop_proof",
        description=PROOF_ALGORITHM,
        settings=(("dpop_algorithms", ["RS256"]),),
    ),
    bad_proof(
        "dpop-proof-private-key-in-jwk",
        PROOF_KEY,
        exchange(make_proof=proof(jwk={**JWK, "d": "AAAA"})),
    ),
    bad_proof("dpop-proof-no-jwk", PROOF_KEY, exchange(make_proof=proof(headers={"jwk": None}))),
    bad_proof(
        "dpop-proof-signed-by-another-key",
        PROOF_SIGNATURE,
        exchange(make_proof=proof(key="other-ec", jwk=JWK)),
    ),
    bad_proof("dpop-proof-wrong-htm", PROOF_METHOD, exchange(make_proof=proof(method="POST"))),
    bad_proof("dpop-proof-htm-lowercase", PROOF_METHOD, exchange(make_proof=proof(method="get"))),
    bad_proof("dpop-proof-wrong-path", PROOF_URI, exchange(make_proof=proof("/api/other"))),
    bad_proof(
        "dpop-proof-wrong-host",
        PROOF_URI,
        exchange(make_proof=proof(url="http://evil.example/api/private")),
    ),
    bad_proof(
        "dpop-proof-wrong-scheme",
        PROOF_URI,
        exchange(make_proof=proof(url="https://testserver/api/private")),
    ),
    bad_proof("dpop-proof-too-old", PROOF_IAT, exchange(make_proof=proof(age=400))),
    bad_proof("dpop-proof-from-the-future", PROOF_IAT, exchange(make_proof=proof(age=-60))),
    bad_proof("dpop-proof-without-iat", PROOF_CLAIM, exchange(make_proof=proof(iat=None))),
    bad_proof("dpop-proof-iat-as-string", PROOF_CLAIM, exchange(make_proof=proof(iat="1"))),
    bad_proof("dpop-proof-without-jti", PROOF_CLAIM, exchange(make_proof=proof(jti=None))),
    bad_proof("dpop-proof-without-htu", PROOF_CLAIM, exchange(make_proof=proof(htu=None))),
    bad_proof("dpop-proof-without-ath", PROOF_ATH, exchange(make_proof=proof(with_ath=False))),
    bad_proof("dpop-proof-wrong-ath", PROOF_ATH, exchange(make_proof=proof(ath="x" * 43))),
]

TOKEN_CASES = [
    # RFC 9449 §7.2: a DPoP-bound token received as a bearer token is refused.
    Case(
        "bound-token-as-bearer",
        401,
        PRIVATE,
        headers=auth(bearer(bound())),
        challenge=challenge("invalid_token", BOUND),
        error="invalid_token",
        description=BOUND,
    ),
    Case(
        "bound-token-as-bearer-with-its-proof",
        401,
        PRIVATE,
        headers=exchange(scheme="Bearer"),
        challenge=challenge("invalid_token", BOUND),
        error="invalid_token",
        description=BOUND,
    ),
    dpop_bad_token("bearer-token-as-dpop", NOT_BOUND, exchange(valid())),
    # RFC 9449 §7.1 (Figure 14): the proof's key is not the token's: invalid_token.
    dpop_bad_token("dpop-key-not-the-tokens", BINDING, exchange(bound(OTHER_THUMBPRINT))),
    dpop_bad_token("dpop-expired-token", EXPIRED, exchange(bound(iat=1000, exp=2000))),
    dpop_bad_token("dpop-token-bad-signature", SIGNATURE, exchange(bound(key=OTHER_SECRET))),
    Case(
        "dpop-token-empty",
        400,
        PRIVATE,
        headers=auth("DPoP "),
        challenge=dpop_challenge("invalid_request", "The DPoP access token is empty"),
        error="invalid_request",
        description="The DPoP access token is empty",
    ),
    Case(
        "dpop-insufficient-scope",
        403,
        SCOPED,
        headers=exchange(bound(scope="other-scope"), proof(SCOPED)),
        challenge=dpop_challenge("insufficient_scope", INSUFFICIENT, "sample-scope"),
        error="insufficient_scope",
        description=INSUFFICIENT,
        scope="sample-scope",
    ),
    Case(
        "bearer-insufficient-scope-names-bearer-only",
        403,
        SCOPED,
        headers=auth(bearer(valid(scope="other-scope"))),
        challenge=challenge("insufficient_scope", INSUFFICIENT, "sample-scope"),
        error="insufficient_scope",
        description=INSUFFICIENT,
        scope="sample-scope",
    ),
]

MODE_CASES = [
    dpop_ok("required-dpop-valid", exchange(), settings=REQUIRED),
    Case(
        "required-no-credentials",
        401,
        PRIVATE,
        challenge=dpop_challenge(mode="required"),
        error="missing_token",
        description=MISSING,
        settings=REQUIRED,
    ),
    Case(
        "required-bearer-token",
        401,
        PRIVATE,
        headers=auth(bearer(valid())),
        challenge=dpop_challenge("invalid_token", DPOP_REQUIRED, mode="required"),
        error="invalid_token",
        description=DPOP_REQUIRED,
        settings=REQUIRED,
    ),
    bad_proof("required-proof-missing", PROOF_MISSING, exchange(proofs=0), settings=REQUIRED),
    Case(
        "required-insufficient-scope",
        403,
        SCOPED,
        headers=exchange(bound(scope="other-scope"), proof(SCOPED)),
        challenge=dpop_challenge(
            "insufficient_scope", INSUFFICIENT, "sample-scope", mode="required"
        ),
        error="insufficient_scope",
        description=INSUFFICIENT,
        scope="sample-scope",
        settings=REQUIRED,
    ),
    # disabled: today's behaviour exactly, DPoP is just another scheme.
    Case(
        "disabled-no-credentials",
        401,
        PRIVATE,
        challenge=challenge(mode="disabled"),
        error="missing_token",
        description=MISSING,
        settings=DISABLED,
    ),
    Case(
        "disabled-dpop-scheme-is-no-credentials",
        401,
        PRIVATE,
        headers=exchange(),
        challenge=challenge(mode="disabled"),
        error="missing_token",
        description=MISSING,
        settings=DISABLED,
    ),
    Case(
        "disabled-bound-token-as-bearer",
        401,
        PRIVATE,
        headers=auth(bearer(bound())),
        challenge=challenge("invalid_token", BOUND, mode="disabled"),
        error="invalid_token",
        description=BOUND,
        settings=DISABLED,
    ),
    Case(
        "disabled-bearer-valid",
        200,
        PRIVATE,
        headers=auth(bearer(valid())),
        body=ROUTE_BODIES[PRIVATE],
        settings=DISABLED,
    ),
]

# public_base_url: the htu is the public URL, whatever the Host header says.
BASE_CASES = [
    dpop_ok(
        "public-base-url-htu",
        exchange(make_proof=proof(url=f"{BASE}/api/private")),
        settings=(("public_base_url", BASE),),
    ),
    bad_proof(
        "public-base-url-refuses-the-internal-url",
        PROOF_URI,
        exchange(),
        settings=(("public_base_url", BASE),),
    ),
]

DPOP_CASES: tuple[Case, ...] = (
    *VALID_CASES,
    *PROOF_CASES,
    *TOKEN_CASES,
    *MODE_CASES,
    *BASE_CASES,
)

WS_MESSAGE = {"route": "ws", "subject": IDENTITY["subject"]}
DPOP_WS_CASES: tuple[WsCase, ...] = (
    WsCase(
        "ws-dpop-valid",
        # The handshake is an HTTP GET: its htu is the http URL (RFC 9449 §4.2).
        exchange(make_proof=proof("/ws")),
        message=WS_MESSAGE,
    ),
    WsCase(
        "ws-dpop-proof-missing",
        exchange(proofs=0),
        denial=bad_proof("ws-dpop-proof-missing", PROOF_MISSING, (), path="/ws"),
    ),
    WsCase(
        "ws-bound-token-as-bearer",
        auth(bearer(bound())),
        denial=Case(
            "ws-bound-token-as-bearer",
            401,
            "/ws",
            challenge=challenge("invalid_token", BOUND),
            error="invalid_token",
            description=BOUND,
        ),
    ),
)
