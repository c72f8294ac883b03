"""scopegate._replay: the in-memory store (bounded, TTL, atomic) and the store factory."""

from __future__ import annotations

import asyncio
import logging
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scopegate._dpop import DPoPProof
from scopegate._replay import MemoryReplayStore, RedisReplayStore, replay_key, replay_store
from scopegate.errors import ReplayStoreUnavailableError


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def proof(jti: str = "a", jkt: str = "k") -> DPoPProof:
    return DPoPProof(jkt=jkt, jti=jti, iat=0, htm="GET", htu="https://a/", nonce=None, jwk={})


def test_a_key_is_new_once_within_its_ttl() -> None:
    clock = Clock()
    store = MemoryReplayStore(clock=clock)
    assert store.first_use("k", 10) is True
    assert store.first_use("k", 10) is False
    clock.now += 9.99
    assert store.first_use("k", 10) is False
    clock.now += 0.02
    assert store.first_use("k", 10) is True


def test_async_is_the_same_store() -> None:
    store = MemoryReplayStore()
    assert asyncio.run(store.first_use_async("k", 10)) is True
    assert store.first_use("k", 10) is False


def test_a_full_store_refuses_rather_than_forgets(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    store = MemoryReplayStore(2, clock=clock)
    assert store.first_use("a", 10)
    assert store.first_use("b", 10)
    with caplog.at_level(logging.WARNING, "scopegate"):
        for _ in range(3):
            with pytest.raises(ReplayStoreUnavailableError) as info:
                store.first_use("c", 10)
    assert info.value.status_code == 503
    assert [record.getMessage() for record in caplog.records] == [
        "scopegate: the in-memory DPoP replay store is full (2 live proofs); new proofs get "
        "503 until entries expire: raise its size or use Redis"
    ]
    assert store.first_use("a", 10) is False  # nothing live was evicted
    clock.now += 11
    assert store.first_use("c", 10) is True
    assert len(store) == 1


def test_threads_racing_on_one_key_get_exactly_one_true() -> None:
    store = MemoryReplayStore()
    barrier = threading.Barrier(16)
    results: list[bool] = []

    def race() -> None:
        barrier.wait()
        results.append(store.first_use("same", 60))

    threads = [threading.Thread(target=race) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False] * 15 + [True]


def test_replay_key_is_a_fixed_size_digest_scoped_by_key() -> None:
    assert len(replay_key(proof("x" * 256))) == 64
    assert replay_key(proof("a", "k1")) != replay_key(proof("a", "k2"))
    assert replay_key(proof("a")) == replay_key(proof("a"))
    assert "x" not in replay_key(proof("x" * 256))


@pytest.mark.parametrize("value", [None, "memory"])
def test_replay_store_default_is_memory(value: str | None) -> None:
    assert isinstance(replay_store(value), MemoryReplayStore)


def test_replay_store_redis_url() -> None:
    store = replay_store("redis://:secret@127.0.0.1:1/0")
    assert isinstance(store, RedisReplayStore)
    assert "secret" not in repr(store)


@pytest.mark.parametrize("value", ["", "memcached://x", "redis", "http://:secret@x/"])
def test_replay_store_refuses_anything_else(value: str) -> None:
    with pytest.raises(ValueError, match="neither") as info:
        replay_store(value)
    assert "secret" not in str(info.value)


def test_both_stores_satisfy_the_protocol() -> None:
    from scopegate._replay import ReplayStore

    assert isinstance(MemoryReplayStore(), ReplayStore)
    assert isinstance(RedisReplayStore("redis://127.0.0.1:1/0"), ReplayStore)


def test_replay_store_without_redis_py_names_the_extra() -> None:
    from subprocess_probe import run_python

    printed = run_python(
        "import sys\nsys.modules['redis'] = None\nfrom scopegate._replay import replay_store\n"
        "try:\n    replay_store('redis://127.0.0.1:1/0')\n"
        "except ImportError as exc:\n    print(type(exc).__name__, '|', exc)\n"
    )
    assert printed == (
        "MissingExtraError | scopegate: a Redis replay store needs redis-py: "
        "pip install 'scopegate[redis]'"
    )


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        pytest.param("redis://:pw@h:6379/0", "redis://h:6379/0", id="password"),
        pytest.param("redis://user:pw@h/1", "redis://h/1", id="user-and-password"),
        pytest.param("rediss://h:6380/0?password=pw", "rediss://h:6380/0", id="query-password"),
        pytest.param("unix:///run/redis.sock?db=2", "unix:///run/redis.sock", id="unix"),
        pytest.param("redis://h", "redis://h", id="plain"),
    ],
)
def test_redacted_url_drops_every_credential(url: str, shown: str) -> None:
    from scopegate._replay import redacted_url

    assert redacted_url(url) == shown


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from("abcd"),
            st.sampled_from([1.0, 5.0, 10.0]),
            st.sampled_from([0.0, 0.5, 1.0, 4.99, 5.0, 11.0]),
        ),
        max_size=40,
    )
)
def test_the_memory_store_answers_as_a_model_of_live_deadlines(
    steps: list[tuple[str, float, float]],
) -> None:
    """Any sequence of keys, time to live and clock steps: new exactly when no live entry."""
    clock = Clock()
    store = MemoryReplayStore(3, clock=clock)
    live: dict[str, float] = {}
    for key, ttl, advance in steps:
        clock.now += advance
        live = {k: deadline for k, deadline in live.items() if clock.now < deadline}
        if key in live:
            assert store.first_use(key, ttl) is False
        elif len(live) >= 3:
            with pytest.raises(ReplayStoreUnavailableError):
                store.first_use(key, ttl)
        else:
            assert store.first_use(key, ttl) is True
            live[key] = clock.now + ttl
        assert len(store) == len(live)
