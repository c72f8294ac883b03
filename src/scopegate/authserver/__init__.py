"""A local, offline authorization server speaking Auth0's API for machine-to-machine tokens.

``POST /oauth/token`` issues HS256 access tokens with the client credentials
grant; the Management API (``/api/v2``: resource servers, clients, client
grants) is itself protected by scopegate. Data lives in SQLite. Run it with
``scopegate authserver`` or ``python -m scopegate.authserver``; build the app
in process with :func:`create_app`. Serving needs the ``authserver`` extra
(``pip install 'scopegate[authserver]'``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scopegate.authserver.defaults import DEFAULT_DB

if TYPE_CHECKING:
    from scopegate.authserver.app import create_app
    from scopegate.authserver.bootstrap import MANAGEMENT_SCOPES, ManagementCredentials

__all__ = ["DEFAULT_DB", "MANAGEMENT_SCOPES", "ManagementCredentials", "create_app"]


def __getattr__(name: str) -> Any:
    # Lazy, so `scopegate authserver --help` (and the CLI package) need not import Starlette.
    if name == "create_app":
        from scopegate.authserver.app import create_app

        return create_app
    if name in ("MANAGEMENT_SCOPES", "ManagementCredentials"):
        from scopegate.authserver import bootstrap

        return getattr(bootstrap, name)
    raise AttributeError(f"module 'scopegate.authserver' has no attribute {name!r}")
