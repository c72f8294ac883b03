"""Plain WSGI middleware: the same policy and the same errors as the ASGI side.

Wrap any WSGI app, in the style of werkzeug's ``ProxyFix``::

    app.wsgi_app = BearerAuthMiddleware(app.wsgi_app)

The verified token (None when anonymous) is stored under
``environ["scopegate.token"]`` and the policy under ``environ["scopegate.protector"]``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from scopegate.errors import BearerError, ErrorRenderer, status_line
from scopegate.protector import BearerProtector
from scopegate.settings import Settings
from scopegate.token import AccessToken
from scopegate.verifier import TokenVerifier

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

__all__ = [
    "ENVIRON_PROTECTOR",
    "ENVIRON_TOKEN",
    "BearerAuthMiddleware",
    "environ_path",
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
    error: BearerError, protector: BearerProtector, start_response: StartResponse
) -> list[bytes]:
    """Answer with ``error``: the same status, headers and JSON body as the ASGI side."""
    status, headers, body = protector.render(error)
    start_response(status_line(status), [*headers, ("content-length", str(len(body)))])
    return [body]


class BearerAuthMiddleware:
    """Reject WSGI requests without a valid bearer token; store the token of the others.

    Args:
        wsgi_app: the WSGI application to protect.
        settings: the API's settings; None loads :class:`Settings` from ``SCOPEGATE_*``.
        auth_required: when False, a request without a token passes as
            anonymous and route guards decide; a bad token is still rejected.
        public_paths: exact paths (``PATH_INFO``) served without any token check.
        allow_query_token: also accept ``?access_token=`` (RFC 6750 §2.3).
        verifier: a shared :class:`TokenVerifier`; built from ``settings`` when None.
        error_renderer: turns a rejection into the response sent (see
            :data:`~scopegate.errors.ErrorRenderer`); None sends the RFC 6750 JSON body.

    Example:
        >>> app = Flask(__name__)
        >>> app.wsgi_app = BearerAuthMiddleware(app.wsgi_app, public_paths=["/health"])
    """

    def __init__(
        self,
        wsgi_app: WSGIApplication,
        settings: Settings | None = None,
        *,
        auth_required: bool = True,
        public_paths: Iterable[str] = (),
        allow_query_token: bool = False,
        verifier: TokenVerifier | None = None,
        error_renderer: ErrorRenderer | None = None,
    ) -> None:
        self.app = wsgi_app
        self.protector = BearerProtector(
            settings,
            auth_required=auth_required,
            public_paths=public_paths,
            allow_query_token=allow_query_token,
            verifier=verifier,
            error_renderer=error_renderer,
        )

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        protector = self.protector
        environ[ENVIRON_PROTECTOR] = protector
        environ[ENVIRON_TOKEN] = None
        if protector.is_public(environ_path(environ)):
            return self.app(environ, start_response)
        header = environ.get("HTTP_AUTHORIZATION")
        try:
            query = protector.query_tokens(environ.get("QUERY_STRING", ""))
            token = protector.authenticate([] if header is None else [header], query)
        except BearerError as error:
            return render_error(error, protector, start_response)
        environ[ENVIRON_TOKEN] = token
        return self.app(environ, start_response)
