"""The conformance apps again, in Flask: the same routes, the same answers.

Two styles, as a Flask team would write them:

- ``flask-middleware``: ``app.wsgi_app = scopegate.wsgi.BearerAuthMiddleware(...)``;
- ``flask-extension``: ``scopegate.flask.ScopeGate``, with every setting, the
  request policy (``SCOPEGATE_AUTH_REQUIRED``, ``SCOPEGATE_PUBLIC_PATHS``,
  ``SCOPEGATE_ALLOW_QUERY_TOKEN``) included, read from ``app.config``.

Between them the guards sit on sync views, async views, Blueprint views and
``MethodView`` classes (in ``decorators`` and on a method). There is no
``/ws``: WSGI has no websockets, so the websocket cases do not apply.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, Flask, jsonify
from flask.typing import ResponseReturnValue
from flask.views import MethodView

from scopegate import AccessToken, Settings
from scopegate._settings import env_name
from scopegate.flask import (
    ScopeGate,
    _settings_from_config,
    current_token,
    get_current_token,
    require_any_scope,
    require_claim,
    require_scope,
    require_token,
)
from scopegate.wsgi import BearerAuthMiddleware

from .apps import PUBLIC_PATHS, from_our_client, verifier_for

__all__ = ["FLASK_STYLES", "build_flask_app"]


def identity(token: AccessToken | None) -> dict[str, Any]:
    """What ``/api/whoami`` answers: the token's subject, client and scopes, or nulls.

    ``current_token`` is a proxy, never ``None`` itself: test it for truth, not identity.
    """
    if not token:
        return {"subject": None, "client_id": None, "scopes": [], "confirmation": None}
    return {
        "subject": token.subject,
        "client_id": token.client_id,
        "scopes": sorted(token.scopes),
        "confirmation": token.confirmation,
    }


def _middleware_routes(app: Flask) -> None:
    """Sync and async app views, a Blueprint view and a ``MethodView`` with ``decorators``."""

    @app.get("/api/public")
    def public() -> ResponseReturnValue:
        return {"route": "public"}

    @app.get("/api/private")
    async def private() -> ResponseReturnValue:
        return {"route": "private"}

    @app.get("/api/private-scoped")
    @require_scope("sample-scope")
    def private_scoped() -> ResponseReturnValue:
        return {"route": "private-scoped"}

    api = Blueprint("api", __name__, url_prefix="/api")

    @api.get("/any")
    @require_any_scope("admin", "sample-scope")
    async def any_scope() -> ResponseReturnValue:
        return {"route": "any"}

    app.register_blueprint(api)

    class Multi(MethodView):
        decorators = [require_scope("sample-scope other-scope")]  # noqa: RUF012 - Flask's API

        def get(self) -> ResponseReturnValue:
            return {"route": "multi"}

    app.add_url_rule("/api/multi", view_func=Multi.as_view("multi"))

    @app.get("/api/whoami")
    def whoami() -> ResponseReturnValue:
        return jsonify(identity(current_token))

    @app.get("/api/claim")
    @require_claim("gty", "client-credentials")
    async def claim() -> ResponseReturnValue:
        return {"route": "claim"}

    class Check(MethodView):
        decorators = [require_token(from_our_client)]  # noqa: RUF012 - Flask's API

        def get(self) -> ResponseReturnValue:
            return {"route": "check"}

    app.add_url_rule("/api/check", view_func=Check.as_view("check"))


def _extension_routes(app: Flask) -> None:
    """Every route on a Blueprint; a guarded async ``MethodView`` method; async ``whoami``."""
    api = Blueprint("api", __name__)

    @api.get("/api/public")
    async def public() -> ResponseReturnValue:
        return {"route": "public"}

    @api.get("/api/private")
    def private() -> ResponseReturnValue:
        return {"route": "private"}

    @api.get("/api/private-scoped")
    @require_scope("sample-scope")
    async def private_scoped() -> ResponseReturnValue:
        return {"route": "private-scoped"}

    class AnyScope(MethodView):
        @require_any_scope("admin", "sample-scope")
        async def get(self) -> ResponseReturnValue:
            return {"route": "any"}

    api.add_url_rule("/api/any", view_func=AnyScope.as_view("any"))

    @api.get("/api/multi")
    @require_scope("sample-scope other-scope")
    def multi() -> ResponseReturnValue:
        return {"route": "multi"}

    @api.get("/api/whoami")
    async def whoami() -> ResponseReturnValue:
        return identity(get_current_token())

    @api.get("/api/claim")
    @require_claim("gty", "client-credentials")
    def claim() -> ResponseReturnValue:
        return {"route": "claim"}

    @api.get("/api/check")
    @require_token(from_our_client)
    async def check() -> ResponseReturnValue:
        return {"route": "check"}

    app.register_blueprint(api)


def _flask_middleware(
    settings: Settings, *, auth_required: bool, allow_query_token: bool, validated: bool
) -> Flask:
    app = Flask(__name__)
    _middleware_routes(app)
    app.wsgi_app = BearerAuthMiddleware(  # type: ignore[method-assign]
        app.wsgi_app,
        settings,
        public_paths=PUBLIC_PATHS,
        auth_required=auth_required,
        allow_query_token=allow_query_token,
        verifier=verifier_for(settings, validated),
    )
    return app


def _flask_extension(
    settings: Settings, *, auth_required: bool, allow_query_token: bool, validated: bool
) -> Flask:
    app = Flask(__name__)
    # Every setting as the config key of its variable, the request policy included.
    for name in Settings.model_fields:
        value = getattr(settings, name)
        if value is not None:
            secret = getattr(value, "get_secret_value", None)
            app.config[env_name(name)] = secret() if secret is not None else value
    app.config.update(
        SCOPEGATE_AUTH_REQUIRED=auth_required,
        SCOPEGATE_PUBLIC_PATHS=list(PUBLIC_PATHS),
        SCOPEGATE_ALLOW_QUERY_TOKEN=allow_query_token,
    )
    _extension_routes(app)
    # The factory pattern: the extension is created first, bound in init_app. A
    # verifier with validators is built from the same app.config.
    verifier = verifier_for(_settings_from_config(app.config), True) if validated else None
    extension = ScopeGate(verifier=verifier)
    extension.init_app(app)
    return app


FLASK_STYLES: dict[str, Callable[..., Flask]] = {
    "flask-middleware": _flask_middleware,
    "flask-extension": _flask_extension,
}


def build_flask_app(
    style: str,
    settings: Settings,
    *,
    auth_required: bool = True,
    allow_query_token: bool = False,
    validated: bool = False,
) -> Flask:
    """The ``style`` Flask app, configured as :func:`conformance.apps.build_app` configures its."""
    return FLASK_STYLES[style](
        settings,
        auth_required=auth_required,
        allow_query_token=allow_query_token,
        validated=validated,
    )
