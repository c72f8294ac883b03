"""Scopes: reading granted scopes from claims and checking required ones.

Granted scopes come from a space-delimited string (RFC 8693 §4.2, RFC 9068
§2.2.3) or a JSON array of strings (Auth0's ``permissions``). Matching is exact
and case-sensitive: ``readonly`` never grants ``read``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from scopegate.errors import InsufficientScopeError

__all__ = [
    "SCOPE_TOKEN",
    "ScopeRequirement",
    "check_scopes",
    "granted_scopes",
    "has_all_scopes",
    "has_any_scope",
    "is_scope_token",
    "parse_scopes",
    "required_scopes",
]

# RFC 6749 §3.3 (and RFC 6750 §3): scope-token = 1*( %x21 / %x23-5B / %x5D-7E ).
SCOPE_TOKEN = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]+\Z")


def is_scope_token(value: str) -> bool:
    """True when ``value`` is one RFC 6749 §3.3 ``scope-token`` (printable ASCII, no space,
    quote or backslash)."""
    return SCOPE_TOKEN.match(value) is not None


def parse_scopes(scopes: str | Iterable[str]) -> tuple[str, ...]:
    """The scopes in a scope string, or in several: the one rule for splitting them.

    RFC 6749 §3.3: scopes are separated by spaces (``%x20``) and nothing else;
    a tab, a newline or a comma is not a separator but a character no scope may
    hold, so ``"a\tb"`` is refused, never read as two scopes. Empty parts (two
    spaces, a leading space) are skipped. A string is one list, never a list of
    characters; each item of an iterable may hold several scopes. Order is
    kept, duplicates are dropped; no scope at all is an empty tuple.

    Raises:
        TypeError: an item is not a string (a list passed as one item, for instance).
        ValueError: a scope with characters outside the ``scope-token`` grammar.
    """
    items = (scopes,) if isinstance(scopes, str) else scopes
    result: dict[str, None] = {}
    for item in items:
        if not isinstance(item, str):
            raise TypeError(f"scopes must be strings, got {type(item).__name__}")
        for scope in item.split(" "):
            if not scope:
                continue
            if not SCOPE_TOKEN.match(scope):
                raise ValueError(f"{scope!r} is not a valid scope (RFC 6749 section 3.3)")
            result[scope] = None
    return tuple(result)


def required_scopes(scopes: str | Iterable[str]) -> tuple[str, ...]:
    """Normalise the scopes a route asks for: :func:`parse_scopes`, and at least one.

    Raises:
        TypeError: an argument is not a string.
        ValueError: no scope at all, or a scope :func:`parse_scopes` refuses.
    """
    result = parse_scopes(scopes)
    if not result:
        raise ValueError("at least one scope is required")
    return result


def _scopes_of(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        return (scope for scope in value.split(" ") if scope)
    if isinstance(value, list) and all(isinstance(scope, str) for scope in value):
        return (scope for scope in value if scope)
    raise TypeError("a scope claim must be a string or an array of strings")


def granted_scopes(claims: Mapping[str, Any], scope_claims: Sequence[str]) -> frozenset[str]:
    """The union of the scopes granted by ``scope_claims`` (absent claims grant nothing).

    Raises:
        TypeError: a scope claim is present but neither a string nor an array
            of strings.
    """
    granted: set[str] = set()
    for name in scope_claims:
        value = claims.get(name)
        if value is not None:
            granted.update(_scopes_of(value))
    return frozenset(granted)


def has_all_scopes(granted: frozenset[str], required: str | Iterable[str]) -> bool:
    """True when every required scope (read by :func:`parse_scopes`) was granted."""
    return granted.issuperset(parse_scopes(required))


def has_any_scope(granted: frozenset[str], required: str | Iterable[str]) -> bool:
    """True when at least one required scope (read by :func:`parse_scopes`) was granted."""
    return not granted.isdisjoint(parse_scopes(required))


@dataclass(frozen=True, slots=True)
class ScopeRequirement:
    """What a route asks for, normalised once when the route is declared.

    Build it with :meth:`of`; :meth:`check` is then one set operation per request.
    """

    scopes: tuple[str, ...]
    any_of: bool = False
    _set: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_set", frozenset(self.scopes))

    @classmethod
    def of(cls, scopes: Iterable[str], *, any_of: bool = False) -> ScopeRequirement:
        """The requirement for ``scopes`` (normalised and validated by :func:`required_scopes`)."""
        return cls(required_scopes(scopes), any_of)

    def satisfied_by(self, granted: frozenset[str]) -> bool:
        """True when ``granted`` meets the requirement."""
        if self.any_of:
            return not self._set.isdisjoint(granted)
        return self._set <= granted

    def check(self, granted: frozenset[str]) -> None:
        """Raise :class:`InsufficientScopeError` unless ``granted`` meets the requirement."""
        if not self.satisfied_by(granted):
            raise InsufficientScopeError(self.scopes, any_of=self.any_of)


def check_scopes(granted: frozenset[str], required: Sequence[str], *, any_of: bool = False) -> None:
    """Raise :class:`InsufficientScopeError` unless ``granted`` satisfies ``required``."""
    ScopeRequirement.of(required, any_of=any_of).check(granted)
