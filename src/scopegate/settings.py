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

import importlib
import ipaddress
import json
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

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

from scopegate.errors import ConfigurationError, MissingExtraError, is_safe_realm
from scopegate.settings_dpop import (
    DefaultDPoPMode,
    check_dpop_algorithms,
    check_public_base_url,
    check_replay_store,
    resolve_mode,
)

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

ENV_PREFIX = "SCOPEGATE_"
# The one HMAC table. RFC 7518 §3.2: a key of the same size as the hash output (256 bits
# for HS256) or larger. The secret is shared, so only these algorithms verify with it;
# PyJWT's own table gives each name its hash (scopegate.verifier).
SECRET_BYTES_NEEDED = {"HS256": 32, "HS384": 48, "HS512": 64}
HMAC_ALGORITHMS = tuple(SECRET_BYTES_NEEDED)
# Verified with a public key from jwks_uri, discovery or public_key (scopegate.jwk owns the rules).
ASYMMETRIC_ALGORITHMS = (
    *("RS256", "RS384", "RS512", "PS256", "PS384", "PS512"),
    *("ES256", "ES384", "ES512", "EdDSA"),
)
JWKS_EXTRA = "pip install 'scopegate[jwks]'"
MIN_SECRET_BYTES = SECRET_BYTES_NEEDED["HS256"]
# "default": what Auth0 issues by default; "rfc9068": RFC 9068 §2 and §4, enforced.
TOKEN_PROFILES = ("default", "rfc9068")


def env_name(setting: str) -> str:
    """The environment variable that sets ``setting``."""
    return ENV_PREFIX + setting.upper()


_NO_KEY = (
    f"is required, unless tokens are verified with a public key from {env_name('jwks_uri')}, "
    f"{env_name('public_key')} or {env_name('issuer')} (discovery)"
)


class _DefaultAlgorithms(list[str]):
    """The unset ``algorithms``: replaced by the default for the configured keys."""


def _require(module: str, why: str) -> None:
    try:
        importlib.import_module(module)
    except ImportError:
        raise MissingExtraError(f"scopegate: {why} needs {module}: {JWKS_EXTRA}") from None


