"""The WSGI middleware called as a WSGI server calls it: a raw environ and start_response.

Exact status lines, header lists and body bytes; and, for every request of
the conformance table, the same bytes as the ASGI middleware sends.
"""

from __future__ import annotations

import asyncio
import io
import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, ClassVar, cast
from urllib.parse import urlencode

import pytest
from starlette.types import Message, Receive, Scope, Send

import scopegate.asgi
from conformance.apps import PUBLIC_PATHS, verifier_for
from conformance.cases import CASES, Case
from conformance.model import DPOP_OFFER
from helpers import IDENTIFIER, SECRET, mint
from scopegate import AccessToken, InsufficientScopeError, Settings, TokenVerifier
from scopegate._environ import ENVIRON_PROTECTOR, environ_path, render_error
from scopegate._protector import BearerProtector
from scopegate.testing import test_settings
from scopegate.wsgi import ENVIRON_TOKEN, BearerAuthMiddleware, token_from_environ

MISSING_BODY = b'{"error":"missing_token","error_description":"A bearer token is required"}'
EMPTY_BODY = b'{"error":"invalid_request","error_description":"The bearer token is empty"}'
EXPIRED_BODY = b'{"error":"invalid_token","error_description":"The access token has expired"}'
# The default dpop="allowed" offers the DPoP scheme beside the Bearer challenge.
EXPIRED_CHALLENGE = (
    'Bearer realm="api", error="invalid_token", error_description="The access token has expired", '
    + DPOP_OFFER
)

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse


pytestmark = pytest.mark.usefixtures("tmp_cwd")  # no .env of the developer's


def make_environ(
    path: str = "/api/private", authorization: str | None = None, query: str = ""
) -> dict[str, Any]:
    """A GET environ as PEP 3333 servers build it: header values are latin-1 strings."""
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    if authorization is not None:
        environ["HTTP_AUTHORIZATION"] = authorization
    return environ


class Inner:
    """The protected WSGI app: records the environ it saw and answers 200."""

    body: ClassVar[list[bytes]] = [b"inner"]

    def __init__(self) -> None:
        self.environ: dict[str, Any] | None = None

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        self.environ = environ
        start_response("200 OK", [("content-type", "text/plain")])
        return self.body


class Reply:
    """What the middleware handed to start_response, and the body it returned."""

    def __init__(self, app: Any, environ: dict[str, Any]) -> None:
        self.calls: list[tuple[str, list[tuple[str, str]]]] = []

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> None:
            assert exc_info is None
            self.calls.append((status, headers))

        self.iterable = app(environ, start_response)
        self.body = b"".join(self.iterable)
        ((self.status, self.headers),) = self.calls


def call(
    environ: dict[str, Any], settings: Settings, **options: Any
) -> tuple[Reply, Inner, BearerAuthMiddleware]:
    inner = Inner()
    middleware = BearerAuthMiddleware(inner, settings, **options)
    return Reply(middleware, environ), inner, middleware


def test_no_token_exact_401(settings: Settings) -> None:
    reply, inner, _ = call(make_environ(), settings)

    assert reply.status == "401 Unauthorized"
    assert reply.headers == [
        ("content-type", "application/json"),
        ("www-authenticate", f'Bearer realm="api", {DPOP_OFFER}'),
        ("cache-control", "no-store"),
        ("content-length", str(len(MISSING_BODY))),
    ]
    assert reply.body == MISSING_BODY
    assert inner.environ is None


def test_malformed_header_exact_400(settings: Settings) -> None:
    reply, inner, _ = call(make_environ(authorization="Bearer "), settings)

    assert reply.status == "400 Bad Request"
    assert reply.headers == [
        ("content-type", "application/json"),
        (
            "www-authenticate",
            'Bearer realm="api", error="invalid_request", '
            f'error_description="The bearer token is empty", {DPOP_OFFER}',
        ),
        ("cache-control", "no-store"),
        ("content-length", str(len(EMPTY_BODY))),
    ]
    assert reply.body == EMPTY_BODY
    assert inner.environ is None


def test_expired_token_exact_401(settings: Settings) -> None:
    expired = mint(iat=1000, exp=2000)
    reply, inner, _ = call(make_environ(authorization=f"Bearer {expired}"), settings)

    assert reply.status == "401 Unauthorized"
    assert reply.headers == [
        ("content-type", "application/json"),
        ("www-authenticate", EXPIRED_CHALLENGE),
        ("cache-control", "no-store"),
        ("content-length", str(len(EXPIRED_BODY))),
    ]
    assert reply.body == EXPIRED_BODY
    assert inner.environ is None


