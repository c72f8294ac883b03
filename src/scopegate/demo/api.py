"""The demo's resource server: the FastAPI example's app, shipped inside the package.

``examples/fastapi_app/main.py`` is not installed with scopegate, and importing
it builds an app from ``SCOPEGATE_*`` variables and its ``.env`` at import
time. So the demo serves this copy of its ``create_app``, configured
explicitly; a test checks that both give the same OpenAPI document and the
same answers.
"""

from __future__ import annotations

from typing import Any

try:
    from fastapi import FastAPI, Security
except ImportError as exc:  # pragma: no cover - exercised without the extra installed
    raise ImportError("scopegate demo needs FastAPI: pip install 'scopegate[demo]'") from exc

from scopegate._settings import Settings
from scopegate.asgi import BearerAuthMiddleware
from scopegate.fastapi import CurrentToken, bearer_scheme, require_scope

PUBLIC_PATHS = ["/api/public", "/health", "/docs", "/docs/oauth2-redirect", "/openapi.json"]


def create_api(settings: Settings) -> FastAPI:
    """The example API: one public route, one for any valid token, one that needs a scope."""
    app = FastAPI(title="scopegate example API", version="1.0.0")
    app.add_middleware(BearerAuthMiddleware, settings=settings, public_paths=PUBLIC_PATHS)

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/api/public")
    async def public() -> dict[str, str]:
        return {"message": "Hello from a public endpoint! You don't need to be authenticated."}

    @app.get("/api/private", dependencies=[Security(bearer_scheme)])
    async def private(token: CurrentToken) -> dict[str, Any]:
        if token is None:  # unreachable: the middleware lets no anonymous request in
            raise RuntimeError("BearerAuthMiddleware is not installed")
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
