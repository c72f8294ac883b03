"""FastAPI adapter: OpenAPI security, both guard styles, the event-loop thread, current_token."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from fastapi import FastAPI, Request, Security
from fastapi.testclient import TestClient
from pydantic import BaseModel

import scopegate._protector
import scopegate.fastapi
from conformance.model import DPOP_OFFER
from helpers import mint
from scopegate import AccessToken, Settings
from scopegate.asgi import BearerAuthMiddleware
from scopegate.fastapi import CurrentToken, require_any_scope, require_scope

SCHEME = {
    "type": "http",
    "scheme": "bearer",
    "bearerFormat": "JWT",
    "description": "An access token for this API, sent as `Authorization: Bearer <token>`.",
}
NO_TOKEN = f'Bearer realm="api", {DPOP_OFFER}'
INSUFFICIENT = (
    'Bearer realm="api", error="insufficient_scope", '
    'error_description="The access token lacks the scopes this resource requires", '
    'scope="sample-scope"'
)


class Public(BaseModel):
    q: int


class Private(Public):
    secret: str


def build_app(settings: Settings | None, *, auth_required: bool = True) -> FastAPI:
    """The routes under test; no middleware when ``settings`` is None."""
    app = FastAPI()
    if settings is not None:
        app.add_middleware(BearerAuthMiddleware, settings=settings, auth_required=auth_required)
    app.state.loop_threads = []

    @app.get("/dependency", dependencies=[Security(require_scope("sample-scope"))])
    async def dependency() -> dict[str, str]:
        app.state.loop_threads.append(threading.get_ident())
        return {"route": "dependency"}

    @app.get("/decorated")
    @require_scope("sample-scope")
    async def decorated(q: int = 1) -> Public:
        app.state.loop_threads.append(threading.get_ident())
        return Private(q=q, secret="filtered by the response model")

    @app.get("/decorated-request")
    @require_scope("sample-scope")
    def decorated_request(request: Request, q: int) -> Public:
        return Private(q=q + len(request.url.path), secret="filtered")

    @app.get("/any", dependencies=[Security(require_any_scope("admin", "sample-scope"))])
    async def any_scope() -> dict[str, str]:
        return {"route": "any"}

    @app.get("/me")
    async def me(token: CurrentToken) -> dict[str, Any]:
        assert token is None or isinstance(token, AccessToken)
        return {"subject": None if token is None else token.subject}

    @app.get("/public")
    async def public() -> dict[str, str]:
        return {"route": "public"}

    return app


def auth(**claims: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint(**claims)}"}


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    return build_app(settings)


@pytest.fixture
def client(app: FastAPI) -> TestClient:
    return TestClient(app)


def test_security_scheme(app: FastAPI) -> None:
    assert app.openapi()["components"]["securitySchemes"] == {"BearerAuth": SCHEME}


@pytest.mark.parametrize(
    ("path", "security"),
    [
        pytest.param("/dependency", [{"BearerAuth": ["sample-scope"]}], id="dependency"),
        pytest.param("/decorated", [{"BearerAuth": ["sample-scope"]}], id="decorator"),
        pytest.param("/decorated-request", [{"BearerAuth": ["sample-scope"]}], id="with-request"),
        pytest.param("/any", [{"BearerAuth": []}], id="any-of"),
        pytest.param("/public", None, id="public"),
    ],
)
def test_operation_security(app: FastAPI, path: str, security: list[Any] | None) -> None:
    assert app.openapi()["paths"][path]["get"].get("security") == security


def test_decorator_keeps_parameters_and_response_model_in_openapi(app: FastAPI) -> None:
    operation = app.openapi()["paths"]["/decorated"]["get"]
    assert [(p["name"], p["in"], p["required"]) for p in operation["parameters"]] == [
        ("q", "query", False)
    ]
    assert operation["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Public"
    }
    with_request = app.openapi()["paths"]["/decorated-request"]["get"]
    assert [p["name"] for p in with_request["parameters"]] == ["q"]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        pytest.param("/dependency", {"route": "dependency"}, id="dependency"),
        pytest.param("/decorated?q=5", {"q": 5}, id="decorator-query-and-response-model"),
        pytest.param("/decorated", {"q": 1}, id="decorator-default"),
        pytest.param("/decorated-request?q=2", {"q": 2 + len("/decorated-request")}, id="request"),
        pytest.param("/any", {"route": "any"}, id="any-of"),
    ],
)
def test_guarded_route_with_scope(client: TestClient, path: str, body: dict[str, Any]) -> None:
    response = client.get(path, headers=auth())
    assert response.status_code == 200
    assert response.json() == body


@pytest.mark.parametrize("path", ["/dependency", "/decorated", "/decorated-request?q=1"])
def test_guarded_route_without_scope(client: TestClient, path: str) -> None:
    response = client.get(path, headers=auth(scope="other-scope"))
    assert response.status_code == 403
    assert response.headers["www-authenticate"] == INSUFFICIENT


def test_decorated_query_is_still_validated(client: TestClient) -> None:
    response = client.get("/decorated?q=abc", headers=auth())
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "q"]


def test_any_of_refuses_when_none_granted(client: TestClient) -> None:
    response = client.get("/any", headers=auth(scope="other-scope"))
    assert response.status_code == 403
    assert response.headers["www-authenticate"].endswith('scope="admin sample-scope"')


@pytest.mark.parametrize("path", ["/dependency", "/decorated"])
def test_guard_runs_on_the_event_loop_thread(
    monkeypatch: pytest.MonkeyPatch, app: FastAPI, path: str
) -> None:
    guard_threads: list[int] = []
    original = scopegate._protector.enforce_scopes  # what scopegate.fastapi imported

    def recording(*args: Any, **kwargs: Any) -> AccessToken:
        guard_threads.append(threading.get_ident())
        return original(*args, **kwargs)

    monkeypatch.setattr(scopegate.fastapi, "enforce_scopes", recording)
    assert TestClient(app).get(path, headers=auth()).status_code == 200
    assert len(guard_threads) == 1
    assert guard_threads == app.state.loop_threads


def test_current_token(client: TestClient) -> None:
    response = client.get("/me", headers=auth(sub="auth0|user-1"))
    assert response.json() == {"subject": "auth0|user-1"}


def test_current_token_anonymous(settings: Settings) -> None:
    client = TestClient(build_app(settings, auth_required=False))
    assert client.get("/me").json() == {"subject": None}
    response = client.get("/dependency")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == NO_TOKEN


@pytest.mark.parametrize("path", ["/dependency", "/decorated", "/any", "/me"])
def test_guard_without_middleware_is_a_loud_error(path: str) -> None:
    client = TestClient(build_app(None), raise_server_exceptions=True)
    with pytest.raises(RuntimeError, match="BearerAuthMiddleware"):
        client.get(path, headers=auth())
