"""Explain a token: what it says, and exactly why the configured verifier accepts or rejects it.

The verdict always comes from a real :class:`~scopegate._verifier.TokenVerifier`
built from the given settings (with its cache off), and so does the reason: the
rule that fails hands over a :class:`~scopegate.errors.FailureDetail` (the
rule, the claim, what was expected, what was found) and this module only puts
it into words. It has no rule of its own, so a new rule is explained the day it
is added and a changed rule can never be explained the old way. The header and
payload shown beside the verdict are read with the verifier's own reader
(:mod:`scopegate._jws`), without checking the signature. A report never contains
the signing secret.

Unlike an error description sent to a client, a reason may quote claim values:
it is meant for the developer holding the token, never for a response header.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from scopegate._claims import Validator, numeric_date
from scopegate._jws import load_object, split_compact
from scopegate._keysource import KeyRefreshNeeded
from scopegate._settings import Settings, env_name
from scopegate._token import AccessToken
from scopegate._verifier import TokenVerifier
from scopegate.errors import FailureDetail, InvalidTokenError, KeysUnavailableError, TokenFailure

__all__ = ["Report", "explain"]

TIME_CLAIMS = ("iat", "nbf", "exp")
_UNITS = (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1))
_MAX_SHOWN = 80  # longest claim value quoted in a reason
# Words for the registered claims a reason names; a glossary, not a rule.
_MEANINGS = {
    "exp": "expiration time",
    "aud": "audience",
    "iss": "issuer",
    "sub": "subject",
    "iat": "issued at",
    "jti": "JWT ID",
    "client_id": "client identifier",
}


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
        detail: the verifier's own account of the broken rule; None when valid.
    """

    header: dict[str, Any] | None
    claims: dict[str, Any] | None
    valid: bool
    failure: TokenFailure | None
    reason: str
    scopes: tuple[str, ...] = ()
    checked_at: float = field(default=0.0)
    detail: FailureDetail | None = None

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data (``scopegate inspect --json``)."""
        dates = {}
        for name in TIME_CLAIMS:
            when = numeric_date((self.claims or {}).get(name))
            if when is not None:
                dates[name] = {
                    "time": format_time(when),
                    "relative": relative_time(when, self.checked_at),
                }
        detail = self.detail
        return {
            "valid": self.valid,
            "failure": None if self.failure is None else self.failure.name,
            "description": None if self.failure is None else self.failure.value,
            "reason": self.reason,
            "rule": None if detail is None else detail.rule,
            "claim": None if detail is None else detail.claim,
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


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 3] + "..."


def _unverified(token: str) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The header and payload as the verifier reads them, without the signature check."""
    try:
        jws = split_compact(token)
    except InvalidTokenError:
        return None, None
    try:
        return jws.header, load_object(jws.payload)
    except InvalidTokenError:
        return jws.header, None


def explain(
    token: str,
    settings: Settings,
    *,
    now: float | None = None,
    validators: Iterable[Validator] = (),
) -> Report:
    """Check ``token`` with a verifier built from ``settings``, and say why it passes or fails.

    Args:
        token: the compact JWT (no ``Bearer`` prefix).
        settings: the API's settings; the verifier is built from them with its cache off.
        now: the time to check against (seconds since the epoch); the current time when None.
        validators: the application's verifier-level checks, as given to :class:`TokenVerifier`.

    Example::

        explain(token, Settings()).reason
        # "audience: expected 'https://my-api-urn', got 'https://another-api'"
    """
    current = time.time() if now is None else now
    verifier = TokenVerifier(
        settings.model_copy(update={"cache_maxsize": 0}),
        clock=lambda: current,
        validators=validators,
    )
    header, claims = _unverified(token) if isinstance(token, str) else (None, None)
    try:
        access = _verify(verifier, token)
    except KeysUnavailableError:
        reason = _unavailable(verifier)
        return Report(header, claims, False, None, reason, checked_at=current)
    except InvalidTokenError as error:
        detail = error.detail or FailureDetail("unknown")
        reason = _reason(error.failure, detail, current)
        return Report(header, claims, False, error.failure, reason, (), current, detail)
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


def _signature(d: FailureDetail) -> str:
    if d.expected == "public key":
        kid = f" {d.found!r}" if d.found else ""
        return f"signature does not match the public key{kid}"
    return "signature does not match the configured signing secret"


def _kid(d: FailureDetail) -> str:
    known = ", ".join(repr(kid) for kid in d.expected) or "none"
    if d.found is None:
        return f"unknown kid: the token has no kid, and no single key fits (known kids: {known})"
    return f"unknown kid: no key has kid {d.found!r} (known kids: {known})"


