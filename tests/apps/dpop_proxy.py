"""A small DPoP API for the reverse-proxy tests: FastAPI under uvicorn, Flask under gunicorn.

Configured by ``SCOPEGATE_*`` alone. Routes: ``/health`` (public) and
``/whoami`` (the token's subject and ``confirmation``). The Flask app sits
behind werkzeug's ``ProxyFix`` (``x_proto``, ``x_host``, ``x_prefix``), outside
scopegate, as the README says to install it.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from scopegate import AccessToken, asgi, flask
from scopegate import fastapi as sg_fastapi

__all__ = ["asgi_app", "wsgi_app"]


def _identity(token: AccessToken | None) -> dict[str, Any]:
    if token is None:
        return {"subject": None, "confirmation": None}
    return {"subject": token.subject, "confirmation": token.confirmation}


def asgi_app() -> FastAPI:
    app = FastAPI()
    app.add_middleware(asgi.BearerAuthMiddleware)

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/whoami")
    async def whoami(token: sg_fastapi.CurrentToken) -> dict[str, Any]:
        return _identity(token)

    return app


def wsgi_app() -> Flask:
    app = Flask(__name__)
    flask.ScopeGate(app)

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/whoami")
    def whoami() -> dict[str, Any]:
        return _identity(flask.get_current_token())

    app.wsgi_app = ProxyFix(app.wsgi_app, x_proto=1, x_host=1, x_prefix=1)  # type: ignore[method-assign]
    return app
