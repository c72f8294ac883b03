"""Errors: the wire contract of scopegate.

Each bearer error knows its HTTP status, its RFC 6750 error code, its fixed
description and how to render its ``WWW-Authenticate`` challenge and JSON body,
so that every adapter (ASGI, WSGI, FastAPI, Flask) only *renders* errors and
never decides them::

    ScopegateError
    ├── ConfigurationError          bad settings; raised at construction, never per request
    │   └── MissingExtraError       also an ImportError: names the pip command
    └── BearerError                 a request that must be rejected (status, code, challenge)
        ├── MissingTokenError       401, no ``error`` attribute (RFC 6750 §3.1)
        ├── InvalidRequestError     400 ``invalid_request``
        ├── InvalidTokenError       401 ``invalid_token``
        ├── InsufficientScopeError  403 ``insufficient_scope`` with ``scope="..."``
        ├── InvalidDPoPProofError   401 ``invalid_dpop_proof`` (RFC 9449 §7.1)
        ├── UseDPoPNonceError       401 ``use_dpop_nonce`` with a ``DPoP-Nonce`` header (§9)
        └── UnavailableError        503 ``temporarily_unavailable`` with ``Retry-After``
            ├── KeysUnavailableError         the key source is unreachable
            └── ReplayStoreUnavailableError  the DPoP replay store is unreachable (or full)

Descriptions are fixed strings chosen here; they never contain the token, a
secret, a claim value or a library's message, so they are always safe to put in
a quoted header parameter.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import Enum
from http import HTTPStatus
from typing import Any, ClassVar, NamedTuple

__all__ = [
    "BearerError",
    "ConfigurationError",
    "DPoPFailure",
    "ErrorRenderer",
    "ErrorResponse",
    "FailureDetail",
    "InsufficientScopeError",
    "InvalidDPoPProofError",
    "InvalidRequestError",
    "InvalidTokenError",
    "KeysUnavailableError",
    "MissingExtraError",
    "MissingTokenError",
    "ReplayStoreUnavailableError",
    "ScopegateError",
    "TokenFailure",
    "UnavailableError",
    "UseDPoPNonceError",
    "is_safe_realm",
    "status_line",
]

# RFC 6750 §3: error_description is limited to %x20-21 / %x23-5B / %x5D-7E.
_DESCRIPTION_CHARS = re.compile(r"[\x20\x21\x23-\x5b\x5d-\x7e]*\Z")
# The realm is rendered inside a quoted-string (RFC 7235 §2.2, RFC 9110 §5.6.4): keep
# to the characters that need no escaping (no '"', no '\\', no control characters),
# in words separated by single spaces, so the header never needs a quoted-pair.
_REALM = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]+(?: [\x21\x23-\x5b\x5d-\x7e]+)*\Z")


def is_safe_realm(value: str) -> bool:
    """True when ``value`` can stand in ``realm="..."`` as it is: printable ASCII
    without quotes or backslashes, words separated by single spaces."""
    return _REALM.match(value) is not None


def status_line(status: int) -> str:
    """A status as a WSGI status line, e.g. ``401 Unauthorized``."""
    return f"{status} {HTTPStatus(status).phrase}"


class ErrorResponse(NamedTuple):
    """A rejection as an adapter sends it: status, headers (without ``content-length``), body."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes


class ScopegateError(Exception):
    """Root of every exception scopegate raises on purpose."""


class ConfigurationError(ScopegateError):
    """A setting is missing or unusable.

    The message names the setting and its environment variable. It never
    contains the value of a secret.
    """


class MissingExtraError(ConfigurationError, ImportError):
    """A setting needs an optional dependency that is not installed; names the pip command."""


