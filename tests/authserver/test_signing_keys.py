"""RS256 tokens, the JWK Set, discovery and key rotation, over real HTTP.

Tokens are verified with PyJWT only (``jwt.PyJWKClient`` against the
server's ``jwks_uri``, or a ``jwt.PyJWKSet`` of the published keys), never
with scopegate's own verifier: the server is checked against the library the
field uses. Each test gets a fresh server, since rotation changes the tenant.
"""

from __future__ import annotations

import base64
import json
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from authserver.harness import (
    Live,
    bearer,
    client_credentials,
    management_client,
    management_token,
    serve,
    serve_db,
)
from scopegate.authserver import MANAGEMENT_SCOPES, create_app
from scopegate.authserver.storage.database import SCHEMA_VERSION

API = "https://rs256-api"
CACHE = "public, max-age=60"
JWK_MEMBERS = {"kty", "n", "e", "kid", "alg", "use"}


@pytest.fixture
def live() -> Iterator[Live]:
    with serve_db() as server:
        yield server


@pytest.fixture
def mgmt(live: Live) -> Iterator[httpx.Client]:
    with management_client(live) as http:
        yield http


def register(mgmt: httpx.Client, body: dict[str, Any]) -> tuple[dict[str, Any], str, str]:
    """Create the API ``body``, a client and a grant of every scope; the API's JSON and
    the client's credentials."""
    api = mgmt.post("/api/v2/resource-servers", json=body)
    assert api.status_code == 201, api.text
    client = mgmt.post("/api/v2/clients", json={"name": "rs256 client"}).json()
    grant = {
        "client_id": client["client_id"],
        "audience": body["identifier"],
        "scope": [scope["value"] for scope in body.get("scopes", [])],
    }
    assert mgmt.post("/api/v2/client-grants", json=grant).status_code == 201
    return api.json(), client["client_id"], client["client_secret"]


def token_for(live: Live, client_id: str, secret: str, audience: str = API) -> str:
    with httpx.Client(base_url=live.base_url) as http:
        response = http.post("/oauth/token", json=client_credentials(client_id, secret, audience))
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def published(live: Live) -> dict[str, Any]:
    response = httpx.get(live.base_url + "/.well-known/jwks.json")
    assert response.status_code == 200
    assert response.headers["cache-control"] == CACHE
    body: dict[str, Any] = response.json()
    return body


def decode(token: str, jwks: dict[str, Any], live: Live) -> dict[str, Any]:
    """PyJWT's verdict, with the key the token's ``kid`` names in ``jwks``."""
    key = jwt.PyJWKSet.from_dict(jwks)[jwt.get_unverified_header(token)["kid"]]
    claims: dict[str, Any] = jwt.decode(
        token, key, algorithms=["RS256"], audience=API, issuer=live.issuer
    )
    return claims


def kids(keys: list[dict[str, Any]], flag: str) -> list[str]:
    return [key["kid"] for key in keys if key.get(flag)]


@pytest.fixture
def rs256(live: Live, mgmt: httpx.Client) -> tuple[str, str]:
    body = {"identifier": API, "scopes": [{"value": "read:data"}]}
    api, client_id, secret = register(mgmt, body)
    assert api["signing_alg"] == "RS256"
    return client_id, secret


def test_rs256_is_the_default_and_has_no_signing_secret(mgmt: httpx.Client) -> None:
    created = mgmt.post("/api/v2/resource-servers", json={"identifier": "urn:default"})
    assert created.status_code == 201
    read = mgmt.get("/api/v2/resource-servers/urn:default").json()
    for body in (created.json(), read):
        assert body["signing_alg"] == "RS256"
        assert "signing_secret" not in body
    explicit = mgmt.post(
        "/api/v2/resource-servers", json={"identifier": "urn:hs", "signing_alg": "HS256"}
    ).json()
    assert explicit["signing_alg"] == "HS256"
    assert len(explicit["signing_secret"]) == 64


