"""The SQLite connection: schema, and transactions that nest.

One connection, shared by every thread and guarded by a lock, so ``:memory:``
works across uvicorn's worker threads and requests of this process never
interleave inside a transaction. Writes start with ``BEGIN IMMEDIATE``, which
takes SQLite's write lock up front: a check-then-insert inside one write
transaction cannot race with another process using the same file either.

The file holds every signing secret and the private signing keys: it is
created readable by its owner only (0600, which SQLite copies to the ``-wal``
and ``-shm`` files), in a folder created 0700 when it is missing (one level,
whose parent exists); an existing file that others can read is tightened. Each
process using the file holds a shared lock on ``FILE.lock`` while it is open;
:meth:`Database.only_user` tells whether it is alone, so one instance never
moves what another serves.
"""

from __future__ import annotations

import os
import sqlite3
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from scopegate.errors import ConfigurationError

MEMORY = ":memory:"
_FILE_MODE = 0o600
_FOLDER_MODE = 0o700
_COMPANIONS = ("", "-wal", "-shm", "-journal")
SCHEMA_VERSION = 4
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
    is_system INTEGER NOT NULL DEFAULT 0,
    settings TEXT NOT NULL DEFAULT '{}',
    proof_of_possession TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS resource_servers_one_system
    ON resource_servers (is_system) WHERE is_system = 1;
CREATE TABLE IF NOT EXISTS clients (
    client_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    description TEXT,
    app_type TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    settings TEXT NOT NULL DEFAULT '{}'
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
CREATE TABLE IF NOT EXISTS signing_keys (
    kid TEXT PRIMARY KEY,
    private_key TEXT NOT NULL,
    cert TEXT NOT NULL,
    created_at TEXT NOT NULL,
    current_since TEXT,
    current_until TEXT,
    revoked_at TEXT
);
"""

# What takes a database written by version N to N + 1: a new table is one more
# CREATE in _SCHEMA (and here, for older files), a new column an ALTER here.
_MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: (
        "ALTER TABLE resource_servers ADD COLUMN settings TEXT NOT NULL DEFAULT '{}'",
        "ALTER TABLE clients ADD COLUMN settings TEXT NOT NULL DEFAULT '{}'",
    ),
    # 2 -> 3: the signing_keys table, created by _SCHEMA; the bootstrap makes the keys.
    2: (),
    # 3 -> 4: an API's sender-constraining policy (Auth0's proof_of_possession, as JSON;
    # NULL: none). A column of its own, not part of `settings`: the token endpoint acts on it.
    3: ("ALTER TABLE resource_servers ADD COLUMN proof_of_possession TEXT",),
}


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
        self._instance_fd: int | None = None
        if path != MEMORY:
            self._prepare_file(path)
        try:
            # isolation_level=None: no implicit transactions; every one is explicit below.
            self._conn = sqlite3.connect(
                path, timeout=BUSY_TIMEOUT, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            self._release()
            raise ConfigurationError(f"db: cannot open {path}: {exc}") from exc
        try:
            self._setup()
        except BaseException:
            self.close()
            raise

    def _prepare_file(self, path: str) -> None:
        """Owner-only folder (when created here) and files; the shared instance lock."""
        try:
            folder = os.path.dirname(os.path.abspath(path))
            if not os.path.isdir(folder):
                # One level, like mkdir: a mistyped path deeper down is an error, not a tree.
                os.mkdir(folder, _FOLDER_MODE)
                os.chmod(folder, _FOLDER_MODE)  # mkdir's mode is subject to the umask
            fd = os.open(path, os.O_RDWR | os.O_CREAT, _FILE_MODE)
            os.close(fd)
            for suffix in _COMPANIONS:
                _tighten(path + suffix)
            self._instance_fd = _lock_instance(path + ".lock")
        except OSError as exc:
            raise ConfigurationError(f"db: cannot open {path}: {exc.strerror}") from exc

    def only_user(self) -> bool:
        """True when no other process has this database open (always, for ``:memory:``).

        While True, it stays so until :meth:`shared` is called: other processes
        wait at start-up.
        """
        if self._instance_fd is None or sys.platform == "win32":
            return True
        import fcntl

        try:
            fcntl.flock(self._instance_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def shared(self) -> None:
        """Let other processes open the database again (after :meth:`only_user`)."""
        if self._instance_fd is not None and sys.platform != "win32":
            import fcntl

            fcntl.flock(self._instance_fd, fcntl.LOCK_SH)

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
                # A new file (version 0) gets the whole schema below; an older one, its
                # migrations first.
                for from_version in range(version or SCHEMA_VERSION, SCHEMA_VERSION):
                    for statement in _MIGRATIONS[from_version]:
                        conn.execute(statement)
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

    def page(
        self, select: str, params: Sequence[Any], order: str, size: int, offset: int
    ) -> tuple[list[sqlite3.Row], int]:
        """One page of ``select`` (ordered by ``order``) and how many rows match in all.

        One read transaction, so the page and the total agree. ``select`` is built
        from constant fragments by the caller; every value is a bound parameter.
        """
        with self.read() as conn:
            rows = conn.execute(
                f"{select} ORDER BY {order} LIMIT ? OFFSET ?", (*params, size, offset)
            ).fetchall()
            total: int = conn.execute(
                f"SELECT COUNT(*) FROM ({select})",  # noqa: S608
                tuple(params),
            ).fetchone()[0]
        return rows, total

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
            self._release()

    def _release(self) -> None:
        if self._instance_fd is not None:
            os.close(self._instance_fd)  # releases the instance lock
            self._instance_fd = None


def _tighten(path: str) -> None:
    """Make an existing file of ours owner-only; a missing one is fine."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return
    if info.st_mode & 0o077 and info.st_uid == os.getuid():
        os.chmod(path, _FILE_MODE)


def _lock_instance(path: str) -> int | None:
    """Open ``path`` (0600) and hold a shared lock on it: this process uses the database."""
    if sys.platform == "win32":
        return None
    import fcntl

    fd = os.open(path, os.O_RDWR | os.O_CREAT, _FILE_MODE)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)
    except BaseException:
        os.close(fd)
        raise
    return fd
