"""DPoP proofs (RFC 9449): the one owner of the proof rules, sans-IO.

:class:`ProofVerifier` checks everything of RFC 9449 §4.3 but replay (which
needs a store: :mod:`scopegate._replay`):

1. one compact JWS, read by :mod:`scopegate._jws` (canonical base64url, strict
   UTF-8 JSON, no duplicate names), at most ``max_proof_bytes`` long;
2. ``typ`` is ``dpop+jwt``; ``alg`` one of the configured asymmetric
   algorithms (never ``none``, never HMAC); no ``crit``;
3. ``jwk`` a public key (no private member) whose type and curve fit ``alg``
   (RSA at least 2048 bits), loaded by PyJWT's algorithm classes;
4. the signature verifies with that key (:mod:`scopegate._signature`, over ``cryptography``);
5. the claims: ``jti`` a non-empty string of bounded length, ``htm`` equal to
   the request method, ``htu`` equal to the request URI after
   :func:`normalize_htu`, ``iat`` an integer within
   ``[now - max_age - leeway, now + leeway]``, the server ``nonce`` when
   nonces are on, ``ath`` equal to :func:`ath_for` of the access token when
   one is presented, and the key's thumbprint equal to the token's ``cnf.jkt``.

Every broken rule raises :class:`~scopegate.errors.InvalidDPoPProofError` with
its :class:`~scopegate.errors.DPoPFailure` (or
:class:`~scopegate.errors.UseDPoPNonceError`); nothing else escapes, whatever
the input.

Speed: a client sends the same protected header (``typ``, ``alg``, ``jwk``) on
every proof, so the checked header and its loaded key are kept by the exact
header segment (bounded); a repeated client pays for one base64 decode, one
JSON parse of the claims and the signature check.

The ``htu`` normalisation is :mod:`scopegate._htu`'s (re-exported here); the
signature check is :mod:`scopegate._signature`'s, prepared once per key.
"""

from __future__ import annotations

import base64
import hashlib
import math
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm
from jwt.exceptions import PyJWTError

from scopegate._htu import normalize_htu
from scopegate._jwk import ASYMMETRIC_ALGORITHMS, MIN_RSA_BITS, PRIVATE_MEMBERS, jwk_thumbprint
from scopegate._jws import decode_segment, load_object, split_segments
from scopegate._nonce import NonceSource
from scopegate._signature import SignatureCheck, signature_check
from scopegate.errors import (
    DPoPFailure,
    FailureDetail,
    InvalidDPoPProofError,
    InvalidTokenError,
    UseDPoPNonceError,
)

__all__ = [
    "MAX_JTI_LENGTH",
    "MAX_RSA_BITS",
    "DPoPProof",
    "ProofVerifier",
    "ath_for",
    "normalize_htu",
]

MAX_JTI_LENGTH = 256
# A client's key, not a configured one: bounded above too, so that a proof cannot make the
# server do a signature check on a huge modulus (8192 bits is the largest in common use).
MAX_RSA_BITS = 8192
# alg -> (kty, curves)
_KEY_TYPES: dict[str, tuple[str, frozenset[str]]] = {
    **{alg: ("RSA", frozenset()) for alg in ("RS256", "RS384", "RS512")},
    **{alg: ("RSA", frozenset()) for alg in ("PS256", "PS384", "PS512")},
    "ES256": ("EC", frozenset({"P-256"})),
    "ES384": ("EC", frozenset({"P-384"})),
    "ES512": ("EC", frozenset({"P-521"})),
    "EdDSA": ("OKP", frozenset({"Ed25519", "Ed448"})),
}
_LOADERS: dict[str, Callable[[Any], Any]] = {
    "RSA": RSAAlgorithm.from_jwk,
    "EC": ECAlgorithm.from_jwk,
    "OKP": OKPAlgorithm.from_jwk,
}
_HEADER_CACHE_SIZE = 1024


