"""Reading request bodies: size-limited, strictly decoded, never a 5xx.

The Management API takes JSON objects; the token endpoint takes
``application/x-www-form-urlencoded`` (RFC 6749 §4.4.2) or JSON, as Auth0 does.
Whatever arrives, the answer is a value or an error the caller renders as a 4xx.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request

from scopegate.authserver.errors import ManagementApiError, OAuthError

MAX_BODY_BYTES = 64 * 1024
# RFC 6749 §3.2: these must not appear twice; any other parameter is ignored.
TOKEN_PARAMETERS = ("grant_type", "client_id", "client_secret", "audience", "scope")
_MAX_FORM_FIELDS = 100


class _TooLarge(Exception):
    pass


def _media_type(request: Request) -> str | None:
    value = request.headers.get("content-type")
    if value is None:
        return None
    return value.split(";", 1)[0].strip().lower()


def _is_json(media_type: str | None) -> bool:
    return media_type is not None and (
        media_type == "application/json" or media_type.endswith("+json")
    )


async def _body(request: Request) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise _TooLarge
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _load_json(body: bytes) -> Any:
    """Parse strict JSON (no NaN or Infinity) whose every string is valid UTF-8 text.

    Raises:
        ValueError: for anything else, including lone surrogates and deep nesting.
    """
    try:
        data = json.loads(body.decode("utf-8"), parse_constant=_reject_constant)
        # "\ud800" parses to a lone surrogate, which no response or database can hold.
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except RecursionError as exc:
        raise ValueError("nested too deeply") from exc
    return data


async def read_json(request: Request) -> Any:
    """The JSON body of a Management API request.

    Raises:
        ManagementApiError: 413 too large, 415 not JSON, 400 malformed.
    """
    media_type = _media_type(request)
    if media_type is not None and not _is_json(media_type):
        raise ManagementApiError(
            415, "unsupported_media_type", "The request body must be application/json."
        )
    try:
        return _load_json(await _body(request))
    except _TooLarge:
        raise ManagementApiError(
            413, "payload_too_large", "The request body is too large."
        ) from None
    except ValueError:
        raise ManagementApiError(
            400, "invalid_body", "Invalid request payload JSON format."
        ) from None


def _from_form(body: bytes) -> dict[str, str]:
    pairs = parse_qsl(
        body.decode("ascii"),
        keep_blank_values=True,
        errors="strict",
        max_num_fields=_MAX_FORM_FIELDS,
    )
    params: dict[str, str] = {}
    for name, value in pairs:
        if name in params and name in TOKEN_PARAMETERS:
            raise OAuthError("invalid_request", f"Parameter {name} is included more than once.")
        params.setdefault(name, value)
    return params


def _from_json(body: bytes) -> dict[str, str]:
    data = _load_json(body)
    if not isinstance(data, dict):
        raise OAuthError("invalid_request", "The request body must be a JSON object.")
    params: dict[str, str] = {}
    for name in TOKEN_PARAMETERS:
        value = data.get(name)
        if value is None:
            continue
        if not isinstance(value, str):
            raise OAuthError("invalid_request", f"Parameter {name} must be a string.")
        params[name] = value
    return params


async def read_token_parameters(request: Request) -> dict[str, str]:
    """The token request's parameters, from a form or a JSON body.

    Raises:
        OAuthError: ``invalid_request`` for a body that is neither, malformed or too large.
    """
    media_type = _media_type(request)
    json_body = _is_json(media_type)
    if not json_body and media_type not in (None, "application/x-www-form-urlencoded"):
        raise OAuthError(
            "invalid_request",
            "The body must be application/x-www-form-urlencoded or application/json.",
        )
    try:
        body = await _body(request)
        return _from_json(body) if json_body else _from_form(body)
    except _TooLarge:
        raise OAuthError("invalid_request", "The request body is too large.", 413) from None
    except ValueError:
        kind = "JSON" if json_body else "form"
        raise OAuthError("invalid_request", f"The request body is not a valid {kind}.") from None
