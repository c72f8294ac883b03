"""The ``signing_keys`` table: the tenant's RS256 key pairs, private halves included.

There is always one current key (it signs) and one next key (made ahead, so
a rotation is one write). A rotation and a revocation are each one write
transaction, so two concurrent rotations cannot both promote the same key.
Keys are made with :func:`~scopegate.authserver.signing.new_key_material`
before the write lock is taken (RSA generation is slow) and handed in; a
method uses what it needs of them. The private keys stay in this file, which
the database creates readable by its owner only.
"""

from __future__ import annotations

import datetime
import sqlite3
from collections.abc import Sequence

from scopegate.authserver.errors import ManagementApiError, not_found
from scopegate.authserver.signing import KeyMaterial
from scopegate.authserver.storage.database import Database
from scopegate.authserver.storage.records import SigningKey
from scopegate.authserver.storage.rows import signing_key_from_row


def utc_now() -> str:
    """Now as Auth0 writes times: ISO 8601 UTC in milliseconds (``2026-12-01T22:31:00.000Z``)."""
    now = datetime.datetime.now(datetime.timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


_CURRENT = "current_since IS NOT NULL AND current_until IS NULL AND revoked_at IS NULL"
_NEXT = "current_since IS NULL AND revoked_at IS NULL"


class SigningKeyTable:
    """The signing keys, oldest first; every method is one transaction."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def published(self) -> list[SigningKey]:
        """The keys of the JWK Set: current, next and previous; never revoked ones."""
        with self.db.read() as conn:
            rows = conn.execute(
                "SELECT * FROM signing_keys WHERE revoked_at IS NULL ORDER BY rowid"
            ).fetchall()
        return [signing_key_from_row(row) for row in rows]

    def get(self, kid: str) -> SigningKey | None:
        with self.db.read() as conn:
            row = conn.execute("SELECT * FROM signing_keys WHERE kid = ?", (kid,)).fetchone()
        return None if row is None else signing_key_from_row(row)

    def current(self) -> SigningKey | None:
        """The key that signs RS256 tokens now (None only before the bootstrap)."""
        with self.db.read() as conn:
            row = conn.execute(f"SELECT * FROM signing_keys WHERE {_CURRENT}").fetchone()  # noqa: S608
        return None if row is None else signing_key_from_row(row)

    def missing(self) -> int:
        """How many new keys :meth:`ensure` needs: 2 for a new tenant, then 0."""
        with self.db.read() as conn:
            current = conn.execute(f"SELECT 1 FROM signing_keys WHERE {_CURRENT}").fetchone()  # noqa: S608
            upcoming = conn.execute(f"SELECT 1 FROM signing_keys WHERE {_NEXT}").fetchone()  # noqa: S608
        return (current is None) + (upcoming is None)

    def ensure(self, fresh: Sequence[KeyMaterial]) -> None:
        """Make sure there is a current and a next key, from ``fresh`` as needed."""
        supply = list(fresh)
        with self.db.write() as conn:
            if conn.execute(f"SELECT 1 FROM signing_keys WHERE {_CURRENT}").fetchone() is None:  # noqa: S608
                _promote_next(conn, supply, utc_now())
            if conn.execute(f"SELECT 1 FROM signing_keys WHERE {_NEXT}").fetchone() is None:  # noqa: S608
                _insert(conn, _take(supply))

    def rotate(self, fresh: KeyMaterial) -> SigningKey:
        """The next key becomes current, the current one previous, ``fresh`` the next.

        Returns:
            the new current key.
        """
        now = utc_now()
        supply = [fresh]
        with self.db.write() as conn:
            conn.execute(f"UPDATE signing_keys SET current_until = ? WHERE {_CURRENT}", (now,))  # noqa: S608
            kid = _promote_next(conn, supply, now)
            _insert(conn, _take(supply))
            row = conn.execute("SELECT * FROM signing_keys WHERE kid = ?", (kid,)).fetchone()
        return signing_key_from_row(row)

    def revoke(self, kid: str) -> SigningKey:
        """Take a previous key out of the JWK Set for good (again: no change).

        Raises:
            ManagementApiError: 404 for an unknown ``kid``; 400 for the current or
                the next key (rotate first, as on Auth0).
        """
        with self.db.write() as conn:
            row = conn.execute("SELECT * FROM signing_keys WHERE kid = ?", (kid,)).fetchone()
            if row is None:
                raise not_found("signing_key")
            key = signing_key_from_row(row)
            if key.current or key.next:
                which = "current" if key.current else "next"
                raise ManagementApiError(
                    400,
                    "operation_not_supported",
                    f"The {which} signing key cannot be revoked; rotate the keys first, "
                    "then revoke the previous key.",
                )
            if not key.revoked:
                conn.execute(
                    "UPDATE signing_keys SET revoked_at = ? WHERE kid = ?", (utc_now(), kid)
                )
                row = conn.execute("SELECT * FROM signing_keys WHERE kid = ?", (kid,)).fetchone()
        return signing_key_from_row(row)

    def list(self) -> list[SigningKey]:
        """Every key, revoked ones included (Auth0 lists them too)."""
        with self.db.read() as conn:
            rows = conn.execute("SELECT * FROM signing_keys ORDER BY rowid").fetchall()
        return [signing_key_from_row(row) for row in rows]


# -- inside a write transaction ------------------------------------------------


def _promote_next(conn: sqlite3.Connection, supply: list[KeyMaterial], now: str) -> str:
    """Make the next key (or, when there is none, one of ``supply``) current; its kid."""
    row = conn.execute(f"SELECT kid FROM signing_keys WHERE {_NEXT} ORDER BY rowid").fetchone()  # noqa: S608
    kid: str = row["kid"] if row is not None else _insert(conn, _take(supply))
    conn.execute("UPDATE signing_keys SET current_since = ? WHERE kid = ?", (now, kid))
    return kid


def _take(supply: list[KeyMaterial]) -> KeyMaterial:
    if not supply:
        raise ValueError("signing keys: not enough fresh keys were handed in")
    return supply.pop(0)


def _insert(conn: sqlite3.Connection, material: KeyMaterial) -> str:
    conn.execute(
        "INSERT INTO signing_keys (kid, private_key, cert, created_at) VALUES (?, ?, ?, ?)",
        (material.kid, material.private_pem, material.cert_pem, utc_now()),
    )
    return material.kid
