"""Issue 13's done-when: DPoP-bound tokens from the real authorization server, on real servers.

``scopegate authserver`` runs as a process (a fresh SQLite file) with an RS256 API that requires
DPoP-bound tokens (Auth0's ``proof_of_possession: {"mechanism": "dpop", "required": true}``);
the FastAPI example under uvicorn and the Flask example under gunicorn are configured with only
the issuer and the identifier (``dpop`` at its default, ``allowed``). A client with
``ClientCredentialsAuth(dpop_key=...)`` gets a token bound to its key and calls the API (200); the
same token without a proof, as Bearer, with another key's proof, or with a replayed proof is
refused (401, exact challenge and body).

Then replay across processes: the FastAPI example under ``uvicorn --workers 2`` sharing a real
``redis-server`` (``SCOPEGATE_DPOP_REPLAY_STORE=redis://...``) accepts one proof exactly once
however many times, on however many connections, it is sent; the same two workers with the
default in-memory store accept it more than once, which shows the connections do reach both.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from conformance.model import DPOP_ALGS, DPOP_OFFER
from helpers import IDENTIFIER
from live_server import ROOT, authserver, free_port, serve, uvicorn_command
from redis_server import redis_server
from scopegate.client import ClientCredentialsAuth
from scopegate.client._dpop import DPoPKey
from scopegate.testing import dpop_headers, dpop_proof
from test_jwks_live import SERVERS, Command, discovery_env

MANAGEMENT_ID = "dpop-live-management"
MANAGEMENT_SECRET = "d" * 48
REQUIRED = {"mechanism": "dpop", "required": True}
PRIVATE = "/api/private"
# Sent until two are accepted (memory store) or as many times (Redis store).
REPLAY_ATTEMPTS = 60


def dpop_challenge(error: str, description: str) -> str:
    return (
        f'Bearer realm="api", DPoP realm="api", error="{error}", '
        f'error_description="{description}", algs="{DPOP_ALGS}"'
    )


MISSING_PROOF = ("invalid_dpop_proof", "A DPoP proof is required")
REPLAYED = ("invalid_dpop_proof", "The DPoP proof has already been used")
OTHER_KEY = ("invalid_token", "The access token is not bound to the DPoP proof key")
AS_BEARER = (
    "invalid_token",
    "The access token is sender-constrained and cannot be used as a bearer token",
)


@dataclass
class Tenant:
    """The running authorization server with a DPoP-required API and a client granted it."""

    url: str
    client_id: str
    client_secret: str

    @property
    def issuer(self) -> str:
        return self.url + "/"

    def auth(self, key: DPoPKey | None) -> ClientCredentialsAuth:
        return ClientCredentialsAuth(
            self.url + "/oauth/token", self.client_id, self.client_secret, IDENTIFIER, dpop_key=key
        )


@pytest.fixture(scope="module")
def tenant(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tenant]:
    folder = tmp_path_factory.mktemp("dpop-authserver")
    with authserver(folder, MANAGEMENT_ID, MANAGEMENT_SECRET) as (url, management):
        api = management.create_resource_server(
            IDENTIFIER,
            name="DPoP API",
            scopes=["sample-scope"],
            signing_alg="RS256",
            proof_of_possession=REQUIRED,
        )
        assert api["proof_of_possession"] == REQUIRED
        client = management.create_client("DPoP live client")
        management.create_client_grant(client["client_id"], IDENTIFIER, ["sample-scope"])
        yield Tenant(url, client["client_id"], client["client_secret"])


def refused(response: httpx.Response, error: tuple[str, str], challenge: str) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"] == challenge
    assert response.json() == {"error": error[0], "error_description": error[1]}


@pytest.mark.parametrize("command", SERVERS)
def test_dpop_bound_tokens_from_the_authorization_server(
    command: Command, tenant: Tenant, tmp_path: Path
) -> None:
    key = DPoPKey.generate()
    port = free_port()
    with (
        serve(command(port), discovery_env(tenant.issuer), port, log=tmp_path / "api.log") as url,
        httpx.Client(auth=tenant.auth(key), timeout=10.0) as client,
        httpx.Client(timeout=10.0) as plain,
    ):
        # The client: a DPoP-bound token, then a fresh proof (with ath) on every call.
        for _ in range(3):
            response = client.get(url + PRIVATE)
            assert response.status_code == 200, response.text
            assert response.json()["scopes"] == ["sample-scope"]
            assert response.request.headers["authorization"].startswith("DPoP ")
        assert client.get(url + "/api/private-scoped").status_code == 200
        token = tenant.auth(key).sync_get_token(plain)  # another token, bound to the same key

        # Stolen, without the key: refused on either scheme.
        refused(
            plain.get(url + PRIVATE, headers={"Authorization": f"Bearer {token}"}),
            AS_BEARER,
            f'Bearer realm="api", error="{AS_BEARER[0]}", '
            f'error_description="{AS_BEARER[1]}", {DPOP_OFFER}',
        )
        refused(
            plain.get(url + PRIVATE, headers={"Authorization": f"DPoP {token}"}),
            MISSING_PROOF,
            dpop_challenge(*MISSING_PROOF),
        )
        thief = DPoPKey.generate()
        refused(
            plain.get(url + PRIVATE, headers=dpop_headers(token, thief, "GET", url + PRIVATE)),
            OTHER_KEY,
            dpop_challenge(*OTHER_KEY),
        )

        # A proof is good once.
        proof = dpop_proof(key, "GET", url + PRIVATE, token=token)
        headers = {"Authorization": f"DPoP {token}", "DPoP": proof}
        assert plain.get(url + PRIVATE, headers=headers).status_code == 200
        refused(plain.get(url + PRIVATE, headers=headers), REPLAYED, dpop_challenge(*REPLAYED))


def test_a_token_request_without_a_proof_is_refused(tenant: Tenant) -> None:
    with httpx.Client(timeout=10.0) as http:
        response = http.post(
            tenant.url + "/oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": tenant.client_id,
                "client_secret": tenant.client_secret,
                "audience": IDENTIFIER,
            },
        )
    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_dpop_proof",
        "error_description": "A DPoP proof is required",
    }


def two_workers(port: int) -> list[str]:
    """The FastAPI example under uvicorn with two worker processes."""
    return [*uvicorn_command(ROOT / "examples" / "fastapi_app", port), "--workers", "2"]


def send_repeatedly(
    url: str, headers: dict[str, str], stop_after_ok: int | None
) -> list[tuple[int, str | None]]:
    """The same request on a new connection each time (so both workers get some):
    each answer's status and ``error_description``."""
    answers: list[tuple[int, str | None]] = []
    for _ in range(REPLAY_ATTEMPTS):
        with httpx.Client(timeout=10.0) as once:
            response = once.get(url + PRIVATE, headers=headers)
        answers.append((response.status_code, response.json().get("error_description")))
        if stop_after_ok is not None and [a[0] for a in answers].count(200) >= stop_after_ok:
            break
    return answers


