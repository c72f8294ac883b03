"""Testing helpers: mint real access tokens offline and send them.

With an HMAC signing secret shared by the API, a test can sign the very tokens
an authorization server would issue, so requests go through the real
validation path (middleware, verifier, scope guards) instead of around it::

    settings = test_settings()
    token = mint_token(settings, scopes=["read:messages"])
    client.get("/api/messages", headers=bearer(token))

Every claim can be overridden or removed (pass ``None``), and ``secret`` or
``algorithm`` can be replaced, so expired, wrong-audience or badly signed
tokens are one argument away. The pytest fixtures built on these helpers live
in :mod:`scopegate.pytest_plugin`. Nothing here imports a web framework or pytest.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterable
from typing import Any

import jwt

from scopegate.settings import Settings

__all__ = [
    "TEST_IDENTIFIER",
    "TEST_ISSUER",
    "TEST_SUBJECT",
    "bearer",
    "mint_token",
    "test_settings",
]

TEST_IDENTIFIER = "https://api.scopegate.test"
TEST_ISSUER = "https://auth.scopegate.test/"
TEST_SUBJECT = "scopegate-test-client@clients"
# Auth0 names a client-credentials token's subject "<client_id>@clients".
_CLIENT_SUFFIX = "@clients"


def test_settings(**overrides: Any) -> Settings:
    """Settings for tests: a fresh random secret, a test audience and issuer.

    Only ``overrides`` and the defaults count (:meth:`Settings.explicit`):
    neither ``SCOPEGATE_*`` variables nor an ``.env`` file can change the result.

    Example:
        >>> settings = test_settings(scope_claims=["scope", "permissions"])
    """
    values: dict[str, Any] = {
        "signing_secret": secrets.token_urlsafe(48),
        "identifier": TEST_IDENTIFIER,
        "issuer": TEST_ISSUER,
        **overrides,
    }
    return Settings.explicit(**values)


# Not a test, whatever its name says: keep pytest from collecting it where it is imported.
test_settings.__test__ = False  # type: ignore[attr-defined]


def _scope_claim(scopes: Iterable[str]) -> str | None:
    if isinstance(scopes, str):  # one string is a list of scopes, not of characters
        scopes = (scopes,)
    names = dict.fromkeys(scope for item in scopes for scope in item.split() if scope)
    return " ".join(names) or None


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
            ``typ: None`` leaves ``typ`` out.
        profile: ``default`` or ``rfc9068``; None follows ``settings.token_profile``.
        **claims: claims to add or replace; a claim given as None is removed.

    Raises:
        ConfigurationError: ``settings`` is None and the environment has none.

    Example:
        >>> expired = mint_token(settings, scopes=["read"], expires_in=-3600)
        >>> foreign = mint_token(settings, aud="https://another-api")
    """
    if settings is None:
        settings = Settings()
    issued_at = time.time() if now is None else now
    payload: dict[str, Any] = {
        "iss": settings.issuer,
        "sub": subject,
        "aud": settings.identifier,
        "iat": int(issued_at),
        "exp": int(issued_at + expires_in),
        "azp": subject.removesuffix(_CLIENT_SUFFIX),
        "scope": _scope_claim(scopes),
        "gty": "client-credentials",
    }
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
    key = settings.secret_bytes if secret is None else secret
    return jwt.encode(payload, key, algorithm=algorithm or settings.algorithms[0], headers=header)


def bearer(token: str) -> dict[str, str]:
    """The ``Authorization`` header that sends ``token``, as a dict for any test client."""
    return {"Authorization": f"Bearer {token}"}
