"""The Flask extension: state in ``app.extensions`` only; the WSGI middleware's one step."""

from __future__ import annotations

import weakref
from typing import Any

import flask

import scopegate.flask
from scopegate.flask import ScopeGate
from scopegate.testing import bearer, mint_token, test_settings
from scopegate.wsgi import BearerAuthMiddleware


def test_no_module_level_per_app_state() -> None:
    kinds = (weakref.WeakKeyDictionary, weakref.WeakValueDictionary, dict)
    state = [
        name
        for name, value in vars(scopegate.flask).items()
        if isinstance(value, kinds) and not name.startswith("__")
    ]
    assert state == []


def test_one_extension_two_apps_each_with_its_own_protector() -> None:
    extension = ScopeGate(settings=test_settings())
    first, second = flask.Flask("first"), flask.Flask("second")
    extension.init_app(first)
    extension.init_app(second)
    assert first.extensions["scopegate"] is extension.protector(first)
    assert second.extensions["scopegate"] is extension.protector(second)
    assert first.extensions["scopegate"] is not second.extensions["scopegate"]


def test_extension_and_middleware_publish_the_same_environ_keys() -> None:
    settings = test_settings()
    token = mint_token(settings)

    app = flask.Flask(__name__)
    ScopeGate(app, settings=settings)

    @app.get("/me")
    def me() -> dict[str, Any]:
        environ = flask.request.environ
        return {
            "protector": environ["scopegate.protector"] is app.extensions["scopegate"],
            "token": environ["scopegate.token"].identity,
        }

    response = app.test_client().get("/me", headers=bearer(token))
    assert response.get_json() == {"protector": True, "token": "scopegate-test-client@clients"}

    plain = flask.Flask("plain")
    middleware = BearerAuthMiddleware(plain.wsgi_app, settings=settings)
    plain.wsgi_app = middleware  # type: ignore[method-assign]

    @plain.get("/me")
    def plain_me() -> dict[str, Any]:
        environ = flask.request.environ
        return {
            "protector": environ["scopegate.protector"] is middleware.protector,
            "token": environ["scopegate.token"].identity,
        }

    response = plain.test_client().get("/me", headers=bearer(token))
    assert response.get_json() == {"protector": True, "token": "scopegate-test-client@clients"}
