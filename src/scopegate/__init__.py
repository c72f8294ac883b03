"""scopegate: OAuth 2.0 bearer-token validation for Python resource servers.

The core (settings, header parsing, verification, scopes, errors) imports no
web framework. Adapters are imported by their module path:
``scopegate.asgi``, ``scopegate.starlette`` and ``scopegate.fastapi``.
"""

from __future__ import annotations

from scopegate import errors
from scopegate._settings import Settings
from scopegate._token import AccessToken
from scopegate._verifier import TokenVerifier
from scopegate.errors import (
    BearerError,
    ConfigurationError,
    InsufficientScopeError,
    InvalidDPoPProofError,
    InvalidRequestError,
    InvalidTokenError,
    KeysUnavailableError,
    MissingTokenError,
    ReplayStoreUnavailableError,
    UseDPoPNonceError,
)

__version__ = "0.1.0"

__all__ = [
    "AccessToken",
    "BearerError",
    "ConfigurationError",
    "InsufficientScopeError",
    "InvalidDPoPProofError",
    "InvalidRequestError",
    "InvalidTokenError",
    "KeysUnavailableError",
    "MissingTokenError",
    "ReplayStoreUnavailableError",
    "Settings",
    "TokenVerifier",
    "UseDPoPNonceError",
    "__version__",
    "errors",
]
