"""Fixtures: one authorization server per module, and a fresh API and client per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from client.harness import (
    AuthServer,
    Counting,
    Protected,
    World,
    auth_server,
    resource_server,
    world,
)


@pytest.fixture(scope="module")
def server() -> Iterator[AuthServer]:
    with auth_server() as running:
        yield running


@pytest.fixture(scope="module")
def resource() -> Iterator[tuple[str, Protected, Counting]]:
    with resource_server() as running:
        yield running


@pytest.fixture
def api(server: AuthServer, resource: tuple[str, Protected, Counting]) -> Iterator[World]:
    with world(server, resource) as made:
        yield made
