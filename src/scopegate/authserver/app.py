"""The authorization server as a Starlette app: ``/oauth/token``, ``/.well-known``, ``/api/v2``.

``/oauth/token`` and ``/.well-known`` (the JWK Set and the metadata) are
public. ``/api/v2`` is a sub-app behind scopegate's own
:class:`~scopegate.asgi.BearerAuthMiddleware`, configured with the Management
API's signing secret and identifier: the Management API is a resource server
protected like any other. Its 401 and 403 answers keep scopegate's RFC 6750
status and challenge, with an Auth0-shaped body (``statusCode``, ``error``,
``message``, ``errorCode``) from the middleware's ``error_renderer`` hook.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect
from starlette.routing import Mount, Route

from scopegate._nonce import NonceSource
from scopegate._settings import Settings
from scopegate.asgi import BearerAuthMiddleware
from scopegate.authserver.bootstrap import bootstrap
from scopegate.authserver.errors import AuthServerError, render_bearer_error, render_exception
from scopegate.authserver.http.discovery import ROUTES as DISCOVERY_ROUTES
from scopegate.authserver.http.management import ROUTES as MANAGEMENT_ROUTES
from scopegate.authserver.http.sender_constraining import SenderConstraining
from scopegate.authserver.http.token_endpoint import TokenEndpoint
from scopegate.authserver.storage import Store
from scopegate.authserver.storage.records import ResourceServer
from scopegate.errors import ConfigurationError

_HANDLERS: dict[Any, Any] = {
    AuthServerError: render_exception,
    HTTPException: render_exception,
    ClientDisconnect: render_exception,
    sqlite3.OperationalError: render_exception,
    Exception: render_exception,
}


def normalize_base_url(base_url: str) -> str:
    """``base_url`` without a trailing slash, checked to be an http(s) origin and path.

    Raises:
        ConfigurationError: not an absolute http(s) URL, or one with a query or fragment.
    """
    url = base_url.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ConfigurationError(
            f"base_url: {base_url!r} is not an http(s) URL without query or fragment, "
            "such as http://127.0.0.1:8787"
        )
    return url


def _management_settings(system: ResourceServer, issuer: str) -> Settings:
    # Explicit settings: SCOPEGATE_* variables meant for some other API in the
    # same environment (SCOPEGATE_AUTH_REQUIRED=false...) cannot change this one.
    # The Management API takes bearer tokens only, as Auth0's does: no DPoP challenge.
    return Settings.explicit(
        signing_secret=system.signing_secret,
        identifier=system.identifier,
        issuer=issuer,
        dpop="disabled",
    )


def create_app(
    base_url: str,
    db: str,
    management_client_id: str | None = None,
    management_client_secret: str | None = None,
    *,
    dpop_nonce: bool = False,
) -> Starlette:
    """Open (or create) the store, bootstrap the Management API, and build the app.

    Args:
        base_url: where the server is reached, e.g. ``http://127.0.0.1:8787``;
            the issuer of every token is this URL with a trailing slash.
        db: the SQLite file, or ``":memory:"``.
        management_client_id: use this management client instead of a
            generated one (with ``management_client_secret``).
        management_client_secret: its secret, at least 32 characters.
        dpop_nonce: require a server nonce in the DPoP proofs of token requests
            (RFC 9449 §8: a 400 ``use_dpop_nonce`` with a ``DPoP-Nonce`` to use).

    The result's ``state.bootstrap`` is a
    :class:`~scopegate.authserver.bootstrap.ManagementCredentials`: on
    the first start its ``client_secret`` is the only copy of the secret.
    The store is closed when the app's lifespan ends.

    Example::

        app = create_app("http://127.0.0.1:8787", db=":memory:")
        token_url, client_id = app.state.bootstrap.token_url, app.state.bootstrap.client_id
    """
    base = normalize_base_url(base_url)
    issuer = base + "/"
    store = Store(db)
    try:
        system, credentials = bootstrap(store, base, management_client_id, management_client_secret)
        settings = _management_settings(system, issuer)
    except BaseException:
        store.close()
        raise
    # The middleware sits inside the sub-app's error middleware, as add_middleware
    # would put it, so it renders the BearerError a route guard raises.
    management = Starlette(
        routes=MANAGEMENT_ROUTES,
        middleware=[
            Middleware(BearerAuthMiddleware, settings=settings, error_renderer=render_bearer_error)
        ],
        exception_handlers=_HANDLERS,
    )
    management.state.store = store
    dpop = SenderConstraining(issuer + "oauth/token", nonces=NonceSource() if dpop_nonce else None)
    tokens = TokenEndpoint(store, issuer, dpop=dpop)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            store.close()

    app = Starlette(
        routes=[
            Route("/oauth/token", tokens.handle, methods=["POST"]),
            *DISCOVERY_ROUTES,
            Mount("/api/v2", app=management),
        ],
        exception_handlers=_HANDLERS,
        lifespan=lifespan,
    )
    app.state.store = store
    app.state.base_url = base
    app.state.bootstrap = credentials
    return app
