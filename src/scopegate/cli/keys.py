"""``scopegate keys``: list, rotate and revoke the tenant's RS256 signing keys.

::

    scopegate keys list
    scopegate keys rotate            # the next key becomes current
    scopegate keys revoke KID        # a previous key leaves the JWK Set
"""

from __future__ import annotations

from typing import Any

from scopegate.cli.management import action, command


# Declarations shaped like cli/api.py, cli/clients.py and cli/grants.py (duplicates pairs them).
def add_parser(subparsers: Any) -> None:
    """Register the ``keys`` command and its actions."""
    actions, parents = command(
        subparsers,
        "keys",
        "list, rotate or revoke the signing keys",
        "the signing keys of RS256 tokens",
    )
    action(actions, "list", lambda m, args: m.list_signing_keys(), "list the keys", parents)
    action(
        actions,
        "rotate",
        lambda m, args: m.rotate_signing_key(),
        "make the next key current (the previous one stays published)",
        parents,
    )
    revoke = action(
        actions,
        "revoke",
        lambda m, args: m.revoke_signing_key(args.kid),
        "take a previous key out of the JWK Set",
        parents,
    )
    revoke.add_argument("kid", metavar="KID")
