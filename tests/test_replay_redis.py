"""scopegate._replay.RedisReplayStore against a real ``redis-server`` on 127.0.0.1."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Coroutine, Iterator
from typing import Any, TypeVar

import pytest

from redis_server import free_port, redis_server, redis_url
from scopegate._replay import RedisReplayStore, replay_store
from scopegate.errors import ReplayStoreUnavailableError

__all__ = ["redis_url"]  # the fixture, imported for the tests below

SECRET = "s3cret-pw-Zq8"
T = TypeVar("T")
Stores = Callable[..., RedisReplayStore]


@pytest.fixture
def prefix() -> str:
    return f"test:{uuid.uuid4().hex}:"


@pytest.fixture
def make_store() -> Iterator[Stores]:
    """Makes RedisReplayStores and closes their connections after the test."""
    made: list[RedisReplayStore] = []

    def make(url: str, **options: Any) -> RedisReplayStore:
        made.append(RedisReplayStore(url, **options))
        return made[-1]

    yield make
    for each in made:
        each.close()


def run(coroutine: Coroutine[Any, Any, T], *stores: RedisReplayStore) -> T:
    """``asyncio.run``, closing the stores' asyncio clients before the loop ends."""

    async def main() -> T:
        try:
            return await coroutine
        finally:
            for each in stores:
                await each.aclose()

    return asyncio.run(main())


def test_two_stores_on_one_server_share_replays(
    make_store: Stores, redis_url: str, prefix: str
) -> None:
    one = make_store(redis_url, prefix=prefix)
    two = make_store(redis_url, prefix=prefix)
    assert one.first_use("jti", 60) is True
    assert two.first_use("jti", 60) is False
    assert one.first_use("jti", 60) is False
    assert two.first_use("other", 60) is True


def test_async_and_sync_clients_share_replays(
    make_store: Stores, redis_url: str, prefix: str
) -> None:
    one = make_store(redis_url, prefix=prefix)
    two = make_store(redis_url, prefix=prefix)

    async def main() -> tuple[bool, bool]:
        return await one.first_use_async("jti", 60), await two.first_use_async("jti", 60)

    assert run(main(), one, two) == (True, False)
    assert one.first_use("jti", 60) is False


def test_a_key_is_new_again_after_its_ttl(make_store: Stores, redis_url: str, prefix: str) -> None:
    store = make_store(redis_url, prefix=prefix)
    assert store.first_use("jti", 0.2) is True
    assert store.first_use("jti", 0.2) is False
    time.sleep(0.35)
    assert store.first_use("jti", 0.2) is True


def test_the_key_is_stored_under_the_prefix_with_its_ttl(
    make_store: Stores, redis_url: str, prefix: str
) -> None:
    import redis

    store = make_store(redis_url, prefix=prefix)
    store.first_use("jti", 30)
    client = redis.Redis.from_url(redis_url)
    try:
        assert client.get(prefix + "jti") == b"1"
        assert 29_000 < int(client.pttl(prefix + "jti")) <= 30_000
    finally:
        client.close()


def test_threads_racing_across_two_clients_get_exactly_one_true(
    make_store: Stores, redis_url: str, prefix: str
) -> None:
    stores = [make_store(redis_url, prefix=prefix) for _ in range(2)]
    barrier = threading.Barrier(12)
    results: list[bool] = []

    def race(index: int) -> None:
        barrier.wait()
        results.append(stores[index % 2].first_use("same", 60))

    threads = [threading.Thread(target=race, args=(index,)) for index in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False] * 11 + [True]


def test_coroutines_racing_get_exactly_one_true(
    make_store: Stores, redis_url: str, prefix: str
) -> None:
    store = make_store(redis_url, prefix=prefix)

    async def main() -> list[bool]:
        return list(await asyncio.gather(*(store.first_use_async("same", 60) for _ in range(20))))

    assert sorted(run(main(), store)) == [False] * 19 + [True]


def test_one_store_serves_several_event_loops(
    make_store: Stores, redis_url: str, prefix: str
) -> None:
    store = make_store(redis_url, prefix=prefix)
    assert run(store.first_use_async("a", 60), store) is True
    assert run(store.first_use_async("a", 60), store) is False


