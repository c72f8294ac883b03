"""Which ``WWW-Authenticate`` challenges a rejection carries, by DPoP mode (RFC 9449 §7).

:class:`~scopegate.errors.BearerError` knows its error code, description and
parameters; this module decides on which scheme they go:

- ``dpop="disabled"``: the RFC 6750 ``Bearer`` challenge, exactly as before DPoP.
- ``allowed``: both schemes are offered (RFC 9110 §11.6.1 lets a 401 list
  several challenges). Without credentials both are bare
  (``Bearer realm="api", DPoP realm="api", algs="ES256 ..."``, RFC 6750 §3.1:
  no error then); otherwise the error goes on the scheme the request used and
  the other scheme is still offered bare. A 403 names only the scheme used.
- ``required``: only ``DPoP``, error included.

The ``DPoP`` challenge lists ``algs`` (RFC 9449 §7.1: SHOULD) after the error
parameters, as the RFC's figures do, and carries ``realm`` like the Bearer one
(§7.1: MAY).
"""

from __future__ import annotations

from collections.abc import Sequence

from scopegate._bearer import BEARER, DPOP
from scopegate.errors import BearerError

__all__ = ["challenge_for"]


def _challenge(scheme: str, params: Sequence[tuple[str, str]]) -> str:
    return scheme + " " + ", ".join(f'{name}="{value}"' for name, value in params)


def challenge_for(
    error: BearerError,
    *,
    realm: str,
    mode: str,
    algorithms: Sequence[str],
    scheme: str | None = None,
) -> str:
    """The ``WWW-Authenticate`` value that rejects a request with ``error``.

    Args:
        error: the rejection.
        realm: the ``realm`` setting.
        mode: the ``dpop`` setting.
        algorithms: the ``dpop_algorithms`` setting, for ``algs``.
        scheme: the scheme the request used (:data:`~scopegate._bearer.BEARER`
            or :data:`~scopegate._bearer.DPOP`), None when unknown; defaults to
            ``error.scheme``.
    """
    if mode == "disabled":
        return error.www_authenticate(realm)
    used = scheme or error.scheme
    offered = (DPOP,) if mode == "required" else (BEARER, DPOP)
    carrier = used if used in offered else offered[0]
    algs = ("algs", " ".join(algorithms))
    challenges = []
    for name in offered:
        params = [("realm", realm)]
        if name == carrier:
            params.extend(error.challenge_params())
        elif error.status_code == 403:
            continue  # the scope problem is the scheme's that was used
        if name == DPOP:
            params.append(algs)
        challenges.append(_challenge(name, params))
    return ", ".join(challenges)
