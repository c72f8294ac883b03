"""Settings: what the resource server is and which tokens it accepts.

Read from keyword arguments, ``SCOPEGATE_*`` environment variables and an
``.env`` file in the working directory, in that order of precedence
(:meth:`Settings.explicit` reads keyword arguments only). Every option of every
adapter lives here, including the request policy (``public_paths``,
``auth_required``, ``allow_query_token``), so one environment configures a
FastAPI, a Starlette and a Flask app alike. Validated once, at construction;
the problems raise one :class:`~scopegate.errors.ConfigurationError` that
names every bad setting and its environment variable, never the value of a
secret.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from scopegate.errors import SCOPE_TOKEN, ConfigurationError

__all__ = [
    "ENV_PREFIX",
    "HMAC_ALGORITHMS",
    "MIN_SECRET_BYTES",
    "SECRET_BYTES_NEEDED",
    "TOKEN_PROFILES",
    "Settings",
    "env_name",
    "split_list",
]

ENV_PREFIX = "SCOPEGATE_"
# The secret is shared, so only HMAC algorithms can verify with it.
HMAC_ALGORITHMS = ("HS256", "HS384", "HS512")
# RFC 7518 §3.2: a key of the same size as the hash output (256 bits for HS256) or larger.
SECRET_BYTES_NEEDED = {"HS256": 32, "HS384": 48, "HS512": 64}
MIN_SECRET_BYTES = SECRET_BYTES_NEEDED["HS256"]
# "default": what Auth0 issues by default; "rfc9068": RFC 9068 §2 and §4, enforced.
TOKEN_PROFILES = ("default", "rfc9068")


def env_name(setting: str) -> str:
    """The environment variable that sets ``setting``."""
    return ENV_PREFIX + setting.upper()


def split_list(value: Any) -> Any:
    """The list rule of every list setting: ``a,b``, ``a b`` or a JSON array.

    A string is always a list of items, never a list of characters; any other
    value is left for pydantic to validate.
    """
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            return json.loads(text)
        return [item for item in text.replace(",", " ").split() if item]
    return value


# Set while Settings.explicit() builds an instance: only keyword arguments count then.
_EXPLICIT: ContextVar[bool] = ContextVar("scopegate_explicit_settings", default=False)


@contextmanager
def _explicit() -> Iterator[None]:
    reset = _EXPLICIT.set(True)
    try:
        yield
    finally:
        _EXPLICIT.reset(reset)


class Settings(BaseSettings):
    """The configuration of one protected API.

    Example:
        >>> Settings(signing_secret="FF1prn9UxZotnFEfPVwEJhqqyRmwdSu5", identifier="https://my-api-urn")
    """

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        frozen=True,
    )

    identifier: str = Field(description="The API identifier: the audience every token must carry.")
    issuer: str | None = Field(
        default=None, description="When set, the exact `iss` every token must carry."
    )
    algorithms: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["HS256"],
        description="Signing algorithms accepted; never taken from the token.",
    )
    allow_weak_secret: bool = Field(
        default=False,
        description=(
            "Accept a signing secret shorter than the hash (32 bytes for HS256, 48 for HS384, "
            "64 for HS512), which RFC 7518 §3.2 forbids."
        ),
    )
    # After algorithms and allow_weak_secret: its length check reads them.
    signing_secret: SecretStr = Field(
        description="The API's signing secret (the HS256 key shared with the authorization server)."
    )
    leeway: float = Field(
        default=5.0,
        ge=0,
        le=300,
        description="Seconds of clock skew allowed on `exp`, `nbf` and `iat`.",
    )
    scope_claims: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["scope"],
        description="Claims whose values are the granted scopes (e.g. add `permissions`).",
    )
    realm: str = Field(default="api", description="The realm named in WWW-Authenticate.")
    max_token_bytes: int = Field(
        default=8192,
        ge=256,
        le=1_048_576,
        description="Largest token (and Authorization header) accepted, in bytes.",
    )

    token_profile: Literal["default", "rfc9068"] = Field(
        default="default",
        description=(
            "`rfc9068` enforces the JWT access-token profile of RFC 9068: `typ` `at+jwt` and "
            "`iss`, `exp`, `aud`, `sub`, `client_id`, `iat` and `jti` required."
        ),
    )
    required_claims: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Claims every token must carry (a list, or comma- or space-separated).",
    )
    claim_values: Annotated[dict[str, list[str]], NoDecode] = Field(
        default_factory=dict,
        description=(
            "Claims that must equal one of the given strings, e.g. "
            '`{"gty": ["client-credentials"]}` (a JSON object in the environment).'
        ),
    )

    cache_maxsize: int = Field(
        default=10_000,
        ge=0,
        le=10_000_000,
        description="Verified tokens kept in memory; 0 turns the cache off.",
    )
    cache_ttl: float = Field(
        default=600.0,
        gt=0,
        description="Most seconds a verified token stays cached (never past its `exp`).",
    )

    # The request policy, shared by every adapter.
    public_paths: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Exact paths served without any token check (e.g. `/health,/docs`).",
    )
    auth_required: bool = Field(
        default=True,
        description=(
            "Reject requests without a token (401). When false they pass as anonymous and "
            "route guards decide; a bad token is still rejected."
        ),
    )
    allow_query_token: bool = Field(
        default=False,
        description="Also accept `?access_token=` (RFC 6750 §2.3); off: URLs end up in logs.",
    )

    def __init__(self, **values: Any) -> None:
        try:
            super().__init__(**values)
        except ValidationError as exc:
            raise ConfigurationError(_describe(exc)) from None

    @classmethod
    def explicit(cls, **values: Any) -> Settings:
        """Settings from ``values`` and the defaults only: no environment, no ``.env`` file.

        What the testing toolkit, the local authorization server and the demo
        use, so nothing on the machine changes their configuration.

        Example:
            >>> Settings.explicit(signing_secret=secret, identifier="https://my-api-urn")
        """
        with _explicit():
            return cls(**values)

    def replace(self, **changes: Any) -> Settings:
        """A copy with ``changes`` applied, validated again; the environment is not read."""
        if not changes:
            return self
        return type(self).explicit(**{**dict(self), **changes})

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        if _EXPLICIT.get():
            return (init_settings,)
        return (init_settings, env_settings, dotenv_settings, file_secret_settings)

    @field_validator("algorithms", "scope_claims", "public_paths", "required_claims", mode="before")
    @classmethod
    def _parse_list(cls, value: Any) -> Any:
        return split_list(value)

    @field_validator("identifier")
    @classmethod
    def _check_identifier(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        return value

    @field_validator("algorithms")
    @classmethod
    def _check_algorithms(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("must name at least one algorithm")
        for alg in value:
            if alg.lower() == "none":
                raise ValueError("'none' is never accepted: tokens must be signed")
            if alg not in HMAC_ALGORITHMS:
                raise ValueError(
                    f"unknown algorithm {alg!r}; a signing secret verifies only "
                    + ", ".join(HMAC_ALGORITHMS)
                )
        return list(dict.fromkeys(value))

    @field_validator("scope_claims")
    @classmethod
    def _check_scope_claims(cls, value: list[str]) -> list[str]:
        if not value or not all(name.strip() for name in value):
            raise ValueError("must name at least one claim")
        return value

    @field_validator("token_profile", mode="before")
    @classmethod
    def _fold_profile(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("required_claims")
    @classmethod
    def _check_required_claims(cls, value: list[str]) -> list[str]:
        if not all(name.strip() for name in value):
            raise ValueError("claim names must not be empty")
        return list(dict.fromkeys(value))

    @field_validator("claim_values", mode="before")
    @classmethod
    def _parse_claim_values(cls, value: Any) -> Any:
        if isinstance(value, str):
            try:
                return json.loads(value) if value.strip() else {}
            except ValueError:
                raise ValueError(
                    'must be a JSON object, e.g. {"gty": ["client-credentials"]}'
                ) from None
        return value

    @field_validator("claim_values")
    @classmethod
    def _check_claim_values(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for name, allowed in value.items():
            if not name.strip():
                raise ValueError("claim names must not be empty")
            if not allowed:
                raise ValueError(f"{name!r} needs at least one accepted value")
        return value

    @field_validator("realm")
    @classmethod
    def _check_realm(cls, value: str) -> str:
        if not value or not all(SCOPE_TOKEN.match(part) for part in value.split(" ")):
            raise ValueError('must be printable ASCII without quotes (") or backslashes')
        return value

    @field_validator("public_paths")
    @classmethod
    def _check_public_paths(cls, value: list[str]) -> list[str]:
        for path in value:
            if not path.startswith("/"):
                raise ValueError(f"{path!r} is not a path: public paths start with /")
        return list(dict.fromkeys(value))

    # A field validator, not a model one, so it runs (and is reported) beside
    # the other fields' errors; algorithms and allow_weak_secret come first.
    @field_validator("signing_secret")
    @classmethod
    def _check_secret(cls, value: SecretStr, info: ValidationInfo) -> SecretStr:
        secret = value.get_secret_value().encode("utf-8")
        if not secret:
            raise ValueError("must not be empty")
        algorithms = info.data.get("algorithms")
        if algorithms is None:  # invalid itself, and reported as such
            return value
        needed = _secret_bytes_needed(algorithms)
        if len(secret) < needed and not info.data.get("allow_weak_secret", False):
            raise ValueError(
                f"is {len(secret)} bytes; HMAC keys need at least {needed} "
                f"(RFC 7518 section 3.2). Set {env_name('allow_weak_secret')}=true to accept "
                "it anyway"
            )
        return value

    @property
    def secret_bytes_needed(self) -> int:
        """The shortest secret RFC 7518 §3.2 allows for the configured algorithms."""
        return _secret_bytes_needed(self.algorithms)

    @property
    def secret_is_weak(self) -> bool:
        """True when the secret is shorter than :attr:`secret_bytes_needed`."""
        return len(self.secret_bytes) < self.secret_bytes_needed

    @property
    def secret_bytes(self) -> bytes:
        """The signing secret as the HMAC key bytes (UTF-8)."""
        return self.signing_secret.get_secret_value().encode("utf-8")


def _secret_bytes_needed(algorithms: list[str]) -> int:
    return max(SECRET_BYTES_NEEDED[alg] for alg in algorithms)


def _describe(exc: ValidationError) -> str:
    """A message naming each bad setting and its variable, without any input value."""
    lines = []
    for error in exc.errors(include_input=False, include_url=False):
        message = str(error["msg"]).removeprefix("Value error, ")
        field = str(error["loc"][0]) if error["loc"] else "settings"
        if error["type"] == "missing":
            message = "is required"
        lines.append(f"{field} ({env_name(field)}): {message}")
    return "Invalid scopegate settings:\n  " + "\n  ".join(lines)