def test_replay_store_makes_a_redis_store(redis_url: str, prefix: str) -> None:
    store = replay_store(redis_url)
    assert isinstance(store, RedisReplayStore)
    key = prefix + "x"
    try:
        assert store.first_use(key, 60) is True
        assert store.first_use(key, 60) is False
    finally:
        store.close()


def assert_no_secret(exc: BaseException, caplog: pytest.LogCaptureFixture) -> None:
    assert SECRET not in "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    assert SECRET not in caplog.text
    assert SECRET not in str(exc.__context__)


@pytest.fixture
def refused_url() -> str:
    """A URL with a password on a port where nothing listens."""
    return f"redis://:{SECRET}@127.0.0.1:{free_port()}/0"


def test_unreachable_redis_is_503_never_true(
    make_store: Stores, refused_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    store = make_store(refused_url, timeout=0.5)
    with (
        caplog.at_level(logging.WARNING, "scopegate"),
        pytest.raises(ReplayStoreUnavailableError) as info,
    ):
        store.first_use("jti", 60)
    assert info.value.status_code == 503
    assert info.value.body() == {
        "error": "temporarily_unavailable",
        "error_description": "The DPoP replay check cannot be made right now; retry later",
    }
    assert ("retry-after", "1") in info.value.response_headers("api")
    assert "cannot be reached" in caplog.text
    assert "127.0.0.1" in caplog.text
    assert_no_secret(info.value, caplog)
    assert SECRET not in repr(store)


def test_unreachable_redis_is_503_async(
    make_store: Stores, refused_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    store = make_store(refused_url, timeout=0.5)
    with (
        caplog.at_level(logging.WARNING, "scopegate"),
        pytest.raises(ReplayStoreUnavailableError) as info,
    ):
        run(store.first_use_async("jti", 60), store)
    assert_no_secret(info.value, caplog)


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield sock.getsockname()[1]


def test_a_redis_that_never_answers_times_out_as_503(make_store: Stores, silent_port: int) -> None:
    store = make_store(f"redis://127.0.0.1:{silent_port}/0", timeout=0.3)
    started = time.monotonic()
    with pytest.raises(ReplayStoreUnavailableError):
        store.first_use("jti", 60)
    with pytest.raises(ReplayStoreUnavailableError):
        run(store.first_use_async("jti", 60), store)
    assert time.monotonic() - started < 3


def test_a_wrong_password_is_503_and_not_shown(
    make_store: Stores, caplog: pytest.LogCaptureFixture
) -> None:
    with redis_server(password="the-right-one") as server:
        store = make_store(f"redis://:{SECRET}@127.0.0.1:{server.port}/0", timeout=1)
        with (
            caplog.at_level(logging.WARNING, "scopegate"),
            pytest.raises(ReplayStoreUnavailableError) as info,
        ):
            store.first_use("jti", 60)
        assert_no_secret(info.value, caplog)
        good = make_store(server.url)
        assert good.first_use("jti", 60) is True
        assert good.first_use("jti", 60) is False


def test_a_server_that_goes_away_and_comes_back(
    make_store: Stores, caplog: pytest.LogCaptureFixture
) -> None:
    with redis_server(password=SECRET) as server, caplog.at_level(logging.WARNING, "scopegate"):
        store = make_store(server.url, timeout=0.5)
        assert store.first_use("before", 60) is True
        server.stop()
        for _ in range(3):
            with pytest.raises(ReplayStoreUnavailableError):
                store.first_use("during", 60)
        with pytest.raises(ReplayStoreUnavailableError):
            run(store.first_use_async("during", 60), store)
        server.start()
        assert store.first_use("after", 60) is True
        assert store.first_use("after", 60) is False
        assert run(store.first_use_async("after-async", 60), store) is True
    url = f"redis://127.0.0.1:{server.port}/0"
    assert [record.getMessage() for record in caplog.records] == [
        f"scopegate: the DPoP replay store {url} cannot be reached (ConnectionError); "
        "DPoP requests get 503 until it answers",
        f"scopegate: the DPoP replay store {url} answers again",
    ]
    assert SECRET not in caplog.text


def test_a_bad_url_names_no_password(make_store: Stores) -> None:
    with pytest.raises(ValueError, match="not a usable Redis URL") as info:
        make_store(f"redis://:{SECRET}@127.0.0.1:notaport/0")
    assert SECRET not in str(info.value)
