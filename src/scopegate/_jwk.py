"""Key selection: which public key (and PyJWT algorithm object) verifies a JWS header.

The one owner of the asymmetric key rules (RFC 7515, 7517, 7518, 8725), pure
and without I/O, so a fetched JWK Set and a static ``public_key`` obey the same
rules:

- a key comes only from the configured set, chosen by the header's ``kid``;
  ``jku``, ``x5u``, ``x5c`` and ``jwk`` are never read. Without ``kid`` a token
  is accepted only when exactly one key fits its algorithm;
- the key type fits the algorithm family: RSA for RS/PS, EC on the right curve
  for ES256/384/512 (P-256, P-384, P-521), OKP Ed25519/Ed448 for EdDSA. There
  is no path from a public key to an HMAC secret (algorithm confusion);
- a JWK's ``alg``, when set, equals the token's; its ``use``, when set, is
  ``sig``; its ``key_ops``, when set, include ``verify``;
- private members (``d``, ``p``, ``q``...) of a published JWK are dropped
  before the key is loaded, so only the public half is ever used;
- RSA keys shorter than 2048 bits are refused (RFC 7518 §3.3).

Keys are loaded by PyJWT's algorithm classes (``from_jwk``) into
``cryptography`` key objects; nothing here parses key material by hand.
Needs the ``scopegate[jwks]`` extra (PyJWT's crypto extra).
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from jwt.algorithms import (
    Algorithm,
    ECAlgorithm,
    OKPAlgorithm,
    RSAAlgorithm,
    RSAPSSAlgorithm,
)
from jwt.exceptions import PyJWTError

from scopegate.errors import FailureDetail, InvalidTokenError, TokenFailure

__all__ = [
    "ASYMMETRIC_ALGORITHMS",
    "MAX_KEYS",
    "MIN_RSA_BITS",
    "PRIVATE_MEMBERS",
    "KeySet",
    "PublicKey",
    "algorithm_object",
    "jwk_thumbprint",
    "parse_key_set",
    "parse_static_key",
]

MIN_RSA_BITS = 2048
MAX_KEYS = 100
# Members only a private (or symmetric) JWK has (RFC 7518 §6.2.2, §6.3.2, §6.4; RFC 8037 §2).
PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})

# alg -> (kty, curves allowed, the PyJWT algorithm object that verifies it)
_FAMILIES: dict[str, tuple[str, frozenset[str], Algorithm]] = {
    "RS256": ("RSA", frozenset(), RSAAlgorithm(RSAAlgorithm.SHA256)),
    "RS384": ("RSA", frozenset(), RSAAlgorithm(RSAAlgorithm.SHA384)),
    "RS512": ("RSA", frozenset(), RSAAlgorithm(RSAAlgorithm.SHA512)),
    "PS256": ("RSA", frozenset(), RSAPSSAlgorithm(RSAPSSAlgorithm.SHA256)),
    "PS384": ("RSA", frozenset(), RSAPSSAlgorithm(RSAPSSAlgorithm.SHA384)),
    "PS512": ("RSA", frozenset(), RSAPSSAlgorithm(RSAPSSAlgorithm.SHA512)),
    "ES256": ("EC", frozenset({"P-256"}), ECAlgorithm(ECAlgorithm.SHA256, ec.SECP256R1)),
    "ES384": ("EC", frozenset({"P-384"}), ECAlgorithm(ECAlgorithm.SHA384, ec.SECP384R1)),
    "ES512": ("EC", frozenset({"P-521"}), ECAlgorithm(ECAlgorithm.SHA512, ec.SECP521R1)),
    "EdDSA": ("OKP", frozenset({"Ed25519", "Ed448"}), OKPAlgorithm()),
}
ASYMMETRIC_ALGORITHMS = tuple(_FAMILIES)
_LOADERS: dict[str, Any] = {
    "RSA": RSAAlgorithm.from_jwk,
    "EC": ECAlgorithm.from_jwk,
    "OKP": OKPAlgorithm.from_jwk,
}


# RFC 7638 §3.2: the required members of each key type, the only ones hashed.
_THUMBPRINT_MEMBERS = {
    "RSA": ("e", "kty", "n"),
    "EC": ("crv", "kty", "x", "y"),
    "OKP": ("crv", "kty", "x"),
}


def jwk_thumbprint(jwk: Mapping[str, Any]) -> str:
    """The RFC 7638 SHA-256 thumbprint of a public JWK, base64url without padding.

    Only the required members of the key type are hashed, in lexicographic
    order, as JSON without whitespace (RFC 7638 §3.1-3.3), so the thumbprint
    of a key does not depend on its optional members (``kid``, ``alg``...).
    This is what a DPoP-bound token's ``cnf.jkt`` holds (RFC 9449 §6.1).

    Raises:
        ValueError: not a JWK of type RSA, EC or OKP, or a required member is
            missing or not a string.

    Example (RFC 8037 §A.3)::

        x = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
        jwk_thumbprint({"kty": "OKP", "crv": "Ed25519", "x": x})
        # 'kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k'
    """
    kty = jwk.get("kty") if isinstance(jwk, Mapping) else None
    names = _THUMBPRINT_MEMBERS.get(kty) if isinstance(kty, str) else None
    if names is None:
        raise ValueError("a thumbprint needs a JWK of kty RSA, EC or OKP")
    members = {name: jwk.get(name) for name in names}
    if not all(isinstance(value, str) for value in members.values()):
        raise ValueError(f"a {kty} JWK needs the string members {', '.join(names)}")
    # The members are already in lexicographic order; RFC 7638 §3.3: UTF-8, no escaping needed.
    text = json.dumps(members, separators=(",", ":"), ensure_ascii=False)
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def algorithm_object(alg: str) -> Algorithm:
    """PyJWT's algorithm object for an asymmetric ``alg`` (raises KeyError for others)."""
    return _FAMILIES[alg][2]