def test_valid_token_reaches_the_app_with_the_token(settings: Settings) -> None:
    environ = make_environ(authorization=f"Bearer {mint(sub='client-7@clients')}")
    reply, inner, middleware = call(environ, settings)

    assert (reply.status, reply.headers, reply.body) == (
        "200 OK",
        [("content-type", "text/plain")],
        b"inner",
    )
    assert reply.iterable is Inner.body  # the app's iterable, passed through untouched
    assert inner.environ is environ
    token = environ[ENVIRON_TOKEN]
    assert isinstance(token, AccessToken)
    assert token.subject == "client-7@clients"
    assert token.scopes == {"sample-scope", "other-scope"}
    assert environ[ENVIRON_PROTECTOR] is middleware.protector
    assert token_from_environ(environ) is token


def test_scheme_is_case_insensitive(settings: Settings) -> None:
    reply, _, _ = call(make_environ(authorization=f"bEaReR   {mint()}"), settings)
    assert reply.status == "200 OK"


def test_comma_joined_headers_are_two_headers(settings: Settings) -> None:
    """A WSGI server joins repeated Authorization headers with ", "."""
    reply, inner, _ = call(
        make_environ(authorization=f"Bearer {mint()}, Bearer {mint()}"), settings
    )
    assert reply.status == "400 Bad Request"
    assert reply.body == (
        b'{"error":"invalid_request",'
        b'"error_description":"The request has more than one Authorization header"}'
    )
    assert inner.environ is None


def test_public_path_is_never_checked(settings: Settings) -> None:
    environ = make_environ("/health", authorization="Bearer not a token")
    reply, inner, middleware = call(environ, settings, public_paths=["/health"])

    assert reply.status == "200 OK"
    assert inner.environ is environ
    assert environ[ENVIRON_TOKEN] is None
    assert environ[ENVIRON_PROTECTOR] is middleware.protector


def test_public_paths_match_exactly(settings: Settings) -> None:
    for path in ("/health/", "/health/x", "/healthz", "/Health"):
        reply, _, _ = call(make_environ(path), settings, public_paths=["/health"])
        assert reply.status == "401 Unauthorized", path


def test_public_path_is_matched_decoded_as_utf8(settings: Settings) -> None:
    """PATH_INFO holds the path's bytes as latin-1; ASGI servers decode them as UTF-8."""
    raw = "/caf\u00e9".encode().decode("latin-1")
    environ = make_environ(raw)
    assert environ_path(environ) == "/caf\u00e9"
    reply, _, _ = call(environ, settings, public_paths=["/caf\u00e9"])
    assert reply.status == "200 OK"


def test_anonymous_request_passes_when_auth_is_optional(settings: Settings) -> None:
    environ = make_environ()
    reply, inner, _ = call(environ, settings, auth_required=False)

    assert reply.status == "200 OK"
    assert inner.environ is environ
    assert environ[ENVIRON_TOKEN] is None
    assert token_from_environ(environ) is None


def test_bad_token_is_rejected_even_when_auth_is_optional(settings: Settings) -> None:
    expired = mint(iat=1000, exp=2000)
    reply, inner, _ = call(
        make_environ(authorization=f"Bearer {expired}"), settings, auth_required=False
    )
    assert (reply.status, reply.body) == ("401 Unauthorized", EXPIRED_BODY)
    assert inner.environ is None


def test_query_token_only_when_allowed(settings: Settings) -> None:
    query = urlencode({"access_token": mint()})
    refused, _, _ = call(make_environ(query=query), settings)
    assert (refused.status, refused.body) == ("401 Unauthorized", MISSING_BODY)

    environ = make_environ(query=query)
    allowed, _, _ = call(environ, settings, allow_query_token=True)
    assert allowed.status == "200 OK"
    assert isinstance(environ[ENVIRON_TOKEN], AccessToken)


def test_settings_default_to_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCOPEGATE_SIGNING_SECRET", SECRET)
    monkeypatch.setenv("SCOPEGATE_IDENTIFIER", IDENTIFIER)
    monkeypatch.setenv("SCOPEGATE_REALM", "from-env")
    middleware = BearerAuthMiddleware(Inner())
    assert middleware.protector.settings.identifier == IDENTIFIER
    reply = Reply(middleware, make_environ())
    assert dict(reply.headers)["www-authenticate"] == (
        'Bearer realm="from-env", ' + DPOP_OFFER.replace('"api"', '"from-env"')
    )


def test_missing_settings_fail_at_construction() -> None:
    with pytest.raises(scopegate.ConfigurationError, match="SCOPEGATE_SIGNING_SECRET"):
        BearerAuthMiddleware(Inner())


