"""The verified-token cache: a token is paid for once, not on every request.

A client-credentials token is reused for its whole lifetime, so almost every
request carries a token this process has already verified. Entries are bounded
in number (least recently used go first) and never outlive the token's ``exp``
(plus leeway) nor ``max_age``: a hit is checked against the same clock as a
fresh verification, so a cached token expires on time to the second. Only
successes are cached.

Two owners use it, each with its own instance: a
:class:`~scopegate._verifier.TokenVerifier` keys verified tokens by the token
string, and a :class:`~scopegate._protector.BearerProtector` keys what a request
publishes by the exact ``Authorization`` header value, so a repeated header is
answered with one lookup and no parsing. Neither accepts a token under settings
other than those it was verified with.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from cachetools import LRUCache

__all__ = ["TokenCache"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class TokenCache(Generic[K, V]):
    """A bounded, thread-safe LRU map from a key to a value that expires with its token.

    A ``cachetools.LRUCache`` of ``key -> (value, deadline)`` under one lock. The
    deadline is stored with the value rather than using ``cachetools.TLRUCache``,
    whose hit costs about three times as much; measured against the former
    hand-written ``OrderedDict`` in benchmarks/RESULTS.md.

    Args:
        maxsize: the most entries kept; the least recently used is dropped first.
        max_age: seconds an entry may live, whatever its token's ``exp``.
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
        self._entries: LRUCache[K, tuple[V, float]] = LRUCache(maxsize)
        # The lock is held for O(1) work and never across I/O, so async callers don't block.
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        """The cached value, or None when absent or past its deadline."""
        with self._lock:
            try:
                value, deadline = self._entries[key]
            except KeyError:
                return None
            if self._clock() < deadline:
                return value
            del self._entries[key]
            return None

    def put(self, key: K, value: V, expires_at: float) -> None:
        """Remember ``value`` until its token's ``expires_at`` (plus leeway) or ``max_age``."""
        now = self._clock()
        deadline = min(now + self.max_age, expires_at + self.leeway)
        if now >= deadline:
            return
        with self._lock:
            self._entries[key] = (value, deadline)

    def clear(self) -> None:
        """Forget every entry."""
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        """The number of live entries (expired ones are dropped first; O(n))."""
        with self._lock:
            now = self._clock()
            expired = [key for key, (_, deadline) in self._entries.items() if now >= deadline]
            for key in expired:
                del self._entries[key]
            return len(self._entries)
