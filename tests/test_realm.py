"""The realm rule (its own, not the scope grammar): what can stand in ``realm="..."`` unescaped."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scopegate._errors_base import is_safe_realm
from scopegate._scopes import is_scope_token
from scopegate.errors import InvalidTokenError


@pytest.mark.parametrize(
    ("realm", "safe"),
    [
        pytest.param("api", True, id="word"),
        pytest.param("My Sample API", True, id="single-spaces"),
        pytest.param("https://api.example/v1?x=1", True, id="url"),
        pytest.param("", False, id="empty"),
        pytest.param(" api", False, id="leading-space"),
        pytest.param("api ", False, id="trailing-space"),
        pytest.param("my  api", False, id="double-space"),
        pytest.param('my"api', False, id="quote"),
        pytest.param("my\\api", False, id="backslash"),
        pytest.param("my\tapi", False, id="tab"),
        pytest.param("my\u00e9api", False, id="non-ascii"),
    ],
)
def test_is_safe_realm(realm: str, safe: bool) -> None:
    assert is_safe_realm(realm) is safe


def test_a_realm_may_hold_spaces_a_scope_may_not() -> None:
    assert is_safe_realm("My API")
    assert not is_scope_token("My API")


@given(st.text(max_size=30))
def test_a_safe_realm_renders_as_one_quoted_string(realm: str) -> None:
    if is_safe_realm(realm):
        header = InvalidTokenError().www_authenticate(realm)
        assert header.startswith(f'Bearer realm="{realm}", ')
        assert header.count('"') == 6  # realm, error, error_description: nothing to escape
