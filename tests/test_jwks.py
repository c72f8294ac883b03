"""scopegate._jwks: keys fetched from a real JWK Set server on 127.0.0.1.

The protector is driven the way the adapters drive it: ``authenticate`` (WSGI,
a blocking fetch) and ``authenticate_async`` (ASGI, an awaited fetch). Tokens
are minted by PyJWT with keys from ``cryptography``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from helpers import IDENTIFIER
from jwks_server import JWKS_PATH, OIDC_PATH, RFC8414_PATH, JwksServer, SigningKey, jwks_server
from scopegate import AccessToken, InvalidTokenError, Settings
from scopegate._jwks import MAX_BYTES
from scopegate._protector import BearerProtector
from scopegate.errors import BearerError, KeysUnavailableError, TokenFailure

KEY_A = SigningKey.generate("key-a")
KEY_B = SigningKey.generate("key-b")
KEY_EC = SigningKey.generate("key-ec", "ES256")


@pytest.fixture
def server() -> Iterator[JwksServer]:
    with jwks_server(KEY_A) as running:
        yield running


def the_token(token: AccessToken | None) -> AccessToken | None:
    """What the WSGI side publishes: the verified token itself."""
    return token


def protector_for(server: JwksServer, **values: Any) -> BearerProtector[AccessToken | None]:
    settings = Settings(
        _env_file=None,
        identifier=IDENTIFIER,
        issuer=None,
        jwks_uri=values.pop("jwks_uri", server.jwks_uri),
        **{"cache_maxsize": 0, "jwks_refresh_cooldown": 0.3, **values},
    )
    return BearerProtector(settings, publish=the_token)


def bearer(token: str) -> list[str]:
    return [f"Bearer {token}"]


def rejection(protector: BearerProtector[AccessToken | None], token: str) -> BearerError:
    with pytest.raises(BearerError) as info:
        protector.authenticate(bearer(token))
    return info.value


def failure(protector: BearerProtector[AccessToken | None], token: str) -> TokenFailure:
    error = rejection(protector, token)
    assert isinstance(error, InvalidTokenError)
    return error.failure


def test_sync_fetch_on_first_use(server: JwksServer) -> None:
    protector = protector_for(server)
    assert server.hits[JWKS_PATH] == 0
    access = protector.authenticate(bearer(KEY_A.mint()))
    assert access is not None
    assert access.audience == (IDENTIFIER,)
    protector.authenticate(bearer(KEY_A.mint()))
    assert server.hits[JWKS_PATH] == 1


def test_async_prefetch_then_verify(server: JwksServer) -> None:
    protector = protector_for(server)

    async def run() -> None:
        await protector.prefetch()
        assert server.hits[JWKS_PATH] == 1
        access = await protector.authenticate_async(bearer(KEY_A.mint()))
        assert access is not None

    asyncio.run(run())
    assert server.hits[JWKS_PATH] == 1


def test_es256_from_a_jwks(server: JwksServer) -> None:
    server.behaviour.keys = [KEY_A, KEY_EC]
    protector = protector_for(server, algorithms=["RS256", "ES256"])
    assert protector.authenticate(bearer(KEY_EC.mint())) is not None
    assert protector.authenticate(bearer(KEY_A.mint())) is not None


def test_rotation_without_restart(server: JwksServer) -> None:
    protector = protector_for(server)
    old_token = KEY_A.mint()
    assert protector.authenticate(bearer(old_token)) is not None
    server.behaviour.keys = [KEY_B, KEY_A]  # rotate: the previous key stays published
    assert failure(protector, KEY_B.mint()) is TokenFailure.UNKNOWN_KEY  # within the cooldown
    time.sleep(0.35)
    assert protector.authenticate(bearer(KEY_B.mint())) is not None
    assert protector.authenticate(bearer(old_token)) is not None
    assert server.hits[JWKS_PATH] == 2
    server.behaviour.keys = [KEY_B]  # revoke the old key
    time.sleep(0.35)  # past the cooldown
    unknown = SigningKey.generate("key-c").mint()  # any unknown kid triggers the refresh
    assert failure(protector, unknown) is TokenFailure.UNKNOWN_KEY
    assert failure(protector, old_token) is TokenFailure.UNKNOWN_KEY
    assert protector.authenticate(bearer(KEY_B.mint())) is not None


def random_kid_tokens(count: int) -> list[str]:
    return [KEY_A.mint(kid=uuid.uuid4().hex) for _ in range(count)]


def test_unknown_kid_spray_async_causes_one_fetch(server: JwksServer) -> None:
    protector = protector_for(server, jwks_refresh_cooldown=0.3)

    async def one(token: str) -> str:
        try:
            await protector.authenticate_async(bearer(token))
        except InvalidTokenError as error:
            return error.failure.name
        return "ok"

    async def run() -> list[str]:
        await protector.prefetch()
        await asyncio.sleep(0.35)  # past the cooldown: the spray may cause one refetch
        server.behaviour.delay = 0.05  # ...and arrives while it is in flight
        return list(await asyncio.gather(*(one(token) for token in random_kid_tokens(200))))

    results = asyncio.run(run())
    assert results == ["UNKNOWN_KEY"] * 200
    assert server.hits[JWKS_PATH] == 2  # the prefetch, then one refetch for the whole spray


def test_unknown_kid_spray_threads_cause_one_fetch(server: JwksServer) -> None:
    protector = protector_for(server, jwks_refresh_cooldown=0.3)
    protector.authenticate(bearer(KEY_A.mint()))
    time.sleep(0.35)
    server.behaviour.delay = 0.05
    results: list[str] = []

    def one(token: str) -> None:
        try:
            protector.authenticate(bearer(token))
        except InvalidTokenError as error:
            results.append(error.failure.name)

    threads = [threading.Thread(target=one, args=(token,)) for token in random_kid_tokens(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert results == ["UNKNOWN_KEY"] * 40
    assert server.hits[JWKS_PATH] == 2


def test_cooldown_spaces_refetches(server: JwksServer) -> None:
    protector = protector_for(server, jwks_refresh_cooldown=0.3)
    protector.authenticate(bearer(KEY_A.mint()))
    assert failure(protector, random_kid_tokens(1)[0]) is TokenFailure.UNKNOWN_KEY
    assert server.hits[JWKS_PATH] == 1  # within the cooldown of the first fetch
    time.sleep(0.35)
    for token in random_kid_tokens(20):
        assert failure(protector, token) is TokenFailure.UNKNOWN_KEY
    assert server.hits[JWKS_PATH] == 2
    time.sleep(0.35)
    assert failure(protector, random_kid_tokens(1)[0]) is TokenFailure.UNKNOWN_KEY
    assert server.hits[JWKS_PATH] == 3


def assert_503(error: BearerError, protector: BearerProtector[AccessToken | None]) -> None:
    assert isinstance(error, KeysUnavailableError)
    status, headers, body = protector.render(error)
    assert status == 503
    names = dict(headers)
    assert names["cache-control"] == "no-store"
    assert names["content-type"] == "application/json"
    assert 1 <= int(names["retry-after"]) <= 30
    assert "www-authenticate" not in names
    assert json.loads(body) == {
        "error": "temporarily_unavailable",
        "error_description": "The signing keys cannot be fetched right now; retry later",
    }


def test_outage_cold_gives_503_logged_once(
    server: JwksServer, caplog: pytest.LogCaptureFixture
) -> None:
    server.stop()
    protector = protector_for(server, jwks_refresh_cooldown=30)
    token = KEY_A.mint()
    with caplog.at_level(logging.WARNING, logger="scopegate"):
        for _ in range(5):
            assert_503(rejection(protector, token), protector)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert warnings[0].startswith(f"scopegate: JWKS fetch from {server.jwks_uri} failed (")
    assert "no key known: 503" in warnings[0]


def test_outage_warm_keeps_the_known_keys(
    server: JwksServer, caplog: pytest.LogCaptureFixture
) -> None:
    protector = protector_for(server, jwks_cache_ttl=0.2, jwks_refresh_cooldown=0.1)
    token = KEY_A.mint()
    assert protector.authenticate(bearer(token)) is not None
    server.stop()
    time.sleep(0.25)  # the set is stale now, and the server is down
    with caplog.at_level(logging.WARNING, logger="scopegate"):
        for _ in range(3):
            assert protector.authenticate(bearer(token)) is not None
            time.sleep(0.15)
        verifier_keys = protector.verifier.key_source
        assert verifier_keys is not None
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "keeping the 1 keys known" in warnings[0]
    server.start()  # back on the same port
    time.sleep(0.15)
    with caplog.at_level(logging.WARNING, logger="scopegate"):
        assert protector.authenticate(bearer(token)) is not None
        deadline = time.monotonic() + 3
        while "works again" not in caplog.text and time.monotonic() < deadline:
            time.sleep(0.02)
    assert f"scopegate: JWKS fetch from {server.jwks_uri} works again" in caplog.text


def test_outage_cold_async_gives_503(server: JwksServer) -> None:
    server.stop()
    protector = protector_for(server)

    async def run() -> BearerError:
        await protector.prefetch()  # logged, not raised
        try:
            await protector.authenticate_async(bearer(KEY_A.mint()))
        except BearerError as error:
            return error
        raise AssertionError("accepted without keys")

    assert_503(asyncio.run(run()), protector)


@pytest.mark.parametrize("side", ["sync", "async"])
def test_a_slow_server_times_out(server: JwksServer, side: str) -> None:
    server.behaviour.delay = 2.0
    protector = protector_for(server, jwks_timeout=0.3)
    started = time.monotonic()
    if side == "sync":
        error = rejection(protector, KEY_A.mint())
    else:

        async def run() -> BearerError:
            try:
                await protector.authenticate_async(bearer(KEY_A.mint()))
            except BearerError as caught:
                return caught
            raise AssertionError("accepted")

        error = asyncio.run(run())
    assert time.monotonic() - started < 1.5
    assert_503(error, protector)
    source = protector.verifier.key_source
    assert getattr(source, "failure", None) == "no answer within 0.3s"


def many_keys(count: int) -> bytes:
    return json.dumps({"keys": [KEY_A.public_jwk()] * count}).encode()


@pytest.mark.parametrize(
    ("body", "status", "problem"),
    [
        pytest.param(b"not json", 200, "the response is not JSON", id="not-json"),
        pytest.param(b"[1, 2]", 200, "not a JWK Set", id="json-array"),
        pytest.param(b'{"keys": "none"}', 200, "not a JWK Set", id="keys-not-a-list"),
        pytest.param(b"[" * 100_000, 200, "the response is not JSON", id="deep-nesting"),
        pytest.param(many_keys(101), 200, "at most 100 are read", id="too-many-keys"),
        pytest.param(b" " * (MAX_BYTES + 1), 200, "is over 524288 bytes", id="oversized"),
        pytest.param(b"{}", 500, "answered HTTP 500", id="http-500"),
    ],
)
def test_a_bad_set_is_a_failed_fetch(
    server: JwksServer, body: bytes, status: int, problem: str
) -> None:
    server.behaviour.body, server.behaviour.status = body, status
    protector = protector_for(server)
    assert_503(rejection(protector, KEY_A.mint()), protector)
    source = protector.verifier.key_source
    assert problem in str(getattr(source, "failure", None))


def test_a_bad_refresh_keeps_the_known_keys(server: JwksServer) -> None:
    protector = protector_for(server)
    token = KEY_A.mint()
    assert protector.authenticate(bearer(token)) is not None
    server.behaviour.body = b"junk"
    time.sleep(0.35)
    assert failure(protector, KEY_B.mint()) is TokenFailure.UNKNOWN_KEY
    assert server.hits[JWKS_PATH] == 2
    assert protector.authenticate(bearer(token)) is not None


def test_exactly_100_keys_are_read(server: JwksServer) -> None:
    server.behaviour.body = many_keys(100)
    assert protector_for(server).authenticate(bearer(KEY_A.mint())) is not None


@pytest.mark.parametrize(
    ("location", "accepted"),
    [
        pytest.param("/moved", True, id="same-host"),
        pytest.param("http://localhost:{port}/moved", False, id="other-host"),
        pytest.param("http://127.0.0.1:1/moved", False, id="other-port"),
    ],
)
def test_redirects_stay_on_the_same_host(server: JwksServer, location: str, accepted: bool) -> None:
    server.behaviour.redirect = location.format(port=server.port)
    protector = protector_for(server)
    if accepted:
        assert protector.authenticate(bearer(KEY_A.mint())) is not None
        assert server.hits["/moved"] == 1
    else:
        assert_503(rejection(protector, KEY_A.mint()), protector)
        assert server.hits["/moved"] == 0


@pytest.mark.parametrize(
    ("cache_control", "due_after"),
    [
        pytest.param("public, max-age=1", True, id="max-age-shortens"),
        pytest.param("max-age=99999", False, id="max-age-never-lengthens"),
        pytest.param(None, False, id="no-header"),
    ],
)
def test_max_age_shortens_the_ttl(
    server: JwksServer, cache_control: str | None, due_after: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.behaviour.cache_control = cache_control
    protector = protector_for(server, jwks_cache_ttl=600)
    protector.authenticate(bearer(KEY_A.mint()))
    source = protector.verifier.key_source
    assert source is not None
    assert not source.refresh_due()
    # 1.05 s later on the set's monotonic clock, without waiting for it.
    monkeypatch.setattr(source, "_clock", lambda: time.monotonic() + 1.05)
    assert source.refresh_due() is due_after


def test_a_stale_set_refreshes_in_the_background(server: JwksServer) -> None:
    protector = protector_for(server, jwks_cache_ttl=0.1, jwks_refresh_cooldown=0)
    token = KEY_A.mint()

    async def run() -> None:
        await protector.prefetch()
        await asyncio.sleep(0.15)
        server.behaviour.delay = 0.3
        started = time.monotonic()
        assert await protector.authenticate_async(bearer(token)) is not None
        assert time.monotonic() - started < 0.2  # served from the stale set, not waiting
        await asyncio.sleep(0.5)

    asyncio.run(run())
    assert server.hits[JWKS_PATH] == 2


@pytest.mark.parametrize(
    ("issuer_path", "oidc"),
    [
        pytest.param("/", True, id="openid-configuration"),
        pytest.param("/", False, id="rfc8414"),
        pytest.param("/tenant", False, id="rfc8414-with-path"),
    ],
)
def test_discovery_finds_the_jwks_uri(server: JwksServer, issuer_path: str, oidc: bool) -> None:
    issuer = server.url + issuer_path
    server.behaviour.issuer, server.behaviour.oidc = issuer, oidc
    settings = Settings(_env_file=None, identifier=IDENTIFIER, issuer=issuer, cache_maxsize=0)
    assert settings.algorithms == ["RS256"]
    assert settings.discovery_issuer == issuer
    protector = BearerProtector(settings, publish=the_token)
    assert protector.authenticate(bearer(KEY_A.mint(iss=issuer))) is not None
    metadata = OIDC_PATH if oidc else RFC8414_PATH + issuer_path.rstrip("/")
    assert server.hits[metadata] == 1
    assert server.hits[JWKS_PATH] == 1


def test_discovery_refuses_another_issuer(
    server: JwksServer, caplog: pytest.LogCaptureFixture
) -> None:
    issuer = server.url + "/"
    server.behaviour.issuer = server.url + "/someone-else/"
    settings = Settings(_env_file=None, identifier=IDENTIFIER, issuer=issuer)
    protector = BearerProtector(settings, publish=the_token)
    with caplog.at_level(logging.WARNING, logger="scopegate"):
        assert_503(rejection(protector, KEY_A.mint(iss=issuer)), protector)
    assert "not the configured" in caplog.text
    assert "the configuration is refused" in caplog.text
    assert server.hits[JWKS_PATH] == 0


def test_a_revoked_key_leaves_the_token_cache(server: JwksServer) -> None:
    server.behaviour.keys = [KEY_A, KEY_B]
    protector = protector_for(server, cache_maxsize=100, jwks_cache_ttl=0.2)
    token = KEY_A.mint()
    assert protector.authenticate(bearer(token)) is not None
    assert protector.verifier.cache is not None
    assert len(protector.verifier.cache) == 1
    server.behaviour.keys = [KEY_B]
    time.sleep(0.35)  # stale and past the cooldown: the next request refreshes in the background
    assert protector.authenticate(bearer(token)) is not None  # still cached, until the refresh
    deadline = time.monotonic() + 3
    while len(protector.verifier.cache) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert failure(protector, token) is TokenFailure.UNKNOWN_KEY


def test_a_stale_set_refreshes_in_one_background_thread(server: JwksServer) -> None:
    protector = protector_for(server, jwks_cache_ttl=0.1, jwks_refresh_cooldown=0)
    token = KEY_A.mint()
    assert protector.authenticate(bearer(token)) is not None
    time.sleep(0.15)
    server.behaviour.delay = 0.3
    started = time.monotonic()
    for _ in range(20):  # every one of them notices the stale set
        assert protector.authenticate(bearer(token)) is not None
    assert time.monotonic() - started < 0.25  # none waited for the fetch
    time.sleep(0.5)
    assert server.hits[JWKS_PATH] == 2
