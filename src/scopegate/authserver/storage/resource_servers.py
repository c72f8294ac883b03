"""The ``resource_servers`` table: the APIs, the Management API's own among them.

Every method is one transaction (several nest inside ``with db.write():`` as
one). Checks that guard a write (the identifier is free, the API is not the
system one) run inside the write transaction, so concurrent requests cannot
slip between check and write.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace

from scopegate.authserver.errors import ManagementApiError, conflict, not_found
from scopegate.authserver.storage.database import Database
from scopegate.authserver.storage.grants import prune_grants
from scopegate.authserver.storage.records import Page, ResourceServer, ResourceServerChanges
from scopegate.authserver.storage.rows import find_server, pop_json, scopes_json, server_from_row


def _system_is_read_only() -> ManagementApiError:
    return ManagementApiError(
        400, "operation_not_supported", "The Management API resource server cannot be changed."
    )


class ResourceServerTable:
    """The APIs; every method is one transaction."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def get(self, key: str) -> ResourceServer | None:
        """The resource server whose ``id`` or ``identifier`` is ``key``."""
        with self.db.read() as conn:
            return find_server(conn, key)

    def system(self) -> ResourceServer | None:
        """The Management API's own resource server, once bootstrapped."""
        with self.db.read() as conn:
            row = conn.execute("SELECT * FROM resource_servers WHERE is_system = 1").fetchone()
        return None if row is None else server_from_row(row)

    def add(self, server: ResourceServer) -> ResourceServer:
        """Insert ``server``; 409 if its identifier is taken."""
        with self.db.write() as conn:
            if find_server(conn, server.identifier) is not None:
                raise conflict("A resource server with the same identifier already exists.")
            conn.execute(
                "INSERT INTO resource_servers (id, identifier, name, signing_alg, signing_secret,"
                " token_lifetime, scopes, is_system, settings, proof_of_possession)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
                    pop_json(server.proof_of_possession),
                ),
            )
        return server

    def list(self, page: Page, identifiers: Sequence[str] = ()) -> tuple[list[ResourceServer], int]:
        """One page of the resource servers, oldest first, only those with one of
        ``identifiers`` if given; and how many match in all."""
        where, params = "", tuple[str, ...]()
        if identifiers:
            where = f" WHERE identifier IN ({', '.join('?' * len(identifiers))})"
            params = tuple(identifiers)
        # Built from constant fragments only; every value is a bound parameter.
        select = f"SELECT * FROM resource_servers{where}"  # noqa: S608
        rows, total = self.db.page(select, params, "rowid", page.size, page.offset)
        return [server_from_row(row) for row in rows], total

    def update(
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
                if name != "remove_proof_of_possession"
                and (value := getattr(changes, name)) is not None
            }
            updates["settings"] = {**server.settings, **(changes.settings or {})}
            if changes.remove_proof_of_possession:
                updates["proof_of_possession"] = None
            server = replace(server, **updates)
            conn.execute(
                "UPDATE resource_servers SET name = ?, scopes = ?, token_lifetime = ?,"
                " signing_secret = ?, signing_alg = ?, settings = ?, proof_of_possession = ?"
                " WHERE id = ?",
                (
                    server.name,
                    scopes_json(server.scopes),
                    server.token_lifetime,
                    server.signing_secret,
                    server.signing_alg,
                    json.dumps(server.settings),
                    pop_json(server.proof_of_possession),
                    server.id,
                ),
            )
            if changes.scopes is not None:
                prune_grants(conn, server)
        return server

    def move_system(self, identifier: str) -> ResourceServer:
        """Give the Management API a new identifier (the base URL changed); its grants follow."""
        with self.db.write() as conn:
            system = self.system()
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

    def delete(self, key: str) -> None:
        """Delete an API and, with it, every grant for it."""
        with self.db.write() as conn:
            server = find_server(conn, key)
            if server is None:
                raise not_found("resource_server")
            if server.is_system:
                raise _system_is_read_only()
            conn.execute("DELETE FROM resource_servers WHERE id = ?", (server.id,))
