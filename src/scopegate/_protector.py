"""The framework-free request policy shared by every adapter.

:class:`BearerProtector` decides, from what an adapter read off a request,
whether the request is public, anonymous, authenticated or rejected; the
ASGI and WSGI middlewares only translate its answer to their protocol. Its
policy (public paths, whether a token is required, query tokens) comes from
:class:`~scopegate._settings.Settings`, like every other option.

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
from typing import TYPE_CHECKING, Any, Generic, TypeVar
from urllib.parse import parse_qs

from scopegate._bearer import BEARER, DPOP, Credentials, extract_credentials, single_proof
from scopegate._cache import TokenCache
from scopegate._challenge import challenge_for
from scopegate._keysource import KeyRefreshNeeded, KeySource
from scopegate._request_url import RequestTarget
from scopegate._scopes import ScopeRequirement
from scopegate._settings import Settings
from scopegate._token import AccessToken
from scopegate._verifier import TokenVerifier
from scopegate.errors import (
    BearerError,
    ConfigurationError,
    ErrorRenderer,
    ErrorResponse,
    InvalidTokenError,
    MissingTokenError,
    TokenFailure,
)

if TYPE_CHECKING:
    from scopegate._dpop import DPoPProof
    from scopegate._dpop_policy import DPoPPolicy

__all__ = [
    "QUERY_PARAMETER",
    "BearerProtector",
    "Target",
    "enforce_scopes",
    "resolve_settings",
    "scheme_of",
]

QUERY_PARAMETER = "access_token"
# Rejections are logged by rule name only: never a token, a claim value or a secret.
logger = logging.getLogger("scopegate")

P = TypeVar("P")
#: How an adapter hands over a request's method and URL parts: called only for a
#: DPoP request (a Bearer request never builds its URL).
Target = Callable[[], RequestTarget]


def scheme_of(token: AccessToken | None) -> str | None:
    """The scheme an accepted request used: a bound token is only ever accepted with DPoP."""
    if token is None:
        return None
    return BEARER if token.confirmation is None else DPOP


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
        # DPoP headers verified before: the token, its verification and what it publishes,
        # so the next proof with that header skips the parsing and both cache lookups.
        self._bound: TokenCache[Hashable, tuple[str, AccessToken, P]] | None = None
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
            if settings.dpop_offered:  # else no DPoP header is ever accepted, nor looked up
                self._bound = TokenCache(
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
            if self._bound is not None:
                self._keys.on_keys_removed(self._bound.clear)
        #: The ``dpop`` setting: ``allowed``, ``required`` or ``disabled``.
        self.dpop_mode = settings.dpop
        self.dpop_algorithms = tuple(settings.dpop_algorithms)
        self.public_base_url = settings.public_base_url
        self._dpop: DPoPPolicy | None = None
        if settings.dpop_offered:
            # Imported here: checking proofs needs cryptography, which a core install
            # (HS256 only, dpop resolved to disabled) does not load.
            from scopegate._dpop_policy import DPoPPolicy

            self._dpop = DPoPPolicy(settings, verifier.clock)

    def render(self, error: BearerError, token: AccessToken | None = None) -> ErrorResponse:
        """The response that rejects a request with ``error``.

        Args:
            error: the rejection.
            token: the request's verified token, when a route guard refused it:
                the challenge then goes on the scheme the token came with.
        """
        if self._renderer is None:
            response = error.response(self.realm)
        else:
            response = self._renderer(error, self.realm)
        if self.dpop_mode == "disabled":
            return response
        challenge = challenge_for(
            error,
            realm=self.realm,
            mode=self.dpop_mode,
            algorithms=self.dpop_algorithms,
            scheme=error.scheme or scheme_of(token),
        )
        headers = [
            (name, challenge if name.lower() == "www-authenticate" else value)
            for name, value in response.headers
        ]
        return response._replace(headers=headers)

    def is_public(self, path: str) -> bool:
        """True for paths that are served without looking at credentials."""
        return path in self.public_paths

    def query_tokens(self, query_string: str) -> list[str]:
        """The ``access_token`` values of a query string (none unless that method is allowed)."""
        if not self.allow_query_token or QUERY_PARAMETER not in query_string:
            return []
        return parse_qs(query_string, keep_blank_values=True).get(QUERY_PARAMETER, [])

    # Sync twin of authenticate_async (duplicates pairs them): they differ only at the I/O lines
    # (key fetch, replay store, background refresh); the shared steps are _known_dpop,
    # _check_known, _verify and _publish_for.
    def authenticate(
        self,
        authorization: Sequence[str],
        query_tokens: Sequence[str] = (),
        *,
        cache_key: Hashable | None = None,
        dpop: Sequence[str] = (),
        target: Target | None = None,
    ) -> P:
        """What the request publishes: for its verified token, or :attr:`anonymous`.

        Blocking: when the signing keys must be fetched first (a key source, a
        ``kid`` not seen yet) the fetch runs in this thread, one at a time per
        source, and a shared replay store is asked from this thread. ASGI code
        calls :meth:`authenticate_async` instead.

        Args:
            authorization: every ``Authorization`` header value of the request.
            query_tokens: the ``access_token`` query values (see :meth:`query_tokens`).
            cache_key: the raw header value as the adapter will pass it to
                :meth:`cached`; the result is cached under it when a bearer
                token came from that single header. A DPoP request is never
                answered by :meth:`cached` (a proof is good for one request):
                what it publishes is kept apart, for the next proof with that token.
            dpop: every ``DPoP`` header value of the request.
            target: the request's method and URL parts
                (:func:`~scopegate._request_url.asgi_target`,
                :func:`~scopegate._request_url.wsgi_target`), called only for a
                DPoP request; required for the DPoP scheme to be accepted.

        Raises:
            BearerError: the request must be rejected with this error.
        """
        known = self._known_dpop(authorization, query_tokens, cache_key)
        if known is not None:
            self._spend(self._check_known(known, dpop, target))
            self._refresh_if_due()
            return known[2]
        try:
            access, proof, token = self._verify(authorization, query_tokens, dpop, target)
        except KeyRefreshNeeded as signal:
            signal.source.refresh_sync()
            access, proof, token = self._verify(
                authorization, query_tokens, dpop, target, retried=True
            )
        if proof is not None:
            self._spend(proof)
        self._refresh_if_due()
        return self._publish_for(access, cache_key, query_tokens, proof, token)

    async def authenticate_async(
        self,
        authorization: Sequence[str],
        query_tokens: Sequence[str] = (),
        *,
        cache_key: Hashable | None = None,
        dpop: Sequence[str] = (),
        target: Target | None = None,
    ) -> P:
        """:meth:`authenticate` for an event loop: a key fetch is awaited, never blocking.

        Concurrent requests that need the same keys share one fetch; a stale key
        set is refreshed in the background while requests keep being served.
        The replay store is asked with ``first_use_async``.

        Raises:
            BearerError: the request must be rejected with this error.
        """
        known = self._known_dpop(authorization, query_tokens, cache_key)
        if known is not None:
            await self._spend_async(self._check_known(known, dpop, target))
            self._refresh_if_due_async()
            return known[2]
        try:
            access, proof, token = self._verify(authorization, query_tokens, dpop, target)
        except KeyRefreshNeeded as signal:
            await signal.source.refresh_async()
            access, proof, token = self._verify(
                authorization, query_tokens, dpop, target, retried=True
            )
        if proof is not None:
            await self._spend_async(proof)
        self._refresh_if_due_async()
        return self._publish_for(access, cache_key, query_tokens, proof, token)

    def _refresh_if_due(self) -> None:
        keys = self._keys
        if keys is not None and keys.refresh_due() and self._refreshing.acquire(blocking=False):
            # One background thread at a time, whatever the number of requests that noticed.
            threading.Thread(target=self._refresh_in_background, args=(keys,), daemon=True).start()

    def _refresh_if_due_async(self) -> None:
        keys = self._keys
        if keys is not None and keys.refresh_due():
            task = asyncio.get_running_loop().create_task(keys.refresh_async())
            self._background.add(task)
            task.add_done_callback(self._background.discard)

    def _known_dpop(
        self,
        authorization: Sequence[str],
        query_tokens: Sequence[str],
        cache_key: Hashable | None,
    ) -> tuple[str, AccessToken, P] | None:
        """For a DPoP header verified before and still live: its token, verification, publication.

        Only for the exact header value alone, without query tokens: the
        request then reads exactly as it did (the DPoP scheme, that token).
        """
        bound = self._bound
        if bound is None or cache_key is None or query_tokens or len(authorization) != 1:
            return None
        return bound.get(cache_key)

    def _check_known(
        self,
        known: tuple[str, AccessToken, P],
        dpop: Sequence[str],
        target: Target | None,
    ) -> DPoPProof:
        """:meth:`_verify_dpop` for a known header: the proof rules, the token already verified."""
        assert self._dpop is not None  # a DPoP header is only kept with DPoP on
        token, access, _ = known
        try:
            return self._dpop.check(token, access, single_proof(dpop), target)
        except BearerError as error:
            if error.scheme is None:
                error.scheme = DPOP
            _log_rejection(error)
            raise

    def _spend(self, proof: DPoPProof) -> None:
        assert self._dpop is not None  # a proof is only checked with DPoP on
        try:
            self._dpop.spend(proof)
        except BearerError as error:
            error.scheme = DPOP
            _log_rejection(error)
            raise

    async def _spend_async(self, proof: DPoPProof) -> None:
        assert self._dpop is not None  # a proof is only checked with DPoP on
        try:
            await self._dpop.spend_async(proof)
        except BearerError as error:
            error.scheme = DPOP
            _log_rejection(error)
            raise

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
        self,
        access: AccessToken | None,
        cache_key: Hashable | None,
        query_tokens: Sequence[str],
        proof: DPoPProof | None = None,
        token: str = "",
    ) -> P:
        if access is None:
            return self.anonymous
        cache = self._published
        if proof is not None:
            # The proof passed for this request; what its token publishes is reusable
            # (keyed apart from every Authorization header: a header cache hit has no proof).
            bound = self._bound
            published = self._publish(access)
            if bound is not None and cache_key:
                bound.put(cache_key, (token, access, published), access.expires_at.timestamp())
            return published
        published = self._publish(access)
        if cache is not None and cache_key is not None and not query_tokens:
            cache.put(cache_key, published, access.expires_at.timestamp())
        return published

    def _verify(
        self,
        authorization: Sequence[str],
        query_tokens: Sequence[str],
        dpop: Sequence[str],
        target: Target | None,
        *,
        retried: bool = False,
    ) -> tuple[AccessToken | None, DPoPProof | None, str]:
        """The request's verified token (None when anonymous), its checked proof, the raw token.

        Logs a rejection by rule name.
        """
        credentials: Credentials | None = None
        try:
            credentials = extract_credentials(
                authorization,
                query_tokens,
                max_length=self._max_header,
                dpop=self._dpop is not None,
            )
            if credentials is None:
                if self.auth_required:
                    raise MissingTokenError()
                return None, None, ""
            token = credentials.token
            if credentials.scheme == DPOP:
                return (*self._verify_dpop(token, dpop, target, retried), token)
            if self.dpop_mode == "required":
                raise InvalidTokenError(TokenFailure.DPOP_REQUIRED)
            return self._verify_token(token, retried, bound=False), None, token
        except BearerError as error:
            if error.scheme is None and credentials is not None:
                error.scheme = credentials.scheme
            _log_rejection(error)
            raise

    def _verify_token(self, token: str, retried: bool, *, bound: bool) -> AccessToken:
        if not retried:
            return self.verifier.verify(token, bound=bound)
        try:
            return self.verifier.verify(token, bound=bound)
        except KeyRefreshNeeded as signal:  # refreshed already: no key for this token
            raise signal.source.settle() from None

    def _verify_dpop(
        self, token: str, dpop: Sequence[str], target: Target | None, retried: bool
    ) -> tuple[AccessToken, DPoPProof]:
        """RFC 9449 §4.3 and §7.1: one proof, a bound token, the proof for this request and key."""
        policy = self._dpop
        assert policy is not None  # the DPoP scheme is only parsed when proofs are checked
        proof = single_proof(dpop)
        access = self._verify_token(token, retried, bound=True)
        return access, policy.check(token, access, proof, target)


def _never(header: Hashable) -> None:
    return None


def _log_rejection(error: BearerError) -> None:
    if logger.isEnabledFor(logging.DEBUG):
        failure = getattr(error, "failure", None)
        reason = failure.name if failure is not None else error.description
        logger.debug("rejected request: %s (%s)", type(error).__name__, reason)


def enforce_scopes(token: AccessToken | None, requirement: ScopeRequirement) -> AccessToken:
    """The route guard: 401 without a token, 403 without the scopes; else the token."""
    if token is None:
        raise MissingTokenError()
    requirement.check(token.scopes)
    return token
