"""DPoP behind a reverse proxy, through real servers: the htu rule of the README, checked.

uvicorn runs the FastAPI app with ``--proxy-headers --forwarded-allow-ips
127.0.0.1 --root-path /v1``; gunicorn runs the Flask app behind werkzeug's
``ProxyFix``. The test client plays the proxy: it connects to 127.0.0.1 and
sends the headers a proxy would (``Host``/``X-Forwarded-*``), so the URL the
server sees is not the one the client's proof names, unless the server
rebuilds it. ``public_base_url`` replaces that rule with a fixed URL.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from conformance.dpop import THUMBPRINT, bound, proof
from helpers import CLIENT_ID
from live_server import example_env, free_port, gunicorn_command, serve

TESTS = Path(__file__).resolve().parent
PUBLIC = "https://api.example.com/v1"
URI = "The DPoP proof URI does not match the request"
REPLAYED = "The DPoP proof has already been used"
WHO = {"subject": f"{CLIENT_ID}@clients", "confirmation": THUMBPRINT}


def _env(**extra: str) -> dict[str, str]:
    env = example_env()
    env.update(SCOPEGATE_PUBLIC_PATHS="/health,/v1/health", **extra)
    return env


def _uvicorn(port: int, *flags: str) -> list[str]:
    command = [sys.executable, "-m", "uvicorn", "--app-dir", str(TESTS), "--factory"]
    return [
        *command,
        "apps.dpop_proxy:asgi_app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        *flags,
    ]


@pytest.fixture(scope="module")
def uvicorn_proxied(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    flags = ("--proxy-headers", "--forwarded-allow-ips", "127.0.0.1", "--root-path", "/v1")
    log = tmp_path_factory.mktemp("uvicorn") / "server.log"
    with serve(_uvicorn(port, *flags), _env(), port, log=log, health_path="/health") as url:
        yield url


@pytest.fixture(scope="module")
def gunicorn_proxied(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    command = gunicorn_command(str(TESTS), port)
    command[command.index("app:app")] = "apps.dpop_proxy:wsgi_app()"
    log = tmp_path_factory.mktemp("gunicorn") / "server.log"
    with serve(command, _env(), port, log=log) as url:
        yield url


@pytest.fixture(scope="module")
def uvicorn_public_base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    log = tmp_path_factory.mktemp("uvicorn-base") / "server.log"
    env = _env(SCOPEGATE_PUBLIC_BASE_URL=PUBLIC)
    with serve(_uvicorn(port), env, port, log=log) as url:
        yield url


def dpop_get(base: str, htu: str, headers: dict[str, str], **kwargs: Any) -> httpx.Response:
    token = bound()()
    sent = {**headers, "Authorization": f"DPoP {token}", "DPoP": proof(url=htu)(token)}
    return httpx.get(f"{base}/whoami", headers=sent, timeout=10.0, **kwargs)


# What the proxy sends: the client's host and scheme (and, for ProxyFix, the prefix it strips).
UVICORN_PROXY = {
    "Host": "api.example.com",
    "X-Forwarded-Proto": "https",
    "X-Forwarded-For": "1.2.3.4",
}
PROXYFIX = {
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Host": "api.example.com",
    "X-Forwarded-Prefix": "/v1",
    "X-Forwarded-For": "1.2.3.4",
}


def test_uvicorn_proxy_headers_and_root_path(uvicorn_proxied: str) -> None:
    ok = dpop_get(uvicorn_proxied, f"{PUBLIC}/whoami", UVICORN_PROXY)
    assert ok.status_code == 200, ok.text
    assert ok.json() == WHO
    # The URL the server was reached at is not the one the client addressed.
    internal = dpop_get(uvicorn_proxied, f"{uvicorn_proxied}/whoami", UVICORN_PROXY)
    assert internal.status_code == 401
    assert internal.json() == {"error": "invalid_dpop_proof", "error_description": URI}


def test_gunicorn_behind_proxyfix(gunicorn_proxied: str) -> None:
    ok = dpop_get(gunicorn_proxied, f"{PUBLIC}/whoami", PROXYFIX)
    assert ok.status_code == 200, ok.text
    assert ok.json() == WHO
    internal = dpop_get(gunicorn_proxied, f"{gunicorn_proxied}/whoami", {})
    assert internal.status_code == 200, internal.text  # no proxy headers: the direct URL
    wrong = dpop_get(gunicorn_proxied, f"{gunicorn_proxied}/whoami", PROXYFIX)
    assert wrong.status_code == 401
    assert wrong.json() == {"error": "invalid_dpop_proof", "error_description": URI}


def test_public_base_url_wins_over_the_host_header(uvicorn_public_base: str) -> None:
    ok = dpop_get(uvicorn_public_base, f"{PUBLIC}/whoami", {"Host": "anything.example"})
    assert ok.status_code == 200, ok.text
    direct = dpop_get(uvicorn_public_base, f"{uvicorn_public_base}/whoami", {})
    assert direct.status_code == 401
    assert direct.json()["error_description"] == URI


@pytest.mark.parametrize("server", ["uvicorn_proxied", "gunicorn_proxied"])
def test_a_replayed_proof_is_refused_by_the_real_server(
    server: str, request: pytest.FixtureRequest
) -> None:
    base: str = request.getfixturevalue(server)
    headers = UVICORN_PROXY if server == "uvicorn_proxied" else PROXYFIX
    token = bound()()
    sent = {
        **headers,
        "Authorization": f"DPoP {token}",
        "DPoP": proof(url=f"{PUBLIC}/whoami")(token),
    }
    assert httpx.get(f"{base}/whoami", headers=sent, timeout=10.0).status_code == 200
    again = httpx.get(f"{base}/whoami", headers=sent, timeout=10.0)
    assert again.status_code == 401
    assert again.json() == {"error": "invalid_dpop_proof", "error_description": REPLAYED}
    assert again.headers["www-authenticate"].startswith('Bearer realm="api", DPoP realm="api"')
