"""The ``client_grants`` table: which client may get tokens for which API, with which scopes.

One grant per (client, API), enforced by a UNIQUE constraint and checked
inside the write transaction, so racing creations give one grant and 409s.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from scopegate.authserver.credentials import new_grant_id
from scopegate.authserver.errors import ManagementApiError, conflict, not_found, safe_text
from scopegate.authserver.storage.database import Database
from scopegate.authserver.storage.records import ClientGrant, Page, ResourceServer
from scopegate.authserver.storage.rows import (
    GRANT_SELECT,
    find_server,
    grant_from_row,
    server_from_row,
)


def check_grantable(
    server: ResourceServer, scope: Sequence[str], caller_scopes: frozenset[str] | None
) -> None:
    """400 unless the API defines every scope in ``scope``; 403 if it is the Management
    API and ``caller_scopes`` (the calling token's, when given) lack one of them.

    Without the second rule a token holding only ``create:client_grants`` could
    grant itself every Management API scope, and ``update:client_grants`` could
    widen its own grant: delegation never hands out more than the delegator holds.
    """
    defined = set(server.scope_values)
    for value in scope:
        if value not in defined:
            raise ManagementApiError(
                400,
                "invalid_scope",
                f"The scope '{value}' is not defined by the resource server '{server.identifier}'.",
            )
    if server.is_system and caller_scopes is not None:
        lacking = [value for value in scope if value not in caller_scopes]
        if lacking:
            raise ManagementApiError(
                403,
                "insufficient_scope",
                "A grant for the Management API may carry only scopes the calling token "
                f"holds; it lacks: {safe_text(' '.join(lacking), 400)}",
            )


def prune_grants(conn: sqlite3.Connection, server: ResourceServer) -> None:
    """Drop from the grants for ``server`` the scopes it no longer defines.

    Grants keep within their API's scopes: a scope removed from the API is
    removed from its grants too, so adding it back later grants it to no one.
    """
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


def _filter(audience: str | None, client_id: str | None, none: bool) -> tuple[str, tuple[Any, ...]]:
    clauses, params = ["1 = 0"] if none else [], []
    if audience is not None:
        clauses.append("r.identifier = ?")
        params.append(audience)
    if client_id is not None:
        clauses.append("g.client_id = ?")
        params.append(client_id)
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), tuple(params)


class GrantTable:
    """The ``client_grants`` table; every method is one transaction."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def add(
        self,
        client_id: str,
        audience: str,
        scope: Sequence[str],
        caller_scopes: frozenset[str] | None = None,
    ) -> ClientGrant:
        """Grant ``client_id`` the ``scope`` of the API ``audience`` (404, 400, 403 or 409
        if not; see :func:`check_grantable` for ``caller_scopes``)."""
        with self.db.write() as conn:
            client = conn.execute("SELECT 1 FROM clients WHERE client_id = ?", (client_id,))
            if client.fetchone() is None:
                raise not_found("client")
            row = conn.execute(
                "SELECT * FROM resource_servers WHERE identifier = ?", (audience,)
            ).fetchone()
            if row is None:
                raise not_found("resource_server")
            server = server_from_row(row)
            check_grantable(server, scope, caller_scopes)
            existing = conn.execute(
                "SELECT 1 FROM client_grants WHERE client_id = ? AND resource_server_id = ?",
                (client_id, server.id),
            )
            if existing.fetchone() is not None:
                raise conflict("A client grant for this client_id and audience already exists.")
            grant = ClientGrant(new_grant_id(), client_id, audience, tuple(scope))
            conn.execute(
                "INSERT INTO client_grants (id, client_id, resource_server_id, scope)"
                " VALUES (?, ?, ?, ?)",
                (grant.id, client_id, server.id, json.dumps(list(scope))),
            )
        return grant

    def search(
        self,
        page: Page,
        *,
        audience: str | None = None,
        client_id: str | None = None,
        none: bool = False,
    ) -> tuple[list[ClientGrant], int]:
        """One page of the grants, filtered; and how many match in all.

        ``none`` matches no grant: a filter none here can pass, such as
        ``allow_any_organization=true``.
        """
        # Built from constant fragments only; every value is a bound parameter.
        where, params = _filter(audience, client_id, none)
        select = f"{GRANT_SELECT}{where}"
        rows, count = self.db.page(select, params, "g.rowid", page.size, page.offset)
        return [grant_from_row(row) for row in rows], count

    def checkpoint(
        self,
        start: str | None,
        take: int,
        *,
        audience: str | None = None,
        client_id: str | None = None,
        none: bool = False,
    ) -> tuple[list[ClientGrant], str | None]:
        """Up to ``take`` grants from the one with id ``start`` on (the first, if None),
        filtered; and the id the next page starts at (None after the last).

        An unknown ``start`` gives an empty page.
        """
        where, params = _filter(audience, client_id, none)
        if start is not None:
            where += " AND " if where else " WHERE "
            where += "g.rowid >= (SELECT rowid FROM client_grants WHERE id = ?)"
            params = (*params, start)
        with self.db.read() as conn:
            rows = conn.execute(
                f"{GRANT_SELECT}{where} ORDER BY g.rowid LIMIT ?", (*params, take + 1)
            ).fetchall()
        grants = [grant_from_row(row) for row in rows]
        return grants[:take], grants[take].id if len(grants) > take else None

    def get(self, grant_id: str) -> ClientGrant:
        """The grant with this id (404 if there is none)."""
        with self.db.read() as conn:
            return self._get(conn, grant_id)

    def find(self, client_id: str, audience: str) -> tuple[ClientGrant, ResourceServer] | None:
        """The grant of ``client_id`` for the API ``audience``, and that API."""
        with self.db.read() as conn:
            row = conn.execute(
                f"{GRANT_SELECT} WHERE g.client_id = ? AND r.identifier = ?",
                (client_id, audience),
            ).fetchone()
            server = find_server(conn, audience)
        if row is None or server is None:
            return None
        return grant_from_row(row), server

    def update(
        self, grant_id: str, scope: Sequence[str], caller_scopes: frozenset[str] | None = None
    ) -> ClientGrant:
        """Replace the scopes of a grant (404 if there is none; 400 for an undefined scope,
        403 for one the caller may not delegate: :func:`check_grantable`)."""
        with self.db.write() as conn:
            grant = self._get(conn, grant_id)
            server = find_server(conn, grant.audience)
            if server is None:  # unreachable: the grant's row joined its API
                raise not_found("resource_server")
            check_grantable(server, scope, caller_scopes)
            conn.execute(
                "UPDATE client_grants SET scope = ? WHERE id = ?",
                (json.dumps(list(scope)), grant_id),
            )
        return replace(grant, scope=tuple(scope))

    def ensure(self, client_id: str, audience: str, scope: Sequence[str]) -> None:
        """Create the grant, or set its scopes if it exists (the bootstrap's upsert)."""
        with self.db.write():
            found = self.find(client_id, audience)
            if found is None:
                self.add(client_id, audience, scope)
            else:
                self.update(found[0].id, scope)

    def prune_all(self) -> None:
        """:func:`prune_grants` for every API (a database written before pruning existed)."""
        with self.db.write() as conn:
            for row in conn.execute("SELECT * FROM resource_servers").fetchall():
                prune_grants(conn, server_from_row(row))

    def delete(self, grant_id: str) -> None:
        with self.db.write() as conn:
            if conn.execute("DELETE FROM client_grants WHERE id = ?", (grant_id,)).rowcount == 0:
                raise not_found("client_grant")

    @staticmethod
    def _get(conn: sqlite3.Connection, grant_id: str) -> ClientGrant:
        row = conn.execute(f"{GRANT_SELECT} WHERE g.id = ?", (grant_id,)).fetchone()
        if row is None:
            raise not_found("client_grant")
        return grant_from_row(row)
