"""RFC 6750 conformance: every HTTP case of ``conformance.cases`` against both Flask styles.

The cases and the checks are the ones ``test_conformance.py`` runs against
FastAPI and Starlette, unchanged. The websocket cases (``WS_CASES``) do not
apply: WSGI, and so Flask, has no websockets.

Requests go through Flask's test client, which builds the WSGI environ the
way real WSGI servers do: repeated headers are joined with ", " into one
``HTTP_AUTHORIZATION``, and header bytes arrive as latin-1 strings (PEP 3333).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from typing import Any
from urllib.parse import urlencode

import pytest
from flask import Flask
from flask.testing import FlaskClient
from starlette.testclient import TestClient
from werkzeug.test import EnvironBuilder

from conformance.apps import build_app
from conformance.cases import CASES, Case
from conformance.check import Answer, check_answer, check_error_is_safe, refuse_network
from conformance.dpop import ORIGIN
from conformance.flask_apps import FLASK_STYLES, build_flask_app
from scopegate import Settings

ClientFor = Callable[[str, dict[str, bool], dict[str, Any]], FlaskClient]

STYLE_PARAMS = [pytest.param(style, id=style) for style in FLASK_STYLES]
CASE_PARAMS = [pytest.param(case, id=case.id) for case in CASES]


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """The apps run in-process: any lookup or connection (a jku or x5u fetch) fails the test."""
    refuse_network(monkeypatch)


@pytest.fixture
def client_for(settings: Settings) -> ClientFor:
    """A test client per (style, options), shared within a test."""
    clients: dict[tuple[Any, ...], FlaskClient] = {}

    def get(
        style: str, options: dict[str, bool], overrides: dict[str, Any] | None = None
    ) -> FlaskClient:
        key = (style, *sorted(options.items()), repr(sorted((overrides or {}).items())))
        if key not in clients:
            app = build_flask_app(style, settings.model_copy(update=overrides), **options)
            app.testing = True  # an unexpected exception fails the test instead of a 500
            clients[key] = app.test_client()
        return clients[key]

    return get


def send(client: FlaskClient, case: Case) -> tuple[Answer, list[str]]:
    """Send ``case``'s request; return the answer and every header and query value sent."""
    headers, query = case.build_headers(), case.build_query()
    # What a WSGI server puts in the environ: the header's UTF-8 bytes, as latin-1.
    wsgi_headers = [(name, value.encode("utf-8").decode("latin-1")) for name, value in headers]
    # The host DPoP proofs name in htu (Starlette's TestClient uses it by default).
    response = client.get(
        case.path, headers=wsgi_headers, query_string=urlencode(query), base_url=ORIGIN
    )
    answer = Answer.of(response.status_code, response.headers.to_wsgi_list(), response.get_data())
    return answer, [value for _, value in (*headers, *query)]


@pytest.mark.parametrize("style", STYLE_PARAMS)
@pytest.mark.parametrize("case", CASE_PARAMS)
def test_http(case: Case, style: str, client_for: ClientFor) -> None:
    answer, _ = send(client_for(style, case.options, case.overrides), case)
    check_answer(case, answer)


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
    assert checked == len([case for case in CASES if case.status >= 400])


@pytest.mark.parametrize("style", STYLE_PARAMS)
def test_errors_are_the_asgi_bytes(style: str, client_for: ClientFor, settings: Settings) -> None:
    """Every error of the suite: the Starlette app's status, headers and body, byte for byte."""
    asgi: dict[tuple[object, ...], TestClient] = {}
    compared = 0
    with ExitStack() as stack:
        for case in CASES:
            if case.status < 400:
                continue
            key = (*case.options.values(), repr(sorted(case.overrides.items())))
            if key not in asgi:
                changed = settings.model_copy(update=case.overrides)
                app = build_app("starlette", changed, **case.options)
                asgi[key] = stack.enter_context(TestClient(app))
            flask_answer, _ = send(client_for(style, case.options, case.overrides), case)
            headers, query = case.build_headers(), case.build_query()
            raw_headers = [(name.encode("ascii"), value.encode("utf-8")) for name, value in headers]
            params = tuple(query) if query else None
            response = asgi[key].get(case.path, headers=raw_headers, params=params)

            assert flask_answer.status == response.status_code, case.id
            for name in ("www-authenticate", "content-type", "cache-control"):
                assert flask_answer.get_list(name) == response.headers.get_list(name), case.id
            assert flask_answer.body == response.content, case.id
            compared += 1
    assert compared == len([case for case in CASES if case.status >= 400])


def test_test_client_joins_repeated_headers_like_a_wsgi_server() -> None:
    """So "two-authorization-headers" reaches scopegate as one joined value, as in production."""
    environ = EnvironBuilder(
        "/", headers=[("Authorization", "Bearer a"), ("Authorization", "Basic b")]
    ).get_environ()
    assert environ["HTTP_AUTHORIZATION"] == "Bearer a, Basic b"


@pytest.mark.parametrize("style", STYLE_PARAMS)
def test_guarded_routes_are_the_asgi_routes(style: str, settings: Settings) -> None:
    """The Flask apps serve exactly the HTTP routes of the ASGI apps."""
    app: Flask = build_flask_app(style, settings)
    rules = {rule.rule for rule in app.url_map.iter_rules() if rule.endpoint != "static"}
    assert rules == {
        "/api/public",
        "/api/private",
        "/api/private-scoped",
        "/api/any",
        "/api/multi",
        "/api/whoami",
        "/api/claim",
        "/api/check",
    }
