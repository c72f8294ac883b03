"""Explain a token: what it says, and exactly why the configured verifier accepts or rejects it.

The verdict always comes from a real :class:`~scopegate.verifier.TokenVerifier`
built from the given settings (with its cache off); the payload is decoded a
second time *without* verification, only to put the specifics into words:
which audience was expected and which one came, when the token expired, which
claim is missing. A report never contains the signing secret.

Unlike an error description sent to a client, a reason may quote claim values:
it is meant for the developer holding the token, never for a response header.
"""

from __future__ import annotations

import base64
import json
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from scopegate.claims import ACCEPTED_TYPES, MAX_TIMESTAMP
from scopegate.errors import InvalidTokenError, KeysUnavailableError, TokenFailure
from scopegate.keysource import KeyRefreshNeeded
from scopegate.settings import Settings, env_name
from scopegate.token import AccessToken
from scopegate.verifier import TokenVerifier

__all__ = ["TIME_CLAIMS", "Report", "explain", "format_time", "relative_time"]

TIME_CLAIMS = ("iat", "nbf", "exp")
_UNITS = (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1))
_MAX_SHOWN = 80  # longest claim value quoted in a reason


@dataclass(frozen=True)
class Report:
    """What :func:`explain` found.

    Attributes:
        header: the JOSE header, decoded without verification (None if unreadable).
        claims: the payload, decoded without verification, for display only
            (None if unreadable).
        valid: the configured verifier's verdict.
        failure: the rule the token broke; None when valid.
        reason: one sentence with the specifics (or the granted scopes when valid).
        scopes: the granted scopes when valid, sorted.
        checked_at: the time the token was checked against (seconds since the epoch).
    """

    header: dict[str, Any] | None
    claims: dict[str, Any] | None
    valid: bool
    failure: TokenFailure | None
    reason: str
    scopes: tuple[str, ...] = ()
    checked_at: float = field(default=0.0)

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data (``scopegate inspect --json``)."""
        dates = {}
        for name in TIME_CLAIMS:
            when = _numeric_date((self.claims or {}).get(name))
            if when is not None:
                dates[name] = {
                    "time": format_time(when),
                    "relative": relative_time(when, self.checked_at),
                }
        return {
            "valid": self.valid,
            "failure": None if self.failure is None else self.failure.name,
            "description": None if self.failure is None else self.failure.value,
            "reason": self.reason,
            "scopes": list(self.scopes),
            "checked_at": format_time(self.checked_at),
            "header": self.header,
            "claims": self.claims,
            "dates": dates,
        }


def format_time(timestamp: float) -> str:
    """A timestamp as an ISO 8601 UTC time, e.g. ``2026-11-26T21:37:49Z``."""
    moment = datetime.fromtimestamp(math.floor(timestamp), timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _duration(seconds: float) -> str:
    for unit, size in _UNITS:
        if seconds >= size:
            count = int(seconds // size)
            return f"{count} {unit}{'' if count == 1 else 's'}"
    return "0 seconds"


def relative_time(timestamp: float, now: float) -> str:
    """``timestamp`` relative to ``now``: ``in 23 hours``, ``2 minutes ago`` or ``now``."""
    delta = timestamp - now
    if abs(delta) < 1:
        return "now"
    return f"in {_duration(delta)}" if delta > 0 else f"{_duration(-delta)} ago"


def _numeric_date(value: Any) -> float | None:
    """``value`` as a timestamp when it is a usable NumericDate, else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if not 0 <= value <= MAX_TIMESTAMP:
        return None
    return float(value)


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 3] + "..."


def _decode_segment(segment: str) -> Any:
    """A base64url-encoded JSON segment; raises ValueError when it is not one."""
    try:
        raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
        return json.loads(raw)
    except RecursionError as exc:
        raise ValueError("nested too deeply") from exc


