"""extract_credentials and single_proof: the DPoP scheme (RFC 9449 §7.1) and the DPoP header (§4.3).

Table-driven and property-based, like test_bearer.py for the Bearer scheme.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scopegate._bearer import B64TOKEN, Credentials, extract_credentials, single_proof
from scopegate.errors import (
    BearerError,
    DPoPFailure,
    InvalidDPoPProofError,
    InvalidRequestError,
)

TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.a-b_c~d+e/f=="
PROOF = "eyJ0eXAiOiJkcG9wK2p3dCJ9.eyJqdGkiOiJ4In0.c2ln"


@pytest.mark.parametrize(
    ("authorization", "query", "dpop", "expected"),
    [
        pytest.param([f"DPoP {TOKEN}"], [], True, Credentials("DPoP", TOKEN), id="dpop"),
        pytest.param([f"dpop {TOKEN}"], [], True, Credentials("DPoP", TOKEN), id="lower"),
        pytest.param([f"DPOP   {TOKEN}"], [], True, Credentials("DPoP", TOKEN), id="upper-spaces"),
        pytest.param([f"Bearer {TOKEN}"], [], True, Credentials("Bearer", TOKEN), id="bearer"),
        pytest.param([], [TOKEN], True, Credentials("Bearer", TOKEN), id="query-is-bearer"),
        # With DPoP off the scheme is another one, like Basic: no credentials.
        pytest.param([f"DPoP {TOKEN}"], [], False, None, id="dpop-off"),
        pytest.param([f"DPoP{TOKEN}"], [], True, None, id="glued-is-another-scheme"),
        pytest.param(["Basic dXNlcg=="], [], True, None, id="basic"),
    ],
)
def test_accepted(
    authorization: list[str], query: list[str], dpop: bool, expected: Credentials | None
) -> None:
    assert extract_credentials(authorization, query, dpop=dpop) == expected


@pytest.mark.parametrize(
    ("authorization", "query", "description", "scheme"),
    [
        pytest.param(["DPoP "], [], "The DPoP access token is empty", "DPoP", id="empty"),
        pytest.param(["DPoP"], [], "The DPoP access token is empty", "DPoP", id="no-space"),
        pytest.param(
            ["DPoP a b"],
            [],
            "The DPoP access token has characters outside token68",
            "DPoP",
            id="space-inside",
        ),
        pytest.param(
            [f"DPoP {TOKEN}", f"DPoP {TOKEN}"],
            [],
            "The request has more than one Authorization header",
            None,
            id="two-headers",
        ),
        pytest.param(
            [f"DPoP {TOKEN}, Bearer {TOKEN}"],
            [],
            "The request has more than one Authorization header",
            None,
            id="comma-joined",
        ),
        pytest.param(
            [f"DPoP {TOKEN}"],
            [TOKEN],
            "The request uses more than one method to send a token",
            None,
            id="header-and-query",
        ),
    ],
)
def test_refused(
    authorization: list[str], query: list[str], description: str, scheme: str | None
) -> None:
    with pytest.raises(InvalidRequestError) as info:
        extract_credentials(authorization, query, dpop=True)
    assert info.value.description == description
    assert info.value.scheme == scheme


def test_a_comma_beside_dpop_is_a_second_header_only_when_dpop_is_on() -> None:
    assert extract_credentials([f"Basic x, DPoP {TOKEN}"], dpop=False) is None
    with pytest.raises(InvalidRequestError):
        extract_credentials([f"Basic x, DPoP {TOKEN}"], dpop=True)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        pytest.param([PROOF], PROOF, id="one"),
        pytest.param([f"  {PROOF} "], PROOF, id="trimmed"),
        pytest.param([], DPoPFailure.MISSING, id="none"),
        pytest.param([""], DPoPFailure.MISSING, id="empty"),
        pytest.param(["  "], DPoPFailure.MISSING, id="blank"),
        pytest.param([PROOF, PROOF], DPoPFailure.MULTIPLE, id="two-headers"),
        # A WSGI server joins repeated headers with ", "; a compact JWS has no comma.
        pytest.param([f"{PROOF}, {PROOF}"], DPoPFailure.MULTIPLE, id="comma-joined"),
    ],
)
def test_single_proof(values: list[str], expected: str | DPoPFailure) -> None:
    if isinstance(expected, DPoPFailure):
        with pytest.raises(InvalidDPoPProofError) as info:
            single_proof(values)
        assert info.value.failure is expected
        assert (info.value.status_code, info.value.error) == (401, "invalid_dpop_proof")
        assert info.value.scheme == "DPoP"
    else:
        assert single_proof(values) == expected


# --- properties -------------------------------------------------------------------------------

B64TOKENS = st.from_regex(r"[A-Za-z0-9\-._~+/]+=*", fullmatch=True)
SCHEMES = st.sampled_from(["DPoP ", "dpop ", "DPOP ", "Bearer ", "DPoP", " DPoP  ", "Basic ", ""])
LATIN_1 = st.binary(max_size=64).map(lambda raw: raw.decode("latin-1"))
VALUES = st.one_of(
    st.text(max_size=64),
    LATIN_1,
    st.tuples(SCHEMES, st.one_of(st.text(max_size=64), LATIN_1, B64TOKENS)).map("".join),
)


def outcome(authorization: Sequence[str], query: Sequence[str]) -> Credentials | None:
    """Credentials, or None; any error is a 400 invalid_request; nothing else escapes."""
    error: BearerError | None = None
    credentials = None
    try:
        credentials = extract_credentials(authorization, query, dpop=True)
    except BearerError as exc:
        error = exc
    if error is not None:
        assert isinstance(error, InvalidRequestError)
        assert error.status_code == 400
    if credentials is not None:
        assert credentials.scheme in ("Bearer", "DPoP")
        assert B64TOKEN.match(credentials.token)
        assert any(credentials.token in value for value in (*authorization, *query))
    return credentials


@settings(max_examples=300, deadline=None)
@given(authorization=st.lists(VALUES, max_size=3), query=st.lists(VALUES, max_size=2))
def test_any_input_gives_credentials_none_or_a_bearer_error(
    authorization: list[str], query: list[str]
) -> None:
    outcome(authorization, query)


@settings(max_examples=300, deadline=None)
@given(token=B64TOKENS, upper=st.lists(st.booleans(), min_size=4, max_size=4))
def test_any_token_in_any_dpop_scheme_case(token: str, upper: list[bool]) -> None:
    scheme = "".join(c.upper() if up else c for c, up in zip("dpop", upper, strict=True))
    assert extract_credentials([f"{scheme} {token}"], dpop=True) == Credentials("DPoP", token)


@settings(max_examples=300, deadline=None)
@given(values=st.lists(st.one_of(st.text(max_size=64), LATIN_1), max_size=3))
def test_single_proof_returns_one_value_or_refuses(values: list[str]) -> None:
    failure: DPoPFailure | None = None
    try:
        proof = single_proof(values)
    except InvalidDPoPProofError as exc:
        failure = exc.failure
    if failure is not None:
        assert failure in (DPoPFailure.MISSING, DPoPFailure.MULTIPLE)
        return
    assert len(values) == 1
    assert proof == values[0].strip(" \t")
    assert proof
    assert "," not in proof
