"""The URL of a request as its client addressed it: what a DPoP proof's ``htu`` must match.

RFC 9449 §4.3 compares ``htu`` with "the HTTP URI value for the HTTP request
in which the JWT was received, ignoring any query and fragment parts". Behind
a reverse proxy the server does not see that URL directly, so the rule is:

- ASGI: ``scope["scheme"]`` (uvicorn sets it from ``X-Forwarded-Proto`` with
  ``--proxy-headers --forwarded-allow-ips``), the ``Host`` header (else
  ``scope["server"]``), and the path as sent (``raw_path``, else ``path``
  re-encoded), which includes ``root_path``.
- WSGI: ``wsgi.url_scheme``, ``HTTP_HOST`` (else ``SERVER_NAME`` and
  ``SERVER_PORT``), ``SCRIPT_NAME`` + ``PATH_INFO`` re-encoded: exactly what
  werkzeug's ``ProxyFix`` rewrites from ``X-Forwarded-Proto``/``-Host``/``-Prefix``.
- ``public_base_url`` (a setting), when set, replaces the scheme, host and
  root path: the URL is ``public_base_url`` + the path within the app. Set it
  in production: the ``Host`` header is the client's to choose.

:func:`request_url` is the one owner of that rule; adapters hand over the raw
request with :func:`asgi_target` or :func:`wsgi_target`, and only for DPoP
requests. Sans-IO: no framework is imported.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, NamedTuple
from urllib.parse import quote

__all__ = ["RequestTarget", "asgi_target", "request_url", "wsgi_target"]

# RFC 3986 §3.3 pchar (besides unreserved and pct-encoded) and "/": left as they are.
_PATH_SAFE = "/:@!$&'()*+,;="
# What quote() leaves alone: unreserved characters and the safe ones above ("%" is not).
_PLAIN = re.compile(r"[A-Za-z0-9\-._~/:@!$&'()*+,;=]*\Z")
_DEFAULT_PORTS = {"http": "80", "https": "443"}
_HTTP_SCHEMES = {"ws": "http", "wss": "https"}


class RequestTarget(NamedTuple):
    """The parts of a request its URL is built from.

    ``path`` is percent-encoded and includes ``root_path`` (the mount point,
    percent-encoded too, "" when none).
    """

    method: str
    scheme: str
    host: str
    root_path: str
    path: str


def _encode(path: str, encoding: str) -> str:
    """A decoded path percent-encoded again (ASGI decodes UTF-8; WSGI holds bytes as latin-1)."""
    if _PLAIN.match(path):  # the common case, a third of quote()'s cost
        return path
    return quote(path.encode(encoding, "surrogateescape"), safe=_PATH_SAFE)


def _with_root(root_path: str, path: str) -> str:
    # ASGI servers differ on whether path includes root_path (uvicorn's does).
    if root_path and not path.startswith(root_path):
        return root_path + path
    return path


def asgi_target(scope: Mapping[str, Any]) -> RequestTarget:
    """The :class:`RequestTarget` of an ASGI HTTP or websocket scope."""
    scheme = str(scope.get("scheme", "http"))
    scheme = _HTTP_SCHEMES.get(scheme, scheme)
    host = ""
    for name, value in scope.get("headers", ()):
        if name == b"host":
            host = value.decode("latin-1")
            break
    server = scope.get("server")
    if not host and server is not None:
        name, port = server
        name = f"[{name}]" if ":" in name else name
        host = name if str(port) == _DEFAULT_PORTS.get(scheme) else f"{name}:{port}"
    root_path = _encode(scope.get("root_path", ""), "utf-8")
    raw_path = scope.get("raw_path")
    path = raw_path.decode("latin-1") if raw_path else _encode(scope.get("path", ""), "utf-8")
    method = str(scope.get("method", "GET"))  # a websocket handshake is a GET
    return RequestTarget(method, scheme, host, root_path, _with_root(root_path, path))


def wsgi_target(environ: Mapping[str, Any]) -> RequestTarget:
    """The :class:`RequestTarget` of a WSGI environ (PEP 3333 §URL reconstruction)."""
    scheme = str(environ.get("wsgi.url_scheme", "http"))
    host = str(environ.get("HTTP_HOST", ""))
    if not host:
        host = str(environ.get("SERVER_NAME", ""))
        port = str(environ.get("SERVER_PORT", ""))
        if port and port != _DEFAULT_PORTS.get(scheme):
            host = f"{host}:{port}"
    root_path = _encode(environ.get("SCRIPT_NAME", ""), "latin-1")
    path = root_path + _encode(environ.get("PATH_INFO", ""), "latin-1")
    return RequestTarget(str(environ.get("REQUEST_METHOD", "GET")), scheme, host, root_path, path)


def request_url(target: RequestTarget, public_base_url: str | None = None) -> str:
    """The absolute URL the client addressed, without query and fragment.

    Args:
        target: the request's parts.
        public_base_url: the ``public_base_url`` setting (no trailing ``/``);
            when given, it replaces the scheme, host and root path.
    """
    if public_base_url is None:
        return f"{target.scheme}://{target.host}{target.path}"
    path = target.path
    if target.root_path and path.startswith(target.root_path):
        path = path[len(target.root_path) :]
    return public_base_url + path
