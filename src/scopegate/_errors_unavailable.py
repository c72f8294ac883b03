"""The 503s: verification cannot be done right now; part of :mod:`scopegate.errors`."""

from __future__ import annotations

import math

from scopegate._errors_base import BearerError

__all__ = ["KeysUnavailableError", "ReplayStoreUnavailableError", "UnavailableError"]


class UnavailableError(BearerError):
    """A dependency of verification is unreachable, so the request cannot be checked: 503.

    Not the client's fault, so no ``WWW-Authenticate`` challenge: RFC 6750 has
    no code for it. The ``error`` is RFC 6749's registered
    ``temporarily_unavailable`` (§4.1.2.1: "the authorization server is
    currently unable to handle the request due to a temporary overloading or
    maintenance"), which OAuth clients already understand as "retry later";
    ``Retry-After`` (RFC 9110 §10.2.3) says when. Verification fails closed:
    nothing is accepted unchecked.

    Attributes:
        retry_after: whole seconds until the dependency is tried again (at least 1).
    """

    status_code = 503
    error = "temporarily_unavailable"
    default_description = "The request cannot be checked right now; retry later"

    def __init__(self, retry_after: float = 1) -> None:
        self.retry_after = max(1, math.ceil(retry_after))
        super().__init__()

    def response_headers(self, realm: str) -> list[tuple[str, str]]:
        return [
            ("content-type", "application/json"),
            ("retry-after", str(self.retry_after)),
            ("cache-control", "no-store"),
        ]


class KeysUnavailableError(UnavailableError):
    """No signing key can be had because the key source is unreachable: 503."""

    default_description = "The signing keys cannot be fetched right now; retry later"


class ReplayStoreUnavailableError(UnavailableError):
    """The DPoP replay store cannot be asked (unreachable, or full of live entries): 503.

    A proof whose ``jti`` cannot be checked is never accepted (fail closed).
    """

    default_description = "The DPoP replay check cannot be made right now; retry later"
