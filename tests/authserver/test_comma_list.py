"""``fields`` and ``app_type``: one reading of Auth0's comma-separated query values."""

from __future__ import annotations

import pytest

from scopegate.authserver.http.listing import Fields, Query
from scopegate.authserver.storage.records import Page


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param(None, [], id="absent"),
        pytest.param("", [], id="empty"),
        pytest.param("a", ["a"], id="one"),
        pytest.param("a,b", ["a", "b"], id="two"),
        pytest.param(" a , b ,", ["a", "b"], id="spaces-and-trailing-comma"),
        pytest.param(",,", [], id="only-commas"),
        pytest.param("a b", ["a b"], id="a-space-is-not-a-separator"),
    ],
)
def test_comma_list(raw: str | None, expected: list[str]) -> None:
    params = {} if raw is None else {"fields": [raw]}
    assert Query(Page(), False, Fields(), None, params).comma_list("fields") == expected
