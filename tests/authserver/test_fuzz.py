"""Junk to every POST and PATCH: a 4xx (or a success), never a 5xx, never a partial write."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from authserver.harness import Live, counts

FIELDS = [
    "identifier",
    "name",
    "scopes",
    "signing_alg",
    "signing_secret",
    "token_lifetime",
    "description",
    "app_type",
    "client_id",
    "audience",
    "scope",
    "value",
    "grant_type",
    "client_secret",
]
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
    | st.sampled_from(["HS256", "non_interactive", "client_credentials", "urn:x", "https://a"])
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
junk = st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=8), values, max_size=6) | values


def near(valid: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly plausible values, sometimes junk."""
    return mostly(valid, values)


def mostly(usual: st.SearchStrategy[Any], rare: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """``usual`` about four times in five; ``rare`` otherwise."""
    return st.integers(0, 4).flatmap(lambda n: rare if n == 0 else usual)


def shaped(required: dict[str, Any], optional: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Objects with the endpoint's properties (each maybe missing or junk), rarely an extra."""
    properties = {name: near(strategy) for name, strategy in {**required, **optional}.items()}
    plain = st.fixed_dictionaries(
        {name: properties[name] for name in required},
        optional={name: properties[name] for name in optional},
    )
    anything = st.fixed_dictionaries({}, optional={**properties, "extra": values})
    return mostly(plain, anything)


texts = st.text(st.characters(exclude_categories=["Cc", "Cs"]), min_size=1, max_size=12)
scope_tokens = st.sampled_from(["read", "write", "sample-scope", "a b", 'q"', ""]) | texts
scope_items = st.lists(
    st.fixed_dictionaries({"value": near(scope_tokens)}, optional={"description": near(texts)}),
    max_size=3,
)
identifiers = st.sampled_from(["https://my-api-urn", "urn:x", "http://", "no-scheme"]) | st.builds(
    "urn:fuzz:{}".format, st.text(alphabet="abc%:/ #?", max_size=6)
)
RESOURCE_SERVER = {
    "name": texts,
    "scopes": scope_items,
    "token_lifetime": st.integers(-5, 3_000_000),
    "signing_alg": st.sampled_from(["HS256", "RS256"]),
    "signing_secret": st.text(min_size=30, max_size=34),
}
CLIENT = {
    "name": texts,
    "description": texts,
    "app_type": st.sampled_from(["non_interactive", "spa"]),
}


def body_strategy(template: str, method: str, context: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Near-valid bodies for one endpoint, and pure junk."""
    grant_scope = st.lists(near(scope_tokens), max_size=3)
    if "resource-servers" in template:
        first = {"identifier": identifiers} if method == "POST" else {}
        structured = shaped(first, RESOURCE_SERVER)
    elif "clients" in template:
        structured = shaped({}, CLIENT)
    elif method == "POST":
        ids = st.sampled_from([*context["client_ids"], "nobody"])
        audiences = st.sampled_from([*context["audiences"], "urn:nowhere"])
        structured = shaped({"client_id": ids, "audience": audiences, "scope": grant_scope}, {})
    else:
        structured = shaped({"scope": grant_scope}, {})
    return mostly(structured, junk)


FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
WRITES = [
    ("POST", "/api/v2/resource-servers", "resource_servers"),
    ("PATCH", "/api/v2/resource-servers/{api}", "resource_servers"),
    ("POST", "/api/v2/clients", "clients"),
    ("PATCH", "/api/v2/clients/{client}", "clients"),
    ("POST", "/api/v2/client-grants", "client_grants"),
    ("PATCH", "/api/v2/client-grants/{grant}", "client_grants"),
]


def _path(template: str, sample: dict[str, Any]) -> str:
    """The path with the sample's API, client and grant ids."""
    return template.format(
        api=sample["api"]["id"], client=sample["client"]["client_id"], grant=sample["grant"]["id"]
    )


def _check_write(
    live: Live, response: httpx.Response, method: str, table: str, before: dict[str, int]
) -> None:
    assert response.status_code < 500, response.text
    after = counts(live.store)
    if response.status_code >= 400:
        body = response.json()
        assert body["statusCode"] == response.status_code
        assert isinstance(body["errorCode"], str)
        assert after == before
    elif method == "POST":
        assert response.status_code == 201
        assert after == {**before, table: before[table] + 1}
    else:
        assert response.status_code == 200
        assert after == before


@pytest.fixture(scope="module")
def context(mgmt: httpx.Client, sample: dict[str, Any]) -> dict[str, Any]:
    """Clients and APIs that a fuzzed grant may name, so that some grants succeed."""
    api = {"identifier": "urn:fuzz-grants", "scopes": [{"value": "read"}, {"value": "write"}]}
    assert mgmt.post("/api/v2/resource-servers", json=api).status_code == 201
    clients = [mgmt.post("/api/v2/clients", json={"name": "f"}).json() for _ in range(3)]
    return {
        "client_ids": [sample["client"]["client_id"], *(c["client_id"] for c in clients)],
        "audiences": ["https://my-api-urn", "urn:fuzz-grants"],
    }


@pytest.mark.parametrize(
    ("method", "template", "table"), WRITES, ids=[f"{m} {t}" for m, t, _ in WRITES]
)
def test_junk_json_to_management_writes(
    live: Live,
    mgmt: httpx.Client,
    sample: dict[str, Any],
    context: dict[str, Any],
    method: str,
    template: str,
    table: str,
) -> None:
    path = _path(template, sample)

    @FUZZ
    @given(body=body_strategy(template, method, context))
    def check(body: Any) -> None:
        before = counts(live.store)
        response = mgmt.request(method, path, json=body)
        _check_write(live, response, method, table, before)

    check()


@FUZZ
@given(content=st.binary(max_size=200), content_type=st.sampled_from(["application/json", None]))
def test_junk_bytes_to_management_writes(
    live: Live, mgmt: httpx.Client, sample: dict[str, Any], content: bytes, content_type: str | None
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    for method, template, table in WRITES:
        before = counts(live.store)
        response = mgmt.request(method, _path(template, sample), content=content, headers=headers)
        _check_write(live, response, method, table, before)


token_params = st.dictionaries(
    st.sampled_from(["grant_type", "client_id", "client_secret", "audience", "scope"])
    | st.text(max_size=8),
    st.text(max_size=30) | st.sampled_from(["client_credentials", "https://my-api-urn", "urn:x"]),
    max_size=6,
)


@FUZZ
@given(params=token_params, as_json=st.booleans(), use_real_client=st.booleans())
def test_junk_to_the_token_endpoint(
    http: httpx.Client,
    sample: dict[str, Any],
    params: dict[str, str],
    as_json: bool,
    use_real_client: bool,
) -> None:
    if use_real_client:
        params = {**params, "client_id": sample["client"]["client_id"]}
    response = (
        http.post("/oauth/token", json=params)
        if as_json
        else http.post("/oauth/token", data=params)
    )
    assert 400 <= response.status_code < 500, response.text
    assert set(response.json()) == {"error", "error_description"}


@FUZZ
@given(
    content=st.binary(max_size=200) | values.map(lambda v: repr(v).encode()),
    content_type=st.sampled_from(
        ["application/json", "application/x-www-form-urlencoded", "text/plain", None]
    ),
)
def test_junk_bytes_to_the_token_endpoint(
    http: httpx.Client, content: bytes, content_type: str | None
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    response = http.post("/oauth/token", content=content, headers=headers)
    assert 400 <= response.status_code < 500, response.text
    assert set(response.json()) == {"error", "error_description"}


QUERY_NAMES = [
    "page",
    "per_page",
    "include_totals",
    "audience",
    "client_id",
    "from",
    "take",
    "fields",
    "include_fields",
    "identifiers",
    "app_type",
    "is_first_party",
    "is_global",
    "allow_any_organization",
    "subject_type",
    "q",
]


@FUZZ
@given(
    query=st.lists(
        st.tuples(
            st.sampled_from(QUERY_NAMES) | st.text(max_size=8),
            st.text(max_size=12)
            | st.integers(-5, 10**12).map(str)
            | st.sampled_from(["true", "false", "client", "user", "id,name", "cgr_x", ""]),
        ),
        max_size=5,
    )
)
def test_junk_queries_to_the_lists(mgmt: httpx.Client, query: list[tuple[str, str]]) -> None:
    for path in (
        "/api/v2/resource-servers",
        "/api/v2/clients",
        "/api/v2/client-grants",
        "/api/v2/clients/no-such-client",
        "/api/v2/resource-servers/urn:x",
    ):
        response = mgmt.get(path, params=tuple(query))
        assert response.status_code in (200, 400, 404), response.text
        if response.status_code == 400:
            assert response.json()["errorCode"] == "invalid_query_string"
