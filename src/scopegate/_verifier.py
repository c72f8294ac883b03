"""Token verification: the compact JWS read exactly, the signature with PyJWT, then the claim rules.

:mod:`scopegate._jws` splits and decodes the token (canonical base64url, strict
UTF-8 JSON), :mod:`scopegate._claims` owns the header and claim rules, and
PyJWT's algorithm classes do the cryptography. This is the one module that
calls PyJWT and :meth:`TokenVerifier._verify_signature` the one place that
catches its errors: whatever the input, :meth:`TokenVerifier.verify` returns an
:class:`~scopegate._token.AccessToken` or raises
:class:`~scopegate.errors.InvalidTokenError`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from jwt.algorithms import Algorithm, get_default_algorithms
from jwt.exceptions import PyJWTError

from scopegate._cache import TokenCache
from scopegate._claims import (
    Validator,
    build_access_token,
    check_header,
    refuse_bound,
    run_validator,
)
from scopegate._jws import load_object, split_compact
from scopegate._keysource import KeySource
from scopegate._settings import HMAC_ALGORITHMS, Settings, env_name
from scopegate._token import AccessToken
from scopegate.errors import ConfigurationError, FailureDetail, InvalidTokenError, TokenFailure

__all__ = ["Clock", "TokenVerifier"]

Clock = Callable[[], float]
logger = logging.getLogger("scopegate")

# PyJWT's table of the algorithms it implements; settings.HMAC_ALGORITHMS says which
# names are HMAC. A name PyJWT did not know would be a KeyError, never another hash.
_PYJWT_ALGORITHMS = get_default_algorithms()


class TokenVerifier:
    """Verifies access tokens signed with the configured algorithms and keys.

    HMAC algorithms verify with the signing secret; RS/PS/ES/EdDSA with a public
    key of the configured source (:mod:`scopegate._jwks`, selected by
    :mod:`scopegate._jwk`). Verified tokens are kept in a
    :class:`~scopegate._cache.TokenCache` (unless ``cache_maxsize`` is 0), so a
    token is verified once, not on every request. Algorithms, audience, issuer
    and leeway come from :class:`Settings` only; ``kid`` only selects among the
    configured keys, and ``jku``, ``jwk``, ``x5u`` and ``x5c`` are never looked up.

    With a key source that must fetch, :meth:`verify` may raise
    :class:`~scopegate._keysource.KeyRefreshNeeded`;
    :class:`~scopegate._protector.BearerProtector` handles it.

    Args:
        settings: what the API accepts.
        clock: the current time, in seconds since the epoch.
        validators: application checks run on the verified claims of every
            token (after scopegate's own rules, before caching); each returns
            True to accept. Anything else rejects the token with 401
            ``invalid_token`` ("The access token is not accepted by this resource").

    Example::

        verifier = TokenVerifier(Settings(), validators=[lambda c: c.get("org") == "acme"])
        verifier.verify(token).scopes
        # frozenset({'sample-scope'})
    """

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock = time.time,
        validators: Iterable[Validator] = (),
    ) -> None:
        self.settings = settings
        self.clock = clock
        self._profile = settings.token_profile
        self.validators: tuple[Validator, ...] = tuple(validators)
        hmac = {n: _PYJWT_ALGORITHMS[n] for n in settings.algorithms if n in HMAC_ALGORITHMS}
        self._keys = _prepared_keys(hmac, settings.secret_bytes)
        self._algorithms: dict[str, Algorithm] = dict(hmac)
        self._allowed = tuple(settings.algorithms)
        self.key_source: KeySource | None = None
        self._asymmetric = frozenset(settings.asymmetric_algorithms)
        if self._asymmetric:
            # Imported here: the jwks extra is needed only when a public key is configured.
            from scopegate._jwk import algorithm_object
            from scopegate._jwks import key_source

            self.key_source = key_source(settings)
            self._algorithms.update((name, algorithm_object(name)) for name in self._asymmetric)
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
            if self.key_source is not None:  # a revoked key's tokens leave the cache
                self.key_source.on_keys_removed(self.cache.clear)

    def verify(self, token: str, *, bound: bool = False) -> AccessToken:
        """Verify ``token`` and return what it grants.

        Args:
            token: the access token.
            bound: accept a DPoP-bound token (``cnf.jkt``); only for a caller
                that checks its DPoP proof next, as
                :class:`~scopegate._protector.BearerProtector` does. By default
                a bound token is refused (``BOUND``, RFC 9449 §7.2): used as a
                bearer token it proves nothing.

        Raises:
            InvalidTokenError: for anything wrong with the token, whatever the input.
        """
        if not isinstance(token, str) or not token:
            raise InvalidTokenError(TokenFailure.MALFORMED, detail=FailureDetail("empty"))
        cache = self.cache
        if cache is not None and (cached := cache.get(token)) is not None:
            if not bound and cached.confirmation is not None:
                refuse_bound(cached)
            return cached
        if len(token) > self.settings.max_token_bytes:
            raise InvalidTokenError(
                TokenFailure.TOO_LARGE,
                detail=FailureDetail("size", None, self.settings.max_token_bytes, len(token)),
            )
        claims = self._decode(token)
        access = build_access_token(claims, self.settings, self.clock())
        for validator in self.validators:
            run_validator(validator, access.claims)
        if cache is not None:
            cache.put(token, access, access.expires_at.timestamp())
        if not bound and access.confirmation is not None:
            refuse_bound(access)
        return access

    def _decode(self, token: str) -> dict[str, Any]:
        """Check the serialization, the header and the signature; return the payload object."""
        jws = split_compact(token)
        header = jws.header
        check_header(header, self._profile)
        alg = header.get("alg")
        algorithm = self._algorithms.get(alg) if isinstance(alg, str) else None
        if algorithm is None or not isinstance(alg, str):
            raise InvalidTokenError(
                TokenFailure.ALGORITHM,
                detail=FailureDetail("alg", "alg", self._allowed, alg),
            )
        key = self._key_for(header, alg)
        self._verify_signature(algorithm, jws.signing_input, key, jws.signature, header, alg)
        return load_object(jws.payload)

    def _key_for(self, header: Mapping[str, Any], alg: str) -> Any:
        """The key that verifies a token with this header and (allowed) algorithm.

        The signing secret for an HMAC ``alg``, a public key of the key source
        (selected by ``kid``) for an asymmetric one: a public key is never an
        HMAC secret. Raises what the key source raises (see
        :class:`~scopegate._keysource.KeySource`).
        """
        if alg in self._asymmetric and self.key_source is not None:
            return self.key_source.key_for(header, alg)
        return self._keys[alg]

    def _verify_signature(
        self,
        algorithm: Algorithm,
        signing_input: bytes,
        key: Any,
        signature: bytes,
        header: Mapping[str, Any],
        alg: str,
    ) -> None:
        """The one place PyJWT is called on a token, and its errors caught."""
        try:
            verified = algorithm.verify(signing_input, key, signature)
        except (PyJWTError, ValueError, TypeError) as exc:
            raise InvalidTokenError(
                TokenFailure.SIGNATURE, detail=self._signature_detail(header, alg)
            ) from exc
        if not verified:
            raise InvalidTokenError(
                TokenFailure.SIGNATURE, detail=self._signature_detail(header, alg)
            )

    def _signature_detail(self, header: Mapping[str, Any], alg: str) -> FailureDetail:
        if alg in self._asymmetric:
            return FailureDetail("signature", "kid", "public key", header.get("kid"))
        return FailureDetail("signature")


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


def _prepared_keys(algorithms: Mapping[str, Algorithm], secret: bytes) -> dict[str, bytes]:
    """Each algorithm's key, prepared once rather than per token.

    PyJWT refuses an HMAC secret that looks like a PEM, DER or JWK key (the
    algorithm-confusion defence); that is a configuration problem, so it stops
    the app at start-up instead of failing every request.
    """
    try:
        return {name: algorithm.prepare_key(secret) for name, algorithm in algorithms.items()}
    except PyJWTError:
        raise ConfigurationError(
            f"Invalid scopegate settings:\n  signing_secret ({env_name('signing_secret')}): "
            "looks like an asymmetric key or a JWK, not an HMAC secret"
        ) from None
