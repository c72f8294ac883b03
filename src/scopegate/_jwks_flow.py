"""The JWK Set refresh as a sans-IO flow: the rules of fetching keys, without any I/O.

Part of :mod:`scopegate._jwks`, split the httpx way: :func:`get` and
:func:`discover` are generators that yield each :class:`FetchRequest`
(discovery, the JWK Set, a redirect) and receive a :class:`FetchResponse`, so
the rules (same-host redirects only, at most :data:`MAX_REDIRECTS`, status 200,
JSON, the issuer match, a safe discovered ``jwks_uri``, ``max-age``) are
written once; :class:`~scopegate._jwks.RemoteKeys` runs them with
``httpx.Client`` or ``httpx.AsyncClient`` and keeps the state.
"""

from __future__ import annotations

import json
import re
from collections.abc import Generator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

from scopegate._jwk import KeySet, parse_key_set
from scopegate._settings_rules import insecure_url_problem

__all__ = [
    "MAX_REDIRECTS",
    "FetchError",
    "FetchRequest",
    "FetchResponse",
    "discover",
    "get",
    "max_age",
    "read_key_set",
]

MAX_REDIRECTS = 3
_MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*\"?(\d+)\"?\s*(?:,|$)", re.IGNORECASE)
_NO_CACHE = re.compile(r"(?:^|,)\s*(?:no-store|no-cache)\s*(?:,|$)", re.IGNORECASE)


@dataclass(frozen=True)
class FetchRequest:
    """A GET the refresh flow wants made."""

    url: str


@dataclass(frozen=True)
class FetchResponse:
    """What the driver got back: status, headers (lowercase names) and the bounded body."""

    status: int
    headers: Mapping[str, str]
    body: bytes


class FetchError(Exception):
    """A failed fetch; the message says why (never a key or a response body)."""


def max_age(headers: Mapping[str, str], ceiling: float) -> float:
    """How long a response may be cached: ``Cache-Control: max-age`` if shorter than ``ceiling``."""
    control = headers.get("cache-control", "")
    if _NO_CACHE.search(control):
        return 0.0
    match = _MAX_AGE.search(control)
    return ceiling if match is None else min(ceiling, float(match.group(1)))


def _same_origin_host(url: str, target: str) -> bool:
    a, b = urlsplit(url), urlsplit(target)
    downgrade = a.scheme == "https" and b.scheme != "https"
    return a.hostname == b.hostname and a.port == b.port and not downgrade


def _discovery_urls(issuer: str) -> list[str]:
    """OpenID Connect Discovery §4, then RFC 8414 §3.1's well-known URL for ``issuer``."""
    parts = urlsplit(issuer)
    path = parts.path.rstrip("/")
    origin = f"{parts.scheme}://{parts.netloc}"
    return [
        f"{issuer.rstrip('/')}/.well-known/openid-configuration",
        f"{origin}/.well-known/oauth-authorization-server{path}",
    ]


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise FetchError("the response is not JSON") from exc


def get(url: str) -> Generator[FetchRequest, FetchResponse, FetchResponse]:
    """GET ``url``, following at most :data:`MAX_REDIRECTS` redirects on the same host."""
    for _ in range(MAX_REDIRECTS + 1):
        response = yield FetchRequest(url)
        if response.status in (301, 302, 303, 307, 308):
            target = urljoin(url, response.headers.get("location", ""))
            if not _same_origin_host(url, target):
                raise FetchError(f"redirected from {url} to another host")
            url = target
            continue
        if response.status != 200:
            raise FetchError(f"{url} answered HTTP {response.status}")
        return response
    raise FetchError(f"{url}: more than {MAX_REDIRECTS} redirects")


def discover(issuer: str, *, allow_insecure: bool) -> Generator[FetchRequest, FetchResponse, str]:
    """The ``jwks_uri`` of ``issuer``'s metadata (OpenID Connect Discovery, then RFC 8414)."""
    problems = []
    for url in _discovery_urls(issuer):
        try:
            document = _json((yield from get(url)).body)
        except FetchError as exc:
            problems.append(str(exc))
            continue
        if not isinstance(document, dict):
            problems.append(f"{url} is not a metadata object")
            continue
        if document.get("issuer") != issuer:
            # RFC 8414 §3.3 / OIDC Discovery §4.3: a mismatch is a misconfiguration.
            raise FetchError(
                f"{url} names issuer {document.get('issuer')!r}, not the configured "
                f"{issuer!r}: the configuration is refused"
            )
        jwks_uri = document.get("jwks_uri")
        if not isinstance(jwks_uri, str):
            raise FetchError(f"{url} has no jwks_uri")
        if problem := insecure_url_problem(jwks_uri, allow_insecure=allow_insecure):
            raise FetchError(f"the discovered jwks_uri {problem}")
        return jwks_uri
    raise FetchError("discovery failed: " + "; ".join(problems))


def read_key_set(response: FetchResponse, ceiling: float) -> tuple[KeySet, float]:
    """The JWK Set in ``response`` and how long to keep it (at most ``ceiling`` seconds)."""
    try:
        keys = parse_key_set(_json(response.body))
    except ValueError as exc:
        raise FetchError(str(exc)) from exc
    return keys, max_age(response.headers, ceiling)