def test_shared_verifier(settings: Settings) -> None:
    verifier = TokenVerifier(settings)
    first = BearerAuthMiddleware(Inner(), verifier=verifier)
    second = BearerAuthMiddleware(Inner(), verifier=verifier)
    assert first.protector.verifier is second.protector.verifier is verifier


def test_token_from_environ_without_middleware_is_a_loud_error() -> None:
    with pytest.raises(RuntimeError) as raised:
        token_from_environ(make_environ())
    assert "scopegate.wsgi.BearerAuthMiddleware" in str(raised.value)
    assert "scopegate.flask.ScopeGate" in str(raised.value)


def test_render_error_exact_403() -> None:
    calls: list[tuple[str, list[tuple[str, str]]]] = []
    error = InsufficientScopeError(["read:messages", "write:messages"])

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        calls.append((status, headers))

    protector = BearerProtector(test_settings(realm="my realm"), publish=lambda token: token)
    body = render_error(error, protector, cast("StartResponse", start_response))

    expected = (
        b'{"error":"insufficient_scope",'
        b'"error_description":"The access token lacks the scopes this resource requires",'
        b'"scope":"read:messages write:messages"}'
    )
    assert body == [expected]
    assert calls == [
        (
            "403 Forbidden",
            [
                ("content-type", "application/json"),
                (
                    "www-authenticate",
                    'Bearer realm="my realm", error="insufficient_scope", '
                    'error_description="The access token lacks the scopes this resource requires", '
                    'scope="read:messages write:messages"',
                ),
                ("cache-control", "no-store"),
                ("content-length", str(len(expected))),
            ],
        )
    ]


# Byte for byte: for every request of the conformance table, the WSGI middleware
# and the ASGI middleware, each in front of an app that answers 200, send the
# same status, the same headers in the same order and the same body.


def _options(case: Case, settings: Settings) -> dict[str, Any]:
    """The middleware keyword arguments of ``case``: a verifier with validators if it asks."""
    options: dict[str, Any] = dict(case.options)
    options["verifier"] = verifier_for(settings, options.pop("validated", False))
    return options


def _asgi_reply(case: Case, settings: Settings) -> tuple[int, list[tuple[str, str]], bytes]:
    async def inner(scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"text/plain")],
            }
        )
        await send({"type": "http.response.body", "body": b"inner"})

    middleware = scopegate.asgi.BearerAuthMiddleware(
        inner, settings, public_paths=PUBLIC_PATHS, **_options(case, settings)
    )
    scope: Scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": case.path,
        "raw_path": case.path.encode(),
        "root_path": "",
        "query_string": urlencode(case.build_query()).encode("ascii"),
        "headers": [
            (b"host", b"testserver"),  # the host the DPoP rows' proofs name in htu
            *(
                (name.lower().encode("latin-1"), value.encode("utf-8"))
                for name, value in case.build_headers()
            ),
        ],
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 50000),
    }
    messages: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        messages.append(message)

    asyncio.run(middleware(scope, receive, send))
    start, *bodies = messages
    headers = [
        (name.decode("latin-1"), value.decode("latin-1")) for name, value in start["headers"]
    ]
    return start["status"], headers, b"".join(body["body"] for body in bodies)


def _wsgi_reply(case: Case, settings: Settings) -> tuple[int, list[tuple[str, str]], bytes]:
    environ = make_environ(case.path, query=urlencode(case.build_query()))
    environ["HTTP_HOST"] = "testserver"  # the host the DPoP rows' proofs name in htu
    joined: dict[str, list[str]] = {}
    for name, value in case.build_headers():
        joined.setdefault(f"HTTP_{name.upper().replace('-', '_')}", []).append(value)
    for key, values in joined.items():
        # A WSGI server joins repeated headers with ", " and hands their bytes over as latin-1.
        environ[key] = ", ".join(values).encode("utf-8").decode("latin-1")
    options = _options(case, settings)
    middleware = BearerAuthMiddleware(Inner(), settings, public_paths=PUBLIC_PATHS, **options)
    reply = Reply(middleware, environ)
    return int(reply.status.split(" ", 1)[0]), reply.headers, reply.body


@pytest.mark.parametrize("case", [pytest.param(case, id=case.id) for case in CASES])
def test_same_bytes_as_the_asgi_middleware(case: Case, settings: Settings) -> None:
    settings = settings.model_copy(update=case.overrides)  # token_profile, claim_values...
    wsgi = _wsgi_reply(case, settings)
    assert wsgi == _asgi_reply(case, settings)
    if wsgi[0] >= 400:  # the table's own expectation, so the comparison is not vacuous
        assert dict(wsgi[1])["www-authenticate"] == case.challenge
