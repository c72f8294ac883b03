"""Claim rules: what a signed payload must contain to be an acceptable access token.

Pure functions of the claims, the settings and the current time, so the same
rules serve a fresh verification and a cached token, under a real or a test
clock. Each broken rule raises :class:`~scopegate.errors.InvalidTokenError`
with its :class:`~scopegate.errors.TokenFailure`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from types import MappingProxyType
from typing import Any

from scopegate.errors import InvalidTokenError, TokenFailure
from scopegate.scopes import granted_scopes
from scopegate.settings import Settings
from scopegate.token import AccessToken

__all__ = ["ACCEPTED_TYPES", "MAX_TIMESTAMP", "build_access_token", "check_header", "check_times"]

# RFC 9068 §2.1 asks for at+jwt; plain JWT is what Auth0 and most servers send.
ACCEPTED_TYPES = frozenset({"jwt", "at+jwt", "application/at+jwt"})
# 9999-12-31T23:59:59Z: past it a timestamp cannot be a datetime.
MAX_TIMESTAMP = 253_402_300_799


def check_header(header: Any) -> None:
    """Reject header parameters scopegate does not understand or accept."""
    if not isinstance(header, dict):
        raise InvalidTokenError(TokenFailure.MALFORMED)
    if "crit" in header or header.get("b64", True) is not True:
        # No JWS extension is understood here, so any critical one must fail (RFC 7515 §4.1.11).
        raise InvalidTokenError(TokenFailure.HEADER)
    typ = header.get("typ")
    if typ is not None and (not isinstance(typ, str) or typ.lower() not in ACCEPTED_TYPES):
        raise InvalidTokenError(TokenFailure.TYPE)


def _timestamp(claims: Mapping[str, Any], name: str) -> float | None:
    value = claims.get(name)
    if value is None:
        return None
    # bool is an int in Python but never a NumericDate; strings are not either.
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidTokenError(TokenFailure.CLAIM_TYPE)
    # Written so NaN fails too, and a huge int is never converted to float.
    if not 0 <= value <= MAX_TIMESTAMP:
        raise InvalidTokenError(TokenFailure.CLAIM_TYPE)
    return float(value)


def check_times(claims: Mapping[str, Any], now: float, leeway: float) -> float:
    """Check ``exp`` (required), ``nbf`` and ``iat``; return ``exp``."""
    exp = _timestamp(claims, "exp")
    if exp is None:
        raise InvalidTokenError(TokenFailure.MISSING_CLAIM)
    nbf = _timestamp(claims, "nbf")
    iat = _timestamp(claims, "iat")
    if now >= exp + leeway:
        raise InvalidTokenError(TokenFailure.EXPIRED)
    if (nbf is not None and nbf > now + leeway) or (iat is not None and iat > now + leeway):
        raise InvalidTokenError(TokenFailure.NOT_YET_VALID)
    return exp


def _optional_str(claims: Mapping[str, Any], name: str) -> str | None:
    value = claims.get(name)
    if value is not None and not isinstance(value, str):
        raise InvalidTokenError(TokenFailure.CLAIM_TYPE)
    return value


def _audience(claims: Mapping[str, Any], identifier: str) -> tuple[str, ...]:
    aud = claims.get("aud")
    if aud is None:
        raise InvalidTokenError(TokenFailure.MISSING_CLAIM)
    audience = (aud,) if isinstance(aud, str) else aud
    if not isinstance(audience, list | tuple) or not all(isinstance(a, str) for a in audience):
        raise InvalidTokenError(TokenFailure.CLAIM_TYPE)
    if identifier not in audience:
        raise InvalidTokenError(TokenFailure.AUDIENCE)
    return tuple(audience)


def build_access_token(claims: dict[str, Any], settings: Settings, now: float) -> AccessToken:
    """Apply every claim rule to a verified payload and build the :class:`AccessToken`."""
    exp = check_times(claims, now, settings.leeway)
    audience = _audience(claims, settings.identifier)
    issuer = _optional_str(claims, "iss")
    if settings.issuer is not None and issuer != settings.issuer:
        raise InvalidTokenError(TokenFailure.ISSUER)
    subject = _optional_str(claims, "sub")
    client_id = _optional_str(claims, "azp") or _optional_str(claims, "client_id")
    try:
        scopes = granted_scopes(claims, settings.scope_claims)
    except TypeError:
        raise InvalidTokenError(TokenFailure.CLAIM_TYPE) from None
    iat = _timestamp(claims, "iat")
    return AccessToken(
        claims=MappingProxyType(claims),
        subject=subject,
        client_id=client_id,
        scopes=scopes,
        audience=audience,
        issuer=issuer,
        expires_at=datetime.fromtimestamp(exp, timezone.utc),
        issued_at=None if iat is None else datetime.fromtimestamp(iat, timezone.utc),
    )
