"""Errors of the client side: what an authorization server or a Management API answered.

::

    ScopegateError
    └── ClientError             the server refused, or answered something unusable
        ├── TokenRequestError   POST /oauth/token failed (RFC 6749 §5.2 error body)
        └── ManagementError     the Management API refused (Auth0 error body)

Transport failures (connection refused, timeouts) stay httpx's own
``httpx.HTTPError``. No message ever holds a client secret or a token.
"""

from __future__ import annotations

from typing import Any

from scopegate.errors import ScopegateError

__all__ = ["ClientError", "ManagementError", "TokenRequestError"]

# Server-chosen text is cut to this many characters in messages.
_TEXT_LIMIT = 300


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = " ".join(str(value).split())
    if len(text) > _TEXT_LIMIT:
        text = text[:_TEXT_LIMIT] + "..."
    return text or None


class ClientError(ScopegateError):
    """Root of the errors the shipped clients raise about a server's answer.

    Attributes:
        status_code: the HTTP status of the answer (None when there was no usable answer).
    """

    status_code: int | None


class TokenRequestError(ClientError):
    """The token endpoint refused to issue a token, or answered something unusable.

    Attributes:
        status_code: the HTTP status of the token response.
        error: the RFC 6749 §5.2 code (``invalid_client``, ``access_denied``,
            ``invalid_scope``...), or ``invalid_response`` when the answer was not
            a usable token response.
        description: the server's ``error_description``, or what was wrong.
        token_url: where the token was asked for.
    """

    def __init__(
        self, status_code: int | None, error: str, description: str | None, token_url: str
    ) -> None:
        self.status_code = status_code
        self.error = _text(error) or "invalid_response"
        self.description = _text(description)
        self.token_url = token_url
        status = "" if status_code is None else f" {status_code}"
        detail = f": {self.description}" if self.description else ""
        super().__init__(f"token request to {token_url} failed:{status} {self.error}{detail}")


class ManagementError(ClientError):
    """The Management API refused a request.

    Built from Auth0's error body ``{"statusCode", "error", "message", "errorCode"}``
    or, for a 401 or 403 from a scopegate-protected API, from the RFC 6750 body
    ``{"error", "error_description"}``.

    Attributes:
        status_code: the HTTP status.
        error: Auth0's ``error`` (the status phrase, e.g. ``Conflict``) or the
            RFC 6750 code (e.g. ``invalid_token``).
        message: Auth0's ``message`` or the ``error_description``.
        error_code: Auth0's machine-readable ``errorCode`` (e.g. ``inexistent_client``),
            when the server sent one.
    """

    def __init__(
        self, status_code: int, error: str, message: str, error_code: str | None = None
    ) -> None:
        self.status_code = status_code
        self.error = error
        self.message = message
        self.error_code = error_code
        code = f" ({error_code})" if error_code else ""
        super().__init__(f"{status_code} {error}: {message}{code}")

    @classmethod
    def from_body(cls, status_code: int, body: Any, reason: str) -> ManagementError:
        """The error an answer's JSON ``body`` (anything ``json`` parsed, or None) describes."""
        if not isinstance(body, dict):
            return cls(status_code, reason, "the server answered without an error body")
        error = _text(body.get("error")) or reason
        message = _text(body.get("message")) or _text(body.get("error_description")) or "no message"
        return cls(status_code, error, message, _text(body.get("errorCode")))
