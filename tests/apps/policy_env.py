"""The same small API in every adapter style, configured by ``SCOPEGATE_*`` alone.

No keyword argument reaches scopegate here: settings and request policy come
from the environment, as they would in a deployment. Routes: ``/health``
(public when ``SCOPEGATE_PUBLIC_PATHS`` says so), ``/whoami`` (the token's
subject or null) and ``/scoped`` (``sample-scope``); ``/ws`` on the ASGI styles.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Security
from flask import Flask
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

from scopegate import AccessToken, asgi, flask, starlette, wsgi
from scopegate import fastapi as sg_fastapi

__all__ = ["ASGI_STYLES", "WSGI_STYLES", "build"]


def _subject(token: AccessToken | None) -> dict[str, Any]:
    return {"subject": None if token is None else token.subject}


def fastapi_app() -> FastAPI:
    app = FastAPI()
    app.add_middleware(asgi.BearerAuthMiddleware)

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/whoami")
    async def whoami(token: sg_fastapi.CurrentToken) -> dict[str, Any]:
        return _subject(token)

    @app.get("/scoped", dependencies=[Security(sg_fastapi.require_scope("sample-scope"))])
    async def scoped() -> dict[str, str]:
        return {"route": "scoped"}

    return app


def starlette_app() -> Starlette:
    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def whoami(request: Request) -> JSONResponse:
        return JSONResponse(_subject(starlette.current_token(request)))

    @starlette.require_scope("sample-scope")
    async def scoped(request: Request) -> JSONResponse:
        return JSONResponse({"route": "scoped"})

    @starlette.require_scope("sample-scope")
    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_json(_subject(starlette.current_token(websocket)))
        await websocket.close()

    app = Starlette(
        routes=[
            Route("/health", health),
            Route("/whoami", whoami),
            Route("/scoped", scoped),
            WebSocketRoute("/ws", ws),
        ]
    )
    app.add_middleware(asgi.BearerAuthMiddleware)
    return app


def _flask_routes(app: Flask) -> Flask:
    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/whoami")
    def whoami() -> dict[str, Any]:
        return _subject(flask.get_current_token())

    @app.get("/scoped")
    @flask.require_scope("sample-scope")
    def scoped() -> dict[str, str]:
        return {"route": "scoped"}

    return app


def flask_middleware_app() -> Flask:
    app = _flask_routes(Flask(__name__))
    app.wsgi_app = wsgi.BearerAuthMiddleware(app.wsgi_app)  # type: ignore[method-assign]
    return app


def flask_extension_app() -> Flask:
    app = _flask_routes(Flask(__name__))
    flask.ScopeGate(app)
    return app


ASGI_STYLES = {"fastapi": fastapi_app, "starlette": starlette_app}
WSGI_STYLES = {"flask-middleware": flask_middleware_app, "flask-extension": flask_extension_app}


def build(style: str) -> Any:
    """The app of ``style``, built now (its settings read from the environment now)."""
    return {**ASGI_STYLES, **WSGI_STYLES}[style]()


# For `uvicorn tests.apps.policy_env:app`: a module-level app, its middleware built lazily.
app = starlette_app()
