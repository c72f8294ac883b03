"""AccessToken: what a verified token exposes, and that none of it can be changed."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timezone
from typing import Any

import pytest

from helpers import CLIENT_ID, IDENTIFIER, ISSUER, NOW
from jose_helpers import raw_token, signed, token_with, verify


def test_fields_of_a_client_credentials_token() -> None:
    access = verify(token_with())
    assert access.subject == f"{CLIENT_ID}@clients"
    assert access.client_id == CLIENT_ID
    assert access.scopes == frozenset({"sample-scope", "other-scope"})
    assert access.audience == (IDENTIFIER,)
    assert access.issuer == ISSUER
    assert access.expires_at == datetime(2023, 11, 14, 23, 13, 20, tzinfo=timezone.utc)
    assert access.issued_at == datetime(2023, 11, 14, 22, 13, 20, tzinfo=timezone.utc)
    assert access.claims["gty"] == "client-credentials"


@pytest.mark.parametrize(
    ("overrides", "subject", "client_id"),
    [
        pytest.param({}, f"{CLIENT_ID}@clients", CLIENT_ID, id="azp"),
        pytest.param({"azp": None, "client_id": "c-1"}, f"{CLIENT_ID}@clients", "c-1", id="cid"),
        pytest.param({"azp": "a-1", "client_id": "c-1"}, f"{CLIENT_ID}@clients", "a-1", id="both"),
        pytest.param({"azp": None, "sub": None}, None, None, id="neither"),
        pytest.param({"sub": "auth0|user-1"}, "auth0|user-1", CLIENT_ID, id="user-subject"),
    ],
)
def test_subject_and_client_id(
    overrides: dict[str, Any], subject: str | None, client_id: str | None
) -> None:
    access = verify(signed(**overrides))
    assert access.subject == subject
    assert access.client_id == client_id


@pytest.mark.parametrize(
    ("overrides", "scope_claims", "scopes"),
    [
        pytest.param({"scope": "read  write "}, ["scope"], {"read", "write"}, id="spaces"),
        pytest.param({"scope": ["read", "write"]}, ["scope"], {"read", "write"}, id="json-array"),
        pytest.param({"scope": "read read"}, ["scope"], {"read"}, id="duplicates"),
        pytest.param({"scope": ""}, ["scope"], set(), id="empty-string"),
        pytest.param({"scope": []}, ["scope"], set(), id="empty-array"),
        pytest.param({"scope": None}, ["scope"], set(), id="absent"),
        pytest.param(
            {"scope": "read", "permissions": ["write", "read"]},
            ["scope", "permissions"],
            {"read", "write"},
            id="union",
        ),
        pytest.param(
            {"scope": None, "permissions": ["write"]},
            ["scope", "permissions"],
            {"write"},
            id="permissions-only",
        ),
        pytest.param(
            {"scope": "read", "permissions": ["write"]}, ["scope"], {"read"}, id="not-configured"
        ),
    ],
)
def test_scopes(overrides: dict[str, Any], scope_claims: list[str], scopes: set[str]) -> None:
    access = verify(signed(**overrides), scope_claims=scope_claims)
    assert access.scopes == frozenset(scopes)
    assert type(access.scopes) is frozenset


@pytest.mark.parametrize(
    ("aud", "audience"),
    [
        pytest.param(IDENTIFIER, (IDENTIFIER,), id="string"),
        pytest.param([IDENTIFIER], (IDENTIFIER,), id="one-element-list"),
        pytest.param(["https://b", IDENTIFIER], ("https://b", IDENTIFIER), id="list-in-order"),
    ],
)
def test_audience_is_a_tuple(aud: str | list[str], audience: tuple[str, ...]) -> None:
    assert verify(signed(aud=aud)).audience == audience


def test_issuer_absent_when_not_required() -> None:
    assert verify(signed(iss=None), issuer=None).issuer is None


@pytest.mark.parametrize(
    ("fields", "expires_at", "issued_at"),
    [
        pytest.param(
            f'"exp": {NOW + 60}',
            datetime(2023, 11, 14, 22, 14, 20, tzinfo=timezone.utc),
            None,
            id="no-iat",
        ),
        pytest.param(
            f'"exp": {NOW + 60}.5, "iat": {NOW}.25',
            datetime(2023, 11, 14, 22, 14, 20, 500000, tzinfo=timezone.utc),
            datetime(2023, 11, 14, 22, 13, 20, 250000, tzinfo=timezone.utc),
            id="fractional",
        ),
        pytest.param(
            '"exp": 253402300799',
            datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone.utc),
            None,
            id="largest-timestamp",
        ),
    ],
)
def test_times_are_aware_utc(fields: str, expires_at: datetime, issued_at: datetime | None) -> None:
    access = verify(raw_token(fields, iat=None))
    assert access.expires_at == expires_at
    assert access.expires_at.tzinfo is timezone.utc
    assert access.issued_at == issued_at
    if issued_at is not None:
        assert access.issued_at is not None
        assert access.issued_at.tzinfo is timezone.utc


def test_claims_are_read_only() -> None:
    access = verify(token_with())
    with pytest.raises(TypeError):
        access.claims["scope"] = "admin"  # type: ignore[index]
    with pytest.raises(TypeError):
        del access.claims["exp"]  # type: ignore[attr-defined]
    assert access.claims["scope"] == "sample-scope other-scope"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        pytest.param("subject", "someone-else", id="subject"),
        pytest.param("scopes", frozenset({"admin"}), id="scopes"),
        pytest.param("claims", {}, id="claims"),
        pytest.param("expires_at", datetime.max, id="expires_at"),
    ],
)
def test_dataclass_is_frozen(name: str, value: object) -> None:
    access = verify(token_with())
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(access, name, value)
    assert dataclasses.is_dataclass(access)


def test_repr_leaves_out_claims() -> None:
    text = repr(verify(token_with()))
    assert "client-credentials" not in text
    assert text.startswith(f"AccessToken(subject='{CLIENT_ID}@clients'")


@pytest.mark.parametrize(
    ("method", "scopes", "expected"),
    [
        pytest.param("has_scopes", ("sample-scope",), True, id="all-one"),
        pytest.param("has_scopes", ("sample-scope other-scope",), True, id="all-two-in-one"),
        pytest.param("has_scopes", ("sample-scope", "admin"), False, id="all-missing-one"),
        pytest.param("has_scopes", ("sample",), False, id="all-prefix"),
        pytest.param("has_scopes", ("Sample-Scope",), False, id="all-case"),
        pytest.param("has_any_scope", ("admin", "other-scope"), True, id="any-one"),
        pytest.param("has_any_scope", ("admin", "root"), False, id="any-none"),
    ],
)
def test_scope_predicates(method: str, scopes: tuple[str, ...], expected: bool) -> None:
    access = verify(token_with())
    assert getattr(access, method)(*scopes) is expected
