"""The repository: resource servers, clients and client grants in SQLite.

Every method is one transaction: it happens completely or not at all, and
several calls nest inside ``with store.db.write():`` as one. Checks that guard
a write (the identifier is free, the API is not the system one) run inside the
write transaction, so concurrent requests cannot slip between check and write.
Failures raise the Management API's errors (404, 409, 400).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import replace

from scopegate.authserver.database import Database
from scopegate.authserver.errors import ManagementApiError, conflict, not_found
from scopegate.authserver.grants import GrantStore
from scopegate.authserver.records import (
    Client,
    ClientChanges,
    ClientGrant,
    Page,
    ResourceServer,
    ResourceServerChanges,
)
from scopegate.authserver.rows import (
    GRANT_SELECT,
    client_from_row,
    find_server,
    grant_from_row,
    scopes_json,
    server_from_row,
)

__all__ = ["Store"]


def _system_is_read_only() -> ManagementApiError:
    return ManagementApiError(
        400, "operation_not_supported", "The Management API resource server cannot be changed."
    )


class Store:
    """The authorization server's data, in a SQLite file or ``":memory:"``.

    Attributes:
        db: the connection and its transactions.
        grants: the client grants.
    """

    def __init__(self, path: str) -> None:
        self.db = Database(path)
        self.grants = GrantStore(self.db)

    def close(self) -> None:
        self.db.close()

    # -- resource servers ------------------------------------------------

    def resource_server(self, key: str) -> ResourceServer | None:
        """The resource server whose ``id`` or ``identifier`` is ``key``."""
        with self.db.read() as conn:
            return find_server(conn, key)

    def system_resource_server(self) -> ResourceServer | None:
        """The Management API's own resource server, once bootstrapped."""
        with self.db.read() as conn:
            row = conn.execute("SELECT * FROM resource_servers WHERE is_system = 1").fetchone()
        return None if row is None else server_from_row(row)

    def add_resource_server(self, server: ResourceServer) -> ResourceServer:
        """Insert ``server``; 409 if its identifier is taken."""
        with self.db.write() as conn:
            if find_server(conn, server.identifier) is not None:
                raise conflict("A resource server with the same identifier already exists.")
            conn.execute(
                "INSERT INTO resource_servers (id, identifier, name, signing_alg, signing_secret,"
                " token_lifetime, scopes, is_system, settings) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    server.id,
                    server.identifier,
                    server.name,
                    server.signing_alg,
                    server.signing_secret,
                    server.token_lifetime,
                    scopes_json(server.scopes),
                    int(server.is_system),
                    json.dumps(server.settings),
                ),
            )
        return server

    def resource_servers(
        self, page: Page, identifiers: Sequence[str] = ()
    ) -> tuple[list[ResourceServer], int]:
        """One page of the resource servers, oldest first, only those with one of
        ``identifiers`` if given; and how many match in all."""
        where, params = "", tuple[str, ...]()
        if identifiers:
            where = f" WHERE identifier IN ({', '.join('?' * len(identifiers))})"
            params = tuple(identifiers)
        # Built from constant fragments only; every value is a bound parameter.
        select = f"SELECT * FROM resource_servers{where}"  # noqa: S608
        with self.db.read() as conn:
            rows = conn.execute(
                f"{select} ORDER BY rowid LIMIT ? OFFSET ?", (*params, page.size, page.offset)
            ).fetchall()
            count = conn.execute(f"SELECT COUNT(*) FROM ({select})", params)  # noqa: S608
            total: int = count.fetchone()[0]
        return [server_from_row(row) for row in rows], total

    def update_resource_server(
        self, key: str, changes: ResourceServerChanges, *, system: bool = False
    ) -> ResourceServer:
        """Apply ``changes`` (never to the identifier); only ``system=True`` may touch the
        Management API's own resource server."""
        with self.db.write() as conn:
            server = find_server(conn, key)
            if server is None:
                raise not_found("resource_server")
            if server.is_system and not system:
                raise _system_is_read_only()
            updates = {
                name: value
                for name in ResourceServerChanges.__slots__
                if (value := getattr(changes, name)) is not None
            }
            updates["settings"] = {**server.settings, **(changes.settings or {})}
            server = replace(server, **updates)
            conn.execute(
                "UPDATE resource_servers SET name = ?, scopes = ?, token_lifetime = ?,"
                " signing_secret = ?, settings = ? WHERE id = ?",
                (
                    server.name,
                    scopes_json(server.scopes),
                    server.token_lifetime,
                    server.signing_secret,
                    json.dumps(server.settings),
                    server.id,
                ),
            )
            if changes.scopes is not None:
                self._prune_grants(conn, server)
        return server

    def prune_grants(self) -> None:
        """Drop from every grant the scopes its API no longer defines (for older databases)."""
        with self.db.write() as conn:
            for row in conn.execute("SELECT * FROM resource_servers").fetchall():
                self._prune_grants(conn, server_from_row(row))

    @staticmethod
    def _prune_grants(conn: sqlite3.Connection, server: ResourceServer) -> None:
        # Grants keep within their API's scopes: a scope removed from the API is
        # removed from its grants too, so adding it back later grants it to no one.
        defined = set(server.scope_values)
        rows = conn.execute(
            "SELECT id, scope FROM client_grants WHERE resource_server_id = ?", (server.id,)
        ).fetchall()
        for row in rows:
            granted = json.loads(row["scope"])
            kept = [scope for scope in granted if scope in defined]
            if kept != granted:
                conn.execute(
                    "UPDATE client_grants SET scope = ? WHERE id = ?", (json.dumps(kept), row["id"])
                )

    def move_system_resource_server(self, identifier: str) -> ResourceServer:
        """Give the Management API a new identifier (the base URL changed); its grants follow."""
        with self.db.write() as conn:
            system = self.system_resource_server()
            if system is None:
                raise not_found("resource_server")
            if system.identifier == identifier:
                return system
            if find_server(conn, identifier) is not None:
                raise conflict("A resource server with the same identifier already exists.")
            conn.execute(
                "UPDATE resource_servers SET identifier = ? WHERE id = ?", (identifier, system.id)
            )
        return replace(system, identifier=identifier)

    def delete_resource_server(self, key: str) -> None:
        """Delete an API and, with it, every grant for it."""
        with self.db.write() as conn:
            server = find_server(conn, key)
            if server is None:
                raise not_found("resource_server")
            if server.is_system:
                raise _system_is_read_only()
            conn.execute("DELETE FROM resource_servers WHERE id = ?", (server.id,))

    # -- clients ---------------------------------------------------------

    def add_client(self, client: Client) -> Client:
        with self.db.write() as conn:
            if self.client(client.client_id) is not None:
                raise conflict("A client with the same client_id already exists.")
            conn.execute(
                "INSERT INTO clients (client_id, name, description, app_type, secret_hash,"
                " settings) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    client.client_id,
                    client.name,
                    client.description,
                    client.app_type,
                    client.secret_hash,
                    json.dumps(client.settings),
                ),
            )
        return client

    def update_client(self, client_id: str, changes: ClientChanges) -> Client:
        """Apply ``changes`` to a client (404 if there is none)."""
        with self.db.write() as conn:
            client = self.client(client_id)
            if client is None:
                raise not_found("client")
            client = replace(
                client,
                name=client.name if changes.name is None else changes.name,
                description=(
                    client.description if changes.description is None else changes.description
                ),
                settings={**client.settings, **(changes.settings or {})},
            )
            conn.execute(
                "UPDATE clients SET name = ?, description = ?, settings = ? WHERE client_id = ?",
                (client.name, client.description, json.dumps(client.settings), client_id),
            )
        return client

    def set_client_secret(self, client_id: str, secret_hash: str) -> None:
        with self.db.write() as conn:
            updated = conn.execute(
                "UPDATE clients SET secret_hash = ? WHERE client_id = ?", (secret_hash, client_id)
            )
            if updated.rowcount == 0:
                raise not_found("client")

    def client(self, client_id: str) -> Client | None:
        with self.db.read() as conn:
            row = conn.execute("SELECT * FROM clients WHERE client_id = ?", (client_id,)).fetchone()
        return None if row is None else client_from_row(row)

    def token_lookup(
        self, client_id: str, audience: str
    ) -> tuple[Client | None, ClientGrant | None, ResourceServer | None]:
        """What a token request needs, in one read transaction: the client, its grant
        for the API ``audience`` and that API (each None when there is none)."""
        with self.db.read() as conn:
            row = conn.execute("SELECT * FROM clients WHERE client_id = ?", (client_id,)).fetchone()
            client = None if row is None else client_from_row(row)
            server_row = conn.execute(
                "SELECT * FROM resource_servers WHERE identifier = ?", (audience,)
            ).fetchone()
            server = None if server_row is None else server_from_row(server_row)
            grant = None
            if client is not None and server is not None:
                grant_row = conn.execute(
                    f"{GRANT_SELECT} WHERE g.client_id = ? AND g.resource_server_id = ?",
                    (client_id, server.id),
                ).fetchone()
                grant = None if grant_row is None else grant_from_row(grant_row)
        return client, grant, server

    def rehash_client_secret(self, client_id: str, old_hash: str, new_hash: str) -> None:
        """Replace ``old_hash`` by ``new_hash``, unless the secret changed meanwhile."""
        with self.db.write() as conn:
            conn.execute(
                "UPDATE clients SET secret_hash = ? WHERE client_id = ? AND secret_hash = ?",
                (new_hash, client_id, old_hash),
            )

    def clients(
        self,
        page: Page,
        *,
        app_types: Sequence[str] = (),
        is_first_party: bool | None = None,
        none: bool = False,
    ) -> tuple[list[Client], int]:
        """One page of the clients, oldest first, filtered; and how many match in all.

        ``app_types`` keeps clients of those types; ``is_first_party`` those whose
        flag is that (unset counts as true, Auth0's default); ``none`` matches none
        (a filter no client here can pass, such as ``is_global=true``).
        """
        clauses = ["1 = 0"] if none else []
        params: list[object] = []
        if app_types:
            clauses.append(f"app_type IN ({', '.join('?' * len(app_types))})")
            params.extend(app_types)
        if is_first_party is not None:
            clauses.append("COALESCE(json_extract(settings, '$.is_first_party'), 1) = ?")
            params.append(int(is_first_party))
        where = " WHERE " + " AND ".join(clauses) if clauses else ""
        # Built from constant fragments only; every value is a bound parameter.
        select = f"SELECT * FROM clients{where}"  # noqa: S608
        with self.db.read() as conn:
            rows = conn.execute(
                f"{select} ORDER BY rowid LIMIT ? OFFSET ?", (*params, page.size, page.offset)
            ).fetchall()
            count = conn.execute(f"SELECT COUNT(*) FROM ({select})", params)  # noqa: S608
            total: int = count.fetchone()[0]
        return [client_from_row(row) for row in rows], total

    def delete_client(self, client_id: str) -> None:
        """Delete a client and, with it, every grant it holds."""
        with self.db.write() as conn:
            if conn.execute("DELETE FROM clients WHERE client_id = ?", (client_id,)).rowcount == 0:
                raise not_found("client")

    # -- metadata --------------------------------------------------------

    def metadata(self, key: str) -> str | None:
        with self.db.read() as conn:
            row = conn.execute("SELECT value FROM metadata WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row["value"])

    def set_metadata(self, key: str, value: str) -> None:
        with self.db.write() as conn:
            conn.execute(
                "INSERT INTO metadata (key, value) VALUES (?, ?)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )
