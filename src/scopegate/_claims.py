"""Claim rules: what a signed header and payload must hold to be an acceptable access token.

Pure functions of the header or claims, the settings and the current time, so
the same rules serve a fresh verification and a cached token, under a real or a
test clock. Each broken rule raises :class:`~scopegate.errors.InvalidTokenError`
with its :class:`~scopegate.errors.TokenFailure` and a
:class:`~scopegate.errors.FailureDetail` naming the claim, what the rule
expected and what the token carried (``scopegate inspect`` words it).

Registered claims (RFC 7519 §4.1) that are present must have their registered
type; ``null`` is present, not absent. scopegate is stricter than RFC 7519 in
one place, on purpose: a NumericDate must lie between 1970 and the end of year
9999 (a negative ``nbf`` or ``iat`` is refused, as is an ``exp`` no datetime
can hold).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timezone
from types import MappingProxyType
from typing import Any

from scopegate._scopes import granted_scopes
from scopegate._settings import Settings, env_name
from scopegate._token import AccessToken
from scopegate.errors import FailureDetail, InvalidTokenError, TokenFailure

__all__ = [
    "ACCEPTED_TYPES",
    "MAX_TIMESTAMP",
    "NUMERIC_DATE",
    "RFC9068_CLAIMS",
    "RFC9068_TYPES",
    "Validator",
    "accepted_types",
    "build_access_token",
    "check_header",
    "check_times",
    "claim_matches",
    "numeric_date",
    "refuse_bound",
    "run_validator",
]

#: A check application code adds: receives the verified claims, returns True to accept.
Validator = Callable[[Mapping[str, Any]], bool]

# RFC 7515 §4.1.9: "application/" may be omitted, and media types compare case-insensitively.
# RFC 9068 §2.1 asks for at+jwt; plain JWT is what Auth0 and most servers send.
ACCEPTED_TYPES = frozenset({"jwt", "application/jwt", "at+jwt", "application/at+jwt"})
RFC9068_TYPES = frozenset({"at+jwt", "application/at+jwt"})
# RFC 7519 §5.2: cty JWT announces a nested JWT, which scopegate never unwraps.
_NESTED = frozenset({"jwt", "application/jwt"})
# RFC 9068 §2.2: the claims every JWT access token of the profile carries.
RFC9068_CLAIMS = ("iss", "exp", "aud", "sub", "client_id", "iat", "jti")
# 9999-12-31T23:59:59Z: past it a timestamp cannot be a datetime.
MAX_TIMESTAMP = 253_402_300_799

NUMERIC_DATE = "a NumericDate (seconds since 1970, up to year 9999)"
_STRING = "a string"
_STRINGS = "a string or an array of strings"
_SCOPES = "a space-separated string or an array of strings"
_OBJECT = "a JSON object"
_STRING_CLAIMS = ("iss", "sub", "azp", "client_id", "jti")


def _fail(
    failure: TokenFailure,
    rule: str,
    claim: str | None = None,
    expected: Any = None,
    found: Any = None,
) -> InvalidTokenError:
    return InvalidTokenError(failure, detail=FailureDetail(rule, claim, expected, found))


def accepted_types(profile: str) -> frozenset[str]:
    """The ``typ`` values (lower-cased) a token profile accepts."""
    return RFC9068_TYPES if profile == "rfc9068" else ACCEPTED_TYPES


def check_header(header: Mapping[str, Any], profile: str = "default") -> None:
    """Reject header parameters scopegate does not understand or accept."""
    if "crit" in header:
        # No JWS extension is understood here, so any critical one must fail (RFC 7515 §4.1.11).
        raise _fail(TokenFailure.HEADER, "crit", "crit", found=header["crit"])
    if header.get("b64", True) is not True:
        raise _fail(TokenFailure.HEADER, "b64", "b64", found=header["b64"])
    if "cty" in header:
        cty = header["cty"]
        if not isinstance(cty, str) or cty.lower() in _NESTED:
            raise _fail(TokenFailure.HEADER, "cty", "cty", found=cty)
    accepted = accepted_types(profile)
    if "typ" in header:
        typ = header["typ"]
        if not isinstance(typ, str) or typ.lower() not in accepted:
            raise _fail(TokenFailure.TYPE, "typ", "typ", tuple(sorted(accepted)), typ)
    elif profile == "rfc9068":
        raise _fail(TokenFailure.TYPE, "typ", "typ", tuple(sorted(accepted)))


def numeric_date(value: Any) -> float | None:
    """``value`` as seconds since the epoch when it is an acceptable NumericDate, else None."""
    # bool is an int in Python but never a NumericDate; null and strings are not either.
    # Written so a huge int is never converted to float.
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if not 0 <= value <= MAX_TIMESTAMP:
        return None
    return float(value)


def _timestamp(claims: Mapping[str, Any], name: str) -> float | None:
    if name not in claims:
        return None
    value = numeric_date(claims[name])
    if value is None:
        raise _fail(TokenFailure.CLAIM_TYPE, "type", name, NUMERIC_DATE, claims[name])
    return value


def check_times(claims: Mapping[str, Any], now: float, leeway: float) -> tuple[float, float | None]:
    """Check ``exp`` (required), ``nbf`` and ``iat``; return ``(exp, iat)``, iat None if absent."""
    exp = _timestamp(claims, "exp")
    if exp is None:
        raise _fail(TokenFailure.MISSING_CLAIM, "required", "exp")
    nbf = _timestamp(claims, "nbf")
    iat = _timestamp(claims, "iat")
    if now >= exp + leeway:
        raise _fail(TokenFailure.EXPIRED, "exp", "exp", leeway, exp)
    if nbf is not None and nbf > now + leeway:
        raise _fail(TokenFailure.NOT_YET_VALID, "nbf", "nbf", leeway, nbf)
    if iat is not None and iat > now + leeway:
        raise _fail(TokenFailure.NOT_YET_VALID, "iat", "iat", leeway, iat)
    return exp, iat


def _optional_str(claims: Mapping[str, Any], name: str) -> str | None:
    if name not in claims:
        return None
    value = claims[name]
    if not isinstance(value, str):
        raise _fail(TokenFailure.CLAIM_TYPE, "type", name, _STRING, value)
    return value


def _audience(claims: Mapping[str, Any], identifier: str) -> tuple[str, ...]:
    if "aud" not in claims:
        raise _fail(TokenFailure.MISSING_CLAIM, "required", "aud")
    aud = claims["aud"]
    audience = (aud,) if isinstance(aud, str) else aud
    if not isinstance(audience, list | tuple) or not all(isinstance(a, str) for a in audience):
        raise _fail(TokenFailure.CLAIM_TYPE, "type", "aud", _STRINGS, aud)
    if identifier not in audience:
        raise _fail(TokenFailure.AUDIENCE, "aud", "aud", identifier, aud)
    return tuple(audience)


def _check_required(claims: Mapping[str, Any], settings: Settings) -> None:
    if settings.token_profile == "rfc9068":  # noqa: S105 - a profile name
        for name in RFC9068_CLAIMS:
            if name not in claims:
                by = f"token_profile rfc9068 ({env_name('token_profile')})"
                raise _fail(TokenFailure.MISSING_CLAIM, "required", name, by)
    for name in settings.required_claims:
        if claims.get(name) is None:
            by = f"required_claims ({env_name('required_claims')})"
            raise _fail(TokenFailure.MISSING_CLAIM, "required", name, by)


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    return type(value).__name__


def claim_matches(value: Any, accepted: Sequence[Any]) -> bool:
    """True when ``value`` equals one of ``accepted``, or is an array holding one of them.

    Equal means the same JSON value: ``true`` is not ``1`` and ``"1"`` is not ``1``.
    Used by ``claim_values`` and by every route's ``require_claim``.
    """
    items = value if isinstance(value, list) else (value,)
    return any(item == want and _kind(item) == _kind(want) for item in items for want in accepted)


def _check_values(claims: Mapping[str, Any], claim_values: Mapping[str, Sequence[str]]) -> None:
    for name, accepted in claim_values.items():
        if name not in claims:
            by = f"claim_values ({env_name('claim_values')})"
            raise _fail(TokenFailure.MISSING_CLAIM, "required", name, by)
        if not claim_matches(claims[name], accepted):
            raise _fail(TokenFailure.CLAIM_VALUE, "value", name, tuple(accepted), claims[name])


def run_validator(check: Callable[[Any], Any], subject: Any, name: str | None = None) -> None:
    """Run an application check; anything but a true answer rejects the token.

    An exception other than :class:`InvalidTokenError` rejects too (``REJECTED``),
    rather than becoming a 500: a check that cannot decide does not accept.
    """
    label = name or getattr(check, "__qualname__", None) or repr(check)
    try:
        accepted = check(subject)
    except InvalidTokenError:
        raise
    except Exception as exc:
        raised = f"raised {type(exc).__name__}"
        raise _fail(TokenFailure.REJECTED, "validator", None, label, raised) from exc
    if accepted is not True:
        raise _fail(TokenFailure.REJECTED, "validator", None, label, f"returned {accepted!r}")


def _scopes(claims: Mapping[str, Any], scope_claims: Sequence[str]) -> frozenset[str]:
    try:
        return granted_scopes(claims, scope_claims)
    except TypeError:
        for name in scope_claims:
            try:
                granted_scopes(claims, (name,))
            except TypeError:
                raise _fail(TokenFailure.CLAIM_TYPE, "type", name, _SCOPES, claims[name]) from None
        raise  # pragma: no cover - one of the claims raised above


def build_access_token(claims: dict[str, Any], settings: Settings, now: float) -> AccessToken:
    """Apply every claim rule to a verified payload and build the :class:`AccessToken`."""
    _check_required(claims, settings)
    exp, iat = check_times(claims, now, settings.leeway)
    audience = _audience(claims, settings.identifier)
    strings = {name: _optional_str(claims, name) for name in _STRING_CLAIMS}
    issuer = strings["iss"]
    if settings.issuer is not None and issuer != settings.issuer:
        raise _fail(TokenFailure.ISSUER, "iss", "iss", settings.issuer, issuer)
    confirmation = _confirmation(claims)
    scopes = _scopes(claims, settings.scope_claims)
    _check_values(claims, settings.claim_values)
    return AccessToken(
        claims=MappingProxyType(claims),
        subject=strings["sub"],
        client_id=strings["azp"] or strings["client_id"],
        scopes=scopes,
        audience=audience,
        issuer=issuer,
        expires_at=datetime.fromtimestamp(exp, timezone.utc),
        issued_at=None if iat is None else datetime.fromtimestamp(iat, timezone.utc),
        confirmation=confirmation,
    )


def _confirmation(claims: Mapping[str, Any]) -> str | None:
    """The ``cnf.jkt`` thumbprint a DPoP-bound token carries (RFC 9449 §6.1), None without ``cnf``.

    Any other confirmation method (an RFC 8705 certificate ``x5t#S256``, a
    ``jwk``...) cannot be checked here, so such a token is refused on every
    scheme. Whether a ``jkt``-bound token is usable is the scheme's question:
    the protector refuses it as a bearer token (RFC 9449 §7.2).
    """
    if "cnf" not in claims:
        return None
    cnf = claims["cnf"]
    if not isinstance(cnf, dict):
        raise _fail(TokenFailure.CLAIM_TYPE, "type", "cnf", _OBJECT, cnf)
    if set(cnf) != {"jkt"}:
        raise _fail(TokenFailure.BOUND, "cnf", "cnf", None, tuple(sorted(cnf)))
    jkt = cnf["jkt"]
    if not isinstance(jkt, str) or not jkt:
        raise _fail(TokenFailure.CLAIM_TYPE, "type", "cnf.jkt", "a non-empty string", jkt)
    return jkt


def refuse_bound(token: AccessToken) -> None:
    """RFC 9449 §7.2: a DPoP-bound token received as a bearer token is refused (``BOUND``)."""
    if token.confirmation is not None:
        raise _fail(TokenFailure.BOUND, "cnf", "cnf", None, ("jkt",))
