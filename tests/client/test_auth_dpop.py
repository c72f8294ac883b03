"""ClientCredentialsAuth(dpop_key=...) against the real authorization server, over HTTP.

The API here checks every proof with scopegate's own ProofVerifier (signature,
``htm``, ``htu``, ``iat``, ``ath``, the ``cnf.jkt`` binding, replay and, when
asked, server nonces), and records what it saw, so the tests see exactly what
the client sent. The adapters' own DPoP support is tested end to end in
``tests/test_dpop_live.py``.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import jwt
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from client.harness import AuthServer, Counting
from scopegate._dpop import ProofVerifier, ath_for
from scopegate._nonce import NonceSource
from scopegate._replay import MemoryReplayStore, replay_key
from scopegate._settings import ASYMMETRIC_ALGORITHMS
from scopegate.authserver import create_app
from scopegate.client import ClientCredentialsAuth, ManagementClient, TokenRequestError
from scopegate.client._dpop import DPoPKey
from scopegate.demo.servers import serve
from scopegate.errors import InvalidDPoPProofError, UseDPoPNonceError

REQUIRED = {"mechanism": "dpop", "required": True}


@dataclass
class ProofCheckingAPI:
    """``GET/POST /whoami``: a DPoP token with a valid proof, or a 401 saying why."""

    nonces: NonceSource | None = None
    seen: list[dict[str, Any]] = field(default_factory=list)
    replay: MemoryReplayStore = field(default_factory=MemoryReplayStore)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.verifier = ProofVerifier(algorithms=ASYMMETRIC_ALGORITHMS, nonces=self.nonces)

    async def whoami(self, request: Request) -> Response:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        proof = request.headers.get("dpop")
        with self.lock:
            self.seen.append({"scheme": scheme, "token": token, "proof": proof})
        if scheme != "DPoP" or proof is None:
            return JSONResponse({"error": "invalid_request"}, status_code=401)
        claims = jwt.decode(token, options={"verify_signature": False})
        try:
            checked = self.verifier.verify(
                proof,
                method=request.method,
                url=str(request.url),
                access_token=token,
                jkt=claims["cnf"]["jkt"],
            )
        except UseDPoPNonceError as exc:
            return JSONResponse(
                exc.body(),
                status_code=401,
                headers={
                    "WWW-Authenticate": 'DPoP error="use_dpop_nonce"',
                    "DPoP-Nonce": exc.nonce,
                },
            )
        except InvalidDPoPProofError as exc:
            return JSONResponse(exc.body(), status_code=401)
        if not self.replay.first_use(replay_key(checked), self.verifier.replay_ttl()):
            return JSONResponse({"error": "invalid_dpop_proof"}, status_code=401)
        await request.body()
        return JSONResponse({"sub": claims["sub"], "jkt": checked.jkt, "htu": checked.htu})

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/whoami", self.whoami, methods=["GET", "POST"])])


@contextmanager
def dpop_world(
    server: AuthServer, api_url: str, policy: dict[str, Any] | None = REQUIRED
) -> Iterator[tuple[str, dict[str, Any]]]:
    """An API (identifier ``api_url``) with this policy, and a client granted it."""
    management = server.management
    created = management.create_resource_server(
        api_url, signing_alg="RS256", proof_of_possession=policy
    )
    client = management.create_client("dpop client")
    management.create_client_grant(client["client_id"], created["identifier"], [])
    try:
        yield created["identifier"], client
    finally:
        management.delete_resource_server(created["id"])
        management.delete_client(client["client_id"])


@pytest.fixture(scope="module")
def proof_api() -> Iterator[tuple[str, ProofCheckingAPI]]:
    checker = ProofCheckingAPI()
    with serve(lambda _base: checker.app(), "DPoP API") as served:
        yield served.url, checker


@pytest.fixture(scope="module")
def nonce_api() -> Iterator[tuple[str, ProofCheckingAPI]]:
    checker = ProofCheckingAPI(nonces=NonceSource())
    with serve(lambda _base: checker.app(), "DPoP API with nonces") as served:
        yield served.url, checker


def auth_for(server: AuthServer, audience: str, client: dict[str, Any], **options: Any) -> Any:
    return ClientCredentialsAuth(
        server.token_url, client["client_id"], client["client_secret"], audience, **options
    )


def test_a_dpop_bound_token_and_a_proof_per_request(
    server: AuthServer, proof_api: tuple[str, ProofCheckingAPI]
) -> None:
    url, checker = proof_api
    key = DPoPKey.generate()
    checker.seen.clear()
    with dpop_world(server, url) as (audience, client):
        auth = auth_for(server, audience, client, dpop_key=key)
        with httpx.Client(auth=auth) as http:
            responses = [http.get(url + "/whoami?page=2") for _ in range(3)]
    assert [r.status_code for r in responses] == [200, 200, 200], responses[0].text
    assert {r.json()["jkt"] for r in responses} == {key.thumbprint}
    assert {r.json()["htu"] for r in responses} == {url + "/whoami"}
    proofs = [seen["proof"] for seen in checker.seen]
    assert len(set(proofs)) == 3  # a fresh proof every request
    assert {seen["scheme"] for seen in checker.seen} == {"DPoP"}
    token = checker.seen[0]["token"]
    assert jwt.decode(token, options={"verify_signature": False})["cnf"] == {"jkt": key.thumbprint}
    for proof in proofs:
        assert jwt.decode(proof, options={"verify_signature": False})["ath"] == ath_for(token)


def test_the_token_request_carries_a_proof_for_the_token_endpoint(server: AuthServer) -> None:
    """Watched at the wire: an event hook sees the token request the auth flow yields."""
    key = DPoPKey.generate()
    sent: list[httpx.Request] = []
    with dpop_world(server, "https://dpop-hook.test") as (audience, client):
        auth = auth_for(server, audience, client, dpop_key=key)
        with httpx.Client(event_hooks={"request": [sent.append]}) as http:
            token = auth.sync_get_token(http)
    assert [request.url.path for request in sent] == ["/oauth/token"]
    proof = sent[0].headers["dpop"]
    assert jwt.get_unverified_header(proof)["jwk"] == key.public_jwk
    claims = jwt.decode(proof, options={"verify_signature": False})
    assert (claims["htm"], claims["htu"]) == ("POST", server.token_url)
    assert "ath" not in claims
    assert jwt.decode(token, options={"verify_signature": False})["cnf"]["jkt"] == key.thumbprint


def test_async_clients_send_dpop_too(
    server: AuthServer, proof_api: tuple[str, ProofCheckingAPI]
) -> None:
    url, _checker = proof_api
    key = DPoPKey.generate("EdDSA")

    async def main(auth: ClientCredentialsAuth) -> list[int]:
        async with httpx.AsyncClient(auth=auth) as http:
            calls = [http.post(url + "/whoami", content=b"x" * 10) for _ in range(20)]
            return [response.status_code for response in await asyncio.gather(*calls)]

    with dpop_world(server, url) as (audience, client):
        before = server.token_requests()
        assert asyncio.run(main(auth_for(server, audience, client, dpop_key=key))) == [200] * 20
        assert server.token_requests() - before == 1  # one fetch under concurrency


def test_twenty_threads_share_one_dpop_token(
    server: AuthServer, proof_api: tuple[str, ProofCheckingAPI]
) -> None:
    url, _checker = proof_api
    with dpop_world(server, url) as (audience, client):
        auth = auth_for(server, audience, client, dpop_key=DPoPKey.generate())
        before = server.token_requests()
        statuses: list[int] = []
        with httpx.Client(auth=auth) as http:

            def call() -> None:
                statuses.append(http.get(url + "/whoami").status_code)

            threads = [threading.Thread(target=call) for _ in range(20)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        assert statuses == [200] * 20
        assert server.token_requests() - before == 1


def test_an_api_without_sender_constraining_gets_a_bearer_token(server: AuthServer) -> None:
    """token_type Bearer in the answer: the key is kept, the token is sent as Bearer."""
    sent: list[httpx.Request] = []
    with dpop_world(server, "https://no-pop.test", policy=None) as (audience, client):
        auth = auth_for(server, audience, client, dpop_key=DPoPKey.generate())
        with httpx.Client(auth=auth, event_hooks={"request": [sent.append]}) as http:
            http.get(server.url + "/.well-known/jwks.json")
    api_request = sent[-1]
    assert api_request.headers["authorization"].startswith("Bearer ")
    assert "dpop" not in api_request.headers


def test_without_a_key_a_required_api_refuses_the_token_request(server: AuthServer) -> None:
    """The 400 invalid_dpop_proof becomes a TokenRequestError with the server's words."""
    with dpop_world(server, "https://pop-no-key.test") as (audience, client):
        auth = auth_for(server, audience, client)
        with httpx.Client(auth=auth) as http, pytest.raises(TokenRequestError) as caught:
            http.get(server.url + "/.well-known/jwks.json")
    assert (caught.value.status_code, caught.value.error, caught.value.description) == (
        400,
        "invalid_dpop_proof",
        "A DPoP proof is required",
    )


