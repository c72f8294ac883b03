"""What ``scopegate api``, ``clients`` and ``grants`` share: the connection and the errors.

Each action takes ``--server`` and either ``--token`` or
``--management-client-id``/``--management-client-secret`` (the latter named
so because ``grants create`` has a ``--client-id`` of its own), each with a
``SCOPEGATE_MANAGEMENT_*`` variable; options win over variables, and a token
over client credentials. Answers are printed as JSON; a refusal is one line on
stderr: exit 1 when the server refused or could not be reached, 2 for a
usage or configuration error.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from scopegate.errors import ConfigurationError

if TYPE_CHECKING:
    from scopegate.client import ManagementClient

URL_ENV = "SCOPEGATE_MANAGEMENT_URL"
TOKEN_ENV = "SCOPEGATE_MANAGEMENT_TOKEN"  # noqa: S105 - the variable's name, not a token
CLIENT_ID_ENV = "SCOPEGATE_MANAGEMENT_CLIENT_ID"
CLIENT_SECRET_ENV = "SCOPEGATE_MANAGEMENT_CLIENT_SECRET"  # noqa: S105 - a name
EXIT_REFUSED = 1
EXIT_USAGE = 2

Call = Callable[["ManagementClient", argparse.Namespace], Any]


class _UsageError(Exception):
    pass


def positive_int(value: str) -> int:
    if not (value.isascii() and value.isdigit() and int(value) > 0):
        raise argparse.ArgumentTypeError(f"{value!r} is not a positive whole number")
    return int(value)


def connection_parser() -> argparse.ArgumentParser:
    """The options every Management API action takes (a parent parser)."""
    parser = argparse.ArgumentParser(add_help=False)
    group = parser.add_argument_group(
        "connection",
        "The Management API to use. A token wins over client credentials, "
        "and each option over its variable.",
    )
    group.add_argument(
        "--server",
        metavar="URL",
        help=f"the server: http://127.0.0.1:8787, or an Auth0 domain (env {URL_ENV})",
    )
    group.add_argument(
        "--token", metavar="TOKEN", help=f"a Management API access token (env {TOKEN_ENV})"
    )
    group.add_argument(
        "--management-client-id",
        metavar="ID",
        help=f"get a token with this client's credentials (env {CLIENT_ID_ENV})",
    )
    group.add_argument(
        "--management-client-secret",
        metavar="SECRET",
        help=f"its secret; prefer the variable {CLIENT_SECRET_ENV}, which other users "
        "cannot see in the process list",
    )
    return parser


def _option(args: argparse.Namespace, name: str, env: str) -> str | None:
    value: str | None = getattr(args, name)
    return value if value else os.environ.get(env) or None


def _connect(args: argparse.Namespace) -> ManagementClient:
    from scopegate.client import ManagementClient

    server = _option(args, "server", URL_ENV)
    if server is None:
        raise _UsageError(f"no server: give --server URL or set {URL_ENV}")
    if args.token:
        return ManagementClient(server, token=args.token)
    if args.management_client_id or args.management_client_secret:
        client_id = _option(args, "management_client_id", CLIENT_ID_ENV)
        secret = _option(args, "management_client_secret", CLIENT_SECRET_ENV)
    elif token := os.environ.get(TOKEN_ENV):
        return ManagementClient(server, token=token)
    else:
        client_id, secret = os.environ.get(CLIENT_ID_ENV), os.environ.get(CLIENT_SECRET_ENV)
    if client_id and secret:
        return ManagementClient.with_client_credentials(server, client_id, secret)
    if client_id or secret:
        missing = "--management-client-secret" if client_id else "--management-client-id"
        raise _UsageError(f"no {missing} (or its variable): client credentials go in pairs")
    raise _UsageError(
        f"no credentials: give --token (or {TOKEN_ENV}), or --management-client-id and "
        f"--management-client-secret (or {CLIENT_ID_ENV} and {CLIENT_SECRET_ENV})"
    )


def _execute(args: argparse.Namespace, call: Call) -> int:
    prog = f"scopegate {args.command} {args.action}"
    try:
        from scopegate.client import ManagementError, TokenRequestError
    except ImportError as error:  # its message names the pip command
        print(f"{prog}: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    import httpx  # present: scopegate.client has imported it

    try:
        with _connect(args) as management:
            result = call(management, args)
    except (_UsageError, ConfigurationError, ValueError) as error:
        print(f"{prog}: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except ManagementError as error:
        print(f"{prog}: error: the server refused: {error}", file=sys.stderr)
        return EXIT_REFUSED
    except TokenRequestError as error:
        print(f"{prog}: error: no Management API token: {error}", file=sys.stderr)
        return EXIT_REFUSED
    except httpx.HTTPError as error:
        where = f" {error.request.url}" if _has_request(error) else ""
        print(f"{prog}: error: cannot reach{where}: {error}", file=sys.stderr)
        return EXIT_REFUSED
    if result is not None:
        print(json.dumps(result, indent=2, ensure_ascii=False))
    return 0


def _has_request(error: Any) -> bool:
    try:
        error.request  # noqa: B018 - httpx raises RuntimeError when there is none
    except RuntimeError:
        return False
    return True


def command(
    subparsers: Any, name: str, summary: str, manages: str
) -> tuple[Any, list[argparse.ArgumentParser]]:
    """Register a Management API command: its actions' subparsers, and the parents they share."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        name,
        help=summary,
        description=f"Manage {manages} through a Management API: the local "
        "'scopegate authserver' or an Auth0 tenant. Prints the server's JSON.",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    return actions, [connection_parser()]


def action(
    actions: Any, name: str, call: Call, summary: str, parents: list[argparse.ArgumentParser]
) -> argparse.ArgumentParser:
    """Add the action ``name`` that runs ``call(management_client, args)`` and prints its JSON."""
    parser: argparse.ArgumentParser = actions.add_parser(
        name, help=summary, description=summary[:1].upper() + summary[1:] + ".", parents=parents
    )
    parser.set_defaults(run=lambda args: _execute(args, call))
    return parser
