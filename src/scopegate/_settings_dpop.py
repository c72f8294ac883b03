"""The DPoP settings' rules (RFC 9449), kept beside :mod:`scopegate._settings`.

:class:`~scopegate._settings.Settings` stays the one class users see; its DPoP
validators call the functions here, so the rules for ``dpop``,
``dpop_algorithms``, ``dpop_replay_store`` and ``public_base_url`` have one
home that is small enough to read. Messages follow the settings convention:
they never quote a value (a Redis URL may hold a password).
"""

from __future__ import annotations

import importlib.util
import logging
from functools import cache
from typing import Any, Literal
from urllib.parse import SplitResult, urlsplit

from scopegate.errors import MissingExtraError

__all__ = [
    "DPOP_MODES",
    "DefaultDPoPMode",
    "check_dpop_algorithms",
    "check_public_base_url",
    "check_replay_store",
    "resolve_mode",
]

DPoPMode = Literal["allowed", "required", "disabled"]
DPOP_MODES: tuple[DPoPMode, ...] = ("allowed", "required", "disabled")
_EXTRA = "pip install 'scopegate[jwks]'"
_REDIS_SCHEMES = ("redis", "rediss", "unix")
logger = logging.getLogger("scopegate")


class DefaultDPoPMode(str):
    """The unset ``dpop``: "allowed" when proofs can be checked, else "disabled"."""


def _have_cryptography() -> bool:
    try:
        return importlib.util.find_spec("cryptography") is not None
    except ValueError:  # pragma: no cover - a module object without __spec__
        return False


@cache
def _log_not_offered() -> None:
    # Once per process: Settings are built more than once (replace, each adapter).
    logger.info(
        "scopegate: DPoP is not offered: checking proofs needs cryptography (%s); "
        "bearer tokens work as before",
        _EXTRA,
    )


def resolve_mode(value: Any) -> Any:
    """The ``dpop`` mode a value stands for.

    The default quietly becomes ``disabled`` on an install without
    cryptography (one INFO line says so): the core install keeps working, and
    no client is invited to a scheme the server cannot check. ``allowed`` or
    ``required`` chosen explicitly without cryptography stops the app at
    start-up instead.

    Raises:
        MissingExtraError: an explicit DPoP mode on an install without cryptography.
    """
    if isinstance(value, DefaultDPoPMode):
        if _have_cryptography():
            return "allowed"
        _log_not_offered()
        return "disabled"
    if isinstance(value, str):
        value = value.strip().lower()
        if value in ("allowed", "required") and not _have_cryptography():
            raise MissingExtraError(f"scopegate: dpop={value} needs cryptography: {_EXTRA}")
    return value


def check_dpop_algorithms(value: list[str], known: tuple[str, ...]) -> list[str]:
    """``dpop_algorithms``: asymmetric JWS algorithms only, at least one, no repeats."""
    if not value:
        raise ValueError("must name at least one algorithm")
    for alg in value:
        if alg.lower() == "none":
            raise ValueError("'none' is never accepted: a DPoP proof must be signed")
        if alg.upper().startswith("HS"):
            raise ValueError(
                f"{alg} is symmetric: a DPoP proof is signed with the client's own private key"
            )
        if alg not in known:
            raise ValueError(f"unknown algorithm {alg!r}; known: " + ", ".join(known))
    return list(dict.fromkeys(value))


def _split_url(value: str) -> SplitResult:
    """``value`` stripped and split, or ValueError for one that is no URL (a bad port too)."""
    try:
        parts = urlsplit(value.strip())
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        raise ValueError("is not a valid URL") from None
    return parts


def check_replay_store(value: str | None) -> str | None:
    """``dpop_replay_store``: None or ``memory``, else a redis://, rediss:// or unix:// URL."""
    if value is None or value.strip().lower() in ("", "memory"):
        return None
    parts = _split_url(value)
    if parts.scheme not in _REDIS_SCHEMES:
        raise ValueError("must be 'memory' or a redis://, rediss:// or unix:// URL")
    if parts.scheme == "unix" and not parts.path:
        raise ValueError("a unix:// URL needs the socket path")
    if parts.scheme != "unix" and not parts.hostname:
        raise ValueError(f"a {parts.scheme}:// URL needs a host")
    return value.strip()


def check_public_base_url(value: str | None) -> str | None:
    """``public_base_url``: an absolute http(s) URL without query or fragment; no trailing /."""
    if value is None:
        return None
    parts = _split_url(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an absolute http or https URL, e.g. https://api.example.com")
    if parts.query or parts.fragment or "?" in value or "#" in value:
        raise ValueError("must not have a query or a fragment")
    if parts.username is not None or parts.password is not None:
        raise ValueError("must not carry user information")
    return value.strip().rstrip("/")
