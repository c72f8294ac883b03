"""A real uvicorn server on 127.0.0.1 in a thread, and an httpx client that knows the API."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette

from scopegate.authserver import ManagementCredentials, create_app
from scopegate.authserver.storage import Store
from scopegate.authserver.tls import TlsFiles

STARTUP_TIMEOUT = 10.0
SAMPLE_API = {
    "name": "My Sample API",
    "identifier": "https://my-api-urn",
    "signing_alg": "HS256",
    "scopes": [{"value": "sample-scope", "description": "Description for Sample Scope"}],
}


@dataclass
class Live:
    """A running server: its app, base URL and first-start credentials."""

    app: Starlette
    base_url: str

    @property
    def bootstrap(self) -> ManagementCredentials:
        credentials: ManagementCredentials = self.app.state.bootstrap
        return credentials

    @property
    def store(self) -> Store:
        store: Store = self.app.state.store
        return store

    @property
    def issuer(self) -> str:
        return self.base_url + "/"

    @property
    def audience(self) -> str:
        return self.base_url + "/api/v2/"


@contextmanager
def serve(make_app: Callable[[str], Starlette], tls: TlsFiles | None = None) -> Iterator[Live]:
    """Bind a free port, build the app for that base URL, serve it until the block ends
    (over HTTPS with ``tls``)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # Accepted connections inherit it; without it every response waits for a delayed ACK.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind(("127.0.0.1", 0))
    scheme = "http" if tls is None else "https"
    base_url = f"{scheme}://127.0.0.1:{sock.getsockname()[1]}"
    app = make_app(base_url)
    config = uvicorn.Config(
        app,
        log_level="warning",
        ws="none",
        lifespan="on",
        ssl_certfile=None if tls is None else str(tls.certfile),
        ssl_keyfile=None if tls is None else str(tls.keyfile),
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)
        yield Live(app, base_url)
    finally:
        server.should_exit = True
        thread.join(STARTUP_TIMEOUT)
        sock.close()


@contextmanager
def serve_db(db: str = ":memory:", **options: Any) -> Iterator[Live]:
    with serve(lambda base: create_app(base, db, **options)) as live:
        yield live


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def client_credentials(
    client_id: str, client_secret: str, audience: str, **extra: str
) -> dict[str, str]:
    return {
        "grant_type": "client_credentials",
        "client_id": client_id,
        "client_secret": client_secret,
        "audience": audience,
        **extra,
    }


def management_token(http: httpx.Client, live: Live, client_id: str, secret: str) -> str:
    response = http.post("/oauth/token", json=client_credentials(client_id, secret, live.audience))
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


@contextmanager
def management_client(live: Live) -> Iterator[httpx.Client]:
    """An httpx client for ``live`` carrying a Management API token with every scope."""
    credentials = live.bootstrap
    assert credentials.client_id is not None
    assert credentials.client_secret is not None
    with httpx.Client(base_url=live.base_url, timeout=10.0) as http:
        token = management_token(http, live, credentials.client_id, credentials.client_secret)
        http.headers.update(bearer(token))
        yield http


def counts(store: Store) -> dict[str, int]:
    """Rows per table, read straight from the database."""
    with store.db.read() as conn:
        return {
            table: conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]  # noqa: S608
            for table in ("resource_servers", "clients", "client_grants")
        }
