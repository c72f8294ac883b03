"""The issue's whole scenario over real HTTP, from the bootstrap credentials to a verified token."""

from __future__ import annotations

import base64
import json
import re
import time

import httpx

from authserver.harness import SAMPLE_API, Live, bearer, client_credentials, management_token
from scopegate import Settings, TokenVerifier
from scopegate.authserver import MANAGEMENT_SCOPES


def _header(token: str) -> dict[str, object]:
    segment = token.split(".")[0]
    header: dict[str, object] = json.loads(base64.urlsafe_b64decode(segment + "=" * 4))
    return header


def test_the_whole_flow(live: Live, http: httpx.Client) -> None:
    credentials = live.bootstrap
    assert credentials.created is True
    assert credentials.client_id is not None
    assert credentials.client_secret is not None
    assert credentials.audience == live.audience
    assert credentials.token_url == live.base_url + "/oauth/token"

    # 1. A Management API token from the bootstrap credentials, as a form.
    response = http.post(
        "/oauth/token",
        data=client_credentials(
            credentials.client_id, credentials.client_secret, credentials.audience
        ),
    )
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["pragma"] == "no-cache"
    body = response.json()
    assert body["scope"] == " ".join(MANAGEMENT_SCOPES)
    management = bearer(body["access_token"])

    # 2. The API.
    response = http.post("/api/v2/resource-servers", json=SAMPLE_API, headers=management)
    assert response.status_code == 201, response.text
    api = response.json()
    assert re.fullmatch(r"[0-9a-f]{24}", api["id"])
    assert len(api["signing_secret"].encode()) >= 32
    assert api == {
        "id": api["id"],
        "name": "My Sample API",
        "identifier": "https://my-api-urn",
        "scopes": [{"value": "sample-scope", "description": "Description for Sample Scope"}],
        "signing_alg": "HS256",
        "signing_secret": api["signing_secret"],
        "token_lifetime": 86400,
    }

    # 3. The client.
    response = http.post(
        "/api/v2/clients",
        json={"name": "My M2M App", "app_type": "non_interactive"},
        headers=management,
    )
    assert response.status_code == 201, response.text
    client = response.json()
    assert re.fullmatch(r"[A-Za-z0-9]{32}", client["client_id"])
    assert len(client["client_secret"]) == 64
    assert client["name"] == "My M2M App"
    assert client["app_type"] == "non_interactive"
    assert client["grant_types"] == ["client_credentials"]

    # 4. The grant.
    grant_request = {
        "client_id": client["client_id"],
        "audience": "https://my-api-urn",
        "scope": ["sample-scope"],
    }
    response = http.post("/api/v2/client-grants", json=grant_request, headers=management)
    assert response.status_code == 201, response.text
    grant = response.json()
    assert re.fullmatch(r"cgr_[A-Za-z0-9]{16}", grant["id"])
    assert grant == {"id": grant["id"], **grant_request}

    # 5. A token for the API, as JSON.
    before = int(time.time())
    response = http.post(
        "/oauth/token",
        json=client_credentials(client["client_id"], client["client_secret"], "https://my-api-urn"),
    )
    after = int(time.time())
    assert response.status_code == 200, response.text
    issued = response.json()
    assert set(issued) == {"access_token", "token_type", "expires_in", "scope"}
    assert issued["token_type"] == "Bearer"
    assert issued["expires_in"] == 86400
    assert issued["scope"] == "sample-scope"

    # 6. scopegate verifies it with the API's signing secret.
    settings = Settings(
        signing_secret=api["signing_secret"],
        identifier="https://my-api-urn",
        issuer=live.issuer,
        _env_file=None,
    )
    token = TokenVerifier(settings).verify(issued["access_token"])
    claims = dict(token.claims)
    iat = claims["iat"]
    assert before <= iat <= after
    assert claims == {
        "iss": live.base_url + "/",
        "sub": f"{client['client_id']}@clients",
        "aud": "https://my-api-urn",
        "iat": iat,
        "exp": iat + 86400,
        "azp": client["client_id"],
        "scope": "sample-scope",
        "gty": "client-credentials",
    }
    assert _header(issued["access_token"]) == {"alg": "HS256", "typ": "JWT"}
    assert token.scopes == frozenset({"sample-scope"})
    assert token.client_id == client["client_id"]


def test_token_lifetime_sets_exp(live: Live, mgmt: httpx.Client) -> None:
    api = mgmt.post(
        "/api/v2/resource-servers",
        json={
            "identifier": "urn:short-lived",
            "signing_alg": "HS256",
            "token_lifetime": 60,
            "scopes": [],
        },
    ).json()
    assert api["name"] == "urn:short-lived"
    client = mgmt.post("/api/v2/clients", json={"name": "short"}).json()
    grant = {"client_id": client["client_id"], "audience": "urn:short-lived", "scope": []}
    assert mgmt.post("/api/v2/client-grants", json=grant).status_code == 201
    with httpx.Client(base_url=live.base_url) as http:
        response = http.post(
            "/oauth/token",
            json=client_credentials(
                client["client_id"], client["client_secret"], "urn:short-lived"
            ),
        )
    assert response.status_code == 200, response.text
    assert response.json()["expires_in"] == 60
    assert response.json()["scope"] == ""
    settings = Settings(
        signing_secret=api["signing_secret"], identifier="urn:short-lived", _env_file=None
    )
    claims = TokenVerifier(settings).verify(response.json()["access_token"]).claims
    assert claims["exp"] - claims["iat"] == 60


def test_a_management_token_from_a_granted_m2m_client(live: Live, mgmt: httpx.Client) -> None:
    """Like Auth0: authorize an application for the Management API with some of its scopes."""
    client = mgmt.post("/api/v2/clients", json={"name": "reader"}).json()
    grant = {"client_id": client["client_id"], "audience": live.audience, "scope": ["read:clients"]}
    assert mgmt.post("/api/v2/client-grants", json=grant).status_code == 201
    with httpx.Client(base_url=live.base_url) as http:
        token = management_token(http, live, client["client_id"], client["client_secret"])
        assert http.get("/api/v2/clients", headers=bearer(token)).status_code == 200
        assert http.get("/api/v2/resource-servers", headers=bearer(token)).status_code == 403
