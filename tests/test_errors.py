"""Errors are the wire contract: exact challenges, bodies, statuses and header-safe descriptions."""

from __future__ import annotations

import json
import re

import pytest

from scopegate.errors import (
    BearerError,
    ConfigurationError,
    InsufficientScopeError,
    InvalidRequestError,
    InvalidTokenError,
    MissingTokenError,
    ScopegateError,
    TokenFailure,
)

# RFC 6750 §3: error_description = 1*( %x20-21 / %x23-5B / %x5D-7E )
RFC_6750_DESCRIPTION = re.compile(r"[\x20-\x21\x23-\x5b\x5d-\x7e]+")

CASES = [
    pytest.param(
        MissingTokenError(),
        401,
        "401 Unauthorized",
        'Bearer realm="api"',
        {"error": "missing_token", "error_description": "A bearer token is required"},
        id="missing-token",
    ),
    pytest.param(
        InvalidRequestError(),
        400,
        "400 Bad Request",
        'Bearer realm="api", error="invalid_request", error_description="The request is malformed"',
        {"error": "invalid_request", "error_description": "The request is malformed"},
        id="invalid-request",
    ),
    pytest.param(
        InvalidRequestError("The bearer token is empty"),
        400,
        "400 Bad Request",
        'Bearer realm="api", error="invalid_request", '
        'error_description="The bearer token is empty"',
        {"error": "invalid_request", "error_description": "The bearer token is empty"},
        id="invalid-request-described",
    ),
    pytest.param(
        InvalidTokenError(),
        401,
        "401 Unauthorized",
        'Bearer realm="api", error="invalid_token", '
        'error_description="The access token is malformed"',
        {"error": "invalid_token", "error_description": "The access token is malformed"},
        id="invalid-token-default",
    ),
    pytest.param(
        InvalidTokenError(TokenFailure.EXPIRED),
        401,
        "401 Unauthorized",
        'Bearer realm="api", error="invalid_token", '
        'error_description="The access token has expired"',
        {"error": "invalid_token", "error_description": "The access token has expired"},
        id="invalid-token-expired",
    ),
    pytest.param(
        InsufficientScopeError(["sample-scope"]),
        403,
        "403 Forbidden",
        'Bearer realm="api", error="insufficient_scope", '
        'error_description="The access token lacks the scopes this resource requires", '
        'scope="sample-scope"',
        {
            "error": "insufficient_scope",
            "error_description": "The access token lacks the scopes this resource requires",
            "scope": "sample-scope",
        },
        id="insufficient-scope",
    ),
    pytest.param(
        InsufficientScopeError(["read", "write"], any_of=True),
        403,
        "403 Forbidden",
        'Bearer realm="api", error="insufficient_scope", '
        'error_description="The access token lacks one of the scopes this resource requires", '
        'scope="read write"',
        {
            "error": "insufficient_scope",
            "error_description": "The access token lacks one of the scopes this resource requires",
            "scope": "read write",
        },
        id="insufficient-scope-any-of",
    ),
]


@pytest.mark.parametrize(("error", "status", "status_line", "challenge", "body"), CASES)
def test_wire_contract(
    error: BearerError, status: int, status_line: str, challenge: str, body: dict[str, str]
) -> None:
    assert error.status_code == status
    assert error.status_line == status_line
    assert error.www_authenticate("api") == challenge
    assert error.body() == body
    assert json.loads(error.json_bytes()) == body
    assert error.response_headers("api") == [
        ("content-type", "application/json"),
        ("www-authenticate", challenge),
        ("cache-control", "no-store"),
    ]
    assert str(error) == error.description == body["error_description"]


def test_json_bytes_are_compact() -> None:
    assert InvalidTokenError(TokenFailure.AUDIENCE).json_bytes() == (
        b'{"error":"invalid_token","error_description":"The access token audience is not accepted"}'
    )


def test_realm_is_rendered_as_given() -> None:
    assert MissingTokenError().www_authenticate("orders api") == 'Bearer realm="orders api"'


@pytest.mark.parametrize("failure", list(TokenFailure), ids=lambda failure: failure.name)
def test_every_failure_description_is_header_safe(failure: TokenFailure) -> None:
    assert RFC_6750_DESCRIPTION.fullmatch(failure.value)
    error = InvalidTokenError(failure)
    assert error.failure is failure
    assert error.description == failure.value
    assert error.www_authenticate("api") == (
        f'Bearer realm="api", error="invalid_token", error_description="{failure.value}"'
    )


def test_failure_descriptions_are_distinct() -> None:
    assert len({failure.value for failure in TokenFailure}) == len(TokenFailure)


@pytest.mark.parametrize(
    "description",
    [
        pytest.param('Say "no"', id="quote"),
        pytest.param("line\nbreak", id="newline"),
        pytest.param("carriage\rreturn", id="carriage-return"),
        pytest.param("back\\slash", id="backslash"),
        pytest.param("tab\there", id="tab"),
        pytest.param("caf\u00e9", id="non-ascii"),
        pytest.param("del\x7f", id="del"),
        pytest.param("nul\x00", id="nul"),
    ],
)
@pytest.mark.parametrize(
    "error_class", [BearerError, MissingTokenError, InvalidRequestError], ids=lambda c: c.__name__
)
def test_unsafe_description_is_refused(error_class: type[BearerError], description: str) -> None:
    with pytest.raises(ValueError, match="error descriptions must use RFC 6750") as info:
        error_class(description)
    assert description not in str(info.value)


def test_every_allowed_character_is_accepted() -> None:
    allowed = "".join(chr(c) for c in range(0x20, 0x7F) if chr(c) not in '"\\')
    assert InvalidRequestError(allowed).description == allowed


def test_empty_description_falls_back_to_default() -> None:
    assert InvalidRequestError("").description == "The request is malformed"
    assert MissingTokenError(None).description == "A bearer token is required"


def test_insufficient_scope_keeps_required_scopes_in_order() -> None:
    error = InsufficientScopeError(iter(["write", "read"]))
    assert error.required_scopes == ("write", "read")
    assert error.any_of is False
    assert error.challenge_params() == [
        ("error", "insufficient_scope"),
        ("error_description", "The access token lacks the scopes this resource requires"),
        ("scope", "write read"),
    ]


@pytest.mark.parametrize(
    ("child", "parent"),
    [
        pytest.param(ConfigurationError, ScopegateError, id="configuration"),
        pytest.param(BearerError, ScopegateError, id="bearer"),
        pytest.param(MissingTokenError, BearerError, id="missing-token"),
        pytest.param(InvalidRequestError, BearerError, id="invalid-request"),
        pytest.param(InvalidTokenError, BearerError, id="invalid-token"),
        pytest.param(InsufficientScopeError, BearerError, id="insufficient-scope"),
        pytest.param(ScopegateError, Exception, id="root"),
    ],
)
def test_hierarchy(child: type[Exception], parent: type[Exception]) -> None:
    assert issubclass(child, parent)


def test_configuration_error_is_not_a_request_error() -> None:
    assert not issubclass(ConfigurationError, BearerError)
    assert not issubclass(BearerError, ConfigurationError)
