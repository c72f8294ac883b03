"""One app per adapter style, with identical routes and identical answers.

Routes: ``/api/public`` (public path), ``/api/private`` (any valid token, the
middleware alone), ``/api/private-scoped`` (``sample-scope``), ``/api/any``
(``admin`` or ``sample-scope``), ``/api/multi`` (``sample-scope`` and
``other-scope`` from one string), ``/api/whoami`` (the token, or nulls when
anonymous), ``/api/claim`` (claim ``gty`` is ``client-credentials``: ``require_claim``),
``/api/check`` (the token's client is ``CLIENT_ID``: ``require_token``) and the
websocket ``/ws`` (``sample-scope``).

Route annotations name module-level objects only: with postponed annotations
FastAPI resolves them in this module's globals, and an unresolvable one
silently turns a dependency into a query parameter.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import FastAPI, Security
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp
from starlette.websockets import WebSocket

from helpers import CLIENT_ID
from scopegate import AccessToken, Settings, TokenVerifier
from scopegate.asgi import BearerAuthMiddleware
from scopegate.fastapi import CurrentToken
from scopegate.fastapi import require_any_scope as fastapi_any_scope
from scopegate.fastapi import require_claim as fastapi_claim
from scopegate.fastapi import require_scope as fastapi_scope
from scopegate.fastapi import require_token as fastapi_check
from scopegate.starlette import (
    current_token,
    require_any_scope,
    require_claim,
    require_scope,
    require_token,
)

__all__ = ["PUBLIC_PATHS", "REVOKED_JTI", "STYLES", "VALIDATORS", "build_app", "from_our_client"]

PUBLIC_PATHS = ("/api/public", "/docs", "/openapi.json")


REVOKED_JTI = "revoked-jti-0001"


def not_revoked(claims: Any) -> bool:
    """The application's verifier-level validator in ``validated`` cases: a deny-list of jti."""
    return bool(claims.get("jti") != REVOKED_JTI)


VALIDATORS = (not_revoked,)


def verifier_for(settings: Settings, validated: bool) -> TokenVerifier | None:
    """A verifier with :data:`VALIDATORS` for a ``validated`` case; None builds the default."""
    return TokenVerifier(settings, validators=VALIDATORS) if validated else None


def from_our_client(token: AccessToken) -> bool:
    """The ``require_token`` predicate of ``/api/check``."""
    return token.client_id == CLIENT_ID


def _identity(token: AccessToken | None) -> dict[str, Any]:
    if token is None:
        return {"subject": None, "client_id": None, "scopes": [], "confirmation": None}
    return {
        "subject": token.subject,
        "client_id": token.client_id,
        "scopes": sorted(token.scopes),
        "confirmation": token.confirmation,
    }


def _ws_message(token: AccessToken | None) -> dict[str, Any]:
    return {"route": "ws", "subject": None if token is None else token.subject}


def _fastapi_security(middleware: list[Middleware]) -> FastAPI:
    """Scopes as ``Security(fastapi_scope(...))`` dependencies."""
    app = FastAPI(middleware=middleware)

    @app.get("/api/public")
    async def public() -> dict[str, str]:
        return {"route": "public"}

    @app.get("/api/private")
    async def private() -> dict[str, str]:
        return {"route": "private"}

    @app.get("/api/private-scoped", dependencies=[Security(fastapi_scope("sample-scope"))])
    async def private_scoped() -> dict[str, str]:
        return {"route": "private-scoped"}

    @app.get("/api/any")
    async def any_scope(
        token: Annotated[AccessToken, Security(fastapi_any_scope("admin", "sample-scope"))],
    ) -> dict[str, str]:
        assert token.has_any_scope("admin", "sample-scope")
        return {"route": "any"}

    @app.get("/api/multi", dependencies=[Security(fastapi_scope("sample-scope other-scope"))])
    def multi() -> dict[str, str]:
        return {"route": "multi"}

    @app.get("/api/claim", dependencies=[Security(fastapi_claim("gty", "client-credentials"))])
    async def claim() -> dict[str, str]:
        return {"route": "claim"}

    @app.get("/api/check")
    def check(token: Annotated[AccessToken, Security(fastapi_check(from_our_client))]) -> Any:
        assert token.client_id == CLIENT_ID
        return {"route": "check"}

    @app.get("/api/whoami")
    async def whoami(token: CurrentToken) -> dict[str, Any]:
        return _identity(token)

    @app.websocket("/ws")
    async def ws(
        websocket: WebSocket,
        token: Annotated[AccessToken, Security(fastapi_scope("sample-scope"))],
    ) -> None:
        await websocket.accept()
        await websocket.send_json(_ws_message(token))
        await websocket.close()

    return app