def _unverified(token: str) -> tuple[Any, Any, str | None]:
    """The header and payload, read without any check; plus what makes them unreadable."""
    parts = token.split(".")
    if len(parts) != 3:
        return None, None, f"a JWT has 3 dot-separated parts, this has {len(parts)}"
    decoded: list[Any] = []
    problem = None
    for name, segment in (("header", parts[0]), ("payload", parts[1])):
        try:
            value = _decode_segment(segment)
        except ValueError:
            decoded.append(None)
            problem = problem or f"the {name} is not base64url-encoded JSON"
            continue
        decoded.append(value)
        if not isinstance(value, dict):
            problem = problem or f"the {name} is not a JSON object"
    return decoded[0], decoded[1], problem


def explain(token: str, settings: Settings, *, now: float | None = None) -> Report:
    """Check ``token`` with a verifier built from ``settings``, and say why it passes or fails.

    Args:
        token: the compact JWT (no ``Bearer`` prefix).
        settings: the API's settings; the verifier is built from them with its cache off.
        now: the time to check against (seconds since the epoch); the current time when None.

    Example:
        >>> explain(token, Settings()).reason
        "audience: expected 'https://my-api-urn', got 'https://another-api'"
    """
    current = time.time() if now is None else now
    verifier = TokenVerifier(
        settings.model_copy(update={"cache_maxsize": 0}), clock=lambda: current
    )
    header, claims, problem = _unverified(token)
    header = header if isinstance(header, dict) else None
    claims = claims if isinstance(claims, dict) else None
    try:
        access = _verify(verifier, token)
    except KeysUnavailableError:
        reason = _unavailable(verifier)
        return Report(header, claims, False, None, reason, checked_at=current)
    except InvalidTokenError as error:
        reason = _reason(error.failure, token, header, claims or {}, problem, settings, current)
        if error.failure in (TokenFailure.UNKNOWN_KEY, TokenFailure.KEY_MISMATCH):
            reason = _key_reason(error.failure, verifier, header or {})
        return Report(header, claims, False, error.failure, reason, checked_at=current)
    scopes = tuple(sorted(access.scopes))
    reason = "scopes: " + " ".join(scopes) if scopes else "no scopes granted"
    return Report(header, claims, True, None, reason, scopes, checked_at=current)


def _verify(verifier: TokenVerifier, token: str) -> AccessToken:
    """Verify as the WSGI side does: fetch the keys when the verifier asks for them."""
    try:
        return verifier.verify(token)
    except KeyRefreshNeeded as signal:
        signal.source.refresh_sync()
    try:
        return verifier.verify(token)
    except KeyRefreshNeeded as signal:
        raise signal.source.settle() from None


def _unavailable(verifier: TokenVerifier) -> str:
    source = verifier.key_source
    where = getattr(source, "url", None) or getattr(source, "issuer", None) or "the key source"
    why = getattr(source, "failure", None) or "it cannot be reached"
    return f"JWKS unreachable: no signing key could be fetched from {where} ({why})"


def _key_reason(failure: TokenFailure, verifier: TokenVerifier, header: Mapping[str, Any]) -> str:
    keys = getattr(verifier.key_source, "keys", None)
    alg = header.get("alg")
    if keys is None or not isinstance(alg, str):  # pragma: no cover - the verifier had keys
        return str(failure.value)
    word = "unknown kid" if failure is TokenFailure.UNKNOWN_KEY else "wrong key type"
    return f"{word}: {keys.explain(header, alg)}"


