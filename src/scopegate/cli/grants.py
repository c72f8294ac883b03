"""``scopegate grants``: which client may get tokens for which API, with which scopes.

::

    scopegate grants create --client-id CLIENT_ID --audience https://my-api-urn \\
        --scope sample-scope
"""

from __future__ import annotations

from typing import Any

from scopegate.cli.management import action, command

_SCOPE_HELP = "a scope to grant; repeat it, or give several separated by spaces"


# Declarations shaped like cli/api.py, cli/clients.py and cli/keys.py (duplicates pairs them).
def add_parser(subparsers: Any) -> None:
    """Register the ``grants`` command and its actions."""
    actions, parents = command(
        subparsers, "grants", "create, list, change or delete client grants", "client grants"
    )

    create = action(
        actions,
        "create",
        lambda m, args: m.create_client_grant(args.client_id, args.audience, args.scopes),
        "let a client get tokens for an API",
        parents,
    )
    create.add_argument("--client-id", required=True, metavar="CLIENT_ID")
    create.add_argument("--audience", required=True, metavar="URI", help="the API identifier")
    create.add_argument(
        "--scope", dest="scopes", metavar="SCOPE", action="append", required=True, help=_SCOPE_HELP
    )

    listing = action(
        actions,
        "list",
        lambda m, args: m.list_client_grants(audience=args.audience, client_id=args.client_id),
        "list the grants",
        parents,
    )
    listing.add_argument("--client-id", metavar="CLIENT_ID", help="only this client's")
    listing.add_argument("--audience", metavar="URI", help="only those for this API")

    update = action(
        actions,
        "update",
        lambda m, args: m.update_client_grant(args.id, args.scopes),
        "replace the scopes of a grant",
        parents,
    )
    update.add_argument("id", metavar="GRANT_ID")
    update.add_argument(
        "--scope", dest="scopes", metavar="SCOPE", action="append", required=True, help=_SCOPE_HELP
    )

    delete = action(
        actions,
        "delete",
        lambda m, args: m.delete_client_grant(args.id),
        "delete a grant",
        parents,
    )
    delete.add_argument("id", metavar="GRANT_ID")
