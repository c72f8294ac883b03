"""Scopes: reading granted scopes from claims and checking required ones.

Granted scopes come from a space-delimited string (RFC 8693 §4.2, RFC 9068
§2.2.3) or a JSON array of strings (Auth0's ``permissions``). Matching is exact
and case-sensitive: ``readonly`` never grants ``read``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from scopegate.errors import SCOPE_TOKEN, InsufficientScopeError

__all__ = [
    "ScopeRequirement",
    "check_scopes",
    "granted_scopes",
    "has_all_scopes",
    "has_any_scope",
    "required_scopes",
]


def required_scopes(scopes: Iterable[str]) -> tuple[str, ...]:
    """Normalise the scopes a route asks for.

    Each argument may hold several space-delimited scopes (``"read write"`` is
    two scopes, never a set of characters). Order is kept, duplicates dropped.

    Raises:
        TypeError: an argument is not a string (a list passed as one argument,
            for instance).
        ValueError: no scope at all, or a scope with characters outside the
            RFC 6749 §3.3 ``scope-token`` grammar.
    """
    if isinstance(scopes, str):  # a str is an Iterable[str] of characters: never check those
        scopes = (scopes,)
    result: dict[str, None] = {}
    for item in scopes:
        if not isinstance(item, str):
            raise TypeError(f"scopes must be strings, got {type(item).__name__}")
        for scope in item.split(" "):
            if not scope:
                continue
            if not SCOPE_TOKEN.match(scope):
                raise ValueError(f"{scope!r} is not a valid scope (RFC 6749 section 3.3)")
            result[scope] = None
    if not result:
        raise ValueError("at least one scope is required")
    return tuple(result)


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


def has_all_scopes(granted: frozenset[str], required: Iterable[str]) -> bool:
    """True when every required scope was granted (a str is one space-delimited list)."""
    return granted.issuperset(required_scopes(required) if isinstance(required, str) else required)


def has_any_scope(granted: frozenset[str], required: Iterable[str]) -> bool:
    """True when at least one required scope was granted (a str is one space-delimited list)."""
    return not granted.isdisjoint(
        required_scopes(required) if isinstance(required, str) else required
    )


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
