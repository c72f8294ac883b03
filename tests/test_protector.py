"""The request policy behind every adapter: its rejection log and its public paths."""

from __future__ import annotations

import logging
import time
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from helpers import SECRET, make_settings, mint
from live_server import NO_TOKEN
from scopegate import Settings
from scopegate._protector import BearerProtector
from scopegate.asgi import BearerAuthMiddleware


async def whoami(request: Request) -> JSONResponse:
    return JSONResponse({"user": request.user.display_name})


def app_with(settings: Settings, **options: Any) -> TestClient:
    app = Starlette(routes=[Route("/{path:path}", whoami)])
    app.add_middleware(BearerAuthMiddleware, settings=settings, **options)
    return TestClient(app)


# --- the DEBUG rejection log the README's security notes promise --------------------------

OTHER_SECRET = "another-secret-that-is-long-enough-for-hs256-0123456789"
REJECTIONS = [
    pytest.param(lambda: None, "MissingTokenError (A bearer token is required)", id="no-token"),
    pytest.param(
        lambda: mint(exp=int(time.time()) - 3600), "InvalidTokenError (EXPIRED)", id="expired"
    ),
    pytest.param(lambda: mint(key=OTHER_SECRET), "InvalidTokenError (SIGNATURE)", id="signature"),
    pytest.param(lambda: mint(aud="https://other-api"), "InvalidTokenError (AUDIENCE)", id="aud"),
    pytest.param(lambda: "not-a.jwt.at-all", "InvalidTokenError (MALFORMED)", id="malformed"),
]


@pytest.mark.parametrize(("make_token", "logged"), REJECTIONS)
def test_a_rejection_is_logged_at_debug_by_rule_name_only(
    caplog: pytest.LogCaptureFixture, make_token: Any, logged: str
) -> None:
    token: str | None = make_token()
    client = app_with(make_settings(cache_maxsize=0))
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    with caplog.at_level(logging.DEBUG, logger="scopegate"):
        response = client.get("/api", headers=headers)
    assert response.status_code == 401
    records = [record for record in caplog.records if record.name == "scopegate"]
    assert [(record.levelno, record.getMessage()) for record in records] == [
        (logging.DEBUG, f"rejected request: {logged}")
    ]
    logged_text = caplog.text + repr([record.__dict__ for record in records])
    assert SECRET not in logged_text
    assert OTHER_SECRET not in logged_text
    if token is not None:
        for part in token.split("."):
            assert part not in logged_text


def test_above_debug_a_rejection_logs_nothing(caplog: pytest.LogCaptureFixture) -> None:
    client = app_with(make_settings())
    with caplog.at_level(logging.INFO, logger="scopegate"):
        assert client.get("/api", headers={"Authorization": "Bearer x.y.z"}).status_code == 401
    assert [record for record in caplog.records if record.name == "scopegate"] == []


# --- public_paths given as one string -----------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param("/health", {"/health"}, id="one"),
        pytest.param("/health /docs", {"/health", "/docs"}, id="space"),
        pytest.param("/health,/docs", {"/health", "/docs"}, id="comma"),
        pytest.param(' ["/health", "/docs"] ', {"/health", "/docs"}, id="json"),
        pytest.param("", set(), id="empty"),
    ],
)
def test_a_string_of_public_paths_is_a_list_of_paths(raw: str, expected: set[str]) -> None:
    protector = BearerProtector(
        make_settings(), publish=lambda token: token, options={"public_paths": raw}
    )
    assert protector.public_paths == expected
    assert all(protector.is_public(path) for path in expected)
    assert not protector.is_public("/")  # not a string's characters
    assert not protector.is_public("h")


def test_a_string_of_public_paths_through_the_middleware() -> None:
    client = app_with(make_settings(), public_paths="/health /docs")
    assert client.get("/health").json() == {"user": ""}
    assert client.get("/docs").status_code == 200
    for path in ("/", "/h", "/health/x"):
        response = client.get(path)
        assert response.status_code == 401, path
        assert response.headers["www-authenticate"] == NO_TOKEN
        assert response.json()["error"] == "missing_token"
