"""What an untrusted client or a careless start could do, and must not.

Cheap secret checks (no scrypt per request), no delegation beyond the caller's
own scopes, owner-only database files, grants within their API's scopes, one
log line for a client that hangs up mid-body, and base URL conflicts that stop
the start with one line instead of moving another instance's Management API.
"""

from __future__ import annotations

import logging
import os
import socket
import stat
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from authserver.harness import (
    Live,
    bearer,
    client_credentials,
    management_client,
    management_token,
    serve_db,
)
from authserver.test_credentials import legacy_scrypt_hash
from scopegate import cli
from scopegate.authserver import MANAGEMENT_SCOPES, create_app
from scopegate.errors import ConfigurationError

# -- client secrets: an HMAC, legacy scrypt hashes migrated ------------------


def stored_hash(live: Live, client_id: str) -> str:
    with live.store.db.read() as conn:
        row = conn.execute(
            "SELECT secret_hash FROM clients WHERE client_id = ?", (client_id,)
        ).fetchone()
    value: str = row[0]
    return value


def test_new_clients_store_an_hmac_of_their_secret(live: Live, mgmt: httpx.Client) -> None:
    client = mgmt.post("/api/v2/clients", json={"name": "hmac"}).json()
    stored = stored_hash(live, client["client_id"])
    assert stored.startswith("hmac-sha256$")
    assert client["client_secret"] not in stored


def test_a_legacy_scrypt_secret_works_once_then_is_an_hmac(live: Live, mgmt: httpx.Client) -> None:
    client = mgmt.post("/api/v2/clients", json={"name": "from an old database"}).json()
    secret = "an-operator-secret-from-before-the-hmac-" + "x" * 8
    live.store.clients.set_secret(client["client_id"], legacy_scrypt_hash(secret))
    audience = live.audience
    mgmt.post(
        "/api/v2/client-grants",
        json={"client_id": client["client_id"], "audience": audience, "scope": ["read:clients"]},
    )
    with httpx.Client(base_url=live.base_url) as http:
        wrong = http.post(
            "/oauth/token", data=client_credentials(client["client_id"], secret + "x", audience)
        )
        assert wrong.status_code == 401
        assert stored_hash(live, client["client_id"]).startswith("scrypt$")
        for _ in range(2):
            response = http.post(
                "/oauth/token", data=client_credentials(client["client_id"], secret, audience)
            )
            assert response.status_code == 200, response.text
            assert stored_hash(live, client["client_id"]).startswith("hmac-sha256$")


def test_a_flood_of_unknown_clients_is_cheap(live: Live, http: httpx.Client) -> None:
    # With scrypt every one of these cost 35 ms of CPU: 100 took 3.5 s of one core.
    body = client_credentials("no-such-client", "x" * 64, live.audience)
    start = time.perf_counter()
    for _ in range(100):
        assert http.post("/oauth/token", data=body).status_code == 401
    assert time.perf_counter() - start < 1.5


# -- delegation: a grant for the Management API within the caller's scopes ---


def token_for(live: Live, mgmt: httpx.Client, scopes: list[str]) -> tuple[str, str, str]:
    """A new client granted ``scopes`` of the Management API: (client_id, grant id, token)."""
    client = mgmt.post("/api/v2/clients", json={"name": "delegate"}).json()
    grant = mgmt.post(
        "/api/v2/client-grants",
        json={"client_id": client["client_id"], "audience": live.audience, "scope": scopes},
    )
    assert grant.status_code == 201, grant.text
    with httpx.Client(base_url=live.base_url) as http:
        token = management_token(http, live, client["client_id"], client["client_secret"])
    return client["client_id"], grant.json()["id"], token


def forbidden(lacking: str) -> dict[str, Any]:
    return {
        "statusCode": 403,
        "error": "Forbidden",
        "message": "A grant for the Management API may carry only scopes the calling token "
        f"holds; it lacks: {lacking}",
        "errorCode": "insufficient_scope",
    }


