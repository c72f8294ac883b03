"""The ``scopegate`` command line (also ``python -m scopegate``).

One module per command, each with ``add_parser(subparsers)`` (which sets
``run(args) -> int`` as the parser's default). ``token`` and ``inspect`` read
settings from ``SCOPEGATE_*`` variables and an ``.env`` file in the working
directory, as for the API itself. Exit codes: 0 success, 1 a refusal (an
invalid token, a Management API or token endpoint that said no, a demo step
that deviated), 2 a usage or configuration error; errors are reported on one
line and never as a traceback.
"""

from __future__ import annotations

import argparse
import io
import sys
from collections.abc import Sequence
from pathlib import Path

from scopegate import __version__
from scopegate.cli import api, authserver, clients, demo, grants, inspect, keys, token
from scopegate.errors import ConfigurationError

__all__ = ["EXIT_CONFIG", "EXIT_INVALID", "EXIT_OK", "build_parser", "main"]

EXIT_OK = 0
EXIT_INVALID = 1
EXIT_CONFIG = 2
DEFAULT_ENV_FILE = ".env"


COMMANDS = (
    token,
    inspect,
    demo,
    authserver,
    api,
    clients,
    grants,
    keys,
)


def build_parser() -> argparse.ArgumentParser:
    """The ``scopegate`` parser with every command."""
    parser = argparse.ArgumentParser(
        prog="scopegate",
        description="Mint and inspect access tokens for an API protected by scopegate, run "
        "the local authorization server or the end-to-end demo, and manage APIs, clients, "
        "grants and signing keys through a Management API. 'token' and 'inspect' read settings "
        "from SCOPEGATE_* environment variables and from an .env file in the working directory "
        "(variables win).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--env-file",
        metavar="FILE",
        type=Path,
        help=f"read settings from FILE instead of ./{DEFAULT_ENV_FILE} "
        "(SCOPEGATE_* variables still win)",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in COMMANDS:
        command.add_parser(subparsers)
    return parser


def _one_line(error: Exception) -> str:
    first, *rest = str(error).splitlines() or [""]
    return " ".join([first, "; ".join(line.strip() for line in rest)]).strip()


def _tolerate_any_terminal() -> None:
    """Escape what the terminal's encoding cannot show (claim values) instead of failing."""
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="backslashreplace")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    _tolerate_any_terminal()
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.env_file is None:
        args.env_file = Path(DEFAULT_ENV_FILE)
    elif not args.env_file.is_file():
        parser.exit(EXIT_CONFIG, f"scopegate: error: --env-file {args.env_file}: no such file\n")
    try:
        code: int = args.run(args)
    except ConfigurationError as error:
        print(f"scopegate: error: {_one_line(error)}", file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        return 130
    return code
