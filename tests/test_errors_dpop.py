"""The DPoP errors: exact status, challenge parameters, headers and JSON bodies."""

from __future__ import annotations

import pytest

from scopegate.errors import (
    BearerError,
    DPoPFailure,
    InvalidDPoPProofError,
    KeysUnavailableError,
    ReplayStoreUnavailableError,
    UnavailableError,
    UseDPoPNonceError,
)


@pytest.mark.parametrize("failure", list(DPoPFailure), ids=[f.name for f in DPoPFailure])
def test_every_failure_renders_as_invalid_dpop_proof(failure: DPoPFailure) -> None:
    error = InvalidDPoPProofError(failure)
    assert isinstance(error, BearerError)
    assert (error.status_code, error.error, error.failure) == (401, "invalid_dpop_proof", failure)
    assert error.body() == {"error": "invalid_dpop_proof", "error_description": failure.value}
    assert error.www_authenticate("api") == (
        f'Bearer realm="api", error="invalid_dpop_proof", error_description="{failure.value}"'
    )


def test_the_default_failure_is_malformed() -> None:
    error = InvalidDPoPProofError()
    assert (error.failure, error.description, error.detail) == (
        DPoPFailure.MALFORMED,
        "The DPoP proof is malformed",
        None,
    )


def test_use_dpop_nonce_carries_the_nonce_header() -> None:
    error = UseDPoPNonceError("eyJ7S_zG.eyJH0-Z.HX4w-7v")
    assert (error.status_code, error.error) == (401, "use_dpop_nonce")
    assert error.json_bytes() == (
        b'{"error":"use_dpop_nonce",'
        b'"error_description":"The DPoP proof must carry the server nonce"}'
    )
    assert error.response_headers("api")[-1] == ("dpop-nonce", "eyJ7S_zG.eyJH0-Z.HX4w-7v")


@pytest.mark.parametrize("nonce", ["", "a b", 'a"b', "a\\b", "é", "a\r\nx: y"])
def test_a_nonce_that_is_not_header_safe_is_refused(nonce: str) -> None:
    with pytest.raises(ValueError, match="NQCHAR"):
        UseDPoPNonceError(nonce)


def test_replay_store_unavailable_is_a_503_without_challenge() -> None:
    error = ReplayStoreUnavailableError(retry_after=2.1)
    assert isinstance(error, UnavailableError)
    assert not isinstance(error, KeysUnavailableError)
    assert error.status_code == 503
    assert error.response("api") == (
        503,
        [
            ("content-type", "application/json"),
            ("retry-after", "3"),
            ("cache-control", "no-store"),
        ],
        b'{"error":"temporarily_unavailable",'
        b'"error_description":"The DPoP replay check cannot be made right now; retry later"}',
    )


def test_keys_unavailable_renders_as_before() -> None:
    error = KeysUnavailableError(retry_after=0)
    assert isinstance(error, UnavailableError)
    assert error.retry_after == 1
    assert error.body() == {
        "error": "temporarily_unavailable",
        "error_description": "The signing keys cannot be fetched right now; retry later",
    }
