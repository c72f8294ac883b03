"""The shape of a conformance case and the exact wire expectations, framework-free.

A :class:`Case` says how to build one request and exactly what must come
back: status, ``WWW-Authenticate`` value and JSON body. Expected strings are
spelled out here rather than imported from scopegate, so the suite pins the
wire contract instead of echoing the implementation.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from helpers import CLIENT_ID

from .tokens import Token

__all__ = [
    "ANONYMOUS",
    "IDENTITY",
    "MISSING",
    "ROUTE_BODIES",
    "Case",
    "Fields",
    "Value",
    "WsCase",
    "auth",
    "bad_request",
    "bad_token",
    "bearer",
    "challenge",
    "dpop_challenge",
    "forbidden",
    "missing",
    "ok",
]

Value = str | Callable[[], str]
Fields = tuple[tuple[str, Value], ...]

REALM = "api"
MISSING = "A bearer token is required"
# The default dpop_algorithms: every asymmetric algorithm scopegate verifies.
DPOP_ALGS = "RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 ES512 EdDSA"
DPOP_OFFER = f'DPoP realm="{REALM}", algs="{DPOP_ALGS}"'

# What each route answers on success. /api/whoami echoes the token.
ROUTE_BODIES: Mapping[str, Mapping[str, Any]] = MappingProxyType(
    {
        "/api/public": {"route": "public"},
        "/api/private": {"route": "private"},
        "/api/private-scoped": {"route": "private-scoped"},
        "/api/any": {"route": "any"},
        "/api/multi": {"route": "multi"},
        "/api/claim": {"route": "claim"},
        "/api/check": {"route": "check"},
    }
)
IDENTITY: Mapping[str, Any] = MappingProxyType(
    {
        "subject": f"{CLIENT_ID}@clients",
        "client_id": CLIENT_ID,
        "scopes": ["other-scope", "sample-scope"],
        "confirmation": None,
    }
)
ANONYMOUS: Mapping[str, Any] = MappingProxyType(
    {"subject": None, "client_id": None, "scopes": [], "confirmation": None}
)


def _realize(fields: Fields) -> list[tuple[str, str]]:
    return [(name, value if isinstance(value, str) else value()) for name, value in fields]


@dataclass(frozen=True)
class Case:
    """One HTTP request and its exact expected response.

    ``headers`` may repeat a name; values are strings or callables run at
    send time (fresh tokens). ``body`` is the exact 2xx JSON body; error
    bodies follow from ``error``, ``description`` and ``scope``.
    """

    id: str
    status: int
    path: str = "/api/private"
    headers: Fields = ()
    query: Fields = ()
    challenge: str | None = None
    error: str | None = None
    description: str | None = None
    scope: str | None = None
    body: Mapping[str, Any] | None = None
    auth_required: bool = True
    allow_query_token: bool = False
    settings: tuple[tuple[str, Any], ...] = ()
    validated: bool = False

    @property
    def options(self) -> dict[str, bool]:
        """Keyword arguments of the app factory this case needs.

        ``validated`` (only when set) asks for a verifier with the application
        validator of :data:`conformance.apps.VALIDATORS`.
        """
        options = {"auth_required": self.auth_required, "allow_query_token": self.allow_query_token}
        if self.validated:
            options["validated"] = True
        return options

    @property
    def overrides(self) -> dict[str, Any]:
        """Settings this case changes from the suite's (``token_profile``, ``claim_values``...)."""
        return dict(self.settings)

    def build_headers(self) -> list[tuple[str, str]]:
        return _realize(self.headers)

    def build_query(self) -> list[tuple[str, str]]:
        return _realize(self.query)

    def expected_body(self) -> dict[str, Any]:
        if self.status < 400:
            assert self.body is not None, self.id
            return dict(self.body)
        body = {"error": self.error, "error_description": self.description}
        if self.scope is not None:
            body["scope"] = self.scope
        return body


@dataclass(frozen=True)
class WsCase:
    """One websocket handshake to ``/ws``: accepted, or denied exactly as ``denial``.

    ``denial`` is the HTTP answer the handshake gets where the server offers the
    ``websocket.http.response`` extension (status, challenge, JSON body); without
    it the socket is closed with 1008 and the denial's description as reason.
    Headers are unique by name (the websocket test client takes a dict).
    """

    id: str
    headers: Fields = ()
    query: Fields = ()
    denial: Case | None = None
    message: Mapping[str, Any] | None = None
    allow_query_token: bool = False

    @property
    def options(self) -> dict[str, bool]:
        return {"auth_required": True, "allow_query_token": self.allow_query_token}

    def build_headers(self) -> dict[str, str]:
        return dict(_realize(self.headers))

    def build_query(self) -> list[tuple[str, str]]:
        return _realize(self.query)


