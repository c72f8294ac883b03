"""ClientCredentialsAuth against the real authorization server and a real API, over HTTP.

Token requests are counted at the server. Each test gets its own API and client.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from client.harness import AuthServer, World
from helpers import FakeClock
from scopegate.client import ClientCredentialsAuth, TokenRequestError


def whoami(http: httpx.Client, api: World) -> httpx.Response:
    return http.get(api.url + "/whoami")


# --- reuse and expiry ---------------------------------------------------------------------------


def test_one_token_for_many_requests(api: World) -> None:
    with httpx.Client(auth=api.auth()) as http:
        responses = [whoami(http, api) for _ in range(10)]
    assert [response.status_code for response in responses] == [200] * 10
    assert api.tokens() == 1
    assert api.calls() == 10
    subject = f"{api.client['client_id']}@clients"
    assert all(response.json()["sub"] == subject for response in responses)
    tokens = {response.request.headers["authorization"] for response in responses}
    assert len(tokens) == 1


def test_one_token_for_many_async_requests(api: World) -> None:
    async def main() -> list[int]:
        async with httpx.AsyncClient(auth=api.auth()) as http:
            return [(await http.get(api.url + "/whoami")).status_code for _ in range(10)]

    assert asyncio.run(main()) == [200] * 10
    assert api.tokens() == 1


def test_the_token_carries_the_grant(api: World) -> None:
    with httpx.Client(auth=api.auth()) as http:
        assert whoami(http, api).json()["scopes"] == ["read", "write"]


@pytest.mark.parametrize("scope", ["read", ["read"], " read  ", ["read read"]])
def test_scope_narrows_the_token(api: World, scope: str | list[str]) -> None:
    auth = api.auth(scope=scope)
    assert auth.scope == "read"
    with httpx.Client(auth=auth) as http:
        assert whoami(http, api).json()["scopes"] == ["read"]


def test_refetch_shortly_before_expiry(api: World) -> None:
    """86400 s tokens, leeway 60: reused until 60 s before expiry, on the auth's clock."""
    clock = FakeClock()
    with httpx.Client(auth=api.auth(clock=clock)) as http:
        assert whoami(http, api).status_code == 200
        clock.now += 86400 - 60 - 0.5
        assert whoami(http, api).status_code == 200
        assert api.tokens() == 1
        clock.now += 0.5
        assert whoami(http, api).status_code == 200
        assert api.tokens() == 2
        assert whoami(http, api).status_code == 200
        assert api.tokens() == 2


def test_short_lived_tokens_are_kept_for_half_their_life(api: World) -> None:
    api.server.management.update_resource_server(api.api["id"], token_lifetime=10)
    clock = FakeClock()
    with httpx.Client(auth=api.auth(clock=clock, leeway=60)) as http:
        whoami(http, api)
        clock.now += 4.9
        whoami(http, api)
        assert api.tokens() == 1
        clock.now += 0.1
        whoami(http, api)
        assert api.tokens() == 2


def test_refetch_after_expiry_on_the_real_clock(api: World) -> None:
    api.server.management.update_resource_server(api.api["id"], token_lifetime=1)
    with httpx.Client(auth=api.auth()) as http:
        assert whoami(http, api).status_code == 200
        assert whoami(http, api).status_code == 200
        assert api.tokens() == 1
        time.sleep(0.6)  # past half of the 1 s lifetime
        assert whoami(http, api).status_code == 200
        assert api.tokens() == 2


def test_get_token_warms_the_cache(api: World) -> None:
    auth = api.auth()
    with httpx.Client(auth=auth) as http:
        token = auth.sync_get_token(http)
        assert auth.sync_get_token(http) == token
        response = whoami(http, api)
    assert response.request.headers["authorization"] == f"Bearer {token}"
    assert api.tokens() == 1


