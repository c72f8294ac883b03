"""Route guards for plain Starlette endpoints.

The decorators raise :class:`~scopegate.errors.BearerError`; the
:class:`~scopegate.asgi.BearerAuthMiddleware` in front of the app renders it,
so a 401 or 403 from a route looks exactly like one from the middleware.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar

from starlette.requests import HTTPConnection, Request
from starlette.websockets import WebSocket

from scopegate._guards import TokenPredicate, enforce_claim, enforce_token
from scopegate._protector import enforce_scopes
from scopegate._scopes import ScopeRequirement
from scopegate._token import AccessToken
from scopegate.asgi import token_from_scope

__all__ = [
    "current_token",
    "require_any_scope",
    "require_claim",
    "require_scope",
    "require_token",
]

F = TypeVar("F", bound=Callable[..., Any])


def current_token(conn: HTTPConnection) -> AccessToken | None:
    """The verified token of a request or websocket; None when anonymous."""
    return token_from_scope(conn.scope)


# HTTPConnection is an ABC-registered Mapping: an exact-type test first keeps the
# common case off the slow isinstance path (about 0.2 µs per request).
_CONNECTIONS = frozenset({Request, WebSocket})


def _connection(args: tuple[Any, ...], kwargs: dict[str, Any]) -> HTTPConnection:
    for value in (*args, *kwargs.values()):  # (request,) or (self, request) in an HTTPEndpoint
        if type(value) in _CONNECTIONS or isinstance(value, HTTPConnection):
            return value  # type: ignore[no-any-return]
    raise TypeError("a scope-guarded endpoint must receive a Request or a WebSocket")


def require_scope(*scopes: str) -> Callable[[F], F]:
    """Decorate an endpoint so it needs every one of ``scopes`` (401 without a token, else 403).

    Example::

        @require_scope("read:messages")
        async def messages(request: Request) -> Response: ...
    """
    return _guard(functools.partial(enforce_scopes, requirement=ScopeRequirement.of(scopes)))


# The same guards as scopegate.flask, on purpose: each adapter lifts the core's
# enforce_* into its framework's decorator; the rule stays in protector and guards.
def require_any_scope(*scopes: str) -> Callable[[F], F]:
    """Decorate an endpoint so it needs at least one of ``scopes``."""
    return _guard(
        functools.partial(enforce_scopes, requirement=ScopeRequirement.of(scopes, any_of=True))
    )


def _guard(enforce: Callable[[AccessToken | None], AccessToken]) -> Callable[[F], F]:
    """The one guard behind every decorator: ``enforce`` the request's token, then the view."""

    def decorator(func: F) -> F:
        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                enforce(token_from_scope(_connection(args, kwargs).scope))
                return await func(*args, **kwargs)

            return async_wrapper  # type: ignore[return-value]

        @functools.wraps(func)
        def sync_wrapper(*args: Any, **kwargs: Any) -> Any:
            enforce(token_from_scope(_connection(args, kwargs).scope))
            return func(*args, **kwargs)

        return sync_wrapper  # type: ignore[return-value]

    return decorator


def require_claim(name: str, *values: Any) -> Callable[[F], F]:
    """Decorate an endpoint so it needs claim ``name`` (and, given ``values``, one of them).

    401 without a token; 401 ``invalid_token`` when the claim is missing or not
    accepted (:func:`scopegate._guards.enforce_claim`).

    Example::

        @require_claim("gty", "client-credentials")
        async def machines_only(request: Request) -> Response: ...
    """
    accepted = tuple(values)
    return _guard(lambda token: enforce_claim(token, name, accepted))


def require_token(predicate: TokenPredicate) -> Callable[[F], F]:
    """Decorate an endpoint so ``predicate(token)`` must be True (else 401 ``invalid_token``)."""
    return _guard(lambda token: enforce_token(token, predicate))
