"""Between SQLite rows and records: the column mapping in one place."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence

from scopegate.authserver.storage.records import (
    Client,
    ClientGrant,
    ProofOfPossession,
    ResourceServer,
    ScopeDefinition,
    SigningKey,
)

# A grant names its API by id; its audience is that API's current identifier.
GRANT_SELECT = (
    "SELECT g.id, g.client_id, r.identifier AS audience, g.scope FROM client_grants g "
    "JOIN resource_servers r ON r.id = g.resource_server_id"
)


def server_from_row(row: sqlite3.Row) -> ResourceServer:
    items = json.loads(row["scopes"])
    scopes = tuple(ScopeDefinition(item["value"], item.get("description")) for item in items)
    return ResourceServer(
        id=row["id"],
        name=row["name"],
        identifier=row["identifier"],
        signing_secret=row["signing_secret"],
        scopes=scopes,
        token_lifetime=row["token_lifetime"],
        signing_alg=row["signing_alg"],
        is_system=bool(row["is_system"]),
        settings=json.loads(row["settings"]),
        proof_of_possession=_pop_from_json(row["proof_of_possession"]),
    )


def _pop_from_json(text: str | None) -> ProofOfPossession | None:
    if text is None:
        return None
    item = json.loads(text)
    return ProofOfPossession(item["mechanism"], item["required"], item.get("required_for"))


def pop_json(pop: ProofOfPossession | None) -> str | None:
    return None if pop is None else json.dumps(pop.to_json())


def scopes_json(scopes: Sequence[ScopeDefinition]) -> str:
    return json.dumps([scope.to_json() for scope in scopes])


def client_from_row(row: sqlite3.Row) -> Client:
    return Client(
        client_id=row["client_id"],
        name=row["name"],
        secret_hash=row["secret_hash"],
        description=row["description"],
        app_type=row["app_type"],
        settings=json.loads(row["settings"]),
    )


def grant_from_row(row: sqlite3.Row) -> ClientGrant:
    return ClientGrant(
        row["id"], row["client_id"], row["audience"], tuple(json.loads(row["scope"]))
    )


def find_server(conn: sqlite3.Connection, key: str) -> ResourceServer | None:
    """The resource server whose ``id`` or ``identifier`` is ``key``."""
    row = conn.execute(
        "SELECT * FROM resource_servers WHERE id = ? OR identifier = ?", (key, key)
    ).fetchone()
    return None if row is None else server_from_row(row)


# Same shape as client_from_row (duplicates pairs them): each maps its own table's columns.
def signing_key_from_row(row: sqlite3.Row) -> SigningKey:
    return SigningKey(
        kid=row["kid"],
        private_pem=row["private_key"],
        cert_pem=row["cert"],
        created_at=row["created_at"],
        current_since=row["current_since"],
        current_until=row["current_until"],
        revoked_at=row["revoked_at"],
    )
