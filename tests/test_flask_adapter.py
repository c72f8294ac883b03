"""Flask adapter: the ScopeGate extension's configuration, loud misuse, threads.

The RFC 6750 behaviour of both Flask styles is pinned by the conformance
suite (``test_conformance_flask.py``); here: where the extension reads its
settings, what happens when nothing is installed, and that under a real
threaded WSGI server every request gets its own answer.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from flask import Flask
from werkzeug.serving import make_server

from conformance.flask_apps import FLASK_STYLES, build_flask_app
from conformance.model import DPOP_OFFER
from conformance.tokens import OTHER_SECRET
from helpers import CLIENT_ID, IDENTIFIER, ISSUER, SECRET, mint
from scopegate import ConfigurationError, InsufficientScopeError, Settings
from scopegate._protector import BearerProtector
from scopegate.flask import ScopeGate, current_token, get_current_token, require_scope
from scopegate.wsgi import BearerAuthMiddleware

NO_TOKEN = f'Bearer realm="api", {DPOP_OFFER}'
INSUFFICIENT = (
    'Bearer realm="api", error="insufficient_scope", '
    'error_description="The access token lacks the scopes this resource requires", '
    'scope="sample-scope"'
)
SIGNATURE = (
    'Bearer realm="api", error="invalid_token", '
    f'error_description="The access token signature is invalid", {DPOP_OFFER}'
)
EXPIRED = (
    'Bearer realm="api", error="invalid_token", error_description="The access token has expired", '
    + DPOP_OFFER
)


pytestmark = pytest.mark.usefixtures("tmp_cwd")  # no .env of the developer's


# The API's own settings, as a Flask app keeps them in its config.
API_CONFIG = {
    "SCOPEGATE_SIGNING_SECRET": SECRET,
    "SCOPEGATE_IDENTIFIER": IDENTIFIER,
    "SCOPEGATE_ISSUER": ISSUER,
}


def configured_app(**config: Any) -> Flask:
    app = Flask(__name__)
    app.testing = True
    app.config.update(config)

    @app.get("/whoami")
    def whoami() -> dict[str, Any]:
        token = get_current_token()
        return {"subject": token.subject if token else None}

    return app


# Configuration


def test_settings_come_from_app_config() -> None:
    app = configured_app(
        SCOPEGATE_SIGNING_SECRET=SECRET,
        SCOPEGATE_IDENTIFIER=IDENTIFIER,
        SCOPEGATE_ISSUER=ISSUER,
        SCOPEGATE_LEEWAY=30,
        SCOPEGATE_REALM="config-realm",
    )
    extension = ScopeGate(app)

    settings = extension.protector(app).settings
    assert settings.signing_secret is not None
    assert settings.signing_secret.get_secret_value() == SECRET
    assert (settings.identifier, settings.issuer) == (IDENTIFIER, ISSUER)
    assert (settings.leeway, settings.realm) == (30, "config-realm")
    response = app.test_client().get("/whoami")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == (
        'Bearer realm="config-realm", ' + DPOP_OFFER.replace('"api"', '"config-realm"')
    )
    ok = app.test_client().get("/whoami", headers={"Authorization": f"Bearer {mint()}"})
    assert ok.status_code == 200


def test_environment_fills_what_app_config_lacks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCOPEGATE_SIGNING_SECRET", SECRET)
    monkeypatch.setenv("SCOPEGATE_ISSUER", ISSUER)
    monkeypatch.setenv("SCOPEGATE_REALM", "env-realm")
    monkeypatch.setenv("SCOPEGATE_IDENTIFIER", "https://env-api")
    app = configured_app(SCOPEGATE_IDENTIFIER=IDENTIFIER)  # app.config wins over the env
    extension = ScopeGate(app)

    settings = extension.protector(app).settings
    assert settings.signing_secret is not None
    assert settings.signing_secret.get_secret_value() == SECRET
    assert (settings.identifier, settings.issuer, settings.realm) == (
        IDENTIFIER,
        ISSUER,
        "env-realm",
    )
    ok = app.test_client().get("/whoami", headers={"Authorization": f"Bearer {mint()}"})
    assert ok.json == {"subject": f"{CLIENT_ID}@clients"}


def test_dotenv_in_the_working_directory_is_the_last_fallback(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        f"SCOPEGATE_SIGNING_SECRET={SECRET}\nSCOPEGATE_IDENTIFIER=https://dotenv-api\n"
    )
    app = configured_app(SCOPEGATE_IDENTIFIER=IDENTIFIER)
    settings = ScopeGate(app).protector(app).settings
    assert settings.identifier == IDENTIFIER
    assert settings.signing_secret is not None
    assert settings.signing_secret.get_secret_value() == SECRET


def test_extension_state_lives_in_app_extensions(settings: Settings) -> None:
    app = configured_app()
    extension = ScopeGate(app, settings=settings)
    assert isinstance(app.extensions["scopegate"], BearerProtector)
    assert app.extensions["scopegate"] is extension.protector(app)
    assert extension.protector(app).settings is settings


def test_init_app_factory_pattern_serves_several_apps() -> None:
    extension = ScopeGate()  # no app yet: nothing is read, nothing can fail
    first = configured_app(
        SCOPEGATE_SIGNING_SECRET=SECRET, SCOPEGATE_IDENTIFIER=IDENTIFIER, SCOPEGATE_REALM="one"
    )
    second = configured_app(
        SCOPEGATE_SIGNING_SECRET=SECRET, SCOPEGATE_IDENTIFIER=IDENTIFIER, SCOPEGATE_REALM="two"
    )
    extension.init_app(first)
    extension.init_app(second)

    assert first.extensions["scopegate"] is extension.protector(first)
    assert second.extensions["scopegate"] is extension.protector(second)
    assert extension.protector(first) is not extension.protector(second)
    for app, realm in ((first, "one"), (second, "two")):
        challenge = app.test_client().get("/whoami").headers["www-authenticate"]
        assert challenge == f'Bearer realm="{realm}", ' + DPOP_OFFER.replace('"api"', f'"{realm}"')


def test_missing_setting_fails_at_init_app_naming_the_variable() -> None:
    extension = ScopeGate()
    app = configured_app(SCOPEGATE_IDENTIFIER=IDENTIFIER)
    with pytest.raises(ConfigurationError) as raised:
        extension.init_app(app)
    assert "SCOPEGATE_SIGNING_SECRET" in str(raised.value)
    assert "scopegate" not in app.extensions


def test_missing_settings_fail_in_the_constructor_with_an_app() -> None:
    with pytest.raises(ConfigurationError) as raised:
        ScopeGate(configured_app())
    assert "SCOPEGATE_SIGNING_SECRET" in str(raised.value)
    assert "SCOPEGATE_IDENTIFIER" in str(raised.value)


def test_bad_setting_in_app_config_names_the_variable() -> None:
    app = configured_app(
        SCOPEGATE_SIGNING_SECRET="tiny-s3cret-value", SCOPEGATE_IDENTIFIER=IDENTIFIER
    )
    with pytest.raises(ConfigurationError) as raised:
        ScopeGate(app)
    assert "SCOPEGATE_SIGNING_SECRET" in str(raised.value)
    assert "tiny-s3cret-value" not in str(raised.value)

    app = configured_app(
        SCOPEGATE_SIGNING_SECRET=SECRET, SCOPEGATE_IDENTIFIER=IDENTIFIER, SCOPEGATE_LEEWAY=900
    )
    with pytest.raises(ConfigurationError, match="SCOPEGATE_LEEWAY"):
        ScopeGate(app)


def test_request_policy_from_app_config() -> None:
    app = configured_app(
        **API_CONFIG,
        SCOPEGATE_AUTH_REQUIRED=False,
        SCOPEGATE_PUBLIC_PATHS=["/health"],
        SCOPEGATE_ALLOW_QUERY_TOKEN=True,
    )

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    ScopeGate(app)
    client = app.test_client()
    assert client.get("/whoami").json == {"subject": None}
    assert client.get("/health", headers={"Authorization": "Bearer not a token"}).status_code == 200
    by_query = client.get("/whoami", query_string={"access_token": mint(sub="q@clients")})
    assert by_query.json == {"subject": "q@clients"}


def test_constructor_arguments_win_over_app_config() -> None:
    app = configured_app(
        **API_CONFIG, SCOPEGATE_AUTH_REQUIRED=False, SCOPEGATE_ALLOW_QUERY_TOKEN=True
    )
    extension = ScopeGate(app, auth_required=True, allow_query_token=False)
    protector = extension.protector(app)
    assert (protector.auth_required, protector.allow_query_token) == (True, False)
    assert app.test_client().get("/whoami").status_code == 401


def test_public_paths_given_as_a_string() -> None:
    app = configured_app(**API_CONFIG, SCOPEGATE_PUBLIC_PATHS="/health, /status")

    @app.get("/")
    def root() -> str:
        return "root"

    extension = ScopeGate(app)
    assert extension.protector(app).public_paths == {"/health", "/status"}
    assert app.test_client().get("/").status_code == 401
    assert app.test_client().get("/health").status_code == 404  # public: no 401


def test_allow_query_token_false_as_a_string() -> None:
    app = configured_app(**API_CONFIG, SCOPEGATE_ALLOW_QUERY_TOKEN="false")
    ScopeGate(app)
    response = app.test_client().get("/whoami", query_string={"access_token": mint()})
    assert response.status_code == 401


# Loud misuse


def uninstalled_app() -> Flask:
    app = Flask(__name__)
    app.testing = True  # exceptions reach the test instead of becoming a 500

    @app.get("/guarded")
    @require_scope("sample-scope")
    def guarded() -> str:
        return "never"

    @app.get("/token")
    def token() -> str:
        return str(current_token.subject)

    @app.get("/truth")
    def truth() -> str:
        return "token" if current_token else "anonymous"

    return app


@pytest.mark.parametrize("path", ["/guarded", "/token"])
def test_without_middleware_or_extension_is_a_loud_error(path: str) -> None:
    client = uninstalled_app().test_client()
    with pytest.raises(RuntimeError) as raised:
        client.get(path, headers={"Authorization": f"Bearer {mint()}"})
    assert "BearerAuthMiddleware" in str(raised.value)
    assert "ScopeGate" in str(raised.value)


def test_truth_of_current_token_without_installation_is_a_loud_error() -> None:
    client = uninstalled_app().test_client()
    with pytest.raises(RuntimeError):
        client.get("/truth", headers={"Authorization": f"Bearer {mint()}"})


def test_current_token_outside_a_request_is_a_loud_error() -> None:
    with pytest.raises(RuntimeError):
        get_current_token()


def test_bearer_error_raised_in_a_view_is_rendered_by_the_extension(settings: Settings) -> None:
    app = configured_app()

    @app.get("/manual")
    def manual() -> str:
        raise InsufficientScopeError(["sample-scope"])

    ScopeGate(app, settings=settings)
    response = app.test_client().get("/manual", headers={"Authorization": f"Bearer {mint()}"})
    assert response.status_code == 403
    assert response.headers["www-authenticate"] == INSUFFICIENT
    assert response.headers["cache-control"] == "no-store"
    assert response.get_data() == (
        b'{"error":"insufficient_scope",'
        b'"error_description":"The access token lacks the scopes this resource requires",'
        b'"scope":"sample-scope"}'
    )


@pytest.mark.parametrize("style", list(FLASK_STYLES))
def test_unknown_path_needs_a_token_before_it_is_a_404(style: str, settings: Settings) -> None:
    """Both styles authenticate before routing, as the ASGI middleware does."""
    client = build_flask_app(style, settings).test_client()
    assert client.get("/nowhere").status_code == 401
    assert client.get("/nowhere", headers={"Authorization": f"Bearer {mint()}"}).status_code == 404


# Threads: a real threaded WSGI server, many overlapping requests, each its own answer.

REQUESTS = 240


def jittered(app: Flask, style: str) -> Flask:
    """Sleep a little between authentication and the view, so requests interleave."""

    def pause() -> None:
        time.sleep(random.uniform(0, 0.004))

    if style == "flask-middleware":
        middleware = app.wsgi_app
        assert isinstance(middleware, BearerAuthMiddleware)
        inner = middleware.app

        def sleepy(environ: dict[str, Any], start_response: Any) -> Any:
            pause()
            return inner(environ, start_response)

        middleware.app = sleepy
    else:
        app.before_request(pause)  # runs after the extension's own hook
    return app


@pytest.fixture(params=list(FLASK_STYLES))
def threaded_server(request: pytest.FixtureRequest, settings: Settings) -> Iterator[str]:
    """A threaded werkzeug server on 127.0.0.1 serving the style's app, anonymous allowed."""
    app = jittered(build_flask_app(request.param, settings, auth_required=False), request.param)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()


