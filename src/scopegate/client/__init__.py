"""The client side of the API Authorization scenario: tokens and the Management API.

- :class:`ClientCredentialsAuth`: an ``httpx.Auth`` that gets a token with the
  client credentials grant, reuses it until shortly before it expires, fetches
  a new one on a 401, and lets one fetch run at a time (sync and async clients).
- :class:`ManagementClient`: resource servers, clients and client grants through
  an Auth0-style Management API (``scopegate authserver`` or a real tenant).

Needs httpx: ``pip install 'scopegate[client]'``.
"""

from __future__ import annotations

try:
    import httpx  # noqa: F401 - fail here, with the pip command, rather than deep inside
except ImportError as exc:  # pragma: no cover - exercised without the extra installed
    raise ImportError("scopegate.client needs httpx: pip install 'scopegate[client]'") from exc

from scopegate.client._auth import ClientCredentialsAuth
from scopegate.client._dpop import DPoPKey
from scopegate.client._errors import ClientError, ManagementError, TokenRequestError
from scopegate.client._management import ManagementClient

__all__ = [
    "ClientCredentialsAuth",
    "ClientError",
    "DPoPKey",
    "ManagementClient",
    "ManagementError",
    "TokenRequestError",
]