class BearerError(ScopegateError):
    """A request that must be rejected, with everything needed to render the response.

    Attributes:
        status_code: the HTTP status to answer with.
        error: the RFC 6750 error code, or None when the request carried no
            credentials at all (RFC 6750 §3.1: no error attribute then).
        description: a short, fixed, header-safe explanation.
    """

    status_code: ClassVar[int] = 401
    error: ClassVar[str | None] = None
    default_description: ClassVar[str] = "Authentication is required"
    #: The authentication scheme of the rejected request (``"Bearer"`` or
    #: ``"DPoP"``) when it is known: the protector puts the challenge that
    #: carries the error on that scheme (RFC 9449 §7.1, §7.2).
    scheme: str | None = None

    def __init__(self, description: str | None = None) -> None:
        self.description = description or self.default_description
        if not _DESCRIPTION_CHARS.match(self.description):
            raise ValueError("error descriptions must use RFC 6750 §3 characters only")
        super().__init__(self.description)

    @property
    def body_error(self) -> str:
        """The ``error`` member of the JSON body (``missing_token`` when there is no code)."""
        return self.error or "missing_token"

    def challenge_params(self) -> list[tuple[str, str]]:
        """Auth-params of the challenge after ``realm``, in order."""
        if self.error is None:
            return []
        return [("error", self.error), ("error_description", self.description)]

    def www_authenticate(self, realm: str) -> str:
        """The ``WWW-Authenticate`` header value, e.g. ``Bearer realm="api", error="..."``."""
        params = [("realm", realm), *self.challenge_params()]
        return "Bearer " + ", ".join(f'{name}="{value}"' for name, value in params)

    def body(self) -> dict[str, str]:
        """The JSON body: always ``error`` and ``error_description``."""
        return {"error": self.body_error, "error_description": self.description}

    def json_bytes(self) -> bytes:
        """The JSON body, encoded: what every adapter sends."""
        return json.dumps(self.body(), separators=(",", ":")).encode()

    @property
    def status_line(self) -> str:
        """The status as WSGI wants it, e.g. ``401 Unauthorized``."""
        return status_line(self.status_code)

    def response_headers(self, realm: str) -> list[tuple[str, str]]:
        """Headers of the rejection: content type, challenge and no caching."""
        return [
            ("content-type", "application/json"),
            ("www-authenticate", self.www_authenticate(realm)),
            ("cache-control", "no-store"),
        ]

    def response(self, realm: str) -> ErrorResponse:
        """The default rendering: status, :meth:`response_headers` and :meth:`json_bytes`."""
        return ErrorResponse(self.status_code, self.response_headers(realm), self.json_bytes())


#: Turns a rejection into the response an adapter sends; the default is
#: :meth:`BearerError.response`. A custom renderer may reshape the body (the local
#: authorization server answers in Auth0's shape) but should keep the status and
#: the ``WWW-Authenticate`` challenge, which are the RFC 6750 contract.
ErrorRenderer = Callable[["BearerError", str], ErrorResponse]


class MissingTokenError(BearerError):
    """No credentials (or another scheme, such as Basic) on a protected resource: 401."""

    default_description = "A bearer token is required"


class InvalidRequestError(BearerError):
    """A malformed request (RFC 6750 §3.1 ``invalid_request``): 400."""

    status_code = 400
    error = "invalid_request"
    default_description = "The request is malformed"


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


class InsufficientScopeError(BearerError):
    """A valid token that lacks the scopes the resource needs: 403 ``insufficient_scope``.

    Attributes:
        required_scopes: the scopes the resource asked for, in order.
        any_of: True when any one of them would have been enough.
    """

    status_code = 403
    error = "insufficient_scope"

    def __init__(self, required_scopes: Iterable[str], *, any_of: bool = False) -> None:
        self.required_scopes = tuple(required_scopes)
        self.any_of = any_of
        kind = "one of the scopes" if any_of else "the scopes"
        super().__init__(f"The access token lacks {kind} this resource requires")

    @property
    def scope(self) -> str:
        """The space-delimited ``scope`` attribute of the challenge."""
        return " ".join(self.required_scopes)

    def challenge_params(self) -> list[tuple[str, str]]:
        return [*super().challenge_params(), ("scope", self.scope)]

    def body(self) -> dict[str, str]:
        return {**super().body(), "scope": self.scope}


