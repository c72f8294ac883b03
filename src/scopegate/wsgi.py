"""Plain WSGI middleware: the same policy and the same errors as the ASGI side.

Wrap any WSGI app, in the style of werkzeug's ``ProxyFix``::

    app.wsgi_app = BearerAuthMiddleware(app.wsgi_app)

The verified token (None when anonymous) is stored under
``environ["scopegate.token"]`` and the policy under ``environ["scopegate.protector"]``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from scopegate._environ import (
    ENVIRON_TOKEN,
    publish,
    publish_environ,
    render_error,
    token_from_environ,
)
from scopegate._protector import BearerProtector
from scopegate._settings import Settings
from scopegate._token import AccessToken
from scopegate._verifier import TokenVerifier
from scopegate.errors import ErrorRenderer

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

__all__ = ["ENVIRON_TOKEN", "BearerAuthMiddleware", "token_from_environ"]


# Same constructor and options as asgi.BearerAuthMiddleware, on purpose: one option set for
# every adapter, passed straight to BearerProtector (duplicates lists the pair).
class BearerAuthMiddleware:
    """Reject WSGI requests without a valid bearer token; store the token of the others.

    Args:
        wsgi_app: the WSGI application to protect.
        settings: the API's settings; None reads them from ``SCOPEGATE_*`` and ``.env``.
        verifier: a :class:`TokenVerifier` to share; built from the settings when None.
        error_renderer: turns a rejection into the response sent (see
            :data:`~scopegate.errors.ErrorRenderer`); None sends the RFC 6750 JSON body.
        **options: any :class:`Settings` field (``public_paths``, ``auth_required``,
            ``allow_query_token``, ...), winning over ``settings`` and the environment.

    Raises:
        ConfigurationError: invalid settings, all of them named: a WSGI app is
            built before the server serves it (gunicorn refuses to boot).

    Example::

        app = Flask(__name__)
        app.wsgi_app = BearerAuthMiddleware(app.wsgi_app, public_paths=["/health"])
    """

    def __init__(
        self,
        wsgi_app: WSGIApplication,
        settings: Settings | None = None,
        *,
        verifier: TokenVerifier | None = None,
        error_renderer: ErrorRenderer | None = None,
        **options: Any,
    ) -> None:
        self.app = wsgi_app
        self.protector: BearerProtector[AccessToken | None] = BearerProtector(
            settings,
            publish=publish,
            verifier=verifier,
            error_renderer=error_renderer,
            options=options,
        )

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        error = publish_environ(self.protector, environ)
        if error is not None:
            return render_error(error, self.protector, start_response)
        return self.app(environ, start_response)
