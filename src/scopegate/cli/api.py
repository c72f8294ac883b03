"""``scopegate api``: register and change APIs (resource servers) through a Management API.

::

    scopegate api create --name "My Sample API" --identifier https://my-api-urn \\
        --scope sample-scope
    scopegate api get https://my-api-urn

The answer to ``create`` holds the API's ``signing_secret``: the
``SCOPEGATE_SIGNING_SECRET`` of the API itself.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from scopegate.cli.management import action, command, positive_int

if TYPE_CHECKING:
    from scopegate.client import ManagementClient

_SCOPE_HELP = "a scope the API defines; repeat it, or give several separated by spaces"
_DPOP_HELP = (
    "DPoP-bound tokens (Auth0's proof_of_possession, mechanism dpop): 'required' issues "
    "tokens for the API only with a DPoP proof, 'allowed' binds a token when the request "
    "has one, 'off' issues bearer tokens"
)
# --dpop as Auth0's proof_of_possession object; "off" is no policy at all.
_DPOP_POLICIES: dict[str, dict[str, Any] | None] = {
    "required": {"mechanism": "dpop", "required": True},
    "allowed": {"mechanism": "dpop", "required": False},
    "off": None,
}


def _create(management: ManagementClient, args: argparse.Namespace) -> Any:
    return management.create_resource_server(
        args.identifier,
        name=args.name,
        scopes=args.scopes,
        token_lifetime=args.token_lifetime,
        proof_of_possession=_DPOP_POLICIES[args.dpop or "off"],
    )


def _update(management: ManagementClient, args: argparse.Namespace) -> Any:
    if (args.name, args.scopes, args.token_lifetime, args.dpop) == (None, None, None, None):
        raise ValueError("nothing to change: give --name, --scope, --token-lifetime or --dpop")
    return management.update_resource_server(
        args.id,
        name=args.name,
        scopes=args.scopes,
        token_lifetime=args.token_lifetime,
        proof_of_possession=None if args.dpop is None else _DPOP_POLICIES[args.dpop],
        remove_proof_of_possession=args.dpop == "off",
    )


# Declarations shaped like cli/clients.py, cli/grants.py and cli/keys.py (duplicates pairs
# them): each action's own call and text; the shared steps are management.command and action.
def add_parser(subparsers: Any) -> None:
    """Register the ``api`` command and its actions."""
    actions, parents = command(
        subparsers,
        "api",
        "create, list, show, change or delete APIs (resource servers)",
        "APIs (resource servers)",
    )

    create = action(actions, "create", _create, "register an API", parents)
    create.add_argument(
        "--identifier", required=True, metavar="URI", help="the audience, e.g. https://my-api-urn"
    )
    create.add_argument("--name", help="a display name (default: the identifier)")
    create.add_argument(
        "--scope", dest="scopes", metavar="SCOPE", action="append", default=[], help=_SCOPE_HELP
    )
    create.add_argument(
        "--token-lifetime", type=positive_int, metavar="SECONDS", help="default: 86400"
    )
    create.add_argument("--dpop", choices=list(_DPOP_POLICIES), help=_DPOP_HELP + " (default)")

    action(actions, "list", lambda m, _args: m.list_resource_servers(), "list the APIs", parents)

    get = action(
        actions, "get", lambda m, args: m.get_resource_server(args.id), "show one API", parents
    )
    get.add_argument("id", metavar="ID", help="its id or its identifier")

    update = action(actions, "update", _update, "change an API", parents)
    update.add_argument("id", metavar="ID", help="its id or its identifier")
    update.add_argument("--name", help="a new display name")
    update.add_argument(
        "--scope",
        dest="scopes",
        metavar="SCOPE",
        action="append",
        help=_SCOPE_HELP + "; replaces the API's whole list",
    )
    update.add_argument("--token-lifetime", type=positive_int, metavar="SECONDS")
    update.add_argument("--dpop", choices=list(_DPOP_POLICIES), help=_DPOP_HELP)

    delete = action(
        actions,
        "delete",
        lambda m, args: m.delete_resource_server(args.id),
        "delete an API and every grant for it",
        parents,
    )
    delete.add_argument("id", metavar="ID", help="its id or its identifier")
