"""The DPoP errors (RFC 9449 §7.1, §9); part of :mod:`scopegate.errors`.

:class:`DPoPFailure` (one fixed description per proof rule),
:class:`InvalidDPoPProofError` (401 ``invalid_dpop_proof``) and
:class:`UseDPoPNonceError` (401 ``use_dpop_nonce`` with a ``DPoP-Nonce`` header).
"""

from __future__ import annotations

import re
from enum import Enum

from scopegate._errors_base import BearerError
from scopegate._errors_token import FailureDetail

__all__ = ["DPoPFailure", "InvalidDPoPProofError", "UseDPoPNonceError"]


class DPoPFailure(str, Enum):
    """Which RFC 9449 proof rule a request broke; each has one fixed, header-safe description."""

    MISSING = "A DPoP proof is required"
    MULTIPLE = "Exactly one DPoP proof is allowed"
    MALFORMED = "The DPoP proof is malformed"
    TOO_LARGE = "The DPoP proof is too large"
    TYPE = "The DPoP proof type is not dpop+jwt"
    ALGORITHM = "The DPoP proof algorithm is not allowed"
    KEY = "The DPoP proof key is not an acceptable public key"
    SIGNATURE = "The DPoP proof signature is invalid"
    CLAIM = "The DPoP proof is missing a claim or has a claim of the wrong type"
    METHOD = "The DPoP proof method does not match the request"
    URI = "The DPoP proof URI does not match the request"
    IAT = "The DPoP proof is too old or issued in the future"
    ATH = "The DPoP proof does not match the access token"
    NONCE = "The DPoP proof nonce is not valid"
    REPLAYED = "The DPoP proof has already been used"
    BINDING = "The DPoP proof key is not the key the access token is bound to"


class InvalidDPoPProofError(BearerError):
    """The ``DPoP`` proof of a request is missing, malformed or wrong: 401 ``invalid_dpop_proof``.

    RFC 9449 §7.1 and §12.2. The challenge *scheme* (``DPoP algs="..."``) is the
    protector's to choose; this class keeps the :class:`BearerError` rendering.

    Attributes:
        failure: which proof rule broke (for logs, metrics and tooling).
        detail: the specifics, for tooling only; never rendered into a response or logged.
    """

    error = "invalid_dpop_proof"
    default_description = DPoPFailure.MALFORMED.value

    # Same constructor as InvalidTokenError (duplicates pairs them), on purpose: each error takes
    # its own failure enum, and the rendering they share lives in BearerError.
    def __init__(
        self,
        failure: DPoPFailure = DPoPFailure.MALFORMED,
        *,
        detail: FailureDetail | None = None,
    ) -> None:
        self.failure = failure
        self.detail = detail
        super().__init__(failure.value)


# RFC 9449 §8.1: nonce = 1*NQCHAR, NQCHAR = %x21 / %x23-5B / %x5D-7E.
_NONCE_CHARS = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]+\Z")


class UseDPoPNonceError(BearerError):
    """The proof lacks the server's current nonce (RFC 9449 §9): 401 ``use_dpop_nonce``.

    The response carries the nonce to use in a ``DPoP-Nonce`` header; the
    client retries once with it.

    Attributes:
        nonce: the nonce the client must put in its next proof.
    """

    error = "use_dpop_nonce"
    default_description = "The DPoP proof must carry the server nonce"

    def __init__(self, nonce: str) -> None:
        if not _NONCE_CHARS.match(nonce):
            raise ValueError("a DPoP nonce is 1*NQCHAR (RFC 9449 section 8.1)")
        self.nonce = nonce
        super().__init__()

    def response_headers(self, realm: str) -> list[tuple[str, str]]:
        return [*super().response_headers(realm), ("dpop-nonce", self.nonce)]
