"""Done-when: the FastAPI example under uvicorn and the Flask example under gunicorn, configured
with only SCOPEGATE_ISSUER and SCOPEGATE_IDENTIFIER, verify RS256 tokens through discovery and
survive a key rotation without a restart.

The authorization server is the JWK Set test server (``jwks_server``) on 127.0.0.1, serving
``/.well-known/openid-configuration`` for its issuer; the APIs are real processes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from helpers import IDENTIFIER, subprocess_env
from jwks_server import JWKS_PATH, OIDC_PATH, JwksServer, SigningKey, jwks_server
from live_server import ROOT, bearer, free_port, gunicorn_command, serve, uvicorn_command

KEY_1 = SigningKey.generate("rotation-1")
KEY_2 = SigningKey.generate("rotation-2")
COOLDOWN = 0.5
TTL = 1.0


def discovery_env(issuer: str, **extra: str) -> dict[str, str]:
    return subprocess_env(
        SCOPEGATE_ISSUER=issuer,
        SCOPEGATE_IDENTIFIER=IDENTIFIER,
        SCOPEGATE_JWKS_REFRESH_COOLDOWN=str(COOLDOWN),
        SCOPEGATE_JWKS_CACHE_TTL=str(TTL),
        **extra,
    )


@pytest.fixture
def authorization_server() -> Iterator[JwksServer]:
    with jwks_server(KEY_1) as server:
        server.behaviour.issuer = server.url + "/"
        yield server


Command = Callable[[int], list[str]]


def fastapi_example(port: int) -> list[str]:
    return uvicorn_command(ROOT / "examples" / "fastapi_app", port)


def flask_example(port: int) -> list[str]:
    return gunicorn_command("examples/flask_app", port)


SERVERS = [
    pytest.param(fastapi_example, id="uvicorn"),
    pytest.param(flask_example, id="gunicorn"),
]


def status(client: httpx.Client, token: str) -> int:
    return client.get("/api/private", headers=bearer(token)).status_code


def wait_for(client: httpx.Client, token: str, expected: int, timeout: float = 5.0) -> int:
    deadline = time.monotonic() + timeout
    while (got := status(client, token)) != expected and time.monotonic() < deadline:
        time.sleep(0.1)
    return got


@pytest.mark.parametrize("command", SERVERS)
def test_discovery_and_rotation_without_restart(
    command: Command, authorization_server: JwksServer, tmp_path: Path
) -> None:
    issuer = authorization_server.url + "/"
    port = free_port()
    with (
        serve(command(port), discovery_env(issuer), port, log=tmp_path / "api.log") as url,
        httpx.Client(base_url=url, timeout=10.0) as client,
    ):
        old_token = KEY_1.mint(iss=issuer)
        assert status(client, old_token) == 200
        assert authorization_server.hits[OIDC_PATH] >= 1
        response = client.get("/api/private", headers=bearer(KEY_1.mint(iss="https://other/")))
        assert response.status_code == 401

        authorization_server.behaviour.keys = [KEY_2, KEY_1]  # rotate
        time.sleep(COOLDOWN + 0.1)
        new_token = KEY_2.mint(iss=issuer)
        assert status(client, new_token) == 200
        assert status(client, old_token) == 200

        authorization_server.behaviour.keys = [KEY_2]  # revoke the old key
        assert wait_for(client, old_token, 401) == 401
        response = client.get("/api/private", headers=bearer(old_token))
        assert response.json() == {
            "error": "invalid_token",
            "error_description": "The access token signing key is not known",
        }
        assert status(client, new_token) == 200


def test_uvicorn_prefetches_at_startup(authorization_server: JwksServer, tmp_path: Path) -> None:
    issuer = authorization_server.url + "/"
    port = free_port()
    command = uvicorn_command(ROOT / "examples" / "fastapi_app", port)
    with serve(command, discovery_env(issuer), port, log=tmp_path / "api.log"):
        assert authorization_server.hits[JWKS_PATH] == 1  # before any token arrived


@pytest.mark.parametrize("command", SERVERS)
def test_cold_outage_is_503_and_recovers(
    command: Command, authorization_server: JwksServer, tmp_path: Path
) -> None:
    issuer = authorization_server.url + "/"
    authorization_server.stop()
    port = free_port()
    log = tmp_path / "api.log"
    with (
        serve(command(port), discovery_env(issuer), port, log=log) as url,
        httpx.Client(base_url=url, timeout=10.0) as client,
    ):
        token = KEY_1.mint(iss=issuer)
        for _ in range(3):
            response = client.get("/api/private", headers=bearer(token))
            assert response.status_code == 503
            assert response.headers["cache-control"] == "no-store"
            assert 1 <= int(response.headers["retry-after"]) <= 1
            assert response.json()["error"] == "temporarily_unavailable"
        authorization_server.start()
        assert wait_for(client, token, 200) == 200
    assert log.read_text().count("JWKS fetch from") == 2  # failed once, works again once
