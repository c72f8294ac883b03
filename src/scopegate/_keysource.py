"""The key-source seam: what the verifier and the protector know of public keys.

Pure and dependency-free, so the core imports it without the ``jwks`` extra.
:class:`KeySource` is implemented by :class:`scopegate._jwks.StaticKeys` (the
``public_key`` setting) and :class:`scopegate._jwks.RemoteKeys` (``jwks_uri`` or
discovery). :meth:`KeySource.key_for` never does I/O: when keys must be fetched
first it raises :class:`KeyRefreshNeeded`, and the caller (the protector)
refreshes, synchronously on the WSGI side or awaited on the ASGI side, then
verifies once more.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

from scopegate.errors import InvalidTokenError, KeysUnavailableError

__all__ = ["KeyRefreshNeeded", "KeySource"]


class KeySource(Protocol):
    """Where the public keys come from (a static key implements the refreshes as no-ops)."""

    def key_for(self, header: Mapping[str, Any], alg: str) -> Any:
        """The key object that verifies a token with this header and ``alg``.

        Raises:
            KeyRefreshNeeded: the keys must be fetched before the token can be verified.
            KeysUnavailableError: no key is known and the source cannot be tried now.
            InvalidTokenError: no key fits (``UNKNOWN_KEY``, ``KEY_MISMATCH``).
        """
        ...

    def refresh_due(self) -> bool:
        """True when the cached keys are stale and a background refresh should start."""
        ...

    def refresh_sync(self, *, wait: bool = True) -> None:
        """Fetch now (WSGI), or wait for the fetch in flight; never raises."""
        ...

    async def refresh_async(self) -> None:
        """Fetch now without blocking the event loop (ASGI), sharing a fetch in flight."""
        ...

    async def prefetch(self) -> None:
        """Fetch the keys ahead of the first request; never raises."""
        ...

    def settle(self) -> InvalidTokenError | KeysUnavailableError:
        """The error for a token that still has no key after a refresh."""
        ...

    def on_keys_removed(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` when a refresh drops a key (the verifier empties its token cache)."""
        ...


class KeyRefreshNeeded(Exception):  # a signal to the caller, not an error
    """The key source must be refreshed before this token can be verified.

    Raised through ``TokenVerifier.verify``; never a :class:`~scopegate.errors.BearerError`,
    so nothing renders it by mistake. :class:`~scopegate._protector.BearerProtector`
    refreshes :attr:`source` and verifies once more.
    """

    def __init__(self, source: KeySource) -> None:
        super().__init__("the key source must be refreshed")
        self.source = source
