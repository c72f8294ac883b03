"""Fetching keys: one JWK Set source, cached, bounded, and never in the way of a request.

The rules of *which* key verifies a token live in :mod:`scopegate._jwk`; this
module owns *getting* the keys. It is split the httpx way: the refresh itself
is a generator (:meth:`RemoteKeys._flow`, built from the sans-IO rules of
:mod:`scopegate._jwks_flow`) that yields each :class:`FetchRequest`
(discovery, the JWK Set, a redirect) and receives a :class:`FetchResponse`, so
the rules (same-host redirects only, status, JSON, issuer match, ``max-age``)
are written once, and two small drivers here run it: ``httpx.Client`` for WSGI,
``httpx.AsyncClient`` for ASGI. This module keeps the state (the cached set,
the TTL, the cooldown, one fetch in flight) and builds the key source.

How a request meets the cache: :meth:`RemoteKeys.key_for` never does I/O. When
it needs keys it has not got (cold start, a ``kid`` not seen yet, outside the
cooldown), it raises :class:`KeyRefreshNeeded`; the protector then refreshes
(``await refresh_async()`` or ``refresh_sync()``, one fetch in flight per
source, shared by every request waiting for it) and verifies once more.
A stale set (past its TTL) keeps verifying while a refresh runs in the
background, so a refresh does not hold requests up.

Bounds: a body over :data:`MAX_BYTES`, more than ``jwk.MAX_KEYS`` keys,
non-JSON or malformed JSON, a redirect to another host, a status other than
200 or a fetch past ``jwks_timeout`` is a failed fetch. A failed fetch keeps
the keys already known; with none known, requests get 503
(:class:`~scopegate.errors.KeysUnavailableError`) until the cooldown has passed
and a fetch is tried again. Outages are logged once per change of state.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import threading
import time
from collections.abc import Callable, Generator, Mapping
from typing import Any

import httpx
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from scopegate._jwk import KeySet, parse_static_key
from scopegate._jwks_flow import (
    MAX_REDIRECTS,
    FetchError,
    FetchRequest,
    FetchResponse,
    discover,
    get,
    read_key_set,
)
from scopegate._jwks_flow import max_age as max_age  # importable from here, as before the split
from scopegate._keysource import KeyRefreshNeeded
from scopegate._settings import Settings
from scopegate.errors import InvalidTokenError, KeysUnavailableError, TokenFailure

__all__ = [
    "MAX_BYTES",
    "MAX_REDIRECTS",
    "FetchError",
    "FetchRequest",
    "FetchResponse",
    "RemoteKeys",
    "StaticKeys",
    "key_source",
]

MAX_BYTES = 512 * 1024
logger = logging.getLogger("scopegate")


class StaticKeys:
    """The ``public_key`` setting: one fixed :class:`~scopegate._jwk.KeySet`, never fetched."""

    def __init__(self, text: str) -> None:
        self.keys: KeySet | None = parse_static_key(text)
        self.url: str | None = None

    def key_for(self, header: Mapping[str, Any], alg: str) -> Any:
        """The key that verifies ``header`` (see :meth:`KeySet.select`)."""
        assert self.keys is not None
        return self.keys.select(header, alg)

    def refresh_due(self) -> bool:
        """Never: a static key is never fetched."""
        return False

    def refresh_sync(self, *, wait: bool = True) -> None:
        """Nothing to fetch."""

    async def refresh_async(self) -> None:
        """Nothing to fetch."""

    async def prefetch(self) -> None:
        """Nothing to fetch."""

    def settle(self) -> InvalidTokenError:
        """A static set has no key for this token."""
        return InvalidTokenError(TokenFailure.UNKNOWN_KEY)

    def on_keys_removed(self, callback: Callable[[], None]) -> None:
        """A static set never changes."""


_Flow = Generator[FetchRequest, FetchResponse, tuple[KeySet, float]]


class RemoteKeys:
    """The JWK Set at ``jwks_uri``, or at the ``jwks_uri`` of the issuer's metadata.

    Args:
        settings: ``jwks_uri`` (or ``issuer`` for discovery), ``jwks_cache_ttl``,
            ``jwks_refresh_cooldown``, ``jwks_timeout`` and ``allow_insecure_jwks``.
        clock: monotonic seconds, for the TTL and the cooldown.
    """

    def __init__(self, settings: Settings, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.url: str | None = settings.jwks_uri
        self.issuer = settings.discovery_issuer
        self.ttl = settings.jwks_cache_ttl
        self.cooldown = settings.jwks_refresh_cooldown
        self.timeout = settings.jwks_timeout
        self.allow_insecure = settings.allow_insecure_jwks
        self._clock = clock
        self.keys: KeySet | None = None
        self.fetches = 0  # HTTP requests made, for tests and benchmarks
        self._expires = 0.0
        self._last_attempt: float | None = None
        self._failing: str | None = None  # why the last attempt failed
        self._refreshing = False
        self._lock = threading.Lock()  # one refresh in flight (sync side, and the state)
        self._task: asyncio.Task[None] | None = None
        # Built once, here: each client would build its own, which takes tens of
        # milliseconds, on the event loop.
        self._ssl: ssl.SSLContext = httpx.create_ssl_context()
        self._on_removed: list[Callable[[], None]] = []

    # -- the request path: no I/O ------------------------------------------------------

    def key_for(self, header: Mapping[str, Any], alg: str) -> Any:
        """The key that verifies ``header``, from the cached set.

        Raises:
            KeyRefreshNeeded: the set must be (re)fetched first.
            KeysUnavailableError: no key is known and the source cannot be tried yet.
            InvalidTokenError: the cached set has no fitting key (see ``KeySet.select``).
        """
        keys = self.keys
        kid = header.get("kid")
        if keys is None:
            if self._refreshing or self._may_try(self._clock()):
                raise KeyRefreshNeeded(self)
            raise self.unavailable()
        if (
            not keys.has(kid if isinstance(kid, str) else None)
            and isinstance(kid, str | None)
            and (self._refreshing or self._may_try(self._clock()))
        ):
            raise KeyRefreshNeeded(self)
        return keys.select(header, alg)

    def settle(self) -> InvalidTokenError | KeysUnavailableError:
        """The error for a token still without a key after a refresh."""
        if self.keys is None:
            return self.unavailable()
        return InvalidTokenError(TokenFailure.UNKNOWN_KEY)

    def unavailable(self) -> KeysUnavailableError:
        """The 503 for a request that found no keys, with the seconds until the next try."""
        waited = 0.0 if self._last_attempt is None else self._clock() - self._last_attempt
        return KeysUnavailableError(retry_after=self.cooldown - waited)

    def on_keys_removed(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` after a refresh that dropped a key (a revoked key's tokens
        must stop verifying, even those already in a token cache)."""
        self._on_removed.append(callback)

    def _may_try(self, now: float) -> bool:
        return self._last_attempt is None or now - self._last_attempt >= self.cooldown

    def refresh_due(self) -> bool:
        """True when the cached set is past its TTL and a fetch may be tried."""
        now = self._clock()
        return (
            self.keys is not None
            and now >= self._expires
            and not self._refreshing
            and self._may_try(now)
        )

    @property
    def failure(self) -> str | None:
        """Why the last fetch failed; None after a success (for ``scopegate inspect``)."""
        return self._failing

    # -- the refresh: rules, sans-IO ---------------------------------------------------

    def _flow(self) -> _Flow:
        """One refresh: discovery when needed, then the JWK Set; returns the keys and their TTL."""
        if self.url is None:
            assert self.issuer is not None
            self.url = yield from discover(self.issuer, allow_insecure=self.allow_insecure)
        return read_key_set((yield from get(self.url)), self.ttl)

    def _begin(self) -> bool:
        """Claim the refresh; False when another one runs or the cooldown forbids it."""
        with self._lock:
            if self._refreshing or not self._may_try(self._clock()):
                return False
            self._refreshing = True
            self._last_attempt = self._clock()
            return True

    def _finish(self, result: tuple[KeySet, float] | None, problem: str | None) -> None:
        source = self.url or self.issuer
        if result is not None:
            keys, ttl = result
            dropped = self.keys is not None and not _prints(self.keys) <= _prints(keys)
            self.keys, self._expires = keys, self._clock() + ttl
            if dropped:
                for callback in self._on_removed:
                    callback()
            if self._failing is not None:
                logger.warning("scopegate: JWKS fetch from %s works again", source)
            self._failing = None
        else:
            if self._failing is None:
                known = 0 if self.keys is None else len(self.keys.keys)
                logger.warning(
                    "scopegate: JWKS fetch from %s failed (%s); %s",
                    source,
                    problem,
                    f"keeping the {known} keys known" if self.keys else "no key known: 503",
                )
            self._failing = problem or "failed"
        self._refreshing = False

    # -- the drivers -------------------------------------------------------------------

    def _read_sync(
        self, client: httpx.Client, request: FetchRequest, deadline: float
    ) -> FetchResponse:
        self.fetches += 1
        with client.stream("GET", request.url, headers={"accept": "application/json"}) as reply:
            body = bytearray()
            if int(reply.headers.get("content-length") or 0) > MAX_BYTES:
                raise FetchError(f"{request.url}: the response is over {MAX_BYTES} bytes")
            for chunk in reply.iter_bytes():
                body += chunk
                if len(body) > MAX_BYTES:
                    raise FetchError(f"{request.url}: the response is over {MAX_BYTES} bytes")
                if time.monotonic() > deadline:
                    raise FetchError(f"{request.url}: no answer within {self.timeout:g}s")
            return FetchResponse(reply.status_code, dict(reply.headers), bytes(body))

    def refresh_sync(self, *, wait: bool = True) -> None:
        """Fetch the set now with ``httpx.Client``; waits for a refresh already running.

        Never raises: a failure is logged once and the known keys are kept.
        """
        if not self._begin():
            while wait and self._refreshing:  # another thread fetches: wait for its answer
                time.sleep(0.005)
            return
        result, problem = None, None
        deadline = time.monotonic() + self.timeout
        try:
            with httpx.Client(
                timeout=self.timeout, follow_redirects=False, verify=self._ssl
            ) as client:
                flow = self._flow()
                request = next(flow)
                while True:
                    request = flow.send(self._read_sync(client, request, deadline))
        except StopIteration as done:
            result = done.value
        except Exception as exc:  # whatever the server sent, no request may fail with it
            problem = _describe(exc, self.timeout)
        finally:
            self._finish(result, problem)

    async def _read_async(self, client: httpx.AsyncClient, request: FetchRequest) -> FetchResponse:
        self.fetches += 1
        async with client.stream(
            "GET", request.url, headers={"accept": "application/json"}
        ) as reply:
            if int(reply.headers.get("content-length") or 0) > MAX_BYTES:
                raise FetchError(f"{request.url}: the response is over {MAX_BYTES} bytes")
            body = bytearray()
            async for chunk in reply.aiter_bytes():
                body += chunk
                if len(body) > MAX_BYTES:
                    raise FetchError(f"{request.url}: the response is over {MAX_BYTES} bytes")
            return FetchResponse(reply.status_code, dict(reply.headers), bytes(body))

    async def _run_async(self) -> tuple[KeySet, float]:
        async with httpx.AsyncClient(
            timeout=self.timeout, follow_redirects=False, verify=self._ssl
        ) as client:
            flow = self._flow()
            request = next(flow)
            try:
                while True:
                    request = flow.send(await self._read_async(client, request))
            except StopIteration as done:
                result: tuple[KeySet, float] = done.value
                return result

    async def _refresh_async_once(self) -> None:
        result, problem = None, None
        try:
            result = await asyncio.wait_for(self._run_async(), self.timeout)
        except Exception as exc:  # whatever the server sent, no request may fail with it
            problem = _describe(exc, self.timeout)
        finally:
            self._finish(result, problem)

    async def refresh_async(self) -> None:
        """Fetch the set now with ``httpx.AsyncClient``; concurrent callers share one fetch.

        Never raises: a failure is logged once and the known keys are kept.
        """
        task = self._task
        loop = asyncio.get_running_loop()
        if task is None or task.done() or task.get_loop() is not loop:
            if not self._begin():
                while self._refreshing:  # a refresh on another loop or thread
                    await asyncio.sleep(0.005)
                return
            task = self._task = loop.create_task(self._refresh_async_once())
        await asyncio.shield(task)

    async def prefetch(self) -> None:
        """Fetch the set once (ASGI lifespan startup); a failure is logged, not raised."""
        if self.keys is None:
            await self.refresh_async()


def _prints(keys: KeySet) -> set[tuple[str | None, bytes]]:
    """Each key as its kid and public key bytes, to see which keys a refresh dropped."""
    return {
        (key.kid, key.key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo))
        for key in keys.keys
    }


def _describe(exc: BaseException, timeout: float) -> str:
    if isinstance(exc, asyncio.TimeoutError | httpx.TimeoutException):
        return f"no answer within {timeout:g}s"
    if isinstance(exc, FetchError):
        return str(exc)
    return type(exc).__name__


def key_source(settings: Settings) -> StaticKeys | RemoteKeys | None:
    """The key source the settings configure; None when only a signing secret is."""
    if not settings.asymmetric_algorithms:
        return None
    if settings.public_key:
        return StaticKeys(settings.public_key)
    return RemoteKeys(settings)
