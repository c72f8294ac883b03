"""What Auth0's SDKs send: documented query parameters and body fields, GET of one grant.

auth0-python 6.8 and npm ``auth0`` 7.1 list client grants with ``take`` (and
``include_totals``) every time; 4.13 sends ``include_fields`` with every
client list. Each was a 400 before.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from authserver.harness import Live


def error(status: int, code: str, message: str) -> dict[str, Any]:
    phrase = {400: "Bad Request", 404: "Not Found"}[status]
    return {"statusCode": status, "error": phrase, "message": message, "errorCode": code}


def query_error(message: str) -> dict[str, Any]:
    return error(400, "invalid_query_string", f"Query validation error: {message}")


def body_error(message: str) -> dict[str, Any]:
    return error(400, "invalid_body", f"Payload validation error: {message}")


@pytest.fixture(scope="module")
def grants(live: Live, mgmt: httpx.Client) -> list[dict[str, Any]]:
    """Five grants of five new clients for one new API, in creation order."""
    identifier = f"urn:listed:{uuid.uuid4().hex}"
    api = {"identifier": identifier, "scopes": [{"value": "a"}]}
    assert mgmt.post("/api/v2/resource-servers", json=api).status_code == 201
    made = []
    for number in range(5):
        client = mgmt.post("/api/v2/clients", json={"name": f"listed {number}"}).json()
        body = {"client_id": client["client_id"], "audience": identifier, "scope": ["a"]}
        response = mgmt.post("/api/v2/client-grants", json=body)
        assert response.status_code == 201
        made.append(response.json())
    return made


# -- client grants: checkpoints, filters, one by id ---------------------------------


def test_checkpoint_pages_with_from_and_take(
    mgmt: httpx.Client, grants: list[dict[str, Any]]
) -> None:
    audience = grants[0]["audience"]
    params: dict[str, Any] = {"audience": audience, "take": 2, "include_totals": "true"}
    seen, pages = [], []
    while True:
        body = mgmt.get("/api/v2/client-grants", params=params).json()
        pages.append(len(body["client_grants"]))
        seen += body["client_grants"]
        if "next" not in body:
            break
        params["from"] = body["next"]
    assert pages == [2, 2, 1]
    assert seen == grants
    # Without include_totals a checkpoint page is a bare array.
    first = mgmt.get("/api/v2/client-grants", params={"audience": audience, "take": 3}).json()
    assert first == grants[:3]


@pytest.mark.parametrize(
    ("params", "matches"),
    [
        pytest.param({"allow_any_organization": "false"}, True, id="any-org-false"),
        pytest.param({"allow_any_organization": "true"}, False, id="any-org-true"),
        pytest.param({"subject_type": "client"}, True, id="subject-client"),
        pytest.param({"subject_type": "user"}, False, id="subject-user"),
        pytest.param({"default_for": "third_party_clients"}, False, id="default-for"),
    ],
)
def test_grant_filters_auth0_documents(
    mgmt: httpx.Client, grants: list[dict[str, Any]], params: dict[str, str], matches: bool
) -> None:
    query = {"audience": grants[0]["audience"], **params}
    listed = mgmt.get("/api/v2/client-grants", params=query)
    assert listed.status_code == 200, listed.text
    assert listed.json() == (grants if matches else [])


def test_grant_filter_by_client_id(mgmt: httpx.Client, grants: list[dict[str, Any]]) -> None:
    listed = mgmt.get("/api/v2/client-grants", params={"client_id": grants[2]["client_id"]})
    assert listed.json() == [grants[2]]


def test_get_one_client_grant(mgmt: httpx.Client, grants: list[dict[str, Any]]) -> None:
    response = mgmt.get(f"/api/v2/client-grants/{grants[1]['id']}")
    assert response.status_code == 200
    assert response.json() == grants[1]
    missing = mgmt.get("/api/v2/client-grants/cgr_doesnotexist00")
    assert missing.status_code == 404
    assert missing.json() == error(
        404, "inexistent_client_grant", "The client grant does not exist."
    )


@pytest.mark.parametrize(
    ("path", "params", "message"),
    [
        pytest.param(
            "/api/v2/client-grants",
            {"page": "0", "take": "2"},
            "use 'page' and 'per_page', or 'from' and 'take', not both.",
            id="page-and-take",
        ),
        pytest.param(
            "/api/v2/client-grants",
            {"take": "101"},
            "'take' must be an integer from 1 to 100.",
            id="take-too-big",
        ),
        pytest.param(
            "/api/v2/client-grants",
            {"subject_type": "robot"},
            "'subject_type' must be client or user.",
            id="subject-type",
        ),
        pytest.param(
            "/api/v2/clients",
            {"q": "name:x"},
            "'q' is not supported here: this server has no search; filter with app_type or "
            "is_first_party.",
            id="lucene",
        ),
        pytest.param(
            "/api/v2/clients",
            {"takee": "1"},
            "'Additional properties not allowed: takee'.",
            id="unknown",
        ),
        pytest.param(
            "/api/v2/resource-servers",
            {"take": "1"},
            "'Additional properties not allowed: take'.",
            id="no-checkpoints-on-apis",
        ),
        pytest.param(
            "/api/v2/clients",
            {"include_fields": "maybe"},
            "'include_fields' must be true or false.",
            id="include-fields",
        ),
        pytest.param(
            "/api/v2/client-grants/cgr_x",
            {"per_page": "1"},
            "'Additional properties not allowed: per_page'.",
            id="get-one-takes-none",
        ),
    ],
)
def test_bad_list_parameters_are_400(
    mgmt: httpx.Client, path: str, params: dict[str, str], message: str
) -> None:
    response = mgmt.get(path, params=params)
    assert response.status_code == 400
    assert response.json() == query_error(message)


# -- resource servers: identifiers, field selection ----------------------------------


def test_identifiers_filter_and_field_selection(mgmt: httpx.Client) -> None:
    made = []
    for _ in range(3):
        body = {"identifier": f"urn:ids:{uuid.uuid4().hex}", "name": "ids"}
        made.append(mgmt.post("/api/v2/resource-servers", json=body).json())
    wanted = [made[0]["identifier"], made[2]["identifier"]]
    query = [("identifiers", wanted[0]), ("identifiers", wanted[1]), ("include_totals", "true")]
    listed = mgmt.get("/api/v2/resource-servers", params=query).json()
    assert listed == {"resource_servers": [made[0], made[2]], "start": 0, "limit": 50, "total": 2}
    picked = mgmt.get(
        "/api/v2/resource-servers",
        params=[
            ("identifiers", wanted[0]),
            ("fields", "id,identifier"),
            ("include_fields", "true"),
        ],
    ).json()
    assert picked == [{"id": made[0]["id"], "identifier": wanted[0]}]
    dropped = mgmt.get(
        f"/api/v2/resource-servers/{made[1]['id']}",
        params={"fields": "signing_secret", "include_fields": "false"},
    ).json()
    assert dropped == {k: v for k, v in made[1].items() if k != "signing_secret"}


def test_clients_list_filters_and_fields(mgmt: httpx.Client) -> None:
    third = mgmt.post("/api/v2/clients", json={"name": "third party", "is_first_party": False})
    assert third.status_code == 201, third.text
    client_id = third.json()["client_id"]
    listed = mgmt.get(
        "/api/v2/clients",
        params={
            "is_first_party": "false",
            "app_type": "non_interactive,spa",
            "is_global": "false",
            "fields": "client_id,is_first_party",
            "include_fields": "true",
            "per_page": "100",
        },
    ).json()
    assert listed == [{"client_id": client_id, "is_first_party": False}]
    assert mgmt.get("/api/v2/clients", params={"is_global": "true"}).json() == []
    one = mgmt.get(f"/api/v2/clients/{client_id}", params={"fields": "name"}).json()
    assert one == {"name": "third party"}


# -- documented body fields -----------------------------------------------------------


def test_client_fields_are_stored_and_returned(mgmt: httpx.Client) -> None:
    body = {
        "name": "scripted",
        "app_type": "non_interactive",
        "grant_types": ["client_credentials"],
        "token_endpoint_auth_method": "client_secret_basic",
        "is_first_party": True,
        "client_metadata": {"team": "payments"},
        "callbacks": [],  # about interactive logins: accepted, not used
        "oidc_conformant": True,
    }
    created = mgmt.post("/api/v2/clients", json=body)
    assert created.status_code == 201, created.text
    client = created.json()
    expected = {
        "client_id": client["client_id"],
        "name": "scripted",
        "app_type": "non_interactive",
        "grant_types": ["client_credentials"],
        "is_first_party": True,
        "token_endpoint_auth_method": "client_secret_basic",
        "client_metadata": {"team": "payments"},
    }
    assert {k: v for k, v in client.items() if k != "client_secret"} == expected
    patched = mgmt.patch(
        f"/api/v2/clients/{client['client_id']}",
        json={"client_metadata": {"team": "billing"}, "grant_types": ["client_credentials"]},
    )
    assert patched.status_code == 200, patched.text
    assert patched.json() == {**expected, "client_metadata": {"team": "billing"}}
    assert mgmt.get(f"/api/v2/clients/{client['client_id']}").json() == patched.json()


def test_resource_server_fields_are_stored_and_returned(mgmt: httpx.Client) -> None:
    body = {
        "identifier": f"urn:fields:{uuid.uuid4().hex}",
        "allow_offline_access": False,
        "token_lifetime": 3600,
        "skip_consent_for_verifiable_first_party_clients": True,
    }
    created = mgmt.post("/api/v2/resource-servers", json=body)
    assert created.status_code == 201, created.text
    api = created.json()
    assert api["allow_offline_access"] is False
    assert api["skip_consent_for_verifiable_first_party_clients"] is True
    assert api["token_lifetime"] == 3600
    patched = mgmt.patch(
        f"/api/v2/resource-servers/{api['id']}", json={"allow_offline_access": True}
    )
    assert patched.json() == {**api, "allow_offline_access": True}


@pytest.mark.parametrize(
    ("path", "body", "message"),
    [
        pytest.param(
            "/api/v2/clients",
            {"name": "x", "grant_types": ["client_credentials", "authorization_code"]},
            "'this server issues tokens with the client_credentials grant only: grant_types "
            'must be ["client_credentials"]\' on property grant_types.',
            id="grant-types",
        ),
        pytest.param(
            "/api/v2/clients",
            {"name": "x", "app_type": "regular_web"},
            "'this server has machine-to-machine clients only: app_type must be "
            "non_interactive' on property app_type.",
            id="app-type",
        ),
        pytest.param(
            "/api/v2/clients",
            {"name": "x", "token_endpoint_auth_method": "private_key_jwt"},
            "'the token endpoint authenticates clients with their secret only: "
            "client_secret_post or client_secret_basic' on property token_endpoint_auth_method.",
            id="auth-method",
        ),
        pytest.param(
            "/api/v2/resource-servers",
            {"identifier": "urn:x", "token_dialect": "access_token_authz"},
            "'tokens carry scope only here: token_dialect must be access_token' on property "
            "token_dialect.",
            id="token-dialect",
        ),
        pytest.param(
            "/api/v2/resource-servers",
            {"identifier": "urn:x", "allow_offline_access": "yes"},
            "'Input should be a valid boolean' on property allow_offline_access.",
            id="not-a-boolean",
        ),
    ],
)
def test_values_this_server_cannot_honour_are_400(
    mgmt: httpx.Client, path: str, body: dict[str, Any], message: str
) -> None:
    response = mgmt.post(path, json=body)
    assert response.status_code == 400
    assert response.json() == body_error(message)
