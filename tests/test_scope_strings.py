"""One rule for a scope string (RFC 6749 §3.3), and every place that reads one follows it.

Scopes are separated by single spaces (``%x20``) only: ``"a\\tb"`` is one invalid
scope to a route guard, to ``mint_token``, to ``scopegate token``, to the
client, to the Management API payloads and to the local authorization server.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scopegate._scopes import ScopeRequirement, is_scope_token, parse_scopes, required_scopes
from scopegate.authserver.errors import OAuthError
from scopegate.authserver.http.token_endpoint import _requested_scopes
from scopegate.cli import main
from scopegate.client import ClientCredentialsAuth
from scopegate.client._payload import scope_list
from scopegate.testing import mint_token, test_settings

SCOPE_CHARS = st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters='"\\')


@pytest.mark.parametrize(
    ("scopes", "expected"),
    [
        pytest.param("", (), id="empty"),
        pytest.param("   ", (), id="only-spaces"),
        pytest.param("a b", ("a", "b"), id="space"),
        pytest.param(" a  b ", ("a", "b"), id="extra-spaces"),
        pytest.param(["b a", "a"], ("b", "a"), id="list-order-and-duplicates"),
        pytest.param(("read:messages",), ("read:messages",), id="tuple"),
        pytest.param([], (), id="no-items"),
    ],
)
def test_parse_scopes(scopes: str | Iterable[str], expected: tuple[str, ...]) -> None:
    assert parse_scopes(scopes) == expected


@pytest.mark.parametrize(
    "scopes",
    [
        pytest.param("a\tb", id="tab"),
        pytest.param("a\nb", id="newline"),
        pytest.param("a\u00a0b", id="no-break-space"),
        pytest.param('a"b', id="quote"),
        pytest.param("a\\b", id="backslash"),
        pytest.param(["ok", "a\tb"], id="tab-in-a-list"),
    ],
)
def test_parse_scopes_refuses_what_is_not_a_scope_token(scopes: str | list[str]) -> None:
    with pytest.raises(ValueError, match="is not a valid scope"):
        parse_scopes(scopes)


def test_parse_scopes_refuses_a_non_string_item() -> None:
    with pytest.raises(TypeError, match="scopes must be strings, got list"):
        parse_scopes([["a"]])  # type: ignore[list-item]


@given(st.lists(st.text(SCOPE_CHARS, min_size=1, max_size=8), max_size=6))
def test_parse_scopes_reads_back_what_a_space_joins(scopes: list[str]) -> None:
    assert parse_scopes(" ".join(scopes)) == tuple(dict.fromkeys(scopes))
    assert all(is_scope_token(scope) for scope in scopes)


@given(st.text(max_size=20))
def test_parse_scopes_never_fails_otherwise(text: str) -> None:
    try:
        result = parse_scopes(text)
    except ValueError:
        assert any(not is_scope_token(part) for part in text.split(" ") if part)
    else:
        assert all(is_scope_token(scope) for scope in result)
        assert parse_scopes(" ".join(result)) == result


def _guard(scopes: str) -> Any:
    return ScopeRequirement.of([scopes])


def _mint(scopes: str) -> Any:
    return mint_token(test_settings(), scopes=[scopes])


def _client(scopes: str) -> Any:
    return ClientCredentialsAuth("http://127.0.0.1:1/oauth/token", "id", "secret", "urn:a", scopes)


@pytest.mark.parametrize(
    "reader",
    [
        pytest.param(required_scopes, id="required_scopes"),
        pytest.param(_guard, id="route-guard"),
        pytest.param(_mint, id="mint_token"),
        pytest.param(_client, id="ClientCredentialsAuth"),
        pytest.param(scope_list, id="management-payload"),
    ],
)
def test_a_tab_is_one_invalid_scope_everywhere(reader: Callable[[str], Any]) -> None:
    with pytest.raises(ValueError, match=r"'a\\tb' is not a valid scope \(RFC 6749 section 3.3\)"):
        reader("a\tb")


@pytest.mark.parametrize(
    "reader",
    [
        pytest.param(lambda s: required_scopes(s), id="required_scopes"),
        pytest.param(lambda s: _client(s).scope.split(" "), id="ClientCredentialsAuth"),
        pytest.param(scope_list, id="management-payload"),
        pytest.param(lambda s: _requested_scopes(s, ("a", "b")), id="token-endpoint"),
    ],
)
def test_spaces_split_the_same_everywhere(reader: Callable[[str], Iterable[str]]) -> None:
    assert list(reader(" a  b a ")) == ["a", "b"]


def test_the_token_endpoint_refuses_a_tab_as_a_malformed_scope() -> None:
    with pytest.raises(OAuthError) as caught:
        _requested_scopes("a\tb", ("a", "b", "a\tb"))
    assert (caught.value.error, caught.value.description) == (
        "invalid_scope",
        "The requested scope is malformed.",
    )


def test_scopegate_token_refuses_a_tab(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["token", "--scope", "a\tb"])
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert err.endswith(
        "scopegate token: error: argument --scope: 'a\\tb' is not a valid scope "
        "(RFC 6749 section 3.3)\n"
    )
