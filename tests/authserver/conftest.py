"""Fixtures: one live authorization server per module, and a Management API client for it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from authserver.harness import SAMPLE_API, Live, management_client, serve_db


@pytest.fixture(scope="module")
def live() -> Iterator[Live]:
    with serve_db() as server:
        yield server


@pytest.fixture(scope="module")
def mgmt(live: Live) -> Iterator[httpx.Client]:
    with management_client(live) as http:
        yield http


@pytest.fixture(scope="module")
def http(live: Live) -> Iterator[httpx.Client]:
    """No credentials: for the token endpoint and unauthenticated calls."""
    with httpx.Client(base_url=live.base_url, timeout=10.0) as client:
        yield client


@pytest.fixture(scope="module")
def sample(mgmt: httpx.Client) -> dict[str, Any]:
    """The issue's sample API, a client and a grant of sample-scope: their JSON."""
    api = mgmt.post("/api/v2/resource-servers", json=SAMPLE_API)
    assert api.status_code == 201, api.text
    client = mgmt.post("/api/v2/clients", json={"name": "m2m", "app_type": "non_interactive"})
    assert client.status_code == 201, client.text
    grant = mgmt.post(
        "/api/v2/client-grants",
        json={
            "client_id": client.json()["client_id"],
            "audience": SAMPLE_API["identifier"],
            "scope": ["sample-scope"],
        },
    )
    assert grant.status_code == 201, grant.text
    return {"api": api.json(), "client": client.json(), "grant": grant.json()}