def test_an_rs256_token_verifies_with_pyjwks_client_through_discovery(
    live: Live, rs256: tuple[str, str]
) -> None:
    token = token_for(live, *rs256)
    config = httpx.get(live.base_url + "/.well-known/openid-configuration").json()
    client = jwt.PyJWKClient(config["jwks_uri"])
    key = client.get_signing_key_from_jwt(token)
    claims = jwt.decode(token, key, algorithms=["RS256"], audience=API, issuer=config["issuer"])
    assert claims["sub"] == f"{rs256[0]}@clients"
    assert claims["scope"] == "read:data"
    assert claims["gty"] == "client-credentials"
    header = jwt.get_unverified_header(token)
    current = live.store.signing_keys.current()
    assert current is not None
    assert header == {"alg": "RS256", "typ": "JWT", "kid": current.kid}


def test_the_jwks_publishes_public_halves_only(live: Live) -> None:
    keys = published(live)["keys"]
    assert [key["kid"] for key in keys] == [key.kid for key in live.store.signing_keys.list()]
    for key in keys:
        assert set(key) == JWK_MEMBERS
        assert (key["kty"], key["alg"], key["use"], key["e"]) == ("RSA", "RS256", "sig", "AQAB")
        modulus = base64.urlsafe_b64decode(key["n"] + "=" * (-len(key["n"]) % 4))
        assert len(modulus) * 8 == 2048


def test_the_discovery_documents(live: Live) -> None:
    base = live.base_url
    expected = {
        "issuer": base + "/",
        "token_endpoint": base + "/oauth/token",
        "jwks_uri": base + "/.well-known/jwks.json",
        "grant_types_supported": ["client_credentials"],
        "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
        "dpop_signing_alg_values_supported": [
            *("RS256", "RS384", "RS512", "PS256", "PS384", "PS512"),
            *("ES256", "ES384", "ES512", "EdDSA"),
        ],
    }
    for path in ("/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"):
        response = httpx.get(base + path)
        assert response.status_code == 200
        assert response.headers["cache-control"] == CACHE
        assert response.headers["content-type"] == "application/json"
        assert response.json() == expected


def test_rotation_keeps_old_tokens_verifying_until_the_key_is_revoked(
    live: Live, mgmt: httpx.Client, rs256: tuple[str, str]
) -> None:
    before = mgmt.get("/api/v2/keys/signing").json()
    old_kid, next_kid = kids(before, "current"), kids(before, "next")
    assert len(old_kid) == 1
    assert len(next_kid) == 1
    old_token = token_for(live, *rs256)
    assert jwt.get_unverified_header(old_token)["kid"] == old_kid[0]

    rotated = mgmt.post("/api/v2/keys/signing/rotate")
    assert rotated.status_code == 200
    assert set(rotated.json()) == {"cert", "kid"}
    assert rotated.json()["kid"] == next_kid[0]
    new_token = token_for(live, *rs256)
    assert jwt.get_unverified_header(new_token)["kid"] == next_kid[0]
    jwks = published(live)
    assert decode(old_token, jwks, live)["aud"] == API
    assert decode(new_token, jwks, live)["aud"] == API
    after = mgmt.get("/api/v2/keys/signing").json()
    assert kids(after, "previous") == old_kid
    assert kids(after, "current") == next_kid
    assert len(kids(after, "next")) == 1
    assert kids(after, "next") != next_kid

    revoked = mgmt.put(f"/api/v2/keys/signing/{old_kid[0]}/revoke")
    assert revoked.status_code == 200
    assert revoked.json() == {"cert": before[0]["cert"], "kid": old_kid[0]}
    jwks = published(live)
    assert old_kid[0] not in [key["kid"] for key in jwks["keys"]]
    with pytest.raises(KeyError):
        decode(old_token, jwks, live)
    assert decode(new_token, jwks, live)["aud"] == API
    listed = mgmt.get(f"/api/v2/keys/signing/{old_kid[0]}").json()
    assert listed["revoked"] is True
    assert "previous" not in listed
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", listed["revoked_at"])
    # revoking again changes nothing
    again = mgmt.put(f"/api/v2/keys/signing/{old_kid[0]}/revoke")
    assert (again.status_code, again.json()) == (200, revoked.json())
    assert mgmt.get(f"/api/v2/keys/signing/{old_kid[0]}").json() == listed