Expectation = tuple[str, dict[str, str], int, str | None, Any]


def request_for(index: int) -> Expectation:
    """Request ``index`` and its own answer: (path, headers, status, challenge, body)."""
    subject = f"client-{index}@clients"
    scope = f"scope-{index} sample-scope"
    kind = index % 6
    if kind == 0:
        token = mint(sub=subject, azp=f"client-{index}", scope=scope)
        body = {
            "subject": subject,
            "client_id": f"client-{index}",
            "scopes": sorted(scope.split()),
            "confirmation": None,
        }
        return "/api/whoami", {"Authorization": f"Bearer {token}"}, 200, None, body
    if kind == 1:
        anonymous: dict[str, Any] = {
            "subject": None,
            "client_id": None,
            "scopes": [],
            "confirmation": None,
        }
        return "/api/whoami", {}, 200, None, anonymous
    if kind == 2:
        token = mint(sub=subject, scope=f"scope-{index}")
        return "/api/private-scoped", {"Authorization": f"Bearer {token}"}, 403, INSUFFICIENT, None
    if kind == 3:
        token = mint(sub=subject, key=OTHER_SECRET)
        return "/api/whoami", {"Authorization": f"Bearer {token}"}, 401, SIGNATURE, None
    if kind == 4:
        return "/api/private-scoped", {}, 401, NO_TOKEN, None
    token = mint(sub=subject, iat=1000, exp=2000)
    return "/api/any", {"Authorization": f"Bearer {token}"}, 401, EXPIRED, None


