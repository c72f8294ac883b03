"""``scopegate demo``: run the whole API Authorization flow locally and print what happens."""

from __future__ import annotations

import argparse
import sys
from typing import Any

_DESCRIPTION = """\
Start the local authorization server (SQLite in a temporary folder) and the
FastAPI example API on free 127.0.0.1 ports, then walk Auth0's API
Authorization flow over real HTTP, printing each exchange (secrets and tokens
abbreviated). Three flows, all by default:

hs256  register "My Sample API" (HS256), create a client, grant it
       sample-scope, request a token, call /api/private-scoped (200), then with
       no token (401), with a token granted only another scope (403), with an
       expired token (401) and with a tampered one (401).
rs256  register "My RS256 API" (RS256) and start a second API configured with
       only its issuer and identifier (keys through discovery); a token (200);
       rotate the signing key and a new token (200, no restart); the old token
       (200); revoke the old key and the old token once the API's key cache
       has refreshed (401 invalid_token).
dpop   register "My DPoP API" requiring DPoP-bound tokens (RFC 9449); a token
       request without a proof (400); a token bound to the client's key through
       ClientCredentialsAuth(dpop_key=...) (200) and a call with it (200); the
       same token as Bearer, without a proof, with another key's proof, and with
       a replayed proof (401 each).

Every server stops when it ends.

Exit status: 0 when every step behaved as documented, 1 when one did not (it is
named), 2 when the demo could not start."""


# Same add_parser shape as cli/token.py (duplicates pairs them): argparse declarations.
def add_parser(subparsers: Any) -> None:
    """Register the ``demo`` command."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "demo",
        help="run the API Authorization flow against local servers and print a transcript",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=_DESCRIPTION,
    )
    parser.add_argument(
        "--flow",
        choices=("hs256", "rs256", "dpop", "all"),
        default="all",
        help="which flow to walk: hs256, rs256, dpop or all (in that order; the default)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run the demo; its exit status."""
    try:
        from scopegate.demo import run_demo
    except ImportError as error:
        print(f"scopegate demo: error: {error}", file=sys.stderr)
        return 2
    flows = ("hs256", "rs256", "dpop") if args.flow == "all" else (args.flow,)
    return run_demo(flows=flows)
