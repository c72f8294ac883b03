"""Concurrent writes over real HTTP: nothing lost, nothing duplicated, never a 5xx."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from authserver.harness import Live, bearer, counts, management_client, serve_db

THREADS = 20


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[tuple[Live, httpx.Client]]:
    """A server of its own, on a database file, and a Management API client."""
    with serve_db(str(tmp_path / "auth.db")) as live, management_client(live) as http:
        yield live, http


def race(base_url: str, token: str, calls: list[Callable[[httpx.Client], Any]]) -> list[Any]:
    """Run every call at once, each on its own connection, released together by a barrier."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[httpx.Client], Any]) -> Any:
        with httpx.Client(base_url=base_url, headers=bearer(token), timeout=30.0) as http:
            http.get("/api/v2/clients", params={"per_page": 1})  # connect before the race
            barrier.wait()
            return call(http)

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def _token(http: httpx.Client) -> str:
    return http.headers["authorization"].removeprefix("Bearer ")


def test_concurrent_grant_creation(fresh: tuple[Live, httpx.Client]) -> None:
    live, mgmt = fresh
    api = {"identifier": "urn:contended", "scopes": [{"value": "s"}]}
    assert mgmt.post("/api/v2/resource-servers", json=api).status_code == 201
    clients = [mgmt.post("/api/v2/clients", json={"name": f"c{i}"}).json() for i in range(THREADS)]
    shared = clients[0]["client_id"]

    def grant(client_id: str) -> Callable[[httpx.Client], int]:
        body = {"client_id": client_id, "audience": "urn:contended", "scope": ["s"]}
        return lambda http: http.post("/api/v2/client-grants", json=body).status_code

    distinct = [grant(client["client_id"]) for client in clients[1:]]
    same = [grant(shared) for _ in range(THREADS)]
    statuses = race(live.base_url, _token(mgmt), distinct + same)

    assert statuses[: len(distinct)] == [201] * len(distinct)
    assert Counter(statuses[len(distinct) :]) == {201: 1, 409: THREADS - 1}
    listed = mgmt.get(
        "/api/v2/client-grants", params={"audience": "urn:contended", "per_page": 100}
    ).json()
    assert sorted(g["client_id"] for g in listed) == sorted(c["client_id"] for c in clients)
    assert len({g["id"] for g in listed}) == THREADS


def test_concurrent_resource_server_creation(fresh: tuple[Live, httpx.Client]) -> None:
    live, mgmt = fresh
    before = counts(live.store)["resource_servers"]

    def create(identifier: str) -> Callable[[httpx.Client], int]:
        return lambda http: (
            http.post("/api/v2/resource-servers", json={"identifier": identifier}).status_code
        )

    calls = [create("urn:same") for _ in range(THREADS)]
    calls += [create(f"urn:distinct:{i}") for i in range(THREADS)]
    statuses = race(live.base_url, _token(mgmt), calls)

    assert Counter(statuses[:THREADS]) == {201: 1, 409: THREADS - 1}
    assert statuses[THREADS:] == [201] * THREADS
    assert counts(live.store)["resource_servers"] == before + THREADS + 1
    identifiers = [
        s["identifier"] for s in mgmt.get("/api/v2/resource-servers?per_page=100").json()
    ]
    assert len(identifiers) == len(set(identifiers)) == before + THREADS + 1


def test_concurrent_rotations_leave_one_current_and_one_next_key(
    fresh: tuple[Live, httpx.Client],
) -> None:
    live, mgmt = fresh
    rotations = 6
    calls = [lambda http: http.post("/api/v2/keys/signing/rotate") for _ in range(rotations)]
    answers = race(live.base_url, _token(mgmt), calls)
    assert [answer.status_code for answer in answers] == [200] * rotations
    keys = mgmt.get("/api/v2/keys/signing").json()
    flags = Counter(
        flag for key in keys for flag in ("current", "next", "previous") if key.get(flag)
    )
    assert flags == {"current": 1, "next": 1, "previous": rotations}
    assert len(keys) == rotations + 2
    # every rotation promoted a different key, and the last one promoted is the current key
    promoted = {answer.json()["kid"] for answer in answers}
    assert len(promoted) == rotations
    (current,) = [key["kid"] for key in keys if key.get("current")]
    assert current in promoted
