"""Pure ASGI middleware: authenticate every HTTP and websocket request.

Results are published where Starlette looks for them: ``scope["auth"]`` holds
:class:`TokenCredentials` (granted scopes and the :class:`AccessToken`) and
``scope["user"]`` a :class:`TokenUser`, so ``request.auth.scopes``,
``request.user`` and Starlette's ``@requires`` all work downstream. Both are
built once per token and shared by every request that carries it: treat them
as read-only.

The lifespan startup fetches the signing keys when they come from a JWK Set
(a failure is logged; requests then fetch them). A configuration error does
not escape from the constructor (Starlette builds
middleware lazily, inside the server's first call): the middleware fails the
ASGI lifespan startup with the error's message, so the server refuses to
start, and answers any request that still arrives with a bare 500.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from starlette.authentication import AuthCredentials, BaseUser, UnauthenticatedUser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from scopegate._protector import BearerProtector
from scopegate._request_url import asgi_target
from scopegate._settings import Settings
from scopegate._token import AccessToken
from scopegate._verifier import TokenVerifier
from scopegate.errors import BearerError, ConfigurationError, ErrorRenderer

__all__ = [
    "BearerAuthMiddleware",
    "TokenCredentials",
    "TokenUser",
    "token_from_scope",
]

logger = logging.getLogger("scopegate")

_WS_POLICY_VIOLATION = 1008
_DENIAL_EXTENSION = "websocket.http.response"
_AUTHORIZATION = b"authorization"
_DPOP = b"dpop"
_PROTECTED = frozenset({"http", "websocket"})
_MISCONFIGURED_BODY = json.dumps(
    {"error": "server_error", "error_description": "The server is misconfigured"},
    separators=(",", ":"),
).encode()


class TokenCredentials(AuthCredentials):
    """``request.auth``: the granted scopes, sorted, and the verified token (None if anonymous)."""

    def __init__(self, token: AccessToken | None = None) -> None:
        super().__init__(sorted(token.scopes) if token is not None else None)
        self.token = token


class TokenUser(BaseUser):
    """``request.user`` for a verified token; its identity is :attr:`AccessToken.identity`
    (``sub``, else the client id; ``""`` when the token names neither)."""

    def __init__(self, token: AccessToken) -> None:
        self.token = token

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def identity(self) -> str:
        return self.token.identity or ""

    @property
    def display_name(self) -> str:
        return self.identity


Identity = tuple[TokenCredentials, BaseUser]


def _publish(token: AccessToken | None) -> Identity:
    """What a request publishes: ``scope["auth"]`` and ``scope["user"]``, once per token."""
    if token is None:
        return TokenCredentials(), UnauthenticatedUser()
    return TokenCredentials(token), TokenUser(token)


def token_from_scope(scope: Scope) -> AccessToken | None:
    """The request's verified token, None when anonymous.

    Raises:
        RuntimeError: :class:`BearerAuthMiddleware` did not run for this request.
    """
    credentials = scope.get("auth")
    if not isinstance(credentials, TokenCredentials):
        raise RuntimeError(
            "scopegate's BearerAuthMiddleware is not installed in front of this route: "
            "add it with app.add_middleware(scopegate.asgi.BearerAuthMiddleware)"
        )
    return credentials.token


async def _send_response(
    scope: Scope, send: Send, status: int, headers: list[tuple[str, str]], body: bytes
) -> None:
    """An HTTP response, or a websocket handshake denial through ``websocket.http.response``."""
    prefix = "websocket." if scope["type"] == "websocket" else ""
    raw = [(name.encode(), value.encode()) for name, value in headers]
    raw.append((b"content-length", str(len(body)).encode()))
    await send({"type": prefix + "http.response.start", "status": status, "headers": raw})
    await send({"type": prefix + "http.response.body", "body": body})


def _can_deny(scope: Scope) -> bool:
    return scope["type"] == "http" or _DENIAL_EXTENSION in (scope.get("extensions") or {})


async def _render_error(
    scope: Scope, send: Send, error: BearerError, protector: BearerProtector[Any]
) -> None:
    """Send ``error`` as the response, or deny a websocket handshake with it.

    A websocket is denied with the same status, challenge and body as HTTP when
    the server offers the ``websocket.http.response`` extension (uvicorn does),
    else closed with 1008 before it is accepted.
    """
    if not _can_deny(scope):
        await send(
            {"type": "websocket.close", "code": _WS_POLICY_VIOLATION, "reason": error.description}
        )
        return
    credentials = scope.get("auth")
    token = credentials.token if isinstance(credentials, TokenCredentials) else None
    status, headers, body = protector.render(error, token)
    await _send_response(scope, send, status, headers, body)


def _prefetch_on_startup(protector: BearerProtector[Any], receive: Receive) -> Receive:
    """Fetch the signing keys when the server starts, before the app's own startup."""

    async def wrapped() -> Message:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await protector.prefetch()
        return message

    return wrapped


def _may_have_query_token(protector: BearerProtector[Any], scope: Scope) -> bool:
    return protector.allow_query_token and b"access_token" in scope.get("query_string", b"")


