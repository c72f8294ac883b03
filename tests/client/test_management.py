"""ManagementClient against the real authorization server, and its plumbing on a mock."""

from __future__ import annotations

import json
import secrets

import httpx
import pytest

from client.harness import AuthServer
from scopegate.client import (
    ClientCredentialsAuth,
    ManagementClient,
    ManagementError,
    TokenRequestError,
)
from scopegate.client._management import base_url_of
from scopegate.errors import ConfigurationError


def identifier() -> str:
    return f"https://api-{secrets.token_hex(6)}.test"


def test_resource_servers(server: AuthServer) -> None:
    m = server.management
    ident = identifier()
    api = m.create_resource_server(
        ident,
        name="Orders",
        scopes=["read:orders write:orders", {"value": "admin", "description": "Everything"}],
        token_lifetime=600,
    )
    assert api == {
        "id": api["id"],
        "name": "Orders",
        "identifier": ident,
        "scopes": [
            {"value": "read:orders"},
            {"value": "write:orders"},
            {"value": "admin", "description": "Everything"},
        ],
        "signing_alg": "HS256",
        "token_lifetime": 600,
        "signing_secret": api["signing_secret"],
    }
    assert m.get_resource_server(api["id"]) == api
    assert m.get_resource_server(ident) == api  # by identifier, percent-encoded whole
    assert api in m.list_resource_servers()
    changed = m.update_resource_server(ident, name="Orders v2", scopes=["read:orders"])
    assert (changed["name"], changed["scopes"], changed["token_lifetime"]) == (
        "Orders v2",
        [{"value": "read:orders"}],
        600,
    )
    m.delete_resource_server(api["id"])
    with pytest.raises(ManagementError) as caught:
        m.get_resource_server(api["id"])
    assert (caught.value.status_code, caught.value.error, caught.value.error_code) == (
        404,
        "Not Found",
        "inexistent_resource_server",
    )


def test_clients(server: AuthServer) -> None:
    m = server.management
    client = m.create_client("Reports", description="Nightly job")
    assert len(client["client_secret"]) >= 32
    shown = m.get_client(client["client_id"])
    assert "client_secret" not in shown
    assert shown["name"] == "Reports"
    assert shown["app_type"] == "non_interactive"
    assert client["client_id"] in {c["client_id"] for c in m.list_clients()}
    assert m.update_client(client["client_id"], name="Reports v2")["name"] == "Reports v2"
    m.delete_client(client["client_id"])
    with pytest.raises(ManagementError, match="404 Not Found: The client does not exist"):
        m.get_client(client["client_id"])


def test_client_grants(server: AuthServer) -> None:
    m = server.management
    api = m.create_resource_server(identifier(), scopes=["a", "b"])
    client = m.create_client("Granted")
    grant = m.create_client_grant(client["client_id"], api["identifier"], "a")
    assert grant == {
        "id": grant["id"],
        "client_id": client["client_id"],
        "audience": api["identifier"],
        "scope": ["a"],
    }
    assert m.list_client_grants(client_id=client["client_id"]) == [grant]
    assert m.list_client_grants(audience=api["identifier"]) == [grant]
    assert grant in m.list_client_grants()
    assert m.update_client_grant(grant["id"], ["a", "b"])["scope"] == ["a", "b"]
    m.delete_client_grant(grant["id"])
    assert m.list_client_grants(client_id=client["client_id"]) == []


def test_refusals_carry_the_auth0_fields(server: AuthServer) -> None:
    m = server.management
    ident = identifier()
    m.create_resource_server(ident)
    with pytest.raises(ManagementError) as caught:
        m.create_resource_server(ident)
    error = caught.value
    assert (error.status_code, error.error, error.error_code) == (409, "Conflict", "conflict")
    assert error.message == "A resource server with the same identifier already exists."
    assert str(error) == (
        "409 Conflict: A resource server with the same identifier already exists. (conflict)"
    )
    with pytest.raises(ManagementError) as caught:
        m.create_client_grant("no-such-client", ident, ["x"])
    assert (caught.value.status_code, caught.value.error_code) == (404, "inexistent_client")
    with pytest.raises(ManagementError) as caught:
        m.create_resource_server("not a uri")
    assert (caught.value.status_code, caught.value.error_code) == (400, "invalid_body")
    assert caught.value.message.startswith("Payload validation error:")


def test_without_a_token_the_bearer_error_is_reported(server: AuthServer) -> None:
    with ManagementClient(server.url) as m, pytest.raises(ManagementError) as caught:
        m.list_clients()
    # The Management API's rejections are Auth0-shaped, its own and the middleware's.
    error = caught.value
    assert (error.status_code, error.error, error.message, error.error_code) == (
        401,
        "Unauthorized",
        "Missing authentication",
        "missing_token",
    )
    with (
        ManagementClient(server.url, token="not.a.token") as m,
        pytest.raises(ManagementError) as caught,
    ):
        m.list_clients()
    assert (caught.value.status_code, caught.value.error_code) == (401, "invalid_token")


def test_a_static_token(server: AuthServer) -> None:
    credentials = server.credentials
    assert credentials.client_id is not None
    assert credentials.client_secret is not None
    auth = ClientCredentialsAuth(
        server.token_url, credentials.client_id, credentials.client_secret, server.url + "/api/v2/"
    )
    with httpx.Client() as http:
        token = auth.sync_get_token(http)
    with ManagementClient(server.url, token=token) as m:
        assert isinstance(m.list_resource_servers(), list)