def _at(when: float, now: float) -> str:
    return f"{format_time(when)} ({relative_time(when, now)})"


def _one_of(values: Any) -> str:
    return ", ".join(str(value) for value in values)


def _missing(d: FailureDetail) -> str:
    meaning = _MEANINGS.get(d.claim or "")
    named = f"{d.claim!r}" + (f" ({meaning})" if meaning else "")
    return f"missing claim: {named} is required" + (f" by {d.expected}" if d.expected else "")


def _algorithm(d: FailureDetail) -> str:
    allowed = _one_of(d.expected)
    if d.found is None:
        return f"algorithm: the header names none (allowed: {allowed})"
    shown = d.found if isinstance(d.found, str) else _show(d.found)
    return f"algorithm {shown} is not allowed (allowed: {allowed})"


def _type(d: FailureDetail) -> str:
    if d.found is None:
        return f"type: the header has no typ; one of {_one_of(d.expected)} is required"
    return f"type: typ {_show(d.found)} is not accepted (accepted: {_one_of(d.expected)})"


def _cty(d: FailureDetail) -> str:
    if not isinstance(d.found, str):
        return f"header: cty must be a string, got {_show(d.found)}"
    return f"header: cty {d.found!r} announces a nested JWT, which scopegate does not accept"


_Format = Callable[[FailureDetail, float], str]
# A table of messages, one a rule (duplicates pairs its rows by shape): data, not a repeated rule.
_FORMATS: dict[str, _Format] = {
    "empty": lambda d, now: "malformed: the token is empty",
    "segments": lambda d, now: f"malformed: a JWT has 3 dot-separated parts, this has {d.found}",
    "base64url": lambda d, now: (
        f"malformed: the {d.claim} is not canonical base64url "
        "(URL-safe alphabet, no padding, no stray trailing bits)"
    ),
    "utf-8": lambda d, now: f"malformed: the {d.claim} is not UTF-8",
    "bom": lambda d, now: f"malformed: the {d.claim} starts with a byte order mark",
    "json": lambda d, now: f"malformed: the {d.claim} is not JSON ({d.found})",
    "object": lambda d, now: f"malformed: the {d.claim} is not a JSON object",
    "surrogate": lambda d, now: (
        f"malformed: the {d.claim} holds a string with an unpaired surrogate "
        "(\\ud800-\\udfff), which is not Unicode text"
    ),
    "size": lambda d, now: (
        f"too large: the token is {d.found} bytes, the limit is {d.expected} "
        f"({env_name('max_token_bytes')})"
    ),
    "alg": lambda d, now: _algorithm(d),
    "signature": lambda d, now: _signature(d),
    "kid": lambda d, now: _kid(d),
    "key": lambda d, now: f"wrong key type: {d.found}",
    "crit": lambda d, now: (
        f"header: crit {_show(d.found)} asks for JWS extensions scopegate does not support"
    ),
    "b64": lambda d, now: (
        f"header: b64 is {_show(d.found)}; only base64url-encoded payloads are accepted"
    ),
    "cty": lambda d, now: _cty(d),
    "typ": lambda d, now: _type(d),
    "exp": lambda d, now: f"expired {relative_time(d.found, now)} (at {format_time(d.found)})",
    "nbf": lambda d, now: f"not yet valid until {_at(d.found, now)}",
    "iat": lambda d, now: f"not yet valid: issued in the future, at {_at(d.found, now)}",
    "aud": lambda d, now: f"audience: expected {d.expected!r}, got {_show(d.found)}",
    "iss": lambda d, now: (
        f"issuer: expected {d.expected!r}, got "
        + ("no iss claim" if d.found is None else _show(d.found))
    ),
    "required": lambda d, now: _missing(d),
    "type": lambda d, now: f"claim type: {d.claim!r} must be {d.expected}, got {_show(d.found)}",
    "cnf": lambda d, now: (
        f"sender-constrained: cnf binds the token to a key ({_one_of(d.found) or 'empty'}), "
        "so it needs its proof and cannot be used as a bearer token (RFC 9449 §7.1, RFC 8705 §3)"
    ),
    "value": lambda d, now: (
        f"claim value: {d.claim!r} must be one of {_show(list(d.expected))}, got {_show(d.found)}"
    ),
    "validator": lambda d, now: f"rejected by the validator {d.expected} (it {d.found})",
}


def _reason(failure: TokenFailure, detail: FailureDetail, now: float) -> str:
    """The detail the verifier handed over, in words."""
    words = _FORMATS.get(detail.rule)
    return str(failure.value) if words is None else words(detail, now)