def test_the_signing_key_objects_are_auth0s(mgmt: httpx.Client) -> None:
    keys = mgmt.get("/api/v2/keys/signing").json()
    assert [set(key) for key in keys] == [
        {"kid", "cert", "pkcs7", "fingerprint", "thumbprint", "current", "current_since"},
        {"kid", "cert", "pkcs7", "fingerprint", "thumbprint", "next"},
    ]
    for key in keys:
        cert = x509.load_pem_x509_certificate(key["cert"].encode())
        digest = cert.fingerprint(hashes.SHA1()).hex().upper()  # noqa: S303
        assert key["thumbprint"] == digest
        assert key["fingerprint"] == ":".join(re.findall("..", digest))
        assert key["pkcs7"].startswith("-----BEGIN PKCS7-----")
        assert "PRIVATE" not in json.dumps(key)
        assert mgmt.get(f"/api/v2/keys/signing/{key['kid']}").json() == key


def _body(status: int, error: str, message: str, code: str) -> dict[str, Any]:
    return {"statusCode": status, "error": error, "message": message, "errorCode": code}


@pytest.mark.parametrize(
    ("which", "status", "body"),
    [
        pytest.param(
            "current",
            400,
            _body(
                400,
                "Bad Request",
                "The current signing key cannot be revoked; rotate the keys first, "
                "then revoke the previous key.",
                "operation_not_supported",
            ),
            id="current",
        ),
        pytest.param(
            "next",
            400,
            _body(
                400,
                "Bad Request",
                "The next signing key cannot be revoked; rotate the keys first, "
                "then revoke the previous key.",
                "operation_not_supported",
            ),
            id="next",
        ),
        pytest.param(
            None,
            404,
            _body(404, "Not Found", "The signing key does not exist.", "inexistent_signing_key"),
            id="unknown",
        ),
    ],
)
def test_refused_revocations(
    live: Live, mgmt: httpx.Client, which: str | None, status: int, body: dict[str, Any]
) -> None:
    keys = mgmt.get("/api/v2/keys/signing").json()
    kid = kids(keys, which)[0] if which else "no-such-kid"
    response = mgmt.put(f"/api/v2/keys/signing/{kid}/revoke")
    assert (response.status_code, response.json()) == (status, body)
    assert mgmt.get("/api/v2/keys/signing").json() == keys
    assert len(published(live)["keys"]) == 2


def test_an_unknown_kid_is_404(mgmt: httpx.Client) -> None:
    response = mgmt.get("/api/v2/keys/signing/no-such-kid")
    assert (response.status_code, response.json()) == (
        404,
        _body(404, "Not Found", "The signing key does not exist.", "inexistent_signing_key"),
    )


@pytest.mark.parametrize(
    ("method", "path", "scope"),
    [
        pytest.param("GET", "/api/v2/keys/signing", "read:signing_keys", id="list"),
        pytest.param("POST", "/api/v2/keys/signing/rotate", "create:signing_keys", id="rotate"),
        pytest.param("PUT", "/api/v2/keys/signing/x/revoke", "update:signing_keys", id="revoke"),
    ],
)
def test_each_route_needs_its_scope(
    live: Live, mgmt: httpx.Client, method: str, path: str, scope: str
) -> None:
    assert scope in MANAGEMENT_SCOPES
    weak = mgmt.post("/api/v2/clients", json={"name": "weak"}).json()
    grant = {"client_id": weak["client_id"], "audience": live.audience, "scope": ["read:clients"]}
    assert mgmt.post("/api/v2/client-grants", json=grant).status_code == 201
    with httpx.Client(base_url=live.base_url) as http:
        token = management_token(http, live, weak["client_id"], weak["client_secret"])
        response = http.request(method, path, headers=bearer(token))
        anonymous = http.request(method, path)
    assert response.status_code == 403
    assert response.json() == _body(
        403, "Forbidden", f"Insufficient scope, expected any of: {scope}", "insufficient_scope"
    )
    assert f'scope="{scope}"' in response.headers["www-authenticate"]
    assert anonymous.status_code == 401
    assert len(published(live)["keys"]) == 2