def test_with_client_credentials_and_a_wrong_secret(server: AuthServer) -> None:
    credentials = server.credentials
    assert credentials.client_id is not None
    with (
        ManagementClient.with_client_credentials(
            server.url, credentials.client_id, "wrong-" * 8
        ) as m,
        pytest.raises(TokenRequestError, match="401 invalid_client"),
    ):
        m.list_clients()


def test_a_token_and_an_auth_are_exclusive() -> None:
    auth = ClientCredentialsAuth("http://127.0.0.1:1/oauth/token", "id", "secret", "aud")
    with pytest.raises(ValueError, match="not both"):
        ManagementClient("http://127.0.0.1:1", token="t", auth=auth)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("tenant.auth0.com", "https://tenant.auth0.com"),
        ("  tenant.eu.auth0.com/ ", "https://tenant.eu.auth0.com"),
        ("http://127.0.0.1:8787", "http://127.0.0.1:8787"),
        ("http://127.0.0.1:8787/", "http://127.0.0.1:8787"),
        ("https://example.com/auth/", "https://example.com/auth"),
    ],
)
def test_base_url_of(given: str, expected: str) -> None:
    assert base_url_of(given) == expected


@pytest.mark.parametrize(
    "given", ["", "https://", "ftp://example.com", "https://example.com/?q=1", "http://a/#x"]
)
def test_base_url_of_refuses(given: str) -> None:
    with pytest.raises(ConfigurationError):
        base_url_of(given)


def test_with_client_credentials_uses_the_tenant_audience() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/oauth/token":
            return httpx.Response(200, json={"access_token": "t", "token_type": "Bearer"})
        return httpx.Response(200, json=[])

    transport = httpx.MockTransport(handler)
    with ManagementClient.with_client_credentials(
        "tenant.auth0.com", "id", "secret-" * 6, transport=transport
    ) as m:
        assert m.list_clients() == []
    token_request, listing = seen
    assert str(token_request.url) == "https://tenant.auth0.com/oauth/token"
    assert b"audience=https%3A%2F%2Ftenant.auth0.com%2Fapi%2Fv2%2F" in token_request.content
    assert str(listing.url) == "https://tenant.auth0.com/api/v2/clients?page=0&per_page=100"
    assert listing.headers["authorization"] == "Bearer t"


def test_lists_are_read_page_by_page() -> None:
    pages: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        pages.append(request.url.params.get("audience"))
        size = 100 if page < 2 else 7
        return httpx.Response(200, json=[{"id": f"{page}-{n}"} for n in range(size)])

    with ManagementClient(
        "http://mgmt.test", token="t", transport=httpx.MockTransport(handler)
    ) as m:
        grants = m.list_client_grants(audience="https://a")
    assert len(grants) == 207
    assert pages == ["https://a"] * 3


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        pytest.param(
            502, b"<html>", "502 Bad Gateway: the server answered without an error body", id="html"
        ),
        pytest.param(
            403,
            json.dumps(
                {
                    "statusCode": 403,
                    "error": "Forbidden",
                    "message": "Insufficient scope, expected any of: read:clients",
                    "errorCode": "insufficient_scope",
                }
            ).encode(),
            "403 Forbidden: Insufficient scope, expected any of: read:clients (insufficient_scope)",
            id="auth0",
        ),
        pytest.param(
            429,
            json.dumps({"error": "Too Many Requests"}).encode(),
            "429 Too Many Requests: no message",
            id="no-message",
        ),
    ],
)
def test_error_bodies(status: int, body: bytes, message: str) -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(status, content=body))
    with (
        ManagementClient("http://mgmt.test", token="t", transport=transport) as m,
        pytest.raises(ManagementError) as caught,
    ):
        m.get_client("x")
    assert str(caught.value) == message


def test_a_success_that_is_not_json() -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(200, text="ok"))
    with (
        ManagementClient("http://mgmt.test", token="t", transport=transport) as m,
        pytest.raises(
            ManagementError, match="200 invalid_response: the answer is not a JSON object"
        ),
    ):
        m.get_client("x")


def test_ids_are_one_path_segment() -> None:
    seen: list[bytes] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.raw_path)
        return httpx.Response(204)

    with ManagementClient(
        "http://mgmt.test", token="t", transport=httpx.MockTransport(handler)
    ) as m:
        m.delete_resource_server("https://my-api-urn/v1?x#y")
        m.delete_client("../clients")
    assert seen == [
        b"/api/v2/resource-servers/https%3A%2F%2Fmy-api-urn%2Fv1%3Fx%23y",
        b"/api/v2/clients/..%2Fclients",
    ]


def test_signing_keys(server: AuthServer) -> None:
    m = server.management
    keys = m.list_signing_keys()
    current = [key["kid"] for key in keys if key.get("current")]
    upcoming = [key["kid"] for key in keys if key.get("next")]
    assert (len(current), len(upcoming)) == (1, 1)
    assert m.get_signing_key(current[0]) == next(k for k in keys if k["kid"] == current[0])
    rotated = m.rotate_signing_key()
    assert set(rotated) == {"kid", "cert"}
    assert rotated["kid"] == upcoming[0]
    assert m.get_signing_key(current[0])["previous"] is True
    revoked = m.revoke_signing_key(current[0])
    assert revoked["kid"] == current[0]
    assert m.get_signing_key(current[0])["revoked"] is True
    with pytest.raises(ManagementError) as caught:
        m.revoke_signing_key(rotated["kid"])
    assert (caught.value.status_code, caught.value.error_code) == (400, "operation_not_supported")
    with pytest.raises(ManagementError) as caught:
        m.get_signing_key("no such kid")
    assert (caught.value.status_code, caught.value.error_code) == (404, "inexistent_signing_key")
