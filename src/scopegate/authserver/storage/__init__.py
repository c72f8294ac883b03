"""Storage: the authorization server's data in SQLite, one class per table.

::

    Store
    ├── db                Database: the connection, schema and transactions
    ├── resource_servers  ResourceServerTable (the APIs)
    ├── clients           ClientTable
    ├── grants            GrantTable (client grants)
    ├── signing_keys      SigningKeyTable (the RS256 key pairs)
    └── metadata          MetadataTable

Every table method is one transaction: it happens completely or not at all,
and several calls nest inside ``with store.db.write():`` as one. Failures
raise the Management API's errors (404, 409, 400). A new table is one more
module here, one more attribute of :class:`Store`, and one more ``CREATE`` in
``database.py``.
"""

from __future__ import annotations

from scopegate.authserver.storage.clients import ClientTable
from scopegate.authserver.storage.database import Database
from scopegate.authserver.storage.grants import GrantTable
from scopegate.authserver.storage.metadata import MetadataTable
from scopegate.authserver.storage.records import Client, ClientGrant, ResourceServer
from scopegate.authserver.storage.resource_servers import ResourceServerTable
from scopegate.authserver.storage.rows import (
    GRANT_SELECT,
    client_from_row,
    grant_from_row,
    server_from_row,
)
from scopegate.authserver.storage.signing_keys import SigningKeyTable

__all__ = ["Store"]


class Store:
    """The authorization server's data, in a SQLite file or ``":memory:"``.

    Attributes:
        db: the connection and its transactions.
        resource_servers: the APIs.
        clients: the clients.
        grants: the client grants.
        signing_keys: the RS256 signing keys.
        metadata: what the server remembers about itself.
    """

    def __init__(self, path: str) -> None:
        self.db = Database(path)
        self.resource_servers = ResourceServerTable(self.db)
        self.clients = ClientTable(self.db)
        self.grants = GrantTable(self.db)
        self.signing_keys = SigningKeyTable(self.db)
        self.metadata = MetadataTable(self.db)

    def close(self) -> None:
        self.db.close()

    def token_lookup(
        self, client_id: str, audience: str
    ) -> tuple[Client | None, ClientGrant | None, ResourceServer | None]:
        """What a token request needs, in one read transaction: the client, its grant
        for the API ``audience`` and that API (each None when there is none)."""
        # The same three queries whether or not the client exists, so that the
        # time taken does not tell which client ids do.
        with self.db.read() as conn:
            row = conn.execute("SELECT * FROM clients WHERE client_id = ?", (client_id,)).fetchone()
            server_row = conn.execute(
                "SELECT * FROM resource_servers WHERE identifier = ?", (audience,)
            ).fetchone()
            grant_row = conn.execute(
                f"{GRANT_SELECT} WHERE g.client_id = ? AND r.identifier = ?", (client_id, audience)
            ).fetchone()
        client = None if row is None else client_from_row(row)
        server = None if server_row is None else server_from_row(server_row)
        grant = None if grant_row is None else grant_from_row(grant_row)
        return client, grant, server