def test_async_get_token_warms_the_cache(api: World) -> None:
    auth = api.auth()

    async def main() -> tuple[str, str, httpx.Response]:
        async with httpx.AsyncClient(auth=auth) as http:
            first = await auth.async_get_token(http)
            second = await auth.async_get_token(http)
            return first, second, await http.get(api.url + "/whoami")

    first, second, response = asyncio.run(main())
    assert first == second
    assert response.request.headers["authorization"] == f"Bearer {first}"
    assert api.tokens() == 1


# --- 401: fetch once more, retry once -----------------------------------------------------------


def test_a_401_fetches_a_new_token_and_retries_once(api: World) -> None:
    with httpx.Client(auth=api.auth()) as http:
        assert whoami(http, api).status_code == 200
        api.rotate()  # the cached token is now signed with a secret the API dropped
        response = whoami(http, api)
    assert response.status_code == 200
    assert [(r.request.url.path, r.status_code) for r in response.history] == [
        ("/whoami", 401),
        ("/oauth/token", 200),
    ]
    assert api.tokens() == 2
    assert api.calls() == 3


def test_async_a_401_fetches_a_new_token_and_retries_once(api: World) -> None:
    async def main() -> httpx.Response:
        async with httpx.AsyncClient(auth=api.auth()) as http:
            assert (await http.get(api.url + "/whoami")).status_code == 200
            api.rotate()
            return await http.get(api.url + "/whoami")

    assert asyncio.run(main()).status_code == 200
    assert api.tokens() == 2
    assert api.calls() == 3


def test_a_second_401_is_returned(api: World) -> None:
    api.break_api()
    with httpx.Client(auth=api.auth()) as http:
        response = whoami(http, api)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"
    assert api.tokens() == 2
    assert api.calls() == 2


def test_a_401_for_a_streamed_body_is_returned_and_the_token_dropped(api: World) -> None:
    def upload() -> Iterator[bytes]:
        yield b"abc"

    with httpx.Client(auth=api.auth()) as http:
        assert whoami(http, api).status_code == 200
        api.rotate()
        response = http.post(api.url + "/whoami", content=upload())
        assert response.status_code == 401  # a stream cannot be sent twice
        assert api.tokens() == 1
        again = http.post(api.url + "/whoami", content=b"abcd")
    assert again.status_code == 200
    assert again.json()["bytes"] == 4
    assert api.tokens() == 2
    # The rejected token was dropped: a new one first, no second 401.
    assert [r.request.url.path for r in again.history] == ["/oauth/token"]


def test_a_replayable_body_is_sent_again(api: World) -> None:
    with httpx.Client(auth=api.auth()) as http:
        whoami(http, api)
        api.rotate()
        response = http.post(api.url + "/whoami", json={"a": 1})
    assert response.status_code == 200
    assert response.json()["bytes"] == len(b'{"a":1}')
    assert api.calls("POST") == 2


def test_other_failures_are_not_retried(api: World) -> None:
    with httpx.Client(auth=api.auth()) as http:
        response = http.get(api.url + "/nowhere")
    assert response.status_code == 404
    assert api.tokens() == 1
    assert [r.request.url.path for r in response.history] == ["/oauth/token"]


# --- concurrency ----------------------------------------------------------------------------------


