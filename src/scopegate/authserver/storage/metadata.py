"""The ``metadata`` table: what the server remembers about itself (its management client)."""

from __future__ import annotations

from scopegate.authserver.storage.database import Database


# Same table shape as ClientTable (duplicates pairs them): one class a table, one
# transaction a method.
class MetadataTable:
    """Keys and values; every method is one transaction."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def get(self, key: str) -> str | None:
        with self.db.read() as conn:
            row = conn.execute("SELECT value FROM metadata WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row["value"])

    def set(self, key: str, value: str) -> None:
        with self.db.write() as conn:
            conn.execute(
                "INSERT INTO metadata (key, value) VALUES (?, ?)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )
