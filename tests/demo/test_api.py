"""The demo serves a copy of the FastAPI example's app: both must stay the same."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from scopegate import Settings
from scopegate.demo.api import create_api
from scopegate.testing import bearer, mint_token, test_settings

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "fastapi_app" / "main.py"


@pytest.fixture
def settings() -> Settings:
    return test_settings()


@pytest.fixture
def example(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> ModuleType:
    """examples/fastapi_app/main.py, imported with its settings in the environment."""
    assert settings.signing_secret is not None
    # Every setting, so a developer's examples/fastapi_app/.env cannot change them.
    for name, value in {
        "SIGNING_SECRET": settings.signing_secret.get_secret_value(),
        "IDENTIFIER": settings.identifier,
        "ISSUER": settings.issuer or "",
        "ALGORITHMS": "HS256",
        "LEEWAY": "5",
        "SCOPE_CLAIMS": "scope",
        "REALM": "api",
        "ALLOW_WEAK_SECRET": "false",
        "MAX_TOKEN_BYTES": "8192",
    }.items():
        monkeypatch.setenv(f"SCOPEGATE_{name}", value)
    spec = importlib.util.spec_from_file_location("scopegate_example_main", EXAMPLE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_same_openapi_document(example: ModuleType, settings: Settings) -> None:
    theirs: FastAPI = example.create_app(settings)
    assert create_api(settings).openapi() == theirs.openapi()


@pytest.mark.parametrize("path", ["/health", "/api/public", "/api/private", "/api/private-scoped"])
@pytest.mark.parametrize(
    "token",
    [
        pytest.param(None, id="no-token"),
        pytest.param({}, id="no-scope"),
        pytest.param({"scopes": ["sample-scope"]}, id="sample-scope"),
        pytest.param({"scopes": ["sample-scope"], "expires_in": -3600}, id="expired"),
        pytest.param({"aud": "https://elsewhere"}, id="audience"),
    ],
)
def test_the_same_answers(
    example: ModuleType, settings: Settings, path: str, token: dict[str, Any] | None
) -> None:
    headers = {} if token is None else bearer(mint_token(settings, **token))
    answers = []
    for app in (example.create_app(settings), create_api(settings)):
        with TestClient(app) as client:
            response = client.get(path, headers=headers)
        answers.append(
            (
                response.status_code,
                response.headers.get("www-authenticate"),
                response.headers.get("content-type"),
                response.json(),
            )
        )
    assert answers[0] == answers[1]
