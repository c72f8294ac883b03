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

import jwt
from jwt.algorithms import HMACAlgorithm
from jwt.exceptions import InvalidAlgorithmError, InvalidSignatureError, PyJWTError
from jwt.utils import base64url_decode

from scopegate.cache import TokenCache
from scopegate.claims import build_access_token, check_header
from scopegate.errors import InvalidTokenError, TokenFailure
from scopegate.keysource import KeySource
from scopegate.settings import HMAC_ALGORITHMS, Settings, env_name
from scopegate.token import AccessToken

__all__ = ["Clock", "TokenVerifier"]

Clock = Callable[[], float]
logger = logging.getLogger("scopegate")


class TokenVerifier:
    """Verifies access tokens signed with the configured algorithms and keys.

    HMAC algorithms verify with the signing secret; RS/PS/ES/EdDSA with a public
    key of the configured source (:mod:`scopegate.jwks`, selected by
    :mod:`scopegate.jwk`). Verified tokens are kept in a
    :class:`~scopegate.cache.TokenCache` (unless ``cache_maxsize`` is 0), so a
    token is verified once, not on every request. Algorithms, audience, issuer
    and leeway come from :class:`Settings` only; ``kid`` only selects among the
    configured keys, and ``jku``, ``jwk``, ``x5u`` and ``x5c`` are never looked up.

    With a key source that must fetch, :meth:`verify` may raise
    :class:`~scopegate.keysource.KeyRefreshNeeded`;
    :class:`~scopegate.protector.BearerProtector` handles it.

    Example:
        >>> verifier = TokenVerifier(Settings())
        >>> verifier.verify(token).scopes
        frozenset({'sample-scope'})
    """

    def __init__(self, settings: Settings, *, clock: Clock = time.time) -> None:
        self.settings = settings
        self._clock = clock
        self._key = settings.secret_bytes
        self._algorithms = list(settings.algorithms)
        self._jws = jwt.PyJWS(algorithms=[])
        for name in HMAC_ALGORITHMS:
            self._jws.register_algorithm(name, _hmac(name, quiet=settings.secret_is_weak))
        self.key_source: KeySource | None = None
        self._asymmetric = frozenset(settings.asymmetric_algorithms)
        if self._asymmetric:
            # Imported here: the jwks extra is needed only when a public key is configured.
            from scopegate.jwk import algorithm_object
            from scopegate.jwks import key_source

            self.key_source = key_source(settings)
            for name in self._asymmetric:
                self._jws.register_algorithm(name, algorithm_object(name))
        if settings.secret_is_weak:
            logger.warning(
                "scopegate: the signing secret is shorter than RFC 7518 section 3.2 allows "
                "(%s is set)",
                env_name("allow_weak_secret"),
            )
        self.cache: TokenCache | None = None
        if settings.cache_maxsize > 0:
            self.cache = TokenCache(
                settings.cache_maxsize, settings.cache_ttl, settings.leeway, clock
            )
            if self.key_source is not None:  # a revoked key's tokens leave the cache
                self.key_source.on_keys_removed(self.cache.clear)

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
        access = build_access_token(claims, self.settings, self._clock())
        if cache is not None:
            cache.put(token, access)
        return access

    def _decode(self, token: str) -> dict[str, Any]:
        """Check the header and the signature; return the payload object."""
        try:
            key = self._key if self.key_source is None else self._key_for(_header_of(token))
            decoded = self._jws.decode_complete(token, key, algorithms=self._algorithms)
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

    def _key_for(self, header: Any) -> Any:
        """The key that verifies a token with this (decoded, unverified) header.

        The signing secret for an HMAC ``alg``, a public key of the key source for
        an asymmetric one: a public key is never an HMAC secret. Raises what the
        key source raises (see :class:`~scopegate.keysource.KeySource`).
        """
        alg = header.get("alg") if isinstance(header, dict) else None
        if self.key_source is None or not isinstance(alg, str) or alg not in self._asymmetric:
            return self._key  # PyJWS refuses an algorithm that is not allowed
        check_header(header)
        return self.key_source.key_for(header, alg)


def _header_of(token: str) -> Any:
    """The JOSE header, decoded without checks (PyJWS.get_unverified_header costs far more)."""
    return json.loads(base64url_decode(token.partition(".")[0]))


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
