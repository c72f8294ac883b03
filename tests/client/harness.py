"""Real servers for the client tests: the authorization server and an API it issues tokens for.

Both run under uvicorn on 127.0.0.1 (``scopegate.demo.servers.serve``), each
behind an ASGI wrapper that counts requests, so the tests count token
requests where they arrive: at the server.
"""

from __future__ import annotations

import secrets
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from scopegate import Settings
from scopegate.asgi import BearerAuthMiddleware
from scopegate.authserver import ManagementCredentials, create_app
from scopegate.client import ClientCredentialsAuth, ManagementClient
from scopegate.demo.servers import serve
from scopegate.starlette import current_token

TOKEN_PATH = "/oauth/token"


class Counting:
    """An ASGI wrapper that counts HTTP requests by method and path."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.counts: Counter[tuple[str, str]] = Counter()
        self._lock = threading.Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            with self._lock:
                self.counts[(scope["method"], scope["path"])] += 1
        await self.app(scope, receive, send)

    def count(self, method: str, path: str) -> int:
        with self._lock:
            return self.counts[(method, path)]


async def whoami(request: Request) -> JSONResponse:
    token = current_token(request)
    assert token is not None
    body = await request.body()
    return JSONResponse({"sub": token.subject, "scopes": sorted(token.scopes), "bytes": len(body)})


class Protected:
    """A resource server whose settings a test can swap (a key rotation, a wrong secret)."""

    def __init__(self, settings: Settings | None) -> None:
        self.use(settings)

    def use(self, settings: Settings | None) -> None:
        """Verify with ``settings`` from now on; None answers every request 503."""
        inner = Starlette(routes=[Route("/whoami", whoami, methods=["GET", "POST"])])
        self.app: ASGIApp = (
            JSONResponse({"error": "no API configured"}, status_code=503)
            if settings is None
            else BearerAuthMiddleware(inner, settings=settings)
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


@dataclass
class AuthServer:
    url: str
    counter: Counting
    credentials: ManagementCredentials
    management: ManagementClient

    @property
    def token_url(self) -> str:
        return self.url + TOKEN_PATH

    def token_requests(self) -> int:
        return self.counter.count("POST", TOKEN_PATH)


@contextmanager
def auth_server() -> Iterator[AuthServer]:
    counters: list[Counting] = []

    def make(base: str) -> Counting:
        counters.append(Counting(create_app(base, ":memory:")))
        return counters[-1]

    with serve(make, "authorization server") as served:
        credentials: ManagementCredentials = served.app.app.state.bootstrap
        assert credentials.client_id is not None
        assert credentials.client_secret is not None
        with ManagementClient.with_client_credentials(
            served.url, credentials.client_id, credentials.client_secret
        ) as management:
            yield AuthServer(served.url, counters[0], credentials, management)


def api_settings(server: AuthServer, api: dict[str, Any], secret: str | None = None) -> Settings:
    return Settings(
        signing_secret=secret or api["signing_secret"],
        identifier=api["identifier"],
        issuer=server.url + "/",
        cache_maxsize=0,
        _env_file=None,
    )


@dataclass
class World:
    """One API registered at the shared authorization server, served, with one client."""

    server: AuthServer
    api: dict[str, Any]
    client: dict[str, Any]
    url: str
    protected: Protected
    counter: Counting
    tokens_before: int = field(default=0)

    def auth(self, **options: Any) -> ClientCredentialsAuth:
        return ClientCredentialsAuth(
            self.server.token_url,
            self.client["client_id"],
            self.client["client_secret"],
            self.api["identifier"],
            **options,
        )

    def tokens(self) -> int:
        """Token requests the server received since this world was made."""
        return self.server.token_requests() - self.tokens_before

    def calls(self, method: str = "GET") -> int:
        return self.counter.count(method, "/whoami")

    def rotate(self) -> None:
        """A new signing secret at the authorization server and at the API."""
        secret = secrets.token_urlsafe(48)
        self.api = self.server.management.update_resource_server(
            self.api["id"], signing_secret=secret
        )
        self.protected.use(api_settings(self.server, self.api))

    def break_api(self) -> None:
        """The API now verifies with a secret the authorization server never uses."""
        self.protected.use(api_settings(self.server, self.api, secrets.token_urlsafe(48)))


@contextmanager
def resource_server() -> Iterator[tuple[str, Protected, Counting]]:
    """One API server for a module; each world points it at its own API's settings."""
    protected = Protected(None)
    counter = Counting(protected)
    with serve(lambda _base: counter, "resource server") as served:
        yield served.url, protected, counter


@contextmanager
def world(
    server: AuthServer,
    resource: tuple[str, Protected, Counting],
    scopes: tuple[str, ...] = ("read", "write"),
) -> Iterator[World]:
    management = server.management
    created = management.create_resource_server(
        f"https://api-{secrets.token_hex(6)}.test", scopes=scopes
    )
    client = management.create_client("test client")
    management.create_client_grant(client["client_id"], created["identifier"], scopes)
    url, protected, counter = resource
    protected.use(api_settings(server, created))
    counter.counts.clear()
    try:
        yield World(server, created, client, url, protected, counter, server.token_requests())
    finally:
        protected.use(None)
