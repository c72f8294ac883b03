"""A local, offline authorization server speaking Auth0's API for machine-to-machine tokens.

``POST /oauth/token`` issues access tokens with the client credentials grant,
RS256 (the tenant's signing keys, published at ``/.well-known/jwks.json``)
or HS256 (the API's signing secret); the Management API (``/api/v2``:
resource servers, clients, client grants, signing keys) is itself protected
by scopegate. Data lives in SQLite. Run it with
``scopegate authserver`` or ``python -m scopegate.authserver`` (the command is
:mod:`scopegate.cli.authserver`); build the app in process with
:func:`create_app`. Serving needs the ``authserver`` extra
(``pip install 'scopegate[authserver]'``).
"""

from __future__ import annotations

from scopegate.authserver.app import create_app
from scopegate.authserver.bootstrap import MANAGEMENT_SCOPES, ManagementCredentials

__all__ = ["MANAGEMENT_SCOPES", "ManagementCredentials", "create_app"]
