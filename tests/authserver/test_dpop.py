"""DPoP at the local authorization server: Auth0's proof_of_possession policy, RFC 9449 §5 proofs.

A live server on 127.0.0.1; proofs signed by :class:`DPoPKey` or built from
raw parts with :func:`scopegate.testing.dpop_proof`; exact statuses and bodies.
"""

from __future__ import annotations

import secrets
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from authserver.harness import (
    Live,
    bearer,
    client_credentials,
    management_client,
    management_token,
    serve_db,
)
from scopegate.authserver.storage.database import SCHEMA_VERSION
from scopegate.client._dpop import DPoPKey
from scopegate.errors import DPoPFailure
from scopegate.testing import dpop_proof

REQUIRED = {"mechanism": "dpop", "required": True}
ALLOWED = {"mechanism": "dpop", "required": False}
NO_STORE = {"cache-control": "no-store", "pragma": "no-cache"}


@pytest.fixture(scope="module")
def key() -> DPoPKey:
    return DPoPKey.generate()


def make_api(
    mgmt: httpx.Client, name: str, policy: dict[str, Any] | None, alg: str
) -> dict[str, Any]:
    body: dict[str, Any] = {"identifier": f"https://{name}.test", "signing_alg": alg}
    if policy is not None:
        body["proof_of_possession"] = policy
    api = mgmt.post("/api/v2/resource-servers", json=body)
    assert api.status_code == 201, api.text
    return dict(api.json())


@pytest.fixture(scope="module")
def world(live: Live, mgmt: httpx.Client) -> dict[str, Any]:
    """Three APIs (required, allowed, no policy) and one client granted all of them."""
    apis = {
        "required": make_api(mgmt, "dpop-required", REQUIRED, "RS256"),
        "allowed": make_api(mgmt, "dpop-allowed", ALLOWED, "HS256"),
        "none": make_api(mgmt, "dpop-none", None, "RS256"),
    }
    client = mgmt.post("/api/v2/clients", json={"name": "dpop client"}).json()
    for api in apis.values():
        grant = {"client_id": client["client_id"], "audience": api["identifier"], "scope": []}
        assert mgmt.post("/api/v2/client-grants", json=grant).status_code == 201
    return {"apis": apis, "client": client}


def token_request(
    http: httpx.Client, world: dict[str, Any], api: str, proofs: list[str] | None = None
) -> httpx.Response:
    client = world["client"]
    form = client_credentials(
        client["client_id"], client["client_secret"], world["apis"][api]["identifier"]
    )
    headers = [("DPoP", proof) for proof in proofs or []]
    return http.post("/oauth/token", data=form, headers=headers)


def token_url(live: Live) -> str:
    return live.base_url + "/oauth/token"


def claims_of(token: str) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


@pytest.mark.parametrize("api", ["required", "allowed"])
def test_a_proof_binds_the_token_to_its_key(
    live: Live, http: httpx.Client, world: dict[str, Any], key: DPoPKey, api: str
) -> None:
    response = token_request(http, world, api, [key.proof("POST", token_url(live))])
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "DPoP"
    assert set(body) == {"access_token", "token_type", "expires_in", "scope"}
    assert claims_of(body["access_token"])["cnf"] == {"jkt": key.thumbprint}
    assert {name: response.headers[name] for name in NO_STORE} == NO_STORE
    assert "dpop-nonce" not in response.headers


def test_without_a_proof_an_allowed_api_gets_a_bearer_token(
    http: httpx.Client, world: dict[str, Any]
) -> None:
    response = token_request(http, world, "allowed")
    assert response.status_code == 200, response.text
    assert response.json()["token_type"] == "Bearer"
    assert "cnf" not in claims_of(response.json()["access_token"])


def test_an_api_without_a_policy_ignores_the_header(
    http: httpx.Client, world: dict[str, Any]
) -> None:
    """Auth0's table: no sender-constraining method, so "Issued, Not Sender-Constrained"."""
    response = token_request(http, world, "none", ["not even a JWS"])
    assert response.status_code == 200, response.text
    assert response.json()["token_type"] == "Bearer"
    assert "cnf" not in claims_of(response.json()["access_token"])


def test_a_required_api_refuses_a_request_without_a_proof(
    http: httpx.Client, world: dict[str, Any]
) -> None:
    response = token_request(http, world, "required")
    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_dpop_proof",
        "error_description": "A DPoP proof is required",
    }
    assert {name: response.headers[name] for name in NO_STORE} == NO_STORE


