"""The framework-free request policy shared by every adapter.

:class:`BearerProtector` decides, from what an adapter read off a request,
whether the request is public, anonymous, authenticated or rejected; the
ASGI and WSGI middlewares only translate its answer to their protocol.
:func:`enforce_scopes` is the route guard behind every ``require_scope``.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Iterable, Sequence
from urllib.parse import parse_qs

from scopegate.bearer import extract_token
from scopegate.errors import (
    BearerError,
    ErrorRenderer,
    ErrorResponse,
    InvalidTokenError,
    MissingTokenError,
)
from scopegate.keysource import KeyRefreshNeeded, KeySource
from scopegate.scopes import check_scopes
from scopegate.settings import Settings
from scopegate.token import AccessToken
from scopegate.verifier import TokenVerifier

__all__ = ["QUERY_PARAMETER", "BearerProtector", "enforce_scopes"]

QUERY_PARAMETER = "access_token"
# Rejections are logged by rule name only: never a token, a claim value or a secret.
logger = logging.getLogger("scopegate")


class BearerProtector:
    """Request policy: which paths are public, whether a token is required, where it is read.

    Args:
        settings: the API's settings; None loads :class:`Settings` from the environment.
        auth_required: reject requests without a token (401). When False they
            pass as anonymous and route guards decide; a bad token is still rejected.
        public_paths: exact paths that need no token and are never checked.
        allow_query_token: also accept the ``access_token`` query parameter
            (RFC 6750 §2.3). Off by default: URLs end up in logs.
        verifier: a verifier to share between middlewares; built from settings if None.
        error_renderer: turns a rejection into the response sent; None renders
            :meth:`BearerError.response` (the RFC 6750 JSON body).
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        auth_required: bool = True,
        public_paths: Iterable[str] = (),
        allow_query_token: bool = False,
        verifier: TokenVerifier | None = None,
        error_renderer: ErrorRenderer | None = None,
    ) -> None:
        if verifier is None:
            verifier = TokenVerifier(settings if settings is not None else Settings())
        self.verifier = verifier
        self.settings = verifier.settings
        self.realm = self.settings.realm
        self.auth_required = auth_required
        if isinstance(public_paths, str):  # "/health,/docs": never a set of characters
            public_paths = public_paths.replace(",", " ").split()
        self.public_paths = frozenset(public_paths)
        self.allow_query_token = allow_query_token
        self._renderer = error_renderer
        # A header holds "Bearer " and the token; anything longer is refused unread.
        self._max_header = self.settings.max_token_bytes + 64
        self._keys = verifier.key_source
        self._background: set[asyncio.Task[None]] = set()
        self._refreshing = threading.Lock()

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
        self, authorization: Sequence[str], query_tokens: Sequence[str] = ()
    ) -> AccessToken | None:
        """The verified token of a request, or None for an allowed anonymous request.

        Blocking: when the signing keys must be fetched first (a key source, a
        ``kid`` not seen yet) the fetch runs in this thread, one at a time per
        source. ASGI code calls :meth:`authenticate_async` instead.

        Raises:
            BearerError: the request must be rejected with this error.
        """
        try:
            access = self._authenticate(authorization, query_tokens)
        except KeyRefreshNeeded as signal:
            signal.source.refresh_sync()
            access = self._authenticate(authorization, query_tokens, retried=True)
        keys = self._keys
        if keys is not None and keys.refresh_due() and self._refreshing.acquire(blocking=False):
            # One background thread at a time, whatever the number of requests that noticed.
            threading.Thread(target=self._refresh_in_background, args=(keys,), daemon=True).start()
        return access

    def _refresh_in_background(self, keys: KeySource) -> None:
        try:
            keys.refresh_sync(wait=False)
        finally:
            self._refreshing.release()

    async def authenticate_async(
        self, authorization: Sequence[str], query_tokens: Sequence[str] = ()
    ) -> AccessToken | None:
        """:meth:`authenticate` for an event loop: a key fetch is awaited, never blocking.

        Concurrent requests that need the same keys share one fetch; a stale key
        set is refreshed in the background while requests keep being served.

        Raises:
            BearerError: the request must be rejected with this error.
        """
        try:
            access = self._authenticate(authorization, query_tokens)
        except KeyRefreshNeeded as signal:
            await signal.source.refresh_async()
            access = self._authenticate(authorization, query_tokens, retried=True)
        keys = self._keys
        if keys is not None and keys.refresh_due():
            task = asyncio.get_running_loop().create_task(keys.refresh_async())
            self._background.add(task)
            task.add_done_callback(self._background.discard)
        return access

    async def prefetch(self) -> None:
        """Fetch the signing keys ahead of the first request (ASGI lifespan startup).

        Nothing to do without a key source; a failure is logged, never raised.
        """
        if self._keys is not None:
            await self._keys.prefetch()

    def _authenticate(
        self, authorization: Sequence[str], query_tokens: Sequence[str], *, retried: bool = False
    ) -> AccessToken | None:
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


def enforce_scopes(
    token: AccessToken | None, required: Sequence[str], *, any_of: bool = False
) -> AccessToken:
    """The route guard: 401 without a token, 403 without the scopes; else the token."""
    if token is None:
        raise MissingTokenError()
    check_scopes(token.scopes, required, any_of=any_of)
    return token
