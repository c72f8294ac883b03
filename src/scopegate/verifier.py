"""Token verification: signature and header with PyJWT, then the claim rules.

This is the one module that calls PyJWT and the one function that catches its
errors: whatever the input, :meth:`TokenVerifier.verify` returns an
:class:`~scopegate.token.AccessToken` or raises
:class:`~scopegate.errors.InvalidTokenError`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import jwt
from jwt.exceptions import InvalidAlgorithmError, InvalidSignatureError, PyJWTError

from scopegate.cache import TokenCache
from scopegate.claims import build_access_token, check_header
from scopegate.errors import InvalidTokenError, TokenFailure
from scopegate.settings import HMAC_ALGORITHMS, Settings
from scopegate.token import AccessToken

__all__ = ["Clock", "TokenVerifier"]

Clock = Callable[[], float]


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
        self._clock = clock
        self._key = settings.secret_bytes
        self._algorithms = list(settings.algorithms)
        self._jws = jwt.PyJWS(algorithms=list(HMAC_ALGORITHMS))
        self.cache: TokenCache | None = None
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
        header, claims = self._decode(token)
        check_header(header)
        access = build_access_token(claims, self.settings, self._clock())
        if cache is not None:
            cache.put(token, access)
        return access

    def _decode(self, token: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """Check the signature; return the header and the payload object."""
        try:
            decoded = self._jws.decode_complete(token, self._key, algorithms=self._algorithms)
            claims = json.loads(decoded["payload"])
        except InvalidAlgorithmError as exc:
            raise InvalidTokenError(TokenFailure.ALGORITHM) from exc
        except InvalidSignatureError as exc:
            raise InvalidTokenError(TokenFailure.SIGNATURE) from exc
        except (PyJWTError, ValueError, TypeError, RecursionError) as exc:
            # Bad base64, bad JSON (including nesting too deep to parse), bad
            # segments, unsupported crit or b64 headers, and key problems.
            raise InvalidTokenError(TokenFailure.MALFORMED) from exc
        if not isinstance(claims, dict):
            raise InvalidTokenError(TokenFailure.MALFORMED)
        return decoded["header"], claims
