"""The claim set of a client-credentials access token, as Auth0 issues it.

One builder for every place that signs such a token: the testing helpers
(:func:`scopegate.testing.mint_token`, hence ``scopegate token``) and the local
authorization server's token endpoint. The claims are ``iss``, ``sub``
(``CLIENT_ID@clients``), ``aud``, ``iat``, ``exp``, ``azp``, ``scope`` and
``gty``; a caller adds what its profile needs (``client_id``, ``jti``,
``cnf``...) through ``extra``. Pure: no clock, no key, no signing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from scopegate._scopes import parse_scopes

__all__ = ["CLIENT_SUFFIX", "client_credentials_claims", "client_subject"]

#: Auth0 names a client-credentials token's subject ``<client_id>@clients``.
CLIENT_SUFFIX = "@clients"


def client_subject(client_id: str) -> str:
    """The ``sub`` of a client-credentials token for ``client_id``."""
    return f"{client_id}{CLIENT_SUFFIX}"


def client_credentials_claims(
    *,
    issuer: str | None,
    client_id: str,
    audience: str | Sequence[str] | None,
    scopes: str | Iterable[str],
    issued_at: float,
    lifetime: float,
    subject: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The payload of a client-credentials token.

    Args:
        issuer: ``iss``; None leaves it out.
        client_id: the client; ``azp`` is it, ``sub`` is ``client_id@clients``.
        audience: ``aud``; None leaves it out.
        scopes: the granted scopes, read by :func:`~scopegate._scopes.parse_scopes`;
            none leaves ``scope`` out.
        issued_at: ``iat``, in seconds since the epoch (whole seconds are kept).
        lifetime: seconds from ``issued_at`` to ``exp`` (negative: already expired).
        subject: ``sub`` instead of ``client_id@clients``.
        extra: claims to add or replace (``cnf``, ``jti``...); a claim given as
            None is removed.

    Raises:
        ValueError: a scope outside the RFC 6749 §3.3 grammar.
    """
    claims: dict[str, Any] = {
        "iss": issuer,
        "sub": client_subject(client_id) if subject is None else subject,
        "aud": audience,
        "iat": int(issued_at),
        "exp": int(issued_at + lifetime),
        "azp": client_id,
        "scope": " ".join(parse_scopes(scopes)) or None,
        "gty": "client-credentials",
    }
    claims.update(extra or {})
    return {name: value for name, value in claims.items() if value is not None}
