"""POST /oauth/token: client authentication, grants, scope narrowing and RFC 6749 §5.2 errors."""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from authserver.harness import client_credentials
from scopegate import Settings, TokenVerifier

AUDIENCE = "https://my-api-urn"
INVALID_CLIENT = {"error": "invalid_client", "error_description": "Client authentication failed."}
BASIC_CHALLENGE = 'Basic realm="oauth", charset="UTF-8"'


def basic(client_id: str, secret: str) -> dict[str, str]:
    raw = f"{quote(client_id, safe='')}:{quote(secret, safe='')}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


def claims_of(api: dict[str, Any], token: str) -> dict[str, Any]:
    settings = Settings(
        signing_secret=api["signing_secret"], identifier=api["identifier"], _env_file=None
    )
    return dict(TokenVerifier(settings).verify(token).claims)


@pytest.fixture(scope="module")
def ids(sample: dict[str, Any]) -> tuple[str, str]:
    return sample["client"]["client_id"], sample["client"]["client_secret"]


@pytest.mark.parametrize("as_json", [pytest.param(True, id="json"), pytest.param(False, id="form")])
def test_body_credentials_json_and_form(
    http: httpx.Client, sample: dict[str, Any], ids: tuple[str, str], as_json: bool
) -> None:
    params = client_credentials(*ids, AUDIENCE)
    response = (
        http.post("/oauth/token", json=params)
        if as_json
        else http.post("/oauth/token", data=params)
    )
    assert response.status_code == 200, response.text
    assert response.json()["scope"] == "sample-scope"
    claims = claims_of(sample["api"], response.json()["access_token"])
    assert claims["sub"] == f"{ids[0]}@clients"


def test_http_basic_credentials(
    http: httpx.Client, sample: dict[str, Any], ids: tuple[str, str]
) -> None:
    form = {"grant_type": "client_credentials", "audience": AUDIENCE}
    response = http.post("/oauth/token", data=form, headers=basic(*ids))
    assert response.status_code == 200, response.text
    assert claims_of(sample["api"], response.json()["access_token"])["azp"] == ids[0]
    # client_id may also be in the body, if it is the same one.
    response = http.post("/oauth/token", data={**form, "client_id": ids[0]}, headers=basic(*ids))
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    "credentials",
    [
        pytest.param(lambda cid, secret: (cid, secret + "x"), id="wrong-secret"),
        pytest.param(lambda cid, secret: (cid, ""), id="empty-secret"),
        pytest.param(lambda cid, secret: ("no-such-client", secret), id="unknown-client"),
        pytest.param(lambda cid, secret: (cid, "x" * 10_000), id="huge-secret"),
    ],
)
def test_bad_client_credentials_are_401_invalid_client(
    http: httpx.Client, ids: tuple[str, str], credentials: Any
) -> None:
    client_id, secret = credentials(*ids)
    response = http.post("/oauth/token", data=client_credentials(client_id, secret, AUDIENCE))
    assert response.status_code == 401
    assert response.json() == INVALID_CLIENT
    assert "www-authenticate" not in response.headers
    # The same failure through HTTP Basic carries a Basic challenge (RFC 6749 §5.2).
    form = {"grant_type": "client_credentials", "audience": AUDIENCE}
    response = http.post("/oauth/token", data=form, headers=basic(client_id, secret))
    assert response.status_code == 401
    assert response.json() == INVALID_CLIENT
    assert response.headers["www-authenticate"] == BASIC_CHALLENGE


def test_missing_secret_is_401_invalid_client(http: httpx.Client, ids: tuple[str, str]) -> None:
    form = {"grant_type": "client_credentials", "client_id": ids[0], "audience": AUDIENCE}
    response = http.post("/oauth/token", data=form)
    assert response.status_code == 401
    assert response.json() == INVALID_CLIENT