def test_twenty_threads_share_one_fetch(api: World) -> None:
    barrier = threading.Barrier(20)
    statuses: list[int] = []
    lock = threading.Lock()

    def call(http: httpx.Client) -> None:
        barrier.wait()
        status = whoami(http, api).status_code
        with lock:
            statuses.append(status)

    with httpx.Client(auth=api.auth(), limits=httpx.Limits(max_connections=20)) as http:
        threads = [threading.Thread(target=call, args=(http,)) for _ in range(20)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    assert statuses == [200] * 20
    assert api.tokens() == 1
    assert api.calls() == 20


def test_fifty_tasks_share_one_fetch(api: World) -> None:
    async def main() -> list[int]:
        async with httpx.AsyncClient(auth=api.auth()) as http:
            responses = await asyncio.gather(*(http.get(api.url + "/whoami") for _ in range(50)))
        return [response.status_code for response in responses]

    assert asyncio.run(main()) == [200] * 50
    assert api.tokens() == 1
    assert api.calls() == 50


def test_concurrent_401s_share_one_new_token(api: World) -> None:
    """Twenty requests rejected together: one fetch replaces the token for all of them."""
    barrier = threading.Barrier(20)
    statuses: list[int] = []

    def call(http: httpx.Client) -> None:
        barrier.wait()
        statuses.append(whoami(http, api).status_code)

    with httpx.Client(auth=api.auth(), limits=httpx.Limits(max_connections=20)) as http:
        assert whoami(http, api).status_code == 200
        api.rotate()
        threads = [threading.Thread(target=call, args=(http,)) for _ in range(20)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    assert statuses == [200] * 20
    assert api.tokens() == 2


def test_concurrent_async_401s_share_one_new_token(api: World) -> None:
    async def main() -> list[int]:
        async with httpx.AsyncClient(auth=api.auth()) as http:
            assert (await http.get(api.url + "/whoami")).status_code == 200
            api.rotate()
            responses = await asyncio.gather(*(http.get(api.url + "/whoami") for _ in range(30)))
        return [response.status_code for response in responses]

    assert asyncio.run(main()) == [200] * 30
    assert api.tokens() == 2


def test_one_auth_across_event_loops(api: World) -> None:
    auth = api.auth()

    async def main() -> int:
        async with httpx.AsyncClient(auth=auth) as http:
            responses = await asyncio.gather(*(http.get(api.url + "/whoami") for _ in range(5)))
        return max(response.status_code for response in responses)

    assert asyncio.run(main()) == 200
    assert asyncio.run(main()) == 200
    assert api.tokens() == 1


# --- the token endpoint says no ------------------------------------------------------------------


def test_a_wrong_secret(api: World) -> None:
    auth = ClientCredentialsAuth(
        api.server.token_url, api.client["client_id"], "not-the-secret-" * 4, api.api["identifier"]
    )
    with httpx.Client(auth=auth) as http, pytest.raises(TokenRequestError) as caught:
        whoami(http, api)
    error = caught.value
    assert (error.status_code, error.error, error.description) == (
        401,
        "invalid_client",
        "Client authentication failed.",
    )
    assert error.token_url == api.server.token_url
    assert str(error) == (
        f"token request to {api.server.token_url} failed: 401 invalid_client: "
        "Client authentication failed."
    )
    assert "not-the-secret" not in str(error) + repr(error) + repr(auth)
    assert api.calls() == 0


def test_an_api_without_a_grant(server: AuthServer, api: World) -> None:
    other = server.management.create_resource_server("https://ungranted.test")
    auth = ClientCredentialsAuth(
        server.token_url, api.client["client_id"], api.client["client_secret"], other["identifier"]
    )
    with httpx.Client(auth=auth) as http, pytest.raises(TokenRequestError) as caught:
        whoami(http, api)
    assert (caught.value.status_code, caught.value.error) == (403, "access_denied")
    assert api.calls() == 0


def test_a_scope_not_granted(api: World) -> None:
    with (
        httpx.Client(auth=api.auth(scope="read admin")) as http,
        pytest.raises(TokenRequestError) as caught,
    ):
        whoami(http, api)
    assert (caught.value.status_code, caught.value.error, caught.value.description) == (
        400,
        "invalid_scope",
        "Client has not been granted scopes: admin",
    )


def test_the_secret_is_never_shown(api: World) -> None:
    auth = api.auth()
    secret = api.client["client_secret"]
    assert secret not in repr(auth)
    assert secret not in str(vars(auth).get("_token"))
    with httpx.Client(auth=auth) as http:
        whoami(http, api)
    assert secret not in repr(vars(auth).get("_token"))
