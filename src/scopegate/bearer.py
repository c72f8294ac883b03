"""Extracting a bearer token from a request (RFC 6750 §2), without any I/O.

Adapters pass in what they read off the request (every ``Authorization``
header value, and the ``access_token`` query values when that method is
enabled) and get back the token string, ``None`` when the request carries no
bearer credentials, or a :class:`~scopegate.errors.InvalidRequestError`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from scopegate.errors import InvalidRequestError

__all__ = ["B64TOKEN", "extract_token"]

# RFC 6750 §2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*\Z")
# credentials = "Bearer" 1*SP b64token; the scheme is case-insensitive (RFC 7235 §2.1).
_SCHEME = "bearer"


_MULTIPLE = "The request has more than one Authorization header"


def _scheme_of(credentials: str) -> str:
    return credentials.strip(" \t").partition(" ")[0].lower()


def _parse_authorization(value: str, max_length: int) -> str | None:
    if len(value) > max_length:
        raise InvalidRequestError("The Authorization header is too large")
    value = value.strip(" \t")
    scheme, sep, rest = value.partition(" ")
    # WSGI servers join repeated headers with commas, and a b64token has none: a
    # comma beside a Bearer credential is a second header, as the ASGI side sees it.
    if "," in value and _SCHEME in (_scheme_of(part) for part in value.split(",")):
        raise InvalidRequestError(_MULTIPLE)
    if scheme.lower() != _SCHEME:
        return None  # another scheme (Basic, Digest, ...) is "no bearer credentials"
    token = rest.lstrip(" ")
    if not sep or not token:
        raise InvalidRequestError("The bearer token is empty")
    if not B64TOKEN.match(token):
        raise InvalidRequestError("The bearer token has characters outside b64token")
    return token


def extract_token(
    authorization: Sequence[str],
    query_tokens: Sequence[str] = (),
    *,
    max_length: int = 8192,
) -> str | None:
    """Return the bearer token of a request, or None when it carries none.

    Args:
        authorization: every ``Authorization`` header value of the request.
        query_tokens: every ``access_token`` query value, when the adapter
            accepts that method (RFC 6750 §2.3); empty otherwise.
        max_length: the largest header or query value accepted, in characters.

    Raises:
        InvalidRequestError: more than one ``Authorization`` header, an empty
            or malformed bearer token, a token in both places or twice in the
            query, or a value over ``max_length``.
    """
    if len(authorization) > 1:
        raise InvalidRequestError(_MULTIPLE)
    header_token = _parse_authorization(authorization[0], max_length) if authorization else None
    if not query_tokens:
        return header_token
    if len(query_tokens) > 1:
        raise InvalidRequestError("The request has more than one access_token parameter")
    if header_token is not None:
        raise InvalidRequestError("The request uses more than one method to send a token")
    token = query_tokens[0]
    if len(token) > max_length:
        raise InvalidRequestError("The access_token parameter is too large")
    if not token:
        raise InvalidRequestError("The bearer token is empty")
    if not B64TOKEN.match(token):
        raise InvalidRequestError("The bearer token has characters outside b64token")
    return token