def test_switching_an_api_to_hs256_and_back(live: Live, mgmt: httpx.Client) -> None:
    api, client_id, secret = register(mgmt, {"identifier": API})
    hs = mgmt.patch(f"/api/v2/resource-servers/{api['id']}", json={"signing_alg": "HS256"})
    assert hs.json()["signing_alg"] == "HS256"
    token = token_for(live, client_id, secret)
    assert jwt.get_unverified_header(token) == {"alg": "HS256", "typ": "JWT"}
    claims = jwt.decode(token, hs.json()["signing_secret"], algorithms=["HS256"], audience=API)
    assert claims["aud"] == API
    rs = mgmt.patch(f"/api/v2/resource-servers/{api['id']}", json={"signing_alg": "RS256"})
    assert "signing_secret" not in rs.json()
    token = token_for(live, client_id, secret)
    assert decode(token, published(live), live)["aud"] == API


def test_rotation_is_seen_by_another_instance_on_the_same_file(tmp_path: Path) -> None:
    db = str(tmp_path / "shared.db")
    with (
        serve_db(db) as first,
        # Instances sharing a file share a base URL; this one listens on another port.
        serve(lambda _: create_app(first.base_url, db)) as second,
        management_client(first) as mgmt,
    ):
        kid = mgmt.post("/api/v2/keys/signing/rotate").json()["kid"]
        assert kid in [key["kid"] for key in published(second)["keys"]]
        current = second.store.signing_keys.current()
        assert current is not None
        assert current.kid == kid


def test_a_version_2_database_gets_signing_keys_and_their_scopes(tmp_path: Path) -> None:
    db = str(tmp_path / "v2.db")
    with serve_db(db) as live:
        client_id = live.bootstrap.client_id
        secret = live.bootstrap.client_secret
    # What version 2 left: no signing_keys table, a grant without the new scopes.
    old_scopes = [scope for scope in MANAGEMENT_SCOPES if "signing_keys" not in scope]
    with sqlite3.connect(db) as conn:
        conn.execute("DROP TABLE signing_keys")
        conn.execute("ALTER TABLE resource_servers DROP COLUMN proof_of_possession")  # version 4's
        conn.execute("UPDATE client_grants SET scope = ?", (json.dumps(old_scopes),))
        conn.execute("PRAGMA user_version = 2")
    conn.close()
    with serve_db(db) as live, httpx.Client(base_url=live.base_url) as http:
        assert client_id is not None
        assert secret is not None
        token = management_token(http, live, client_id, secret)
        assert set(jwt.decode(token, options={"verify_signature": False})["scope"].split()) == set(
            MANAGEMENT_SCOPES
        )
        keys = http.get("/api/v2/keys/signing", headers=bearer(token))
        assert keys.status_code == 200
        assert [len(kids(keys.json(), flag)) for flag in ("current", "next")] == [1, 1]
        with live.store.db.read() as read:
            assert read.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


@pytest.mark.parametrize(
    ("method", "path"),
    [
        pytest.param("GET", "/api/v2/keys/signing?page=0", id="list"),
        pytest.param("POST", "/api/v2/keys/signing/rotate?dry_run=true", id="rotate"),
        pytest.param("PUT", "/api/v2/keys/signing/kid/revoke?force=1", id="revoke"),
    ],
)
def test_query_parameters_are_refused_before_any_write(
    live: Live, mgmt: httpx.Client, method: str, path: str
) -> None:
    keys = mgmt.get("/api/v2/keys/signing").json()
    response = mgmt.request(method, path)
    assert response.status_code == 400
    assert response.json()["errorCode"] == "invalid_query_string"
    assert response.json()["message"].startswith(
        "Query validation error: 'Additional properties not allowed: "
    )
    assert mgmt.get("/api/v2/keys/signing").json() == keys


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        pytest.param("POST", "/.well-known/jwks.json", "GET, HEAD", id="jwks"),
        pytest.param("PUT", "/.well-known/openid-configuration", "GET, HEAD", id="openid"),
        pytest.param(
            "DELETE", "/.well-known/oauth-authorization-server", "GET, HEAD", id="rfc8414"
        ),
        pytest.param("POST", "/api/v2/keys/signing", "GET, HEAD", id="keys"),
    ],
)
def test_other_methods_are_405_with_allow(
    live: Live, mgmt: httpx.Client, method: str, path: str, allow: str
) -> None:
    response = mgmt.request(method, path, content=b"junk")
    # Starlette keeps a route's methods in a set: their order in Allow varies by process.
    methods = {method.strip() for method in response.headers["allow"].split(",")}
    assert (response.status_code, methods) == (405, set(allow.split(", ")))
    assert response.json()["errorCode"] == "method_not_allowed"
