"""Request bodies of the Management API: strict pydantic models.

Types are strict (``"3600"`` is not an integer, ``1`` is not a string),
unknown properties are refused (which is how a PATCH that names the
``identifier`` fails), and every failure becomes one Auth0-style 400
``invalid_body`` naming the first offending property, never its value.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, TypeVar
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from scopegate.authserver.errors import bad_request, safe_text
from scopegate.authserver.records import ScopeDefinition
from scopegate.errors import SCOPE_TOKEN
from scopegate.settings import MIN_SECRET_BYTES

__all__ = [
    "ClientCreate",
    "ClientGrantCreate",
    "ClientGrantUpdate",
    "ClientUpdate",
    "ResourceServerCreate",
    "ResourceServerUpdate",
    "parse_body",
]

M = TypeVar("M", bound=BaseModel)

# Letters, digits and the RFC 3986 reserved and unreserved characters, or %XX.
_URI_CHARS = re.compile(r"(?:[A-Za-z0-9\-._~:/?\[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})+\Z")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*\Z")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_PRINTABLE_ASCII = re.compile(r"[\x21-\x7e]+\Z")
MAX_TOKEN_LIFETIME = 2_592_000  # 30 days, Auth0's upper bound


def _absolute_uri(value: str) -> str:
    """An RFC 3986 absolute-URI: a scheme, a non-empty hier-part, no fragment."""
    scheme, _, rest = value.partition(":")
    if not _SCHEME.match(scheme) or not rest or not _URI_CHARS.match(value):
        raise ValueError("must be an absolute URI, such as https://my-api-urn")
    if rest.startswith("//") and not urlsplit(value).netloc:
        raise ValueError("must be an absolute URI with a host after //")
    return value


def _text(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("must not contain control characters")
    return value


def _name(value: str) -> str:
    if "<" in value or ">" in value:
        raise ValueError("must not contain '<' or '>'")
    return _text(value)


def _scope_token(value: str) -> str:
    if not SCOPE_TOKEN.match(value):
        raise ValueError(
            "must be a scope token (printable ASCII; no spaces, quotes or backslashes)"
        )
    return value


def _secret(value: str) -> str:
    if not _PRINTABLE_ASCII.match(value):
        raise ValueError("must be printable ASCII without spaces")
    return value


Name = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_name)]
Description = Annotated[str, Field(max_length=500), AfterValidator(_text)]
ScopeValue = Annotated[str, Field(min_length=1, max_length=280), AfterValidator(_scope_token)]
Identifier = Annotated[str, Field(min_length=1, max_length=600), AfterValidator(_absolute_uri)]
TokenLifetime = Annotated[int, Field(ge=1, le=MAX_TOKEN_LIFETIME)]
SigningSecret = Annotated[
    str, Field(min_length=MIN_SECRET_BYTES, max_length=512), AfterValidator(_secret)
]


def _unique_values(values: list[str]) -> list[str]:
    if len(set(values)) != len(values):
        raise ValueError("a scope appears twice")
    return values


ScopeList = Annotated[list[ScopeValue], Field(max_length=1000), AfterValidator(_unique_values)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class ScopeItem(_Body):
    value: ScopeValue
    description: Description | None = None


def _unique_items(items: list[ScopeItem]) -> list[ScopeItem]:
    _unique_values([item.value for item in items])
    return items


class _WithScopes(_Body):
    scopes: (
        Annotated[list[ScopeItem], Field(max_length=1000), AfterValidator(_unique_items)] | None
    ) = None

    def scope_definitions(self) -> tuple[ScopeDefinition, ...] | None:
        """The scopes as records; None when the body does not set them."""
        if self.scopes is None:
            return None
        return tuple(ScopeDefinition(item.value, item.description) for item in self.scopes)


class ResourceServerCreate(_WithScopes):
    identifier: Identifier
    name: Name | None = None
    signing_alg: Literal["HS256"] = "HS256"
    signing_secret: SigningSecret | None = None
    token_lifetime: TokenLifetime = 86400


class ResourceServerUpdate(_WithScopes):
    name: Name | None = None
    signing_alg: Literal["HS256"] | None = None
    signing_secret: SigningSecret | None = None
    token_lifetime: TokenLifetime | None = None


class ClientCreate(_Body):
    name: Name
    description: Annotated[Description, Field(max_length=140)] | None = None
    app_type: Literal["non_interactive"] = "non_interactive"


class ClientUpdate(_Body):
    name: Name | None = None
    description: Annotated[Description, Field(max_length=140)] | None = None


class ClientGrantCreate(_Body):
    client_id: Annotated[str, Field(min_length=1, max_length=128)]
    audience: Annotated[str, Field(min_length=1, max_length=600)]
    scope: ScopeList


class ClientGrantUpdate(_Body):
    scope: ScopeList


def _describe(exc: ValidationError) -> str:
    """Auth0's wording for the first problem, e.g. ``Payload validation error: '...'``."""
    error = exc.errors(include_url=False, include_input=False, include_context=False)[0]
    path = ".".join(str(part) for part in error["loc"])
    if error["type"] == "extra_forbidden":
        return f"Payload validation error: 'Additional properties not allowed: {safe_text(path)}'."
    if error["type"] == "missing":
        return f"Payload validation error: 'Missing required property: {safe_text(path)}'."
    message = str(error["msg"]).removeprefix("Value error, ")
    if not path:
        return f"Payload validation error: '{safe_text(message)}'."
    return f"Payload validation error: '{safe_text(message)}' on property {safe_text(path)}."


def parse_body(model: type[M], data: Any) -> M:
    """Validate ``data`` (parsed JSON) as ``model``.

    Raises:
        ManagementApiError: 400 ``invalid_body`` naming the first problem.
    """
    if not isinstance(data, dict):
        raise bad_request("Payload validation error: 'Expected type object'.")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise bad_request(_describe(exc)) from None
