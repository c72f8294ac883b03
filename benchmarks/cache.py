"""A token-cache hit: scopegate's ``TokenCache`` against the two ways it could be written.

``TokenCache`` is a ``cachetools.LRUCache`` of ``key -> (value, deadline)`` under
a lock. Beside it, measured in the same rounds:

- :class:`OrderedDictLRU`, the hand-written cache it replaced (the baseline): an
  ``OrderedDict`` under a lock, a hit being ``entries.get(key)``, one clock
  compare and ``move_to_end``. It lives here, not in ``src/``, only to measure
  what using cachetools costs;
- :class:`TLRUCacheAdapter`, cachetools' own time-aware ``TLRUCache`` under the
  same lock, the deadline computed by its ``ttu`` hook.

Every cache holds the same 10,000 entries with deadlines a day away, and every
call looks up the same key: one hit each, the lock taken and released, on the
clock the verifier uses (``time.time``).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from cachetools import TLRUCache

from benchmarks.timing import Batch, clock
from scopegate._cache import TokenCache

CACHE_ROWS = {
    "cache_ordereddict": "hand-written OrderedDict LRU under a lock, hit (the former; baseline)",
    "cache_tokencache": "TokenCache.get hit: cachetools.LRUCache + lock, deadline in the value",
    "cache_tlru": "cachetools.TLRUCache under a lock, hit (deadline from its ttu)",
}
CACHE_BASELINE = "cache_ordereddict"
ENTRIES = 10_000
LIFETIME = 86_400.0


class OrderedDictLRU:
    """The hand-written LRU token cache scopegate used before cachetools (hit path only)."""

    def __init__(self, maxsize: int, clock: Callable[[], float]) -> None:
        self.maxsize = maxsize
        self._clock = clock
        self._entries: OrderedDict[str, tuple[Any, float]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> Any:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if self._clock() < entry[1]:
                self._entries.move_to_end(key)
                return entry[0]
            del self._entries[key]
            return None

    def put(self, key: str, value: Any, deadline: float) -> None:
        with self._lock:
            entries = self._entries
            entries[key] = (value, deadline)
            entries.move_to_end(key)
            while len(entries) > self.maxsize:
                entries.popitem(last=False)


class TLRUCacheAdapter:
    """``cachetools.TLRUCache`` under a lock, the deadline stored with the value for its ``ttu``."""

    def __init__(self, maxsize: int, clock: Callable[[], float]) -> None:
        self._entries: TLRUCache[str, tuple[Any, float]] = TLRUCache(
            maxsize=maxsize, ttu=_deadline, timer=clock
        )
        self._lock = threading.Lock()

    def get(self, key: str) -> Any:
        with self._lock:
            entry = self._entries.get(key)
        return None if entry is None else entry[0]

    def put(self, key: str, value: Any, deadline: float) -> None:
        with self._lock:
            self._entries[key] = (value, deadline)


def _deadline(_key: str, entry: tuple[Any, float], _now: float) -> float:
    return entry[1]


def cache_batches() -> dict[str, Batch]:
    """Batch functions for each cache row, each checked to hit before it is returned."""
    now = time.time()
    deadline = now + LIFETIME
    keys = [f"Bearer token-{i:06d}" for i in range(ENTRIES)]
    hot = keys[ENTRIES // 2]
    value = object()

    token_cache: TokenCache[str, object] = TokenCache(
        ENTRIES, max_age=LIFETIME, leeway=0, clock=time.time
    )
    ordered = OrderedDictLRU(ENTRIES, time.time)
    tlru = TLRUCacheAdapter(ENTRIES, time.time)
    for key in keys:
        token_cache.put(key, value, deadline)
        ordered.put(key, value, deadline)
        tlru.put(key, value, deadline)

    gets: dict[str, Callable[[str], Any]] = {
        "cache_ordereddict": ordered.get,
        "cache_tokencache": token_cache.get,
        "cache_tlru": tlru.get,
    }
    for name, get in gets.items():
        if get(hot) is not value or get("Bearer absent") is not None:
            raise RuntimeError(f"{name}: the cache-hit benchmark would not hit")
    return {name: _hits(get, hot) for name, get in gets.items()}


def _hits(get: Callable[[str], Any], key: str) -> Batch:
    def run(n: int) -> float:
        perf = clock()
        start = perf()
        for _ in range(n):
            get(key)
        return perf() - start

    return run
