"""A restart keeps everything: same file, new server (on another port), old credentials work."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import httpx
import pytest

from authserver.harness import (
    SAMPLE_API,
    bearer,
    client_credentials,
    management_client,
    management_token,
    serve_db,
)
from authserver.test_credentials import legacy_scrypt_hash
from scopegate import Settings, TokenVerifier
from scopegate.authserver import create_app
from scopegate.authserver.storage.database import SCHEMA_VERSION
from scopegate.authserver.storage.records import Page
from scopegate.errors import ConfigurationError

GIVEN_ID = "operator-chosen-management-client"
GIVEN_SECRET = "s" * 40


def test_restart_keeps_everything(tmp_path: Path) -> None:
    db = str(tmp_path / "auth.db")
    with serve_db(db) as first:
        bootstrap = first.bootstrap
        assert bootstrap.created
        assert bootstrap.client_id is not None
        assert bootstrap.client_secret is not None
        with management_client(first) as mgmt:
            api = mgmt.post("/api/v2/resource-servers", json=SAMPLE_API).json()
            client = mgmt.post("/api/v2/clients", json={"name": "survivor"}).json()
            body = {"client_id": client["client_id"], "audience": api["identifier"]}
            grant = mgmt.post("/api/v2/client-grants", json={**body, "scope": ["sample-scope"]})
            assert grant.status_code == 201
            before = {
                path: mgmt.get(path).json()
                for path in ("/api/v2/resource-servers", "/api/v2/clients", "/api/v2/client-grants")
            }

    with serve_db(db) as second:
        assert second.base_url != first.base_url
        assert not second.bootstrap.created
        assert second.bootstrap.client_id == bootstrap.client_id
        assert second.bootstrap.client_secret is None
        with httpx.Client(base_url=second.base_url) as http:
            # The old management credentials, for the Management API at its new address.
            token = management_token(http, second, bootstrap.client_id, bootstrap.client_secret)
            for path, listed in before.items():
                now = http.get(path, headers=bearer(token)).json()
                assert now == [_moved(item, first.audience, second.audience) for item in listed], (
                    path
                )
            # The old client still gets tokens that verify with the unchanged secret.
            response = http.post(
                "/oauth/token",
                data=client_credentials(
                    client["client_id"], client["client_secret"], api["identifier"]
                ),
            )
            assert response.status_code == 200, response.text
    settings = Settings(
        signing_secret=api["signing_secret"],
        identifier=api["identifier"],
        issuer=second.issuer,
        _env_file=None,
    )
    verified = TokenVerifier(settings).verify(response.json()["access_token"])
    assert verified.scopes == frozenset({"sample-scope"})


def _moved(item: dict[str, object], old: str, new: str) -> dict[str, object]:
    """The Management API's identifier (and its grants' audience) follow the base URL."""
    return {key: new if value == old else value for key, value in item.items()}


def test_given_management_credentials_apply_on_every_start(tmp_path: Path) -> None:
    db = str(tmp_path / "auth.db")
    for _ in range(2):
        with serve_db(
            db, management_client_id=GIVEN_ID, management_client_secret=GIVEN_SECRET
        ) as live:
            assert live.bootstrap.client_id == GIVEN_ID
            assert live.bootstrap.client_secret == GIVEN_SECRET
            assert not live.bootstrap.created
            with httpx.Client(base_url=live.base_url) as http:
                management_token(http, live, GIVEN_ID, GIVEN_SECRET)
    # The generated client was never created; a later start without settings reuses the given one.
    with serve_db(db) as live:
        assert live.bootstrap.client_id == GIVEN_ID
        assert not live.bootstrap.created
        clients, _ = live.store.clients.list(Page())
        assert [client.client_id for client in clients] == [GIVEN_ID]


@pytest.mark.parametrize(
    ("client_id", "secret", "message"),
    [
        pytest.param(GIVEN_ID, None, "go together", id="id-only"),
        pytest.param(GIVEN_ID, "short", "management_client_secret", id="weak-secret"),
        pytest.param("has space", GIVEN_SECRET, "management_client_id", id="bad-id"),
    ],
)
def test_bad_given_credentials_are_configuration_errors(
    client_id: str, secret: str | None, message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        create_app("http://127.0.0.1:1", ":memory:", client_id, secret)


@pytest.mark.parametrize("base_url", ["ftp://x", "127.0.0.1:8787", "http://x/?q=1", "http://"])
def test_bad_base_url_is_a_configuration_error(base_url: str) -> None:
    with pytest.raises(ConfigurationError, match="base_url"):
        create_app(base_url, ":memory:")


# The schema scopegate wrote before version 2, and a client hashed with scrypt.
SCHEMA_V1 = """
CREATE TABLE resource_servers (id TEXT PRIMARY KEY, identifier TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL, signing_alg TEXT NOT NULL, signing_secret TEXT NOT NULL,
    token_lifetime INTEGER NOT NULL, scopes TEXT NOT NULL, is_system INTEGER NOT NULL DEFAULT 0);
CREATE UNIQUE INDEX resource_servers_one_system ON resource_servers (is_system)
    WHERE is_system = 1;
CREATE TABLE clients (client_id TEXT PRIMARY KEY, name TEXT NOT NULL, description TEXT,
    app_type TEXT NOT NULL, secret_hash TEXT NOT NULL);
CREATE TABLE client_grants (id TEXT PRIMARY KEY,
    client_id TEXT NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
    resource_server_id TEXT NOT NULL REFERENCES resource_servers (id) ON DELETE CASCADE,
    scope TEXT NOT NULL, UNIQUE (client_id, resource_server_id));
CREATE INDEX client_grants_by_resource_server ON client_grants (resource_server_id);
CREATE TABLE metadata (key TEXT PRIMARY KEY, value TEXT NOT NULL);
PRAGMA user_version = 1;
"""


def test_a_version_1_database_is_migrated_and_its_scrypt_secrets_still_work(
    tmp_path: Path,
) -> None:
    db = tmp_path / "old.db"
    with sqlite3.connect(db) as conn:
        conn.executescript(SCHEMA_V1)
        conn.execute(
            "INSERT INTO clients VALUES (?, ?, NULL, 'non_interactive', ?)",
            (GIVEN_ID, "Management API client", legacy_scrypt_hash(GIVEN_SECRET)),
        )
        conn.execute("INSERT INTO metadata VALUES ('management_client_id', ?)", (GIVEN_ID,))
    conn.close()
    with serve_db(str(db)) as live:
        assert live.bootstrap.client_id == GIVEN_ID
        with httpx.Client(base_url=live.base_url) as http:
            token = management_token(http, live, GIVEN_ID, GIVEN_SECRET)
            created = http.post(
                "/api/v2/clients",
                json={"name": "new", "is_first_party": False},
                headers=bearer(token),
            )
            assert created.status_code == 201, created.text
            assert created.json()["is_first_party"] is False
        with live.store.db.read() as conn:
            assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
