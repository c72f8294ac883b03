"""``scopegate clients``: machine-to-machine applications, through a Management API.

::

    scopegate clients create --name "My M2M App"

The answer to ``create`` holds the ``client_secret``; it is not shown again.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from scopegate.cli.management import action, command

if TYPE_CHECKING:
    from scopegate.client import ManagementClient


def _update(management: ManagementClient, args: argparse.Namespace) -> Any:
    if args.name is None and args.description is None:
        raise ValueError("nothing to change: give --name or --description")
    return management.update_client(args.id, name=args.name, description=args.description)


# Declarations shaped like cli/api.py, cli/grants.py and cli/keys.py (duplicates pairs them).
def add_parser(subparsers: Any) -> None:
    """Register the ``clients`` command and its actions."""
    actions, parents = command(
        subparsers,
        "clients",
        "create, list, show, change or delete clients (applications)",
        "machine-to-machine clients",
    )

    create = action(
        actions,
        "create",
        lambda m, args: m.create_client(args.name, description=args.description),
        "create a machine-to-machine client; the answer holds its secret",
        parents,
    )
    create.add_argument("--name", required=True)
    create.add_argument("--description")

    action(actions, "list", lambda m, _args: m.list_clients(), "list the clients", parents)

    get = action(actions, "get", lambda m, args: m.get_client(args.id), "show one client", parents)
    get.add_argument("id", metavar="CLIENT_ID")

    update = action(actions, "update", _update, "rename or describe a client", parents)
    update.add_argument("id", metavar="CLIENT_ID")
    update.add_argument("--name")
    update.add_argument("--description")

    delete = action(
        actions,
        "delete",
        lambda m, args: m.delete_client(args.id),
        "delete a client and every grant it holds",
        parents,
    )
    delete.add_argument("id", metavar="CLIENT_ID")
