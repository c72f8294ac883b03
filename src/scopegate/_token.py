"""The verified access token handed to application code."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from scopegate._scopes import has_all_scopes, has_any_scope, required_scopes

__all__ = ["AccessToken"]


@dataclass(frozen=True, slots=True)
class AccessToken:
    """An access token whose signature and claims have been verified.

    Immutable: ``claims`` is a read-only mapping and ``scopes`` a frozenset.

    Example::

        if token.has_scopes("read:messages"):
            owner = token.identity
    """

    claims: Mapping[str, Any] = field(repr=False)
    subject: str | None
    client_id: str | None
    scopes: frozenset[str]
    audience: tuple[str, ...]
    issuer: str | None
    expires_at: datetime
    issued_at: datetime | None = None
    #: The RFC 7638 thumbprint of the key the token is bound to (``cnf.jkt``,
    #: RFC 9449 §6); None for a bearer token. A bound token is only ever
    #: accepted with a DPoP proof signed by that key.
    confirmation: str | None = None

    @property
    def identity(self) -> str | None:
        """Who the token speaks for: ``sub``, else the client id (``azp``, else
        ``client_id``); None when the token names neither.

        The one identity rule: Starlette's ``request.user.identity``
        (:class:`scopegate.asgi.TokenUser`) is this value, and Flask and
        application code read it here.
        """
        return self.subject or self.client_id

    def has_scopes(self, *scopes: str) -> bool:
        """True when every given scope was granted (``"a b"`` counts as two scopes)."""
        return has_all_scopes(self.scopes, required_scopes(scopes))

    def has_any_scope(self, *scopes: str) -> bool:
        """True when at least one of the given scopes was granted."""
        return has_any_scope(self.scopes, required_scopes(scopes))