# --- nonces: the API's 401 and the token endpoint's 400 ------------------------------------------


def test_an_api_nonce_is_learnt_on_one_retry_and_remembered(
    server: AuthServer, nonce_api: tuple[str, ProofCheckingAPI]
) -> None:
    url, checker = nonce_api
    checker.seen.clear()
    with dpop_world(server, url) as (audience, client):
        auth = auth_for(server, audience, client, dpop_key=DPoPKey.generate())
        with httpx.Client(auth=auth) as http:
            first = http.post(url + "/whoami", content=b"body")
            second = http.get(url + "/whoami")
    assert (first.status_code, second.status_code) == (200, 200)
    assert len(checker.seen) == 3  # the first call twice (no nonce, then the nonce), then one
    nonces = [
        jwt.decode(seen["proof"], options={"verify_signature": False}).get("nonce")
        for seen in checker.seen
    ]
    assert nonces[0] is None
    assert nonces[1] == nonces[2] is not None
    assert len({seen["token"] for seen in checker.seen}) == 1  # no new token for a nonce


def test_async_an_api_nonce_is_learnt(
    server: AuthServer, nonce_api: tuple[str, ProofCheckingAPI]
) -> None:
    url, _checker = nonce_api

    async def main(auth: ClientCredentialsAuth) -> int:
        async with httpx.AsyncClient(auth=auth) as http:
            return (await http.get(url + "/whoami")).status_code

    with dpop_world(server, url) as (audience, client):
        auth = auth_for(server, audience, client, dpop_key=DPoPKey.generate())
        assert asyncio.run(main(auth)) == 200


