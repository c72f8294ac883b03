"""The ASGI middleware itself: options over settings, start-up failure, what a hit publishes."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from starlette.authentication import UnauthenticatedUser
from starlette.types import Message, Receive, Scope, Send

from helpers import mint
from scopegate import ConfigurationError, Settings, TokenVerifier
from scopegate.asgi import BearerAuthMiddleware, TokenCredentials, TokenUser


async def echo_app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        message = await receive()
        await send({"type": message["type"] + ".complete"})
        return
    await send({"type": "http.response.start", "status": 204, "headers": []})
    await send({"type": "http.response.body", "body": b""})


def http_scope(authorization: str | None = None, path: str = "/api") -> dict[str, Any]:
    headers = [] if authorization is None else [(b"authorization", authorization.encode())]
    return {"type": "http", "path": path, "query_string": b"", "headers": headers}


def call(app: Any, scope: dict[str, Any], received: list[Message] | None = None) -> list[Message]:
    sent: list[Message] = []
    inbox = list(received or [{"type": "http.request", "body": b""}])

    async def receive() -> Message:
        return inbox.pop(0)

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return sent


def test_a_bad_option_fails_the_lifespan_startup_with_every_problem() -> None:
    app = BearerAuthMiddleware(
        echo_app, Settings.explicit(signing_secret="s" * 32, identifier="x"), public_path=["/h"]
    )
    sent = call(app, {"type": "lifespan"}, [{"type": "lifespan.startup"}])
    assert sent == [
        {
            "type": "lifespan.startup.failed",
            "message": "Invalid scopegate settings:\n  public_path: not a scopegate setting",
        }
    ]
    with pytest.raises(ConfigurationError, match="public_path: not a scopegate setting"):
        _ = app.protector


def test_a_good_configuration_leaves_the_lifespan_to_the_app(settings: Settings) -> None:
    app = BearerAuthMiddleware(echo_app, settings)
    sent = call(app, {"type": "lifespan"}, [{"type": "lifespan.startup"}])
    assert sent == [{"type": "lifespan.startup.complete"}]


def test_options_win_over_the_settings_object(settings: Settings) -> None:
    app = BearerAuthMiddleware(echo_app, settings, public_paths="/health", auth_required=False)
    protector = app.protector
    assert protector.public_paths == {"/health"}
    assert protector.auth_required is False
    assert protector.settings.identifier == settings.identifier
    assert settings.public_paths == []  # the caller's settings are left as they were


def test_a_shared_verifier_supplies_the_settings(settings: Settings) -> None:
    verifier = TokenVerifier(settings)
    app = BearerAuthMiddleware(echo_app, verifier=verifier, allow_query_token=True)
    assert app.protector.verifier is verifier
    assert app.protector.allow_query_token is True
    assert app.protector.settings.identifier == settings.identifier


def test_a_hit_publishes_the_objects_built_for_the_token_once(settings: Settings) -> None:
    app = BearerAuthMiddleware(echo_app, settings)
    token = mint(scope="b a")
    first, second = http_scope(f"Bearer {token}"), http_scope(f"Bearer {token}")
    call(app, first)
    call(app, second)
    assert isinstance(first["auth"], TokenCredentials)
    assert isinstance(first["user"], TokenUser)
    assert second["auth"] is first["auth"]
    assert second["user"] is first["user"]
    assert first["auth"].scopes == ["a", "b"]  # sorted


def test_a_public_path_publishes_the_anonymous_identity(settings: Settings) -> None:
    app = BearerAuthMiddleware(echo_app, settings, public_paths=["/health"])
    scope = http_scope("Bearer garbage", "/health")
    assert call(app, scope)[0]["status"] == 204
    assert scope["auth"].token is None
    assert isinstance(scope["user"], UnauthenticatedUser)


def test_another_spelling_of_a_known_header_is_checked_again(settings: Settings) -> None:
    app = BearerAuthMiddleware(echo_app, settings)
    token = mint()
    assert call(app, http_scope(f"Bearer {token}"))[0]["status"] == 204
    assert call(app, http_scope(f"bearer {token}"))[0]["status"] == 204
    assert call(app, http_scope(f"Bearer {token}x"))[0]["status"] == 401


def test_a_guard_error_after_the_response_started_is_raised_again(settings: Settings) -> None:
    from scopegate import InsufficientScopeError

    async def streaming(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        raise InsufficientScopeError(["late"])

    sent: list[Message] = []

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start" and sent:
            raise RuntimeError("Unexpected ASGI message 'http.response.start'")
        sent.append(message)

    async def receive() -> Message:
        return {"type": "http.request"}

    app = BearerAuthMiddleware(streaming, settings)
    with pytest.raises(InsufficientScopeError):
        asyncio.run(app(http_scope(f"Bearer {mint()}"), receive, send))
    assert [message["status"] for message in sent] == [200]
