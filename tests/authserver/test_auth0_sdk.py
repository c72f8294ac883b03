"""auth0-python drives the seed's whole flow against a real server, over HTTP and HTTPS,
then Auth0's defaults: an RS256 API and the signing keys listed, rotated and revoked.

With ``--tls`` the SDK is used as a team's scripts use it against a tenant:
``ManagementClient(domain="127.0.0.1:PORT", client_id=..., client_secret=...)``,
which gets its own token and hard-codes ``https://``; the generated CA is
trusted through ``SSL_CERT_FILE`` (httpx, the Management API) and
``REQUESTS_CA_BUNDLE`` (requests, the token endpoint), as the docs say.
Over plain HTTP the SDK's own clients are given an ``http://`` base: the
Management API client (``auth0.management.Auth0``) takes a ``base_url`` and
the authentication client (``GetToken``) a ``protocol`` "for testing".

Each refusal is asserted as the SDK parses it: the status of its
``ApiError`` and the Auth0 body (``statusCode``, ``error``, ``message``,
``errorCode``), which auth0-python 6 exposes as ``error.body``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from auth0.authentication import GetToken
from auth0.management import Auth0, ManagementClient
from auth0.management.core.api_error import ApiError
from auth0.management.types import ResourceServerScope

from authserver.harness import Live, serve
from scopegate import Settings, TokenVerifier
from scopegate.authserver import create_app
from scopegate.authserver.tls import ensure_certificate


@contextmanager
def sdk_server(tmp_path: Path, tls: bool) -> Iterator[tuple[Live, Any, type[GetToken]]]:
    """A live server, an SDK Management client with every scope, and a GetToken factory."""
    db = str(tmp_path / "sdk.db")
    files = ensure_certificate(db) if tls else None
    with serve(lambda base: create_app(base, db), tls=files) as live:
        bootstrap = live.bootstrap
        assert bootstrap.client_id is not None
        assert bootstrap.client_secret is not None
        domain = live.base_url.split("://", 1)[1]
        if tls:
            management: Any = ManagementClient(
                domain=domain,
                client_id=bootstrap.client_id,
                client_secret=bootstrap.client_secret,
            )
        else:
            token = GetToken(
                domain, bootstrap.client_id, bootstrap.client_secret, protocol="http"
            ).client_credentials(live.audience)["access_token"]
            management = Auth0(base_url=live.base_url + "/api/v2", token=token)
        yield live, management, GetToken
        # The SDK's httpx client; closed so no socket outlives the server.
        wrapper = management._api if tls else management
        wrapper._client_wrapper.httpx_client.httpx_client.close()


@pytest.fixture(params=[pytest.param(False, id="http"), pytest.param(True, id="tls")])
def tls(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> bool:
    enabled: bool = request.param
    if enabled:
        ca_file = ensure_certificate(str(tmp_path / "sdk.db")).ca_file
        monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(ca_file))
    return enabled


def refusal(call: Any) -> tuple[int | None, dict[str, Any]]:
    with pytest.raises(ApiError) as caught:
        call()
    body: dict[str, Any] = caught.value.body
    return caught.value.status_code, body


def test_the_seed_flow_with_auth0_python(tmp_path: Path, tls: bool) -> None:
    with sdk_server(tmp_path, tls) as (live, management, get_token):
        identifier = f"https://my-api-urn/{uuid.uuid4().hex}"
        scope = ResourceServerScope(value="sample-scope", description="Sample Scope")
        api = management.resource_servers.create(
            identifier=identifier, name="My Sample API", signing_alg="HS256", scopes=[scope]
        )
        assert api.identifier == identifier
        assert [s.value for s in api.scopes] == ["sample-scope"]
        client = management.clients.create(name="My M2M App", app_type="non_interactive")
        assert client.grant_types == ["client_credentials"]
        grant = management.client_grants.create(
            client_id=client.client_id, audience=identifier, scope=["sample-scope"]
        )

        # list (the SDK pages with include_totals and take / page), get, update each
        assert identifier in [s.identifier for s in management.resource_servers.list()]
        assert client.client_id in [c.client_id for c in management.clients.list()]
        listed = list(management.client_grants.list(audience=identifier))
        assert [g.id for g in listed] == [grant.id]
        assert management.resource_servers.get(api.id).name == "My Sample API"
        assert management.clients.get(client.client_id).name == "My M2M App"
        assert management.client_grants.get(grant.id).scope == ["sample-scope"]
        renamed = management.resource_servers.update(api.id, name="Renamed API")
        assert renamed.name == "Renamed API"
        assert management.clients.update(client.client_id, name="Renamed").name == "Renamed"
        assert management.client_grants.update(grant.id, scope=["sample-scope"]).scope == [
            "sample-scope"
        ]

        # the client's token, through the SDK's authentication client
        scheme = "https" if tls else "http"
        domain = live.base_url.split("://", 1)[1]
        issued = get_token(
            domain, client.client_id, client.client_secret, protocol=scheme
        ).client_credentials(identifier)
        assert issued["token_type"] == "Bearer"
        settings = Settings(
            signing_secret=api.signing_secret,
            identifier=identifier,
            issuer=live.issuer,
            _env_file=None,
        )
        verified = TokenVerifier(settings).verify(issued["access_token"])
        assert verified.scopes == frozenset({"sample-scope"})
        assert jwt.get_unverified_header(issued["access_token"])["alg"] == "HS256"

        # refusals, as the SDK parses them
        assert refusal(lambda: management.resource_servers.create(identifier="not a uri")) == (
            400,
            {
                "statusCode": 400,
                "error": "Bad Request",
                "message": "Payload validation error: 'must be an absolute URI, such as "
                "https://my-api-urn' on property identifier.",
                "errorCode": "invalid_body",
            },
        )
        assert refusal(lambda: management.resource_servers.create(identifier=identifier)) == (
            409,
            {
                "statusCode": 409,
                "error": "Conflict",
                "message": "A resource server with the same identifier already exists.",
                "errorCode": "conflict",
            },
        )
        assert refusal(lambda: management.clients.get("no-such-client")) == (
            404,
            {
                "statusCode": 404,
                "error": "Not Found",
                "message": "The client does not exist.",
                "errorCode": "inexistent_client",
            },
        )
        anonymous = Auth0(base_url=live.base_url + "/api/v2", token="not.a.jwt")
        try:
            status, body = refusal(lambda: anonymous.clients.get(client.client_id))
        finally:
            anonymous._client_wrapper.httpx_client.httpx_client.close()
        assert (status, body["errorCode"], body["message"]) == (
            401,
            "invalid_token",
            "The access token is malformed",
        )
        # a token for the Management API without the scope a route needs
        weak = management.clients.create(name="weak", app_type="non_interactive")
        management.client_grants.create(
            client_id=weak.client_id, audience=live.audience, scope=["read:clients"]
        )
        weak_token = get_token(
            domain, weak.client_id, weak.client_secret, protocol=scheme
        ).client_credentials(live.audience)["access_token"]
        limited = Auth0(base_url=live.base_url + "/api/v2", token=weak_token)
        try:
            status, body = refusal(lambda: limited.resource_servers.create(identifier="urn:x"))
        finally:
            limited._client_wrapper.httpx_client.httpx_client.close()
        assert (status, body) == (
            403,
            {
                "statusCode": 403,
                "error": "Forbidden",
                "message": "Insufficient scope, expected any of: create:resource_servers",
                "errorCode": "insufficient_scope",
            },
        )

        # delete each, then they are gone
        management.client_grants.delete(grant.id)
        management.clients.delete(client.client_id)
        management.resource_servers.delete(api.id)
        assert refusal(lambda: management.resource_servers.get(api.id))[0] == 404
        assert refusal(lambda: management.client_grants.get(grant.id))[0] == 404


def test_an_rs256_api_and_key_rotation_with_auth0_python(tmp_path: Path, tls: bool) -> None:
    """Auth0's defaults: an API created without ``signing_alg`` signs with RS256; the SDK
    lists, rotates and revokes the keys, and PyJWT verifies through the JWK Set."""
    with sdk_server(tmp_path, tls) as (live, management, get_token):
        identifier = f"https://rs256/{uuid.uuid4().hex}"
        api = management.resource_servers.create(identifier=identifier, name="RS256 API")
        assert api.signing_alg == "RS256"
        assert api.signing_secret is None
        client = management.clients.create(name="RS256 App", app_type="non_interactive")
        management.client_grants.create(client_id=client.client_id, audience=identifier, scope=[])
        scheme = "https" if tls else "http"
        domain = live.base_url.split("://", 1)[1]

        def token() -> str:
            issued = get_token(
                domain, client.client_id, client.client_secret, protocol=scheme
            ).client_credentials(identifier)
            access_token: str = issued["access_token"]
            return access_token

        def verify(access_token: str) -> dict[str, Any]:
            jwks = httpx.get(live.base_url + "/.well-known/jwks.json").json()
            key = jwt.PyJWKSet.from_dict(jwks)[jwt.get_unverified_header(access_token)["kid"]]
            claims: dict[str, Any] = jwt.decode(
                access_token, key, algorithms=["RS256"], audience=identifier, issuer=live.issuer
            )
            return claims

        keys = management.keys.signing.list()
        (current,) = [key.kid for key in keys if key.current]
        (upcoming,) = [key.kid for key in keys if key.next]
        assert all(key.fingerprint and key.thumbprint and key.pkcs_7 for key in keys)
        old = token()
        assert jwt.get_unverified_header(old)["kid"] == current
        rotated = management.keys.signing.rotate()
        assert rotated.kid == upcoming
        assert rotated.cert.startswith("-----BEGIN CERTIFICATE-----")
        new = token()
        assert jwt.get_unverified_header(new)["kid"] == upcoming
        assert verify(old)["aud"] == verify(new)["aud"] == identifier
        assert management.keys.signing.get(current).previous is True
        assert management.keys.signing.revoke(current).kid == current
        assert management.keys.signing.get(current).revoked is True
        with pytest.raises(KeyError):
            verify(old)
        assert verify(new)["aud"] == identifier
        assert refusal(lambda: management.keys.signing.revoke(upcoming))[0] == 400
