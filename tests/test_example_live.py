"""The FastAPI example under a real uvicorn server, called over the network with httpx."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from conftest import mint
from live_server import (
    EXPIRED,
    INSUFFICIENT_SCOPE,
    NO_TOKEN,
    ROOT,
    bearer,
    example_env,
    example_token,
    free_port,
    serve,
    uvicorn_command,
)

EXAMPLE = ROOT / "examples" / "fastapi_app"
STARTUP_TIMEOUT = 8.0


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Start ``uvicorn main:app`` from the repository root; yield its base URL; stop it."""
    port = free_port()
    command = uvicorn_command(EXAMPLE.relative_to(ROOT), port)
    log = tmp_path_factory.mktemp("uvicorn") / "server.log"
    with serve(command, example_env(), port, log=log, timeout=STARTUP_TIMEOUT) as base_url:
        yield base_url


@pytest.fixture
def client(server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server, timeout=5.0) as http:
        yield http


def test_health_and_public_need_no_token(client: httpx.Client) -> None:
    assert client.get("/health").json() == {"status": "ok"}
    response = client.get("/api/public")
    assert response.status_code == 200
    assert "www-authenticate" not in response.headers


def test_private_without_token_is_401_without_error(client: httpx.Client) -> None:
    response = client.get("/api/private")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == NO_TOKEN
    assert response.headers["cache-control"] == "no-store"
    assert response.json() == {
        "error": "missing_token",
        "error_description": "A bearer token is required",
    }


def test_private_with_valid_token_returns_subject_and_scopes(client: httpx.Client) -> None:
    response = client.get("/api/private", headers=bearer(mint(sub="client-1@clients")))
    assert response.status_code == 200
    body = response.json()
    assert body["subject"] == "client-1@clients"
    assert body["scopes"] == ["other-scope", "sample-scope"]


def test_scoped_without_the_scope_is_403(client: httpx.Client) -> None:
    response = client.get("/api/private-scoped", headers=bearer(mint(scope="other-scope")))
    assert response.status_code == 403
    assert response.headers["www-authenticate"] == INSUFFICIENT_SCOPE
    assert response.json() == {
        "error": "insufficient_scope",
        "error_description": "The access token lacks the scopes this resource requires",
        "scope": "sample-scope",
    }


def test_scoped_with_the_scope_is_200(client: httpx.Client) -> None:
    response = client.get("/api/private-scoped", headers=bearer(mint(scope="sample-scope")))
    assert response.status_code == 200


def test_expired_token_is_401_invalid_token(client: httpx.Client) -> None:
    now = int(time.time())
    expired = mint(iat=now - 7200, exp=now - 3600)
    response = client.get("/api/private", headers=bearer(expired))
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == EXPIRED
    assert response.json() == {
        "error": "invalid_token",
        "error_description": "The access token has expired",
    }


def test_openapi_documents_the_scope_requirement(client: httpx.Client) -> None:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["paths"]["/api/private-scoped"]["get"]["security"] == [
        {"BearerAuth": ["sample-scope"]}
    ]
    assert document["paths"]["/api/private"]["get"]["security"] == [{"BearerAuth": []}]
    assert "security" not in document["paths"]["/api/public"]["get"]
    assert document["components"]["securitySchemes"]["BearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "An access token for this API, sent as `Authorization: Bearer <token>`.",
    }


def test_swagger_ui_is_public(client: httpx.Client) -> None:
    response = client.get("/docs")
    assert response.status_code == 200
    assert "SwaggerUIBundle" in response.text


def test_token_from_scopegate_token(client: httpx.Client) -> None:
    token = example_token("--scope", "sample-scope")
    response = client.get("/api/private-scoped", headers=bearer(token))
    assert response.status_code == 200, response.text
    private = client.get("/api/private", headers=bearer(token)).json()
    assert private["subject"] == "scopegate-cli@clients"
    assert private["scopes"] == ["sample-scope"]


def test_scopegate_token_without_scope_is_refused_the_scoped_route(client: httpx.Client) -> None:
    response = client.get("/api/private-scoped", headers=bearer(example_token()))
    assert response.status_code == 403
    assert response.headers["www-authenticate"] == INSUFFICIENT_SCOPE