def bound_request(tenant: Tenant, url: str) -> dict[str, str]:
    key = DPoPKey.generate()
    with httpx.Client(timeout=10.0) as http:
        token = tenant.auth(key).sync_get_token(http)
    proof = dpop_proof(key, "GET", url + PRIVATE, token=token)
    return {"Authorization": f"DPoP {token}", "DPoP": proof}


def test_replay_across_two_workers_sharing_redis(tenant: Tenant, tmp_path: Path) -> None:
    port = free_port()
    with redis_server() as redis:
        env = discovery_env(tenant.issuer, SCOPEGATE_DPOP_REPLAY_STORE=redis.url)
        with serve(two_workers(port), env, port, log=tmp_path / "api.log") as url:
            headers = bound_request(tenant, url)
            answers = send_repeatedly(url, headers, stop_after_ok=None)
    assert [status for status, _ in answers].count(200) == 1, answers
    assert answers.count((401, REPLAYED[1])) == REPLAY_ATTEMPTS - 1, answers


def test_the_same_two_workers_with_memory_stores_accept_a_replay(
    tenant: Tenant, tmp_path: Path
) -> None:
    """The control: each worker remembers only its own proofs, so the proof passes twice."""
    port = free_port()
    with serve(
        two_workers(port), discovery_env(tenant.issuer), port, log=tmp_path / "api.log"
    ) as url:
        answers = send_repeatedly(url, bound_request(tenant, url), stop_after_ok=2)
    assert [status for status, _ in answers].count(200) == 2, answers


def test_authserver_dpop_nonce_and_the_client_that_learns_it(tmp_path: Path) -> None:
    """``scopegate authserver --dpop-nonce``: the first token request gets 400 use_dpop_nonce
    and a DPoP-Nonce; ClientCredentialsAuth retries once with it."""
    answers: list[tuple[int, str | None]] = []

    def watch(response: httpx.Response) -> None:
        response.read()
        nonce = response.headers.get("dpop-nonce")
        answers.append((response.status_code, nonce))

    with authserver(tmp_path, MANAGEMENT_ID, MANAGEMENT_SECRET, "--dpop-nonce") as (
        url,
        management,
    ):
        management.create_resource_server(
            IDENTIFIER, signing_alg="RS256", proof_of_possession=REQUIRED
        )
        client = management.create_client("nonce client")
        management.create_client_grant(client["client_id"], IDENTIFIER, [])
        tenant = Tenant(url, client["client_id"], client["client_secret"])
        with httpx.Client(timeout=10.0, event_hooks={"response": [watch]}) as http:
            tenant.auth(DPoPKey.generate()).sync_get_token(http)
    assert [status for status, _ in answers] == [400, 200]
    assert answers[0][1] is not None
    assert answers[1][1] == answers[0][1]  # the nonce to keep using
