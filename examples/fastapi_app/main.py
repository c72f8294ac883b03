"""A FastAPI resource server protected by scopegate: the API side of Auth0's "API Authorization".

Configured only through ``SCOPEGATE_*`` environment variables or an ``.env``
file beside this one (see ``.env.example``); environment variables win.

Run it with either of::

    python examples/fastapi_app/main.py
    python -m uvicorn --app-dir examples/fastapi_app main:app

then call it with a token from ``scopegate token`` (or from your authorization
server's client-credentials grant)::

    curl -H "Authorization: Bearer $(scopegate --env-file examples/fastapi_app/.env token)" \\
        http://127.0.0.1:8000/api/private
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Security

from scopegate import ConfigurationError, Settings
from scopegate.asgi import BearerAuthMiddleware
from scopegate.fastapi import CurrentToken, bearer_scheme, require_scope

ENV_FILE = Path(__file__).with_name(".env")
PUBLIC_PATHS = ["/api/public", "/health", "/docs", "/docs/oauth2-redirect", "/openapi.json"]


def load_settings() -> Settings:
    """Settings from ``SCOPEGATE_*`` variables, then ``.env`` beside this file when present."""
    return Settings(_env_file=ENV_FILE if ENV_FILE.is_file() else None)


def create_app(settings: Settings) -> FastAPI:
    """The example API: one public route, one for any valid token, one that needs a scope."""
    app = FastAPI(title="scopegate example API", version="1.0.0")
    app.add_middleware(BearerAuthMiddleware, settings=settings, public_paths=PUBLIC_PATHS)

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/api/public")
    async def public() -> dict[str, str]:
        return {"message": "Hello from a public endpoint! You don't need to be authenticated."}

    # Security(bearer_scheme) only documents the route as protected (the lock in
    # Swagger UI); the middleware has already rejected requests without a valid token.
    @app.get("/api/private", dependencies=[Security(bearer_scheme)])
    async def private(token: CurrentToken) -> dict[str, Any]:
        assert token is not None  # auth_required: the middleware let no anonymous request in
        return {
            "message": "Hello from a private endpoint! You need to be authenticated.",
            "subject": token.subject,
            "scopes": sorted(token.scopes),
        }

    @app.get("/api/private-scoped", dependencies=[Security(require_scope("sample-scope"))])
    async def private_scoped() -> dict[str, str]:
        return {
            "message": "Hello from a private endpoint! "
            "You need to be authenticated and have a scope of sample-scope."
        }

    return app


def _settings_or_exit() -> Settings:
    try:
        return load_settings()
    except ConfigurationError as exc:
        hint = f"Set them in the environment or in {ENV_FILE} (see .env.example beside it)."
        print(f"{exc}\n{hint}", file=sys.stderr)
        raise SystemExit(2) from None


app = create_app(_settings_or_exit())

if __name__ == "__main__":
    import uvicorn

    uvicorn.run(app, host="127.0.0.1", port=8000)
