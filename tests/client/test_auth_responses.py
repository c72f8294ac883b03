"""ClientCredentialsAuth with token endpoints that answer oddly (httpx.MockTransport)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest

from scopegate.client import ClientCredentialsAuth, TokenRequestError

TOKEN_URL = "https://tenant.example.auth0.com/oauth/token"
API = "https://api.example.com/data"
SECRET = "s3cr3t-" * 8


def make_auth(**options: Any) -> ClientCredentialsAuth:
    return ClientCredentialsAuth(TOKEN_URL, "client-1", SECRET, "https://my-api-urn", **options)


class Endpoint:
    """A token endpoint answering ``token_answers`` in turn, and an API accepting ``good``."""

    def __init__(self, *token_answers: httpx.Response, good: Callable[[str], bool]) -> None:
        self.token_answers = list(token_answers)
        self.good = good
        self.token_requests: list[dict[str, str]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if str(request.url) == TOKEN_URL:
            self.token_requests.append(dict(parse_qsl(request.content.decode())))
            return self.token_answers.pop(0)
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        return httpx.Response(200 if self.good(token) else 401, json={})


def token(value: str, **extra: Any) -> httpx.Response:
    body = {"access_token": value, "token_type": "Bearer", "expires_in": 3600, **extra}
    return httpx.Response(200, json={name: v for name, v in body.items() if v is not None})


def test_the_token_request_is_a_client_credentials_form() -> None:
    endpoint = Endpoint(token("t1"), good=lambda value: value == "t1")
    with httpx.Client(transport=httpx.MockTransport(endpoint), auth=make_auth(scope="a b")) as http:
        assert http.get(API).status_code == 200
    assert endpoint.token_requests == [
        {
            "grant_type": "client_credentials",
            "client_id": "client-1",
            "client_secret": SECRET,
            "audience": "https://my-api-urn",
            "scope": "a b",
        }
    ]


def test_no_scope_parameter_by_default() -> None:
    endpoint = Endpoint(token("t1"), good=lambda value: True)
    with httpx.Client(transport=httpx.MockTransport(endpoint), auth=make_auth()) as http:
        http.get(API)
    assert "scope" not in endpoint.token_requests[0]


def test_without_expires_in_the_token_is_kept_until_a_401() -> None:
    clock_now = [0.0]
    endpoint = Endpoint(
        token("t1", expires_in=None),
        token("t2"),
        good=lambda value: value == "t2" or clock_now[0] < 10,
    )
    auth = make_auth(clock=lambda: clock_now[0])
    with httpx.Client(transport=httpx.MockTransport(endpoint), auth=auth) as http:
        assert http.get(API).status_code == 200
        clock_now[0] = 10**9
        response = http.get(API)
    assert response.status_code == 200
    assert len(endpoint.token_requests) == 2
    assert response.request.headers["authorization"] == "Bearer t2"


@pytest.mark.parametrize(
    ("answer", "status", "error", "description"),
    [
        pytest.param(
            httpx.Response(400, json={"error": "invalid_request"}),
            400,
            "invalid_request",
            None,
            id="error-without-description",
        ),
        pytest.param(
            httpx.Response(
                401, json={"error": "invalid_client", "error_description": "Unknown  client\n."}
            ),
            401,
            "invalid_client",
            "Unknown client .",
            id="description-on-one-line",
        ),
        pytest.param(
            httpx.Response(502, text="<html>Bad Gateway</html>"),
            502,
            "invalid_response",
            "HTTP Bad Gateway, no OAuth error body",
            id="html-error",
        ),
        pytest.param(
            httpx.Response(500, json={"error": 5}),
            500,
            "invalid_response",
            "HTTP Internal Server Error, no OAuth error body",
            id="error-not-a-string",
        ),
        pytest.param(
            httpx.Response(200, text="ok"),
            200,
            "invalid_response",
            "the token response is not JSON",
            id="not-json",
        ),
        pytest.param(
            httpx.Response(200, json=["t"]),
            200,
            "invalid_response",
            "the token response is not JSON",
            id="json-array",
        ),
        pytest.param(
            token(""), 200, "invalid_response", "the token response has no access_token", id="empty"
        ),
        pytest.param(
            httpx.Response(200, json={"token_type": "Bearer"}),
            200,
            "invalid_response",
            "the token response has no access_token",
            id="no-access-token",
        ),
        pytest.param(
            token("t", token_type="mac"),
            200,
            "invalid_response",
            "the token is not a Bearer token",
            id="not-bearer",
        ),
        pytest.param(
            token("t", token_type="DPoP"),
            200,
            "invalid_response",
            "a DPoP token, but no dpop_key to use it",
            id="dpop-without-a-key",
        ),
        pytest.param(
            token("t", token_type=None),
            200,
            "invalid_response",
            "the token is not a Bearer token",
            id="no-token-type",
        ),
        pytest.param(
            token("t", expires_in="3600"),
            200,
            "invalid_response",
            "expires_in is not a number",
            id="expires-in-string",
        ),
        pytest.param(
            token("t", expires_in=True),
            200,
            "invalid_response",
            "expires_in is not a number",
            id="expires-in-bool",
        ),
        pytest.param(
            token("t", expires_in=0),
            200,
            "invalid_response",
            "expires_in is not positive",
            id="expires-in-zero",
        ),
    ],
)
def test_unusable_token_responses(
    answer: httpx.Response, status: int, error: str, description: str | None
) -> None:
    endpoint = Endpoint(answer, good=lambda value: True)
    transport = httpx.MockTransport(endpoint)
    with (
        httpx.Client(transport=transport, auth=make_auth()) as http,
        pytest.raises(TokenRequestError) as caught,
    ):
        http.get(API)
    assert (caught.value.status_code, caught.value.error, caught.value.description) == (
        status,
        error,
        description,
    )
    assert SECRET not in str(caught.value)


def test_token_type_is_case_insensitive() -> None:
    endpoint = Endpoint(token("t1", token_type="bearer"), good=lambda value: value == "t1")
    with httpx.Client(transport=httpx.MockTransport(endpoint), auth=make_auth()) as http:
        assert http.get(API).status_code == 200


def test_a_failed_fetch_is_tried_again_by_the_next_request() -> None:
    endpoint = Endpoint(
        httpx.Response(503, json={"error": "temporarily_unavailable"}),
        token("t1"),
        good=lambda value: value == "t1",
    )
    with httpx.Client(transport=httpx.MockTransport(endpoint), auth=make_auth()) as http:
        with pytest.raises(TokenRequestError):
            http.get(API)
        assert http.get(API).status_code == 200


def test_async_errors_too() -> None:
    endpoint = Endpoint(httpx.Response(401, json={"error": "invalid_client"}), good=lambda v: True)

    async def main() -> None:
        async with httpx.AsyncClient(
            transport=httpx.MockTransport(endpoint), auth=make_auth()
        ) as http:
            await http.get(API)

    with pytest.raises(TokenRequestError, match="401 invalid_client"):
        asyncio.run(main())


@pytest.mark.parametrize(
    ("url", "leeway"),
    [
        pytest.param("/oauth/token", 60, id="relative"),
        pytest.param("ftp://example.com/token", 60, id="not-http"),
        pytest.param(TOKEN_URL, -1, id="negative-leeway"),
        pytest.param(TOKEN_URL, float("nan"), id="nan-leeway"),
    ],
)
def test_bad_arguments(url: str, leeway: float) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - the message is checked by reading it
        ClientCredentialsAuth(url, "id", SECRET, "aud", leeway=leeway)


def test_repr_names_the_client_not_the_secret() -> None:
    auth = make_auth(scope=["b", "a b"])
    assert repr(auth) == (
        "ClientCredentialsAuth(token_url='https://tenant.example.auth0.com/oauth/token', "
        "client_id='client-1', audience='https://my-api-urn', scope='b a')"
    )


def test_get_token_releases_the_lock_when_the_send_fails() -> None:
    answers: list[httpx.Response | Exception] = [httpx.ConnectError("refused"), token("t1")]

    def handler(request: httpx.Request) -> httpx.Response:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    auth = make_auth()
    with httpx.Client(transport=httpx.MockTransport(handler)) as http:
        with pytest.raises(httpx.ConnectError) as caught:
            auth.sync_get_token(http)
        got: list[str] = []
        worker = threading.Thread(target=lambda: got.append(auth.sync_get_token(http)), daemon=True)
        worker.start()
        worker.join(5)
    assert caught.value is not None  # the traceback is still alive here
    assert got == ["t1"]


def test_a_dpop_key_with_a_bearer_answer_sends_bearer_and_no_proof() -> None:
    """An authorization server (or API) without DPoP answers token_type Bearer: used as such."""
    from scopegate.client._dpop import DPoPKey

    sent: list[httpx.Request] = []

    def endpoint(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        if str(request.url) == TOKEN_URL:
            return token("t1", token_type="bearer")
        return httpx.Response(200, json={})

    auth = make_auth(dpop_key=DPoPKey.generate())
    with httpx.Client(transport=httpx.MockTransport(endpoint), auth=auth) as http:
        assert http.get(API).status_code == 200
    assert "dpop" in sent[0].headers  # the token request offered a proof
    assert sent[1].headers["authorization"] == "Bearer t1"
    assert "dpop" not in sent[1].headers


def test_a_use_dpop_nonce_without_a_nonce_header_is_not_retried() -> None:
    """RFC 9449 §8: the retry needs the DPoP-Nonce to use; without one the 400 is the answer."""
    from scopegate.client._dpop import DPoPKey

    answer = httpx.Response(400, json={"error": "use_dpop_nonce", "error_description": "x"})
    endpoint = Endpoint(answer, good=lambda value: True)
    auth = make_auth(dpop_key=DPoPKey.generate())
    with (
        httpx.Client(transport=httpx.MockTransport(endpoint), auth=auth) as http,
        pytest.raises(TokenRequestError) as caught,
    ):
        http.get(API)
    assert (caught.value.status_code, caught.value.error) == (400, "use_dpop_nonce")
    assert len(endpoint.token_requests) == 1


def test_a_token_endpoint_that_keeps_asking_for_a_nonce_is_asked_twice_only() -> None:
    from scopegate.client._dpop import DPoPKey

    def ask() -> httpx.Response:
        return httpx.Response(
            400,
            json={"error": "use_dpop_nonce", "error_description": "x"},
            headers={"DPoP-Nonce": "n-1"},
        )

    endpoint = Endpoint(ask(), ask(), ask(), good=lambda value: True)
    auth = make_auth(dpop_key=DPoPKey.generate())
    with (
        httpx.Client(transport=httpx.MockTransport(endpoint), auth=auth) as http,
        pytest.raises(TokenRequestError) as caught,
    ):
        http.get(API)
    assert caught.value.error == "use_dpop_nonce"
    assert len(endpoint.token_requests) == 2
