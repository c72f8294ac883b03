"""Serving the authorization server with uvicorn, and announcing its management client."""

from __future__ import annotations

import sys
from typing import TextIO

from scopegate.authserver.app import create_app
from scopegate.authserver.bootstrap import ManagementCredentials
from scopegate.authserver.tls import TlsFiles, ensure_certificate, given_certificate


def default_base_url(host: str, port: int, scheme: str = "http") -> str:
    """``http://HOST:PORT`` (or https), with an IPv6 host in brackets."""
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"{scheme}://{host}:{port}"


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


def announce_tls(files: TlsFiles, out: TextIO) -> None:
    """Where the certificate is, and the CA file clients must trust."""
    made = "made a certificate for 127.0.0.1, ::1 and localhost" if files.created else "TLS"
    print(f"scopegate authserver: {made}: {files.certfile} (key {files.keyfile})", file=out)
    if files.ca_file is not None:
        print(
            f"  trust its CA:  {files.ca_file}",
            f"  e.g. SSL_CERT_FILE={files.ca_file} REQUESTS_CA_BUNDLE={files.ca_file} "
            f"NODE_EXTRA_CA_CERTS={files.ca_file}",
            sep="\n",
            file=out,
        )
    out.flush()


def serve(
    *,
    host: str,
    port: int,
    db: str,
    base_url: str | None = None,
    management_client_id: str | None = None,
    management_client_secret: str | None = None,
    log_level: str = "info",
    tls: bool = False,
    certfile: str | None = None,
    keyfile: str | None = None,
    dpop_nonce: bool = False,
    out: TextIO | None = None,
) -> None:
    """Build the app, announce the management client, and serve until interrupted.

    ``tls`` serves HTTPS with a certificate kept beside ``db``
    (:func:`~scopegate.authserver.tls.ensure_certificate`); ``certfile`` and
    ``keyfile`` serve it with the operator's own instead. ``dpop_nonce`` makes the
    token endpoint require server nonces in DPoP proofs (RFC 9449 §8).

    Raises:
        ImportError: uvicorn is not installed.
        ConfigurationError: a bad base URL, bad management credentials or bad TLS files.
    """
    try:
        import uvicorn
    except ImportError as exc:
        raise ImportError(
            "scopegate authserver needs uvicorn: pip install 'scopegate[authserver]'"
        ) from exc
    out = out or sys.stdout
    files = given_certificate(certfile, keyfile)
    if files is None and tls:
        files = ensure_certificate(db)
    scheme = "https" if files is not None else "http"
    app = create_app(
        base_url or default_base_url(host, port, scheme),
        db,
        management_client_id=management_client_id,
        management_client_secret=management_client_secret,
        dpop_nonce=dpop_nonce,
    )
    if files is not None:
        announce_tls(files, out)
    announce(app.state.bootstrap, out)
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level,
        ws="none",
        ssl_certfile=None if files is None else str(files.certfile),
        ssl_keyfile=None if files is None else str(files.keyfile),
    )
    uvicorn.Server(config).run()
