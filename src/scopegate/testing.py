"""Testing helpers: mint real access tokens offline and send them.

With an HMAC signing secret shared by the API, a test can sign the very tokens
an authorization server would issue, so requests go through the real
validation path (middleware, verifier, scope guards) instead of around it::

    settings = test_settings()
    token = mint_token(settings, scopes=["read:messages"])
    client.get("/api/messages", headers=bearer(token))

Every claim can be overridden or removed (pass ``None``), and ``secret`` or
``algorithm`` can be replaced, so expired, wrong-audience or badly signed
tokens are one argument away.

Asymmetric keys work the same way offline: ``test_settings(algorithms=["RS256"])``
generates a test key pair (once per process and algorithm), configures its
public half as the static ``public_key`` (a JWK Set), and ``mint_token`` signs
with the private half, with its ``kid``::

    settings = test_settings(algorithms=["RS256"])
    token = mint_token(settings, scopes=["read:messages"])

DPoP-bound tokens (RFC 9449) take the client's key, a
:class:`scopegate.client._dpop.DPoPKey` (the ``scopegate_dpop_key`` fixture
gives one): ``mint_token(settings, dpop_key=key)`` adds ``cnf.jkt``, and
``dpop_proof`` signs the proof for one request, with any claim replaced::

    key = DPoPKey.generate()
    token = mint_token(settings, scopes=["read:messages"], dpop_key=key)
    client.get("/api/messages", headers=dpop_headers(token, key, "GET", url))
    stale = dpop_proof(key, "GET", url, token=token, iat=int(time.time()) - 3600)

The pytest fixtures built on these helpers live
in :mod:`scopegate.pytest_plugin`. Nothing here imports a web framework or pytest.
"""

from __future__ import annotations

import functools
import json
import secrets
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, cast

import jwt

from scopegate._claimset import CLIENT_SUFFIX, client_credentials_claims, client_subject
from scopegate._settings import ASYMMETRIC_ALGORITHMS, HMAC_ALGORITHMS, Settings, split_list
from scopegate.errors import ConfigurationError

__all__ = [
    "TEST_IDENTIFIER",
    "TEST_ISSUER",
    "TEST_SUBJECT",
    "DPoPSigner",
    "KeyPair",
    "bearer",
    "dpop_headers",
    "dpop_proof",
    "key_pair",
    "mint_token",
    "test_settings",
]

TEST_IDENTIFIER = "https://api.scopegate.test"
TEST_ISSUER = "https://auth.scopegate.test/"
TEST_SUBJECT = client_subject("scopegate-test-client")


class DPoPSigner(Protocol):
    """What the DPoP helpers need of a key: :class:`scopegate.client._dpop.DPoPKey` is one.

    (A protocol, so this module imports nothing from the client package.)
    """

    @property
    def thumbprint(self) -> str: ...

    def claims(
        self, method: str, url: str, *, access_token: str | None = None, nonce: str | None = None
    ) -> dict[str, Any]: ...

    def sign(self, claims: Mapping[str, Any], headers: Mapping[str, Any] | None = None) -> str: ...


@dataclass(frozen=True)
class KeyPair:
    """A generated key pair for one asymmetric algorithm.

    Attributes:
        algorithm: the JWS ``alg`` it signs with.
        kid: its key id (``scopegate-test-<alg>``).
        private_key: the ``cryptography`` private key ``mint_token`` signs with.
        public_jwk: the public half as a JWK (with ``kid``, ``alg`` and ``use``).
    """

    algorithm: str
    kid: str
    private_key: Any
    public_jwk: dict[str, Any]

    @property
    def jwks(self) -> dict[str, Any]:
        """A JWK Set holding only this key's public half."""
        return {"keys": [self.public_jwk]}


