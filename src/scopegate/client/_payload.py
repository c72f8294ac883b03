"""What the management client sends: server URLs, path segments, scope lists and bodies."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote

import httpx

from scopegate._scopes import parse_scopes
from scopegate.errors import ConfigurationError

__all__ = [
    "JSONObject",
    "base_url_of",
    "path_segment",
    "scope_definitions",
    "scope_list",
    "without_none",
]

JSONObject = dict[str, Any]


def base_url_of(domain_or_url: str) -> str:
    """``https://DOMAIN`` for a bare domain, else the URL; without a trailing slash.

    Raises:
        ConfigurationError: not an http(s) URL with a host, or one with a query or fragment.
    """
    text = domain_or_url.strip()
    if "://" not in text:
        text = "https://" + text
    try:
        url = httpx.URL(text.rstrip("/"))
    except httpx.InvalidURL:
        url = None
    if url is None or url.scheme not in ("http", "https") or not url.host or url.query:
        raise ConfigurationError(
            f"{domain_or_url!r} is not a server: give a URL such as http://127.0.0.1:8787 "
            "or an Auth0 domain such as TENANT.auth0.com"
        )
    if url.fragment:
        raise ConfigurationError(f"{domain_or_url!r}: a server URL has no #fragment")
    return str(url)


def path_segment(value: str) -> str:
    """One path segment: an identifier such as ``https://my-api-urn`` is percent-encoded whole."""
    if not value:
        raise ValueError("an id cannot be empty")
    return quote(value, safe="")


def scope_list(scope: Iterable[str] | str) -> list[str]:
    """The scopes as the Management API's JSON array (:func:`~scopegate._scopes.parse_scopes`)."""
    return list(parse_scopes(scope))


def scope_definitions(scopes: Iterable[str | Mapping[str, str]]) -> list[dict[str, str]]:
    """``["read", {"value": "write", "description": "..."}]`` as the API's scope objects."""
    definitions: list[dict[str, str]] = []
    for scope in scopes:
        if isinstance(scope, str):
            definitions.extend({"value": value} for value in scope_list(scope))
        else:
            definitions.append(dict(scope))
    return definitions


def without_none(**fields: Any) -> JSONObject:
    return {name: value for name, value in fields.items() if value is not None}
