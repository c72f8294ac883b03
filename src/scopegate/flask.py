"""Flask integration: route guards, ``current_token`` and the ``ScopeGate`` extension.

Either wrap the WSGI app (``app.wsgi_app = scopegate.wsgi.BearerAuthMiddleware(app.wsgi_app)``)
or install the extension (``ScopeGate(app)``); the guards work with both and
answer exactly as the ASGI side does.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar, cast
from weakref import WeakKeyDictionary

try:
    from flask import Flask, Response, current_app, request
except ImportError as exc:  # pragma: no cover - exercised without the extra installed
    raise ImportError("scopegate.flask needs Flask: pip install 'scopegate[flask]'") from exc

from scopegate.errors import BearerError, ConfigurationError, status_line
from scopegate.guards import TokenPredicate, enforce_claim, enforce_token
from scopegate.protector import BearerProtector, enforce_scopes
from scopegate.scopes import required_scopes
from scopegate.settings import Settings, env_name
from scopegate.token import AccessToken
from scopegate.wsgi import ENVIRON_PROTECTOR, ENVIRON_TOKEN, token_from_environ

__all__ = [
    "ScopeGate",
    "current_token",
    "error_response",
    "get_current_token",
    "require_any_scope",
    "require_claim",
    "require_scope",
    "require_token",
    "settings_from_config",
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


def error_response(error: BearerError, protector: BearerProtector) -> Response:
    """``error`` as a Flask response: the same status, headers and body as everywhere."""
    status, headers, body = protector.render(error)
    return Response(body, status=status_line(status), headers=headers)


def _protector() -> BearerProtector:
    protector: BearerProtector = request.environ[ENVIRON_PROTECTOR]
    return protector


def _guard(required: tuple[str, ...], *, any_of: bool) -> Callable[[F], F]:
    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                enforce_scopes(get_current_token(), required, any_of=any_of)
            except BearerError as error:
                return error_response(error, _protector())
            return current_app.ensure_sync(view)(*args, **kwargs)

        return cast(F, wrapper)

    return decorator


def require_scope(*scopes: str) -> Callable[[F], F]:
    """Decorate a view so it needs every one of ``scopes`` (401 without a token, else 403).

    Works on sync and async views, Blueprint views and ``MethodView`` methods
    (or in ``MethodView.decorators``).

    Example:
        >>> @app.get("/api/private-scoped")
        ... @require_scope("sample-scope")
        ... def private_scoped(): ...
    """
    return _guard(required_scopes(scopes), any_of=False)


def require_any_scope(*scopes: str) -> Callable[[F], F]:
    """Decorate a view so it needs at least one of ``scopes``."""
    return _guard(required_scopes(scopes), any_of=True)


def _token_guard(enforce: Callable[[AccessToken | None], AccessToken]) -> Callable[[F], F]:
    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                enforce(get_current_token())
            except BearerError as error:
                return error_response(error, _protector())
            return current_app.ensure_sync(view)(*args, **kwargs)

        return cast(F, wrapper)

    return decorator


def require_claim(name: str, *values: Any) -> Callable[[F], F]:
    """Decorate a view so it needs claim ``name`` (and, given ``values``, one of them).

    401 without a token; 401 ``invalid_token`` when the claim is missing or not
    accepted (:func:`scopegate.guards.enforce_claim`).

    Example:
        >>> @app.get("/api/machines")
        ... @require_claim("gty", "client-credentials")
        ... def machines(): ...
    """
    accepted = tuple(values)
    return _token_guard(lambda token: enforce_claim(token, name, accepted))


def require_token(predicate: TokenPredicate) -> Callable[[F], F]:
    """Decorate a view so ``predicate(token)`` must be True (else 401 ``invalid_token``)."""
    return _token_guard(lambda token: enforce_token(token, predicate))


def settings_from_config(config: dict[str, Any]) -> Settings:
    """Settings from ``SCOPEGATE_*`` keys of a Flask config, the environment filling the rest."""
    values = {
        name: config[env_name(name)] for name in Settings.model_fields if env_name(name) in config
    }
    return Settings(**values)


T = TypeVar("T")
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def _boolean(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.strip().lower() in _TRUE | _FALSE:
        return raw.strip().lower() in _TRUE
    raise ValueError("expected true or false")


def _paths(raw: Any) -> tuple[str, ...]:
    if isinstance(raw, str):
        return tuple(raw.replace(",", " ").split())
    if isinstance(raw, Iterable) and all(isinstance(path, str) for path in raw):
        return tuple(raw)
    raise ValueError("expected paths, as a list or a comma-separated string")


def _option(
    explicit: T | None,
    config: Mapping[str, Any],
    name: str,
    default: T,
    parse: Callable[[Any], T],
) -> T:
    """A request-policy option: the argument, else app.config, else the environment."""
    if explicit is not None:
        return explicit
    key = f"SCOPEGATE_{name}"
    raw = config[key] if key in config else os.environ.get(key)
    if raw is None:
        return default
    try:
        return parse(raw)
    except ValueError as exc:
        raise ConfigurationError(f"Invalid scopegate settings:\n  {key}: {exc}") from None


class ScopeGate:
    """The Flask extension: authenticate every request of an app before its views run.

    Reads ``SCOPEGATE_*`` keys from ``app.config`` (falling back to the
    environment), plus ``SCOPEGATE_AUTH_REQUIRED``, ``SCOPEGATE_PUBLIC_PATHS``
    (a list, or a comma-separated string) and ``SCOPEGATE_ALLOW_QUERY_TOKEN``
    (true/false, 1/0, yes/no, on/off) for the request policy when they are not
    given here.

    Example:
        >>> scopegate = ScopeGate()
        >>> scopegate.init_app(app)  # or ScopeGate(app)
    """

    def __init__(
        self,
        app: Flask | None = None,
        *,
        settings: Settings | None = None,
        auth_required: bool | None = None,
        public_paths: Iterable[str] | None = None,
        allow_query_token: bool | None = None,
    ) -> None:
        self.settings = settings
        self.auth_required = auth_required
        self.public_paths = public_paths
        self.allow_query_token = allow_query_token
        self._protectors: WeakKeyDictionary[Flask, BearerProtector] = WeakKeyDictionary()
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        """Install the checks on ``app`` and register ``app.extensions["scopegate"]``."""
        config = app.config
        self._protectors[app] = BearerProtector(
            self.settings if self.settings is not None else settings_from_config(config),
            auth_required=_option(self.auth_required, config, "AUTH_REQUIRED", True, _boolean),
            public_paths=_option(self.public_paths, config, "PUBLIC_PATHS", (), _paths),
            allow_query_token=_option(
                self.allow_query_token, config, "ALLOW_QUERY_TOKEN", False, _boolean
            ),
        )
        app.extensions[EXTENSION] = self
        app.before_request(self._authenticate)
        app.register_error_handler(BearerError, self._handle_error)

    def protector(self, app: Flask) -> BearerProtector:
        """The request policy installed on ``app``."""
        return self._protectors[app]

    def _authenticate(self) -> Response | None:
        protector = self._protectors[current_app._get_current_object()]  # type: ignore[attr-defined]
        environ = request.environ
        environ[ENVIRON_PROTECTOR] = protector
        environ[ENVIRON_TOKEN] = None
        if protector.is_public(request.path):
            return None
        try:
            query = protector.query_tokens(request.query_string.decode("latin-1"))
            token = protector.authenticate(request.headers.getlist("Authorization"), query)
        except BearerError as error:
            return error_response(error, protector)
        environ[ENVIRON_TOKEN] = token
        return None

    def _handle_error(self, error: BearerError) -> Response:
        return error_response(error, _protector())
