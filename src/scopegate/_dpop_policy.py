"""The DPoP side of the request policy (RFC 9449 §4.3, §7.1, §11.1): proof, binding, replay.

:class:`~scopegate._protector.BearerProtector` decides the scheme and the mode
rules; for a request on the DPoP scheme it hands the verified token and the
one proof to :class:`DPoPPolicy`, which builds the request URL
(:mod:`scopegate._request_url`), checks the proof (:mod:`scopegate._dpop`),
compares its key with the token's ``cnf.jkt`` and spends its ``jti`` in the
replay store (:mod:`scopegate._replay`), after every other check, so a refused
proof can be fixed and sent again. Imported only when ``dpop`` is not
``disabled``: it needs cryptography.
"""

from __future__ import annotations

from collections.abc import Callable

from scopegate._dpop import DPoPProof, ProofVerifier
from scopegate._nonce import NonceSource
from scopegate._replay import ReplayStore, replay_key, replay_store
from scopegate._request_url import RequestTarget, request_url
from scopegate._settings import Settings, env_name
from scopegate._token import AccessToken
from scopegate.errors import (
    ConfigurationError,
    DPoPFailure,
    InvalidDPoPProofError,
    InvalidTokenError,
    TokenFailure,
)

__all__ = ["DPoPPolicy"]


class DPoPPolicy:
    """Proof checking, key binding and replay for one protector, from the DPoP settings.

    Args:
        settings: ``dpop_algorithms``, ``dpop_max_age``, ``leeway``,
            ``dpop_replay_store``, ``dpop_nonce``, ``dpop_nonce_secret`` and
            ``public_base_url`` are read.
        clock: the verifier's clock (seconds since the epoch).

    Raises:
        ConfigurationError: an unusable replay store (``MissingExtraError`` when
            redis-py is missing for a Redis URL).
    """

    def __init__(self, settings: Settings, clock: Callable[[], float]) -> None:
        nonces = None
        if settings.dpop_nonce:
            secret = settings.dpop_nonce_secret
            nonces = NonceSource(
                secret=None if secret is None else secret.get_secret_value().encode(),
                clock=clock,
            )
        self.proofs = ProofVerifier(
            algorithms=settings.dpop_algorithms,
            max_age=settings.dpop_max_age,
            leeway=settings.leeway,
            clock=clock,
            nonces=nonces,
        )
        try:
            self.store: ReplayStore = replay_store(settings.dpop_replay_store)
        except ValueError:
            raise ConfigurationError(
                "Invalid scopegate settings:\n  dpop_replay_store "
                f"({env_name('dpop_replay_store')}): is not a replay store URL"
            ) from None
        self.public_base_url = settings.public_base_url
        self._ttl = self.proofs.replay_ttl()

    def check(
        self,
        token: str,
        access: AccessToken,
        proof: str,
        target: Callable[[], RequestTarget] | None,
    ) -> DPoPProof:
        """The checked proof of a DPoP request whose token ``access`` has been verified.

        Raises:
            InvalidTokenError: the token is not bound (``NOT_BOUND``), or bound
                to another key than the proof's (``DPOP_BINDING``, RFC 9449 §7.1
                Figure 14: a key binding error is the token's).
            InvalidDPoPProofError: a broken proof rule.
            UseDPoPNonceError: nonces are on and the proof lacks a valid one.
        """
        if access.confirmation is None:
            raise InvalidTokenError(TokenFailure.NOT_BOUND)
        if target is None:  # an adapter that cannot say what the request was
            raise InvalidDPoPProofError(DPoPFailure.URI)
        request = target()
        checked = self.proofs.verify(
            proof,
            method=request.method,
            url=request_url(request, self.public_base_url),
            access_token=token,
        )
        if checked.jkt != access.confirmation:
            raise InvalidTokenError(TokenFailure.DPOP_BINDING)
        return checked

    def spend(self, proof: DPoPProof) -> None:
        """Record the proof's ``jti`` (blocking: WSGI); a second use is ``REPLAYED``.

        Raises:
            InvalidDPoPProofError: the proof was used before within its window.
            ReplayStoreUnavailableError: the store cannot be asked (503, fail closed).
        """
        if not self.store.first_use(replay_key(proof), self._ttl):
            raise InvalidDPoPProofError(DPoPFailure.REPLAYED)

    async def spend_async(self, proof: DPoPProof) -> None:
        """:meth:`spend` for an event loop (``first_use_async``)."""
        if not await self.store.first_use_async(replay_key(proof), self._ttl):
            raise InvalidDPoPProofError(DPoPFailure.REPLAYED)
