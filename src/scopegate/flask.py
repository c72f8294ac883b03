"""Flask integration: route guards, ``current_token`` and the ``ScopeGate`` extension.

Either wrap the WSGI app (``app.wsgi_app = scopegate.wsgi.BearerAuthMiddleware(app.wsgi_app)``)
or install the extension (``ScopeGate(app)``); the guards work with both and
answer exactly as the ASGI side does.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from typing import Any, TypeVar, cast

try:
    from flask import Flask, Response, current_app, request
except ImportError as exc:  # pragma: no cover - exercised without the extra installed
    raise ImportError("scopegate.flask needs Flask: pip install 'scopegate[flask]'") from exc

from scopegate._environ import (
    ENVIRON_PROTECTOR,
    ENVIRON_TOKEN,
    publish,
    publish_environ,
    token_from_environ,
)
from scopegate._errors_base import status_line
from scopegate._guards import TokenPredicate, enforce_claim, enforce_token
from scopegate._protector import BearerProtector, enforce_scopes
from scopegate._scopes import ScopeRequirement
from scopegate._settings import Settings, env_name
from scopegate._token import AccessToken
from scopegate._verifier import TokenVerifier
from scopegate.errors import BearerError, ErrorRenderer

__all__ = [
    "ScopeGate",
    "current_token",
    "get_current_token",
    "require_any_scope",
    "require_claim",
    "require_scope",
    "require_token",
]

F = TypeVar("F", bound=Callable[..., Any])
EXTENSION = "scopegate"


def get_current_token() -> AccessToken | None:
    """The current request's verified token; None when anonymous."""
    return token_from_environ(request.environ)


class _CurrentTokenProxy:
    """The current request's :class:`AccessToken`; false when the request is anonymous.

    Unlike werkzeug's ``LocalProxy``, truth testing does not hide a missing
    installation: ``if current_token:`` raises when scopegate did not run.
    """

    __slots__ = ()

    def __bool__(self) -> bool:
        return get_current_token() is not None

    def __getattr__(self, name: str) -> Any:
        token = get_current_token()
        if token is None:
            raise RuntimeError(
                "current_token: this request is anonymous (it carried no bearer token); "
                "test `if current_token:` or use get_current_token() first"
            )
        return getattr(token, name)

    def __repr__(self) -> str:
        return "<scopegate.flask.current_token>"


#: The current request's token: attributes of the :class:`AccessToken`, false when anonymous.
current_token = cast("AccessToken", _CurrentTokenProxy())


def _error_response(
    error: BearerError, protector: BearerProtector[Any], token: AccessToken | None = None
) -> Response:
    """``error`` as a Flask response: the same status, headers and body as everywhere.

    ``token`` is the request's verified token when a guard refused it (the
    challenge goes on the scheme it came with).
    """
    status, headers, body = protector.render(error, token)
    return Response(body, status=status_line(status), headers=headers)


def _protector() -> BearerProtector[Any]:
    protector: BearerProtector[Any] = request.environ[ENVIRON_PROTECTOR]
    return protector


def require_scope(*scopes: str) -> Callable[[F], F]:
    """Decorate a view so it needs every one of ``scopes`` (401 without a token, else 403).

    Works on sync and async views, Blueprint views and ``MethodView`` methods
    (or in ``MethodView.decorators``).

    Example::

        @app.get("/api/private-scoped")
        @require_scope("sample-scope")
        def private_scoped(): ...
    """
    return _guard(functools.partial(enforce_scopes, requirement=ScopeRequirement.of(scopes)))


# The same guards as scopegate.starlette, on purpose: each adapter lifts the core's
# enforce_* into its framework's decorator; the rule stays in protector and guards.
def require_any_scope(*scopes: str) -> Callable[[F], F]:
    """Decorate a view so it needs at least one of ``scopes``."""
    return _guard(
        functools.partial(enforce_scopes, requirement=ScopeRequirement.of(scopes, any_of=True))
    )


