"""Scopes: normalising required scopes, reading granted ones, and the exact-match checks."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pytest

from scopegate._scopes import (
    check_scopes,
    granted_scopes,
    has_all_scopes,
    has_any_scope,
    required_scopes,
)
from scopegate.errors import InsufficientScopeError


@pytest.mark.parametrize(
    ("scopes", "expected"),
    [
        pytest.param(("read",), ("read",), id="one"),
        pytest.param(("read write",), ("read", "write"), id="space-delimited"),
        pytest.param(("  read   write  ",), ("read", "write"), id="extra-spaces"),
        pytest.param(("write", "read"), ("write", "read"), id="order-kept"),
        pytest.param(("read", "write read", "read"), ("read", "write"), id="duplicates-dropped"),
        pytest.param(("Read", "read"), ("Read", "read"), id="case-sensitive"),
        pytest.param(
            ("read:messages", "a/b~c!#$"), ("read:messages", "a/b~c!#$"), id="punctuation"
        ),
        pytest.param(["read", "write"], ("read", "write"), id="list-of-strings"),
        pytest.param((s for s in ["a", "b"]), ("a", "b"), id="generator"),
        # The docstring: '"read write" is two scopes, never a set of characters'.
        pytest.param("read write", ("read", "write"), id="bare-string"),
    ],
)
def test_required_scopes(scopes: Iterable[str], expected: tuple[str, ...]) -> None:
    assert required_scopes(scopes) == expected


@pytest.mark.parametrize(
    ("scopes", "error", "message"),
    [
        pytest.param((["read"],), TypeError, "scopes must be strings, got list", id="list-arg"),
        pytest.param((("read",),), TypeError, "scopes must be strings, got tuple", id="tuple-arg"),
        pytest.param((5,), TypeError, "scopes must be strings, got int", id="int"),
        pytest.param((None,), TypeError, "scopes must be strings, got NoneType", id="none"),
        pytest.param((b"read",), TypeError, "scopes must be strings, got bytes", id="bytes"),
        pytest.param((), ValueError, "at least one scope is required", id="nothing"),
        pytest.param(("",), ValueError, "at least one scope is required", id="empty"),
        pytest.param(("   ",), ValueError, "at least one scope is required", id="blank"),
        pytest.param(
            ('read"',),
            ValueError,
            "'read\"' is not a valid scope (RFC 6749 section 3.3)",
            id="quote",
        ),
        pytest.param(
            ("a\\b",),
            ValueError,
            "'a\\\\b' is not a valid scope (RFC 6749 section 3.3)",
            id="bslash",
        ),
        pytest.param(
            ("read\twrite",),
            ValueError,
            "'read\\twrite' is not a valid scope (RFC 6749 section 3.3)",
            id="tab",
        ),
        pytest.param(
            ("réad",), ValueError, "'réad' is not a valid scope (RFC 6749 section 3.3)", id="accent"
        ),
        pytest.param(
            ("ok", "x\ny"),
            ValueError,
            "'x\\ny' is not a valid scope (RFC 6749 section 3.3)",
            id="nl",
        ),
    ],
)
def test_required_scopes_rejects(scopes: Any, error: type[Exception], message: str) -> None:
    with pytest.raises(error) as info:
        required_scopes(scopes)
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("claims", "scope_claims", "expected"),
    [
        pytest.param({"scope": "a b"}, ["scope"], {"a", "b"}, id="string"),
        pytest.param({"scope": " a  b "}, ["scope"], {"a", "b"}, id="string-extra-spaces"),
        pytest.param({"scope": ["a", "b"]}, ["scope"], {"a", "b"}, id="array"),
        pytest.param({"scope": ""}, ["scope"], set(), id="empty-string"),
        pytest.param({"scope": []}, ["scope"], set(), id="empty-array"),
        pytest.param({}, ["scope"], set(), id="absent"),
        pytest.param({"scope": None}, ["scope"], set(), id="null"),
        pytest.param(
            {"scope": "a b", "permissions": ["b", "c"]},
            ["scope", "permissions"],
            {"a", "b", "c"},
            id="union",
        ),
        pytest.param({"scope": "a", "permissions": ["b"]}, ["scope"], {"a"}, id="only-configured"),
        pytest.param(
            {"scope": 5, "permissions": ["b"]}, ["permissions"], {"b"}, id="other-ignored"
        ),
    ],
)
def test_granted_scopes(
    claims: dict[str, Any], scope_claims: list[str], expected: set[str]
) -> None:
    granted = granted_scopes(claims, scope_claims)
    assert granted == frozenset(expected)
    assert type(granted) is frozenset


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(5, id="number"),
        pytest.param(True, id="bool"),
        pytest.param([1, 2], id="list-of-ints"),
        pytest.param(["a", None], id="list-with-null"),
        pytest.param([["a"]], id="nested-list"),
        pytest.param({"a": True}, id="object"),
        pytest.param(("a",), id="tuple"),
    ],
)
def test_granted_scopes_rejects_wrong_types(value: object) -> None:
    with pytest.raises(TypeError) as info:
        granted_scopes({"permissions": value}, ["scope", "permissions"])
    assert str(info.value) == "a scope claim must be a string or an array of strings"


GRANTED = frozenset({"read", "write", "readonly:all"})


@pytest.mark.parametrize(
    ("required", "has_all", "has_any"),
    [
        pytest.param(("read",), True, True, id="one-granted"),
        pytest.param(("read", "write"), True, True, id="all-granted"),
        pytest.param(("read", "admin"), False, True, id="one-missing"),
        pytest.param(("admin",), False, False, id="none-granted"),
        pytest.param(("readonly",), False, False, id="prefix-of-granted"),
        pytest.param(("readonly:all",), True, True, id="exact-long"),
        pytest.param(("Read",), False, False, id="other-case"),
        pytest.param(("rea",), False, False, id="substring"),
    ],
)
def test_has_all_and_any(required: tuple[str, ...], has_all: bool, has_any: bool) -> None:
    assert has_all_scopes(GRANTED, required) is has_all
    assert has_any_scope(GRANTED, required) is has_any


def test_readonly_never_grants_read() -> None:
    assert has_all_scopes(frozenset({"readonly"}), ["read"]) is False
    assert has_any_scope(frozenset({"readonly"}), ["read"]) is False


@pytest.mark.parametrize(
    ("required", "any_of"),
    [
        pytest.param(("read", "write"), False, id="all"),
        pytest.param(("admin", "write"), True, id="any"),
    ],
)
def test_check_scopes_passes(required: tuple[str, ...], any_of: bool) -> None:
    check_scopes(GRANTED, required, any_of=any_of)  # raises nothing


@pytest.mark.parametrize(
    ("granted", "required", "any_of", "description"),
    [
        pytest.param(
            GRANTED,
            ("read", "admin"),
            False,
            "The access token lacks the scopes this resource requires",
            id="all-one-missing",
        ),
        pytest.param(
            GRANTED,
            ("admin", "root"),
            True,
            "The access token lacks one of the scopes this resource requires",
            id="any-none-granted",
        ),
        pytest.param(
            frozenset({"readonly"}),
            ("read",),
            False,
            "The access token lacks the scopes this resource requires",
            id="readonly-is-not-read",
        ),
        pytest.param(
            frozenset(),
            ("read",),
            True,
            "The access token lacks one of the scopes this resource requires",
            id="nothing-granted",
        ),
    ],
)
def test_check_scopes_raises(
    granted: frozenset[str], required: tuple[str, ...], any_of: bool, description: str
) -> None:
    with pytest.raises(InsufficientScopeError) as info:
        check_scopes(granted, required, any_of=any_of)
    error = info.value
    assert error.required_scopes == required
    assert error.scope == " ".join(required)
    assert error.any_of is any_of
    assert error.description == description
    assert error.status_code == 403
    assert error.body() == {
        "error": "insufficient_scope",
        "error_description": description,
        "scope": " ".join(required),
    }
