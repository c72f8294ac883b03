"""Reading the credentials of a request (RFC 6750 §2, RFC 9449 §7.1), without any I/O.

Adapters pass in what they read off the request (every ``Authorization``
header value, the ``access_token`` query values when that method is enabled,
and every ``DPoP`` header value) and get back the credentials (scheme and
token), ``None`` when the request carries none this API accepts, or a
:class:`~scopegate.errors.BearerError`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import NamedTuple

from scopegate.errors import BearerError, DPoPFailure, InvalidDPoPProofError, InvalidRequestError

__all__ = [
    "B64TOKEN",
    "BEARER",
    "DPOP",
    "Credentials",
    "extract_credentials",
    "extract_token",
    "single_proof",
]

# RFC 6750 §2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=";
# RFC 9449 §7.1's token68 for the DPoP scheme is the same set (RFC 9110 §11.2).
B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*\Z")
#: The two schemes, as challenges spell them; requests may use any case (RFC 9110 §11.1).
BEARER = "Bearer"
DPOP = "DPoP"
_SCHEMES = {"bearer": BEARER, "dpop": DPOP}


_MULTIPLE = "The request has more than one Authorization header"


class Credentials(NamedTuple):
    """What a request authenticates with: the scheme (:data:`BEARER` or :data:`DPOP`) and token."""

    scheme: str
    token: str


def _scheme_of(credentials: str) -> str:
    return credentials.strip(" \t").partition(" ")[0].lower()


def _refuse(description: str, scheme: str) -> BearerError:
    error = InvalidRequestError(description)
    error.scheme = scheme
    return error


def _parse_authorization(value: str, max_length: int, dpop: bool) -> Credentials | None:
    if len(value) > max_length:
        raise InvalidRequestError("The Authorization header is too large")
    value = value.strip(" \t")
    scheme, sep, rest = value.partition(" ")
    accepted = ("bearer", "dpop") if dpop else ("bearer",)
    # WSGI servers join repeated headers with commas, and a b64token has none: a
    # comma beside a Bearer (or DPoP) credential is a second header, as ASGI sees it.
    if "," in value and any(_scheme_of(part) in accepted for part in value.split(",")):
        raise InvalidRequestError(_MULTIPLE)
    folded = scheme.lower()
    if folded not in accepted:
        return None  # another scheme (Basic, Digest, ...) is "no credentials"
    name = _SCHEMES[folded]
    token = rest.lstrip(" ")
    noun, grammar = (
        ("bearer token", "b64token") if name == BEARER else ("DPoP access token", "token68")
    )
    if not sep or not token:
        raise _refuse(f"The {noun} is empty", name)
    if not B64TOKEN.match(token):
        raise _refuse(f"The {noun} has characters outside {grammar}", name)
    return Credentials(name, token)


def extract_credentials(
    authorization: Sequence[str],
    query_tokens: Sequence[str] = (),
    *,
    max_length: int = 8192,
    dpop: bool = False,
) -> Credentials | None:
    """Return the credentials of a request, or None when it carries none this API accepts.

    Args:
        authorization: every ``Authorization`` header value of the request.
        query_tokens: every ``access_token`` query value, when the adapter
            accepts that method (RFC 6750 §2.3); empty otherwise. A query token
            is a bearer token: DPoP has no query method.
        max_length: the largest header or query value accepted, in characters.
        dpop: accept the ``DPoP`` scheme (RFC 9449 §7.1) beside ``Bearer``; when
            False it is another scheme, like ``Basic``.

    Raises:
        InvalidRequestError: more than one ``Authorization`` header, an empty
            or malformed token, a token in both places or twice in the
            query, or a value over ``max_length``.
    """
    if len(authorization) > 1:
        raise InvalidRequestError(_MULTIPLE)
    header = _parse_authorization(authorization[0], max_length, dpop) if authorization else None
    if not query_tokens:
        return header
    if len(query_tokens) > 1:
        raise InvalidRequestError("The request has more than one access_token parameter")
    if header is not None:
        raise InvalidRequestError("The request uses more than one method to send a token")
    token = query_tokens[0]
    if len(token) > max_length:
        raise InvalidRequestError("The access_token parameter is too large")
    if not token:
        raise InvalidRequestError("The bearer token is empty")
    if not B64TOKEN.match(token):
        raise InvalidRequestError("The bearer token has characters outside b64token")
    return Credentials(BEARER, token)


def extract_token(
    authorization: Sequence[str],
    query_tokens: Sequence[str] = (),
    *,
    max_length: int = 8192,
) -> str | None:
    """Return the bearer token of a request, or None when it carries none.

    :func:`extract_credentials` for an API that accepts the Bearer scheme only.

    Raises:
        InvalidRequestError: as :func:`extract_credentials`.
    """
    credentials = extract_credentials(authorization, query_tokens, max_length=max_length)
    return None if credentials is None else credentials.token


def single_proof(values: Sequence[str]) -> str:
    """The one ``DPoP`` header value of a DPoP-scheme request (RFC 9449 §4.3, step 1).

    A compact JWS has no comma, so a comma is two headers joined (as WSGI
    servers join them).

    Raises:
        InvalidDPoPProofError: no ``DPoP`` header (``MISSING``), or more than one (``MULTIPLE``).
    """
    if len(values) > 1 or (values and "," in values[0]):
        failure = DPoPFailure.MULTIPLE
    else:
        proof = values[0].strip(" \t") if values else ""
        if proof:
            return proof
        failure = DPoPFailure.MISSING  # an empty header is no proof
    error = InvalidDPoPProofError(failure)
    error.scheme = DPOP
    raise error
