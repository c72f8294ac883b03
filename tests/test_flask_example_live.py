"""The Flask example under a real gunicorn (threaded workers), called over the network with httpx.

The same requests and the same expected answers as the FastAPI example's live test.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from conformance.model import DPOP_OFFER
from conformance.tokens import OTHER_SECRET
from helpers import SECRET, mint
from live_server import (
    BAD_SIGNATURE,
    EXPIRED,
    INSUFFICIENT_SCOPE,
    NO_TOKEN,
    ROOT,
    bearer,
    example_env,
    example_token,
    free_port,
    gunicorn_command,
    serve,
    stop,
)

EXAMPLE = ROOT / "examples" / "flask_app"
STARTUP_TIMEOUT = 15.0
PUBLIC_BODY = {"message": "Hello from a public endpoint! You don't need to be authenticated."}
SCOPED_BODY = {
    "message": "Hello from a private endpoint! "
    "You need to be authenticated and have a scope of sample-scope."
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Start gunicorn from the repository root; yield its base URL; always stop it."""
    port = free_port()
    command = gunicorn_command("examples/flask_app", port)
    log = tmp_path_factory.mktemp("gunicorn") / "server.log"
    with serve(command, example_env(), port, log=log, timeout=STARTUP_TIMEOUT) as base_url:
        yield base_url


@pytest.fixture
def client(server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server, timeout=5.0) as http:
        yield http


def test_health_and_public_need_no_token(client: httpx.Client) -> None:
    assert client.get("/health").json() == {"status": "ok"}
    response = client.get("/api/public", headers=bearer("not a token"))
    assert response.status_code == 200
    assert response.json() == PUBLIC_BODY
    assert "www-authenticate" not in response.headers


def test_private_without_token_is_401_without_error(client: httpx.Client) -> None:
    response = client.get("/api/private")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == NO_TOKEN
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["content-type"] == "application/json"
    assert response.content == (
        b'{"error":"missing_token","error_description":"A bearer token is required"}'
    )


def test_private_with_valid_token_returns_subject_and_scopes(client: httpx.Client) -> None:
    response = client.get("/api/private", headers=bearer(mint(sub="client-1@clients")))
    assert response.status_code == 200
    assert response.json() == {
        "message": "Hello from a private endpoint! You need to be authenticated.",
        "subject": "client-1@clients",
        "scopes": ["other-scope", "sample-scope"],
    }


def test_scoped_without_the_scope_is_403(client: httpx.Client) -> None:
    response = client.get("/api/private-scoped", headers=bearer(mint(scope="other-scope")))
    assert response.status_code == 403
    assert response.headers["www-authenticate"] == INSUFFICIENT_SCOPE
    assert response.headers["cache-control"] == "no-store"
    assert response.json() == {
        "error": "insufficient_scope",
        "error_description": "The access token lacks the scopes this resource requires",
        "scope": "sample-scope",
    }


def test_scoped_with_the_scope_is_200(client: httpx.Client) -> None:
    response = client.get("/api/private-scoped", headers=bearer(mint(scope="sample-scope")))
    assert response.status_code == 200
    assert response.json() == SCOPED_BODY


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


def test_two_authorization_headers_are_400(client: httpx.Client) -> None:
    """gunicorn joins repeated headers with ", ", which reads as two credentials."""
    token = mint()
    response = client.get(
        "/api/private",
        headers=[("Authorization", f"Bearer {token}"), ("Authorization", f"Bearer {token}")],
    )
    assert response.status_code == 400
    assert response.headers["www-authenticate"] == (
        'Bearer realm="api", error="invalid_request", '
        f'error_description="The request has more than one Authorization header", {DPOP_OFFER}'
    )


def test_token_from_scopegate_token(client: httpx.Client) -> None:
    token = example_token("--scope", "sample-scope")
    response = client.get("/api/private-scoped", headers=bearer(token))
    assert response.status_code == 200, response.text
    private = client.get("/api/private", headers=bearer(token)).json()
    assert private["subject"] == "scopegate-cli@clients"
    assert private["scopes"] == ["sample-scope"]
    unscoped = client.get("/api/private-scoped", headers=bearer(example_token()))
    assert unscoped.status_code == 403
    assert unscoped.headers["www-authenticate"] == INSUFFICIENT_SCOPE


def test_concurrent_requests_each_get_their_own_answer(client: httpx.Client) -> None:
    """Four threads in one worker: every response carries its own request's token, or error."""

    def fetch(index: int) -> None:
        subject = f"client-{index}@clients"
        if index % 3 == 2:
            response = client.get("/api/private", headers=bearer(mint(key=OTHER_SECRET)))
            assert response.status_code == 401
            assert response.headers["www-authenticate"] == BAD_SIGNATURE
            return
        scope = f"scope-{index}" + (" sample-scope" if index % 3 == 0 else "")
        token = mint(sub=subject, scope=scope)
        private = client.get("/api/private", headers=bearer(token))
        assert private.status_code == 200
        assert (private.json()["subject"], private.json()["scopes"]) == (
            subject,
            sorted(scope.split()),
        )
        scoped = client.get("/api/private-scoped", headers=bearer(token))
        assert scoped.status_code == (200 if index % 3 == 0 else 403)

    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(fetch, range(150)))


def test_missing_settings_stop_gunicorn_with_the_variable_named(tmp_path: Path) -> None:
    """Without settings the worker fails to boot and gunicorn stops, naming the variables."""
    copy = tmp_path / "flask_app"
    copy.mkdir()
    shutil.copy(EXAMPLE / "app.py", copy / "app.py")  # no .env beside the copy
    env = {name: value for name, value in example_env().items() if name != "SCOPEGATE_IDENTIFIER"}
    process = subprocess.Popen(
        gunicorn_command(str(copy), free_port()),
        cwd=tmp_path,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        output, _ = process.communicate(timeout=STARTUP_TIMEOUT)
    finally:
        if process.returncode is None:
            stop(process)
    text = output.decode()
    assert process.returncode == 3, text
    assert "identifier (SCOPEGATE_IDENTIFIER): is required" in text
    assert "signing_secret" not in text  # given: only the missing setting is named
    assert SECRET not in text
    assert "Traceback" not in text
