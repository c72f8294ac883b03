"""Replay stores: a DPoP proof's ``jti`` is accepted once within its window (RFC 9449 §11.1).

Two stores, one protocol (:class:`ReplayStore`):

- :class:`MemoryReplayStore`, the default: one process, bounded, in memory;
- :class:`RedisReplayStore`: one Redis shared by every worker and replica
  (``SET key 1 NX PX ttl``, atomic on the server), through redis-py's sync and
  asyncio clients; the ``scopegate[redis]`` extra.

A store that cannot answer raises
:class:`~scopegate.errors.ReplayStoreUnavailableError` (503): a proof whose
``jti`` cannot be checked is never accepted (fail closed). What is stored is
:func:`replay_key` of the proof, a fixed-size digest, never the proof itself.
"""

from __future__ import annotations

import asyncio
import hashlib
import heapq
import logging
import threading
import time
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable
from urllib.parse import urlsplit

from scopegate._dpop import DPoPProof
from scopegate.errors import MissingExtraError, ReplayStoreUnavailableError

if TYPE_CHECKING:  # pragma: no cover
    import redis
    import redis.asyncio

__all__ = [
    "MemoryReplayStore",
    "RedisReplayStore",
    "ReplayStore",
    "redacted_url",
    "replay_key",
    "replay_store",
]

logger = logging.getLogger("scopegate")
_REDIS_SCHEMES = ("redis", "rediss", "unix")


@runtime_checkable
class ReplayStore(Protocol):
    """Remembers keys for a while; answers, atomically, whether a key is new."""

    def first_use(self, key: str, ttl: float) -> bool:
        """True only the first time ``key`` is seen within ``ttl`` seconds.

        Raises:
            ReplayStoreUnavailableError: the store cannot answer.
        """
        ...  # pragma: no cover

    async def first_use_async(self, key: str, ttl: float) -> bool:
        """:meth:`first_use` for async callers (never blocks the event loop on I/O)."""
        ...  # pragma: no cover


def replay_key(proof: DPoPProof) -> str:
    """What a store remembers for ``proof``: SHA-256 of its key thumbprint and ``jti``, in hex.

    The ``jti`` is scoped by the key, so one client cannot burn another's
    identifiers, and the stored key has a fixed size whatever the client sends.
    """
    return hashlib.sha256(f"{proof.jkt}\x00{proof.jti}".encode()).hexdigest()


def _ttl_ms(ttl: float) -> int:
    return max(1, int(ttl * 1000 + 0.999))


class MemoryReplayStore:
    """The replay store of one process: a bounded map of key to deadline under a lock.

    When every one of ``maxsize`` entries is still live, a new key is refused
    with :class:`~scopegate.errors.ReplayStoreUnavailableError` rather than
    evicting a live one: evicting would let a flood of fresh proofs reopen the
    window for a replay. Size it above the most proofs one process accepts
    within a replay window (requests per second times
    ``ProofVerifier.replay_ttl()``); each entry costs a few hundred bytes.

    Our own code rather than ``cachetools``: this is a set with deadlines, not
    a cache (nothing is ever evicted early, nothing is looked up by recency),
    and ``TLRUCache`` (the cachetools type that takes a time to live per entry)
    cost 5.2 µs per proof against 0.9 µs for a dict and a heap of deadlines
    (benchmarks/README.md, "DPoP"): a quarter of the whole budget of a DPoP
    request beyond its signature check.

    Args:
        maxsize: the most keys remembered at once.
        clock: a monotonic time source in seconds.
    """

    def __init__(self, maxsize: int = 100_000, *, clock: Callable[[], float] = time.monotonic):
        if maxsize < 1:
            raise ValueError("maxsize must be at least 1")
        self.maxsize = maxsize
        self._clock = clock
        # key -> deadline; a key is live while clock() < its deadline. Every key has
        # exactly one (deadline, key) in the heap, so expiring is popping the heap's
        # head while it is due: what is left in the dict is exactly the live keys.
        self._deadlines: dict[str, float] = {}
        self._due: list[tuple[float, str]] = []
        self._lock = threading.Lock()
        self._full = False

    def _expire(self, now: float) -> None:
        due, deadlines = self._due, self._deadlines
        while due and due[0][0] <= now:
            del deadlines[heapq.heappop(due)[1]]

    def __len__(self) -> int:
        with self._lock:
            self._expire(self._clock())
            return len(self._deadlines)

    def first_use(self, key: str, ttl: float) -> bool:
        """True the first time ``key`` is seen within ``ttl`` seconds (see :class:`ReplayStore`)."""
        with self._lock:
            now = self._clock()
            deadline = self._deadlines.get(key)
            if deadline is not None and now < deadline:
                return False
            self._expire(now)  # the key itself, if it was there, is gone now
            if len(self._deadlines) >= self.maxsize:
                if not self._full:  # once per episode, not once per request
                    self._full = True
                    logger.warning(
                        "scopegate: the in-memory DPoP replay store is full (%d live proofs); "
                        "new proofs get 503 until entries expire: raise its size or use Redis",
                        self.maxsize,
                    )
                raise ReplayStoreUnavailableError(retry_after=1)
            self._full = False
            deadline = now + ttl
            self._deadlines[key] = deadline
            heapq.heappush(self._due, (deadline, key))
            return True

    async def first_use_async(self, key: str, ttl: float) -> bool:
        """The same as :meth:`first_use`: O(1) work under a lock, no I/O."""
        return self.first_use(key, ttl)


