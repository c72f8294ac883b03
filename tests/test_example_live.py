"""The FastAPI example under a real uvicorn server, called over the network with httpx."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from conftest import IDENTIFIER, ISSUER, SECRET, mint

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "fastapi_app"
STARTUP_TIMEOUT = 8.0

NO_TOKEN = 'Bearer realm="api"'
INSUFFICIENT_SCOPE = (
    'Bearer realm="api", error="insufficient_scope", '
    'error_description="The access token lacks the scopes this resource requires", '
    'scope="sample-scope"'
)
EXPIRED = (
    'Bearer realm="api", error="invalid_token", error_description="The access token has expired"'
)


def example_env() -> dict[str, str]:
    """The environment minus any SCOPEGATE_* of the caller, with every setting given.

    Every setting is set so that a developer's examples/fastapi_app/.env (which
    environment variables override) cannot change what the server accepts.
    """
    env = {name: value for name, value in os.environ.items() if not name.startswith("SCOPEGATE_")}
    env.update(
        SCOPEGATE_SIGNING_SECRET=SECRET,
        SCOPEGATE_IDENTIFIER=IDENTIFIER,
        SCOPEGATE_ISSUER=ISSUER,
        SCOPEGATE_ALGORITHMS="HS256",
        SCOPEGATE_LEEWAY="5",
        SCOPEGATE_SCOPE_CLAIMS="scope",
        SCOPEGATE_REALM="api",
        SCOPEGATE_ALLOW_WEAK_SECRET="false",
        SCOPEGATE_MAX_TOKEN_BYTES="8192",
    )
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Start ``uvicorn main:app`` from the repository root; yield its base URL; stop it."""
    port = free_port()
    log_path = tmp_path_factory.mktemp("uvicorn") / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--app-dir",
                str(EXAMPLE.relative_to(ROOT)),
                "main:app",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            cwd=ROOT,
            env=example_env(),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            if process.poll() is not None:
                pytest.fail(f"uvicorn exited with {process.returncode}:\n{log_path.read_text()}")
            try:
                if httpx.get(f"{base_url}/health", timeout=1.0).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"uvicorn did not answer /health:\n{log_path.read_text()}")
            time.sleep(0.05)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def client(server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server, timeout=5.0) as http:
        yield http


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


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


def test_token_from_mint_token_script(client: httpx.Client) -> None:
    result = subprocess.run(
        [sys.executable, str(EXAMPLE / "mint_token.py"), "--scope", "sample-scope"],
        cwd=ROOT,
        env=example_env(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    token = result.stdout.strip()
    response = client.get("/api/private-scoped", headers=bearer(token))
    assert response.status_code == 200, response.text
    private = client.get("/api/private", headers=bearer(token)).json()
    assert private["subject"] == "example-client@clients"
    assert private["scopes"] == ["sample-scope"]


def test_mint_token_without_scope_is_refused_the_scoped_route(client: httpx.Client) -> None:
    result = subprocess.run(
        [sys.executable, str(EXAMPLE / "mint_token.py")],
        cwd=ROOT,
        env=example_env(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    response = client.get("/api/private-scoped", headers=bearer(result.stdout.strip()))
    assert response.status_code == 403
    assert response.headers["www-authenticate"] == INSUFFICIENT_SCOPE