def _is_loopback(host: str | None) -> bool:
    if host is None:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def insecure_url_problem(url: str, *, allow_insecure: bool) -> str | None:
    """Why ``url`` may not be used to fetch keys; None when it may.

    https always; http only for a loopback host (the local authorization
    server, tests) or when ``allow_insecure_jwks`` is set.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return "must be an absolute https URL"
    if parts.scheme == "http" and not (allow_insecure or _is_loopback(parts.hostname)):
        return (
            "must use https (http is accepted only for a loopback host, or with "
            f"{env_name('allow_insecure_jwks')}=true)"
        )
    return None


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
        default_factory=_DefaultAlgorithms,
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

    # DPoP (RFC 9449): sender-constrained tokens; scopegate.settings_dpop holds the rules.
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
            raise ConfigurationError(_describe(exc)) from None

    @classmethod
    def explicit(cls, **values: Any) -> Settings:
        """Settings from ``values`` and the defaults only: no environment, no ``.env`` file.

        What the testing toolkit, the local authorization server and the demo
        use, so nothing on the machine changes their configuration.

        Example::

            Settings.explicit(signing_secret=secret, identifier="https://my-api-urn")
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
        if not value.strip():
            raise ValueError("must not be empty")
        return value

    @field_validator("jwks_uri")
    @classmethod
    def _check_jwks_uri(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None:
            allow = bool(info.data.get("allow_insecure_jwks"))
            if problem := insecure_url_problem(value, allow_insecure=allow):
                raise ValueError(problem)
        return value

    @field_validator("public_key")
    @classmethod
    def _check_public_key(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None:
            if info.data.get("jwks_uri"):
                raise ValueError(f"and {env_name('jwks_uri')} are two key sources; set one of them")
            _require("cryptography", f"{env_name('public_key')}")
            from scopegate.jwk import parse_static_key

            parse_static_key(value)
        return value

    @field_validator("algorithms", mode="before")
    @classmethod
    def _default_algorithms(cls, value: Any, info: ValidationInfo) -> Any:
        if not isinstance(value, _DefaultAlgorithms):
            return value
        if not {"jwks_uri", "public_key"} <= info.data.keys():
            return ["RS256"]  # a key source was given but is invalid: that error is enough
        if "signing_secret" not in info.data:
            return ["HS256"]  # a secret was given but is invalid: that error is enough
        secret = info.data.get("signing_secret") is not None
        keys = any(info.data.get(name) for name in ("jwks_uri", "public_key"))
        if not secret and not keys and info.data.get("issuer") is None:
            raise ValueError(f"signing_secret: {_NO_KEY}")
        discovery = not secret and not keys and info.data.get("issuer") is not None
        if secret and keys:
            raise ValueError(
                "must be set when both signing_secret and a key source (jwks_uri or "
                "public_key) are: each algorithm verifies with its own kind of key"
            )
        return ["RS256"] if keys or discovery else ["HS256"]

    @field_validator("algorithms")
    @classmethod
    def _check_algorithms(cls, value: list[str], info: ValidationInfo) -> list[str]:
        if not value:
            raise ValueError("must name at least one algorithm")
        known = (*HMAC_ALGORITHMS, *ASYMMETRIC_ALGORITHMS)
        for alg in value:
            if alg.lower() == "none":
                raise ValueError("'none' is never accepted: tokens must be signed")
            if alg not in known:
                raise ValueError(f"unknown algorithm {alg!r}; known: " + ", ".join(known))
        value = list(dict.fromkeys(value))
        data = info.data
        hmac = [alg for alg in value if alg in HMAC_ALGORITHMS]
        secret: SecretStr | None = data.get("signing_secret")
        if hmac and "signing_secret" in data and secret is None:  # else invalid, and said so
            raise ValueError(
                f"{', '.join(hmac)} needs {env_name('signing_secret')} "
                "(an HMAC algorithm verifies only with the shared secret)"
            )
        if hmac and secret is not None:
            # Checked here, not on the secret, so it is reported beside every other error.
            length, needed = len(secret.get_secret_value().encode()), _secret_bytes_needed(hmac)
            if length < needed and not data.get("allow_weak_secret", False):
                raise ValueError(
                    f"signing_secret: is {length} bytes; HMAC keys need at least {needed} "
                    f"(RFC 7518 section 3.2). Set {env_name('allow_weak_secret')}=true to "
                    "accept it anyway"
                )
        asymmetric = [alg for alg in value if alg not in HMAC_ALGORITHMS]
        if asymmetric and {"jwks_uri", "public_key"} <= data.keys():
            source = data.get("jwks_uri") or data.get("public_key") or data.get("issuer")
            if not source:
                raise ValueError(
                    f"{', '.join(asymmetric)} needs a key source: {env_name('jwks_uri')}, "
                    f"{env_name('public_key')} or {env_name('issuer')} (discovery)"
                )
            _require("cryptography", ", ".join(asymmetric))
            if not data.get("public_key"):
                _require("httpx", f"fetching keys for {', '.join(asymmetric)}")
        return value

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
        if not is_safe_realm(value):
            raise ValueError('must be printable ASCII without quotes (") or backslashes')
        return value

    @field_validator("public_paths")
    @classmethod
    def _check_public_paths(cls, value: list[str]) -> list[str]:
        for path in value:
            if not path.startswith("/"):
                raise ValueError(f"{path!r} is not a path: public paths start with /")
        return list(dict.fromkeys(value))

    @field_validator("signing_secret", "dpop_nonce_secret")
    @classmethod
    def _check_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value():
            raise ValueError("must not be empty")
        return value

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
        return _secret_bytes_needed(self.algorithms)

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


def _secret_bytes_needed(algorithms: list[str]) -> int:
    return max(
        (SECRET_BYTES_NEEDED[alg] for alg in algorithms if alg in HMAC_ALGORITHMS), default=0
    )


def _describe(exc: ValidationError) -> str:
    """A message naming each bad setting and its variable, without any input value."""
    lines = []
    for error in exc.errors(include_input=False, include_url=False):
        message = str(error["msg"]).removeprefix("Value error, ")
        field, _, rest = message.partition(": ")
        if error["loc"] and field not in Settings.model_fields:
            field = str(error["loc"][0])
        elif error["loc"]:  # a check on one field that is about another it depends on
            message = rest
        else:  # a model-level check: the message starts with the field name
            field, _, message = message.partition(": ")
        if error["type"] == "missing":
            message = "is required"
        lines.append(f"{field} ({env_name(field)}): {message}")
    return "Invalid scopegate settings:\n  " + "\n  ".join(lines)