def redacted_url(url: str) -> str:
    """``url`` without its password (and user name): safe to show in an error or a log."""
    try:
        parts = urlsplit(url)
        host = parts.netloc.rpartition("@")[2]
        return f"{parts.scheme}://{host}{parts.path}"
    except ValueError:
        return "<a URL that cannot be read>"


class RedisReplayStore:
    """The replay store shared by every worker: ``SET key 1 NX PX ttl`` on one Redis.

    Both clients (``redis.Redis`` and ``redis.asyncio.Redis``) come from one
    URL; the asyncio one is made per event loop, on first use. A connection
    error or timeout raises
    :class:`~scopegate.errors.ReplayStoreUnavailableError`; the URL's password
    is never in an error message, a log line or the ``repr``.

    Args:
        url: ``redis://``, ``rediss://`` or ``unix://`` (redis-py's URL forms).
        prefix: put before every key, so one Redis can serve several uses.
        timeout: seconds to connect and to wait for an answer.

    Example::

        store = RedisReplayStore("redis://:secret@redis.internal:6379/0")
        store.first_use(replay_key(proof), verifier.replay_ttl())
    """

    def __init__(self, url: str, *, prefix: str = "scopegate:dpop:", timeout: float = 1.0):
        try:
            import redis
            import redis.asyncio
        except ImportError as exc:
            raise MissingExtraError(
                "scopegate: a Redis replay store needs redis-py: pip install 'scopegate[redis]'"
            ) from exc
        self._redis = redis
        self.url = redacted_url(url)
        self.prefix = prefix
        self.timeout = timeout
        self._raw_url = url
        self._down = False
        self._options: dict[str, Any] = {
            "socket_timeout": timeout,
            "socket_connect_timeout": timeout,
            "retry_on_timeout": False,
        }
        try:
            self._client: redis.Redis = redis.Redis.from_url(url, **self._options)
        except (ValueError, TypeError):
            # redis-py's message may quote the URL, password included: never shown.
            raise ValueError(f"not a usable Redis URL: {self.url}") from None
        self._async_clients: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, redis.asyncio.Redis
        ] = weakref.WeakKeyDictionary()

    def __repr__(self) -> str:
        return f"RedisReplayStore({self.url!r}, prefix={self.prefix!r})"

    def _unavailable(self, exc: Exception) -> ReplayStoreUnavailableError:
        # Only the class of the error and the redacted URL: redis-py's messages may
        # quote connection details, so the exception is not chained either. Logged
        # once per outage, not once per request.
        if not self._down:
            self._down = True
            logger.warning(
                "scopegate: the DPoP replay store %s cannot be reached (%s); "
                "DPoP requests get 503 until it answers",
                self.url,
                type(exc).__name__,
            )
        return ReplayStoreUnavailableError(retry_after=1)

    def _answered(self, answer: Any) -> bool:
        if self._down:
            self._down = False
            logger.warning("scopegate: the DPoP replay store %s answers again", self.url)
        return answer is True

    def first_use(self, key: str, ttl: float) -> bool:
        """True the first time ``key`` is seen within ``ttl`` seconds, on any worker."""
        try:
            answer = self._client.set(self.prefix + key, b"1", nx=True, px=_ttl_ms(ttl))
        except (self._redis.RedisError, OSError) as exc:
            raise self._unavailable(exc) from None
        return self._answered(answer)

    def _async_client(self) -> redis.asyncio.Redis:
        loop = asyncio.get_running_loop()
        client = self._async_clients.get(loop)
        if client is None:
            client = self._redis.asyncio.Redis.from_url(self._raw_url, **self._options)
            self._async_clients[loop] = client
        return client

    async def first_use_async(self, key: str, ttl: float) -> bool:
        """:meth:`first_use` on the asyncio client: the event loop is never blocked."""
        try:
            answer = await self._async_client().set(
                self.prefix + key, b"1", nx=True, px=_ttl_ms(ttl)
            )
        except (self._redis.RedisError, OSError) as exc:
            raise self._unavailable(exc) from None
        return self._answered(answer)

    def close(self) -> None:
        """Close the sync client's connections (reopened on next use)."""
        self._client.close()

    async def aclose(self) -> None:
        """Close the asyncio client of the running event loop (call it before the loop ends)."""
        client = self._async_clients.pop(asyncio.get_running_loop(), None)
        if client is not None:
            await client.aclose()


def replay_store(value: str | None) -> ReplayStore:
    """The store a ``dpop_replay_store`` setting names.

    None or ``"memory"``: a :class:`MemoryReplayStore`; a ``redis://``,
    ``rediss://`` or ``unix://`` URL: a :class:`RedisReplayStore`.

    Raises:
        MissingExtraError: a Redis URL without redis-py installed.
        ValueError: anything else (the message never quotes the value: it may hold a password).
    """
    if value is None or value == "memory":
        return MemoryReplayStore()
    scheme = value.partition("://")[0].lower() if "://" in value else ""
    if scheme not in _REDIS_SCHEMES:
        raise ValueError("is neither 'memory' nor a redis://, rediss:// or unix:// URL")
    return RedisReplayStore(value)
