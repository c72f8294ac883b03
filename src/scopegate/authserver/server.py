"""Serving the authorization server with uvicorn, and announcing its management client."""

from __future__ import annotations

import sys
from typing import TextIO

from scopegate.authserver.app import create_app
from scopegate.authserver.bootstrap import ManagementCredentials
from scopegate.authserver.defaults import DEFAULT_DB, DEFAULT_HOST, DEFAULT_PORT

__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "announce", "default_base_url", "serve"]


def default_base_url(host: str, port: int) -> str:
    """``http://HOST:PORT``, with an IPv6 host in brackets."""
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}"


def announce(credentials: ManagementCredentials, out: TextIO) -> None:
    """Tell the operator how to reach the Management API; a new secret is printed this once."""
    if credentials.client_id is None:
        print(
            "scopegate authserver: the management client was deleted; restart with "
            "--management-client-id and --management-client-secret to create one.",
            file=out,
        )
    elif credentials.created:
        print(
            "scopegate authserver: created the management client. Its secret is shown only "
            "now; it is stored hashed.",
            f"  client_id:     {credentials.client_id}",
            f"  client_secret: {credentials.client_secret}",
            f"  audience:      {credentials.audience}",
            f"  token URL:     {credentials.token_url}",
            sep="\n",
            file=out,
        )
    else:
        print(
            f"scopegate authserver: management client {credentials.client_id} "
            f"(audience {credentials.audience}, token URL {credentials.token_url})",
            file=out,
        )
    out.flush()


def serve(
    *,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    db: str = DEFAULT_DB,
    base_url: str | None = None,
    management_client_id: str | None = None,
    management_client_secret: str | None = None,
    log_level: str = "info",
    out: TextIO | None = None,
) -> None:
    """Build the app, announce the management client, and serve until interrupted.

    Raises:
        ImportError: uvicorn is not installed.
        ConfigurationError: a bad base URL or bad management credentials.
    """
    try:
        import uvicorn
    except ImportError as exc:
        raise ImportError(
            "scopegate authserver needs uvicorn: pip install 'scopegate[authserver]'"
        ) from exc
    app = create_app(
        base_url or default_base_url(host, port),
        db,
        management_client_id=management_client_id,
        management_client_secret=management_client_secret,
    )
    announce(app.state.bootstrap, out or sys.stdout)
    config = uvicorn.Config(app, host=host, port=port, log_level=log_level, ws="none")
    uvicorn.Server(config).run()
