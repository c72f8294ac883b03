"""The settings' rules, kept beside :mod:`scopegate._settings`.

:class:`~scopegate._settings.Settings` stays the one class users see, a class
of fields; its validators call the functions here, so each rule has one home:
the algorithm and secret-length tables (RFC 7518 §3.2), which key source an
algorithm needs, the URL safety rule for fetching keys, and the checks of the
claim, realm and path settings. Each check takes the value (and, when it
depends on other settings, the ones validated before it) and returns the value
to keep or raises ``ValueError``; the messages never quote a secret.
"""

from __future__ import annotations

import importlib
import ipaddress
import json
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from pydantic import SecretStr

from scopegate._errors_base import is_safe_realm
from scopegate._settings_env import env_name
from scopegate.errors import MissingExtraError

__all__ = [
    "ASYMMETRIC_ALGORITHMS",
    "HMAC_ALGORITHMS",
    "JWKS_EXTRA",
    "MIN_SECRET_BYTES",
    "SECRET_BYTES_NEEDED",
    "TOKEN_PROFILES",
    "DefaultAlgorithms",
    "check_algorithms",
    "check_claim_values",
    "check_identifier",
    "check_jwks_uri",
    "check_public_key",
    "check_public_paths",
    "check_realm",
    "check_required_claims",
    "check_scope_claims",
    "check_secret",
    "default_algorithms",
    "fold_profile",
    "insecure_url_problem",
    "parse_claim_values",
    "secret_bytes_needed",
]

# The one HMAC table. RFC 7518 §3.2: a key of the same size as the hash output (256 bits
# for HS256) or larger. The secret is shared, so only these algorithms verify with it;
# PyJWT's own table gives each name its hash (scopegate._verifier).
SECRET_BYTES_NEEDED = {"HS256": 32, "HS384": 48, "HS512": 64}
HMAC_ALGORITHMS = tuple(SECRET_BYTES_NEEDED)
# Verified with a public key from jwks_uri, discovery or public_key (scopegate._jwk owns the rules).
ASYMMETRIC_ALGORITHMS = (
    *("RS256", "RS384", "RS512", "PS256", "PS384", "PS512"),
    *("ES256", "ES384", "ES512", "EdDSA"),
)
JWKS_EXTRA = "pip install 'scopegate[jwks]'"
MIN_SECRET_BYTES = SECRET_BYTES_NEEDED["HS256"]
# "default": what Auth0 issues by default; "rfc9068": RFC 9068 §2 and §4, enforced.
TOKEN_PROFILES = ("default", "rfc9068")

_NO_KEY = (
    f"is required, unless tokens are verified with a public key from {env_name('jwks_uri')}, "
    f"{env_name('public_key')} or {env_name('issuer')} (discovery)"
)


class DefaultAlgorithms(list[str]):
    """The unset ``algorithms``: replaced by the default for the configured keys."""


def _require(module: str, why: str) -> None:
    try:
        importlib.import_module(module)
    except ImportError:
        raise MissingExtraError(f"scopegate: {why} needs {module}: {JWKS_EXTRA}") from None


