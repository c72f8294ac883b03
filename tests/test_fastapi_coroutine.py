"""The FastAPI dependencies are coroutine functions by a supported mechanism, not a private marker.

FastAPI awaits a dependency on the event loop only when it sees a coroutine
function; on Python 3.11 and 3.12 it also honours asyncio's private
``_is_coroutine`` marker, as a legacy shim. These tests look at exactly the
objects FastAPI inspects with the standard library's
:func:`inspect.iscoroutinefunction` (which ignores that marker), so they fail
if scopegate ever leans on the shim again.

No ``from __future__ import annotations`` here: the routes' annotations name a
local dependency, which FastAPI can resolve only when it is not a string.
"""

import asyncio
import inspect
import threading
from collections.abc import Callable
from typing import Annotated, Any

import pytest
from fastapi import FastAPI, Security
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from scopegate import AccessToken
from scopegate.asgi import BearerAuthMiddleware
from scopegate.fastapi import (
    ScopeDependency,
    require_any_scope,
    require_claim,
    require_scope,
    require_token,
)
from scopegate.testing import bearer, mint_token, test_settings

Factory = Callable[[], ScopeDependency]

FACTORIES = [
    pytest.param(lambda: require_scope("sample-scope"), id="require_scope"),
    pytest.param(lambda: require_any_scope("sample-scope", "other"), id="require_any_scope"),
    pytest.param(lambda: require_claim("gty", "client-credentials"), id="require_claim"),
    pytest.param(lambda: require_token(lambda token: True), id="require_token"),
]


def _calls(dependant: Dependant) -> list[Any]:
    found = [dependant.call]
    for sub in dependant.dependencies:
        found.extend(_calls(sub))
    return found


@pytest.mark.parametrize("factory", FACTORIES)
def test_the_dependency_is_a_coroutine_function_to_the_standard_library(factory: Factory) -> None:
    dependency = factory()
    assert isinstance(dependency, ScopeDependency)
    assert inspect.iscoroutinefunction(dependency)
    assert asyncio.iscoroutinefunction(dependency)
    # No private marker anywhere FastAPI could find one.
    assert not hasattr(dependency, "_is_coroutine")
    assert not hasattr(type(dependency).__call__, "_is_coroutine")


@pytest.mark.parametrize("factory", FACTORIES)
def test_every_call_fastapi_inspects_is_a_coroutine_function(factory: Factory) -> None:
    app = FastAPI()

    @app.get("/dependency", dependencies=[Security(factory())])
    async def dependency() -> None: ...

    @app.get("/decorated")
    @factory()
    async def decorated() -> None: ...

    for route in app.routes:
        if isinstance(route, APIRoute):
            calls = [call for call in _calls(route.dependant)[1:] if call is not None]
            assert calls, route.path
            for call in calls:
                # The dependency style's call is the ScopeDependency itself; the
                # decorator style's is its _ScopeCheck, whose __call__ is async def.
                assert inspect.iscoroutinefunction(call) or inspect.iscoroutinefunction(
                    type(call).__call__
                ), (route.path, call)


@pytest.mark.parametrize("factory", FACTORIES)
def test_the_check_runs_on_the_event_loop_and_returns_the_token(factory: Factory) -> None:
    settings = test_settings()
    app = FastAPI()
    app.add_middleware(BearerAuthMiddleware, settings=settings)
    seen: list[tuple[str, int]] = []
    dependency = factory()

    @app.get("/dependency")
    async def route(token: Annotated[AccessToken, Security(dependency)]) -> dict[str, Any]:
        seen.append(("route", threading.get_ident()))
        # Run in a worker thread, the partial would hand FastAPI an un-awaited coroutine.
        return {"token": type(token).__name__, "scopes": sorted(token.scopes)}

    response = TestClient(app).get(
        "/dependency", headers=bearer(mint_token(settings, scopes=["sample-scope"]))
    )
    assert response.status_code == 200
    assert response.json() == {"token": "AccessToken", "scopes": ["sample-scope"]}
    assert [name for name, _ in seen] == ["route"]


def test_a_predicate_runs_on_the_event_loop_thread() -> None:
    settings = test_settings()
    app = FastAPI()
    app.add_middleware(BearerAuthMiddleware, settings=settings)
    threads: dict[str, int] = {}

    def predicate(token: AccessToken) -> bool:
        threads["check"] = threading.get_ident()
        return True

    @app.get("/dependency", dependencies=[Security(require_token(predicate))])
    async def dependency() -> None:
        threads["route"] = threading.get_ident()

    @app.get("/decorated")
    @require_token(predicate)
    async def decorated() -> None:
        threads["route"] = threading.get_ident()

    client = TestClient(app)
    for path in ("/dependency", "/decorated"):
        threads.clear()
        response = client.get(path, headers=bearer(mint_token(settings)))
        assert response.status_code == 200, path
        assert threads["check"] == threads["route"], path  # no threadpool hop for the check
