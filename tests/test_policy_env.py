"""One environment, one behaviour: ``SCOPEGATE_*`` alone configures every adapter alike.

The apps of ``apps.policy_env`` receive no keyword argument at all. Under real
uvicorn: a bad setting stops the server at start-up, and websocket handshakes
are denied with the HTTP status, challenge and body of the HTTP path.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from apps.policy_env import ASGI_STYLES, WSGI_STYLES, build
from helpers import IDENTIFIER, ISSUER, SECRET, mint, subprocess_env
from live_server import INSUFFICIENT_SCOPE, NO_TOKEN, STARTUP_TIMEOUT, free_port, serve, stop

TESTS = Path(__file__).resolve().parent
STYLES = [*ASGI_STYLES, *WSGI_STYLES]
GARBAGE = {"Authorization": "Bearer not-a-token"}
POLICY = {
    "SCOPEGATE_SIGNING_SECRET": SECRET,
    "SCOPEGATE_IDENTIFIER": IDENTIFIER,
    "SCOPEGATE_ISSUER": ISSUER,
    "SCOPEGATE_PUBLIC_PATHS": "/health, /docs",
    "SCOPEGATE_AUTH_REQUIRED": "false",
    "SCOPEGATE_ALLOW_QUERY_TOKEN": "true",
}


@pytest.fixture
def policy_env(monkeypatch: pytest.MonkeyPatch, tmp_cwd: Path) -> None:
    for name, value in POLICY.items():
        monkeypatch.setenv(name, value)


def get(style: str, path: str, **kwargs: Any) -> tuple[int, dict[str, Any], dict[str, str]]:
    app = build(style)
    if style in WSGI_STYLES:
        response = app.test_client().get(path, **kwargs)
        return response.status_code, response.json, dict(response.headers)
    query = kwargs.pop("query_string", None)
    with TestClient(app) as client:
        answer = client.get(path, params=query, **kwargs)
        return answer.status_code, answer.json(), dict(answer.headers)


@pytest.mark.usefixtures("policy_env")
@pytest.mark.parametrize("style", STYLES)
def test_public_path_from_the_environment_is_never_checked(style: str) -> None:
    assert get(style, "/health", headers=GARBAGE)[:2] == (200, {"status": "ok"})


@pytest.mark.usefixtures("policy_env")
@pytest.mark.parametrize("style", STYLES)
def test_auth_required_false_from_the_environment_lets_anonymous_through(style: str) -> None:
    assert get(style, "/whoami")[:2] == (200, {"subject": None})
    status, body, headers = get(style, "/scoped")  # the guard still decides: 401
    assert (status, headers["www-authenticate"]) == (401, NO_TOKEN)
    assert body["error"] == "missing_token"


@pytest.mark.usefixtures("policy_env")
@pytest.mark.parametrize("style", STYLES)
def test_allow_query_token_from_the_environment(style: str) -> None:
    token = mint(sub="query@clients", scope="sample-scope")
    answer = get(style, "/whoami", query_string={"access_token": token})
    assert answer[:2] == (200, {"subject": "query@clients"})
    assert get(style, "/scoped", query_string={"access_token": token})[0] == 200


@pytest.mark.usefixtures("policy_env")
@pytest.mark.parametrize("style", STYLES)
def test_a_bad_token_is_still_refused(style: str) -> None:
    status, body, headers = get(style, "/whoami", headers=GARBAGE)
    assert status == 401
    assert body["error"] == "invalid_token"
    assert headers["www-authenticate"].startswith('Bearer realm="api", error="invalid_token"')


def uvicorn(port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "--app-dir",
        str(TESTS),
        "apps.policy_env:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]


def test_uvicorn_refuses_to_start_a_module_level_app_with_a_bad_setting() -> None:
    env = subprocess_env(**POLICY, SCOPEGATE_LEEWAY="1000", SCOPEGATE_REALM='a"b')
    done = subprocess.run(
        uvicorn(free_port()),
        env=env,
        cwd=TESTS,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0
    output = done.stdout + done.stderr
    assert "Application startup failed. Exiting." in output
    assert "leeway (SCOPEGATE_LEEWAY): Input should be less than or equal to 300" in output
    assert "realm (SCOPEGATE_REALM)" in output  # every problem, not only the first
    assert SECRET not in output
    assert "Traceback" not in output


def test_with_lifespan_off_requests_get_a_bare_500_and_one_log_line(tmp_path: Path) -> None:
    env = subprocess_env(**POLICY, SCOPEGATE_LEEWAY="1000")
    port = free_port()
    log = tmp_path / "uvicorn.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [*uvicorn(port), "--lifespan", "off"],
            cwd=TESTS,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        answers: list[httpx.Response] = []
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while len(answers) < 3:
            assert process.poll() is None, log.read_text()
            try:
                answers.append(httpx.get(f"http://127.0.0.1:{port}/whoami", timeout=2))
            except httpx.TransportError:
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.05)
    finally:
        stop(process)
    for response in answers:
        assert response.status_code == 500
        assert response.headers["content-type"] == "application/json"
        assert response.json() == {
            "error": "server_error",
            "error_description": "The server is misconfigured",
        }
    text = log.read_text()
    assert text.count("scopegate: refusing every request: Invalid scopegate settings:") == 1
    assert "leeway (SCOPEGATE_LEEWAY)" in text
    assert "Traceback" not in text


@pytest.fixture
def live_ws_server(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    env = subprocess_env(**{**POLICY, "SCOPEGATE_AUTH_REQUIRED": "true"})
    with serve(uvicorn(port), env, port, log=tmp_path / "uvicorn.log", cwd=TESTS) as url:
        yield url.replace("http://", "ws://")


def denial(url: str, headers: dict[str, str]) -> tuple[int, dict[str, str], Any]:
    with pytest.raises(InvalidStatus) as refused, connect(url, additional_headers=headers):
        pytest.fail("the websocket was accepted")
    response = refused.value.response
    return response.status_code, dict(response.headers), json.loads(response.body or b"null")


def test_websocket_without_a_token_through_uvicorn_gets_the_bearer_challenge(
    live_ws_server: str,
) -> None:
    status, headers, body = denial(f"{live_ws_server}/ws", {})
    assert status == 401
    assert headers["www-authenticate"] == NO_TOKEN
    assert headers["cache-control"] == "no-store"
    assert body == {"error": "missing_token", "error_description": "A bearer token is required"}


def test_websocket_without_the_scope_through_uvicorn_gets_insufficient_scope(
    live_ws_server: str,
) -> None:
    token = mint(scope="other-scope")
    status, headers, body = denial(f"{live_ws_server}/ws", {"Authorization": f"Bearer {token}"})
    assert status == 403
    assert headers["www-authenticate"] == INSUFFICIENT_SCOPE
    assert body == {
        "error": "insufficient_scope",
        "error_description": "The access token lacks the scopes this resource requires",
        "scope": "sample-scope",
    }


def test_websocket_with_the_scope_through_uvicorn_is_accepted(live_ws_server: str) -> None:
    token = mint(sub="ws@clients", scope="sample-scope")
    with connect(
        f"{live_ws_server}/ws", additional_headers={"Authorization": f"Bearer {token}"}
    ) as ws:
        assert json.loads(ws.recv()) == {"subject": "ws@clients"}


def test_health_through_uvicorn(live_ws_server: str) -> None:
    response = httpx.get(live_ws_server.replace("ws://", "http://") + "/health", timeout=5)
    assert response.status_code == 200
