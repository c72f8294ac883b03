"""Route-level claim guards, framework-free: the checks of ``require_claim`` and ``require_token``.

Each adapter (FastAPI, Starlette, Flask) lifts these functions into its own
dependency or decorator and only renders what they raise. A route check that
fails answers 401 ``invalid_token``, exactly like a failed ``claim_values``
setting, and never 403: ``insufficient_scope`` is the one RFC 6750 error for
"this token lacks what the resource needs", and its challenge names scopes the
client could ask for; no scope fixes a wrong tenant or client (the README
explains the choice).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from scopegate._claims import claim_matches, run_validator
from scopegate._token import AccessToken
from scopegate.errors import FailureDetail, InvalidTokenError, MissingTokenError, TokenFailure

__all__ = ["TokenPredicate", "enforce_claim", "enforce_token"]

#: A route's own test of a verified token: True to accept.
TokenPredicate = Callable[[AccessToken], bool]


def enforce_claim(token: AccessToken | None, name: str, accepted: Sequence[Any]) -> AccessToken:
    """401 without a token; 401 ``invalid_token`` unless the claim is present and accepted.

    With no ``accepted`` values the claim only has to be present (and not null);
    otherwise it must equal one of them, or be an array holding one
    (:func:`scopegate._claims.claim_matches`, the rule ``claim_values`` uses too).
    """
    if token is None:
        raise MissingTokenError()
    value = token.claims.get(name)
    if value is None:
        raise InvalidTokenError(
            TokenFailure.MISSING_CLAIM, detail=FailureDetail("required", name, "this route")
        )
    if accepted and not claim_matches(value, accepted):
        raise InvalidTokenError(
            TokenFailure.CLAIM_VALUE,
            detail=FailureDetail("value", name, tuple(accepted), value),
        )
    return token


def enforce_token(token: AccessToken | None, predicate: TokenPredicate) -> AccessToken:
    """401 without a token; 401 ``invalid_token`` unless ``predicate(token)`` is True.

    A predicate that raises rejects the token too, rather than answering 500.
    """
    if token is None:
        raise MissingTokenError()
    run_validator(predicate, token)
    return token