def ath_for(access_token: str) -> str:
    """The ``ath`` of a proof for ``access_token``: base64url(SHA-256(ASCII)), no padding.

    RFC 9449 §4.2. Raises ValueError (UnicodeEncodeError) for a non-ASCII token.
    """
    digest = hashlib.sha256(access_token.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


# --- proofs --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DPoPProof:
    """A verified DPoP proof.

    Attributes:
        jkt: the RFC 7638 thumbprint of the proof's key (what ``cnf.jkt`` names).
        jti: the proof's unique identifier (what the replay store remembers).
        iat: when the client made the proof (seconds since the epoch).
        htm: the HTTP method it is for.
        htu: the URI it is for, as the client wrote it.
        nonce: the server nonce it carries, if any.
        jwk: the public JWK as sent (read-only).
    """

    jkt: str
    jti: str
    iat: int
    htm: str
    htu: str
    nonce: str | None
    jwk: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class _Header:
    """A checked protected header: what every proof of one client shares."""

    check: SignatureCheck
    jkt: str
    jwk: Mapping[str, Any]


# Twin of _claims._fail (duplicates pairs them): each builds its own error type from one
# FailureDetail; a shared helper would need a type parameter for one line.
def _fail(
    failure: DPoPFailure,
    rule: str,
    claim: str | None = None,
    expected: Any = None,
    found: Any = None,
) -> InvalidDPoPProofError:
    return InvalidDPoPProofError(failure, detail=FailureDetail(rule, claim, expected, found))


def _load_key(alg: str, jwk: dict[str, Any]) -> Any:
    """The ``cryptography`` public key of a proof's ``jwk`` header, fitting ``alg``."""
    private = sorted(PRIVATE_MEMBERS & jwk.keys())
    if private:
        raise _fail(DPoPFailure.KEY, "private", "jwk", "a public key", private)
    kty, curves = _KEY_TYPES[alg]
    crv = jwk.get("crv")
    if jwk.get("kty") != kty or (curves and not (isinstance(crv, str) and crv in curves)):
        found = (jwk.get("kty"), jwk.get("crv"))
        raise _fail(DPoPFailure.KEY, "kty", "jwk", (kty, *sorted(curves)), found)
    if jwk.get("alg", alg) != alg:
        raise _fail(DPoPFailure.KEY, "alg", "jwk", alg, jwk.get("alg"))
    try:
        key = _LOADERS[kty](jwk)
    except (PyJWTError, ValueError, TypeError, KeyError, AttributeError, OverflowError) as exc:
        raise _fail(DPoPFailure.KEY, "load", "jwk", "a valid public key") from exc
    if isinstance(key, rsa.RSAPublicKey) and not MIN_RSA_BITS <= key.key_size <= MAX_RSA_BITS:
        raise _fail(DPoPFailure.KEY, "size", "jwk", (MIN_RSA_BITS, MAX_RSA_BITS), key.key_size)
    if hasattr(key, "private_bytes"):  # pragma: no cover - private members are refused above
        raise _fail(DPoPFailure.KEY, "private", "jwk", "a public key")
    return key


class ProofVerifier:
    """Checks DPoP proofs (RFC 9449 §4.3), except replay.

    Args:
        algorithms: the asymmetric JWS algorithms a proof may use (RS/PS/ES*, EdDSA).
        max_age: seconds a proof stays acceptable after its ``iat``.
        leeway: seconds of clock skew allowed either way.
        clock: the time source (seconds since the epoch).
        nonces: server nonces to require (RFC 9449 §9); None for none.
        max_proof_bytes: the longest proof read at all.

    Raises:
        ValueError: an algorithm that is not asymmetric, or a bad number.

    Example::

        verifier = ProofVerifier(algorithms=["ES256", "EdDSA"])
        proof = verifier.verify(request.headers["dpop"], method="GET",
                                url="https://api.example/orders", access_token=token,
                                jkt=access.confirmation)
        if not replay.first_use(replay_key(proof), verifier.replay_ttl()): ...
    """

    def __init__(
        self,
        *,
        algorithms: Sequence[str],
        max_age: float = 300,
        leeway: float = 0,
        clock: Callable[[], float] = time.time,
        nonces: NonceSource | None = None,
        max_proof_bytes: int = 8192,
    ) -> None:
        if isinstance(algorithms, str):
            raise ValueError("algorithms is a sequence of names, not one string")
        names = tuple(algorithms)
        unknown = [alg for alg in names if alg not in ASYMMETRIC_ALGORITHMS]
        if not names or unknown:
            raise ValueError(
                f"DPoP algorithms must be among {', '.join(ASYMMETRIC_ALGORITHMS)}; "
                f"not {', '.join(map(repr, unknown)) or 'none at all'}"
            )
        for name, value in (("max_age", max_age), ("leeway", leeway)):
            if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be a non-negative number of seconds")
        if max_age <= 0:
            raise ValueError("max_age must be positive")
        if max_proof_bytes < 1:
            raise ValueError("max_proof_bytes must be positive")
        self.algorithms: tuple[str, ...] = tuple(dict.fromkeys(names))
        self.max_age = float(max_age)
        self.leeway = float(leeway)
        self.clock = clock
        self.nonces = nonces
        self.max_proof_bytes = max_proof_bytes
        self._allowed = frozenset(self.algorithms)
        self._headers: dict[str, _Header] = {}
        self._lock = threading.Lock()
        # One-entry caches (a tuple is replaced whole, so threads never see half of one).
        self._url_cache: tuple[str, str] | None = None
        self._ath_cache: tuple[str, str] | None = None

    def replay_ttl(self) -> float:
        """Seconds a ``jti`` must be remembered: ``max_age + 2 * leeway``, rounded up.

        A proof accepted now may carry an ``iat`` up to ``leeway`` in the future,
        and stays acceptable ``max_age + leeway`` after that.
        """
        return float(math.ceil(self.max_age + 2 * self.leeway))

    def verify(
        self,
        proof: str,
        *,
        method: str,
        url: str,
        access_token: str | None = None,
        jkt: str | None = None,
    ) -> DPoPProof:
        """Check ``proof`` for a request (``method``, ``url`` as the server computed it).

        Args:
            proof: the value of the request's one ``DPoP`` header.
            method: the request method (compared case-sensitively, RFC 9110 §9.1).
            url: the request's absolute URI; its query and fragment are ignored.
            access_token: the token presented with the proof; ``ath`` must match it.
            jkt: the token's ``cnf.jkt``; the proof's key must have that thumbprint.

        Raises:
            InvalidDPoPProofError: for any broken rule, whatever the input.
            UseDPoPNonceError: nonces are on and the proof lacks a valid one.
        """
        if not isinstance(proof, str) or not proof:
            raise _fail(DPoPFailure.MALFORMED, "empty")
        if len(proof) > self.max_proof_bytes:
            raise _fail(DPoPFailure.TOO_LARGE, "size", None, self.max_proof_bytes, len(proof))
        try:
            header_text, payload_text, signature_text = split_segments(proof)
            header = self._headers.get(header_text)
            if header is None:
                header = self._check_header(
                    load_object(decode_segment(header_text, "header"), "header")
                )
                with self._lock:
                    if len(self._headers) >= _HEADER_CACHE_SIZE:
                        self._headers.clear()
                    self._headers[header_text] = header
            payload = decode_segment(payload_text, "payload")
            signature = decode_segment(signature_text, "signature")
        except InvalidTokenError as exc:
            raise InvalidDPoPProofError(DPoPFailure.MALFORMED, detail=exc.detail) from exc
        signing_input = proof[: len(header_text) + len(payload_text) + 1].encode("ascii")
        try:
            verified = header.check(signing_input, signature)
        except (ValueError, TypeError) as exc:
            raise _fail(DPoPFailure.SIGNATURE, "signature") from exc
        if not verified:
            raise _fail(DPoPFailure.SIGNATURE, "signature")
        try:
            claims = load_object(payload)
        except InvalidTokenError as exc:
            raise InvalidDPoPProofError(DPoPFailure.MALFORMED, detail=exc.detail) from exc
        return self._check_claims(claims, header, method, url, access_token, jkt)

    def _check_header(self, header: Mapping[str, Any]) -> _Header:
        typ = header.get("typ")
        if typ != "dpop+jwt":
            raise _fail(DPoPFailure.TYPE, "typ", "typ", "dpop+jwt", typ)
        alg = header.get("alg")
        if not isinstance(alg, str) or alg not in self._allowed:
            raise _fail(DPoPFailure.ALGORITHM, "alg", "alg", self.algorithms, alg)
        if "crit" in header:  # RFC 7515 §4.1.11: no extension is understood here
            raise _fail(DPoPFailure.MALFORMED, "crit", "crit", None, header["crit"])
        jwk = header.get("jwk")
        if not isinstance(jwk, dict):
            raise _fail(DPoPFailure.KEY, "type", "jwk", "a JSON object", _kind(jwk))
        key = _load_key(alg, jwk)
        try:
            check = signature_check(alg, key)
        except ValueError as exc:  # pragma: no cover - _load_key fits the key to alg
            raise _fail(DPoPFailure.KEY, "load", "jwk", "a valid public key") from exc
        try:
            thumbprint = jwk_thumbprint(jwk)
        except ValueError as exc:  # pragma: no cover - a loadable key has its members
            raise _fail(DPoPFailure.KEY, "thumbprint", "jwk") from exc
        return _Header(check, thumbprint, MappingProxyType(dict(jwk)))

    def _ath(self, access_token: str) -> str | None:
        """:func:`ath_for` the token, remembered for the last token (a client reuses it)."""
        cached = self._ath_cache
        if cached is not None and cached[0] == access_token:
            return cached[1]
        try:
            ath = ath_for(access_token)
        except (ValueError, AttributeError):  # not ASCII, or not a string
            return None
        self._ath_cache = (access_token, ath)
        return ath

    def _normalized_url(self, url: str) -> str:
        cached = self._url_cache
        if cached is not None and cached[0] == url:
            return cached[1]
        try:
            normalized = normalize_htu(url)
        except ValueError as exc:
            raise _fail(DPoPFailure.URI, "request-uri", None, "an absolute http(s) URI") from exc
        self._url_cache = (url, normalized)
        return normalized

    def _check_claims(
        self,
        claims: Mapping[str, Any],
        header: _Header,
        method: str,
        url: str,
        access_token: str | None,
        jkt: str | None,
    ) -> DPoPProof:
        jti, htm, htu, iat = (
            claims.get("jti"),
            claims.get("htm"),
            claims.get("htu"),
            claims.get("iat"),
        )
        if not isinstance(jti, str) or not jti or len(jti) > MAX_JTI_LENGTH:
            expected = f"a string of 1 to {MAX_JTI_LENGTH} characters"
            raise _fail(DPoPFailure.CLAIM, "jti", "jti", expected, _kind(jti))
        if not isinstance(htm, str):
            raise _fail(DPoPFailure.CLAIM, "htm", "htm", "a string", _kind(htm))
        if not isinstance(htu, str):
            raise _fail(DPoPFailure.CLAIM, "htu", "htu", "a string", _kind(htu))
        if isinstance(iat, bool) or not isinstance(iat, int):
            raise _fail(DPoPFailure.CLAIM, "iat", "iat", "an integer NumericDate", _kind(iat))
        nonce = claims.get("nonce")
        if nonce is not None and not isinstance(nonce, str):
            raise _fail(DPoPFailure.CLAIM, "nonce", "nonce", "a string", _kind(nonce))
        if htm != method:
            raise _fail(DPoPFailure.METHOD, "htm", "htm", method, htm)
        expected_url = self._normalized_url(url)
        try:
            # The common case first: the client wrote the URL as the server computed it.
            matches = htu == url or normalize_htu(htu) == expected_url
        except ValueError:
            matches = False
        if not matches:
            raise _fail(DPoPFailure.URI, "htu", "htu", expected_url, htu)
        now = self.clock()
        earliest, latest = now - self.max_age - self.leeway, now + self.leeway
        if not earliest <= iat <= latest:  # exact int/float comparison: no overflow
            raise _fail(DPoPFailure.IAT, "iat", "iat", (earliest, latest), iat)
        if self.nonces is not None and not self.nonces.is_valid(nonce):
            raise UseDPoPNonceError(self.nonces.current())
        # Plain comparisons: neither the ath (a hash of the token sent alongside) nor a
        # thumbprint is a secret, so timing tells an attacker nothing.
        if access_token is not None:
            ath = claims.get("ath")
            if not isinstance(ath, str) or ath != self._ath(access_token):
                raise _fail(DPoPFailure.ATH, "ath", "ath", "the access token hash", _kind(ath))
        if jkt is not None and jkt != header.jkt:
            raise _fail(DPoPFailure.BINDING, "jkt", "cnf.jkt", jkt, header.jkt)
        return DPoPProof(
            jkt=header.jkt, jti=jti, iat=iat, htm=htm, htu=htu, nonce=nonce, jwk=header.jwk
        )


def _kind(value: Any) -> str:
    """A claim's JSON type, for a failure detail (never its value)."""
    if value is None:
        return "missing"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"
