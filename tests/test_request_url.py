"""request_url: the URL a DPoP proof's htu must match, from an ASGI scope or a WSGI environ.

The ASGI scopes are what uvicorn builds (``--root-path``, ``--proxy-headers``);
the environs what werkzeug's ProxyFix leaves.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.test import EnvironBuilder

from scopegate._request_url import RequestTarget, asgi_target, request_url, wsgi_target


def scope(**values: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "type": "http",
        "method": "GET",
        "scheme": "http",
        "path": "/api/private",
        "raw_path": b"/api/private",
        "root_path": "",
        "headers": [(b"host", b"api.example.com")],
        "server": ("127.0.0.1", 8000),
    }
    base.update(values)
    return base


@pytest.mark.parametrize(
    ("asgi", "base", "expected"),
    [
        pytest.param(scope(), None, "http://api.example.com/api/private", id="host-header"),
        pytest.param(
            scope(scheme="https"),
            None,
            "https://api.example.com/api/private",
            id="proxy-headers-scheme",
        ),
        pytest.param(
            scope(headers=[]), None, "http://127.0.0.1:8000/api/private", id="server-when-no-host"
        ),
        pytest.param(
            scope(headers=[], server=("10.0.0.1", 80)),
            None,
            "http://10.0.0.1/api/private",
            id="default-port-dropped",
        ),
        pytest.param(
            scope(headers=[], server=("::1", 8000)),
            None,
            "http://[::1]:8000/api/private",
            id="ipv6-server",
        ),
        # uvicorn --root-path /v1: path and raw_path include the root path.
        pytest.param(
            scope(root_path="/v1", path="/v1/api/private", raw_path=b"/v1/api/private"),
            None,
            "http://api.example.com/v1/api/private",
            id="root-path-included",
        ),
        # A server whose path leaves the root path out: it is put back.
        pytest.param(
            scope(root_path="/v1", raw_path=None),
            None,
            "http://api.example.com/v1/api/private",
            id="root-path-added",
        ),
        pytest.param(
            scope(path="/a b/é", raw_path=b"/a%20b/%C3%A9"),
            None,
            "http://api.example.com/a%20b/%C3%A9",
            id="raw-path-as-sent",
        ),
        pytest.param(
            scope(path="/a b/é", raw_path=None),
            None,
            "http://api.example.com/a%20b/%C3%A9",
            id="path-encoded-again",
        ),
        pytest.param(
            scope(type="websocket", scheme="wss", method=None),
            None,
            "https://api.example.com/api/private",
            id="websocket-is-https",
        ),
        pytest.param(
            scope(root_path="/v1", path="/v1/api/private", raw_path=b"/v1/api/private"),
            "https://public.example/api",
            "https://public.example/api/api/private",
            id="base-url-replaces-root-path",
        ),
        pytest.param(
            scope(),
            "https://public.example",
            "https://public.example/api/private",
            id="base-url-replaces-host-and-scheme",
        ),
    ],
)
def test_asgi(asgi: dict[str, Any], base: str | None, expected: str) -> None:
    if asgi.get("method") is None:
        asgi.pop("method")
    if asgi.get("raw_path") is None:
        asgi.pop("raw_path")
    target = asgi_target(asgi)
    assert target.method == "GET"
    assert request_url(target, base) == expected


def environ(path: str = "/api/private", **headers: str) -> dict[str, Any]:
    return EnvironBuilder(
        path=path, base_url="http://internal:8080", headers=list(headers.items())
    ).get_environ()


def proxied(env: dict[str, Any]) -> dict[str, Any]:
    """The environ as ProxyFix(x_for=1, x_proto=1, x_host=1, x_prefix=1) leaves it."""
    seen: dict[str, Any] = {}

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        seen.update(environ)
        return []

    ProxyFix(app, x_for=1, x_proto=1, x_host=1, x_prefix=1)(env, lambda *a: None)  # type: ignore[arg-type]
    return seen


@pytest.mark.parametrize(
    ("env", "base", "expected"),
    [
        pytest.param(environ(), None, "http://internal:8080/api/private", id="direct"),
        pytest.param(
            proxied(
                environ(
                    **{
                        "X-Forwarded-For": "1.2.3.4",
                        "X-Forwarded-Proto": "https",
                        "X-Forwarded-Host": "api.example.com",
                        "X-Forwarded-Prefix": "/v1",
                    }
                )
            ),
            None,
            "https://api.example.com/v1/api/private",
            id="proxy-fix",
        ),
        pytest.param(
            environ("/a b/\u00e9"), None, "http://internal:8080/a%20b/%C3%A9", id="path-encoded"
        ),
        pytest.param(
            {
                "wsgi.url_scheme": "https",
                "SERVER_NAME": "h",
                "SERVER_PORT": "443",
                "SCRIPT_NAME": "/app",
                "PATH_INFO": "/x",
                "REQUEST_METHOD": "POST",
            },
            None,
            "https://h/app/x",
            id="server-name-default-port",
        ),
        pytest.param(
            {
                "wsgi.url_scheme": "http",
                "SERVER_NAME": "h",
                "SERVER_PORT": "8080",
                "SCRIPT_NAME": "/app",
                "PATH_INFO": "/x",
            },
            "https://public.example",
            "https://public.example/x",
            id="base-url-replaces-script-name",
        ),
    ],
)
def test_wsgi(env: dict[str, Any], base: str | None, expected: str) -> None:
    assert request_url(wsgi_target(env), base) == expected


def test_wsgi_method() -> None:
    assert wsgi_target({"REQUEST_METHOD": "DELETE"}).method == "DELETE"


@settings(max_examples=200, deadline=None)
@given(
    host=st.text(max_size=30),
    path=st.text(max_size=40),
    root=st.text(max_size=10),
    raw=st.one_of(st.none(), st.binary(max_size=40)),
)
def test_any_scope_gives_a_string(host: str, path: str, root: str, raw: bytes | None) -> None:
    """Whatever a client sends, the rule answers a string (the proof check then refuses it)."""
    values = scope(headers=[(b"host", host.encode("utf-8"))], path=path, root_path=root)
    if raw is None:
        values.pop("raw_path")
    else:
        values["raw_path"] = raw
    target = asgi_target(values)
    assert isinstance(target, RequestTarget)
    assert isinstance(request_url(target), str)
    assert isinstance(request_url(target, "https://public.example"), str)
