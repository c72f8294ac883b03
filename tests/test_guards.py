"""scopegate._guards: the route checks behind every require_claim and require_token."""

from __future__ import annotations

from datetime import datetime, timezone
from types import MappingProxyType
from typing import Any

import pytest
from fastapi import FastAPI, Security

from scopegate import AccessToken
from scopegate._guards import enforce_claim, enforce_token
from scopegate.errors import FailureDetail, InvalidTokenError, MissingTokenError, TokenFailure
from scopegate.fastapi import require_claim, require_token


def access(**claims: Any) -> AccessToken:
    return AccessToken(
        claims=MappingProxyType(claims),
        subject=None,
        client_id=claims.get("azp"),
        scopes=frozenset(),
        audience=("api",),
        issuer=None,
        expires_at=datetime(2030, 1, 1, tzinfo=timezone.utc),
    )


@pytest.mark.parametrize(
    ("claims", "name", "values"),
    [
        pytest.param({"gty": "client-credentials"}, "gty", ("client-credentials",), id="equal"),
        pytest.param({"gty": "password"}, "gty", ("client-credentials", "password"), id="one-of"),
        pytest.param({"roles": ["a", "admin"]}, "roles", ("admin",), id="array-holds-it"),
        pytest.param({"org": "x"}, "org", (), id="present"),
        pytest.param({"tier": 2}, "tier", (1, 2), id="number"),
        pytest.param({"tier": 2.0}, "tier", (2,), id="int-equals-float"),
        pytest.param({"beta": True}, "beta", (True,), id="boolean"),
    ],
)
def test_accepted_claims(claims: dict[str, Any], name: str, values: tuple[Any, ...]) -> None:
    token = access(**claims)
    assert enforce_claim(token, name, values) is token


@pytest.mark.parametrize(
    ("claims", "name", "values", "failure"),
    [
        pytest.param({}, "gty", ("client-credentials",), TokenFailure.MISSING_CLAIM, id="absent"),
        pytest.param({"gty": None}, "gty", (), TokenFailure.MISSING_CLAIM, id="null"),
        pytest.param({"gty": "password"}, "gty", ("x",), TokenFailure.CLAIM_VALUE, id="other"),
        pytest.param({"tier": True}, "tier", (1,), TokenFailure.CLAIM_VALUE, id="true-is-not-1"),
        pytest.param({"tier": "1"}, "tier", (1,), TokenFailure.CLAIM_VALUE, id="string-is-not-1"),
        pytest.param(
            {"roles": [["admin"]]}, "roles", ("admin",), TokenFailure.CLAIM_VALUE, id="nested"
        ),
        pytest.param({"gty": "CLIENT"}, "gty", ("client",), TokenFailure.CLAIM_VALUE, id="case"),
    ],
)
def test_refused_claims(
    claims: dict[str, Any], name: str, values: tuple[Any, ...], failure: TokenFailure
) -> None:
    with pytest.raises(InvalidTokenError) as raised:
        enforce_claim(access(**claims), name, values)
    assert raised.value.failure is failure
    assert raised.value.status_code == 401
    assert raised.value.detail is not None
    assert raised.value.detail.claim == name


def test_the_detail_names_the_values() -> None:
    with pytest.raises(InvalidTokenError) as raised:
        enforce_claim(access(gty="password"), "gty", ("client-credentials",))
    assert raised.value.detail == FailureDetail("value", "gty", ("client-credentials",), "password")
    # The detail is for inspect only: nothing of it is in what a client receives.
    assert "password" not in raised.value.json_bytes().decode()
    assert "password" not in raised.value.www_authenticate("api")


@pytest.mark.parametrize(
    ("predicate", "found"),
    [
        pytest.param(lambda token: False, "returned False", id="false"),
        pytest.param(lambda token: 1, "returned 1", id="truthy-is-not-true"),
        pytest.param(lambda token: None, "returned None", id="none"),
        pytest.param(lambda token: token.claims["missing"], "raised KeyError", id="raises"),
    ],
)
def test_predicates_accept_only_true(predicate: Any, found: str) -> None:
    with pytest.raises(InvalidTokenError) as raised:
        enforce_token(access(), predicate)
    assert raised.value.failure is TokenFailure.REJECTED
    assert raised.value.detail is not None
    assert raised.value.detail.found == found


def test_a_predicate_may_raise_its_own_invalid_token() -> None:
    def expired(token: AccessToken) -> bool:
        raise InvalidTokenError(TokenFailure.EXPIRED)

    with pytest.raises(InvalidTokenError) as raised:
        enforce_token(access(), expired)
    assert raised.value.failure is TokenFailure.EXPIRED


def test_no_token_is_401_without_an_error() -> None:
    with pytest.raises(MissingTokenError):
        enforce_claim(None, "gty", ())
    with pytest.raises(MissingTokenError):
        enforce_token(None, lambda token: True)
    token = access()
    assert enforce_token(token, lambda t: True) is token


def is_admin(token: AccessToken) -> bool:
    return "admin" in token.claims.get("roles", [])


def test_fastapi_guards_document_the_bearer_lock() -> None:
    app = FastAPI()

    @app.get("/claim", dependencies=[Security(require_claim("gty", "client-credentials"))])
    async def claim() -> dict[str, str]:
        return {}

    @app.get("/check")
    @require_token(is_admin)
    def check() -> dict[str, str]:
        return {}

    paths = app.openapi()["paths"]
    assert paths["/claim"]["get"]["security"] == [{"BearerAuth": []}]
    assert paths["/check"]["get"]["security"] == [{"BearerAuth": []}]
    assert paths["/check"]["get"].get("parameters") is None


def test_fastapi_guard_repr() -> None:
    assert repr(require_claim("gty", "client-credentials")) == (
        "require_claim('gty', 'client-credentials')"
    )
    assert repr(require_token(is_admin)) == "require_token(is_admin)"


def test_the_detail_is_never_logged(caplog: pytest.LogCaptureFixture) -> None:
    from helpers import IDENTIFIER, ISSUER, SECRET, mint
    from scopegate import Settings
    from scopegate._protector import BearerProtector

    settings = Settings(
        signing_secret=SECRET,
        identifier=IDENTIFIER,
        issuer=ISSUER,
        claim_values={"gty": ["client-credentials"]},
        _env_file=None,
    )
    protector = BearerProtector(settings, publish=lambda token: token)
    token = mint(gty="recognisable-grant-value")
    with caplog.at_level("DEBUG", logger="scopegate"), pytest.raises(InvalidTokenError) as raised:
        protector.authenticate([f"Bearer {token}"])
    assert raised.value.detail is not None
    assert raised.value.detail.found == "recognisable-grant-value"
    assert caplog.messages == ["rejected request: InvalidTokenError (CLAIM_VALUE)"]
    assert "recognisable-grant-value" not in caplog.text
    assert "recognisable-grant-value" not in str(raised.value) + repr(raised.value)
