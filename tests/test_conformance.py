"""RFC 6750 conformance: every case of ``conformance.cases`` against every ASGI adapter style.

The Flask styles run the same cases with the same checks in ``test_conformance_flask.py``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any
from urllib.parse import urlencode

import pytest
from starlette.testclient import TestClient, WebSocketDenialResponse

from conformance.apps import STYLES, build_app
from conformance.cases import CASES, WS_CASES, Case, WsCase
from conformance.check import (
    Answer,
    check_answer,
    check_error_is_safe,
    refuse_network,
)
from scopegate import Settings

ClientFor = Callable[[str, dict[str, bool], dict[str, Any]], TestClient]

STYLE_PARAMS = [pytest.param(style, id=style) for style in STYLES]
CASE_PARAMS = [pytest.param(case, id=case.id) for case in CASES]
WS_PARAMS = [pytest.param(case, id=case.id) for case in WS_CASES]


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """The apps run in-process: any lookup or connection (a jku or x5u fetch) fails the test."""
    refuse_network(monkeypatch)


@pytest.fixture
def client_for(settings: Settings) -> Iterator[ClientFor]:
    """A started TestClient per (style, options), shared within a test, closed after it."""
    with ExitStack() as stack:
        clients: dict[tuple[Any, ...], TestClient] = {}

        def get(
            style: str, options: dict[str, bool], overrides: dict[str, Any] | None = None
        ) -> TestClient:
            key = (style, *sorted(options.items()), repr(sorted((overrides or {}).items())))
            if key not in clients:
                app = build_app(style, settings.model_copy(update=overrides), **options)
                clients[key] = stack.enter_context(TestClient(app))
            return clients[key]

        yield get


def send(client: TestClient, case: Case) -> tuple[Answer, list[str]]:
    """Send ``case``'s request; return the answer and every header and query value sent."""
    headers, query = case.build_headers(), case.build_query()
    raw_headers = [(name.encode("ascii"), value.encode("utf-8")) for name, value in headers]
    params = tuple(query) if query else None
    response = client.get(case.path, headers=raw_headers, params=params)
    answer = Answer.of(response.status_code, response.headers.multi_items(), response.content)
    return answer, [value for _, value in (*headers, *query)]


@pytest.mark.parametrize("style", STYLE_PARAMS)
@pytest.mark.parametrize("case", CASE_PARAMS)
def test_http(case: Case, style: str, client_for: ClientFor) -> None:
    answer, _ = send(client_for(style, case.options, case.overrides), case)
    check_answer(case, answer)


@pytest.mark.parametrize("style", STYLE_PARAMS)
@pytest.mark.parametrize("case", WS_PARAMS)
def test_websocket(case: WsCase, style: str, client_for: ClientFor) -> None:
    client = client_for(style, case.options, {})
    headers, query = case.build_headers(), case.build_query()
    params = tuple(query) if query else None

    if case.denial is None:
        with client.websocket_connect("/ws", headers=headers, params=params) as websocket:
            assert websocket.receive_json() == case.message
        return
    # The TestClient offers websocket.http.response: the handshake gets the HTTP answer.
    with (
        pytest.raises(WebSocketDenialResponse) as denied,
        client.websocket_connect("/ws", headers=headers, params=params),
    ):
        pytest.fail("the websocket was accepted")
    response = denied.value
    check_answer(
        case.denial,
        Answer.of(response.status_code, response.headers.multi_items(), response.content),
    )


@pytest.mark.parametrize("style", STYLE_PARAMS)
@pytest.mark.parametrize(
    "case", [p for p in WS_PARAMS if getattr(p.values[0], "denial", None) is not None]
)
def test_websocket_without_the_denial_extension_is_closed_with_1008(
    case: WsCase, style: str, settings: Settings
) -> None:
    """A server without ``websocket.http.response``: closed before accept, 1008, the description."""
    app = build_app(style, settings, **case.options)
    sent = asyncio.run(_handshake_without_extensions(app, case))
    assert case.denial is not None
    assert sent == [{"type": "websocket.close", "code": 1008, "reason": case.denial.description}]


async def _handshake_without_extensions(app: Any, case: WsCase) -> list[dict[str, Any]]:
    headers = [
        (name.lower().encode(), value.encode()) for name, value in case.build_headers().items()
    ]
    scope = {
        "type": "websocket",
        "asgi": {"version": "3.0"},
        "scheme": "ws",
        "path": "/ws",
        "raw_path": b"/ws",
        "root_path": "",
        "query_string": urlencode(case.build_query()).encode(),
        "headers": headers,
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 50000),
        "subprotocols": [],
        "state": {},
    }
    sent: list[dict[str, Any]] = []
    connected = False

    async def receive() -> dict[str, Any]:
        nonlocal connected
        if not connected:
            connected = True
            return {"type": "websocket.connect"}
        return {"type": "websocket.disconnect", "code": 1000}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent


@pytest.mark.parametrize("style", STYLE_PARAMS)
def test_descriptions_never_leak(style: str, client_for: ClientFor) -> None:
    """Every error of the suite: a fixed, header-safe description, echoing nothing sent."""
    checked = 0
    for case in CASES:
        answer, sent = send(client_for(style, case.options, case.overrides), case)
        if answer.status < 400:
            continue
        check_error_is_safe(answer, sent)
        checked += 1
    for ws_case in WS_CASES:
        if ws_case.denial is None:
            continue
        client = client_for(style, ws_case.options, {})
        headers, query = ws_case.build_headers(), ws_case.build_query()
        connect = client.websocket_connect("/ws", headers=dict(headers), params=query or None)
        with pytest.raises(WebSocketDenialResponse) as denied, connect:
            pytest.fail("the websocket was accepted")
        response = denied.value
        answer = Answer.of(response.status_code, response.headers.multi_items(), response.content)
        check_error_is_safe(answer, [*headers.values(), *(v for _, v in query)])
        checked += 1
    errors = [c for c in CASES if c.status >= 400] + [c for c in WS_CASES if c.denial]
    assert checked == len(errors)


def test_case_ids_are_unique() -> None:
    ids = [case.id for case in CASES] + [case.id for case in WS_CASES]
    assert len(ids) == len(set(ids))