def test_concurrent_requests_each_get_their_own_answer(threaded_server: str) -> None:
    expectations = [request_for(index) for index in range(REQUESTS)]
    random.shuffle(expectations)

    with httpx.Client(base_url=threaded_server, timeout=10.0) as client:

        def fetch(expected: Expectation) -> tuple[Expectation, httpx.Response]:
            path, headers, *_ = expected
            return expected, client.get(path, headers=headers)

        with ThreadPoolExecutor(max_workers=32) as pool:
            results = list(pool.map(fetch, expectations))

    for (path, _, status, challenge, body), response in results:
        assert response.status_code == status, (path, response.text)
        assert response.headers.get("www-authenticate") == challenge
        if body is not None:
            assert response.json() == body
    assert len(results) == REQUESTS


@pytest.mark.parametrize(
    ("raw", "expected_status"),
    [
        pytest.param("true", 200, id="true"),
        pytest.param("On", 200, id="on-any-case"),
        pytest.param("0", 401, id="zero"),
        pytest.param(False, 401, id="bool-false"),
    ],
)
def test_allow_query_token_parses_config_values(raw: object, expected_status: int) -> None:
    app = configured_app(**API_CONFIG, SCOPEGATE_ALLOW_QUERY_TOKEN=raw)
    ScopeGate(app)
    response = app.test_client().get("/whoami", query_string={"access_token": mint()})
    assert response.status_code == expected_status


def test_policy_option_that_is_not_a_boolean_names_its_key() -> None:
    app = configured_app(**API_CONFIG, SCOPEGATE_AUTH_REQUIRED="maybe")
    with pytest.raises(ConfigurationError) as raised:
        ScopeGate(app)
    assert str(raised.value) == (
        "Invalid scopegate settings:\n  auth_required (SCOPEGATE_AUTH_REQUIRED): "
        "Input should be a valid boolean, unable to interpret input"
    )


def test_unknown_option_is_refused_by_name() -> None:
    app = configured_app(**API_CONFIG)
    with pytest.raises(ConfigurationError) as raised:
        ScopeGate(app, public_path=["/health"])
    assert str(raised.value) == (
        "Invalid scopegate settings:\n  public_path: not a scopegate setting"
    )


def test_policy_options_fall_back_to_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCOPEGATE_PUBLIC_PATHS", "/health, /status")
    app = configured_app(**API_CONFIG)

    @app.get("/status")
    def status() -> str:
        return "up"

    ScopeGate(app)
    assert app.test_client().get("/status").status_code == 200
    assert app.test_client().get("/whoami").status_code == 401
