"""The ``clients`` table: machine-to-machine applications, with the hash of their secret.

Every method is one transaction (several nest inside ``with db.write():`` as one).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace

from scopegate.authserver.errors import conflict, not_found
from scopegate.authserver.storage.database import Database
from scopegate.authserver.storage.records import Client, ClientChanges, Page
from scopegate.authserver.storage.rows import client_from_row


class ClientTable:
    """The clients; every method is one transaction."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def get(self, client_id: str) -> Client | None:
        with self.db.read() as conn:
            row = conn.execute("SELECT * FROM clients WHERE client_id = ?", (client_id,)).fetchone()
        return None if row is None else client_from_row(row)

    def add(self, client: Client) -> Client:
        with self.db.write() as conn:
            if self.get(client.client_id) is not None:
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

    def update(self, client_id: str, changes: ClientChanges) -> Client:
        """Apply ``changes`` to a client (404 if there is none)."""
        with self.db.write() as conn:
            client = self.get(client_id)
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

    def set_secret(self, client_id: str, secret_hash: str) -> None:
        with self.db.write() as conn:
            updated = conn.execute(
                "UPDATE clients SET secret_hash = ? WHERE client_id = ?", (secret_hash, client_id)
            )
            if updated.rowcount == 0:
                raise not_found("client")

    def rehash_secret(self, client_id: str, old_hash: str, new_hash: str) -> None:
        """Replace ``old_hash`` by ``new_hash``, unless the secret changed meanwhile."""
        with self.db.write() as conn:
            conn.execute(
                "UPDATE clients SET secret_hash = ? WHERE client_id = ? AND secret_hash = ?",
                (new_hash, client_id, old_hash),
            )

    def list(
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
        rows, total = self.db.page(select, params, "rowid", page.size, page.offset)
        return [client_from_row(row) for row in rows], total

    def delete(self, client_id: str) -> None:
        """Delete a client and, with it, every grant it holds."""
        with self.db.write() as conn:
            if conn.execute("DELETE FROM clients WHERE client_id = ?", (client_id,)).rowcount == 0:
                raise not_found("client")