def _guard(enforce: Callable[[AccessToken | None], AccessToken]) -> Callable[[F], F]:
    """The one guard behind every decorator: ``enforce`` the request's token, then the view."""

    def decorator(view: F) -> F:
        is_async = inspect.iscoroutinefunction(view)

        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            token = get_current_token()
            try:
                enforce(token)
            except BearerError as error:
                return _error_response(error, _protector(), token)
            if is_async:
                return current_app.ensure_sync(view)(*args, **kwargs)
            return view(*args, **kwargs)

        return cast(F, wrapper)

    return decorator


def require_claim(name: str, *values: Any) -> Callable[[F], F]:
    """Decorate a view so it needs claim ``name`` (and, given ``values``, one of them).

    401 without a token; 401 ``invalid_token`` when the claim is missing or not
    accepted (:func:`scopegate._guards.enforce_claim`).

    Example::

        @app.get("/api/machines")
        @require_claim("gty", "client-credentials")
        def machines(): ...
    """
    accepted = tuple(values)
    return _guard(lambda token: enforce_claim(token, name, accepted))


def require_token(predicate: TokenPredicate) -> Callable[[F], F]:
    """Decorate a view so ``predicate(token)`` must be True (else 401 ``invalid_token``)."""
    return _guard(lambda token: enforce_token(token, predicate))


def _settings_from_config(config: Mapping[str, Any]) -> Settings:
    """Settings from the ``SCOPEGATE_*`` keys of a Flask config, the environment filling the rest.

    A key holds what its environment variable would (``"true"``, ``"/a,/b"``) or
    a Python value (``True``, ``["/a", "/b"]``); both go through the same
    validation as every other source.
    """
    return Settings(**_config_values(config))


def _config_values(config: Mapping[str, Any]) -> dict[str, Any]:
    return {
        name: config[env_name(name)] for name in Settings.model_fields if env_name(name) in config
    }


class ScopeGate:
    """The Flask extension: authenticate every request of an app before its views run.

    Reads ``SCOPEGATE_*`` keys from ``app.config`` (any :class:`Settings` field,
    the request policy included), falling back to the environment and ``.env``;
    keyword arguments win over both. The per-app state, a
    :class:`~scopegate._protector.BearerProtector`, lives in
    ``app.extensions["scopegate"]``.

    Args:
        app: the app to install on now; or call :meth:`init_app` later.
        settings: a complete configuration: ``app.config`` and the environment
            are then not read.
        verifier: a :class:`~scopegate._verifier.TokenVerifier` to share.
        error_renderer: turns a rejection into the response sent.
        **options: any :class:`Settings` field, winning over every other source.

    Example::

        scopegate = ScopeGate(public_paths=["/health"])
        scopegate.init_app(app)  # or ScopeGate(app)
    """

    def __init__(
        self,
        app: Flask | None = None,
        *,
        settings: Settings | None = None,
        verifier: TokenVerifier | None = None,
        error_renderer: ErrorRenderer | None = None,
        **options: Any,
    ) -> None:
        self.settings = settings
        self.verifier = verifier
        self.error_renderer = error_renderer
        self.options = options
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        """Install the checks on ``app`` and its state in ``app.extensions["scopegate"]``.

        Raises:
            ConfigurationError: invalid settings, all of them named.
        """
        options = self.options
        if self.settings is None and self.verifier is None:
            options = {**_config_values(app.config), **options}
        app.extensions[EXTENSION] = BearerProtector(
            self.settings,
            publish=publish,
            verifier=self.verifier,
            error_renderer=self.error_renderer,
            options=options,
        )
        app.before_request(_authenticate)
        app.register_error_handler(BearerError, _handle_error)

    def protector(self, app: Flask) -> BearerProtector[AccessToken | None]:
        """The request policy installed on ``app``."""
        protector: BearerProtector[AccessToken | None] = app.extensions[EXTENSION]
        return protector


def _authenticate() -> Response | None:
    protector: BearerProtector[AccessToken | None] = current_app.extensions[EXTENSION]
    error = publish_environ(protector, request.environ)
    return None if error is None else _error_response(error, protector)


def _handle_error(error: BearerError) -> Response:
    return _error_response(error, _protector(), request.environ.get(ENVIRON_TOKEN))