def _bad_proofs(key: DPoPKey, url: str) -> list[Any]:
    now = int(time.time())
    other = DPoPKey.generate()
    return [
        pytest.param(["x.y.z"], "The DPoP proof is malformed", id="garbage"),
        pytest.param(
            [key.proof("POST", url), key.proof("POST", url)],
            "Exactly one DPoP proof is allowed",
            id="two-headers",
        ),
        pytest.param(
            [dpop_proof(key, "GET", url)],
            "The DPoP proof method does not match the request",
            id="htm-get",
        ),
        pytest.param(
            [dpop_proof(key, "POST", url.replace("/oauth/token", "/oauth/other"))],
            "The DPoP proof URI does not match the request",
            id="htu-elsewhere",
        ),
        pytest.param(
            [dpop_proof(key, "POST", url, iat=now - 3600)],
            "The DPoP proof is too old or issued in the future",
            id="iat-old",
        ),
        pytest.param(
            [dpop_proof(key, "POST", url, iat=now + 3600)],
            "The DPoP proof is too old or issued in the future",
            id="iat-future",
        ),
        pytest.param(
            [dpop_proof(key, "POST", url, headers={"typ": "JWT"})],
            "The DPoP proof type is not dpop+jwt",
            id="typ-jwt",
        ),
        pytest.param(
            [dpop_proof(key, "POST", url, headers={"jwk": other.public_jwk})],
            "The DPoP proof signature is invalid",
            id="jwk-of-another-key",
        ),
        pytest.param(
            [dpop_proof(key, "POST", url, jti=None)],
            "The DPoP proof is missing a claim or has a claim of the wrong type",
            id="no-jti",
        ),
    ]


@pytest.fixture(scope="module")
def bad_cases(live: Live, key: DPoPKey) -> dict[str, tuple[list[str], str]]:
    cases = _bad_proofs(key, token_url(live))
    return {case.id: (case.values[0], case.values[1]) for case in cases}


@pytest.mark.parametrize(
    "case",
    [
        "garbage",
        "two-headers",
        "htm-get",
        "htu-elsewhere",
        "iat-old",
        "iat-future",
        "typ-jwt",
        "jwk-of-another-key",
        "no-jti",
    ],
)
@pytest.mark.parametrize("api", ["required", "allowed"])
def test_a_bad_proof_is_400_invalid_dpop_proof(
    http: httpx.Client,
    world: dict[str, Any],
    bad_cases: dict[str, tuple[list[str], str]],
    case: str,
    api: str,
) -> None:
    proofs, description = bad_cases[case]
    response = token_request(http, world, api, proofs)
    assert response.status_code == 400, response.text
    assert response.json() == {"error": "invalid_dpop_proof", "error_description": description}


def test_a_replayed_proof_is_refused(
    live: Live, http: httpx.Client, world: dict[str, Any], key: DPoPKey
) -> None:
    proof = key.proof("POST", token_url(live))
    assert token_request(http, world, "required", [proof]).status_code == 200
    again = token_request(http, world, "required", [proof])
    assert again.status_code == 400
    assert again.json() == {
        "error": "invalid_dpop_proof",
        "error_description": "The DPoP proof has already been used",
    }


def test_a_refused_client_does_not_use_up_the_proof(
    live: Live, http: httpx.Client, world: dict[str, Any], key: DPoPKey
) -> None:
    proof = key.proof("POST", token_url(live))
    client = world["client"]
    form = client_credentials(client["client_id"], "wrong", world["apis"]["required"]["identifier"])
    assert http.post("/oauth/token", data=form, headers={"DPoP": proof}).status_code == 401
    assert token_request(http, world, "required", [proof]).status_code == 200


@pytest.mark.parametrize("alg", ["RS256", "PS256", "ES384", "EdDSA"])
def test_every_algorithm_binds(
    live: Live, http: httpx.Client, world: dict[str, Any], alg: str
) -> None:
    key = DPoPKey.generate(alg)
    response = token_request(http, world, "required", [key.proof("POST", token_url(live))])
    assert response.status_code == 200, response.text
    assert claims_of(response.json()["access_token"])["cnf"] == {"jkt": key.thumbprint}


# --- the Management API: Auth0's proof_of_possession object --------------------------------------


