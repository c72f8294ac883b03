"""RFC 6750 conformance: every case of ``conformance.cases`` against every adapter style."""

from __future__ import annotations

import base64
import binascii
import json
import re
import socket
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import httpx2
import pytest
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from conformance.apps import STYLES, build_app
from conformance.cases import CASES, WS_CASES, Case, WsCase
from conformance.tokens import OTHER_SECRET
from conftest import SECRET
from scopegate import Settings

ClientFor = Callable[[str, dict[str, bool]], TestClient]

STYLE_PARAMS = [pytest.param(style, id=style) for style in STYLES]
CASE_PARAMS = [pytest.param(case, id=case.id) for case in CASES]
WS_PARAMS = [pytest.param(case, id=case.id) for case in WS_CASES]

# RFC 6750 §3: error_description is %x20-21 / %x23-5B / %x5D-7E (no '"', no '\').
DESCRIPTION_CHARS = re.compile(r"[\x20\x21\x23-\x5b\x5d-\x7e]+\Z")
SCHEMES = {"bearer", "basic", "digest"}


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """The apps run in-process: any lookup or connection (a jku or x5u fetch) fails the test."""

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError(f"network access during a conformance case: {args!r}")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)


@pytest.fixture
def client_for(settings: Settings) -> Iterator[ClientFor]:
    """A started TestClient per (style, options), shared within a test, closed after it."""
    with ExitStack() as stack:
        clients: dict[tuple[Any, ...], TestClient] = {}

        def get(style: str, options: dict[str, bool]) -> TestClient:
            key = (style, *sorted(options.items()))
            if key not in clients:
                app = build_app(style, settings, **options)
                clients[key] = stack.enter_context(TestClient(app))
            return clients[key]

        yield get


def send(client: TestClient, case: Case) -> tuple[httpx2.Response, list[str]]:
    """Send ``case``'s request; return the response and every header and query value sent."""
    headers, query = case.build_headers(), case.build_query()
    raw_headers = [(name, value.encode("utf-8")) for name, value in headers]
    response = client.get(case.path, headers=raw_headers, params=query or None)
    return response, [value for _, value in (*headers, *query)]


@pytest.mark.parametrize("style", STYLE_PARAMS)
@pytest.mark.parametrize("case", CASE_PARAMS)
def test_http(case: Case, style: str, client_for: ClientFor) -> None:
    response, _ = send(client_for(style, case.options), case)

    assert response.status_code == case.status
    challenges = response.headers.get_list("www-authenticate")
    assert challenges == ([] if case.challenge is None else [case.challenge])
    assert response.json() == case.expected_body()
    if case.status >= 400:
        assert response.headers["content-type"] == "application/json"
        assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize("style", STYLE_PARAMS)
@pytest.mark.parametrize("case", WS_PARAMS)
def test_websocket(case: WsCase, style: str, client_for: ClientFor) -> None:
    client = client_for(style, case.options)
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


def _leaves(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list):
        for item in value:
            yield from _leaves(item)
    else:
        yield str(value)


def _claim_values(token: str) -> list[str]:
    """The claim values of a JWS-looking token, as strings (none when undecodable)."""
    parts = token.split(".")
    if len(parts) < 2:
        return []
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (binascii.Error, ValueError):
        return []
    return list(_leaves(claims))


def _assert_safe(description: str, sent: list[str]) -> None:
    assert DESCRIPTION_CHARS.match(description), description
    for char in ('"', "\\", "\r", "\n"):
        assert char not in description
    assert SECRET not in description
    assert OTHER_SECRET not in description
    for value in sent:
        for piece in value.split():
            if piece.lower() in SCHEMES:
                continue
            if len(piece) >= 6:
                assert piece not in description
            for claim in _claim_values(piece):
                if len(claim) >= 4:
                    assert claim not in description, claim


@pytest.mark.parametrize("style", STYLE_PARAMS)
def test_descriptions_never_leak(style: str, client_for: ClientFor) -> None:
    """Every error of the suite: a fixed, header-safe description, echoing nothing sent."""
    checked = 0
    for case in CASES:
        response, sent = send(client_for(style, case.options), case)
        if response.status_code < 400:
            continue
        description = response.json()["error_description"]
        _assert_safe(description, sent)
        challenge = response.headers["www-authenticate"]
        assert SECRET not in challenge
        if "error=" in challenge:
            assert f'error_description="{description}"' in challenge
        else:
            assert challenge == 'Bearer realm="api"'
        checked += 1
    for ws_case in WS_CASES:
        if ws_case.close_code is None:
            continue
        client = client_for(style, ws_case.options)
        headers, query = ws_case.build_headers(), ws_case.build_query()
        connect = client.websocket_connect("/ws", headers=dict(headers), params=query or None)
        with pytest.raises(WebSocketDisconnect) as closed, connect:
            pytest.fail("the websocket was accepted")
        _assert_safe(closed.value.reason, [*headers.values(), *(v for _, v in query)])
        checked += 1
    errors = [c for c in CASES if c.status >= 400] + [c for c in WS_CASES if c.close_code]
    assert checked == len(errors)


def test_case_ids_are_unique() -> None:
    ids = [case.id for case in CASES] + [case.id for case in WS_CASES]
    assert len(ids) == len(set(ids))