def _fastapi_decorator(middleware: list[Middleware]) -> FastAPI:
    """Scopes as ``@fastapi_scope(...)`` decorators below the route decorator."""
    app = FastAPI(middleware=middleware)

    @app.get("/api/public")
    async def public() -> dict[str, str]:
        return {"route": "public"}

    @app.get("/api/private")
    async def private() -> dict[str, str]:
        return {"route": "private"}

    @app.get("/api/private-scoped")
    @fastapi_scope("sample-scope")
    async def private_scoped(request: Request) -> dict[str, str]:
        assert isinstance(request, Request)
        return {"route": "private-scoped"}

    @app.get("/api/any")
    @fastapi_any_scope("admin", "sample-scope")
    async def any_scope() -> dict[str, str]:
        return {"route": "any"}

    @app.get("/api/multi")
    @fastapi_scope("sample-scope other-scope")
    def multi() -> dict[str, str]:
        return {"route": "multi"}

    @app.get("/api/claim")
    @fastapi_claim("gty", "client-credentials")
    def claim() -> dict[str, str]:
        return {"route": "claim"}

    @app.get("/api/check")
    @fastapi_check(from_our_client)
    async def check(request: Request) -> dict[str, str]:
        return {"route": "check"}

    @app.get("/api/whoami")
    async def whoami(token: CurrentToken) -> dict[str, Any]:
        return _identity(token)

    @app.websocket("/ws")
    @fastapi_scope("sample-scope")
    async def ws(websocket: WebSocket, token: CurrentToken) -> None:
        await websocket.accept()
        await websocket.send_json(_ws_message(token))
        await websocket.close()

    return app


def _starlette(middleware: list[Middleware]) -> Starlette:
    """Plain Starlette endpoints guarded by ``scopegate.starlette`` decorators."""

    def route(name: str) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> JSONResponse:
            return JSONResponse({"route": name})

        return endpoint

    @require_scope("sample-scope other-scope")
    def multi(request: Request) -> JSONResponse:
        return JSONResponse({"route": "multi"})

    async def whoami(request: Request) -> JSONResponse:
        return JSONResponse(_identity(current_token(request)))

    @require_scope("sample-scope")
    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_json(_ws_message(current_token(websocket)))
        await websocket.close()

    routes = [
        Route("/api/public", route("public")),
        Route("/api/private", route("private")),
        Route("/api/private-scoped", require_scope("sample-scope")(route("private-scoped"))),
        Route("/api/any", require_any_scope("admin", "sample-scope")(route("any"))),
        Route("/api/multi", multi),
        Route("/api/whoami", whoami),
        Route("/api/claim", require_claim("gty", "client-credentials")(route("claim"))),
        Route("/api/check", require_token(from_our_client)(route("check"))),
        WebSocketRoute("/ws", ws),
    ]
    return Starlette(routes=routes, middleware=middleware)


STYLES: dict[str, Callable[[list[Middleware]], ASGIApp]] = {
    "fastapi-security": _fastapi_security,
    "fastapi-decorator": _fastapi_decorator,
    "starlette": _starlette,
}


def build_app(
    style: str,
    settings: Settings,
    *,
    auth_required: bool = True,
    allow_query_token: bool = False,
    validated: bool = False,
) -> ASGIApp:
    """The ``style`` app behind :class:`BearerAuthMiddleware` configured as asked."""
    middleware = [
        Middleware(
            BearerAuthMiddleware,
            settings=settings,
            public_paths=list(PUBLIC_PATHS),
            auth_required=auth_required,
            allow_query_token=allow_query_token,
            verifier=verifier_for(settings, validated),
        )
    ]
    return STYLES[style](middleware)
