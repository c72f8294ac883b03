"""The SQLite store: transactions that nest and roll back whole, :memory: across threads."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from scopegate.authserver.errors import ManagementApiError
from scopegate.authserver.signing import new_key_material
from scopegate.authserver.storage import Store
from scopegate.authserver.storage.records import (
    Client,
    Page,
    ResourceServer,
    ResourceServerChanges,
    ScopeDefinition,
)
from scopegate.errors import ConfigurationError


def api(identifier: str, *scopes: str) -> ResourceServer:
    return ResourceServer(
        id=identifier.encode().hex()[:24].ljust(24, "0"),
        name=identifier,
        identifier=identifier,
        signing_secret="k" * 40,
        scopes=tuple(ScopeDefinition(scope) for scope in scopes),
    )


@pytest.fixture
def store() -> Iterator[Store]:
    store = Store(":memory:")
    yield store
    store.close()


def test_memory_store_is_shared_across_threads(store: Store) -> None:
    def add(index: int) -> None:
        store.clients.add(Client(f"client-{index}", "c", "hash"))

    threads = [threading.Thread(target=add, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    clients, total = store.clients.list(Page(size=100))
    assert total == 20
    assert sorted(c.client_id for c in clients) == sorted(f"client-{i}" for i in range(20))


def test_a_failure_rolls_back_the_outermost_transaction(store: Store) -> None:
    def several_writes() -> None:
        with store.db.write():
            store.resource_servers.add(api("urn:a", "s"))
            store.clients.add(Client("c1", "c", "hash"))
            store.grants.add("c1", "urn:a", ["s"])
            store.grants.add("c1", "urn:a", ["s"])  # 409: everything above is undone

    with pytest.raises(ManagementApiError):
        several_writes()
    assert store.resource_servers.get("urn:a") is None
    assert store.clients.get("c1") is None
    assert store.grants.search(Page()) == ([], 0)


def test_the_store_is_usable_after_a_rollback(store: Store) -> None:
    def failing_write() -> None:
        with store.db.write():
            store.clients.add(Client("c1", "c", "hash"))
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        failing_write()
    store.clients.add(Client("c1", "c", "hash"))
    assert store.clients.get("c1") is not None


def test_identifier_lookup_and_conflict(store: Store) -> None:
    server = store.resource_servers.add(api("https://my-api-urn", "a"))
    assert store.resource_servers.get(server.id) == server
    assert store.resource_servers.get("https://my-api-urn") == server
    with pytest.raises(ManagementApiError) as caught:
        store.resource_servers.add(api("https://my-api-urn"))
    assert caught.value.status_code == 409


def test_update_keeps_what_it_does_not_change(store: Store) -> None:
    server = store.resource_servers.add(api("urn:a", "x"))
    updated = store.resource_servers.update("urn:a", ResourceServerChanges(token_lifetime=60))
    assert updated == ResourceServer(
        id=server.id,
        name=server.name,
        identifier=server.identifier,
        signing_secret=server.signing_secret,
        scopes=server.scopes,
        token_lifetime=60,
    )
    assert store.resource_servers.get("urn:a") == updated


def test_deletes_cascade_to_grants(store: Store) -> None:
    store.resource_servers.add(api("urn:a", "s"))
    store.resource_servers.add(api("urn:b", "s"))
    store.clients.add(Client("c1", "c", "hash"))
    store.grants.add("c1", "urn:a", ["s"])
    store.grants.add("c1", "urn:b", [])
    store.resource_servers.delete("urn:a")
    assert [g.audience for g in store.grants.search(Page())[0]] == ["urn:b"]
    store.clients.delete("c1")
    assert store.grants.search(Page()) == ([], 0)


def test_file_store_survives_reopening(tmp_path: Path) -> None:
    path = str(tmp_path / "a.db")
    first = Store(path)
    first.resource_servers.add(api("urn:a", "s"))
    first.close()
    second = Store(path)
    assert second.resource_servers.get("urn:a") == api("urn:a", "s")
    second.close()


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = str(tmp_path / "a.db")
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA user_version = 99")
    conn.close()
    with pytest.raises(ConfigurationError, match="schema version 99"):
        Store(path)


def test_an_unusable_file_is_a_configuration_error(tmp_path: Path) -> None:
    (tmp_path / "not.db").write_text("this is not a database, just text" * 100)
    with pytest.raises(ConfigurationError, match="db: cannot use"):
        Store(str(tmp_path / "not.db"))
    with pytest.raises(ConfigurationError, match="db: cannot open"):
        Store(str(tmp_path / "missing" / "dir" / "a.db"))


def test_signing_keys_ensure_makes_a_current_and_a_next_key_once(store: Store) -> None:
    keys = store.signing_keys
    assert keys.missing() == 2
    assert keys.current() is None
    with pytest.raises(ValueError, match="not enough fresh keys"):
        keys.ensure([new_key_material()])
    assert keys.list() == []  # the failed write left nothing behind
    fresh = [new_key_material(), new_key_material()]
    keys.ensure(fresh)
    assert keys.missing() == 0
    listed = keys.list()
    assert [(key.kid, key.current, key.next) for key in listed] == [
        (fresh[0].kid, True, False),
        (fresh[1].kid, False, True),
    ]
    keys.ensure([])  # nothing missing: nothing used, nothing changed
    assert keys.list() == listed
    assert "PRIVATE KEY" not in repr(listed)
