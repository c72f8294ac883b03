"""``ClientCredentialsAuth``: an ``httpx.Auth`` that gets and keeps a client-credentials token.

The token request (RFC 6749 §4.4, with Auth0's ``audience`` parameter) is just
one more request yielded by the auth flow, so it goes through the same client,
its transport and its event hooks. The flow:

1. Under a lock, reuse the cached token unless it is within ``leeway`` seconds
   of its ``expires_in``; otherwise yield the token request and cache the answer.
   Only one fetch runs at a time; callers that waited find the new token.
2. Send the request with ``Authorization: Bearer <token>``.
3. On a 401, drop that token (unless another caller already replaced it),
   fetch once more and retry once. A second 401 is returned as it is.

With a ``dpop_key`` (RFC 9449), every token request carries a ``DPoP`` proof
(``htm: POST``, ``htu`` the token endpoint); when the answer's ``token_type``
is ``DPoP`` the API requests carry ``Authorization: DPoP <token>`` and a fresh
proof with ``ath``, otherwise (an API without sender constraining) the token
is sent as Bearer. A server that wants a nonce (a 400 ``use_dpop_nonce`` from
the token endpoint, a 401 ``use_dpop_nonce`` from an API, each with a
``DPoP-Nonce`` header) gets the request once more with it; the last nonce of
each origin is remembered for the next proofs.

``sync_auth_flow`` holds a :class:`threading.Lock` and ``async_auth_flow`` an
:class:`anyio.Lock` (asyncio or trio), as httpx's guide to auth with I/O and
concurrency advises. A sync and an async client sharing one instance share the
token but not a lock, so they may each fetch once.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import AsyncGenerator, Callable, Generator, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import anyio
import httpx

from scopegate._scopes import parse_scopes
from scopegate.client._errors import TokenRequestError

if TYPE_CHECKING:
    from scopegate.client._dpop import DPoPKey

__all__ = ["DEFAULT_LEEWAY", "ClientCredentialsAuth"]

DEFAULT_LEEWAY = 60.0


USE_DPOP_NONCE = "use_dpop_nonce"
# error="use_dpop_nonce" among a challenge's parameters (RFC 9449 §9).
_NONCE_CHALLENGE = re.compile(r'(?:^|[\s,])error\s*=\s*"?use_dpop_nonce"?(?:[\s,]|$)', re.I)


@dataclass(frozen=True, slots=True)
class _Token:
    value: str = ""
    # On the auth's clock; None: keep it until the API answers 401.
    refresh_at: float | None = None
    # "Bearer", or "DPoP" for a token bound to the auth's DPoP key.
    scheme: str = "Bearer"

    def __repr__(self) -> str:
        return f"_Token(scheme={self.scheme!r}, refresh_at={self.refresh_at!r})"

    @property
    def authorization(self) -> str:
        return f"{self.scheme} {self.value}"


@dataclass(slots=True)
class _Tries:
    """What one request has been through: its attempts, a nonce retry, the token refused."""

    attempt: int = 1
    nonce_retried: bool = False
    rejected: _Token | None = None


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    """Whose nonce a URL needs: RFC 6454 origin (scheme, host, port)."""
    return (url.scheme, url.host, url.port)


def _scope(scope: str | Iterable[str] | None) -> str | None:
    if scope is None:
        return None
    return " ".join(parse_scopes(scope)) or None


def _replayable(request: httpx.Request) -> bool:
    """Whether the body can be sent again (a streamed upload cannot)."""
    try:
        request.content  # noqa: B018 - raises when the body is an unread stream
    except httpx.RequestNotRead:
        return False
    return True


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


class ClientCredentialsAuth(httpx.Auth):
    """Authenticate every request with a token from the client credentials grant.

    Args:
        token_url: the token endpoint, e.g. ``https://TENANT.auth0.com/oauth/token``.
        client_id: the client (application) id.
        client_secret: its secret; sent only to ``token_url``, never shown in a repr or error.
        audience: the API identifier the token is for (Auth0's ``audience``).
        scope: the scopes to ask for (a space-separated string or a list); None asks
            for everything the client was granted.
        leeway: fetch a new token this many seconds before the current one expires
            (at most half its lifetime, so short-lived tokens are still reused).
        clock: monotonic seconds; replace it in tests.
        dpop_key: a :class:`~scopegate.client._dpop.DPoPKey` to ask for DPoP-bound
            tokens with and to sign a proof for every request; None for bearer tokens.

    Raises:
        TokenRequestError: from a request, when the token endpoint refuses
            (``invalid_client``, ``access_denied``, ``invalid_scope``...) or its
            answer is not a bearer (or, with a ``dpop_key``, DPoP) token response.

    Example::

        auth = ClientCredentialsAuth(
            "https://TENANT.auth0.com/oauth/token", CLIENT_ID, CLIENT_SECRET,
            audience="https://my-api-urn", scope="sample-scope",
        )
        with httpx.Client(auth=auth) as http:
            http.get("https://api.example.com/api/private-scoped")

        # With DPoP: the same auth with a key of the client's own.
        auth = ClientCredentialsAuth(
            TOKEN_URL, CLIENT_ID, CLIENT_SECRET, audience=AUDIENCE, dpop_key=DPoPKey.generate()
        )
    """

    def __init__(
        self,
        token_url: str,
        client_id: str,
        client_secret: str,
        audience: str,
        scope: str | Iterable[str] | None = None,
        *,
        leeway: float = DEFAULT_LEEWAY,
        clock: Callable[[], float] = time.monotonic,
        dpop_key: DPoPKey | None = None,
    ) -> None:
        url = httpx.URL(token_url)
        if url.scheme not in ("http", "https") or not url.host:
            raise ValueError(f"token_url must be an absolute http(s) URL, not {token_url!r}")
        if not leeway >= 0:
            raise ValueError("leeway must be zero or more seconds")
        self.token_url = str(url)
        self.client_id = client_id
        self._client_secret = client_secret
        self.audience = audience
        self.scope = _scope(scope)
        self.leeway = float(leeway)
        self._clock = clock
        self.dpop_key = dpop_key
        self._nonces: dict[tuple[str, str, int | None], str] = {}
        self._token: _Token | None = None
        self._sync_lock = threading.Lock()
        self._async_lock = anyio.Lock()

    def __repr__(self) -> str:
        dpop = "" if self.dpop_key is None else f", dpop_key={self.dpop_key!r}"
        return (
            f"{type(self).__name__}(token_url={self.token_url!r}, "
            f"client_id={self.client_id!r}, audience={self.audience!r}, scope={self.scope!r}"
            f"{dpop})"
        )

    # -- the sans-I/O parts ------------------------------------------------

    def _reuse(self, rejected: _Token | None) -> _Token | None:
        """The cached token if still good; a token the API just rejected is dropped."""
        token = self._token
        if token is None:
            return None
        if rejected is not None and token.value == rejected.value:
            self._token = None
            return None
        if token.refresh_at is not None and self._clock() >= token.refresh_at:
            return None
        return token

    # -- DPoP nonces (RFC 9449 §8, §9) ---------------------------------------

    def _remember_nonce(self, response: httpx.Response) -> None:
        """Keep the ``DPoP-Nonce`` a server sent (on any answer) for its next proofs."""
        nonce = response.headers.get("dpop-nonce")
        if nonce and self.dpop_key is not None:
            self._nonces[_origin(response.request.url)] = nonce

    def _wants_nonce(self, response: httpx.Response, status: int, body: Any = None) -> bool:
        """Whether the answer asks for a proof with the nonce it sends (already remembered)."""
        if self.dpop_key is None or response.status_code != status:
            return False
        if not response.headers.get("dpop-nonce"):
            return False
        if isinstance(body, dict) and body.get("error") == USE_DPOP_NONCE:
            return True
        challenges = response.headers.get_list("www-authenticate")
        return any(_NONCE_CHALLENGE.search(challenge) for challenge in challenges)

    def _proof(self, method: str, url: httpx.URL, access_token: str | None = None) -> str:
        assert self.dpop_key is not None
        nonce = self._nonces.get(_origin(url))
        return self.dpop_key.proof(method, str(url), access_token=access_token, nonce=nonce)

    def _token_request(self) -> httpx.Request:
        data = {
            "grant_type": "client_credentials",
            "client_id": self.client_id,
            "client_secret": self._client_secret,
            "audience": self.audience,
        }
        if self.scope is not None:
            data["scope"] = self.scope
        request = httpx.Request(
            "POST", self.token_url, data=data, headers={"Accept": "application/json"}
        )
        if self.dpop_key is not None:
            request.headers["DPoP"] = self._proof("POST", request.url)
        return request

    def _token_retry(self, response: httpx.Response, attempt: int) -> bool:
        """Whether to ask again, once, with the nonce a (read) 400 answer just gave."""
        self._remember_nonce(response)
        return attempt == 1 and self._wants_nonce(response, 400, _json(response))

    def _fail(
        self, response: httpx.Response, error: str, description: str | None
    ) -> TokenRequestError:
        return TokenRequestError(response.status_code, error, description, self.token_url)

    def _accept(self, response: httpx.Response, sent_at: float) -> _Token:
        """Cache the token of a (read) token response and return it."""
        body = _json(response)
        if response.status_code != 200:
            if isinstance(body, dict) and isinstance(body.get("error"), str):
                description = body.get("error_description")
                raise self._fail(
                    response, body["error"], description if isinstance(description, str) else None
                )
            raise self._fail(
                response, "invalid_response", f"HTTP {response.reason_phrase}, no OAuth error body"
            )
        if not isinstance(body, dict):
            raise self._fail(response, "invalid_response", "the token response is not JSON")
        value = body.get("access_token")
        if not isinstance(value, str) or not value:
            raise self._fail(response, "invalid_response", "the token response has no access_token")
        token_type = body.get("token_type")
        kind = token_type.lower() if isinstance(token_type, str) else None
        if kind == "dpop" and self.dpop_key is None:
            raise self._fail(
                response, "invalid_response", "a DPoP token, but no dpop_key to use it"
            )
        if kind not in ("bearer", "dpop"):
            raise self._fail(response, "invalid_response", "the token is not a Bearer token")
        expires_in = body.get("expires_in")
        if expires_in is None:
            refresh_at = None
        elif isinstance(expires_in, (int, float)) and not isinstance(expires_in, bool):
            if not expires_in > 0:
                raise self._fail(response, "invalid_response", "expires_in is not positive")
            refresh_at = sent_at + expires_in - min(self.leeway, expires_in / 2)
        else:
            raise self._fail(response, "invalid_response", "expires_in is not a number")
        self._token = _Token(value, refresh_at, "DPoP" if kind == "dpop" else "Bearer")
        return self._token

    def _authorize(self, request: httpx.Request, token: _Token) -> httpx.Request:
        request.headers["Authorization"] = token.authorization
        if token.scheme == "DPoP":
            request.headers["DPoP"] = self._proof(request.method, request.url, token.value)
        return request

    def _nonce_retry(self, request: httpx.Request, response: httpx.Response) -> bool:
        """Whether to send ``request`` again with the same token and the nonce the API gave."""
        self._remember_nonce(response)
        return self._wants_nonce(response, 401) and _replayable(request)

    def _retry(self, request: httpx.Request, response: httpx.Response, attempt: int) -> bool:
        """Whether to send ``request`` again, after a first 401, with a new token."""
        if response.status_code != 401 or attempt > 1:
            return False
        if _replayable(request):
            return True
        # No second attempt for a streamed body, but the next request gets a new token.
        # Unlocked: at worst it drops a token another caller just fetched, costing a fetch.
        token = self._token
        if token is not None and request.headers.get("Authorization") == token.authorization:
            self._token = None
        return False

    def _send_again(
        self, request: httpx.Request, response: httpx.Response, token: _Token, tries: _Tries
    ) -> bool:
        """Whether ``response`` calls for ``request`` again: with the nonce, or a new token.

        The one decision behind both auth flows, which differ only in how they await;
        for a new token it records ``token`` as the rejected one in ``tries``.
        """
        if not tries.nonce_retried and self._nonce_retry(request, response):
            tries.nonce_retried = True
            return True
        if not self._retry(request, response, tries.attempt):
            return False
        tries.attempt += 1
        tries.rejected = token
        return True

    # -- sync --------------------------------------------------------------

    def _sync_token(
        self, rejected: _Token | None
    ) -> Generator[httpx.Request, httpx.Response, _Token]:
        with self._sync_lock:
            token = self._reuse(rejected)
            attempt = 1
            while token is None:
                sent_at = self._clock()
                response = yield self._token_request()
                response.read()
                if self._token_retry(response, attempt):
                    attempt += 1
                    continue
                token = self._accept(response, sent_at)
        return token

    def sync_auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        tries = _Tries()
        while True:
            token = yield from self._sync_token(tries.rejected)
            response = yield self._authorize(request, token)
            if not self._send_again(request, response, token, tries):
                return

    def sync_get_token(self, client: httpx.Client) -> str:
        """The current access token, fetched through ``client`` when there is none.

        Useful to warm the cache or to hand the token to something that is not
        an httpx request (a websocket, a subprocess).
        """
        flow = self._sync_token(None)
        try:
            request = next(flow)
            while True:
                request = flow.send(client.send(request, auth=None))
        except StopIteration as done:
            token: _Token = done.value
            return token.value
        finally:
            flow.close()  # a failed send must not leave the lock held

    # -- async -------------------------------------------------------------

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        tries = _Tries()
        while True:
            # Async twin of _sync_token (duplicates pairs them): an async generator cannot
            # ``yield from``, so the token fetch is spelled again around its await.
            async with self._async_lock:
                token = self._reuse(tries.rejected)
                fetches = 1
                while token is None:
                    sent_at = self._clock()
                    token_response = yield self._token_request()
                    await token_response.aread()
                    if self._token_retry(token_response, fetches):
                        fetches += 1
                        continue
                    token = self._accept(token_response, sent_at)
            response = yield self._authorize(request, token)
            if not self._send_again(request, response, token, tries):
                return

    async def async_get_token(self, client: httpx.AsyncClient) -> str:
        """The current access token, fetched through ``client`` when there is none."""
        async with self._async_lock:
            token = self._reuse(None)
            attempt = 1
            while token is None:
                sent_at = self._clock()
                response = await client.send(self._token_request(), auth=None)
                if self._token_retry(response, attempt):
                    attempt += 1
                    continue
                token = self._accept(response, sent_at)
        return token.value
