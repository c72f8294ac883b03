"""FastAPI integration: scope requirements as dependencies or decorators, shown in OpenAPI.

``require_scope("sample-scope")`` is one object that serves both styles::

    @app.get("/a", dependencies=[Security(require_scope("sample-scope"))])
    async def a() -> dict[str, str]: ...

    @app.get("/b")
    @require_scope("sample-scope")
    async def b() -> dict[str, str]: ...

Either way the operation carries a bearer security requirement listing the
scopes, so Swagger UI shows the lock and the Authorize button. Checking is
done by :class:`~scopegate.asgi.BearerAuthMiddleware`; the dependency only
reads its result and raises the error the middleware renders.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated, Any, TypeVar, overload

try:
    from fastapi import Depends, Security
    from fastapi.openapi.models import HTTPBearer as HTTPBearerModel
    from fastapi.security.base import SecurityBase
except ImportError as exc:  # pragma: no cover - exercised without the extra installed
    raise ImportError("scopegate.fastapi needs FastAPI: pip install 'scopegate[fastapi]'") from exc
from starlette.requests import HTTPConnection

from scopegate._guards import TokenPredicate, enforce_claim, enforce_token
from scopegate._protector import enforce_scopes
from scopegate._scopes import ScopeRequirement
from scopegate._token import AccessToken
from scopegate.asgi import token_from_scope

if TYPE_CHECKING:  # typing.Self is Python 3.11+
    from typing_extensions import Self

# The same guard names as scopegate.starlette (duplicates pairs the lists), on purpose: each
# adapter offers the one vocabulary (the README's public-API table).
__all__ = [
    "BearerScheme",
    "CurrentToken",
    "ScopeDependency",
    "TokenCheckDependency",
    "bearer_scheme",
    "current_token",
    "require_any_scope",
    "require_claim",
    "require_scope",
    "require_token",
]

F = TypeVar("F", bound=Callable[..., Any])
_TokenCheckFunction = Callable[[AccessToken | None], AccessToken]
_TOKEN_PARAMETER = "_scopegate_token"  # noqa: S105 - a parameter name


class _BearerSecurity(SecurityBase):
    """What makes a dependency the ``http``/``bearer`` scheme of the OpenAPI document."""

    def __init__(self, scheme_name: str = "BearerAuth") -> None:
        self.model = HTTPBearerModel(
            bearerFormat="JWT",
            description="An access token for this API, sent as `Authorization: Bearer <token>`.",
        )
        self.scheme_name = scheme_name


class BearerScheme(_BearerSecurity):
    """The ``http``/``bearer`` security scheme in the OpenAPI document.

    It only documents the scheme; the middleware does the checking, so the
    dependency itself does nothing.
    """

    async def __call__(self) -> None:
        return None


class _ScopeCheck(_BearerSecurity):
    """The decorator style's one dependency: the check, and the scheme it documents.

    The decorator writes ``Security(check, scopes=[...])`` itself, so FastAPI
    documents the route's scopes from that, with no second dependency to
    resolve on every request (about 9 µs each in FastAPI).
    """

    def __init__(self, requirement: ScopeRequirement) -> None:
        super().__init__()
        self.requirement = requirement

    async def __call__(self, request: HTTPConnection) -> AccessToken:
        return enforce_scopes(token_from_scope(request.scope), self.requirement)


bearer_scheme = BearerScheme()


async def current_token(request: HTTPConnection) -> AccessToken | None:
    """Dependency: the request's verified token, None for an anonymous request."""
    return token_from_scope(request.scope)


CurrentToken = Annotated[AccessToken | None, Depends(current_token)]


async def _check_scopes(
    requirement: ScopeRequirement, *, request: HTTPConnection, _scheme: None = None
) -> AccessToken:
    return enforce_scopes(token_from_scope(request.scope), requirement)


async def _check_token(
    check: _TokenCheckFunction, *, request: HTTPConnection, _scheme: None = None
) -> AccessToken:
    return check(token_from_scope(request.scope))


