"""Pure ASGI middleware: authenticate every HTTP and websocket request.

Results are published where Starlette looks for them: ``scope["auth"]`` holds
:class:`TokenCredentials` (granted scopes and the :class:`AccessToken`) and
``scope["user"]`` a :class:`TokenUser`, so ``request.auth.scopes``,
``request.user`` and Starlette's ``@requires`` all work downstream.
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.authentication import AuthCredentials, BaseUser, UnauthenticatedUser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from scopegate.errors import BearerError, ErrorRenderer
from scopegate.protector import BearerProtector
from scopegate.settings import Settings
from scopegate.token import AccessToken
from scopegate.verifier import TokenVerifier

__all__ = [
    "BearerAuthMiddleware",
    "TokenCredentials",
    "TokenUser",
    "render_error",
    "token_from_scope",
]

_WS_POLICY_VIOLATION = 1008


class TokenCredentials(AuthCredentials):
    """``request.auth``: the granted scopes, plus the verified token (None when anonymous)."""

    def __init__(self, token: AccessToken | None = None) -> None:
        super().__init__(list(token.scopes) if token is not None else None)
        self.token = token


class TokenUser(BaseUser):
    """``request.user`` for a verified token; its identity is the ``sub`` claim."""

    def __init__(self, token: AccessToken) -> None:
        self.token = token

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def identity(self) -> str:
        return self.token.subject or self.token.client_id or ""

    @property
    def display_name(self) -> str:
        return self.identity


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


async def render_error(
    scope: Scope, send: Send, error: BearerError, protector: BearerProtector
) -> None:
    """Send ``error`` as the response (HTTP) or as a 1008 close before accept (websocket)."""
    if scope["type"] == "websocket":
        await send(
            {"type": "websocket.close", "code": _WS_POLICY_VIOLATION, "reason": error.description}
        )
        return
    status, header_list, body = protector.render(error)
    headers = [(name.encode(), value.encode()) for name, value in header_list]
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _header_values(scope: Scope, name: bytes) -> list[str]:
    # ASGI servers send lowercased names (Starlette's Headers relies on it too).
    return [value.decode("latin-1") for key, value in scope["headers"] if key == name]


class BearerAuthMiddleware:
    """Reject requests without a valid bearer token; publish the token of the others.

    Args:
        app: the ASGI application to protect.
        settings: the API's settings; None loads :class:`Settings` from ``SCOPEGATE_*``.
        auth_required: when False, a request without a token passes as
            anonymous and route guards decide; a bad token is still rejected.
        public_paths: exact paths served without any token check.
        allow_query_token: also accept ``?access_token=`` (RFC 6750 §2.3).
        verifier: a shared :class:`TokenVerifier`; built from ``settings`` when None.
        error_renderer: turns a rejection into the response sent (see
            :data:`~scopegate.errors.ErrorRenderer`); None sends the RFC 6750 JSON body.

    Example:
        >>> app = FastAPI()
        >>> app.add_middleware(BearerAuthMiddleware, public_paths=["/health", "/docs"])
    """

    def __init__(
        self,
        app: ASGIApp,
        settings: Settings | None = None,
        *,
        auth_required: bool = True,
        public_paths: Iterable[str] = (),
        allow_query_token: bool = False,
        verifier: TokenVerifier | None = None,
        error_renderer: ErrorRenderer | None = None,
    ) -> None:
        self.app = app
        self.protector = BearerProtector(
            settings,
            auth_required=auth_required,
            public_paths=public_paths,
            allow_query_token=allow_query_token,
            verifier=verifier,
            error_renderer=error_renderer,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, self._prefetch_on_startup(receive), send)
            return
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        protector = self.protector
        if protector.is_public(scope["path"]):
            scope["auth"], scope["user"] = TokenCredentials(), UnauthenticatedUser()
            await self.app(scope, receive, send)
            return
        try:
            query: list[str] = []
            if protector.allow_query_token:
                query = protector.query_tokens(scope.get("query_string", b"").decode("latin-1"))
            token = await protector.authenticate_async(
                _header_values(scope, b"authorization"), query
            )
        except BearerError as error:
            await render_error(scope, send, error, protector)
            return
        scope["auth"] = TokenCredentials(token)
        scope["user"] = TokenUser(token) if token is not None else UnauthenticatedUser()
        await self._call_app(scope, receive, send)

    def _prefetch_on_startup(self, receive: Receive) -> Receive:
        """Fetch the signing keys when the server starts, before the app's own startup."""

        async def wrapped() -> Message:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await self.protector.prefetch()
            return message

        return wrapped

    async def _call_app(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the app; render a :class:`BearerError` a route guard raised before responding."""
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except BearerError as error:
            if started:
                raise
            await render_error(scope, send, error, self.protector)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(app={self.app!r})"