def test_create_client_grants_cannot_hand_out_more_than_it_holds(
    live: Live, mgmt: httpx.Client
) -> None:
    _, _, token = token_for(live, mgmt, ["create:client_grants", "read:clients"])
    accomplice = mgmt.post("/api/v2/clients", json={"name": "accomplice"}).json()
    body = {"client_id": accomplice["client_id"], "audience": live.audience}
    with httpx.Client(base_url=live.base_url, headers=bearer(token)) as http:
        every = http.post("/api/v2/client-grants", json={**body, "scope": list(MANAGEMENT_SCOPES)})
        assert every.status_code == 403
        lacking = [
            s for s in MANAGEMENT_SCOPES if s not in ("create:client_grants", "read:clients")
        ]
        assert every.json() == forbidden(" ".join(lacking))
        held = http.post("/api/v2/client-grants", json={**body, "scope": ["read:clients"]})
        assert held.status_code == 201, held.text
        # Another API's scopes are the API owner's business, not the Management API's.
        other = mgmt.post(
            "/api/v2/resource-servers",
            json={"identifier": "urn:delegation:other", "scopes": [{"value": "anything"}]},
        )
        assert other.status_code == 201
        body = {"client_id": accomplice["client_id"], "audience": "urn:delegation:other"}
        assert http.post("/api/v2/client-grants", json={**body, "scope": ["anything"]}).is_success


def test_update_client_grants_cannot_widen_its_own_grant(live: Live, mgmt: httpx.Client) -> None:
    _, grant_id, token = token_for(live, mgmt, ["update:client_grants", "read:clients"])
    with httpx.Client(base_url=live.base_url, headers=bearer(token)) as http:
        path = f"/api/v2/client-grants/{grant_id}"
        widened = http.patch(path, json={"scope": ["update:client_grants", "create:clients"]})
        assert widened.status_code == 403
        assert widened.json() == forbidden("create:clients")
        narrowed = http.patch(path, json={"scope": ["update:client_grants"]})
        assert narrowed.status_code == 200, narrowed.text
    grants = mgmt.get("/api/v2/client-grants", params={"audience": live.audience}).json()
    assert [g["scope"] for g in grants if g["id"] == grant_id] == [["update:client_grants"]]


# -- owner-only files -----------------------------------------------------------


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_database_files_and_new_folder_are_owner_only(
    tmp_path: Path, permissive_umask: None
) -> None:
    folder = tmp_path / "created-by-the-server"
    db = folder / "auth.db"
    with serve_db(str(db)) as live, management_client(live) as mgmt:
        assert mgmt.post("/api/v2/clients", json={"name": "a write"}).status_code == 201
        files = {path.name: mode(path) for path in folder.iterdir()}
        assert {"auth.db", "auth.db-wal", "auth.db-shm"} <= set(files)
        assert files == dict.fromkeys(files, 0o600)
        assert mode(folder) == 0o700


def test_an_existing_readable_database_is_tightened(tmp_path: Path, permissive_umask: None) -> None:
    db = tmp_path / "auth.db"
    create_app("http://127.0.0.1:1", str(db)).state.store.close()
    db.chmod(0o644)
    create_app("http://127.0.0.1:1", str(db)).state.store.close()
    assert mode(db) == 0o600


# -- grants stay within their API's scopes -------------------------------------


def test_a_scope_removed_from_an_api_leaves_its_grants_for_good(
    live: Live, mgmt: httpx.Client
) -> None:
    scopes = [{"value": "keep"}, {"value": "drop"}]
    api = mgmt.post(
        "/api/v2/resource-servers", json={"identifier": "urn:pruned", "scopes": scopes}
    ).json()
    client = mgmt.post("/api/v2/clients", json={"name": "pruned"}).json()
    grant = mgmt.post(
        "/api/v2/client-grants",
        json={
            "client_id": client["client_id"],
            "audience": "urn:pruned",
            "scope": ["keep", "drop"],
        },
    ).json()
    path = f"/api/v2/resource-servers/{api['id']}"
    assert mgmt.patch(path, json={"scopes": scopes[:1]}).status_code == 200
    listed = mgmt.get("/api/v2/client-grants", params={"audience": "urn:pruned"}).json()
    assert [g["scope"] for g in listed if g["id"] == grant["id"]] == [["keep"]]
    # Defining it again later does not grant it again.
    assert mgmt.patch(path, json={"scopes": scopes}).status_code == 200
    with httpx.Client(base_url=live.base_url) as http:
        token = http.post(
            "/oauth/token",
            data=client_credentials(client["client_id"], client["client_secret"], "urn:pruned"),
        )
    assert token.status_code == 200, token.text
    assert token.json()["scope"] == "keep"


