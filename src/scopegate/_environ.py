"""The WSGI request steps that the WSGI middleware and the Flask extension share.

One owner for what a WSGI request publishes and how: the environ keys, the
request path, authenticating an environ with a protector, publishing the result
and rendering a rejection. :mod:`scopegate.wsgi` and :mod:`scopegate.flask`
both call these; neither repeats them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scopegate._errors_base import status_line
from scopegate._protector import BearerProtector
from scopegate._request_url import wsgi_target
from scopegate._token import AccessToken
from scopegate.errors import BearerError

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

__all__ = [
    "ENVIRON_PROTECTOR",
    "ENVIRON_TOKEN",
    "authenticate_environ",
    "environ_path",
    "publish",
    "publish_environ",
    "render_error",
    "token_from_environ",
]

ENVIRON_TOKEN = "scopegate.token"  # noqa: S105 - an environ key
ENVIRON_PROTECTOR = "scopegate.protector"


def environ_path(environ: WSGIEnvironment) -> str:
    """The request path within the app, decoded as UTF-8 as ASGI servers do."""
    path: str = environ.get("PATH_INFO", "")
    return path.encode("latin-1").decode("utf-8", "replace")


def token_from_environ(environ: WSGIEnvironment) -> AccessToken | None:
    """The request's verified token, None when anonymous.

    Raises:
        RuntimeError: neither the middleware nor the Flask extension ran for this request.
    """
    if ENVIRON_PROTECTOR not in environ:
        raise RuntimeError(
            "scopegate is not installed for this request: wrap the app with "
            "scopegate.wsgi.BearerAuthMiddleware or use scopegate.flask.ScopeGate"
        )
    token: AccessToken | None = environ.get(ENVIRON_TOKEN)
    return token


def render_error(
    error: BearerError,
    protector: BearerProtector[Any],
    start_response: StartResponse,
    token: AccessToken | None = None,
) -> list[bytes]:
    """Answer with ``error``: the same status, headers and JSON body as the ASGI side."""
    status, headers, body = protector.render(error, token)
    start_response(status_line(status), [*headers, ("content-length", str(len(body)))])
    return [body]


def publish(token: AccessToken | None) -> AccessToken | None:
    return token


def publish_environ(
    protector: BearerProtector[AccessToken | None], environ: WSGIEnvironment
) -> BearerError | None:
    """Authenticate a WSGI request and publish the result in its environ.

    The one step the WSGI middleware and the Flask extension both run:
    :func:`authenticate_environ`, then the protector under
    ``environ["scopegate.protector"]`` and the token (None when public, anonymous or
    rejected) under ``environ["scopegate.token"]``.

    Returns:
        The error to render when the request is rejected, else None.
    """
    environ[ENVIRON_PROTECTOR] = protector
    try:
        environ[ENVIRON_TOKEN] = authenticate_environ(protector, environ)
    except BearerError as error:
        environ[ENVIRON_TOKEN] = None
        return error
    return None


def authenticate_environ(
    protector: BearerProtector[AccessToken | None], environ: WSGIEnvironment
) -> AccessToken | None:
    """The verified token of a WSGI request, None when public or anonymous.

    The one sequence of checks behind the WSGI middleware and the Flask extension.

    Raises:
        BearerError: the request must be rejected with this error.
    """
    if protector.public_paths and protector.is_public(environ_path(environ)):
        return None
    header: str | None = environ.get("HTTP_AUTHORIZATION")
    query = environ.get("QUERY_STRING", "")
    if (
        header is not None
        # A DPoP request is never answered from this cache: skip the lookup that would miss.
        and not header.startswith("DPoP ")
        and not (protector.allow_query_token and "access_token" in query)
    ):
        token = protector.cached(header)
        if token is not None:
            return token
    # A WSGI server joins repeated DPoP headers with commas: single_proof sees two.
    proof: str | None = environ.get("HTTP_DPOP")
    return protector.authenticate(
        [] if header is None else [header],
        protector.query_tokens(query),
        cache_key=header,
        dpop=() if proof is None else (proof,),
        target=lambda: wsgi_target(environ),
    )