@pytest.mark.parametrize(
    "header",
    [
        pytest.param("Basic !!!", id="not-base64"),
        pytest.param("Basic " + base64.b64encode(b"no-colon").decode(), id="no-colon"),
        pytest.param("Bearer abc", id="other-scheme"),
    ],
)
def test_malformed_authorization_is_401_with_challenge(http: httpx.Client, header: str) -> None:
    form = {"grant_type": "client_credentials", "audience": AUDIENCE}
    response = http.post("/oauth/token", data=form, headers={"Authorization": header})
    assert response.status_code == 401
    assert response.json() == INVALID_CLIENT
    assert response.headers["www-authenticate"] == BASIC_CHALLENGE


def test_no_grant_for_the_audience_is_403_access_denied(
    http: httpx.Client, mgmt: httpx.Client, sample: dict[str, Any]
) -> None:
    other = mgmt.post("/api/v2/clients", json={"name": "ungranted"}).json()
    response = http.post(
        "/oauth/token",
        data=client_credentials(other["client_id"], other["client_secret"], AUDIENCE),
    )
    assert response.status_code == 403
    assert response.json() == {
        "error": "access_denied",
        "error_description": "Client is not authorized to access this API: "
        "create a client grant for it.",
    }


def test_unknown_audience_is_403_access_denied(http: httpx.Client, ids: tuple[str, str]) -> None:
    response = http.post("/oauth/token", data=client_credentials(*ids, "https://unknown"))
    assert response.status_code == 403
    assert response.json() == {
        "error": "access_denied",
        "error_description": "Service not enabled within domain: no API has this identifier.",
    }


@pytest.fixture(scope="module")
def two_scopes(mgmt: httpx.Client) -> dict[str, Any]:
    """An API with read and write, and a client granted both."""
    api = mgmt.post(
        "/api/v2/resource-servers",
        json={
            "identifier": "urn:two",
            "signing_alg": "HS256",
            "scopes": [{"value": "read"}, {"value": "write"}],
        },
    ).json()
    client = mgmt.post("/api/v2/clients", json={"name": "two"}).json()
    grant = mgmt.post(
        "/api/v2/client-grants",
        json={"client_id": client["client_id"], "audience": "urn:two", "scope": ["read", "write"]},
    )
    assert grant.status_code == 201
    return {"api": api, "client": client}


@pytest.mark.parametrize(
    ("requested", "granted"),
    [
        pytest.param(None, "read write", id="absent-gives-all"),
        pytest.param("", "read write", id="empty-gives-all"),
        pytest.param("write", "write", id="one"),
        pytest.param("write  read", "read write", id="both-in-grant-order"),
        pytest.param("read read", "read", id="repeated"),
    ],
)
def test_scope_narrows(
    http: httpx.Client, two_scopes: dict[str, Any], requested: str | None, granted: str
) -> None:
    client = two_scopes["client"]
    params = client_credentials(client["client_id"], client["client_secret"], "urn:two")
    if requested is not None:
        params["scope"] = requested
    response = http.post("/oauth/token", data=params)
    assert response.status_code == 200, response.text
    assert response.json()["scope"] == granted
    assert claims_of(two_scopes["api"], response.json()["access_token"])["scope"] == granted


@pytest.mark.parametrize(
    ("scope", "description"),
    [
        pytest.param("read admin", "Client has not been granted scopes: admin", id="not-granted"),
        pytest.param('read "x"', "The requested scope is malformed.", id="malformed"),
        pytest.param("read\twrite", "The requested scope is malformed.", id="tab"),
    ],
)
def test_scope_outside_the_grant_is_invalid_scope(
    http: httpx.Client, two_scopes: dict[str, Any], scope: str, description: str
) -> None:
    client = two_scopes["client"]
    params = client_credentials(client["client_id"], client["client_secret"], "urn:two")
    response = http.post("/oauth/token", data={**params, "scope": scope})
    assert response.status_code == 400
    assert response.json() == {"error": "invalid_scope", "error_description": description}


