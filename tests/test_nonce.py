"""scopegate._nonce: stateless rotating server nonces (RFC 9449 §9)."""

from __future__ import annotations

import pytest

from scopegate._nonce import NonceSource
from scopegate.errors import UseDPoPNonceError


class Clock:
    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_current_and_previous_are_accepted_older_refused() -> None:
    clock = Clock(3000.0)
    nonces = NonceSource(secret=b"shared", period=300, clock=clock)
    first = nonces.current()
    assert nonces.is_valid(first)
    clock.now += 300
    second = nonces.current()
    assert second != first
    assert nonces.is_valid(first)
    assert nonces.is_valid(second)
    clock.now += 300
    assert not nonces.is_valid(first)
    assert nonces.is_valid(second)


def test_rotation_happens_on_the_period_boundary() -> None:
    clock = Clock(3000.0)
    nonces = NonceSource(secret=b"shared", period=300, clock=clock)
    first = nonces.current()
    clock.now = 3299.999
    assert nonces.current() == first
    clock.now = 3300.0
    assert nonces.current() != first


def test_two_sources_with_one_secret_agree() -> None:
    clock = Clock()
    a = NonceSource(secret=b"shared", clock=clock)
    b = NonceSource(secret=b"shared", clock=clock)
    assert a.current() == b.current()
    assert b.is_valid(a.current())


def test_without_a_secret_each_source_is_random() -> None:
    clock = Clock()
    a, b = NonceSource(clock=clock), NonceSource(clock=clock)
    assert a.current() != b.current()
    assert not b.is_valid(a.current())


@pytest.mark.parametrize("value", [None, 1, "", "x", "é", "A" * 43])
def test_garbage_is_not_valid(value: object) -> None:
    assert NonceSource(secret=b"s").is_valid(value) is False


def test_a_nonce_is_header_safe() -> None:
    nonce = NonceSource().current()
    assert UseDPoPNonceError(nonce).nonce == nonce


@pytest.mark.parametrize("period", [0, -1, float("nan"), float("inf")])
def test_a_bad_period_is_refused(period: float) -> None:
    with pytest.raises(ValueError, match="period"):
        NonceSource(period=period)


def test_an_empty_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="secret"):
        NonceSource(secret=b"")