class ScopeDependency(functools.partial[Awaitable[AccessToken]]):
    """A scope requirement usable as a FastAPI dependency and as a route decorator.

    Build it with :func:`require_scope` or :func:`require_any_scope`.

    It is a :func:`functools.partial` of an ``async def`` check: FastAPI,
    Starlette and :func:`inspect.iscoroutinefunction` see through a partial to
    the coroutine function, so FastAPI awaits the check on the event loop (no
    threadpool hop) with no private coroutine marker. Called with an endpoint
    instead of FastAPI's keyword arguments, it decorates that endpoint.
    """

    requirement: ScopeRequirement
    required: tuple[str, ...]
    any_of: bool
    _decorator_check: _ScopeCheck
    __signature__: inspect.Signature

    def __new__(cls, requirement: ScopeRequirement) -> Self:
        return cls._build(_check_scopes, requirement, requirement, _ScopeCheck(requirement))

    @classmethod
    def _build(
        cls,
        check: Callable[..., Awaitable[AccessToken]],
        argument: Any,
        requirement: ScopeRequirement,
        decorator_check: _ScopeCheck,
    ) -> Self:
        self = super().__new__(cls, check, argument)
        self.requirement = requirement
        self.required = requirement.scopes
        self.any_of = requirement.any_of
        self._decorator_check = decorator_check
        # OpenAPI requirements are conjunctive, so "any of" lists no scope rather than a wrong set.
        documented = [] if requirement.any_of else list(requirement.scopes)
        self.__signature__ = inspect.Signature(
            [
                inspect.Parameter(
                    "request", inspect.Parameter.KEYWORD_ONLY, annotation=HTTPConnection
                ),
                inspect.Parameter(
                    "_scheme",
                    inspect.Parameter.KEYWORD_ONLY,
                    default=Security(bearer_scheme, scopes=documented),
                ),
            ],
            return_annotation=AccessToken,
        )
        return self

    @overload
    def __call__(self, endpoint: F, /) -> F: ...

    @overload
    def __call__(self, *, request: HTTPConnection, _scheme: None) -> Awaitable[AccessToken]: ...

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if args:
            return self._decorate(args[0])
        return super().__call__(**kwargs)

    def _decorate(self, endpoint: F) -> F:
        signature = inspect.signature(endpoint)
        parameters = list(signature.parameters.values())
        position = len(parameters)
        if parameters and parameters[-1].kind is inspect.Parameter.VAR_KEYWORD:
            position -= 1
        documented = [] if self.any_of else list(self.required)
        parameters.insert(
            position,
            inspect.Parameter(
                _TOKEN_PARAMETER,
                inspect.Parameter.KEYWORD_ONLY,
                default=Security(self._decorator_check, scopes=documented),
                annotation=AccessToken,
            ),
        )
        if inspect.iscoroutinefunction(endpoint):

            @functools.wraps(endpoint)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                kwargs.pop(_TOKEN_PARAMETER, None)
                return await endpoint(*args, **kwargs)

            wrapper: Callable[..., Any] = async_wrapper
        else:

            @functools.wraps(endpoint)
            def sync_wrapper(*args: Any, **kwargs: Any) -> Any:
                kwargs.pop(_TOKEN_PARAMETER, None)
                return endpoint(*args, **kwargs)

            wrapper = sync_wrapper
        wrapper.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    def __repr__(self) -> str:
        kind = "require_any_scope" if self.any_of else "require_scope"
        return f"{kind}({' '.join(self.required)!r})"


def require_scope(*scopes: str) -> ScopeDependency:
    """Require every one of ``scopes``: 401 without a token, 403 ``insufficient_scope`` otherwise.

    ``"read write"`` is two scopes. Use it as ``Security(require_scope(...))``
    (the dependency returns the :class:`AccessToken`) or as a decorator below
    ``@app.get(...)``.
    """
    return ScopeDependency(ScopeRequirement.of(scopes))


def require_any_scope(*scopes: str) -> ScopeDependency:
    """Require at least one of ``scopes``; otherwise like :func:`require_scope`."""
    return ScopeDependency(ScopeRequirement.of(scopes, any_of=True))


class _TokenCheck(_ScopeCheck):
    """The decorator style's one dependency for ``require_claim`` and ``require_token``."""

    def __init__(self, check: _TokenCheckFunction) -> None:
        super().__init__(ScopeRequirement(()))
        self._token_check = check

    async def __call__(self, request: HTTPConnection) -> AccessToken:
        return self._token_check(token_from_scope(request.scope))


class TokenCheckDependency(ScopeDependency):
    """A claim or token check usable as a FastAPI dependency and as a route decorator.

    Build it with :func:`require_claim` or :func:`require_token`. It documents
    the bearer scheme (no scopes) and answers 401 ``invalid_token`` when the
    check fails, like the express peer's ``claimEquals``/``claimCheck``.
    """

    _label: str

    def __new__(cls, check: _TokenCheckFunction, label: str) -> Self:
        self = cls._build(_check_token, check, ScopeRequirement(()), _TokenCheck(check))
        self._label = label
        return self

    def __repr__(self) -> str:
        return self._label


def require_claim(name: str, *values: Any) -> TokenCheckDependency:
    """Require claim ``name`` (not null) and, given ``values``, one of them.

    401 without a token; 401 ``invalid_token`` when the claim is missing or not
    accepted. Use as ``Security(require_claim("gty", "client-credentials"))`` or
    as a decorator below ``@app.get(...)``.
    """
    accepted = tuple(values)
    return TokenCheckDependency(
        lambda token: enforce_claim(token, name, accepted),
        f"require_claim({', '.join(map(repr, (name, *accepted)))})",
    )


def require_token(predicate: TokenPredicate) -> TokenCheckDependency:
    """Require ``predicate(token)`` to be True; otherwise 401 ``invalid_token``.

    For anything :func:`require_claim` cannot say, e.g.
    ``require_token(lambda t: "admin" in t.claims.get("roles", []))``.
    """
    name = getattr(predicate, "__qualname__", repr(predicate))
    return TokenCheckDependency(
        lambda token: enforce_token(token, predicate), f"require_token({name})"
    )