def test_the_policy_is_returned_and_changed(mgmt: httpx.Client) -> None:
    api = make_api(mgmt, "pop-lifecycle", REQUIRED, "RS256")
    assert api["proof_of_possession"] == REQUIRED
    path = f"/api/v2/resource-servers/{api['id']}"
    changed = mgmt.patch(
        path, json={"proof_of_possession": {**ALLOWED, "required_for": "public_clients"}}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["proof_of_possession"] == {**ALLOWED, "required_for": "public_clients"}
    assert mgmt.patch(path, json={"name": "renamed"}).json()["proof_of_possession"] == {
        **ALLOWED,
        "required_for": "public_clients",
    }
    removed = mgmt.patch(path, json={"proof_of_possession": None})
    assert removed.status_code == 200
    assert "proof_of_possession" not in removed.json()
    assert "proof_of_possession" not in mgmt.get(path).json()


def test_an_api_without_a_policy_shows_none(mgmt: httpx.Client) -> None:
    assert "proof_of_possession" not in make_api(mgmt, "pop-absent", None, "HS256")


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        pytest.param(
            {"mechanism": "mtls", "required": True},
            "Payload validation error: 'this server sender-constrains tokens with DPoP only: "
            "mechanism must be dpop or none' on property proof_of_possession.mechanism.",
            id="mtls",
        ),
        pytest.param(
            {"mechanism": "none", "required": True},
            "Payload validation error: 'required sender constraining needs a mechanism: dpop' "
            "on property proof_of_possession.",
            id="required-without-mechanism",
        ),
        pytest.param(
            {"mechanism": "dpop"},
            "Payload validation error: 'Missing required property: proof_of_possession.required'.",
            id="no-required",
        ),
        pytest.param(
            {"mechanism": "dpop", "required": "yes"},
            "Payload validation error: 'Input should be a valid boolean' "
            "on property proof_of_possession.required.",
            id="required-a-string",
        ),
        pytest.param(
            {"mechanism": "dpop", "required": True, "required_for": "everyone"},
            "Payload validation error: 'required_for must be all_clients or public_clients' "
            "on property proof_of_possession.required_for.",
            id="required-for",
        ),
        pytest.param(
            {"mechanism": "dpop", "required": True, "nonce": True},
            "Payload validation error: 'Additional properties not allowed: "
            "proof_of_possession.nonce'.",
            id="unknown-member",
        ),
        pytest.param(
            "dpop",
            "Payload validation error: 'Input should be a valid dictionary or instance of "
            "ProofOfPossessionBody' on property proof_of_possession.",
            id="not-an-object",
        ),
    ],
)
def test_a_bad_policy_is_400_invalid_body(mgmt: httpx.Client, policy: Any, message: str) -> None:
    response = mgmt.post(
        "/api/v2/resource-servers",
        json={"identifier": "https://pop-bad.test", "proof_of_possession": policy},
    )
    assert response.status_code == 400
    assert response.json() == {
        "statusCode": 400,
        "error": "Bad Request",
        "message": message,
        "errorCode": "invalid_body",
    }


def test_public_clients_only_requires_nothing_of_a_confidential_client(
    http: httpx.Client, mgmt: httpx.Client
) -> None:
    api = make_api(mgmt, "pop-public", {**REQUIRED, "required_for": "public_clients"}, "HS256")
    client = mgmt.post("/api/v2/clients", json={"name": "m2m"}).json()
    grant = {"client_id": client["client_id"], "audience": api["identifier"], "scope": []}
    assert mgmt.post("/api/v2/client-grants", json=grant).status_code == 201
    form = client_credentials(client["client_id"], client["client_secret"], api["identifier"])
    response = http.post("/oauth/token", data=form)
    assert response.status_code == 200
    assert response.json()["token_type"] == "Bearer"


# --- server nonces (RFC 9449 §8) -----------------------------------------------------------------


@pytest.fixture(scope="module")
def nonce_live() -> Iterator[Live]:
    with serve_db(dpop_nonce=True) as server:
        yield server


def test_with_nonces_a_proof_without_one_gets_400_use_dpop_nonce(
    nonce_live: Live, key: DPoPKey
) -> None:
    with management_client(nonce_live) as mgmt:
        api = make_api(mgmt, "pop-nonce", REQUIRED, "HS256")
        client = mgmt.post("/api/v2/clients", json={"name": "m2m"}).json()
        grant = {"client_id": client["client_id"], "audience": api["identifier"], "scope": []}
        assert mgmt.post("/api/v2/client-grants", json=grant).status_code == 201
    form = client_credentials(client["client_id"], client["client_secret"], api["identifier"])
    url = token_url(nonce_live)
    with httpx.Client(base_url=nonce_live.base_url) as http:
        first = http.post("/oauth/token", data=form, headers={"DPoP": key.proof("POST", url)})
        assert first.status_code == 400
        assert first.json() == {
            "error": "use_dpop_nonce",
            "error_description": "Authorization server requires nonce in DPoP proof",
        }
        nonce = first.headers["dpop-nonce"]
        proof = key.proof("POST", url, nonce=nonce)
        second = http.post("/oauth/token", data=form, headers={"DPoP": proof})
        assert second.status_code == 200, second.text
        assert second.json()["token_type"] == "DPoP"
        assert second.headers["dpop-nonce"] == nonce
        stale = http.post(
            "/oauth/token", data=form, headers={"DPoP": key.proof("POST", url, nonce="stale")}
        )
        assert stale.status_code == 400
        assert stale.json()["error"] == "use_dpop_nonce"