def test_a_scope_the_api_dropped_is_no_longer_issued(
    http: httpx.Client, mgmt: httpx.Client
) -> None:
    mgmt.post(
        "/api/v2/resource-servers",
        json={"identifier": "urn:shrinking", "scopes": [{"value": "a"}, {"value": "b"}]},
    )
    client = mgmt.post("/api/v2/clients", json={"name": "shrinking"}).json()
    body = {"client_id": client["client_id"], "audience": "urn:shrinking", "scope": ["a", "b"]}
    assert mgmt.post("/api/v2/client-grants", json=body).status_code == 201
    patched = mgmt.patch(
        "/api/v2/resource-servers/urn:shrinking", json={"scopes": [{"value": "a"}]}
    )
    assert patched.status_code == 200
    params = client_credentials(client["client_id"], client["client_secret"], "urn:shrinking")
    assert http.post("/oauth/token", data=params).json()["scope"] == "a"
    response = http.post("/oauth/token", data={**params, "scope": "b"})
    assert response.json()["error"] == "invalid_scope"


def _form(**params: str) -> dict[str, str]:
    return params


@pytest.mark.parametrize(
    ("kwargs", "status", "error", "description"),
    [
        pytest.param(
            {"data": _form(client_id="x", client_secret="y", audience=AUDIENCE)},
            400,
            "invalid_request",
            "Missing required parameter: grant_type",
            id="no-grant-type",
        ),
        pytest.param(
            {"data": _form(grant_type="password", username="u", password="p")},
            400,
            "unsupported_grant_type",
            "Only the client_credentials grant type is supported.",
            id="password-grant",
        ),
        pytest.param(
            {"data": _form(grant_type="client_credentials", audience=AUDIENCE)},
            400,
            "invalid_request",
            "Missing required parameter: client_id",
            id="no-client-id",
        ),
        pytest.param(
            {"data": _form(grant_type="client_credentials", client_id="x", client_secret="y")},
            400,
            "invalid_request",
            "Missing required parameter: audience",
            id="no-audience",
        ),
        pytest.param(
            {
                "content": b"grant_type=client_credentials&grant_type=client_credentials",
                "headers": {"Content-Type": "application/x-www-form-urlencoded"},
            },
            400,
            "invalid_request",
            "Parameter grant_type is included more than once.",
            id="repeated-parameter",
        ),
        pytest.param(
            {"json": {"grant_type": "client_credentials", "client_id": 5}},
            400,
            "invalid_request",
            "Parameter client_id must be a string.",
            id="json-number",
        ),
        pytest.param(
            {"json": ["grant_type"]},
            400,
            "invalid_request",
            "The request body must be a JSON object.",
            id="json-array",
        ),
        pytest.param(
            {"content": b"{nope", "headers": {"Content-Type": "application/json"}},
            400,
            "invalid_request",
            "The request body is not a valid JSON.",
            id="bad-json",
        ),
        pytest.param(
            {"content": b"a=%ff", "headers": {"Content-Type": "application/x-www-form-urlencoded"}},
            400,
            "invalid_request",
            "The request body is not a valid form.",
            id="bad-utf8-form",
        ),
        pytest.param(
            {"content": b"<xml/>", "headers": {"Content-Type": "text/xml"}},
            400,
            "invalid_request",
            "The body must be application/x-www-form-urlencoded or application/json.",
            id="xml",
        ),
        pytest.param(
            {"content": b"a=" + b"x" * 70_000, "headers": {"Content-Type": "application/json"}},
            413,
            "invalid_request",
            "The request body is too large.",
            id="too-large",
        ),
    ],
)
def test_malformed_requests(
    http: httpx.Client, kwargs: dict[str, Any], status: int, error: str, description: str
) -> None:
    response = http.post("/oauth/token", **kwargs)
    assert response.status_code == status
    assert response.json() == {"error": error, "error_description": description}
    assert response.headers["cache-control"] == "no-store"


def test_two_authentication_methods_are_refused(http: httpx.Client, ids: tuple[str, str]) -> None:
    response = http.post(
        "/oauth/token", data=client_credentials(*ids, AUDIENCE), headers=basic(*ids)
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    form = {"grant_type": "client_credentials", "client_id": "other", "audience": AUDIENCE}
    response = http.post("/oauth/token", data=form, headers=basic(*ids))
    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_request",
        "error_description": "The client_id does not match the Authorization header.",
    }


def test_get_is_405(http: httpx.Client) -> None:
    response = http.get("/oauth/token")
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.json()["statusCode"] == 405
