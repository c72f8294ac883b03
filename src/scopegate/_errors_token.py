"""Token failures: which rule an access token broke; part of :mod:`scopegate.errors`.

:class:`TokenFailure` (one fixed description per rule), :class:`FailureDetail`
(the specifics, for ``scopegate inspect`` only) and :class:`InvalidTokenError`,
the 401 ``invalid_token`` that carries both.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

from scopegate._errors_base import BearerError

__all__ = ["FailureDetail", "InvalidTokenError", "TokenFailure"]


class TokenFailure(str, Enum):
    """Which rule an access token broke; each has one fixed description."""

    MALFORMED = "The access token is malformed"
    TOO_LARGE = "The access token is too large"
    ALGORITHM = "The access token algorithm is not allowed"
    SIGNATURE = "The access token signature is invalid"
    HEADER = "The access token header is not accepted"
    TYPE = "The access token type is not accepted"
    EXPIRED = "The access token has expired"
    NOT_YET_VALID = "The access token is not yet valid"
    AUDIENCE = "The access token audience is not accepted"
    ISSUER = "The access token issuer is not accepted"
    MISSING_CLAIM = "The access token is missing a required claim"
    CLAIM_TYPE = "The access token has a claim of the wrong type"
    CLAIM_VALUE = "The access token has a claim value that is not accepted"
    BOUND = "The access token is sender-constrained and cannot be used as a bearer token"
    NOT_BOUND = "The access token is not bound to a DPoP key"
    DPOP_BINDING = "The access token is not bound to the DPoP proof key"
    DPOP_REQUIRED = "The access token must be sent with the DPoP scheme"
    REJECTED = "The access token is not accepted by this resource"
    UNKNOWN_KEY = "The access token signing key is not known"
    KEY_MISMATCH = "The access token signing key does not fit its algorithm"


@dataclass(frozen=True)
class FailureDetail:
    """The specifics of a broken rule, for the developer holding the token.

    Set by the code that checks the rule and read by :mod:`scopegate.explain`
    (``scopegate inspect``). Unlike a :class:`TokenFailure` description it may
    quote claim values, so it is never rendered into a response, a header or a
    log line: nothing in scopegate reads it on the request path.

    Attributes:
        rule: which check failed, e.g. ``"typ"``, ``"base64url"``, ``"required"``.
        claim: the claim, header parameter or segment concerned, if any.
        expected: what the rule wanted (a value, a tuple of values or a phrase).
        found: what the token carried.
    """

    rule: str
    claim: str | None = None
    expected: Any = None
    found: Any = None


class InvalidTokenError(BearerError):
    """The access token is expired, revoked, malformed or invalid: 401 ``invalid_token``.

    Attributes:
        failure: which rule the token broke (for logs, metrics and tooling).
        detail: the specifics, for ``scopegate inspect`` only; never rendered
            into a response or logged (it may quote claim values).
    """

    error = "invalid_token"
    default_description = TokenFailure.MALFORMED.value

    def __init__(
        self,
        failure: TokenFailure = TokenFailure.MALFORMED,
        *,
        detail: FailureDetail | None = None,
    ) -> None:
        self.failure = failure
        self.detail = detail
        super().__init__(failure.value)