# --- the schema: version 3 files get the column --------------------------------------------------


def test_a_version_3_database_gets_the_policy_column(tmp_path: Path) -> None:
    db = str(tmp_path / "v3.db")
    with serve_db(db) as live, management_client(live) as mgmt:
        api = make_api(mgmt, "pop-v3", None, "HS256")
        client_id, secret = live.bootstrap.client_id, live.bootstrap.client_secret
    assert client_id is not None
    assert secret is not None
    # What version 3 left: no proof_of_possession column.
    with sqlite3.connect(db) as conn:
        conn.execute("ALTER TABLE resource_servers DROP COLUMN proof_of_possession")
        conn.execute("PRAGMA user_version = 3")
    conn.close()
    path = f"/api/v2/resource-servers/{api['id']}"
    for restart in range(2):
        with serve_db(db) as live, httpx.Client(base_url=live.base_url) as mgmt:
            mgmt.headers.update(bearer(management_token(mgmt, live, client_id, secret)))
            if restart == 0:
                assert "proof_of_possession" not in mgmt.get(path).json()
                changed = mgmt.patch(path, json={"proof_of_possession": REQUIRED})
                assert changed.json()["proof_of_possession"] == REQUIRED
                with live.store.db.read() as read:
                    assert read.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
            else:  # kept across a restart
                assert mgmt.get(path).json()["proof_of_possession"] == REQUIRED


# --- no input makes a 5xx ------------------------------------------------------------------------

DESCRIPTIONS = {failure.value for failure in DPoPFailure}
header_text = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=300)
claim_values = st.none() | st.booleans() | st.integers() | st.text(max_size=20) | st.floats()


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(proof=header_text | st.builds(".".join, st.lists(header_text, min_size=3, max_size=3)))
def test_any_dpop_header_is_a_400_with_a_fixed_description(
    http: httpx.Client, world: dict[str, Any], proof: str
) -> None:
    response = token_request(http, world, "required", [proof])
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["error"] == "invalid_dpop_proof"
    assert body["error_description"] in DESCRIPTIONS


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    claims=st.dictionaries(
        st.sampled_from(["jti", "htm", "htu", "iat", "ath", "nonce", "x"]), claim_values
    ),
    typ=st.sampled_from(["dpop+jwt", "JWT", None]),
)
def test_any_signed_claims_are_a_token_or_a_400(
    http: httpx.Client, world: dict[str, Any], key: DPoPKey, claims: dict[str, Any], typ: Any
) -> None:
    proof = key.sign(claims, {"typ": typ})
    response = token_request(http, world, "allowed", [proof])
    assert response.status_code in (200, 400), response.text
    if response.status_code == 400:
        assert response.json()["error_description"] in DESCRIPTIONS


# JSON has no NaN or Infinity: httpx refuses to send them.
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.text(max_size=20)
    | st.floats(allow_nan=False, allow_infinity=False)
)
policy_values = st.recursive(
    json_scalars | st.sampled_from(["dpop", "mtls", "none", "all_clients", "public_clients"]),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(["mechanism", "required", "required_for", "x"]), inner, max_size=4
        )
    ),
    max_leaves=8,
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(policy=policy_values)
def test_any_policy_is_201_or_400(mgmt: httpx.Client, policy: Any) -> None:
    response = mgmt.post(
        "/api/v2/resource-servers",
        json={
            "identifier": f"https://pop-fuzz-{secrets.token_hex(6)}.test",
            "proof_of_possession": policy,
        },
    )
    assert response.status_code in (201, 400), response.text
    if response.status_code == 201 and policy is not None:
        assert response.json()["proof_of_possession"]["mechanism"] in ("dpop", "none")
    elif response.status_code == 201:
        assert "proof_of_possession" not in response.json()
