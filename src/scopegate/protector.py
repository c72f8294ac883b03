"""The framework-free request policy shared by every adapter.

:class:`BearerProtector` decides, from what an adapter read off a request,
whether the request is public, anonymous, authenticated or rejected; the
ASGI and WSGI middlewares only translate its answer to their protocol. Its
policy (public paths, whether a token is required, query tokens) comes from
:class:`~scopegate.settings.Settings`, like every other option.

On the hot path an adapter asks :meth:`BearerProtector.cached` with the raw
``Authorization`` header value: a header verified before is the same string
next time, so a hit is one lookup that returns what the adapter publishes for
that token (built once per token by the adapter's ``publish`` function), with
no parsing at all. Everything else goes through :meth:`BearerProtector.authenticate`.
:func:`enforce_scopes` is the route guard behind every ``require_scope``.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any, Generic, TypeVar
from urllib.parse import parse_qs

from scopegate.bearer import extract_token
from scopegate.cache import TokenCache
from scopegate.errors import (
    BearerError,
    ConfigurationError,
    ErrorRenderer,
    ErrorResponse,
    InvalidTokenError,
    MissingTokenError,
)
from scopegate.keysource import KeyRefreshNeeded, KeySource
from scopegate.scopes import ScopeRequirement
from scopegate.settings import Settings
from scopegate.token import AccessToken
from scopegate.verifier import TokenVerifier

__all__ = ["QUERY_PARAMETER", "BearerProtector", "enforce_scopes", "resolve_settings"]

QUERY_PARAMETER = "access_token"
# Rejections are logged by rule name only: never a token, a claim value or a secret.
logger = logging.getLogger("scopegate")

P = TypeVar("P")


def resolve_settings(
    settings: Settings | None,
    options: Mapping[str, Any],
    verifier: TokenVerifier | None = None,
) -> Settings:
    """The settings an adapter runs with: ``options`` over ``settings``.

    ``settings`` defaults to the verifier's, else to ``SCOPEGATE_*`` and ``.env``.
    ``options`` are :class:`Settings` fields given as keyword arguments to a
    middleware or an extension (``public_paths=[...]``); they win, and are
    validated like every other setting.

    Raises:
        ConfigurationError: an option that is not a setting, or an invalid value.
    """
    unknown = sorted(set(options) - set(Settings.model_fields))
    if unknown:
        raise ConfigurationError(
            "Invalid scopegate settings:\n  "
            + "\n  ".join(f"{name}: not a scopegate setting" for name in unknown)
        )
    if settings is None and verifier is not None:
        settings = verifier.settings
    if settings is None:
        return Settings(**options)
    return settings.replace(**options)


class BearerProtector(Generic[P]):
    """Request policy: which paths are public, whether a token is required, where it is read.

    The one policy object every adapter receives: the middlewares and the
    Flask extension pass their arguments straight through.

    Args:
        settings: the API's settings (policy and verification); None takes the
            verifier's, else reads ``SCOPEGATE_*`` and ``.env``.
        publish: builds what the adapter publishes for a verified token (or for
            None, an anonymous request); cached per ``Authorization`` header.
        verifier: a verifier to share between protectors; built from the settings if None.
        error_renderer: turns a rejection into the response sent; None renders
            :meth:`BearerError.response` (the RFC 6750 JSON body).
        options: :class:`Settings` fields that win over ``settings`` (see
            :func:`resolve_settings`).

    Raises:
        ConfigurationError: invalid settings or options, all of them named.
    """

    def __init__(
        self,
        settings: Settings | None,
        *,
        publish: Callable[[AccessToken | None], P],
        verifier: TokenVerifier | None = None,
        error_renderer: ErrorRenderer | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> None:
        if options or settings is None:
            settings = resolve_settings(settings, options or {}, verifier)
        if verifier is None:
            verifier = TokenVerifier(settings)
        self.verifier = verifier
        self.settings = settings
        self.realm = settings.realm
        self.auth_required = settings.auth_required
        self.public_paths = frozenset(settings.public_paths)
        self.allow_query_token = settings.allow_query_token
        self._renderer = error_renderer
        self._publish = publish
        self.anonymous: P = publish(None)
        self._published: TokenCache[Hashable, P] | None = None
        if settings.cache_maxsize > 0:
            # With fetched keys, a hit lives no longer than the key set: the miss that
            # follows is what notices a stale set and refreshes it (a revoked key's
            # tokens then leave both caches), so hits never need to ask.
            max_age = settings.cache_ttl
            if verifier.key_source is not None:
                max_age = min(max_age, settings.jwks_cache_ttl)
            self._published = TokenCache(
                settings.cache_maxsize, max_age, settings.leeway, verifier.clock
            )
        # A header holds "Bearer " and the token; anything longer is refused unread.
        self._max_header = settings.max_token_bytes + 64
        #: ``cached(header)``: what a request with this exact ``Authorization``
        #: value publishes, if known and live; None otherwise.
        self.cached: Callable[[Hashable], P | None] = (
            _never if self._published is None else self._published.get
        )
        self._keys = verifier.key_source
        self._background: set[asyncio.Task[None]] = set()
        self._refreshing = threading.Lock()
        if self._keys is not None and self._published is not None:
            # A key that leaves the JWK Set takes what its tokens published with it.
            self._keys.on_keys_removed(self._published.clear)

    def render(self, error: BearerError) -> ErrorResponse:
        """The response that rejects a request with ``error``."""
        if self._renderer is None:
            return error.response(self.realm)
        return self._renderer(error, self.realm)

    def is_public(self, path: str) -> bool:
        """True for paths that are served without looking at credentials."""
        return path in self.public_paths

    def query_tokens(self, query_string: str) -> list[str]:
        """The ``access_token`` values of a query string (none unless that method is allowed)."""
        if not self.allow_query_token or QUERY_PARAMETER not in query_string:
            return []
        return parse_qs(query_string, keep_blank_values=True).get(QUERY_PARAMETER, [])

    def authenticate(
        self,
        authorization: Sequence[str],
        query_tokens: Sequence[str] = (),
        *,
        cache_key: Hashable | None = None,
    ) -> P:
        """What the request publishes: for its verified token, or :attr:`anonymous`.

        Blocking: when the signing keys must be fetched first (a key source, a
        ``kid`` not seen yet) the fetch runs in this thread, one at a time per
        source. ASGI code calls :meth:`authenticate_async` instead.

        Args:
            authorization: every ``Authorization`` header value of the request.
            query_tokens: the ``access_token`` query values (see :meth:`query_tokens`).
            cache_key: the raw header value as the adapter will pass it to
                :meth:`cached`; the result is cached under it when the token came
                from that single header.

        Raises:
            BearerError: the request must be rejected with this error.
        """
        try:
            access = self._verify(authorization, query_tokens)
        except KeyRefreshNeeded as signal:
            signal.source.refresh_sync()
            access = self._verify(authorization, query_tokens, retried=True)
        keys = self._keys
        if keys is not None and keys.refresh_due() and self._refreshing.acquire(blocking=False):
            # One background thread at a time, whatever the number of requests that noticed.
            threading.Thread(target=self._refresh_in_background, args=(keys,), daemon=True).start()
        return self._publish_for(access, cache_key, query_tokens)

    async def authenticate_async(
        self,
        authorization: Sequence[str],
        query_tokens: Sequence[str] = (),
        *,
        cache_key: Hashable | None = None,
    ) -> P:
        """:meth:`authenticate` for an event loop: a key fetch is awaited, never blocking.

        Concurrent requests that need the same keys share one fetch; a stale key
        set is refreshed in the background while requests keep being served.

        Raises:
            BearerError: the request must be rejected with this error.
        """
        try:
            access = self._verify(authorization, query_tokens)
        except KeyRefreshNeeded as signal:
            await signal.source.refresh_async()
            access = self._verify(authorization, query_tokens, retried=True)
        keys = self._keys
        if keys is not None and keys.refresh_due():
            task = asyncio.get_running_loop().create_task(keys.refresh_async())
            self._background.add(task)
            task.add_done_callback(self._background.discard)
        return self._publish_for(access, cache_key, query_tokens)

    async def prefetch(self) -> None:
        """Fetch the signing keys ahead of the first request (ASGI lifespan startup).

        Nothing to do without a key source; a failure is logged, never raised.
        """
        if self._keys is not None:
            await self._keys.prefetch()

    def _refresh_in_background(self, keys: KeySource) -> None:
        try:
            keys.refresh_sync(wait=False)
        finally:
            self._refreshing.release()

    def _publish_for(
        self, access: AccessToken | None, cache_key: Hashable | None, query_tokens: Sequence[str]
    ) -> P:
        if access is None:
            return self.anonymous
        published = self._publish(access)
        if self._published is not None and cache_key is not None and not query_tokens:
            self._published.put(cache_key, published, access.expires_at.timestamp())
        return published

    def _verify(
        self, authorization: Sequence[str], query_tokens: Sequence[str], *, retried: bool = False
    ) -> AccessToken | None:
        """The request's verified token, None when anonymous; logs a rejection by rule name."""
        try:
            token = extract_token(authorization, query_tokens, max_length=self._max_header)
            if token is None:
                if self.auth_required:
                    raise MissingTokenError()
                return None
            if not retried:
                return self.verifier.verify(token)
            try:
                return self.verifier.verify(token)
            except KeyRefreshNeeded as signal:  # refreshed already: no key for this token
                raise signal.source.settle() from None
        except BearerError as error:
            if logger.isEnabledFor(logging.DEBUG):
                failure = error.failure if isinstance(error, InvalidTokenError) else None
                reason = failure.name if failure is not None else error.description
                logger.debug("rejected request: %s (%s)", type(error).__name__, reason)
            raise


def _never(header: Hashable) -> None:
    return None


def enforce_scopes(token: AccessToken | None, requirement: ScopeRequirement) -> AccessToken:
    """The route guard: 401 without a token, 403 without the scopes; else the token."""
    if token is None:
        raise MissingTokenError()
    requirement.check(token.scopes)
    return token