@functools.cache
def key_pair(algorithm: str = "RS256") -> KeyPair:
    """The process's test key pair for ``algorithm`` (generated once, then reused).

    RSA keys are 2048 bits (RS*, PS*), EC keys are on the algorithm's curve
    (ES256: P-256, ES384: P-384, ES512: P-521), EdDSA keys are Ed25519.

    Raises:
        ValueError: ``algorithm`` is not an asymmetric algorithm scopegate accepts.
    """
    if algorithm not in ASYMMETRIC_ALGORITHMS:
        raise ValueError(f"{algorithm!r} is not one of {', '.join(ASYMMETRIC_ALGORITHMS)}")
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
    from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

    from scopegate._jwk import algorithm_object

    private: Any
    if algorithm.startswith(("RS", "PS")):
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        jwk = RSAAlgorithm.to_jwk(private.public_key(), as_dict=True)
    elif algorithm.startswith("ES"):
        # The curve scopegate._jwk verifies the algorithm with (jwk owns that table).
        curve = cast(ECAlgorithm, algorithm_object(algorithm)).expected_curve
        if curve is None:  # every ES* algorithm of scopegate._jwk names its curve
            raise ValueError(f"{algorithm!r} names no curve")
        private = ec.generate_private_key(curve())
        jwk = ECAlgorithm.to_jwk(private.public_key(), as_dict=True)
    else:
        private = ed25519.Ed25519PrivateKey.generate()
        jwk = OKPAlgorithm.to_jwk(private.public_key(), as_dict=True)
    kid = f"scopegate-test-{algorithm.lower()}"
    return KeyPair(algorithm, kid, private, {**jwk, "kid": kid, "alg": algorithm, "use": "sig"})


def _test_keys_of(settings: Settings) -> dict[str, KeyPair]:
    """The test key pairs whose public halves ``settings.public_key`` holds, by ``alg``."""
    try:
        members = json.loads(settings.public_key or "{}").get("keys", [])
    except (ValueError, AttributeError):
        return {}
    pairs = {}
    for member in members:
        alg = member.get("alg") if isinstance(member, dict) else None
        if alg in ASYMMETRIC_ALGORITHMS and member.get("kid") == key_pair(alg).kid:
            pairs[alg] = key_pair(alg)
    return pairs


def test_settings(**overrides: Any) -> Settings:
    """Settings for tests: a fresh random secret, a test audience and issuer.

    Only ``overrides`` and the defaults count (:meth:`Settings.explicit`):
    neither ``SCOPEGATE_*`` variables nor an ``.env`` file can change the result.
    When ``algorithms`` names asymmetric algorithms and no key source is given,
    the public halves of their :func:`key_pair` become the static ``public_key``;
    the secret is kept only when an HMAC algorithm is listed too.

    Example::

        settings = test_settings(scope_claims=["scope", "permissions"])
        rs256 = test_settings(algorithms=["RS256"])
    """
    values: dict[str, Any] = {
        "signing_secret": secrets.token_urlsafe(48),
        "identifier": TEST_IDENTIFIER,
        "issuer": TEST_ISSUER,
        **overrides,
    }
    algorithms = split_list(overrides.get("algorithms", []))
    asymmetric = [alg for alg in algorithms if alg in ASYMMETRIC_ALGORITHMS]
    if asymmetric and not {"jwks_uri", "public_key"} & overrides.keys():
        jwks = {"keys": [key_pair(alg).public_jwk for alg in dict.fromkeys(asymmetric)]}
        values["public_key"] = json.dumps(jwks)
        if not any(alg in HMAC_ALGORITHMS for alg in algorithms):
            values["signing_secret"] = None
    values.update(overrides)
    return Settings.explicit(**values)


# Not a test, whatever its name says: keep pytest from collecting it where it is imported.
test_settings.__test__ = False  # type: ignore[attr-defined]


