"""The authorization server's error bodies, as Auth0 sends them.

Two shapes, one per API::

    AuthServerError
    ├── ManagementApiError   Management API: {"statusCode", "error", "message", "errorCode"}
    └── OAuthError        /oauth/token (RFC 6749 §5.2): {"error", "error_description"}

Each error knows its status and body; the routes raise, the exception handlers
installed by :func:`~scopegate.authserver.app.create_app` render. A 401 or 403
on the Management API itself comes from scopegate's bearer middleware, whose
``error_renderer`` hook is :func:`render_bearer_error`: the RFC 6750 status and
``WWW-Authenticate`` challenge, with the Management API's body.
"""

from __future__ import annotations

import abc
import json
import logging
import sqlite3
from http import HTTPStatus

from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response

from scopegate.errors import BearerError, ErrorResponse, InsufficientScopeError, MissingTokenError

_log = logging.getLogger("scopegate.authserver")
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
# Echoed input is cut to this many characters and escaped so any body stays valid UTF-8.
_ECHO_LIMIT = 120
# Python 3.13 renamed 413 "Content Too Large"; keep the name Auth0 (hapi) sends.
_PHRASES = {413: "Request Entity Too Large"}


def safe_text(value: str, limit: int = _ECHO_LIMIT) -> str:
    """``value`` shortened and with lone surrogates escaped, fit to echo in a message."""
    if len(value) > limit:
        value = value[:limit] + "..."
    return value.encode("utf-8", "backslashreplace").decode("utf-8")


class AuthServerError(Exception, metaclass=abc.ABCMeta):
    """Root of the errors the authorization server answers with."""

    status_code: int = 400

    @abc.abstractmethod
    def response(self) -> Response:
        """The HTTP response for this error."""


class ManagementApiError(AuthServerError):
    """A Management API error: ``{"statusCode", "error", "message", "errorCode"}``.

    Attributes:
        status_code: the HTTP status.
        error_code: Auth0's machine-readable ``errorCode`` (e.g. ``invalid_body``).
        message: a human-readable explanation.
    """

    def __init__(self, status_code: int, error_code: str, message: str) -> None:
        self.status_code = status_code
        self.error_code = error_code
        self.message = message
        super().__init__(message)

    def body(self) -> dict[str, object]:
        return {
            "statusCode": self.status_code,
            "error": _PHRASES.get(self.status_code) or HTTPStatus(self.status_code).phrase,
            "message": self.message,
            "errorCode": self.error_code,
        }

    def response(self) -> Response:
        return JSONResponse(self.body(), status_code=self.status_code)


class OAuthError(AuthServerError):
    """A token endpoint error (RFC 6749 §5.2): ``{"error", "error_description"}``.

    Attributes:
        error: the RFC 6749 error code, such as ``invalid_client``.
        description: a fixed, human-readable explanation.
        challenge: a ``WWW-Authenticate`` value, sent when the client used HTTP Basic.
        headers: more response headers (RFC 9449 §8's ``DPoP-Nonce``).
    """

    def __init__(
        self,
        error: str,
        description: str,
        status_code: int = 400,
        challenge: str | None = None,
        *,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.error = error
        self.description = description
        self.status_code = status_code
        self.challenge = challenge
        self.headers = dict(headers or {})
        super().__init__(description)

    def body(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}

    def response(self) -> Response:
        headers = {**NO_STORE, **self.headers}
        if self.challenge is not None:
            headers["WWW-Authenticate"] = self.challenge
        return JSONResponse(self.body(), status_code=self.status_code, headers=headers)


def bad_request(message: str, error_code: str = "invalid_body") -> ManagementApiError:
    return ManagementApiError(400, error_code, message)


def not_found(kind: str) -> ManagementApiError:
    """404 for a missing ``resource_server``, ``client`` or ``client_grant``."""
    words = kind.replace("_", " ")
    return ManagementApiError(404, f"inexistent_{kind}", f"The {words} does not exist.")


def conflict(message: str) -> ManagementApiError:
    return ManagementApiError(409, "conflict", message)


def render_bearer_error(error: BearerError, realm: str) -> ErrorResponse:
    """A rejection by the bearer middleware, in the Management API's shape (Auth0's).

    The status and the ``WWW-Authenticate`` challenge stay RFC 6750's; the body is
    ``{"statusCode", "error", "message", "errorCode"}`` with Auth0's wording, such as
    ``Insufficient scope, expected any of: create:clients``.
    """
    if isinstance(error, InsufficientScopeError):
        kind = "any" if error.any_of or len(error.required_scopes) == 1 else "all"
        message = f"Insufficient scope, expected {kind} of: {', '.join(error.required_scopes)}"
    elif isinstance(error, MissingTokenError):
        message = "Missing authentication"
    else:
        message = error.description
    body = ManagementApiError(error.status_code, error.body_error, message).body()
    encoded = json.dumps(body, separators=(",", ":")).encode()
    return ErrorResponse(error.status_code, error.response_headers(realm), encoded)


_STATUS_CODES = {404: "not_found", 405: "method_not_allowed"}


async def render_exception(request: Request, exc: Exception) -> Response:
    """The exception handler of both apps: every failure gets a JSON body.

    Our own errors render themselves; Starlette's 404 and 405 and an
    unexpected error get the Management API shape; a client that disconnects
    mid-body gets one log line. A locked database (another
    process holding a write for longer than the busy timeout) is a 503 that
    the client can retry: no write happened.
    """
    if isinstance(exc, AuthServerError):
        return exc.response()
    if isinstance(exc, ClientDisconnect):
        # Nobody is listening for an answer: one line, not a traceback per request.
        _log.info(
            "%s %s: the client disconnected before sending the whole body",
            request.method,
            request.url.path,
        )
        return Response(status_code=400)
    if isinstance(exc, HTTPException):
        code = _STATUS_CODES.get(exc.status_code, "http_error")
        response = ManagementApiError(exc.status_code, code, exc.detail).response()
        response.headers.update(exc.headers or {})
        return response
    if isinstance(exc, sqlite3.OperationalError):
        error = ManagementApiError(503, "temporarily_unavailable", "The store is busy; try again.")
        response = error.response()
        response.headers["Retry-After"] = "1"
        return response
    return ManagementApiError(500, "internal_error", "Internal error.").response()