def _reason(
    failure: TokenFailure,
    token: str,
    header: Mapping[str, Any] | None,
    claims: Mapping[str, Any],
    problem: str | None,
    settings: Settings,
    now: float,
) -> str:
    header = header or {}
    if failure is TokenFailure.MALFORMED:
        detail = "the token is empty" if not token else _header_detail(header) or problem
        return f"malformed: {detail or 'not a valid JWS compact serialization'}"
    if failure is TokenFailure.TOO_LARGE:
        return (
            f"too large: the token is {len(token)} bytes, the limit is "
            f"{settings.max_token_bytes} ({env_name('max_token_bytes')})"
        )
    if failure is TokenFailure.ALGORITHM:
        allowed = ", ".join(settings.algorithms)
        alg = header.get("alg")
        if alg is None:
            return f"algorithm: the header names none (allowed: {allowed})"
        shown = alg if isinstance(alg, str) else _show(alg)
        return f"algorithm {shown} is not allowed (allowed: {allowed})"
    if failure is TokenFailure.SIGNATURE:
        if header.get("alg") in settings.asymmetric_algorithms:
            kid = header.get("kid")
            return f"signature does not match the public key{f' {kid!r}' if kid else ''}"
        return "signature does not match the configured signing secret"
    if failure is TokenFailure.HEADER:
        return f"header: {_header_detail(header) or 'a parameter is not accepted'}"
    if failure is TokenFailure.TYPE:
        accepted = ", ".join(sorted(ACCEPTED_TYPES))
        return f"type: typ {_show(header.get('typ'))} is not accepted (accepted: {accepted})"
    if failure is TokenFailure.EXPIRED:
        return _expired(claims, now)
    if failure is TokenFailure.NOT_YET_VALID:
        return _not_yet_valid(claims, settings, now)
    if failure is TokenFailure.AUDIENCE:
        return f"audience: expected {settings.identifier!r}, got {_show(claims.get('aud'))}"
    if failure is TokenFailure.ISSUER:
        got = "no iss claim" if claims.get("iss") is None else _show(claims["iss"])
        return f"issuer: expected {settings.issuer!r}, got {got}"
    if failure is TokenFailure.MISSING_CLAIM:
        for name, meaning in (("exp", "expiration time"), ("aud", "audience")):
            if claims.get(name) is None:
                return f"missing claim: {name!r} ({meaning}) is required"
    if failure is TokenFailure.CLAIM_TYPE and (detail := _claim_type(claims, settings)):
        return f"claim type: {detail}"
    return str(failure.value)


def _header_detail(header: Mapping[str, Any]) -> str | None:
    if "crit" in header:
        return f"crit {_show(header['crit'])} asks for JWS extensions scopegate does not support"
    if header.get("b64", True) is not True:
        return f"b64 is {_show(header['b64'])}; only base64url-encoded payloads are accepted"
    return None


def _expired(claims: Mapping[str, Any], now: float) -> str:
    exp = _numeric_date(claims.get("exp"))
    if exp is None:  # pragma: no cover - the verifier read a usable exp to say so
        return TokenFailure.EXPIRED.value
    return f"expired {relative_time(exp, now)} (at {format_time(exp)})"


def _not_yet_valid(claims: Mapping[str, Any], settings: Settings, now: float) -> str:
    nbf = _numeric_date(claims.get("nbf"))
    if nbf is not None and nbf > now + settings.leeway:
        return f"not yet valid until {format_time(nbf)} ({relative_time(nbf, now)})"
    iat = _numeric_date(claims.get("iat"))
    if iat is not None:
        when = f"{format_time(iat)} ({relative_time(iat, now)})"
        return f"not yet valid: issued in the future, at {when}"
    return TokenFailure.NOT_YET_VALID.value  # pragma: no cover - one of them is in the future


def _claim_type(claims: Mapping[str, Any], settings: Settings) -> str | None:
    """The first claim whose type breaks a rule, in the order the verifier checks them."""
    for name in ("exp", "nbf", "iat"):
        value = claims.get(name)
        if value is not None and _numeric_date(value) is None:
            return f"{name!r} must be a NumericDate (seconds since 1970), got {_show(value)}"
    aud = claims.get("aud")
    if (
        aud is not None
        and not isinstance(aud, str)
        and not (isinstance(aud, list) and all(isinstance(item, str) for item in aud))
    ):
        return f"'aud' must be a string or an array of strings, got {_show(aud)}"
    for name in ("iss", "sub", "azp", "client_id"):
        value = claims.get(name)
        if value is not None and not isinstance(value, str):
            return f"{name!r} must be a string, got {_show(value)}"
    for name in settings.scope_claims:
        value = claims.get(name)
        if (
            value is not None
            and not isinstance(value, str)
            and not (isinstance(value, list) and all(isinstance(item, str) for item in value))
        ):
            kind = "a space-separated string or an array of strings"
            return f"{name!r} must be {kind}, got {_show(value)}"
    return None