def mint_token(
    settings: Settings | None = None,
    *,
    scopes: Iterable[str] = (),
    subject: str = TEST_SUBJECT,
    expires_in: float = 3600,
    now: float | None = None,
    secret: str | bytes | None = None,
    algorithm: str | None = None,
    headers: dict[str, Any] | None = None,
    profile: str | None = None,
    key: Any = None,
    dpop_key: DPoPSigner | None = None,
    **claims: Any,
) -> str:
    """A signed access token that a verifier built from ``settings`` accepts.

    The claims are those of a client-credentials grant: ``iss`` (when the
    settings name an issuer), ``sub``, ``aud``, ``iat``, ``exp``, ``azp``,
    ``scope`` (when any scope is given) and ``gty``. The ``rfc9068`` profile
    (RFC 9068 §2, Auth0's "RFC 9068" token dialect) adds ``typ: at+jwt`` to the
    header and ``client_id`` and a random ``jti`` to the claims.

    Args:
        settings: the API's settings; None reads them from ``SCOPEGATE_*`` and ``.env``.
        scopes: scopes to grant; each string may hold several, space-separated.
        subject: the ``sub`` claim; ``azp`` is its part before ``@clients``.
        expires_in: seconds from ``now`` to ``exp``; negative for an expired token.
        now: the issue time (seconds since the epoch); the current time when None.
        secret: sign with this key instead of the settings' secret.
        algorithm: sign with this algorithm instead of the first allowed one.
        headers: extra JOSE header parameters (``typ``, ``kid``, ``crit``...);
            ``typ: None`` leaves ``typ`` out. For an asymmetric algorithm the test
            key's ``kid`` is set unless given here (``{"kid": None}`` leaves it out).
        profile: ``default`` or ``rfc9068``; None follows ``settings.token_profile``.
        key: a private key to sign an asymmetric token with, instead of the
            :func:`key_pair` the settings' ``public_key`` names.
        dpop_key: bind the token to this client key: ``cnf: {"jkt": <its thumbprint>}``
            (unless ``cnf`` is among ``claims``).
        **claims: claims to add or replace; a claim given as None is removed.

    Raises:
        ConfigurationError: ``settings`` is None and the environment has none.
        ValueError: a scope outside the RFC 6749 §3.3 grammar (``"a\\tb"`` is
            one invalid scope, as it is to a route guard).

    Example::

        expired = mint_token(settings, scopes=["read"], expires_in=-3600)
        foreign = mint_token(settings, aud="https://another-api")
    """
    if settings is None:
        settings = Settings()
    payload = client_credentials_claims(
        issuer=settings.issuer,
        client_id=subject.removesuffix(CLIENT_SUFFIX),
        subject=subject,
        audience=settings.identifier,
        scopes=scopes,
        issued_at=time.time() if now is None else now,
        lifetime=expires_in,
        extra=None if dpop_key is None else {"cnf": {"jkt": dpop_key.thumbprint}},
    )
    header: dict[str, Any] = {}
    if (profile or settings.token_profile) == "rfc9068":
        header["typ"] = "at+jwt"
        payload["client_id"] = payload["azp"]
        payload["jti"] = secrets.token_urlsafe(16)
    elif profile not in (None, "default"):
        raise ValueError(f"unknown token profile {profile!r}; use default or rfc9068")
    header.update(headers or {})
    payload.update(claims)
    payload = {name: value for name, value in payload.items() if value is not None}
    alg = algorithm or settings.algorithms[0]
    if alg in HMAC_ALGORITHMS or secret is not None:
        signing_key: Any = settings.secret_bytes if secret is None else secret
        return jwt.encode(payload, signing_key, algorithm=alg, headers=header)
    if key is None:
        pair = _test_keys_of(settings).get(alg)
        if pair is None:
            raise ConfigurationError(
                f"mint_token: no test key for {alg} in these settings; use "
                f"test_settings(algorithms=[{alg!r}]) or pass key="
            )
        key = pair.private_key
        header.setdefault("kid", pair.kid)
    header = {name: value for name, value in header.items() if value is not None or name == "typ"}
    return jwt.encode(payload, key, algorithm=alg, headers=header)


def bearer(token: str) -> dict[str, str]:
    """The ``Authorization`` header that sends ``token``, as a dict for any test client."""
    return {"Authorization": f"Bearer {token}"}


def dpop_proof(
    key: DPoPSigner,
    method: str,
    url: str,
    *,
    token: str | None = None,
    headers: Mapping[str, Any] | None = None,
    **overrides: Any,
) -> str:
    """A DPoP proof signed by ``key`` for ``method`` on ``url`` (and ``token``'s ``ath``).

    The claims are those the client sends (fresh ``jti`` and ``iat``, ``htm``,
    ``htu``, ``ath`` with a ``token``); ``overrides`` replace any of them
    (``nonce="..."``, ``iat=0``, ``htm="POST"``) and a claim given as None is
    removed. ``headers`` replaces JOSE header parameters (``typ``, ``jwk``...).

    Example::

        replayed = dpop_proof(key, "GET", url, token=token, jti="same-every-time")
        no_ath = dpop_proof(key, "GET", url, token=token, ath=None)
    """
    claims = key.claims(method, url, access_token=token)
    claims.update(overrides)
    return key.sign({name: value for name, value in claims.items() if value is not None}, headers)


def dpop_headers(token: str, key: DPoPSigner, method: str, url: str) -> dict[str, str]:
    """``Authorization: DPoP <token>`` and a fresh ``DPoP`` proof for one request."""
    return {"Authorization": f"DPoP {token}", "DPoP": dpop_proof(key, method, url, token=token)}