# -- a client that hangs up mid-body ---------------------------------------------


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def server_logs() -> Iterator[list[logging.LogRecord]]:
    handler = Records()
    loggers = [logging.getLogger(name) for name in ("uvicorn.error", "scopegate.authserver")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
    try:
        yield handler.records
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.removeHandler(handler)
            logger.setLevel(level)


@pytest.mark.parametrize(
    "path",
    [pytest.param("/oauth/token", id="token"), pytest.param("/api/v2/clients", id="management")],
)
def test_a_client_disconnecting_mid_body_is_one_log_line(
    live: Live, mgmt: httpx.Client, server_logs: list[logging.LogRecord], path: str
) -> None:
    host, port = live.base_url.removeprefix("http://").split(":")
    authorization = mgmt.headers["authorization"]
    with socket.create_connection((host, int(port))) as sock:
        sock.sendall(
            f"POST {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: {authorization}\r\n"
            'Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"grant_'.encode()
        )
        time.sleep(0.2)
    deadline = time.monotonic() + 5
    while not server_logs and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.2)  # anything more it would log
    assert [record.getMessage() for record in server_logs] == [
        f"POST {path}: the client disconnected before sending the whole body"
    ]
    assert server_logs[0].exc_info is None


# -- base URL conflicts ------------------------------------------------------------


def test_a_base_url_whose_identifier_is_taken_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "auth.db")
    taken = "http://127.0.0.1:9999"
    with serve_db(db) as live, management_client(live) as mgmt:
        api = {"identifier": f"{taken}/api/v2/", "name": "squatter"}
        assert mgmt.post("/api/v2/resource-servers", json=api).status_code == 201
    capsys.readouterr()
    code = cli.main(["authserver", "--db", db, "--base-url", taken, "--port", "9999"])
    assert code == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == (
        f"scopegate: error: base_url: the Management API identifier {taken}/api/v2/ is already "
        f"the identifier of the API 'squatter' in {db}; choose another --base-url, or delete "
        "that API first\n"
    )


def test_a_second_instance_cannot_move_the_first_ones_management_api(tmp_path: Path) -> None:
    db = str(tmp_path / "auth.db")
    first = create_app("http://127.0.0.1:1111", db)
    try:
        with pytest.raises(ConfigurationError) as raised:
            create_app("http://127.0.0.1:2222", db)
        assert str(raised.value) == (
            f"base_url: another scopegate authserver is serving {db} with the Management API "
            "at http://127.0.0.1:1111/api/v2/; start this one with the same --base-url, or "
            "stop that one first"
        )
        system = first.state.store.resource_servers.system()
        assert system.identifier == "http://127.0.0.1:1111/api/v2/"
        # The same base URL is fine: several processes may serve one database.
        create_app("http://127.0.0.1:1111", db).state.store.close()
    finally:
        first.state.store.close()
    # Once the first one is gone, a restart may move it.
    moved = create_app("http://127.0.0.1:2222", db)
    try:
        assert moved.state.bootstrap.audience == "http://127.0.0.1:2222/api/v2/"
    finally:
        moved.state.store.close()


# -- a token request is one read transaction -------------------------------------


def test_a_token_request_is_one_read_transaction(
    live: Live, mgmt: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = mgmt.post("/api/v2/clients", json={"name": "one read"}).json()
    mgmt.post(
        "/api/v2/client-grants",
        json={"client_id": client["client_id"], "audience": live.audience, "scope": []},
    )
    db = live.store.db
    opened: list[str] = []
    for kind in ("read", "write"):
        original = getattr(db, kind)

        def counting(original: Any = original, kind: str = kind) -> Any:
            opened.append(kind)
            return original()

        monkeypatch.setattr(db, kind, counting)
    with httpx.Client(base_url=live.base_url) as http:
        for secret, audience, status in [
            (client["client_secret"], live.audience, 200),
            (client["client_secret"] + "x", live.audience, 401),
            (client["client_secret"], "urn:no-such-api", 403),
        ]:
            opened.clear()
            body = client_credentials(client["client_id"], secret, audience)
            assert http.post("/oauth/token", data=body).status_code == status
            assert opened == ["read"], (status, opened)