def _is_loopback(host: str | None) -> bool:
    if host is None:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def insecure_url_problem(url: str, *, allow_insecure: bool) -> str | None:
    """Why ``url`` may not be used to fetch keys; None when it may.

    https always; http only for a loopback host (the local authorization
    server, tests) or when ``allow_insecure_jwks`` is set.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return "must be an absolute https URL"
    if parts.scheme == "http" and not (allow_insecure or _is_loopback(parts.hostname)):
        return (
            "must use https (http is accepted only for a loopback host, or with "
            f"{env_name('allow_insecure_jwks')}=true)"
        )
    return None


def secret_bytes_needed(algorithms: Iterable[str]) -> int:
    """The shortest secret RFC 7518 §3.2 allows for ``algorithms`` (0 without HMAC)."""
    return max(
        (SECRET_BYTES_NEEDED[alg] for alg in algorithms if alg in HMAC_ALGORITHMS), default=0
    )


def check_identifier(value: str) -> str:
    """``identifier``: not blank."""
    if not value.strip():
        raise ValueError("must not be empty")
    return value


def check_jwks_uri(value: str | None, data: Mapping[str, Any]) -> str | None:
    """``jwks_uri``: safe to fetch keys from (:func:`insecure_url_problem`)."""
    if value is not None:
        allow = bool(data.get("allow_insecure_jwks"))
        if problem := insecure_url_problem(value, allow_insecure=allow):
            raise ValueError(problem)
    return value


def check_public_key(value: str | None, data: Mapping[str, Any]) -> str | None:
    """``public_key``: the only key source, and a key :mod:`scopegate._jwk` can read."""
    if value is not None:
        if data.get("jwks_uri"):
            raise ValueError(f"and {env_name('jwks_uri')} are two key sources; set one of them")
        _require("cryptography", f"{env_name('public_key')}")
        from scopegate._jwk import parse_static_key

        parse_static_key(value)
    return value


def default_algorithms(value: Any, data: Mapping[str, Any]) -> Any:
    """The unset ``algorithms`` (:class:`DefaultAlgorithms`): HS256 for a secret, RS256 for keys."""
    if not isinstance(value, DefaultAlgorithms):
        return value
    if not {"jwks_uri", "public_key"} <= data.keys():
        return ["RS256"]  # a key source was given but is invalid: that error is enough
    if "signing_secret" not in data:
        return ["HS256"]  # a secret was given but is invalid: that error is enough
    secret = data.get("signing_secret") is not None
    keys = any(data.get(name) for name in ("jwks_uri", "public_key"))
    if not secret and not keys and data.get("issuer") is None:
        raise ValueError(f"signing_secret: {_NO_KEY}")
    discovery = not secret and not keys and data.get("issuer") is not None
    if secret and keys:
        raise ValueError(
            "must be set when both signing_secret and a key source (jwks_uri or "
            "public_key) are: each algorithm verifies with its own kind of key"
        )
    return ["RS256"] if keys or discovery else ["HS256"]


def check_algorithms(value: list[str], data: Mapping[str, Any]) -> list[str]:
    """``algorithms``: known, never ``none``, each with its kind of key and a long enough secret."""
    if not value:
        raise ValueError("must name at least one algorithm")
    known = (*HMAC_ALGORITHMS, *ASYMMETRIC_ALGORITHMS)
    for alg in value:
        if alg.lower() == "none":
            raise ValueError("'none' is never accepted: tokens must be signed")
        if alg not in known:
            raise ValueError(f"unknown algorithm {alg!r}; known: " + ", ".join(known))
    value = list(dict.fromkeys(value))
    hmac = [alg for alg in value if alg in HMAC_ALGORITHMS]
    secret: SecretStr | None = data.get("signing_secret")
    if hmac and "signing_secret" in data and secret is None:  # else invalid, and said so
        raise ValueError(
            f"{', '.join(hmac)} needs {env_name('signing_secret')} "
            "(an HMAC algorithm verifies only with the shared secret)"
        )
    if hmac and secret is not None:
        # Checked here, not on the secret, so it is reported beside every other error.
        length, needed = len(secret.get_secret_value().encode()), secret_bytes_needed(hmac)
        if length < needed and not data.get("allow_weak_secret", False):
            raise ValueError(
                f"signing_secret: is {length} bytes; HMAC keys need at least {needed} "
                f"(RFC 7518 section 3.2). Set {env_name('allow_weak_secret')}=true to "
                "accept it anyway"
            )
    asymmetric = [alg for alg in value if alg not in HMAC_ALGORITHMS]
    if asymmetric and {"jwks_uri", "public_key"} <= data.keys():
        source = data.get("jwks_uri") or data.get("public_key") or data.get("issuer")
        if not source:
            raise ValueError(
                f"{', '.join(asymmetric)} needs a key source: {env_name('jwks_uri')}, "
                f"{env_name('public_key')} or {env_name('issuer')} (discovery)"
            )
        _require("cryptography", ", ".join(asymmetric))
        if not data.get("public_key"):
            _require("httpx", f"fetching keys for {', '.join(asymmetric)}")
    return value


def check_scope_claims(value: list[str]) -> list[str]:
    """``scope_claims``: at least one claim, none blank."""
    if not value or not all(name.strip() for name in value):
        raise ValueError("must name at least one claim")
    return value


def fold_profile(value: Any) -> Any:
    """``token_profile`` is case- and space-insensitive."""
    return value.strip().lower() if isinstance(value, str) else value


def check_required_claims(value: list[str]) -> list[str]:
    """``required_claims``: no blank name; duplicates dropped."""
    if not all(name.strip() for name in value):
        raise ValueError("claim names must not be empty")
    return list(dict.fromkeys(value))


def parse_claim_values(value: Any) -> Any:
    """``claim_values`` as a string is a JSON object (an empty string: none)."""
    if isinstance(value, str):
        try:
            return json.loads(value) if value.strip() else {}
        except ValueError:
            raise ValueError(
                'must be a JSON object, e.g. {"gty": ["client-credentials"]}'
            ) from None
    return value


def check_claim_values(value: dict[str, list[str]]) -> dict[str, list[str]]:
    """``claim_values``: no blank name, at least one accepted value each."""
    for name, allowed in value.items():
        if not name.strip():
            raise ValueError("claim names must not be empty")
        if not allowed:
            raise ValueError(f"{name!r} needs at least one accepted value")
    return value


def check_realm(value: str) -> str:
    """``realm``: safe in a quoted header parameter (:func:`~scopegate.errors.is_safe_realm`)."""
    if not is_safe_realm(value):
        raise ValueError('must be printable ASCII without quotes (") or backslashes')
    return value


def check_public_paths(value: list[str]) -> list[str]:
    """``public_paths``: each starts with ``/``; duplicates dropped."""
    for path in value:
        if not path.startswith("/"):
            raise ValueError(f"{path!r} is not a path: public paths start with /")
    return list(dict.fromkeys(value))


def check_secret(value: SecretStr | None) -> SecretStr | None:
    """A secret setting, when set, is not empty."""
    if value is not None and not value.get_secret_value():
        raise ValueError("must not be empty")
    return value