@dataclass(frozen=True)
class PublicKey:
    """One usable public key and what its JWK says about it.

    Attributes:
        kid: the key id; None for a key without one (a static PEM key).
        kty: ``RSA``, ``EC`` or ``OKP``.
        crv: the curve (EC and OKP keys), else None.
        alg: the JWK's ``alg`` when it names one.
        key: the ``cryptography`` public key object.
        problem: why the key can never verify (wrong ``use``, ``key_ops``,
            too short...); None for a usable key.
    """

    kid: str | None
    kty: str
    crv: str | None
    alg: str | None
    key: Any
    problem: str | None = None

    def misfit(self, alg: str) -> str | None:
        """Why this key cannot verify a token signed with ``alg``; None when it can."""
        if self.problem is not None:
            return self.problem
        kty, curves, _ = _FAMILIES[alg]
        if self.kty != kty:
            return f"{alg} needs a {kty} key, key {self.kid!r} is {self.kty}"
        if curves and self.crv not in curves:
            return f"{alg} needs curve {'/'.join(sorted(curves))}, key {self.kid!r} is {self.crv}"
        if self.alg is not None and self.alg != alg:
            return f"key {self.kid!r} is for {self.alg}, the token says {alg}"
        return None


@dataclass(frozen=True)
class KeySet:
    """The keys of one source, and the selection rule.

    Attributes:
        keys: every key read from the set, usable or not, in order.
        skipped: how many members were not keys at all (unknown ``kty``, bad members).
        wildcard: the single key of a static PEM, which has no ``kid`` and so
            verifies tokens whatever ``kid`` they carry.
    """

    keys: tuple[PublicKey, ...] = ()
    skipped: int = 0
    wildcard: bool = False
    _by_kid: dict[str, list[PublicKey]] = field(default_factory=dict, repr=False, compare=False)
    # (kid, alg) -> key, for selections that succeeded: at most keys x algorithms entries.
    _chosen: dict[tuple[str | None, str], Any] = field(
        default_factory=dict, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        for key in self.keys:
            if key.kid is not None:
                self._by_kid.setdefault(key.kid, []).append(key)

    @property
    def kids(self) -> tuple[str, ...]:
        """The key ids, in order (for logs and ``scopegate inspect``)."""
        return tuple(key.kid for key in self.keys if key.kid is not None)

    def has(self, kid: str | None) -> bool:
        """True when a token with this ``kid`` would find a candidate key here."""
        if self.wildcard:
            return True
        if kid is None:
            return bool(self.keys)
        return kid in self._by_kid

    def select(self, header: Mapping[str, Any], alg: str) -> Any:
        """The ``cryptography`` key that verifies a token with this header and ``alg``.

        Raises:
            InvalidTokenError: ``UNKNOWN_KEY`` when no key has the token's ``kid``
                (or, without ``kid``, when not exactly one key fits), ``KEY_MISMATCH``
                when the key found cannot verify ``alg``, ``HEADER`` for a non-string ``kid``.
        """
        kid = header.get("kid")
        if kid is not None and not isinstance(kid, str):
            raise InvalidTokenError(
                TokenFailure.HEADER, detail=FailureDetail("type", "kid", "a string", kid)
            )
        chosen = self._chosen.get((kid, alg))
        if chosen is not None:
            return chosen
        key = self._select(kid, alg)
        if len(self._chosen) < MAX_KEYS * len(_FAMILIES):
            self._chosen[(kid, alg)] = key
        return key

    def _select(self, kid: str | None, alg: str) -> Any:
        if self.wildcard:
            candidates = list(self.keys)
        elif kid is None:
            candidates = [key for key in self.keys if key.misfit(alg) is None]
            if len(candidates) != 1:
                raise InvalidTokenError(
                    TokenFailure.UNKNOWN_KEY, detail=FailureDetail("kid", "kid", self.kids, None)
                )
        else:
            candidates = self._by_kid.get(kid, [])
            if not candidates:
                raise InvalidTokenError(
                    TokenFailure.UNKNOWN_KEY, detail=FailureDetail("kid", "kid", self.kids, kid)
                )
        for key in candidates:
            if key.misfit(alg) is None:
                return key.key
        misfits = "; ".join(str(key.misfit(alg)) for key in candidates)
        raise InvalidTokenError(
            TokenFailure.KEY_MISMATCH, detail=FailureDetail("key", "kid", alg, misfits)
        )


def _load_jwk(member: Any) -> PublicKey | None:
    """One member of a JWK Set as a :class:`PublicKey`; None when it is not a usable key."""
    if not isinstance(member, dict):
        return None
    kty, kid = member.get("kty"), member.get("kid")
    loader = _LOADERS.get(kty) if isinstance(kty, str) else None
    if loader is None or not isinstance(kty, str) or not isinstance(kid, str | None):
        return None  # RFC 7517 §5: ignore keys of an unknown type
    public = {name: value for name, value in member.items() if name not in PRIVATE_MEMBERS}
    try:
        key = loader(public)
    except (PyJWTError, ValueError, TypeError, KeyError, AttributeError):
        return None
    crv = member.get("crv") if kty in ("EC", "OKP") else None
    alg = member.get("alg")
    return PublicKey(
        kid=kid,
        kty=kty,
        crv=crv if isinstance(crv, str) else None,
        alg=alg if isinstance(alg, str) else None,
        key=key,
        problem=_problem(kid, member, key),
    )


def _problem(kid: Any, member: Mapping[str, Any], key: Any) -> str | None:
    alg = member.get("alg")
    if alg is not None and alg not in _FAMILIES:
        return f"key {kid!r} is for {alg!r}, not a signature algorithm scopegate accepts"
    use = member.get("use")
    if use is not None and use != "sig":
        return f"key {kid!r} has use {use!r}, not 'sig'"
    ops = member.get("key_ops")
    if ops is not None and (not isinstance(ops, list) or "verify" not in ops):
        return f"key {kid!r} has key_ops {ops!r}, without 'verify'"
    if isinstance(key, rsa.RSAPublicKey) and key.key_size < MIN_RSA_BITS:
        return f"key {kid!r} is RSA {key.key_size} bits; RFC 7518 section 3.3 needs {MIN_RSA_BITS}"
    return None


def parse_key_set(document: Any) -> KeySet:
    """A JWK Set (RFC 7517 §5) as a :class:`KeySet`.

    Members of an unknown type or with bad values are skipped, as §5 asks.

    Raises:
        ValueError: not a JWK Set object, or more than :data:`MAX_KEYS` keys.
    """
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise ValueError("not a JWK Set: an object with a 'keys' array")
    members: list[Any] = document["keys"]
    if len(members) > MAX_KEYS:
        raise ValueError(f"the JWK Set has {len(members)} keys; at most {MAX_KEYS} are read")
    loaded = [_load_jwk(member) for member in members]
    keys = tuple(key for key in loaded if key is not None)
    return KeySet(keys, skipped=len(loaded) - len(keys))


def _from_pem(text: str) -> KeySet:
    try:
        key = load_pem_public_key(text.encode("ascii"))
    except (ValueError, TypeError, UnicodeError) as exc:
        raise ValueError("is not a PEM public key (a private key is never accepted)") from exc
    if isinstance(key, rsa.RSAPublicKey):
        kty, crv = "RSA", None
    elif isinstance(key, ec.EllipticCurvePublicKey):
        names = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}
        kty, crv = "EC", names.get(key.curve.name, key.curve.name)
    elif isinstance(key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey):
        kty = "OKP"
        crv = "Ed25519" if isinstance(key, ed25519.Ed25519PublicKey) else "Ed448"
    else:
        raise ValueError("is a PEM public key of a type no JWS algorithm here uses")
    return KeySet((PublicKey(None, kty, crv, None, key, _problem(None, {}, key)),), wildcard=True)


def parse_static_key(text: str) -> KeySet:
    """The ``public_key`` setting: a PEM public key, a JWK or a JWK Set (JSON).

    Raises:
        ValueError: none of those, a private key, or no usable key in it.
    """
    stripped = text.strip()
    if stripped.startswith("-----BEGIN"):
        keys = _from_pem(stripped)
    else:
        try:
            document = json.loads(stripped)
        except ValueError as exc:
            raise ValueError("is neither a PEM public key nor JSON (a JWK or a JWK Set)") from exc
        if isinstance(document, dict) and "keys" not in document:
            document = {"keys": [document]}
        keys = parse_key_set(document)
    usable: Iterable[PublicKey] = (key for key in keys.keys if key.problem is None)
    if not any(True for _ in usable):
        problems = [key.problem for key in keys.keys if key.problem]
        raise ValueError("holds no usable public key" + (f": {problems[0]}" if problems else ""))
    return keys
