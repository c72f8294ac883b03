"""Errors: the wire contract of scopegate.

Each bearer error knows its HTTP status, its RFC 6750 error code, its fixed
description and how to render its ``WWW-Authenticate`` challenge and JSON body,
so that every adapter (ASGI, WSGI, FastAPI, Flask) only *renders* errors and
never decides them::

    ScopegateError
    ├── ConfigurationError          bad settings; raised at construction, never per request
    │   └── MissingExtraError       also an ImportError: names the pip command
    └── BearerError                 a request that must be rejected (status, code, challenge)
        ├── MissingTokenError       401, no ``error`` attribute (RFC 6750 §3.1)
        ├── InvalidRequestError     400 ``invalid_request``
        ├── InvalidTokenError       401 ``invalid_token``
        ├── InsufficientScopeError  403 ``insufficient_scope`` with ``scope="..."``
        ├── InvalidDPoPProofError   401 ``invalid_dpop_proof`` (RFC 9449 §7.1)
        ├── UseDPoPNonceError       401 ``use_dpop_nonce`` with a ``DPoP-Nonce`` header (§9)
        └── UnavailableError        503 ``temporarily_unavailable`` with ``Retry-After``
            ├── KeysUnavailableError         the key source is unreachable
            └── ReplayStoreUnavailableError  the DPoP replay store is unreachable (or full)

Descriptions are fixed strings chosen here; they never contain the token, a
secret, a claim value or a library's message, so they are always safe to put in
a quoted header parameter.

Import every name from here. The classes are written in one module per concern:
:mod:`scopegate._errors_base` (the root, the configuration errors,
:class:`BearerError` and its rendering, the RFC 6750 codes),
:mod:`scopegate._errors_token` (:class:`TokenFailure`, :class:`FailureDetail`,
:class:`InvalidTokenError`), :mod:`scopegate._errors_dpop` (the RFC 9449 errors)
and :mod:`scopegate._errors_unavailable` (the 503s).
"""

from __future__ import annotations

from scopegate._errors_base import (
    BearerError,
    ConfigurationError,
    ErrorRenderer,
    ErrorResponse,
    InsufficientScopeError,
    InvalidRequestError,
    MissingExtraError,
    MissingTokenError,
    ScopegateError,
)
from scopegate._errors_dpop import DPoPFailure, InvalidDPoPProofError, UseDPoPNonceError
from scopegate._errors_token import FailureDetail, InvalidTokenError, TokenFailure
from scopegate._errors_unavailable import (
    KeysUnavailableError,
    ReplayStoreUnavailableError,
    UnavailableError,
)

__all__ = [
    "BearerError",
    "ConfigurationError",
    "DPoPFailure",
    "ErrorRenderer",
    "ErrorResponse",
    "FailureDetail",
    "InsufficientScopeError",
    "InvalidDPoPProofError",
    "InvalidRequestError",
    "InvalidTokenError",
    "KeysUnavailableError",
    "MissingExtraError",
    "MissingTokenError",
    "ReplayStoreUnavailableError",
    "ScopegateError",
    "TokenFailure",
    "UnavailableError",
    "UseDPoPNonceError",
]
