"""The RFC 6750 conformance cases, as data: one row per request and its exact answer.

Framework-free: the same rows run against every adapter (FastAPI, Starlette,
and later Flask). The token rows live in :mod:`.token_cases`; this module
holds the request, header, scope, public-path and option rows and exports
every row as ``CASES`` and ``WS_CASES``.
"""

from __future__ import annotations

from typing import Any

from .dpop_cases import DPOP_CASES, DPOP_WS_CASES
from .model import (
    ANONYMOUS,
    IDENTITY,
    Case,
    WsCase,
    auth,
    bad_request,
    bad_token,
    bearer,
    forbidden,
    missing,
    ok,
)
from .token_cases import SIGNATURE, TOKEN_CASES
from .tokens import OTHER_SECRET, const, valid

__all__ = ["CASES", "WS_CASES", "Case", "WsCase"]

VALID = valid()
EMPTY = "The bearer token is empty"
NOT_B64TOKEN = "The bearer token has characters outside b64token"
MULTIPLE = "The request has more than one Authorization header"
SCOPED = "/api/private-scoped"

MISSING_CASES = [
    missing("no-credentials"),
    missing("no-credentials-scoped-route", SCOPED),
    missing("basic-scheme", headers=auth("Basic dXNlcjpwYXNzd29yZA==")),
    missing("digest-scheme", headers=auth('Digest username="u", realm="api", nonce="n"')),
    # "Bearereyj..." is one unknown auth-scheme token (RFC 7235 §2.1), not a bearer credential.
    missing("scheme-glued-to-token", headers=auth(bearer(VALID, separator=""))),
    missing("token-in-other-header", headers=(("X-Access-Token", VALID),)),
    missing("query-token-off-by-default", query=(("access_token", VALID),)),
]

MALFORMED_CASES = [
    bad_request("bearer-empty-token", EMPTY, headers=auth("Bearer ")),
    bad_request("bearer-only-spaces", EMPTY, headers=auth("Bearer    ")),
    bad_request("bearer-no-space", EMPTY, headers=auth("Bearer")),
    bad_request("space-inside-token", NOT_B64TOKEN, headers=auth("Bearer abc def")),
    bad_request("token-then-word", NOT_B64TOKEN, headers=auth(bearer(lambda: VALID() + " x"))),
    # WSGI servers join repeated headers with ", ", so a comma beside a Bearer
    # credential reads as a second header on every adapter.
    bad_request("comma-in-token", MULTIPLE, headers=auth("Bearer abc,def")),
    bad_request(
        "comma-joined-basic-and-bearer",
        MULTIPLE,
        headers=auth(lambda: f"Basic dXNlcjpwYXNzd29yZA==, Bearer {VALID()}"),
    ),
    bad_request("quote-in-token", NOT_B64TOKEN, headers=auth('Bearer "abcdef"')),
    bad_request("backslash-in-token", NOT_B64TOKEN, headers=auth("Bearer abc\\def")),
    bad_request("non-ascii-token", NOT_B64TOKEN, headers=auth("Bearer t\u00f6k\u00e9n")),
    bad_request("padding-before-end", NOT_B64TOKEN, headers=auth("Bearer ab=cd")),
    bad_request("two-authorization-headers", MULTIPLE, headers=auth(bearer(VALID), bearer(VALID))),
    bad_request(
        "basic-and-bearer-headers",
        MULTIPLE,
        headers=auth("Basic dXNlcjpwYXNzd29yZA==", bearer(VALID)),
    ),
    bad_request(
        "header-over-limit",
        "The Authorization header is too large",
        headers=auth("Bearer " + "a" * 9000),
    ),
]

HEADER_VARIANTS = [
    ok("scheme-lowercase", None, headers=auth(bearer(VALID, "bearer"))),
    ok("scheme-uppercase", None, headers=auth(bearer(VALID, "BEARER"))),
    ok("scheme-mixed-case", None, headers=auth(bearer(VALID, "bEaReR"))),
    ok("several-spaces-after-scheme", None, headers=auth(bearer(VALID, separator="    "))),
    ok("header-name-uppercase", None, headers=(("AUTHORIZATION", bearer(VALID)),)),
    # b64token allows trailing "=": the header parser accepts it, the JWS then fails.
    bad_token(
        "padding-accepted-by-grammar",
        "The access token is malformed",
        const("abcdef=="),
    ),
    ok("bearer-to-whoami", VALID, "/api/whoami"),
]