class UnavailableError(BearerError):
    """A dependency of verification is unreachable, so the request cannot be checked: 503.

    Not the client's fault, so no ``WWW-Authenticate`` challenge: RFC 6750 has
    no code for it. The ``error`` is RFC 6749's registered
    ``temporarily_unavailable`` (§4.1.2.1: "the authorization server is
    currently unable to handle the request due to a temporary overloading or
    maintenance"), which OAuth clients already understand as "retry later";
    ``Retry-After`` (RFC 9110 §10.2.3) says when. Verification fails closed:
    nothing is accepted unchecked.

    Attributes:
        retry_after: whole seconds until the dependency is tried again (at least 1).
    """

    status_code = 503
    error = "temporarily_unavailable"
    default_description = "The request cannot be checked right now; retry later"

    def __init__(self, retry_after: float = 1) -> None:
        self.retry_after = max(1, math.ceil(retry_after))
        super().__init__()

    def response_headers(self, realm: str) -> list[tuple[str, str]]:
        return [
            ("content-type", "application/json"),
            ("retry-after", str(self.retry_after)),
            ("cache-control", "no-store"),
        ]


class KeysUnavailableError(UnavailableError):
    """No signing key can be had because the key source is unreachable: 503."""

    default_description = "The signing keys cannot be fetched right now; retry later"


class ReplayStoreUnavailableError(UnavailableError):
    """The DPoP replay store cannot be asked (unreachable, or full of live entries): 503.

    A proof whose ``jti`` cannot be checked is never accepted (fail closed).
    """

    default_description = "The DPoP replay check cannot be made right now; retry later"


class DPoPFailure(str, Enum):
    """Which RFC 9449 proof rule a request broke; each has one fixed, header-safe description."""

    MISSING = "A DPoP proof is required"
    MULTIPLE = "Exactly one DPoP proof is allowed"
    MALFORMED = "The DPoP proof is malformed"
    TOO_LARGE = "The DPoP proof is too large"
    TYPE = "The DPoP proof type is not dpop+jwt"
    ALGORITHM = "The DPoP proof algorithm is not allowed"
    KEY = "The DPoP proof key is not an acceptable public key"
    SIGNATURE = "The DPoP proof signature is invalid"
    CLAIM = "The DPoP proof is missing a claim or has a claim of the wrong type"
    METHOD = "The DPoP proof method does not match the request"
    URI = "The DPoP proof URI does not match the request"
    IAT = "The DPoP proof is too old or issued in the future"
    ATH = "The DPoP proof does not match the access token"
    NONCE = "The DPoP proof nonce is not valid"
    REPLAYED = "The DPoP proof has already been used"
    BINDING = "The DPoP proof key is not the key the access token is bound to"


class InvalidDPoPProofError(BearerError):
    """The ``DPoP`` proof of a request is missing, malformed or wrong: 401 ``invalid_dpop_proof``.

    RFC 9449 §7.1 and §12.2. The challenge *scheme* (``DPoP algs="..."``) is the
    protector's to choose; this class keeps the :class:`BearerError` rendering.

    Attributes:
        failure: which proof rule broke (for logs, metrics and tooling).
        detail: the specifics, for tooling only; never rendered into a response or logged.
    """

    error = "invalid_dpop_proof"
    default_description = DPoPFailure.MALFORMED.value

    def __init__(
        self,
        failure: DPoPFailure = DPoPFailure.MALFORMED,
        *,
        detail: FailureDetail | None = None,
    ) -> None:
        self.failure = failure
        self.detail = detail
        super().__init__(failure.value)


# RFC 9449 §8.1: nonce = 1*NQCHAR, NQCHAR = %x21 / %x23-5B / %x5D-7E.
_NONCE_CHARS = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]+\Z")


class UseDPoPNonceError(BearerError):
    """The proof lacks the server's current nonce (RFC 9449 §9): 401 ``use_dpop_nonce``.

    The response carries the nonce to use in a ``DPoP-Nonce`` header; the
    client retries once with it.

    Attributes:
        nonce: the nonce the client must put in its next proof.
    """

    error = "use_dpop_nonce"
    default_description = "The DPoP proof must carry the server nonce"

    def __init__(self, nonce: str) -> None:
        if not _NONCE_CHARS.match(nonce):
            raise ValueError("a DPoP nonce is 1*NQCHAR (RFC 9449 section 8.1)")
        self.nonce = nonce
        super().__init__()

    def response_headers(self, realm: str) -> list[tuple[str, str]]:
        return [*super().response_headers(realm), ("dpop-nonce", self.nonce)]
