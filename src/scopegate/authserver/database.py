"""The SQLite connection: schema, and transactions that nest.

One connection, shared by every thread and guarded by a lock, so ``:memory:``
works across uvicorn's worker threads and requests of this process never
interleave inside a transaction. Writes start with ``BEGIN IMMEDIATE``, which
takes SQLite's write lock up front: a check-then-insert inside one write
transaction cannot race with another process using the same file either.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from scopegate.errors import ConfigurationError

__all__ = ["MEMORY", "Database"]

MEMORY = ":memory:"
SCHEMA_VERSION = 1
# Seconds a write waits for another process's write lock before giving up (a 503).
BUSY_TIMEOUT = 10.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS resource_servers (
    id TEXT PRIMARY KEY,
    identifier TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    signing_alg TEXT NOT NULL,
    signing_secret TEXT NOT NULL,
    token_lifetime INTEGER NOT NULL,
    scopes TEXT NOT NULL,
    is_system INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX IF NOT EXISTS resource_servers_one_system
    ON resource_servers (is_system) WHERE is_system = 1;
CREATE TABLE IF NOT EXISTS clients (
    client_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    description TEXT,
    app_type TEXT NOT NULL,
    secret_hash TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS client_grants (
    id TEXT PRIMARY KEY,
    client_id TEXT NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
    resource_server_id TEXT NOT NULL REFERENCES resource_servers (id) ON DELETE CASCADE,
    scope TEXT NOT NULL,
    UNIQUE (client_id, resource_server_id)
);
CREATE INDEX IF NOT EXISTS client_grants_by_resource_server
    ON client_grants (resource_server_id);
CREATE TABLE IF NOT EXISTS metadata (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""


class Database:
    """A SQLite file (or ``:memory:``) with nested, lock-guarded transactions.

    Args:
        path: the database file, created when missing, or ``":memory:"``.

    Raises:
        ConfigurationError: the file cannot be opened or holds a newer schema.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._lock = threading.RLock()
        self._depth = 0
        try:
            # isolation_level=None: no implicit transactions; every one is explicit below.
            self._conn = sqlite3.connect(
                path, timeout=BUSY_TIMEOUT, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise ConfigurationError(f"db: cannot open {path}: {exc}") from exc
        try:
            self._setup()
        except BaseException:
            self._conn.close()
            raise

    def _setup(self) -> None:
        self._conn.row_factory = sqlite3.Row
        try:
            self._conn.execute("PRAGMA foreign_keys = ON")
            if self.path != MEMORY:
                self._conn.execute("PRAGMA journal_mode = WAL")
            with self.write() as conn:
                version = conn.execute("PRAGMA user_version").fetchone()[0]
                if version > SCHEMA_VERSION:
                    raise ConfigurationError(
                        f"db: {self.path} holds schema version {version}; this scopegate "
                        f"knows {SCHEMA_VERSION}. Upgrade scopegate to open it."
                    )
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        except sqlite3.Error as exc:  # not a database, read-only, locked for too long...
            raise ConfigurationError(f"db: cannot use {self.path}: {exc}") from exc

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction; inside another transaction, part of it.

        Any exception rolls the outermost transaction back, so a request never
        leaves a partial write behind.
        """
        with self._transaction("BEGIN IMMEDIATE") as conn:
            yield conn

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A read transaction: one consistent snapshot for several queries."""
        with self._transaction("BEGIN") as conn:
            yield conn

    @contextmanager
    def _transaction(self, begin: str) -> Iterator[sqlite3.Connection]:
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield self._conn
                finally:
                    self._depth -= 1
                return
            self._conn.execute(begin)
            self._depth = 1
            try:
                yield self._conn
                self._conn.execute("COMMIT")
            except BaseException:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise
            finally:
                self._depth = 0

    def close(self) -> None:
        with self._lock:
            self._conn.close()