# Same constructor and options as wsgi.BearerAuthMiddleware, on purpose: one option set for
# every adapter, passed straight to BearerProtector (duplicates lists the pair).
class BearerAuthMiddleware:
    """Reject requests without a valid bearer token; publish the token of the others.

    Args:
        app: the ASGI application to protect.
        settings: the API's settings; None reads them from ``SCOPEGATE_*`` and ``.env``.
        verifier: a :class:`TokenVerifier` to share; built from the settings when None.
        error_renderer: turns a rejection into the response sent (see
            :data:`~scopegate.errors.ErrorRenderer`); None sends the RFC 6750 JSON body.
        **options: any :class:`Settings` field (``public_paths``, ``auth_required``,
            ``allow_query_token``, ...), winning over ``settings`` and the environment.

    Example::

        app = FastAPI()
        app.add_middleware(BearerAuthMiddleware, public_paths=["/health", "/docs"])
    """

    def __init__(
        self,
        app: ASGIApp,
        /,
        settings: Settings | None = None,
        *,
        verifier: TokenVerifier | None = None,
        error_renderer: ErrorRenderer | None = None,
        **options: Any,
    ) -> None:
        self.app = app
        self._protector: BearerProtector[Identity] | None = None
        self._error: ConfigurationError | None = None
        self._logged = False
        try:
            self._protector = BearerProtector(
                settings,
                publish=_publish,
                verifier=verifier,
                error_renderer=error_renderer,
                options=options,
            )
        except ConfigurationError as error:
            self._error = error

    @property
    def protector(self) -> BearerProtector[Identity]:
        """The request policy.

        Raises:
            ConfigurationError: the settings are invalid (the server never started).
        """
        if self._protector is None:
            assert self._error is not None
            raise self._error
        return self._protector

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        protector = self._protector
        if protector is None or scope["type"] not in _PROTECTED:
            await self._unprotected(scope, receive, send)
            return
        if scope["path"] in protector.public_paths:
            scope["auth"], scope["user"] = protector.anonymous
            await self.app(scope, receive, send)
            return
        # The hot path: a header seen before is answered with one lookup, unparsed.
        header: bytes | None = None
        several = False
        for name, value in scope["headers"]:  # ASGI servers send lowercased names
            if name == _AUTHORIZATION:
                several = header is not None
                header = value
        identity = None
        if (
            header is not None
            and not several
            # A DPoP request is never answered from this cache (its proof is checked each
            # time): skip the lookup that would miss. Other spellings of the scheme miss.
            and not header.startswith(b"DPoP ")
            and not _may_have_query_token(protector, scope)
        ):
            identity = protector.cached(header)
        if identity is None:
            try:
                identity = await self._authenticate(protector, scope)
            except BearerError as error:
                await _render_error(scope, send, error, protector)
                return
        scope["auth"], scope["user"] = identity
        try:
            await self.app(scope, receive, send)
        except BearerError as error:
            # A route guard refused the request. Guards raise before the route
            # responds; ``send`` is not wrapped to watch for that (a closure and
            # two more awaits on every request): if a response had started, the
            # server refuses the second start (ASGI requires it to) and the
            # guard's error is raised again, as it would have been.
            try:
                await _render_error(scope, send, error, protector)
            except Exception:
                raise error from None

    @staticmethod
    async def _authenticate(protector: BearerProtector[Identity], scope: Scope) -> Identity:
        values: list[bytes] = []
        proofs: list[str] = []
        for name, value in scope["headers"]:  # one pass: a DPoP request reads both
            if name == _AUTHORIZATION:
                values.append(value)
            elif name == _DPOP:
                proofs.append(value.decode("latin-1"))
        query: list[str] = []
        if protector.allow_query_token:
            query = protector.query_tokens(scope.get("query_string", b"").decode("latin-1"))
        return await protector.authenticate_async(
            [value.decode("latin-1") for value in values],
            query,
            cache_key=values[0] if len(values) == 1 else None,
            dpop=proofs,
            target=lambda: asgi_target(scope),
        )

    async def _unprotected(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Lifespan and other scopes pass through; a misconfigured app refuses to run."""
        protector = self._protector
        if scope["type"] == "lifespan":
            if protector is None:
                await self._fail_startup(receive, send)
            else:
                await self.app(scope, _prefetch_on_startup(protector, receive), send)
            return
        if protector is not None or scope["type"] not in _PROTECTED:
            await self.app(scope, receive, send)
            return
        await self._misconfigured(scope, send)

    async def _fail_startup(self, receive: Receive, send: Send) -> None:
        """Answer the lifespan startup with the configuration error: the server must not start."""
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.failed", "message": str(self._error)})

    async def _misconfigured(self, scope: Scope, send: Send) -> None:
        """A request reached an app whose settings are invalid (lifespan off): a bare 500."""
        if not self._logged:
            self._logged = True
            logger.error("scopegate: refusing every request: %s", self._error)
        if not _can_deny(scope):
            await send({"type": "websocket.close", "code": 1011, "reason": "Server misconfigured"})
            return
        headers = [("content-type", "application/json"), ("cache-control", "no-store")]
        await _send_response(scope, send, 500, headers, _MISCONFIGURED_BODY)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(app={self.app!r})"
