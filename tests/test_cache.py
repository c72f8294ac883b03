"""The verified-token cache, seen through TokenVerifier: expiry, bounds, threads, isolation."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from helpers import IDENTIFIER, NOW, SECRET, FakeClock, make_settings, mint
from scopegate import InvalidTokenError, Settings, TokenVerifier
from scopegate._cache import TokenCache
from scopegate._token import AccessToken
from scopegate.errors import TokenFailure

T0 = float(NOW)  # the fake clock's start (conftest's clock): a fixed, whole second
OTHER_SECRET = "an-entirely-different-signing-secret-0123456789"


def fake_token(**overrides: Any) -> str:
    """A valid token issued at T0 and expiring an hour later, unless overridden."""
    claims: dict[str, Any] = {"iat": int(T0), "exp": int(T0) + 3600}
    claims.update(overrides)
    return mint(**claims)


class Counted:
    """A verifier whose _decode calls are counted (every call is a full signature check)."""

    def __init__(self, verifier: TokenVerifier, monkeypatch: pytest.MonkeyPatch) -> None:
        self.verifier = verifier
        self.decodes = 0
        original = verifier._decode

        def counting(token: str) -> dict[str, Any]:
            self.decodes += 1
            return original(token)

        monkeypatch.setattr(verifier, "_decode", counting)

    def verify(self, token: str) -> AccessToken:
        return self.verifier.verify(token)

    @property
    def size(self) -> int:
        assert self.verifier.cache is not None
        return len(self.verifier.cache)


@pytest.fixture
def counted(clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Counted]:
    def build(**overrides: Any) -> Counted:
        return Counted(TokenVerifier(make_settings(**overrides), clock=clock), monkeypatch)

    return build


def expect_failure(verify: Callable[[Any], AccessToken], token: Any) -> TokenFailure:
    with pytest.raises(InvalidTokenError) as info:
        verify(token)
    return info.value.failure


# -- expiry -----------------------------------------------------------------------------


@pytest.mark.parametrize("leeway", [0, 5, 60], ids=["no-leeway", "leeway-5", "leeway-60"])
@pytest.mark.parametrize("epsilon", [1.0, 0.001], ids=["last-second", "last-millisecond"])
def test_cached_token_expires_at_exp_plus_leeway_to_the_second(
    clock: FakeClock, counted: Callable[..., Counted], leeway: int, epsilon: float
) -> None:
    exp = int(T0) + 120
    verifier = counted(leeway=leeway, cache_ttl=3600)
    token = fake_token(exp=exp)

    assert verifier.verify(token).expires_at.timestamp() == exp
    clock.now = exp + leeway - epsilon
    assert verifier.verify(token).subject is not None
    assert verifier.decodes == 1, "the last instant before exp+leeway is still a cache hit"

    clock.now = exp + leeway
    assert expect_failure(verifier.verify, token) is TokenFailure.EXPIRED
    assert verifier.decodes == 2, "at exp+leeway the entry is gone and the token is re-checked"
    assert verifier.size == 0
    clock.advance(86400)
    assert expect_failure(verifier.verify, token) is TokenFailure.EXPIRED


@pytest.mark.parametrize("cache_maxsize", [10_000, 0], ids=["cache-on", "cache-off"])
def test_cache_changes_no_answer_at_the_expiry_boundary(
    clock: FakeClock, cache_maxsize: int
) -> None:
    # The same instants give the same answers whether the token is cached or not.
    verifier = TokenVerifier(make_settings(leeway=5, cache_maxsize=cache_maxsize), clock=clock)
    token = fake_token(exp=int(T0) + 10)
    for now, accepted in [(T0, True), (T0 + 14, True), (T0 + 14.999, True), (T0 + 15, False)]:
        clock.now = now
        if accepted:
            assert verifier.verify(token).subject is not None
        else:
            assert expect_failure(verifier.verify, token) is TokenFailure.EXPIRED


def test_token_verified_within_its_leeway_is_cached_only_until_the_leeway_ends(
    clock: FakeClock, counted: Callable[..., Counted]
) -> None:
    verifier = counted(leeway=5)
    token = fake_token(exp=int(T0) - 2)  # already past exp, still inside the leeway
    verifier.verify(token)
    clock.now = T0 + 2.999
    verifier.verify(token)
    assert verifier.decodes == 1
    clock.now = T0 + 3
    assert expect_failure(verifier.verify, token) is TokenFailure.EXPIRED


def test_cache_ttl_bounds_the_age_of_an_entry(
    clock: FakeClock, counted: Callable[..., Counted]
) -> None:
    verifier = counted(cache_ttl=60)
    token = fake_token()  # valid for an hour: only cache_ttl ends the entry
    verifier.verify(token)
    clock.now = T0 + 59.999
    verifier.verify(token)
    assert verifier.decodes == 1

    clock.now = T0 + 60
    assert verifier.verify(token).subject is not None
    assert verifier.decodes == 2, "after cache_ttl seconds the token is verified again"
    assert verifier.size == 1

    clock.now = T0 + 119.999
    verifier.verify(token)
    assert verifier.decodes == 2, "the re-verified entry lives another cache_ttl"
    clock.now = T0 + 120
    verifier.verify(token)
    assert verifier.decodes == 3


def test_a_hit_does_not_decode_again(counted: Callable[..., Counted]) -> None:
    verifier = counted()
    token = fake_token(jti="one")
    first = verifier.verify(token)
    for _ in range(50):
        assert verifier.verify(token) is first
    assert verifier.decodes == 1
    assert verifier.size == 1


# -- what is cached ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("token", "failure"),
    [
        pytest.param(fake_token(key=OTHER_SECRET), TokenFailure.SIGNATURE, id="bad-signature"),
        pytest.param(fake_token(aud="https://other-api"), TokenFailure.AUDIENCE, id="audience"),
        pytest.param(fake_token(exp=int(T0) - 60), TokenFailure.EXPIRED, id="expired"),
        pytest.param(fake_token(iss="https://evil/"), TokenFailure.ISSUER, id="issuer"),
        pytest.param("not.a.jwt", TokenFailure.MALFORMED, id="malformed"),
    ],
)
def test_failures_are_not_cached(
    counted: Callable[..., Counted], token: str, failure: TokenFailure
) -> None:
    verifier = counted()
    assert expect_failure(verifier.verify, token) is failure
    assert expect_failure(verifier.verify, token) is failure
    assert verifier.decodes == 2
    assert verifier.size == 0


def test_a_failure_is_not_remembered_either(
    clock: FakeClock, counted: Callable[..., Counted]
) -> None:
    verifier = counted(leeway=0)
    token = fake_token(nbf=int(T0) + 30)
    assert expect_failure(verifier.verify, token) is TokenFailure.NOT_YET_VALID
    clock.now = T0 + 30
    assert verifier.verify(token).subject is not None
    assert verifier.decodes == 2


def test_an_oversized_token_is_refused_and_not_cached(counted: Callable[..., Counted]) -> None:
    verifier = counted(max_token_bytes=256)
    token = fake_token(padding="x" * 300)
    assert expect_failure(verifier.verify, token) is TokenFailure.TOO_LARGE
    assert verifier.decodes == 0
    assert verifier.size == 0


def test_cache_is_bounded(counted: Callable[..., Counted]) -> None:
    verifier = counted(cache_maxsize=100)
    tokens = [fake_token(jti=f"jti-{i}") for i in range(1000)]
    for i, token in enumerate(tokens):
        assert verifier.verify(token).claims["jti"] == f"jti-{i}"
        assert verifier.size <= 100
    assert verifier.size == 100
    assert verifier.decodes == 1000
    verifier.verify(tokens[-1])  # the most recent one is still there...
    assert verifier.decodes == 1000
    verifier.verify(tokens[0])  # ...the first one was evicted long ago
    assert verifier.decodes == 1001


def test_least_recently_used_entry_is_evicted_first(counted: Callable[..., Counted]) -> None:
    verifier = counted(cache_maxsize=3)
    a, b, c, d = (fake_token(jti=name) for name in "abcd")
    for token in (a, b, c):
        verifier.verify(token)
    verifier.verify(a)  # a is now the most recently used
    verifier.verify(d)  # evicts b
    assert verifier.decodes == 4
    verifier.verify(a)
    verifier.verify(c)
    assert verifier.decodes == 4
    verifier.verify(b)
    assert verifier.decodes == 5


def test_expired_entries_do_not_count_towards_the_bound(
    clock: FakeClock, counted: Callable[..., Counted]
) -> None:
    verifier = counted(cache_maxsize=10, cache_ttl=30)
    for i in range(10):
        verifier.verify(fake_token(jti=f"old-{i}"))
    clock.advance(30)
    assert verifier.size == 0
    fresh = fake_token(jti="fresh")
    verifier.verify(fresh)
    assert verifier.size == 1


@pytest.mark.parametrize("use_fixture_settings", [True, False], ids=["settings", "env-style"])
def test_cache_off(
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
    settings: Settings,
    use_fixture_settings: bool,
) -> None:
    if use_fixture_settings:
        assert settings.cache_maxsize == 10_000, "the cache is on by default"
        assert TokenVerifier(settings).cache is not None
        verifier = Counted(TokenVerifier(make_settings(cache_maxsize=0), clock=clock), monkeypatch)
    else:
        monkeypatch.setenv("SCOPEGATE_CACHE_MAXSIZE", "0")
        off = Settings(signing_secret=SECRET, identifier=IDENTIFIER, _env_file=None)
        verifier = Counted(TokenVerifier(off, clock=clock), monkeypatch)
    assert verifier.verifier.cache is None
    token = fake_token()
    for _ in range(5):
        assert verifier.verify(token).subject is not None
    assert verifier.decodes == 5


# -- threads ----------------------------------------------------------------------------


@pytest.fixture
def busy_switching() -> Iterator[None]:
    """Switch threads as often as the interpreter allows, to provoke races."""
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(previous)


@pytest.mark.usefixtures("busy_switching")
def test_concurrent_verification_is_correct_and_bounded(clock: FakeClock) -> None:
    verifier = TokenVerifier(make_settings(cache_maxsize=128), clock=clock)
    pool = [fake_token(sub=f"client-{i}@clients", jti=f"jti-{i}") for i in range(300)]
    threads, per_thread = 8, 2000
    barrier = threading.Barrier(threads)
    errors: list[BaseException] = []
    wrong: list[tuple[int, str | None]] = []

    def work(seed: int) -> None:
        try:
            barrier.wait()
            for n in range(per_thread):
                i = (seed * 7919 + n * 31) % len(pool)
                access = verifier.verify(pool[i])
                if access.subject != f"client-{i}@clients" or access.claims["jti"] != f"jti-{i}":
                    wrong.append((i, access.subject))
        except BaseException as exc:
            errors.append(exc)

    workers = [threading.Thread(target=work, args=(seed,)) for seed in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert not any(worker.is_alive() for worker in workers)
    assert errors == []
    assert wrong == []

    cache = verifier.cache
    assert cache is not None
    assert len(cache) <= 128
    # Every token still cached maps to that token's own claims.
    live = {i: access for i, token in enumerate(pool) if (access := cache.get(token)) is not None}
    assert 0 < len(live) <= 128
    for i, access in live.items():
        assert access.claims["jti"] == f"jti-{i}"


# -- isolation between verifiers --------------------------------------------------------


def test_each_verifier_owns_its_cache(clock: FakeClock, counted: Callable[..., Counted]) -> None:
    api_a, api_b = "https://api-a.example", "https://api-b.example"
    token = fake_token(aud=api_a)
    a = counted(identifier=api_a)
    assert a.verify(token).audience == (api_a,)
    assert a.size == 1

    b = counted(identifier=api_b)
    assert b.verifier.cache is not a.verifier.cache
    assert expect_failure(b.verify, token) is TokenFailure.AUDIENCE
    assert b.decodes == 1
    assert b.size == 0

    other_secret = counted(identifier=api_a, signing_secret=OTHER_SECRET)
    assert expect_failure(other_secret.verify, token) is TokenFailure.SIGNATURE
    assert other_secret.size == 0

    other_issuer = counted(identifier=api_a, issuer="https://other-tenant.example/")
    assert expect_failure(other_issuer.verify, token) is TokenFailure.ISSUER

    stricter = counted(identifier=api_a, algorithms=["HS384"])
    assert expect_failure(stricter.verify, token) is TokenFailure.ALGORITHM

    assert a.verify(token).audience == (api_a,)
    assert a.decodes == 1, "the first verifier still serves its own hit"


def test_a_shorter_leeway_is_not_overruled_by_another_verifier(clock: FakeClock) -> None:
    token = fake_token(exp=int(T0) + 10)
    lenient = TokenVerifier(make_settings(leeway=60), clock=clock)
    strict = TokenVerifier(make_settings(leeway=0), clock=clock)
    lenient.verify(token)
    clock.now = T0 + 30
    assert lenient.verify(token).subject is not None
    assert expect_failure(strict.verify, token) is TokenFailure.EXPIRED


# -- input types ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(None, id="none"),
        pytest.param(b"eyJhbGciOiJIUzI1NiJ9.e30.sig", id="bytes"),
        pytest.param(["a", "b"], id="list-unhashable"),
        pytest.param({"token": "x"}, id="dict-unhashable"),
        pytest.param(bytearray(b"abc"), id="bytearray-unhashable"),
        pytest.param(42, id="int"),
        pytest.param("", id="empty"),
    ],
)
def test_non_string_input_is_an_invalid_token_never_a_type_error(
    counted: Callable[..., Counted], value: object
) -> None:
    verifier = counted()
    assert verifier.verifier.cache is not None
    assert expect_failure(verifier.verify, value) is TokenFailure.MALFORMED
    assert verifier.decodes == 0
    assert verifier.size == 0


def test_token_cache_directly(clock: FakeClock) -> None:
    access = TokenVerifier(make_settings(), clock=clock).verify(fake_token(exp=int(T0) + 100))
    cache: TokenCache[str, AccessToken] = TokenCache(maxsize=2, max_age=50, leeway=5, clock=clock)
    exp = access.expires_at.timestamp()
    cache.put("t", access, exp)
    assert cache.get("t") is access
    assert cache.get("missing") is None
    clock.now = T0 + 50
    assert cache.get("t") is None  # max_age ended it
    clock.now = T0 + 80
    cache.put("t", access, exp)  # re-cached at T0+80: exp+leeway (T0+105) now comes first
    clock.now = T0 + 104.5
    assert cache.get("t") is access
    clock.now = T0 + 105
    assert cache.get("t") is None
    cache.put("u", access, exp)  # already past exp+leeway: never stored
    assert len(cache) == 0
    clock.now = T0
    cache.put("v", access, exp)
    cache.clear()
    assert len(cache) == 0
