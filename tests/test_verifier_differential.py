"""Differential test: scopegate's verdict against ``jwt.decode`` with the same checks.

Hypothesis generates headers and claims (registered claims absent, null, or of
any JSON type; ``typ``, ``cty``, ``kid``, ``crit``); every token is correctly
signed over canonical base64url, so the two can only disagree on what the
header and claims mean. Each disagreement must fall in one of the classes of
``DISAGREEMENTS``, in its stated direction; the README's Security notes list
the same classes with the reason scopegate's answer is the right one. The
table test at the end shows each class really occurs.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import os
import time
from collections.abc import Callable, Mapping
from typing import Any

import jwt
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from helpers import IDENTIFIER, ISSUER, SECRET, make_settings
from jose_helpers import b64url
from scopegate import InvalidTokenError, TokenVerifier

LEEWAY = 5.0
# PyJWT reads the real clock, so both do: times are drawn around the start of the run.
NOW = int(time.time())
VERIFIER = TokenVerifier(make_settings(cache_maxsize=0, leeway=LEEWAY))
DECODE: dict[str, Any] = {
    "algorithms": ["HS256"],
    "audience": IDENTIFIER,
    "issuer": ISSUER,
    "leeway": LEEWAY,
    "options": {"require": ["exp"]},
}
MAX_TIMESTAMP = 253_402_300_799
ABSENT = object()


def token_of(header: Mapping[str, Any], claims: Mapping[str, Any]) -> str:
    """A correctly signed HS256 token over canonical base64url of exactly this JSON."""
    signing_input = b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(claims).encode())
    mac = hmac.new(SECRET.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(mac)}"


def scopegate_accepts(token: str) -> bool:
    try:
        VERIFIER.verify(token)
    except InvalidTokenError:
        return False
    return True


def pyjwt_accepts(token: str) -> bool:
    try:
        jwt.decode(token, SECRET, **DECODE)
    except jwt.PyJWTError:
        return False
    return True


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _finite(value: Any) -> bool:
    return not isinstance(value, float) or math.isfinite(value)


def _walk(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [value, *(item for inner in value.values() for item in _walk(inner))]
    if isinstance(value, list):
        return [value, *(item for inner in value for item in _walk(inner))]
    return [value]


Claims = Mapping[str, Any]
Header = Mapping[str, Any]
# name -> (who is stricter, does the class apply to this header and these claims)
DISAGREEMENTS: dict[str, tuple[str, Callable[[Header, Claims], bool]]] = {
    # Not JSON (RFC 8259 §6): scopegate refuses the segment; PyJWT's json.loads reads it.
    "nan-or-infinity": (
        "scopegate",
        lambda h, c: any(not _finite(v) for v in _walk(dict(c))),
    ),
    # typ names the media type (RFC 7515 §4.1.9); PyJWT never reads it.
    "typ": (
        "scopegate",
        lambda h, c: (
            "typ" in h
            and not (
                isinstance(h["typ"], str)
                and h["typ"].lower() in {"jwt", "application/jwt", "at+jwt", "application/at+jwt"}
            )
        ),
    ),
    # cty JWT announces a nested token (RFC 7519 §5.2); PyJWT ignores cty.
    "cty": ("scopegate", lambda h, c: "cty" in h),
    # NumericDate is a number, never a boolean; PyJWT reads True as 1.
    "boolean-date": (
        "scopegate",
        lambda h, c: any(isinstance(c.get(n), bool) for n in ("nbf", "iat")),
    ),
    # scopegate: 1970 to 9999 only (README); PyJWT accepts a negative nbf or iat,
    # and an exp or nbf past year 9999.
    "date-range": (
        "scopegate",
        lambda h, c: any(
            _is_number(c.get(n)) and not 0 <= c[n] <= MAX_TIMESTAMP for n in ("exp", "nbf", "iat")
        ),
    ),
    # azp and client_id are strings (RFC 9068 §2.2, OIDC), and null is present, not
    # absent (RFC 7519 §4.1); PyJWT does not check them.
    "string-claim": (
        "scopegate",
        lambda h, c: any(n in c and not isinstance(c[n], str) for n in ("azp", "client_id")),
    ),
    # The scope claim grants the scopes: a number or an object grants nothing sane.
    "scope-type": (
        "scopegate",
        lambda h, c: (
            "scope" in c
            and not (
                isinstance(c["scope"], str)
                or (isinstance(c["scope"], list) and all(isinstance(s, str) for s in c["scope"]))
            )
        ),
    ),
    # A key- or certificate-bound token sent as Bearer (RFC 9449 §7.1, RFC 8705 §3).
    "cnf": ("scopegate", lambda h, c: "cnf" in c),
    # PyJWT refuses a non-string kid; scopegate selects no key by kid, so it has nothing to refuse.
    "kid-type": ("pyjwt", lambda h, c: "kid" in h and not isinstance(h["kid"], str)),
}

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**12), max_value=10**14),
    st.floats(allow_nan=False, allow_infinity=False, width=64),
    st.text(max_size=6),
)
VALUES = st.one_of(
    SCALARS,
    st.lists(SCALARS, max_size=3),
    st.dictionaries(st.text(max_size=3), SCALARS, max_size=2),
)
TIMES = st.one_of(
    st.integers(min_value=NOW - 7200, max_value=NOW + 7200),
    st.floats(min_value=NOW - 7200, max_value=NOW + 7200),
    VALUES,
)
CLAIM_CHOICES = {
    "exp": st.one_of(st.just(NOW + 3600), TIMES),
    "nbf": TIMES,
    "iat": TIMES,
    "sub": st.one_of(st.just("client@clients"), VALUES),
    "iss": st.one_of(st.just(ISSUER), VALUES),
    "aud": st.one_of(st.just(IDENTIFIER), st.just([IDENTIFIER, "x"]), VALUES),
    "jti": st.one_of(st.text(max_size=8), VALUES),
    "azp": st.one_of(st.just("client"), VALUES),
    "client_id": st.one_of(st.just("client"), VALUES),
    "scope": st.one_of(st.just("read write"), st.lists(st.text(max_size=5), max_size=3), VALUES),
    "cnf": st.one_of(st.just({"jkt": "abc"}), VALUES),
    "ext": st.one_of(VALUES, st.sampled_from([math.nan, math.inf, -math.inf])),
}
VALID_CLAIMS = {
    "exp": NOW + 3600,
    "iat": NOW - 60,
    "sub": "client@clients",
    "iss": ISSUER,
    "aud": IDENTIFIER,
}


@st.composite
def claims_strategy(draw: st.DrawFn) -> dict[str, Any]:
    claims: dict[str, Any] = dict(VALID_CLAIMS)
    for name, values in CLAIM_CHOICES.items():
        choice = draw(st.sampled_from(["keep", "keep", "absent", "draw"]))
        if choice == "absent":
            claims.pop(name, None)
        elif choice == "draw":
            claims[name] = draw(values)
    return claims


HEADER_CHOICES = {
    "typ": st.sampled_from(
        [
            "JWT",
            "jwt",
            "at+jwt",
            "application/jwt",
            "application/at+jwt",
            "JOSE",
            "dpop+jwt",
            1,
            None,
        ]
    ),
    "cty": st.sampled_from(["JWT", "application/jwt", "json", 0]),
    "kid": st.one_of(st.text(max_size=4), st.integers(), st.none()),
}


@st.composite
def header_strategy(draw: st.DrawFn) -> dict[str, Any]:
    header: dict[str, Any] = {"alg": "HS256"}
    for name, values in HEADER_CHOICES.items():
        if draw(st.booleans()):
            header[name] = draw(values)
    return header


def unexplained(header: Header, claims: Claims, ours: bool, theirs: bool) -> list[str]:
    """The classes that explain a disagreement in its direction; empty when none does."""
    stricter = "scopegate" if theirs and not ours else "pyjwt"
    return [
        name
        for name, (who, applies) in DISAGREEMENTS.items()
        if who == stricter and applies(header, claims)
    ]


@settings(
    max_examples=int(os.environ.get("DIFFERENTIAL_EXAMPLES", "400")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(header=header_strategy(), claims=claims_strategy())
@example(header={"alg": "HS256", "typ": "JOSE"}, claims=VALID_CLAIMS)
def test_every_disagreement_with_pyjwt_is_a_listed_class(
    header: dict[str, Any], claims: dict[str, Any]
) -> None:
    token = token_of(header, claims)
    ours, theirs = scopegate_accepts(token), pyjwt_accepts(token)
    if ours != theirs:
        assert unexplained(header, claims, ours, theirs), (
            f"unlisted disagreement: scopegate {'accepts' if ours else 'rejects'}, "
            f"PyJWT {'accepts' if theirs else 'rejects'}: {header!r} {claims!r}"
        )


def _with(**changes: Any) -> dict[str, Any]:
    claims = {**VALID_CLAIMS, **changes}
    return {name: value for name, value in claims.items() if value is not ABSENT}


# One token per class: PyJWT and scopegate really disagree, in the stated direction.
CLASS_EXAMPLES = [
    pytest.param("nan-or-infinity", {"alg": "HS256"}, _with(ext=math.nan), id="nan-or-infinity"),
    pytest.param("typ", {"alg": "HS256", "typ": "JOSE"}, _with(), id="typ"),
    pytest.param("cty", {"alg": "HS256", "cty": "JWT"}, _with(), id="cty"),
    pytest.param("boolean-date", {"alg": "HS256"}, _with(nbf=True), id="boolean-date"),
    pytest.param("date-range", {"alg": "HS256"}, _with(iat=-1), id="date-range"),
    pytest.param("string-claim", {"alg": "HS256"}, _with(azp=5), id="string-claim"),
    pytest.param("string-claim", {"alg": "HS256"}, _with(client_id=None), id="null-client-id"),
    pytest.param("scope-type", {"alg": "HS256"}, _with(scope=42), id="scope-type"),
    pytest.param("cnf", {"alg": "HS256"}, _with(cnf={"jkt": "abc"}), id="cnf"),
    pytest.param("kid-type", {"alg": "HS256", "kid": 1}, _with(), id="kid-type"),
]


@pytest.mark.parametrize(("name", "header", "claims"), CLASS_EXAMPLES)
def test_each_listed_class_occurs(
    name: str, header: dict[str, Any], claims: dict[str, Any]
) -> None:
    token = token_of(header, claims)
    ours, theirs = scopegate_accepts(token), pyjwt_accepts(token)
    assert ours != theirs
    who, applies = DISAGREEMENTS[name]
    assert (ours, theirs) == ((False, True) if who == "scopegate" else (True, False))
    assert applies(header, claims)


def test_every_class_has_an_example() -> None:
    assert {param.values[0] for param in CLASS_EXAMPLES} == set(DISAGREEMENTS)


def test_agreement_on_a_valid_token() -> None:
    token = token_of({"alg": "HS256", "typ": "JWT"}, VALID_CLAIMS)
    assert scopegate_accepts(token)
    assert pyjwt_accepts(token)
