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

from typing import Annotated, Any, Literal

from pydantic import (
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from scopegate._settings_dpop import (
    DefaultDPoPMode,
    check_dpop_algorithms,
    check_public_base_url,
    check_replay_store,
    resolve_mode,
)
from scopegate._settings_env import (
    ENV_PREFIX,
    describe_errors,
    env_name,
    explicit_only,
    is_explicit,
    split_list,
)
from scopegate._settings_rules import (
    ASYMMETRIC_ALGORITHMS,
    HMAC_ALGORITHMS,
    JWKS_EXTRA,
    MIN_SECRET_BYTES,
    SECRET_BYTES_NEEDED,
    TOKEN_PROFILES,
    DefaultAlgorithms,
    check_algorithms,
    check_claim_values,
    check_identifier,
    check_jwks_uri,
    check_public_key,
    check_public_paths,
    check_realm,
    check_required_claims,
    check_scope_claims,
    check_secret,
    default_algorithms,
    fold_profile,
    insecure_url_problem,
    parse_claim_values,
    secret_bytes_needed,
)
from scopegate.errors import ConfigurationError

# The names users imported from here before the rules and the environment moved out.
__all__ = [
    "ASYMMETRIC_ALGORITHMS",
    "ENV_PREFIX",
    "HMAC_ALGORITHMS",
    "JWKS_EXTRA",
    "MIN_SECRET_BYTES",
    "SECRET_BYTES_NEEDED",
    "TOKEN_PROFILES",
    "Settings",
    "env_name",
    "split_list",
]


class Settings(BaseSettings):
    """The configuration of one protected API.

    Example::

        Settings(signing_secret="FF1prn9UxZotnFEfPVwEJhqqyRmwdSu5", identifier="https://my-api-urn")
    """

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        frozen=True,
    )

    signing_secret: SecretStr | None = Field(
        default=None,
        description=(
            "The API's signing secret (the HS256 key shared with the authorization server); "
            "not needed when the tokens are verified with a public key."
        ),
    )
    identifier: str = Field(description="The API identifier: the audience every token must carry.")
    issuer: str | None = Field(
        default=None, description="When set, the exact `iss` every token must carry."
    )
    allow_insecure_jwks: bool = Field(
        default=False,
        description="Fetch keys over plain http from a host that is not a loopback address.",
    )
    jwks_uri: str | None = Field(
        default=None,
        description="The authorization server's JWK Set URL (Auth0: https://TENANT/.well-known/jwks.json).",
    )
    public_key: str | None = Field(
        default=None,
        description="A static public key instead of a URL: PEM, a JWK or a JWK Set (JSON).",
    )
    allow_weak_secret: bool = Field(
        default=False,
        description=(
            "Accept a signing secret shorter than the hash (32 bytes for HS256, 48 for HS384, "
            "64 for HS512), which RFC 7518 §3.2 forbids."
        ),
    )
    # After the key sources, the secret and allow_weak_secret: its checks read them.
    algorithms: Annotated[list[str], NoDecode] = Field(
        default_factory=DefaultAlgorithms,
        validate_default=True,
        description=(
            "Signing algorithms accepted; never taken from the token. Default: HS256 with a "
            "signing secret, RS256 with a key source (jwks_uri, public_key or issuer discovery)."
        ),
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
    jwks_cache_ttl: float = Field(
        default=600.0,
        gt=0,
        le=86_400,
        description="Most seconds the JWK Set is cached (a shorter Cache-Control max-age wins).",
    )
    jwks_refresh_cooldown: float = Field(
        default=30.0,
        ge=0,
        le=3600,
        description="Least seconds between two fetches of the JWK Set (unknown kid, outage).",
    )
    jwks_timeout: float = Field(
        default=5.0,
        gt=0,
        le=60,
        description="Most seconds one fetch of the JWK Set (or discovery document) may take.",
    )

    # DPoP (RFC 9449): sender-constrained tokens; scopegate._settings_dpop holds the rules.
    dpop: Literal["allowed", "required", "disabled"] = Field(
        default=DefaultDPoPMode("allowed"),
        validate_default=True,
        description=(
            "`allowed`: DPoP-bound tokens with a proof and bearer tokens both work; `required`: "
            "only DPoP; `disabled`: the Bearer scheme only (a DPoP-bound token is refused). "
            "Default `allowed` (`disabled` on an install without cryptography)."
        ),
    )
    dpop_algorithms: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: list(ASYMMETRIC_ALGORITHMS),
        description="JWS algorithms accepted for DPoP proofs (asymmetric; never HMAC or none).",
    )
    dpop_max_age: float = Field(
        default=300.0,
        gt=0,
        le=3600,
        description="Most seconds a DPoP proof's `iat` may lie in the past (plus the leeway).",
    )
    dpop_replay_store: str | None = Field(
        default=None,
        description=(
            "Where used proof `jti`s are remembered: unset or `memory` (one process), or a "
            "`redis://` URL shared by every worker and replica (`scopegate[redis]`)."
        ),
    )
    dpop_nonce: bool = Field(
        default=False,
        description="Require server-issued nonces in DPoP proofs (RFC 9449 §9, `use_dpop_nonce`).",
    )
    dpop_nonce_secret: SecretStr | None = Field(
        default=None,
        description=(
            "The key nonces are derived from; set the same value on every worker when nonces "
            "are on with several workers (unset: random per process)."
        ),
    )
    public_base_url: str | None = Field(
        default=None,
        description=(
            "The API's URL as clients see it (e.g. `https://api.example.com/v1`): overrides the "
            "scheme, host and root path of the URL a DPoP proof's `htu` must match."
        ),
    )

    def __init__(self, **values: Any) -> None:
        try:
            super().__init__(**values)
        except ValidationError as exc:
            raise ConfigurationError(describe_errors(exc, Settings.model_fields)) from None

    @classmethod
    def explicit(cls, **values: Any) -> Settings:
        """Settings from ``values`` and the defaults only: no environment, no ``.env`` file.

        What the testing toolkit, the local authorization server and the demo
        use, so nothing on the machine changes their configuration.

        Example::

            Settings.explicit(signing_secret=secret, identifier="https://my-api-urn")
        """
        with explicit_only():
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
        if is_explicit():
            return (init_settings,)
        return (init_settings, env_settings, dotenv_settings, file_secret_settings)

    @field_validator(
        "algorithms",
        "scope_claims",
        "public_paths",
        "required_claims",
        "dpop_algorithms",
        mode="before",
    )
    @classmethod
    def _parse_list(cls, value: Any) -> Any:
        return split_list(value)

    @field_validator("identifier")
    @classmethod
    def _check_identifier(cls, value: str) -> str:
        return check_identifier(value)

    @field_validator("jwks_uri")
    @classmethod
    def _check_jwks_uri(cls, value: str | None, info: ValidationInfo) -> str | None:
        return check_jwks_uri(value, info.data)

    @field_validator("public_key")
    @classmethod
    def _check_public_key(cls, value: str | None, info: ValidationInfo) -> str | None:
        return check_public_key(value, info.data)

    # Declarations, not a repeated rule (duplicates pairs them by shape): pydantic wants one
    # validator per field, and each is a one-line call to its rule's one owner.
    @field_validator("algorithms", mode="before")
    @classmethod
    def _default_algorithms(cls, value: Any, info: ValidationInfo) -> Any:
        return default_algorithms(value, info.data)

    @field_validator("algorithms")
    @classmethod
    def _check_algorithms(cls, value: list[str], info: ValidationInfo) -> list[str]:
        return check_algorithms(value, info.data)

    @field_validator("scope_claims")
    @classmethod
    def _check_scope_claims(cls, value: list[str]) -> list[str]:
        return check_scope_claims(value)

    @field_validator("token_profile", mode="before")
    @classmethod
    def _fold_profile(cls, value: Any) -> Any:
        return fold_profile(value)

    @field_validator("required_claims")
    @classmethod
    def _check_required_claims(cls, value: list[str]) -> list[str]:
        return check_required_claims(value)

    @field_validator("claim_values", mode="before")
    @classmethod
    def _parse_claim_values(cls, value: Any) -> Any:
        return parse_claim_values(value)

    @field_validator("claim_values")
    @classmethod
    def _check_claim_values(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        return check_claim_values(value)

    @field_validator("realm")
    @classmethod
    def _check_realm(cls, value: str) -> str:
        return check_realm(value)

    @field_validator("public_paths")
    @classmethod
    def _check_public_paths(cls, value: list[str]) -> list[str]:
        return check_public_paths(value)

    @field_validator("signing_secret", "dpop_nonce_secret")
    @classmethod
    def _check_secret(cls, value: SecretStr | None) -> SecretStr | None:
        return check_secret(value)

    @field_validator("dpop", mode="before")
    @classmethod
    def _resolve_dpop(cls, value: Any) -> Any:
        return resolve_mode(value)

    @field_validator("dpop_algorithms")
    @classmethod
    def _check_dpop_algorithms(cls, value: list[str]) -> list[str]:
        return check_dpop_algorithms(value, ASYMMETRIC_ALGORITHMS)

    @field_validator("dpop_replay_store")
    @classmethod
    def _check_replay_store(cls, value: str | None) -> str | None:
        return check_replay_store(value)

    @field_validator("public_base_url")
    @classmethod
    def _check_public_base_url(cls, value: str | None) -> str | None:
        return check_public_base_url(value)

    @model_validator(mode="after")
    def _check_discovery(self) -> Settings:
        if self.discovery_issuer is not None:
            problem = insecure_url_problem(
                self.discovery_issuer, allow_insecure=self.allow_insecure_jwks
            )
            if problem:
                raise ValueError(f"issuer: {problem} to discover the JWK Set from it")
        return self

    @property
    def dpop_offered(self) -> bool:
        """True when the DPoP scheme is accepted (``dpop`` is ``allowed`` or ``required``)."""
        return self.dpop != "disabled"

    @property
    def secret_bytes_needed(self) -> int:
        """The shortest secret RFC 7518 §3.2 allows for the configured algorithms."""
        return secret_bytes_needed(self.algorithms)

    @property
    def secret_is_weak(self) -> bool:
        """True when a secret is set and is shorter than :attr:`secret_bytes_needed`."""
        if self.signing_secret is None:
            return False
        return len(self.secret_bytes) < self.secret_bytes_needed

    @property
    def secret_bytes(self) -> bytes:
        """The signing secret as the HMAC key bytes (UTF-8); empty when there is none."""
        if self.signing_secret is None:
            return b""
        return self.signing_secret.get_secret_value().encode("utf-8")

    @property
    def asymmetric_algorithms(self) -> list[str]:
        """The configured algorithms that verify with a public key."""
        return [alg for alg in self.algorithms if alg in ASYMMETRIC_ALGORITHMS]

    @property
    def discovery_issuer(self) -> str | None:
        """The issuer whose metadata names the JWK Set, when keys come from discovery."""
        if self.asymmetric_algorithms and not self.jwks_uri and not self.public_key:
            return self.issuer
        return None

    @property
    def has_key_source(self) -> bool:
        """True when public keys can be had: ``jwks_uri``, ``public_key`` or discovery."""
        return bool(self.jwks_uri or self.public_key or self.discovery_issuer)