NO_SCOPE = valid(scope=None)
SCOPE_CASES = [
    ok("private-needs-no-scope", NO_SCOPE),
    ok("scoped-route-with-scope", valid(scope="sample-scope"), SCOPED),
    ok("scope-claim-as-array", valid(scope=["sample-scope"]), SCOPED),
    ok("scope-extra-spaces", valid(scope="  sample-scope  "), SCOPED),
    forbidden("no-scope-claim", NO_SCOPE, SCOPED, "sample-scope"),
    forbidden("other-scope-only", valid(scope="other-scope"), SCOPED, "sample-scope"),
    forbidden("empty-scope-string", valid(scope=""), SCOPED, "sample-scope"),
    forbidden("empty-scope-array", valid(scope=[]), SCOPED, "sample-scope"),
    # "readonly" never grants "read": no prefix, suffix or substring matching.
    forbidden("prefix-does-not-grant", valid(scope="sample"), SCOPED, "sample-scope"),
    forbidden("longer-does-not-grant", valid(scope="sample-scopes"), SCOPED, "sample-scope"),
    forbidden(
        "scope-case-sensitive", valid(scope="Sample-Scope SAMPLE-SCOPE"), SCOPED, "sample-scope"
    ),
    forbidden("tab-is-not-a-separator", valid(scope="sample-scope\tother"), SCOPED, "sample-scope"),
    ok("multi-both-scopes", valid(scope="other-scope sample-scope"), "/api/multi"),
    ok("multi-both-as-array", valid(scope=["sample-scope", "other-scope"]), "/api/multi"),
    forbidden(
        "multi-one-scope-of-two",
        valid(scope="sample-scope"),
        "/api/multi",
        "sample-scope other-scope",
    ),
    forbidden(
        "multi-other-scope-of-two",
        valid(scope="other-scope"),
        "/api/multi",
        "sample-scope other-scope",
    ),
    ok("any-with-admin", valid(scope="admin"), "/api/any"),
    ok("any-with-sample-scope", valid(scope="sample-scope"), "/api/any"),
    forbidden(
        "any-with-neither",
        valid(scope="other-scope"),
        "/api/any",
        "admin sample-scope",
        any_of=True,
    ),
]

PUBLIC = "/api/public"
PUBLIC_CASES = [
    ok("public-no-token", None, PUBLIC),
    ok("public-garbage-token", const('not a token, "at all"'), PUBLIC),
    ok("public-expired-token", valid(exp=1), PUBLIC),
    ok("public-two-headers", None, PUBLIC, headers=auth("Bearer a", "Basic b")),
    # Public paths match exactly: a longer path is protected.
    missing("public-prefix-is-protected", "/api/public/extra"),
]

ANON = {"auth_required": False}
ANONYMOUS_CASES = [
    missing("anonymous-scoped-route-no-token", SCOPED, **ANON),
    missing("anonymous-any-route-no-token", "/api/any", **ANON),
    ok("anonymous-whoami-no-token", None, "/api/whoami", body=ANONYMOUS, **ANON),
    ok("anonymous-whoami-valid-token", VALID, "/api/whoami", **ANON),
    ok("anonymous-scoped-route-valid-token", VALID, SCOPED, **ANON),
    bad_token("anonymous-bad-token", SIGNATURE, valid(key=OTHER_SECRET), **ANON),
    bad_request("anonymous-malformed-header", NOT_B64TOKEN, headers=auth("Bearer a b"), **ANON),
    forbidden("anonymous-without-scope", NO_SCOPE, SCOPED, "sample-scope", **ANON),
]

QUERY: dict[str, Any] = {"allow_query_token": True}
QUERY_CASES = [
    ok("query-token", None, "/api/whoami", query=(("access_token", VALID),), **QUERY),
    ok("query-token-scoped", None, SCOPED, query=(("access_token", VALID),), **QUERY),
    ok("query-header-still-works", VALID, "/api/whoami", **QUERY),
    missing("query-no-token", **QUERY),
    bad_request(
        "query-and-header",
        "The request uses more than one method to send a token",
        headers=auth(bearer(VALID)),
        query=(("access_token", VALID),),
        **QUERY,
    ),
    bad_request(
        "query-token-twice",
        "The request has more than one access_token parameter",
        query=(("access_token", VALID), ("access_token", VALID)),
        **QUERY,
    ),
    bad_request("query-token-empty", EMPTY, query=(("access_token", ""),), **QUERY),
    bad_request("query-token-with-space", NOT_B64TOKEN, query=(("access_token", "a b"),), **QUERY),
    bad_token(
        "query-token-bad-signature",
        SIGNATURE,
        VALID,
        headers=(),
        query=(("access_token", valid(key=OTHER_SECRET)),),
        **QUERY,
    ),
    forbidden(
        "query-token-without-scope",
        NO_SCOPE,
        SCOPED,
        "sample-scope",
        headers=(),
        query=(("access_token", NO_SCOPE),),
        **QUERY,
    ),
]

CASES: tuple[Case, ...] = (
    *MISSING_CASES,
    *MALFORMED_CASES,
    *HEADER_VARIANTS,
    *TOKEN_CASES,
    *SCOPE_CASES,
    *PUBLIC_CASES,
    *ANONYMOUS_CASES,
    *QUERY_CASES,
    *DPOP_CASES,
)

WS_MESSAGE = {"route": "ws", "subject": IDENTITY["subject"]}
WS_CASES: tuple[WsCase, ...] = (
    WsCase("ws-no-token", denial=missing("ws-no-token", "/ws")),
    WsCase(
        "ws-bad-signature",
        auth(bearer(valid(key=OTHER_SECRET))),
        denial=bad_token("ws-bad-signature", SIGNATURE, VALID, path="/ws"),
    ),
    WsCase(
        "ws-malformed-header",
        auth("Bearer a b"),
        denial=bad_request("ws-malformed-header", NOT_B64TOKEN, path="/ws"),
    ),
    WsCase("ws-valid-token", auth(bearer(VALID)), message=WS_MESSAGE),
    WsCase(
        "ws-without-scope",
        auth(bearer(valid(scope="other-scope"))),
        denial=forbidden("ws-without-scope", VALID, "/ws", "sample-scope"),
    ),
    WsCase(
        "ws-query-token",
        query=(("access_token", VALID),),
        message=WS_MESSAGE,
        allow_query_token=True,
    ),
    WsCase(
        "ws-query-token-off-by-default",
        query=(("access_token", VALID),),
        denial=missing("ws-query-token-off-by-default", "/ws"),
    ),
    *DPOP_WS_CASES,
)