@pytest.fixture(scope="module")
def nonce_server() -> Iterator[AuthServer]:
    counters: list[Counting] = []

    def make(base: str) -> Counting:
        counters.append(Counting(create_app(base, ":memory:", dpop_nonce=True)))
        return counters[-1]

    with serve(make, "authorization server with nonces") as served:
        credentials = served.app.app.state.bootstrap
        with ManagementClient.with_client_credentials(
            served.url, credentials.client_id, credentials.client_secret
        ) as management:
            yield AuthServer(served.url, counters[0], credentials, management)


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_token_endpoint_nonce_is_learnt_on_one_retry(nonce_server: AuthServer, mode: str) -> None:
    sent: list[httpx.Request] = []

    async def record(request: httpx.Request) -> None:
        sent.append(request)

    with dpop_world(nonce_server, f"https://nonce-{mode}.test") as (audience, client):
        auth = auth_for(nonce_server, audience, client, dpop_key=DPoPKey.generate())
        before = nonce_server.token_requests()
        if mode == "sync":
            with httpx.Client(event_hooks={"request": [sent.append]}) as http:
                token = auth.sync_get_token(http)
        else:

            async def main() -> str:
                async with httpx.AsyncClient(event_hooks={"request": [record]}) as http:
                    token: str = await auth.async_get_token(http)
                    return token

            token = asyncio.run(main())
        assert nonce_server.token_requests() - before == 2
    nonces = [
        jwt.decode(r.headers["dpop"], options={"verify_signature": False}).get("nonce")
        for r in sent
    ]
    assert nonces[0] is None
    assert nonces[1] is not None
    assert jwt.decode(token, options={"verify_signature": False})["cnf"]["jkt"]


def test_a_refused_proof_is_not_retried(nonce_server: AuthServer) -> None:
    """Only use_dpop_nonce earns a second token request; invalid_dpop_proof is raised."""
    with dpop_world(nonce_server, "https://nonce-loop.test") as (audience, client):
        key = DPoPKey.generate(clock=lambda: 1_000_000_000.0)  # every proof far too old
        auth = auth_for(nonce_server, audience, client, dpop_key=key)
        before = nonce_server.token_requests()
        with httpx.Client() as http, pytest.raises(TokenRequestError) as caught:
            auth.sync_get_token(http)
        assert nonce_server.token_requests() - before == 1
    assert caught.value.error == "invalid_dpop_proof"


# --- against scopegate's own middleware with server nonces ---------------------------------------


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_scopegates_middleware_with_nonces(server: AuthServer, mode: str) -> None:
    """The resource server's real use_dpop_nonce (401, its WWW-Authenticate, DPoP-Nonce): the
    client retries once with the nonce, then keeps using it."""
    from scopegate import Settings
    from scopegate.asgi import BearerAuthMiddleware
    from scopegate.starlette import current_token

    async def whoami(request: Request) -> Response:
        token = current_token(request)
        assert token is not None
        return JSONResponse({"jkt": token.confirmation})

    audience = f"https://nonce-mw-{mode}.test"
    settings = Settings.explicit(identifier=audience, issuer=server.url + "/", dpop_nonce=True)
    app = BearerAuthMiddleware(Starlette(routes=[Route("/whoami", whoami)]), settings=settings)
    seen: list[tuple[int, str | None]] = []

    def watch(response: httpx.Response) -> None:
        seen.append((response.status_code, response.request.headers.get("dpop")))

    async def awatch(response: httpx.Response) -> None:
        watch(response)

    key = DPoPKey.generate()
    with (
        serve(lambda _base: app, "API with nonces") as served,
        dpop_world(server, audience) as (_, client),
    ):
        auth = auth_for(server, audience, client, dpop_key=key)
        url = served.url + "/whoami"
        if mode == "sync":
            with httpx.Client(auth=auth, event_hooks={"response": [watch]}) as http:
                statuses = [http.get(url).status_code for _ in range(3)]
        else:

            async def main() -> list[int]:
                async with httpx.AsyncClient(auth=auth, event_hooks={"response": [awatch]}) as http:
                    return [(await http.get(url)).status_code for _ in range(3)]

            statuses = asyncio.run(main())
    assert statuses == [200, 200, 200]
    api_calls = [(status, proof) for status, proof in seen if proof is not None][1:]  # not /token
    assert [status for status, _ in api_calls] == [401, 200, 200, 200]
    nonces = [
        jwt.decode(proof, options={"verify_signature": False}).get("nonce")
        for _, proof in api_calls
        if proof is not None
    ]
    assert nonces[0] is None
    assert nonces[1] == nonces[2] == nonces[3] is not None
