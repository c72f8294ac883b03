"""The Management API: scopegate's 401/403, Auth0-style errors, and each resource's rules."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from authserver.harness import Live, bearer, counts, management_token
from scopegate.authserver import MANAGEMENT_SCOPES

NO_TOKEN = 'Bearer realm="api"'


def error(status: int, code: str, message: str) -> dict[str, Any]:
    phrases = {
        400: "Bad Request",
        404: "Not Found",
        409: "Conflict",
        413: "Request Entity Too Large",
    }
    phrases[415] = "Unsupported Media Type"
    return {"statusCode": status, "error": phrases[status], "message": message, "errorCode": code}


def new_api(mgmt: httpx.Client, *scopes: str) -> dict[str, Any]:
    identifier = f"urn:api:{uuid.uuid4().hex}"
    body = {"identifier": identifier, "scopes": [{"value": scope} for scope in scopes]}
    response = mgmt.post("/api/v2/resource-servers", json=body)
    assert response.status_code == 201, response.text
    api: dict[str, Any] = response.json()
    return api


def new_client(mgmt: httpx.Client) -> dict[str, Any]:
    response = mgmt.post("/api/v2/clients", json={"name": "test client"})
    assert response.status_code == 201, response.text
    client: dict[str, Any] = response.json()
    return client


# -- authentication and scopes: scopegate's own answers ----------------------

ROUTES = [
    ("POST", "/api/v2/resource-servers", "create:resource_servers"),
    ("GET", "/api/v2/resource-servers", "read:resource_servers"),
    ("GET", "/api/v2/resource-servers/urn:x", "read:resource_servers"),
    ("PATCH", "/api/v2/resource-servers/urn:x", "update:resource_servers"),
    ("DELETE", "/api/v2/resource-servers/urn:x", "delete:resource_servers"),
    ("POST", "/api/v2/clients", "create:clients"),
    ("GET", "/api/v2/clients", "read:clients"),
    ("GET", "/api/v2/clients/abc", "read:clients"),
    ("PATCH", "/api/v2/clients/abc", "update:clients"),
    ("DELETE", "/api/v2/clients/abc", "delete:clients"),
    ("POST", "/api/v2/client-grants", "create:client_grants"),
    ("GET", "/api/v2/client-grants", "read:client_grants"),
    ("GET", "/api/v2/client-grants/cgr_x", "read:client_grants"),
    ("PATCH", "/api/v2/client-grants/cgr_x", "update:client_grants"),
    ("DELETE", "/api/v2/client-grants/cgr_x", "delete:client_grants"),
]


@pytest.mark.parametrize(
    ("method", "path", "scope"), ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES]
)
def test_without_a_token_is_401(http: httpx.Client, method: str, path: str, scope: str) -> None:
    response = http.request(method, path, json={})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == NO_TOKEN
    # Auth0's body (the error_renderer hook); RFC 6750's status and challenge.
    assert response.json() == {
        "statusCode": 401,
        "error": "Unauthorized",
        "message": "Missing authentication",
        "errorCode": "missing_token",
    }


@pytest.fixture(scope="module")
def scopeless_token(live: Live, mgmt: httpx.Client) -> str:
    """A valid Management API token granting no scope at all."""
    client = new_client(mgmt)
    grant = {"client_id": client["client_id"], "audience": live.audience, "scope": []}
    assert mgmt.post("/api/v2/client-grants", json=grant).status_code == 201
    with httpx.Client(base_url=live.base_url) as http:
        return management_token(http, live, client["client_id"], client["client_secret"])


@pytest.mark.parametrize(
    ("method", "path", "scope"), ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES]
)
def test_without_the_scope_is_403(
    http: httpx.Client, scopeless_token: str, method: str, path: str, scope: str
) -> None:
    response = http.request(method, path, json={}, headers=bearer(scopeless_token))
    assert response.status_code == 403
    assert response.headers["www-authenticate"] == (
        'Bearer realm="api", error="insufficient_scope", '
        'error_description="The access token lacks the scopes this resource requires", '
        f'scope="{scope}"'
    )
    assert response.json() == {
        "statusCode": 403,
        "error": "Forbidden",
        "message": f"Insufficient scope, expected any of: {scope}",
        "errorCode": "insufficient_scope",
    }


def test_a_token_for_another_api_is_401_invalid_token(
    http: httpx.Client, sample: dict[str, Any]
) -> None:
    client = sample["client"]
    form = {
        "grant_type": "client_credentials",
        "client_id": client["client_id"],
        "client_secret": client["client_secret"],
        "audience": "https://my-api-urn",
    }
    token = http.post("/oauth/token", data=form).json()["access_token"]
    response = http.get("/api/v2/clients", headers=bearer(token))
    assert response.status_code == 401
    assert response.json() == {
        "statusCode": 401,
        "error": "Unauthorized",
        "message": "The access token signature is invalid",
        "errorCode": "invalid_token",
    }
    assert response.headers["www-authenticate"] == (
        'Bearer realm="api", error="invalid_token", '
        'error_description="The access token signature is invalid"'
    )


def test_unknown_route_is_404_json(mgmt: httpx.Client) -> None:
    response = mgmt.get("/api/v2/users")
    assert response.status_code == 404
    assert response.json() == {
        "statusCode": 404,
        "error": "Not Found",
        "message": "Not Found",
        "errorCode": "not_found",
    }


# -- resource servers --------------------------------------------------------


def test_the_management_api_is_listed_without_its_secret(live: Live, mgmt: httpx.Client) -> None:
    servers = mgmt.get("/api/v2/resource-servers").json()
    system = next(server for server in servers if server.get("is_system"))
    assert system["identifier"] == live.audience
    assert "signing_secret" not in system
    assert [scope["value"] for scope in system["scopes"]] == list(MANAGEMENT_SCOPES)


@pytest.mark.parametrize("method", ["PATCH", "DELETE"])
def test_the_management_api_cannot_be_changed(live: Live, mgmt: httpx.Client, method: str) -> None:
    response = mgmt.request(
        method, f"/api/v2/resource-servers/{live.audience}", json={"name": "mine"}
    )
    assert response.status_code == 400
    assert response.json() == error(
        400,
        "operation_not_supported",
        "The Management API resource server cannot be changed.",
    )


def test_get_by_id_or_identifier(mgmt: httpx.Client) -> None:
    api = new_api(mgmt, "a")
    by_id = mgmt.get(f"/api/v2/resource-servers/{api['id']}")
    encoded = api["identifier"].replace(":", "%3A")
    by_identifier = mgmt.get(f"/api/v2/resource-servers/{encoded}")
    assert by_id.status_code == by_identifier.status_code == 200
    assert by_id.json() == by_identifier.json() == api


def test_duplicate_identifier_is_409(mgmt: httpx.Client) -> None:
    api = new_api(mgmt)
    response = mgmt.post("/api/v2/resource-servers", json={"identifier": api["identifier"]})
    assert response.status_code == 409
    assert response.json() == error(
        409, "conflict", "A resource server with the same identifier already exists."
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        pytest.param(
            {"name": "x"},
            "Payload validation error: 'Missing required property: identifier'.",
            id="no-identifier",
        ),
        pytest.param(
            {"identifier": "my-api"},
            "Payload validation error: 'must be an absolute URI, such as https://my-api-urn' "
            "on property identifier.",
            id="relative",
        ),
        pytest.param(
            {"identifier": "https://a b"},
            "Payload validation error: 'must be an absolute URI, such as https://my-api-urn' "
            "on property identifier.",
            id="space",
        ),
        pytest.param(
            {"identifier": "https://api#frag"},
            "Payload validation error: 'must be an absolute URI, such as https://my-api-urn' "
            "on property identifier.",
            id="fragment",
        ),
        pytest.param(
            {"identifier": "urn:x", "signing_alg": "PS256"},
            "Payload validation error: 'this server signs tokens with RS256 or HS256 only' on "
            "property signing_alg.",
            id="ps256",
        ),
        pytest.param(
            {"identifier": "urn:x", "token_lifetime": "60"},
            "Payload validation error: 'Input should be a valid integer' on property "
            "token_lifetime.",
            id="lifetime-string",
        ),
        pytest.param(
            {"identifier": "urn:x", "token_lifetime": 0},
            "Payload validation error: 'Input should be greater than or equal to 1' on property "
            "token_lifetime.",
            id="lifetime-zero",
        ),
        pytest.param(
            {"identifier": "urn:x", "scopes": [{"value": "a b"}]},
            "Payload validation error: 'must be a scope token (printable ASCII; no spaces, "
            "quotes or backslashes)' on property scopes.0.value.",
            id="scope-with-space",
        ),
        pytest.param(
            {"identifier": "urn:x", "scopes": [{"value": "a"}, {"value": "a"}]},
            "Payload validation error: 'a scope appears twice' on property scopes.",
            id="scope-twice",
        ),
        pytest.param(
            {"identifier": "urn:x", "signing_secret": "short"},
            "Payload validation error: 'String should have at least 32 characters' on "
            "property signing_secret.",
            id="weak-secret",
        ),
        pytest.param(
            {"identifier": "urn:x", "name": "<b>"},
            "Payload validation error: 'must not contain '<' or '>'' on property name.",
            id="name-markup",
        ),
        pytest.param(
            {"identifier": "urn:x", "extra": 1},
            "Payload validation error: 'Additional properties not allowed: extra'.",
            id="extra",
        ),
    ],
)
def test_invalid_resource_server_is_400(
    live: Live, mgmt: httpx.Client, body: dict[str, Any], message: str
) -> None:
    before = counts(live.store)
    response = mgmt.post("/api/v2/resource-servers", json=body)
    assert response.status_code == 400
    assert response.json() == error(400, "invalid_body", message)
    assert counts(live.store) == before


def test_identifier_can_never_change(mgmt: httpx.Client) -> None:
    api = new_api(mgmt, "a")
    response = mgmt.patch(
        f"/api/v2/resource-servers/{api['id']}", json={"identifier": "urn:other", "name": "n"}
    )
    assert response.status_code == 400
    assert response.json() == error(
        400,
        "invalid_body",
        "Payload validation error: 'Additional properties not allowed: identifier'.",
    )
    assert mgmt.get(f"/api/v2/resource-servers/{api['id']}").json() == api


def test_patch_changes_scopes_name_and_lifetime(mgmt: httpx.Client) -> None:
    api = new_api(mgmt, "a")
    changes = {"name": "Renamed", "scopes": [{"value": "b", "description": "B"}]}
    response = mgmt.patch(f"/api/v2/resource-servers/{api['id']}", json=changes)
    assert response.status_code == 200
    expected = {**api, **changes}
    assert response.json() == expected
    response = mgmt.patch(f"/api/v2/resource-servers/{api['id']}", json={"token_lifetime": 60})
    assert response.json() == {**expected, "token_lifetime": 60}


def test_delete_resource_server_removes_its_grants(live: Live, mgmt: httpx.Client) -> None:
    api = new_api(mgmt, "a")
    client = new_client(mgmt)
    body = {"client_id": client["client_id"], "audience": api["identifier"], "scope": ["a"]}
    assert mgmt.post("/api/v2/client-grants", json=body).status_code == 201
    assert mgmt.delete(f"/api/v2/resource-servers/{api['id']}").status_code == 204
    response = mgmt.get(f"/api/v2/resource-servers/{api['id']}")
    assert response.status_code == 404
    assert response.json() == error(
        404, "inexistent_resource_server", "The resource server does not exist."
    )
    assert mgmt.get("/api/v2/client-grants", params={"audience": api["identifier"]}).json() == []
    assert mgmt.delete(f"/api/v2/resource-servers/{api['id']}").status_code == 404


# -- clients -----------------------------------------------------------------


def test_client_lifecycle(mgmt: httpx.Client) -> None:
    client = new_client(mgmt)
    client_id = client["client_id"]
    shown = mgmt.get(f"/api/v2/clients/{client_id}").json()
    assert shown == {k: v for k, v in client.items() if k != "client_secret"}
    assert any(item["client_id"] == client_id for item in mgmt.get("/api/v2/clients").json())
    patched = mgmt.patch(f"/api/v2/clients/{client_id}", json={"description": "d"})
    assert patched.json() == {**shown, "description": "d"}
    assert mgmt.delete(f"/api/v2/clients/{client_id}").status_code == 204
    response = mgmt.get(f"/api/v2/clients/{client_id}")
    assert response.status_code == 404
    assert response.json() == error(404, "inexistent_client", "The client does not exist.")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        pytest.param(
            {}, "Payload validation error: 'Missing required property: name'.", id="no-name"
        ),
        pytest.param(
            {"name": "x", "app_type": "spa"},
            "Payload validation error: 'this server has machine-to-machine clients only: "
            "app_type must be non_interactive' on property app_type.",
            id="spa",
        ),
        pytest.param(
            {"name": "x", "client_secret": "mine"},
            "Payload validation error: 'Additional properties not allowed: client_secret'.",
            id="own-secret",
        ),
    ],
)
def test_invalid_client_is_400(
    live: Live, mgmt: httpx.Client, body: dict[str, Any], message: str
) -> None:
    before = counts(live.store)
    response = mgmt.post("/api/v2/clients", json=body)
    assert response.status_code == 400
    assert response.json() == error(400, "invalid_body", message)
    assert counts(live.store) == before


# -- client grants -----------------------------------------------------------


def test_grant_rules(live: Live, mgmt: httpx.Client) -> None:
    api = new_api(mgmt, "read", "write")
    client = new_client(mgmt)
    audience = api["identifier"]
    body = {"client_id": client["client_id"], "audience": audience, "scope": ["read"]}
    before = counts(live.store)

    outside = mgmt.post("/api/v2/client-grants", json={**body, "scope": ["read", "admin"]})
    assert outside.status_code == 400
    assert outside.json() == error(
        400,
        "invalid_scope",
        f"The scope 'admin' is not defined by the resource server '{audience}'.",
    )
    unknown_client = mgmt.post("/api/v2/client-grants", json={**body, "client_id": "nobody"})
    assert unknown_client.status_code == 404
    assert unknown_client.json()["errorCode"] == "inexistent_client"
    unknown_api = mgmt.post("/api/v2/client-grants", json={**body, "audience": "urn:nowhere"})
    assert unknown_api.status_code == 404
    assert unknown_api.json()["errorCode"] == "inexistent_resource_server"
    assert counts(live.store) == before

    created = mgmt.post("/api/v2/client-grants", json=body)
    assert created.status_code == 201
    again = mgmt.post("/api/v2/client-grants", json={**body, "scope": ["write"]})
    assert again.status_code == 409
    assert again.json() == error(
        409, "conflict", "A client grant for this client_id and audience already exists."
    )
    grant = created.json()

    by_audience = mgmt.get("/api/v2/client-grants", params={"audience": audience}).json()
    by_client = mgmt.get("/api/v2/client-grants", params={"client_id": client["client_id"]})
    assert by_audience == by_client.json() == [grant]

    patched = mgmt.patch(f"/api/v2/client-grants/{grant['id']}", json={"scope": ["read", "write"]})
    assert patched.json() == {**grant, "scope": ["read", "write"]}
    bad = mgmt.patch(f"/api/v2/client-grants/{grant['id']}", json={"scope": ["nope"]})
    assert bad.status_code == 400
    assert bad.json()["errorCode"] == "invalid_scope"
    with_audience = mgmt.patch(
        f"/api/v2/client-grants/{grant['id']}", json={"scope": [], "audience": "urn:x"}
    )
    assert with_audience.status_code == 400

    assert mgmt.delete(f"/api/v2/client-grants/{grant['id']}").status_code == 204
    missing = mgmt.delete(f"/api/v2/client-grants/{grant['id']}")
    assert missing.status_code == 404
    assert missing.json() == error(
        404, "inexistent_client_grant", "The client grant does not exist."
    )


def test_deleting_a_client_removes_its_grants(mgmt: httpx.Client) -> None:
    api = new_api(mgmt, "a")
    client = new_client(mgmt)
    body = {"client_id": client["client_id"], "audience": api["identifier"], "scope": ["a"]}
    assert mgmt.post("/api/v2/client-grants", json=body).status_code == 201
    assert mgmt.delete(f"/api/v2/clients/{client['client_id']}").status_code == 204
    assert mgmt.get("/api/v2/client-grants", params={"audience": api["identifier"]}).json() == []


# -- lists and bodies --------------------------------------------------------


def test_paging_and_totals(mgmt: httpx.Client) -> None:
    for _ in range(3):
        new_api(mgmt)
    everything = mgmt.get("/api/v2/resource-servers", params={"per_page": 100}).json()
    page = mgmt.get(
        "/api/v2/resource-servers", params={"page": 1, "per_page": 2, "include_totals": "true"}
    ).json()
    assert page == {
        "resource_servers": everything[2:4],
        "start": 2,
        "limit": 2,
        "total": len(everything),
    }


@pytest.mark.parametrize(
    ("params", "message"),
    [
        pytest.param(
            {"per_page": "0"}, "'per_page' must be an integer from 1 to 100.", id="per-page-0"
        ),
        pytest.param({"page": "-1"}, "'page' must be an integer from 0 to 1000000.", id="page"),
        pytest.param(
            {"page": "9" * 5000}, "'page' must be an integer from 0 to 1000000.", id="huge-page"
        ),
        pytest.param(
            {"include_totals": "yes"}, "'include_totals' must be true or false.", id="totals"
        ),
        pytest.param(
            {"audiense": "x"}, "'Additional properties not allowed: audiense'.", id="typo"
        ),
    ],
)
def test_bad_query_is_400(mgmt: httpx.Client, params: dict[str, str], message: str) -> None:
    response = mgmt.get("/api/v2/client-grants", params=params)
    assert response.status_code == 400
    assert response.json() == error(
        400, "invalid_query_string", f"Query validation error: {message}"
    )


@pytest.mark.parametrize(
    ("content", "content_type", "status", "code", "message"),
    [
        pytest.param(
            b"{",
            "application/json",
            400,
            "invalid_body",
            "Invalid request payload JSON format.",
            id="truncated",
        ),
        pytest.param(
            b'{"name": NaN}',
            "application/json",
            400,
            "invalid_body",
            "Invalid request payload JSON format.",
            id="nan",
        ),
        pytest.param(
            b'{"name": "\\ud800"}',
            "application/json",
            400,
            "invalid_body",
            "Invalid request payload JSON format.",
            id="lone-surrogate",
        ),
        pytest.param(
            b"[" * 100_000,
            "application/json",
            413,
            "payload_too_large",
            "The request body is too large.",
            id="too-large",
        ),
        pytest.param(
            b"[" * 50_000,
            "application/json",
            400,
            "invalid_body",
            "Invalid request payload JSON format.",
            id="deep",
        ),
        pytest.param(
            b"[]",
            "application/json",
            400,
            "invalid_body",
            "Payload validation error: 'Expected type object'.",
            id="array",
        ),
        pytest.param(
            b"name=x",
            "application/x-www-form-urlencoded",
            415,
            "unsupported_media_type",
            "The request body must be application/json.",
            id="form",
        ),
    ],
)
def test_bad_bodies(
    live: Live,
    mgmt: httpx.Client,
    content: bytes,
    content_type: str,
    status: int,
    code: str,
    message: str,
) -> None:
    before = counts(live.store)
    response = mgmt.post("/api/v2/clients", content=content, headers={"Content-Type": content_type})
    assert response.status_code == status
    assert response.json() == error(status, code, message)
    assert counts(live.store) == before


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        ("/api/v2/clients", {"GET", "HEAD", "POST"}),
        ("/api/v2/client-grants/cgr_x", {"GET", "HEAD", "PATCH", "DELETE"}),
        ("/api/v2/resource-servers/urn:x", {"GET", "HEAD", "PATCH", "DELETE"}),
    ],
)
def test_wrong_method_is_405_listing_every_allowed_one(
    mgmt: httpx.Client, path: str, allowed: set[str]
) -> None:
    response = mgmt.put(path, json={})
    assert response.status_code == 405
    assert set(response.headers["allow"].split(", ")) == allowed
    assert response.json()["errorCode"] == "method_not_allowed"
