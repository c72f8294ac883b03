"""Identifiers and secrets: generated with :mod:`secrets`, client secrets stored as HMACs.

The client secrets this server generates carry 384 bits of entropy, so a slow
password hash buys nothing against guessing and costs every token request
tens of milliseconds of CPU and 16 MiB (an unauthenticated flood of token
requests used to saturate the machine). A secret is stored as
``hmac-sha256$salt$digest``: HMAC-SHA-256 keyed with a random salt, compared
in constant time, well under a millisecond. An unknown client is checked
against a dummy hash of the same scheme, so it costs what a wrong secret costs.

Databases written before kept scrypt hashes (``scrypt$n$r$p$salt$hash``);
they still verify (one at a time, so a flood aimed at such a client cannot
take more than one scrypt's memory) and :func:`needs_rehash` tells the token
endpoint to replace one with an HMAC after its first successful use.
Operator-given management secrets are stored the same way: give a random one.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import secrets
import string
import threading

_ALPHANUMERIC = string.ascii_letters + string.digits
SCHEME = "hmac-sha256"
LEGACY_SCHEME = "scrypt"
_SALT_BYTES = 16
# The legacy scrypt hashes: parameters come from the stored string, bounded here.
_MAX_MEMORY = 64 * 1024 * 1024
_LEGACY_LOCK = threading.Lock()
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
    """64 URL-safe characters (48 random bytes), never starting with ``-``.

    A secret is passed on command lines (``--client-secret SECRET``), where argparse
    would read a leading ``-`` as an option.
    """
    return _url_safe(48)


def new_grant_id() -> str:
    """``cgr_`` and 16 letters and digits, like an Auth0 client grant ``id``."""
    return "cgr_" + _random_string(16)


def new_signing_secret() -> str:
    """An HS256 key: 64 URL-safe characters from 48 random bytes (RFC 7518 §3.2 asks 32).

    Never starting with ``-``, like :func:`new_client_secret`.
    """
    return _url_safe(48)


def _url_safe(nbytes: int) -> str:
    """``secrets.token_urlsafe`` drawn again while it starts with ``-`` (1 draw in 64)."""
    while (value := secrets.token_urlsafe(nbytes)).startswith("-"):
        pass
    return value


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _hmac(secret: str, salt: bytes) -> bytes:
    return hmac.new(salt, secret.encode("utf-8"), hashlib.sha256).digest()


def hash_secret(secret: str) -> str:
    """The stored form of ``secret``: ``hmac-sha256$salt$digest`` (base64 parts)."""
    salt = secrets.token_bytes(_SALT_BYTES)
    return f"{SCHEME}${_b64(salt)}${_b64(_hmac(secret, salt))}"


@functools.cache
def dummy_hash() -> str:
    """A hash no secret matches: what an unknown client's secret is checked against."""
    return hash_secret(secrets.token_urlsafe(32))


def needs_rehash(stored: str) -> bool:
    """True for a hash in an older scheme, to be replaced once the secret is known."""
    return not stored.startswith(SCHEME + "$")


def _legacy_scrypt(secret: str, parts: list[str]) -> bool:
    n, r, p, salt, digest = parts
    expected = base64.b64decode(digest, validate=True)
    with _LEGACY_LOCK:
        actual = hashlib.scrypt(
            secret.encode("utf-8"),
            salt=base64.b64decode(salt, validate=True),
            n=int(n),
            r=int(r),
            p=int(p),
            maxmem=_MAX_MEMORY,
            dklen=len(expected),
        )
    return hmac.compare_digest(actual, expected)


def verify_secret(secret: str, stored: str) -> bool:
    """True when ``secret`` is the one ``stored`` was made from; compared in constant time.

    Pass :func:`dummy_hash` for an unknown client so that the answer takes
    as long as for a known one. Legacy scrypt hashes verify too (slowly).
    """
    if len(secret) > MAX_SECRET_LENGTH:
        return False
    scheme, _, rest = stored.partition("$")
    parts = rest.split("$")
    try:
        if scheme == SCHEME and len(parts) == 2:
            expected = base64.b64decode(parts[1], validate=True)
            actual = _hmac(secret, base64.b64decode(parts[0], validate=True))
            return hmac.compare_digest(actual, expected)
        if scheme == LEGACY_SCHEME and len(parts) == 5:
            return _legacy_scrypt(secret, parts)
    except ValueError:  # a malformed stored hash, or a secret that is not valid text
        return False
    return False
