"""Print an access token the example API accepts, as a client-credentials grant would issue.

It signs with the same settings as ``main.py`` (``SCOPEGATE_*`` variables, then
``.env`` beside this file), so it stands in for the authorization server when
you try the API with curl::

    python examples/fastapi_app/mint_token.py --scope sample-scope
    python examples/fastapi_app/mint_token.py --expires-in -60   # an expired token
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import jwt

from scopegate import ConfigurationError, Settings

ENV_FILE = Path(__file__).with_name(".env")


def build_claims(
    settings: Settings, scopes: list[str], subject: str, expires_in: int
) -> dict[str, Any]:
    """The claims of a client-credentials token for the configured API."""
    now = int(time.time())
    client_id = subject.removesuffix("@clients")
    claims: dict[str, Any] = {
        "sub": subject,
        "aud": settings.identifier,
        "iat": now if expires_in > 0 else now + expires_in - 60,
        "exp": now + expires_in,
        "azp": client_id,
        "gty": "client-credentials",
        "jti": uuid.uuid4().hex,
    }
    if settings.issuer is not None:
        claims["iss"] = settings.issuer
    if scopes:
        claims["scope"] = " ".join(scopes)
    return claims


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--scope",
        action="append",
        default=[],
        metavar="SCOPE",
        help="a scope to grant; repeat it or give several separated by spaces",
    )
    parser.add_argument(
        "--subject",
        default="example-client@clients",
        help="the sub claim (default: %(default)s)",
    )
    parser.add_argument(
        "--expires-in",
        type=int,
        default=3600,
        metavar="SECONDS",
        help="lifetime in seconds; negative for an already expired token (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    try:
        settings = Settings(_env_file=ENV_FILE if ENV_FILE.is_file() else None)
    except ConfigurationError as exc:
        print(exc, file=sys.stderr)
        return 2
    scopes = [scope for value in args.scope for scope in value.split()]
    claims = build_claims(settings, scopes, args.subject, args.expires_in)
    print(jwt.encode(claims, settings.secret_bytes, algorithm=settings.algorithms[0]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
