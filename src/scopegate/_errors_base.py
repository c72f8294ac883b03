"""What every scopegate error is, and how a rejection renders: part of :mod:`scopegate.errors`.

The root of the tree, the configuration errors, :class:`BearerError` with its
rendering (status, ``WWW-Authenticate`` challenge, JSON body), and the RFC 6750
codes that need nothing more: no credentials, a malformed request, a missing
scope. Import these from :mod:`scopegate.errors`, which draws the whole tree.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import ClassVar, NamedTuple

__all__ = [
    "BearerError",
    "ConfigurationError",
    "ErrorRenderer",
    "ErrorResponse",
    "InsufficientScopeError",
    "InvalidRequestError",
    "MissingExtraError",
    "MissingTokenError",
    "ScopegateError",
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
