"""extract_token: RFC 6750 §2.1 header and §2.3 query parsing, table-driven and property-based."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scopegate._bearer import B64TOKEN, extract_token
from scopegate.errors import BearerError, InvalidRequestError

JWT_LIKE = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.a-b_c~d+e/f=="

EMPTY = "The bearer token is empty"
NOT_B64 = "The bearer token has characters outside b64token"
MULTIPLE_HEADERS = "The request has more than one Authorization header"
MULTIPLE_QUERY = "The request has more than one access_token parameter"
MULTIPLE_METHODS = "The request uses more than one method to send a token"
HEADER_TOO_LARGE = "The Authorization header is too large"
QUERY_TOO_LARGE = "The access_token parameter is too large"

ACCEPTED = [
    pytest.param([], [], None, id="nothing"),
    pytest.param(["Bearer abc"], [], "abc", id="bearer"),
    pytest.param(["bearer abc"], [], "abc", id="lower-scheme"),
    pytest.param(["BEARER abc"], [], "abc", id="upper-scheme"),
    pytest.param(["bEaReR abc"], [], "abc", id="mixed-scheme"),
    pytest.param(["Bearer   abc"], [], "abc", id="several-spaces"),
    pytest.param([" \tBearer abc \t"], [], "abc", id="surrounding-whitespace"),
    pytest.param(["Bearer abc=="], [], "abc==", id="padding"),
    pytest.param([f"Bearer {JWT_LIKE}"], [], JWT_LIKE, id="every-b64token-char"),
    pytest.param(["Basic dXNlcjpwYXNz"], [], None, id="basic-scheme"),
    pytest.param(['Digest username="x", realm="api"'], [], None, id="digest-with-commas"),
    pytest.param(["Basic a,b"], [], None, id="basic-with-comma"),
    pytest.param([""], [], None, id="empty-header"),
    pytest.param(["Bearerabc"], [], None, id="scheme-without-space"),
    pytest.param(["Bearer2 abc"], [], None, id="other-scheme-prefix"),
    pytest.param([], ["abc"], "abc", id="query"),
    pytest.param([], [JWT_LIKE], JWT_LIKE, id="query-jwt"),
    pytest.param(["Basic dXNlcjpwYXNz"], ["abc"], "abc", id="basic-header-and-query"),
]

REJECTED = [
    pytest.param(["Bearer"], [], EMPTY, id="scheme-only"),
    pytest.param(["Bearer "], [], EMPTY, id="scheme-and-space"),
    pytest.param(["bearer  \t "], [], EMPTY, id="scheme-and-blanks"),
    pytest.param(["Bearer abc def"], [], NOT_B64, id="space-inside"),
    pytest.param(["Bearer a=b"], [], NOT_B64, id="padding-inside"),
    pytest.param(["Bearer =abc"], [], NOT_B64, id="padding-first"),
    pytest.param(["Bearer ==="], [], NOT_B64, id="padding-only"),
    pytest.param(["Bearer abc\n"], [], NOT_B64, id="trailing-newline"),
    pytest.param(["Bearer abc;"], [], NOT_B64, id="semicolon"),
    pytest.param(['Bearer "abc"'], [], NOT_B64, id="quoted"),
    pytest.param(["Bearer abc\\"], [], NOT_B64, id="backslash"),
    pytest.param(["Bearer ab\u00e9"], [], NOT_B64, id="latin-1"),
    pytest.param(["Bearer ab\u0661"], [], NOT_B64, id="non-ascii-digit"),
    pytest.param(["Bearer a\x00b"], [], NOT_B64, id="nul"),
    pytest.param(["Bearer a", "Bearer b"], [], MULTIPLE_HEADERS, id="two-bearer-headers"),
    pytest.param(["Basic x", "Bearer b"], [], MULTIPLE_HEADERS, id="basic-and-bearer"),
    pytest.param(["Basic x", "Basic y"], [], MULTIPLE_HEADERS, id="two-basic-headers"),
    pytest.param(["Bearer abc, Bearer def"], [], MULTIPLE_HEADERS, id="comma-joined-bearers"),
    pytest.param(["Basic x, Bearer def"], [], MULTIPLE_HEADERS, id="comma-joined-basic-bearer"),
    pytest.param(["Bearer abc,def"], [], MULTIPLE_HEADERS, id="comma-in-token"),
    pytest.param(["Bearer"], ["abc"], EMPTY, id="bad-header-checked-first"),
    pytest.param(["Bearer abc"], ["abc"], MULTIPLE_METHODS, id="header-and-query"),
    pytest.param([], ["abc", "abc"], MULTIPLE_QUERY, id="two-query-values"),
    pytest.param(["Bearer abc"], ["a", "b"], MULTIPLE_QUERY, id="header-and-two-query-values"),
    pytest.param([], [""], EMPTY, id="empty-query"),
    pytest.param([], ["a b"], NOT_B64, id="query-space"),
    pytest.param([], ["Bearer abc"], NOT_B64, id="query-with-scheme"),
    pytest.param([], ["abc\n"], NOT_B64, id="query-newline"),
]


@pytest.mark.parametrize(("authorization", "query", "expected"), ACCEPTED)
def test_extract_token(authorization: list[str], query: list[str], expected: str | None) -> None:
    assert extract_token(authorization, query) == expected


@pytest.mark.parametrize(("authorization", "query", "description"), REJECTED)
def test_extract_token_rejects(
    authorization: list[str], query: list[str], description: str
) -> None:
    with pytest.raises(InvalidRequestError) as info:
        extract_token(authorization, query)
    assert info.value.description == description
    assert info.value.status_code == 400
    assert info.value.error == "invalid_request"


@pytest.mark.parametrize(
    ("authorization", "query", "expected"),
    [
        pytest.param(["Bearer " + "a" * 9], [], "a" * 9, id="header-at-limit"),
        pytest.param(["Bearer " + "a" * 10], [], HEADER_TOO_LARGE, id="header-over-limit"),
        pytest.param(["Basic " + "a" * 11], [], HEADER_TOO_LARGE, id="other-scheme-over-limit"),
        pytest.param([], ["a" * 16], "a" * 16, id="query-at-limit"),
        pytest.param([], ["a" * 17], QUERY_TOO_LARGE, id="query-over-limit"),
    ],
)
def test_max_length(authorization: list[str], query: list[str], expected: str) -> None:
    try:
        result = extract_token(authorization, query, max_length=16)
    except InvalidRequestError as exc:
        result = exc.description
    assert result == expected


# --- properties -------------------------------------------------------------------------------

B64TOKENS = st.from_regex(r"[A-Za-z0-9\-._~+/]+=*", fullmatch=True)
SCHEMES = st.sampled_from(["Bearer ", "bearer ", "BEARER ", "Basic ", "Bearer", " Bearer  ", ""])
LATIN_1 = st.binary(max_size=64).map(lambda raw: raw.decode("latin-1"))
HEADER_VALUES = st.one_of(
    st.text(max_size=64),
    LATIN_1,
    st.tuples(SCHEMES, st.text(max_size=64)).map("".join),
    st.tuples(SCHEMES, LATIN_1).map("".join),
    st.tuples(SCHEMES, B64TOKENS).map("".join),
)
QUERY_VALUES = st.one_of(st.text(max_size=64), LATIN_1, B64TOKENS)


def outcome(authorization: Sequence[str], query: Sequence[str]) -> str | None:
    """The token, or None; any BearerError is a 400 invalid_request; nothing else escapes."""
    error: BearerError | None = None
    token = None
    try:
        token = extract_token(authorization, query)
    except BearerError as exc:
        error = exc
    if error is not None:
        assert isinstance(error, InvalidRequestError)
        assert error.status_code == 400
    if token is not None:
        assert isinstance(token, str)
        assert B64TOKEN.match(token)
        assert any(token in value for value in (*authorization, *query))
    return token


@settings(max_examples=300, deadline=None)
@given(
    authorization=st.lists(HEADER_VALUES, max_size=3),
    query=st.lists(QUERY_VALUES, max_size=3),
)
def test_any_input_gives_token_none_or_bearer_error(
    authorization: list[str], query: list[str]
) -> None:
    outcome(authorization, query)


@settings(max_examples=300, deadline=None)
@given(raw=st.lists(st.binary(max_size=64), min_size=1, max_size=3))
def test_latin_1_headers_from_the_wire(raw: list[bytes]) -> None:
    values = [value.decode("latin-1") for value in raw]
    outcome(values, [])
    outcome([], values)


@settings(max_examples=300, deadline=None)
@given(token=B64TOKENS, upper=st.lists(st.booleans(), min_size=6, max_size=6))
def test_any_b64token_in_any_scheme_case(token: str, upper: list[bool]) -> None:
    scheme = "".join(c.upper() if up else c for c, up in zip("bearer", upper, strict=True))
    assert extract_token([f"{scheme} {token}"]) == token
    assert extract_token([], [token]) == token


@settings(max_examples=200, deadline=None)
@given(token=B64TOKENS, other=st.text(min_size=1, max_size=32))
def test_any_second_value_is_refused(token: str, other: str) -> None:
    with pytest.raises(InvalidRequestError) as info:
        extract_token([f"Bearer {token}", other])
    assert info.value.description == MULTIPLE_HEADERS
    with pytest.raises(InvalidRequestError) as info:
        extract_token([f"Bearer {token}"], [token])
    assert info.value.description == MULTIPLE_METHODS
