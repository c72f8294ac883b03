"""Request bodies of the Management API: strict pydantic models.

Types are strict (``"3600"`` is not an integer, ``1`` is not a string),
unknown properties are refused (which is how a PATCH that names the
``identifier`` fails), and every failure becomes one Auth0-style 400
``invalid_body`` naming the first offending property, never its value.

The documented fields of Auth0's objects are accepted. Those that mean
something here are stored and returned (:meth:`_Body.settings` lists the ones
kept as given); a value this server cannot honour (``app_type`` other than
``non_interactive``, ``grant_types`` beyond ``client_credentials``, a
``signing_alg`` other than RS256 or HS256) is
a 400 that says why; the fields about interactive logins (``callbacks``,
``allowed_origins``, ``logo_uri``...) are accepted and ignored, since a
machine-to-machine client never uses them.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, ClassVar, TypeVar
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    ValidationError,
    model_validator,
)

from scopegate._scopes import is_scope_token
from scopegate._settings import MIN_SECRET_BYTES
from scopegate.authserver.errors import bad_request, safe_text
from scopegate.authserver.storage.records import ProofOfPossession, ScopeDefinition

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
    if not is_scope_token(value):
        raise ValueError(
            "must be a scope token (printable ASCII; no spaces, quotes or backslashes)"
        )
    return value


def _only(allowed: tuple[str, ...], why: str) -> Any:
    def check(value: str) -> str:
        if value not in allowed:
            raise ValueError(why)
        return value

    return AfterValidator(check)


def _grant_types(values: list[str]) -> list[str]:
    if set(values) != {"client_credentials"}:
        raise ValueError(
            "this server issues tokens with the client_credentials grant only: "
            'grant_types must be ["client_credentials"]'
        )
    return values


def _metadata(values: dict[str, str]) -> dict[str, str]:
    if len(values) > 10 or any(len(k) > 255 or len(v) > 255 for k, v in values.items()):
        raise ValueError("at most 10 keys, each key and value up to 255 characters")
    return values


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


SigningAlg = Annotated[
    str,
    _only(("RS256", "HS256"), "this server signs tokens with RS256 or HS256 only"),
]
AppType = Annotated[
    str,
    _only(
        ("non_interactive",),
        "this server has machine-to-machine clients only: app_type must be non_interactive",
    ),
]
GrantTypes = Annotated[list[str], Field(max_length=20), AfterValidator(_grant_types)]
AuthMethod = Annotated[
    str,
    _only(
        ("client_secret_post", "client_secret_basic"),
        "the token endpoint authenticates clients with their secret only: "
        "client_secret_post or client_secret_basic",
    ),
]
TokenDialect = Annotated[
    str,
    _only(("access_token",), "tokens carry scope only here: token_dialect must be access_token"),
]
Metadata = Annotated[dict[str, str], AfterValidator(_metadata)]
PopMechanism = Annotated[
    str,
    _only(
        ("dpop", "none"),
        "this server sender-constrains tokens with DPoP only: mechanism must be dpop or none",
    ),
]
PopRequiredFor = Annotated[
    str,
    _only(("all_clients", "public_clients"), "required_for must be all_clients or public_clients"),
]
Ignored = JsonValue | None


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)
    # Fields stored as given and returned in the object's JSON.
    SETTINGS: ClassVar[tuple[str, ...]] = ()

    def settings(self) -> dict[str, Any]:
        """The stored-as-given fields this body sets."""
        return {
            name: getattr(self, name)
            for name in self.SETTINGS
            if name in self.model_fields_set and getattr(self, name) is not None
        }


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


class ProofOfPossessionBody(_Body):
    """Auth0's ``proof_of_possession``: ``{"mechanism", "required", "required_for"}``."""

    mechanism: PopMechanism
    required: bool
    required_for: PopRequiredFor | None = None

    @model_validator(mode="after")
    def _required_needs_a_mechanism(self) -> ProofOfPossessionBody:
        if self.required and self.mechanism == "none":
            raise ValueError("required sender constraining needs a mechanism: dpop")
        return self

    def record(self) -> ProofOfPossession:
        return ProofOfPossession(self.mechanism, self.required, self.required_for)


class _ResourceServerSettings(_WithScopes):
    SETTINGS = (
        "allow_offline_access",
        "skip_consent_for_verifiable_first_party_clients",
        "token_lifetime_for_web",
        "enforce_policies",
        "token_dialect",
    )
    allow_offline_access: bool | None = None
    skip_consent_for_verifiable_first_party_clients: bool | None = None
    token_lifetime_for_web: TokenLifetime | None = None
    enforce_policies: bool | None = None
    token_dialect: TokenDialect | None = None
    proof_of_possession: ProofOfPossessionBody | None = None

    def pop_record(self) -> ProofOfPossession | None:
        """The policy this body sets; None when it sets none (or removes it)."""
        return None if self.proof_of_possession is None else self.proof_of_possession.record()

    @property
    def removes_pop(self) -> bool:
        """Whether the body says ``"proof_of_possession": null`` (Auth0's way to remove it)."""
        return "proof_of_possession" in self.model_fields_set and self.proof_of_possession is None


class ResourceServerCreate(_ResourceServerSettings):
    identifier: Identifier
    name: Name | None = None
    # RS256 unless told, as on Auth0; HS256 APIs sign with their signing_secret.
    signing_alg: SigningAlg = "RS256"
    signing_secret: SigningSecret | None = None
    token_lifetime: TokenLifetime = 86400


class ResourceServerUpdate(_ResourceServerSettings):
    name: Name | None = None
    signing_alg: SigningAlg | None = None
    signing_secret: SigningSecret | None = None
    token_lifetime: TokenLifetime | None = None


class _ClientSettings(_Body):
    SETTINGS = ("is_first_party", "token_endpoint_auth_method", "client_metadata")
    description: Annotated[Description, Field(max_length=140)] | None = None
    app_type: AppType | None = None
    grant_types: GrantTypes | None = None
    is_first_party: bool | None = None
    token_endpoint_auth_method: AuthMethod | None = None
    client_metadata: Metadata | None = None
    # Field declarations (duplicates pairs them by shape, and with demo/flow.py's DemoContext):
    # pydantic declares one field a line.
    # Documented, about interactive logins: accepted, not used by a machine client.
    callbacks: Ignored = None
    allowed_origins: Ignored = None
    web_origins: Ignored = None
    allowed_logout_urls: Ignored = None
    allowed_clients: Ignored = None
    logo_uri: Ignored = None
    oidc_conformant: Ignored = None
    sso: Ignored = None
    sso_disabled: Ignored = None
    cross_origin_authentication: Ignored = None
    jwt_configuration: Ignored = None
    custom_login_page_on: Ignored = None
    initiate_login_uri: Ignored = None


class ClientCreate(_ClientSettings):
    name: Name


class ClientUpdate(_ClientSettings):
    name: Name | None = None


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
