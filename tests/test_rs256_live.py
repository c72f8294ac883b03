"""Issue 10's done-when against the real local authorization server: the FastAPI example under
uvicorn and the Flask example under gunicorn, configured with only SCOPEGATE_ISSUER and
SCOPEGATE_IDENTIFIER (and short JWKS cache timings), accept RS256 tokens that
``scopegate authserver`` issues, and survive its key rotation and revocation without a restart.

Every server is a real process on 127.0.0.1: ``scopegate authserver`` (a fresh SQLite file, a
management client given on the command line) and the example API. ``test_jwks_live`` runs the
same scenario against the JWK Set test server, which can also go down or answer junk; this one
checks the authorization server and the library together. Its helpers are reused here.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from conformance.model import DPOP_OFFER
from helpers import IDENTIFIER
from live_server import authserver, bearer, free_port, serve
from scopegate.client import ClientCredentialsAuth, ManagementClient
from test_jwks_live import COOLDOWN, SERVERS, TTL, Command, discovery_env, status, wait_for

MANAGEMENT_ID = "rs256-live-management"
MANAGEMENT_SECRET = "m" * 48
UNKNOWN_KEY = {
    "error": "invalid_token",
    "error_description": "The access token signing key is not known",
}


@dataclass
class Tenant:
    """The running authorization server, managed, with an RS256 API and a client granted it."""

    url: str
    management: ManagementClient
    client_id: str
    client_secret: str

    @property
    def issuer(self) -> str:
        return self.url + "/"

    def token(self, http: httpx.Client) -> str:
        """A new token for the client (a new auth each time, so nothing is reused)."""
        auth = ClientCredentialsAuth(
            self.url + "/oauth/token", self.client_id, self.client_secret, IDENTIFIER
        )
        return auth.sync_get_token(http)


@pytest.fixture
def tenant(tmp_path: Path) -> Iterator[Tenant]:
    with authserver(tmp_path, MANAGEMENT_ID, MANAGEMENT_SECRET) as (url, management):
        # RS256 is the server's default (as on Auth0); the client's keyword defaults to HS256.
        api = management.create_resource_server(
            IDENTIFIER, name="RS256 API", scopes=["sample-scope"], signing_alg="RS256"
        )
        assert api["signing_alg"] == "RS256"
        client = management.create_client("RS256 live client")
        management.create_client_grant(client["client_id"], IDENTIFIER, ["sample-scope"])
        yield Tenant(url, management, client["client_id"], client["client_secret"])


def current_kid(management: ManagementClient) -> str:
    [kid] = [key["kid"] for key in management.list_signing_keys() if key.get("current")]
    assert isinstance(kid, str)
    return kid


@pytest.mark.parametrize("command", SERVERS)
def test_authserver_tokens_through_discovery_across_a_rotation(
    command: Command, tenant: Tenant, tmp_path: Path
) -> None:
    port = free_port()
    with (
        serve(command(port), discovery_env(tenant.issuer), port, log=tmp_path / "api.log") as url,
        httpx.Client(base_url=url, timeout=10.0) as client,
        httpx.Client(timeout=10.0) as http,
    ):
        old_kid = current_kid(tenant.management)
        old_token = tenant.token(http)
        response = client.get("/api/private", headers=bearer(old_token))
        assert response.status_code == 200, response.text
        assert response.json()["scopes"] == ["sample-scope"]
        assert status(client, "x" + old_token) == 401

        rotated = tenant.management.rotate_signing_key()
        assert rotated["kid"] != old_kid
        new_token = tenant.token(http)
        time.sleep(COOLDOWN + 0.1)  # an unknown kid is refetched once per cooldown
        assert status(client, new_token) == 200  # no restart: the new kid was fetched
        assert status(client, old_token) == 200  # the previous key stays published

        tenant.management.revoke_signing_key(old_kid)
        time.sleep(TTL)
        assert wait_for(client, old_token, 401) == 401
        response = client.get("/api/private", headers=bearer(old_token))
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == (
            'Bearer realm="api", error="invalid_token", '
            f'error_description="The access token signing key is not known", {DPOP_OFFER}'
        )
        assert response.json() == UNKNOWN_KEY
        assert status(client, new_token) == 200
        assert status(client, tenant.token(http)) == 200
