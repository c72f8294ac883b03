"""Identifiers and secrets: generated with :mod:`secrets`, client secrets stored hashed.

Client secrets are hashed with scrypt and a random salt; the stored form names
its parameters (``scrypt$n$r$p$salt$hash``), so the cost can be raised later
without breaking stored secrets. Verification compares in constant time and
costs the same for an unknown client as for a wrong secret.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import secrets
import string

__all__ = [
    "MAX_SECRET_LENGTH",
    "dummy_hash",
    "hash_secret",
    "new_client_id",
    "new_client_secret",
    "new_grant_id",
    "new_resource_server_id",
    "new_signing_secret",
    "verify_secret",
]

_ALPHANUMERIC = string.ascii_letters + string.digits
# scrypt cost: 16 MiB and about 50-100 ms a hash. The secrets we issue carry 384
# bits of entropy, so this guards secrets given by an operator, not ours.
_N, _R, _P = 2**14, 8, 1
_SALT_BYTES = 16
_HASH_BYTES = 32
_MAX_MEMORY = 64 * 1024 * 1024
# Beyond any secret we accept; refused before hashing so a huge input costs nothing.
MAX_SECRET_LENGTH = 512


def _random_string(length: int) -> str:
    return "".join(secrets.choice(_ALPHANUMERIC) for _ in range(length))


def new_resource_server_id() -> str:
    """24 hex characters, like an Auth0 resource server ``id``."""
    return secrets.token_hex(12)


def new_client_id() -> str:
    """32 letters and digits, like an Auth0 ``client_id``."""
    return _random_string(32)


def new_client_secret() -> str:
    """64 URL-safe characters (48 random bytes)."""
    return secrets.token_urlsafe(48)


def new_grant_id() -> str:
    """``cgr_`` and 16 letters and digits, like an Auth0 client grant ``id``."""
    return "cgr_" + _random_string(16)


def new_signing_secret() -> str:
    """An HS256 key: 64 URL-safe characters from 48 random bytes (RFC 7518 §3.2 asks 32)."""
    return secrets.token_urlsafe(48)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _scrypt(secret: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        secret.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=_MAX_MEMORY, dklen=_HASH_BYTES
    )


def hash_secret(secret: str) -> str:
    """The stored form of ``secret``: ``scrypt$n$r$p$salt$hash`` (base64 parts)."""
    salt = secrets.token_bytes(_SALT_BYTES)
    digest = _scrypt(secret, salt, _N, _R, _P)
    return f"scrypt${_N}${_R}${_P}${_b64(salt)}${_b64(digest)}"


@functools.cache
def dummy_hash() -> str:
    """A hash no secret matches: what an unknown client's secret is checked against."""
    return hash_secret(secrets.token_urlsafe(32))


def verify_secret(secret: str, stored: str) -> bool:
    """True when ``secret`` hashes to ``stored``; compared in constant time.

    Pass :func:`dummy_hash` for an unknown client so that the answer takes
    as long as for a known one.
    """
    if len(secret) > MAX_SECRET_LENGTH:
        return False
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest, validate=True)
        actual = _scrypt(secret, base64.b64decode(salt, validate=True), int(n), int(r), int(p))
    except ValueError:  # a malformed stored hash, or a secret that is not valid text
        return False
    return hmac.compare_digest(actual, expected)
