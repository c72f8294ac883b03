"""The verified-token cache: a token is paid for once, not on every request.

A client-credentials token is reused for its whole lifetime, so almost every
request carries a token this process has already verified. Entries are keyed
by the exact token string, bounded in number, and never outlive the token's
``exp`` (plus leeway) nor ``max_age``: a hit is checked against the same clock
as a fresh verification, so a cached token expires on time to the second.
Only successes are cached. Each :class:`~scopegate.verifier.TokenVerifier`
owns its cache, so a token is never accepted under settings other than those
it was verified with.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from cachetools import TLRUCache

from scopegate.token import AccessToken

__all__ = ["TokenCache"]


class TokenCache:
    """A bounded, thread-safe map from token string to its verified :class:`AccessToken`.

    Args:
        maxsize: the most tokens kept; the soonest to expire are evicted first.
        max_age: seconds an entry may live, whatever its ``exp``.
        leeway: seconds past ``exp`` a token stays acceptable (the verifier's leeway).
        clock: the time source (seconds since the epoch), shared with the verifier.
    """

    def __init__(
        self, maxsize: int, max_age: float, leeway: float, clock: Callable[[], float]
    ) -> None:
        self.max_age = max_age
        self.leeway = leeway
        self._entries: TLRUCache[str, AccessToken] = TLRUCache(
            maxsize=maxsize, ttu=self._expiry, timer=clock
        )
        # cachetools caches are not thread-safe; the lock is held for O(1) work, never for I/O.
        self._lock = threading.Lock()

    def _expiry(self, _token: str, access: AccessToken, now: float) -> float:
        return min(now + self.max_age, access.expires_at.timestamp() + self.leeway)

    def get(self, token: str) -> AccessToken | None:
        """The cached token, or None when absent or expired."""
        with self._lock:
            return self._entries.get(token)

    def put(self, token: str, access: AccessToken) -> None:
        """Remember a verified token until it expires or ages out."""
        with self._lock:
            self._entries[token] = access

    def clear(self) -> None:
        """Forget every entry."""
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)
