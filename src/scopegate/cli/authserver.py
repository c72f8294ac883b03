"""``scopegate authserver``: run the local authorization server.

Every option also reads a ``SCOPEGATE_AUTHSERVER_*`` variable (the option
wins); pass the management secret that way rather than on the command line,
where other users of the machine can see it. The server itself (Starlette,
uvicorn) is imported only when the command runs, so ``scopegate --help``
needs neither. ``python -m scopegate.authserver`` runs :func:`main`.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any

from scopegate.errors import ConfigurationError

ENV_PREFIX = "SCOPEGATE_AUTHSERVER_"
DEFAULT_DB = "scopegate-auth.db"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8787
_DESCRIPTION = """\
Run a local, offline authorization server that speaks Auth0's API for
machine-to-machine tokens: POST /oauth/token (client credentials, RS256 or
HS256), the JWK Set and metadata under /.well-known, and the Management API
under /api/v2 (resource-servers, clients, client-grants, keys/signing),
itself protected by scopegate. Data is kept in a SQLite file. On the first
start a management client is created and its secret printed once."""
_EXAMPLE = """\
example:
  scopegate authserver --port 8787 --db ./scopegate-auth.db
  curl -s http://127.0.0.1:8787/oauth/token -d grant_type=client_credentials \\
    -d client_id=... -d client_secret=... -d audience=http://127.0.0.1:8787/api/v2/"""


def _env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(ENV_PREFIX + name.upper(), default)


def _port(value: str) -> int:
    if not (value.isascii() and value.isdigit() and 1 <= int(value) <= 65535):
        raise argparse.ArgumentTypeError(f"{value!r} is not a port from 1 to 65535")
    return int(value)


# argparse option declarations (duplicates pairs them by shape): data, one per option; the
# environment default is the one rule, in _env.
def _add_arguments(parser: argparse.ArgumentParser) -> None:

    parser.add_argument("--host", default=_env("host", DEFAULT_HOST), help="address to bind")
    parser.add_argument(
        "--port", type=_port, default=_env("port", str(DEFAULT_PORT)), help="port to bind"
    )
    parser.add_argument(
        "--db",
        default=_env("db", DEFAULT_DB),
        metavar="FILE",
        help="SQLite file, created when missing (':memory:' keeps nothing)",
    )
    parser.add_argument(
        "--base-url",
        default=_env("base_url"),
        metavar="URL",
        help="public URL of the server; tokens' iss is URL/ (default: http(s)://HOST:PORT)",
    )
    parser.add_argument(
        "--tls",
        action="store_true",
        default=_env("tls", "") in ("1", "true", "yes"),
        help="serve HTTPS with a certificate for 127.0.0.1/localhost made on the first start "
        "and kept beside the database (FILE-cert.pem, FILE-key.pem; trust FILE-ca.pem)",
    )
    parser.add_argument(
        "--certfile",
        default=_env("certfile"),
        metavar="PEM",
        help="serve HTTPS with this certificate (chain) instead; needs --keyfile",
    )
    parser.add_argument(
        "--keyfile", default=_env("keyfile"), metavar="PEM", help="the private key of --certfile"
    )
    parser.add_argument(
        "--management-client-id",
        default=_env("management_client_id"),
        metavar="ID",
        help="use this management client instead of generating one",
    )
    parser.add_argument(
        "--management-client-secret",
        default=_env("management_client_secret"),
        metavar="SECRET",
        help=f"its secret (prefer {ENV_PREFIX}MANAGEMENT_CLIENT_SECRET)",
    )
    parser.add_argument(
        "--dpop-nonce",
        action="store_true",
        help="require a server nonce in the DPoP proofs of token requests (RFC 9449 §8: "
        "a 400 use_dpop_nonce with the DPoP-Nonce to use)",
    )
    parser.add_argument(
        "--log-level",
        default=_env("log_level", "info"),
        choices=["critical", "error", "warning", "info", "debug", "trace"],
        help="uvicorn's log level",
    )


# Same add_parser shape as cli/token.py and cli/demo.py (duplicates pairs them): argparse
# declarations, each command's own name and texts.
def add_parser(subparsers: Any) -> None:
    """Register the ``authserver`` command."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "authserver",
        help="run a local Auth0-compatible authorization server",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=_DESCRIPTION,
        epilog=_EXAMPLE,
    )
    _add_arguments(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Serve until interrupted; 0 after a clean shutdown, 2 when it cannot start."""
    try:
        from scopegate.authserver.server import serve

        serve(
            host=args.host,
            port=args.port,
            db=args.db,
            base_url=args.base_url,
            management_client_id=args.management_client_id,
            management_client_secret=args.management_client_secret,
            log_level=args.log_level,
            tls=args.tls,
            certfile=args.certfile,
            keyfile=args.keyfile,
            dpop_nonce=args.dpop_nonce,
        )
    except ImportError as error:
        print(f"scopegate authserver: error: {error}", file=sys.stderr)
        return 2
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m scopegate.authserver``: the ``authserver`` command on its own."""
    parser = argparse.ArgumentParser(
        prog="python -m scopegate.authserver",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=_DESCRIPTION,
        epilog=_EXAMPLE,
    )
    _add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        return run(args)
    except ConfigurationError as error:
        print(f"scopegate authserver: error: {error}", file=sys.stderr)
        return 2
