"""RFC 6750 conformance: every case of ``conformance.cases`` against every ASGI adapter style.

The Flask styles run the same cases with the same checks in ``test_conformance_flask.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from conformance.apps import STYLES, build_app
from conformance.cases import CASES, WS_CASES, Case, WsCase
from conformance.check import (
    Answer,
    assert_safe,
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
    raw_headers = [(name, value.encode("utf-8")) for name, value in headers]
    response = client.get(case.path, headers=raw_headers, params=query or None)
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
    connect = {"headers": case.build_headers(), "params": case.build_query() or None}

    if case.close_code is None:
        with client.websocket_connect("/ws", **connect) as websocket:
            assert websocket.receive_json() == case.message
        return
    with pytest.raises(WebSocketDisconnect) as closed, client.websocket_connect("/ws", **connect):
        pytest.fail("the websocket was accepted")
    # Closed before accept, not answered with an HTTP denial response.
    assert type(closed.value) is WebSocketDisconnect
    assert (closed.value.code, closed.value.reason) == (case.close_code, case.reason)


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
        if ws_case.close_code is None:
            continue
        client = client_for(style, ws_case.options, {})
        headers, query = ws_case.build_headers(), ws_case.build_query()
        connect = client.websocket_connect("/ws", headers=dict(headers), params=query or None)
        with pytest.raises(WebSocketDisconnect) as closed, connect:
            pytest.fail("the websocket was accepted")
        assert_safe(closed.value.reason, [*headers.values(), *(v for _, v in query)])
        checked += 1
    errors = [c for c in CASES if c.status >= 400] + [c for c in WS_CASES if c.close_code]
    assert checked == len(errors)


def test_case_ids_are_unique() -> None:
    ids = [case.id for case in CASES] + [case.id for case in WS_CASES]
    assert len(ids) == len(set(ids))
