"""Server-provided DPoP nonces (RFC 9449 §9), stateless.

A nonce is ``base64url(HMAC-SHA256(secret, period index))``: every worker that
holds the same secret computes the same nonce for the same period, so nothing
is stored or shared but the secret. The current nonce and the previous one are
accepted, so a nonce handed out just before a rotation still works for one
more period; anything older is refused.

Why our own code: no library the field trusts offers stateless DPoP nonces;
this is a few lines over :mod:`hmac` from the standard library.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import secrets
import time
from collections.abc import Callable

__all__ = ["NonceSource"]


class NonceSource:
    """Rotating DPoP nonces: the current one and the previous one are valid.

    Args:
        secret: the HMAC key. Workers and replicas behind one URL must share it;
            None draws a random one for this process only.
        period: seconds between rotations.
        clock: the time source (seconds since the epoch).

    Example::

        nonces = NonceSource(secret=b"shared by every worker", period=300)
        nonce = nonces.current()  # sent in the DPoP-Nonce header
        assert nonces.is_valid(nonce)
    """

    def __init__(
        self,
        *,
        secret: bytes | None = None,
        period: float = 300,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if secret is not None and not secret:
            raise ValueError("the nonce secret must not be empty")
        if not (isinstance(period, int | float) and math.isfinite(period) and period > 0):
            raise ValueError("the nonce period must be a positive number of seconds")
        self._secret = secrets.token_bytes(32) if secret is None else bytes(secret)
        self.period = float(period)
        self._clock = clock
        self._cache: tuple[int, str, str] | None = None

    def __repr__(self) -> str:
        return f"NonceSource(period={self.period!r})"  # never the secret

    def _nonce(self, index: int) -> str:
        digest = hmac.new(
            self._secret, index.to_bytes(8, "big", signed=True), hashlib.sha256
        ).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")

    def _pair(self) -> tuple[str, str]:
        """The current and the previous nonce, computed once per period."""
        index = math.floor(self._clock() / self.period)
        cached = self._cache
        if cached is None or cached[0] != index:
            cached = (index, self._nonce(index), self._nonce(index - 1))
            self._cache = cached
        return cached[1], cached[2]

    def current(self) -> str:
        """The nonce to hand out now (header-safe: the base64url alphabet)."""
        return self._pair()[0]

    def is_valid(self, nonce: object) -> bool:
        """True for the current or the previous period's nonce, in constant time."""
        if not isinstance(nonce, str) or not nonce.isascii():
            return False
        current, previous = self._pair()
        given = nonce.encode("ascii")
        # Both compared, always: no early exit that times which one matched.
        return hmac.compare_digest(given, current.encode("ascii")) | hmac.compare_digest(
            given, previous.encode("ascii")
        )
