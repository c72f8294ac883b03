"""The verified-token cache: a token is paid for once, not on every request.

A client-credentials token is reused for its whole lifetime, so almost every
request carries a token this process has already verified. Entries are keyed
by the exact token string, bounded in number (least recently used go first),
and never outlive the token's ``exp`` (plus leeway) nor ``max_age``: a hit is
checked against the same clock as a fresh verification, so a cached token
expires on time to the second. Only successes are cached. Each
:class:`~scopegate.verifier.TokenVerifier` owns its cache, so a token is never
accepted under settings other than those it was verified with.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable

from scopegate.token import AccessToken

__all__ = ["TokenCache"]


class TokenCache:
    """A bounded, thread-safe LRU map from token string to its verified :class:`AccessToken`.

    A plain ``OrderedDict`` of ``token -> (access, deadline)`` under one lock:
    a hit is one lookup, one clock read and one move, which matters on a path
    every request takes (cachetools' time-aware cache costs about three times as much).

    Args:
        maxsize: the most tokens kept; the least recently used is dropped first.
        max_age: seconds an entry may live, whatever its ``exp``.
        leeway: seconds past ``exp`` a token stays acceptable (the verifier's leeway).
        clock: the time source (seconds since the epoch), shared with the verifier.
    """

    def __init__(
        self, maxsize: int, max_age: float, leeway: float, clock: Callable[[], float]
    ) -> None:
        if maxsize < 1:
            raise ValueError("maxsize must be at least 1")
        self.maxsize = maxsize
        self.max_age = max_age
        self.leeway = leeway
        self._clock = clock
        self._entries: OrderedDict[str, tuple[AccessToken, float]] = OrderedDict()
        # The lock is held for O(1) work and never across I/O, so async callers don't block.
        self._lock = threading.Lock()

    def get(self, token: str) -> AccessToken | None:
        """The cached token, or None when absent or past its deadline."""
        with self._lock:
            entry = self._entries.get(token)
            if entry is None:
                return None
            if self._clock() < entry[1]:
                self._entries.move_to_end(token)
                return entry[0]
            del self._entries[token]
            return None

    def put(self, token: str, access: AccessToken) -> None:
        """Remember a verified token until it expires or ages out."""
        now = self._clock()
        deadline = min(now + self.max_age, access.expires_at.timestamp() + self.leeway)
        if now >= deadline:
            return
        with self._lock:
            entries = self._entries
            entries[token] = (access, deadline)
            entries.move_to_end(token)
            while len(entries) > self.maxsize:
                entries.popitem(last=False)

    def clear(self) -> None:
        """Forget every entry."""
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        """The number of live entries (expired ones are dropped first; O(n))."""
        with self._lock:
            now = self._clock()
            expired = [token for token, (_, deadline) in self._entries.items() if now >= deadline]
            for token in expired:
                del self._entries[token]
            return len(self._entries)
