"""challenge_for and BearerProtector.render: which WWW-Authenticate challenges each mode sends."""

from __future__ import annotations

import pytest

from helpers import IDENTIFIER, SECRET
from scopegate import Settings
from scopegate._challenge import challenge_for
from scopegate._protector import BearerProtector
from scopegate.errors import (
    BearerError,
    DPoPFailure,
    ErrorResponse,
    InsufficientScopeError,
    InvalidDPoPProofError,
    InvalidRequestError,
    InvalidTokenError,
    KeysUnavailableError,
    MissingTokenError,
    TokenFailure,
)

ALGS = 'algs="ES256 PS256"'
BAD = 'error="invalid_token", error_description="The access token has expired"'
SCOPE = (
    'error="insufficient_scope", '
    'error_description="The access token lacks the scopes this resource requires", scope="a"'
)
PROOF = 'error="invalid_dpop_proof", error_description="The DPoP proof signature is invalid"'
EXPIRED = InvalidTokenError(TokenFailure.EXPIRED)


@pytest.mark.parametrize(
    ("error", "mode", "scheme", "expected"),
    [
        pytest.param(
            MissingTokenError(),
            "allowed",
            None,
            f'Bearer realm="api", DPoP realm="api", {ALGS}',
            id="allowed-no-credentials",
        ),
        pytest.param(
            MissingTokenError(),
            "required",
            None,
            f'DPoP realm="api", {ALGS}',
            id="required-no-credentials",
        ),
        pytest.param(
            MissingTokenError(),
            "disabled",
            None,
            'Bearer realm="api"',
            id="disabled-no-credentials",
        ),
        pytest.param(
            EXPIRED,
            "allowed",
            "Bearer",
            f'Bearer realm="api", {BAD}, DPoP realm="api", {ALGS}',
            id="allowed-bearer-error",
        ),
        pytest.param(
            EXPIRED,
            "allowed",
            "DPoP",
            f'Bearer realm="api", DPoP realm="api", {BAD}, {ALGS}',
            id="allowed-dpop-error",
        ),
        pytest.param(
            EXPIRED,
            "required",
            "Bearer",
            f'DPoP realm="api", {BAD}, {ALGS}',
            id="required-error-goes-on-dpop",
        ),
        pytest.param(
            EXPIRED,
            "disabled",
            "DPoP",
            f'Bearer realm="api", {BAD}',
            id="disabled-is-rfc6750",
        ),
        pytest.param(
            InsufficientScopeError(["a"]),
            "allowed",
            "DPoP",
            f'DPoP realm="api", {SCOPE}, {ALGS}',
            id="403-dpop-only",
        ),
        pytest.param(
            InsufficientScopeError(["a"]),
            "allowed",
            "Bearer",
            f'Bearer realm="api", {SCOPE}',
            id="403-bearer-only",
        ),
        pytest.param(
            InvalidDPoPProofError(DPoPFailure.SIGNATURE),
            "allowed",
            None,
            f'Bearer realm="api", DPoP realm="api", {PROOF}, {ALGS}',
            id="proof-error-knows-its-scheme",
        ),
        pytest.param(
            InvalidRequestError("The request is malformed"),
            "allowed",
            None,
            'Bearer realm="api", error="invalid_request", '
            f'error_description="The request is malformed", DPoP realm="api", {ALGS}',
            id="unknown-scheme-goes-on-bearer",
        ),
    ],
)
def test_challenge_for(error: BearerError, mode: str, scheme: str | None, expected: str) -> None:
    if isinstance(error, InvalidDPoPProofError):
        error.scheme = "DPoP"
    assert (
        challenge_for(error, realm="api", mode=mode, algorithms=["ES256", "PS256"], scheme=scheme)
        == expected
    )


def renderer(error: BearerError, realm: str) -> ErrorResponse:
    """A custom body (like the local authorization server's), the default headers."""
    return ErrorResponse(error.status_code, error.response_headers(realm), b'{"custom":true}')


def protector(**options: object) -> BearerProtector[object]:
    settings = Settings.explicit(signing_secret=SECRET, identifier=IDENTIFIER, **options)
    return BearerProtector(settings, publish=lambda token: token, error_renderer=renderer)


def test_render_keeps_a_custom_renderer_and_sets_the_challenge() -> None:
    response = protector(dpop_algorithms=["ES256"]).render(MissingTokenError())
    assert response.body == b'{"custom":true}'
    assert dict(response.headers)["www-authenticate"] == (
        'Bearer realm="api", DPoP realm="api", algs="ES256"'
    )


def test_render_without_a_challenge_adds_none() -> None:
    response = protector().render(KeysUnavailableError(3))
    assert "www-authenticate" not in dict(response.headers)
    assert dict(response.headers)["retry-after"] == "3"


def test_render_disabled_is_the_errors_own_rendering() -> None:
    response = protector(dpop="disabled").render(EXPIRED)
    assert response.headers == EXPIRED.response_headers("api")
