"""DPoP at the token endpoint (RFC 9449 §5, §8): which key, if any, a token is bound to.

As on Auth0, an API's ``proof_of_possession`` policy decides:

- no policy (or ``mechanism: none``): the ``DPoP`` header is not read and the
  token is a bearer token (Auth0's table: "Issued, Not Sender-Constrained");
- ``mechanism: dpop``: a request with one valid proof gets a token bound to
  its key (``cnf.jkt``, ``token_type: DPoP``), one without gets a bearer token;
- ``mechanism: dpop, required: true``: a request without a proof is refused.

The proof is checked by :class:`scopegate._dpop.ProofVerifier` (``htm: POST``,
``htu`` the token endpoint under the server's base URL, ``iat`` within five
minutes) and its ``jti`` is accepted once (a
:class:`~scopegate._replay.MemoryReplayStore`: the server is one process).
Every refusal is a 400 ``invalid_dpop_proof`` with the verifier's fixed
description, in the token endpoint's RFC 6749 §5.2 body; with server nonces on
(``dpop_nonce``), a proof without the current one gets RFC 9449 §8's 400
``use_dpop_nonce`` and a ``DPoP-Nonce`` header.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from starlette.requests import Request

from scopegate._dpop import ProofVerifier
from scopegate._nonce import NonceSource
from scopegate._replay import MemoryReplayStore, ReplayStore, replay_key
from scopegate._settings import ASYMMETRIC_ALGORITHMS
from scopegate.authserver.errors import OAuthError
from scopegate.authserver.storage.records import ProofOfPossession
from scopegate.errors import DPoPFailure, InvalidDPoPProofError, UseDPoPNonceError

# What the proof verifier accepts, and what the metadata advertises.
DPOP_ALGORITHMS = ASYMMETRIC_ALGORITHMS


def _invalid(failure: DPoPFailure) -> OAuthError:
    return OAuthError("invalid_dpop_proof", failure.value)


class SenderConstraining:
    """The token endpoint's DPoP check.

    Args:
        token_url: the token endpoint as clients reach it (the proofs' ``htu``).
        nonces: server nonces to require in proofs (RFC 9449 §8); None for none.
        replay: where used ``jti`` values are remembered.
        clock: seconds since the epoch, for ``iat``.
    """

    def __init__(
        self,
        token_url: str,
        *,
        nonces: NonceSource | None = None,
        replay: ReplayStore | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.token_url = token_url
        self.nonces = nonces
        self.verifier = ProofVerifier(algorithms=DPOP_ALGORITHMS, clock=clock, nonces=nonces)
        self.replay = replay if replay is not None else MemoryReplayStore()

    def nonce_headers(self) -> dict[str, str]:
        """``DPoP-Nonce`` for a token response when nonces are on (§8.2: the next one to use)."""
        return {} if self.nonces is None else {"DPoP-Nonce": self.nonces.current()}

    async def jkt(self, request: Request, policy: ProofOfPossession | None) -> str | None:
        """The thumbprint to bind the token to, or None for a bearer token.

        Raises:
            OAuthError: 400 ``invalid_dpop_proof`` (missing when required, more than
                one, invalid, replayed) or ``use_dpop_nonce``.
        """
        if policy is None or not policy.dpop:
            return None
        proofs = request.headers.getlist("dpop")
        if not proofs:
            if policy.dpop_required:
                raise _invalid(DPoPFailure.MISSING)
            return None
        if len(proofs) > 1:
            raise _invalid(DPoPFailure.MULTIPLE)
        try:
            proof = self.verifier.verify(proofs[0], method="POST", url=self.token_url)
        except UseDPoPNonceError as exc:
            raise OAuthError(
                "use_dpop_nonce",
                "Authorization server requires nonce in DPoP proof",
                headers={"DPoP-Nonce": exc.nonce},
            ) from None
        except InvalidDPoPProofError as exc:
            raise _invalid(exc.failure) from None
        if not await self.replay.first_use_async(replay_key(proof), self.verifier.replay_ttl()):
            raise _invalid(DPoPFailure.REPLAYED)
        return proof.jkt