def _params(error: str | None, description: str, scope: str | None) -> str:
    if error is None:
        return ""
    value = f', error="{error}", error_description="{description}"'
    return value if scope is None else f'{value}, scope="{scope}"'


def challenge(
    error: str | None = None, description: str = "", scope: str | None = None, *, mode: str = ""
) -> str:
    """The exact ``WWW-Authenticate`` value of a Bearer-scheme answer, spelled out by hand.

    In the default mode (``dpop="allowed"``) a 401 or 400 also offers the DPoP
    scheme, bare; a 403 names the scheme that was used only. ``mode="disabled"``
    is the RFC 6750 challenge alone.
    """
    bearer = f'Bearer realm="{REALM}"{_params(error, description, scope)}'
    if mode == "disabled" or scope is not None:
        return bearer
    return f"{bearer}, {DPOP_OFFER}"


def dpop_challenge(
    error: str | None = None, description: str = "", scope: str | None = None, *, mode: str = ""
) -> str:
    """The exact ``WWW-Authenticate`` value of a DPoP-scheme answer (RFC 9449 §7.1).

    The error goes on the DPoP challenge, ``algs`` last; in the default mode a
    401 or 400 also offers Bearer, bare; ``mode="required"`` offers DPoP only.
    """
    dpop = f'DPoP realm="{REALM}"{_params(error, description, scope)}, algs="{DPOP_ALGS}"'
    if mode == "required" or scope is not None:
        return dpop
    return f'Bearer realm="{REALM}", {dpop}'


def bearer(token: Token, scheme: str = "Bearer", separator: str = " ") -> Value:
    """An ``Authorization`` value built at send time."""
    return lambda: f"{scheme}{separator}{token()}"


def auth(*values: Value) -> Fields:
    """One ``Authorization`` header per value (several: a duplicated header)."""
    return tuple(("Authorization", value) for value in values)


def ok(case_id: str, token: Token | None, path: str = "/api/private", **fields: Any) -> Case:
    """A 2xx: the route's own body unless ``body`` is given."""
    fields.setdefault("body", IDENTITY if path == "/api/whoami" else ROUTE_BODIES[path])
    fields.setdefault("headers", () if token is None else auth(bearer(token)))
    return Case(case_id, 200, path, **fields)


def missing(case_id: str, path: str = "/api/private", **fields: Any) -> Case:
    """401 without an error attribute (RFC 6750 §3.1): no bearer credentials."""
    return Case(
        case_id,
        401,
        path,
        challenge=challenge(),
        error="missing_token",
        description=MISSING,
        **fields,
    )


def bad_request(case_id: str, description: str, **fields: Any) -> Case:
    """400 ``invalid_request``."""
    path = fields.pop("path", "/api/private")
    expected = challenge("invalid_request", description)
    return Case(
        case_id,
        400,
        path,
        challenge=expected,
        error="invalid_request",
        description=description,
        **fields,
    )


def bad_token(case_id: str, description: str, token: Token, **fields: Any) -> Case:
    """401 ``invalid_token`` for ``token`` sent as ``Authorization: Bearer``."""
    fields.setdefault("headers", auth(bearer(token)))
    path = fields.pop("path", "/api/private")
    expected = challenge("invalid_token", description)
    return Case(
        case_id,
        401,
        path,
        challenge=expected,
        error="invalid_token",
        description=description,
        **fields,
    )


def forbidden(
    case_id: str, token: Token, path: str, scope: str, *, any_of: bool = False, **fields: Any
) -> Case:
    """403 ``insufficient_scope`` naming the route's scopes in the challenge and the body."""
    kind = "one of the scopes" if any_of else "the scopes"
    description = f"The access token lacks {kind} this resource requires"
    expected = challenge("insufficient_scope", description, scope)
    fields.setdefault("headers", auth(bearer(token)))
    return Case(
        case_id,
        403,
        path,
        challenge=expected,
        error="insufficient_scope",
        description=description,
        scope=scope,
        **fields,
    )
