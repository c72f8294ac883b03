"""scopegate.starlette's guards outside the conformance matrix: misuse, and a late refusal."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from helpers import make_settings, mint
from scopegate import InsufficientScopeError
from scopegate.asgi import BearerAuthMiddleware
from scopegate.starlette import require_scope

MISUSE = "a scope-guarded endpoint must receive a Request or a WebSocket"


@require_scope("read")
async def guarded_async(value: Any) -> str:
    return "reached"


@require_scope("read")
def guarded_sync(value: Any, *, other: Any = None) -> str:
    return "reached"


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda: guarded_sync(object()), id="sync-positional"),
        pytest.param(lambda: guarded_sync(1, other="x"), id="sync-keyword"),
        pytest.param(lambda: guarded_async(object()).send(None), id="async"),
    ],
)
def test_a_guard_on_something_that_is_not_an_endpoint_is_a_type_error(call: Any) -> None:
    with pytest.raises(TypeError) as raised:
        call()
    assert str(raised.value) == MISUSE


async def late_refusal(request: Request) -> Response:
    """Starts a streamed 200, then a guard refuses: the refusal cannot be sent any more."""

    async def body() -> AsyncIterator[bytes]:
        yield b"first chunk"
        raise InsufficientScopeError(["late"])

    return StreamingResponse(body())


def test_a_guard_error_after_the_response_started_reaches_the_server() -> None:
    """The middleware cannot answer 403 after a 200 began; the error is raised again, whole."""
    app = Starlette(routes=[Route("/stream", late_refusal)])
    app.add_middleware(BearerAuthMiddleware, settings=make_settings())
    client = TestClient(app)  # raises what the app raised, as a server would log it
    with pytest.raises(InsufficientScopeError) as raised:
        client.get("/stream", headers={"Authorization": f"Bearer {mint()}"})
    assert raised.value.status_code == 403
    assert raised.value.required_scopes == ("late",)
    # Raised again "from None" by the middleware, once the second response start was refused.
    assert raised.value.__cause__ is None
    assert raised.value.__suppress_context__ is True
