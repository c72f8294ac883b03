"""A small JWK Set server on 127.0.0.1 for the key-fetching tests.

A real HTTP server (the standard library's threading server) in a thread, which
can rotate its keys, go down (connection refused) and come back on the same
port, answer slowly, answer junk, redirect, and serve discovery metadata. It
counts the requests each path received, so tests can assert how many fetches
a flood of tokens caused.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from helpers import make_claims

JWKS_PATH = "/.well-known/jwks.json"
OIDC_PATH = "/.well-known/openid-configuration"
RFC8414_PATH = "/.well-known/oauth-authorization-server"


@dataclass
class SigningKey:
    """A private key and its kid; ``public_jwk`` is what the server publishes."""

    kid: str
    private: Any
    alg: str = "RS256"

    @classmethod
    def generate(cls, kid: str, alg: str = "RS256") -> SigningKey:
        if alg == "ES256":
            return cls(kid, ec.generate_private_key(ec.SECP256R1()), alg)
        return cls(kid, rsa.generate_private_key(public_exponent=65537, key_size=2048), alg)

    def public_jwk(self) -> dict[str, Any]:
        encoder = ECAlgorithm if self.alg == "ES256" else RSAAlgorithm
        jwk = encoder.to_jwk(self.private.public_key(), as_dict=True)
        return {**jwk, "kid": self.kid, "alg": self.alg, "use": "sig"}

    def mint(self, kid: str | None = None, **claims: Any) -> str:
        """A token minted by PyJWT with this key (``kid`` overrides the header's kid)."""
        return jwt.encode(
            make_claims(**claims),
            self.private,
            algorithm=self.alg,
            headers={"kid": kid or self.kid},
        )


@dataclass
class Behaviour:
    """What the server does next; tests change it between requests."""

    keys: list[SigningKey] = field(default_factory=list)
    delay: float = 0.0
    status: int = 200
    body: bytes | None = None  # junk instead of the JWK Set
    cache_control: str | None = None
    redirect: str | None = None  # Location for the JWKS path
    issuer: str | None = None  # the discovery document's issuer (None: no discovery)
    oidc: bool = True  # serve OIDC discovery (else only RFC 8414)


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up early (a timeout, a refused oversized body) is expected."""


class JwksServer:
    """The server; ``url`` is its origin, ``jwks_uri`` the JWK Set URL."""

    def __init__(self) -> None:
        self.behaviour = Behaviour()
        self.hits: Counter[str] = Counter()
        self.port = 0
        self._server: _QuietServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def jwks_uri(self) -> str:
        return self.url + JWKS_PATH

    def start(self) -> None:
        server = _QuietServer(("127.0.0.1", self.port), self._handler())
        self.port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Go down: the port refuses connections until :meth:`start`."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            assert self._thread is not None
            self._thread.join(5)
            self._server = None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet."""

            def do_GET(self) -> None:
                owner.hits[self.path] += 1
                state = owner.behaviour
                if state.delay:
                    time.sleep(state.delay)
                if self.path == JWKS_PATH:
                    self._jwks(state)
                elif self.path.startswith((OIDC_PATH, RFC8414_PATH)):
                    self._metadata(state)
                elif self.path == "/moved":
                    self._send(200, json.dumps({"keys": [k.public_jwk() for k in state.keys]}))
                else:
                    self._send(404, "{}")

            def _jwks(self, state: Behaviour) -> None:
                if state.redirect is not None:
                    self._send(302, "", location=state.redirect)
                    return
                body = state.body
                if body is None:
                    body = json.dumps({"keys": [key.public_jwk() for key in state.keys]}).encode()
                self._send(state.status, body, cache_control=state.cache_control)

            def _metadata(self, state: Behaviour) -> None:
                if state.issuer is None or (self.path == OIDC_PATH) != state.oidc:
                    self._send(404, "{}")
                    return
                document = {
                    "issuer": state.issuer,
                    "jwks_uri": owner.jwks_uri,
                    "token_endpoint": owner.url + "/oauth/token",
                }
                self._send(200, json.dumps(document))

            def _send(
                self,
                status: int,
                body: str | bytes,
                *,
                cache_control: str | None = None,
                location: str | None = None,
            ) -> None:
                raw = body.encode() if isinstance(body, str) else body
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(raw)))
                if cache_control:
                    self.send_header("cache-control", cache_control)
                if location:
                    self.send_header("location", location)
                self.end_headers()
                with suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(raw)

        return Handler


@contextmanager
def jwks_server(*keys: SigningKey) -> Iterator[JwksServer]:
    """A started server publishing ``keys``; stopped afterwards whatever happens."""
    server = JwksServer()
    server.behaviour.keys = list(keys)
    server.start()
    try:
        yield server
    finally:
        server.stop()
