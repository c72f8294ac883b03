"""``scopegate token``: print an access token signed with the configured settings.

It stands in for the authorization server's client-credentials grant when you
try an API by hand::

    curl -H "Authorization: Bearer $(scopegate token --scope sample-scope)" \\
        http://127.0.0.1:8000/api/private-scoped
"""

from __future__ import annotations

import argparse
import inspect
import json
import time
from typing import Any

from scopegate._claimset import client_subject
from scopegate._scopes import parse_scopes
from scopegate._settings import Settings, env_name
from scopegate.errors import ConfigurationError
from scopegate.testing import mint_token

DEFAULT_SUBJECT = client_subject("scopegate-cli")
_LIFETIME = 3600
# mint_token's own keyword arguments cannot double as claim names.
_RESERVED = frozenset(inspect.signature(mint_token).parameters) - {"claims"}


_DESCRIPTION = f"""\
Print an access token for the configured API, as a client-credentials grant
would issue it: signed with {env_name("signing_secret")}, for the audience
{env_name("identifier")} and the issuer {env_name("issuer")} (when set).
Refuses to run without a configured secret."""
_EXAMPLE = """\
example:
  curl -H "Authorization: Bearer $(scopegate token --scope sample-scope)" \\
      http://127.0.0.1:8000/api/private-scoped"""


def parse_claim(text: str) -> tuple[str, Any]:
    """``NAME=VALUE``: VALUE as JSON when it parses (``null`` removes the claim), else a string."""
    name, sep, raw = text.partition("=")
    name = name.strip()
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    if name in _RESERVED:
        raise argparse.ArgumentTypeError(f"{name!r} cannot be set as a claim here")
    try:
        value: Any = json.loads(raw)
    except ValueError:
        value = raw
    return name, value


def add_parser(subparsers: Any) -> None:
    """Register the ``token`` command."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "token",
        help="print an access token signed with the configured secret",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=_DESCRIPTION,
        epilog=_EXAMPLE,
    )
    parser.add_argument(
        "--scope",
        dest="scopes",
        action="append",
        default=[],
        metavar="SCOPE",
        type=_scope_argument,
        help="a scope to grant; repeat it, or give several separated by spaces",
    )
    parser.add_argument(
        "--sub",
        dest="subject",
        default=DEFAULT_SUBJECT,
        metavar="SUBJECT",
        help="the sub claim; azp is its part before @clients (default: %(default)s)",
    )
    parser.add_argument(
        "--expires-in",
        type=int,
        default=3600,
        metavar="SECONDS",
        help="lifetime in seconds; negative for an expired token (default: %(default)s)",
    )
    parser.add_argument(
        "--claim",
        dest="claims",
        action="append",
        default=[],
        type=parse_claim,
        metavar="NAME=VALUE",
        help="add or replace a claim; VALUE is read as JSON when it parses (a number, "
        "a list, null to remove the claim), else as a string; repeatable",
    )
    parser.set_defaults(run=run)


def _scope_argument(value: str) -> str:
    """One --scope value, checked by the rule every scope string follows."""
    try:
        return " ".join(parse_scopes(value))
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def run(args: argparse.Namespace) -> int:
    """Print the token; 0 on success."""
    try:
        settings = Settings(_env_file=args.env_file)
    except ConfigurationError as error:
        secret = env_name("signing_secret")
        if f"({secret}): is required" in str(error):
            raise ConfigurationError(
                f"no signing secret configured: set {secret} (the API's HS256 secret) "
                f"in the environment or in {args.env_file}; scopegate token never signs "
                f"with a made-up key. {error}"
            ) from None
        raise
    now = time.time()
    expires_in: int = args.expires_in
    if expires_in <= 0:  # an expired token: say it was issued an hour before it expired
        now, expires_in = now + expires_in - _LIFETIME, _LIFETIME
    token = mint_token(
        settings,
        scopes=args.scopes,
        subject=args.subject,
        expires_in=expires_in,
        now=now,
        **dict(args.claims),
    )
    print(token)
    return 0
