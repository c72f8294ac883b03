"""Token verification: signature and header with PyJWT, then the claim rules.

This is the one module that calls PyJWT and the one function that catches its
errors: whatever the input, :meth:`TokenVerifier.verify` returns an
:class:`~scopegate.token.AccessToken` or raises
:class:`~scopegate.errors.InvalidTokenError`.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import jwt
from jwt.algorithms import HMACAlgorithm
from jwt.exceptions import InvalidAlgorithmError, InvalidSignatureError, PyJWTError
from jwt.utils import base64url_decode

from scopegate.cache import TokenCache
from scopegate.claims import build_access_token, check_header
from scopegate.errors import InvalidTokenError, TokenFailure
from scopegate.settings import HMAC_ALGORITHMS, Settings, env_name
from scopegate.token import AccessToken

__all__ = ["Clock", "TokenVerifier"]

Clock = Callable[[], float]
logger = logging.getLogger("scopegate")


class TokenVerifier:
    """Verifies HS256 (or another configured HMAC algorithm) access tokens.

    Verified tokens are kept in a :class:`~scopegate.cache.TokenCache` (unless
    ``cache_maxsize`` is 0), so a token is verified once, not on every request.
    Algorithms, audience, issuer and leeway come from :class:`Settings` only;
    nothing in a token's header chooses a key or an algorithm, and ``kid``,
    ``jku``, ``jwk`` and ``x5u`` are never looked up.

    Example:
        >>> verifier = TokenVerifier(Settings())
        >>> verifier.verify(token).scopes
        frozenset({'sample-scope'})
    """

    def __init__(self, settings: Settings, *, clock: Clock = time.time) -> None:
        self.settings = settings
        self.clock = clock
        self._key = settings.secret_bytes
        self._algorithms = list(settings.algorithms)
        self._jws = jwt.PyJWS(algorithms=[])
        for name in HMAC_ALGORITHMS:
            self._jws.register_algorithm(name, _hmac(name, quiet=settings.secret_is_weak))
        if settings.secret_is_weak:
            logger.warning(
                "scopegate: the signing secret is shorter than RFC 7518 section 3.2 allows "
                "(%s is set)",
                env_name("allow_weak_secret"),
            )
        _warn_about_issuer(settings.issuer)
        self.cache: TokenCache[str, AccessToken] | None = None
        if settings.cache_maxsize > 0:
            self.cache = TokenCache(
                settings.cache_maxsize, settings.cache_ttl, settings.leeway, clock
            )

    def verify(self, token: str) -> AccessToken:
        """Verify ``token`` and return what it grants.

        Raises:
            InvalidTokenError: for anything wrong with the token, whatever the input.
        """
        if not isinstance(token, str) or not token:
            raise InvalidTokenError(TokenFailure.MALFORMED)
        cache = self.cache
        if cache is not None and (cached := cache.get(token)) is not None:
            return cached
        if len(token) > self.settings.max_token_bytes:
            raise InvalidTokenError(TokenFailure.TOO_LARGE)
        if "=" in token:
            # RFC 7515 §2: base64url without padding. Lenient decoding would let
            # "sig=" verify like "sig", so one token could have many spellings.
            raise InvalidTokenError(TokenFailure.MALFORMED)
        claims = self._decode(token)
        access = build_access_token(claims, self.settings, self.clock())
        if cache is not None:
            cache.put(token, access, access.expires_at.timestamp())
        return access

    def _decode(self, token: str) -> dict[str, Any]:
        """Check the header and the signature; return the payload object."""
        try:
            decoded = self._jws.decode_complete(token, self._key, algorithms=self._algorithms)
            check_header(decoded["header"])
            claims = json.loads(decoded["payload"])
        except (PyJWTError, ValueError, TypeError, RecursionError) as exc:
            # Bad base64, bad JSON (including nesting too deep to parse), bad
            # segments, algorithms, signatures and key problems. PyJWT refuses
            # crit and b64 itself, so our header rules run first to name those.
            _check_unverified_header(token)
            raise InvalidTokenError(_failure_of(exc)) from exc
        if not isinstance(claims, dict):
            raise InvalidTokenError(TokenFailure.MALFORMED)
        return claims


def _warn_about_issuer(issuer: str | None) -> None:
    """Warn about an Auth0-style issuer without its trailing slash: every token would fail."""
    if issuer is None:
        return
    parts = urlsplit(issuer)
    if parts.scheme in ("http", "https") and parts.netloc and not parts.path:
        logger.warning(
            "scopegate: %s is %r, without a trailing slash; Auth0 and most authorization "
            "servers issue %r, and iss must match exactly",
            env_name("issuer"),
            issuer,
            issuer + "/",
        )


def _failure_of(exc: Exception) -> TokenFailure:
    if isinstance(exc, InvalidAlgorithmError):
        return TokenFailure.ALGORITHM
    if isinstance(exc, InvalidSignatureError):
        return TokenFailure.SIGNATURE
    return TokenFailure.MALFORMED


def _check_unverified_header(token: str) -> None:
    """Apply the header rules to a header PyJWT refused, if it can be read at all."""
    try:
        header = json.loads(base64url_decode(token.partition(".")[0]))
    except (ValueError, TypeError, RecursionError):
        return
    check_header(header)


class _QuietHMAC(HMACAlgorithm):
    """HMAC that does not warn about the key length on every token.

    Used only when ``allow_weak_secret`` accepted a short secret: the choice
    was made in settings and is logged once, at construction.
    """

    def check_key_length(self, key: bytes) -> str | None:
        return None


def _hmac(name: str, *, quiet: bool) -> HMACAlgorithm:
    hash_alg = {"HS256": HMACAlgorithm.SHA256, "HS384": HMACAlgorithm.SHA384}.get(
        name, HMACAlgorithm.SHA512
    )
    return _QuietHMAC(hash_alg) if quiet else HMACAlgorithm(hash_alg)
