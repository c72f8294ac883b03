"""What the store holds: resource servers (APIs), clients, client grants and signing keys.

Immutable records; ``to_json`` gives the Management API's representation.
``settings`` holds the documented fields that are stored and returned as
given (``allow_offline_access``, ``is_first_party``, ``client_metadata``...):
validated by the request schemas, kept as one JSON column.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from scopegate.authserver.signing import ALGORITHM, certificate_details

CLIENT_CREDENTIALS = "client_credentials"
DPOP = "dpop"


@dataclass(frozen=True, slots=True)
class ProofOfPossession:
    """An API's sender-constraining policy: Auth0's ``proof_of_possession`` object.

    ``mechanism`` is ``dpop`` (or ``none``); with ``required``, a token for the API
    is issued only to a request with a valid DPoP proof. ``required_for`` is
    Auth0's ``all_clients`` (the default) or ``public_clients``; every client
    here is confidential, so ``public_clients`` requires nothing of them.
    """

    mechanism: str
    required: bool
    required_for: str | None = None

    @property
    def dpop(self) -> bool:
        """Whether a DPoP proof sent with a token request binds the token."""
        return self.mechanism == DPOP

    @property
    def dpop_required(self) -> bool:
        """Whether a token request without a DPoP proof is refused (confidential clients)."""
        return self.dpop and self.required and self.required_for in (None, "all_clients")

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"mechanism": self.mechanism, "required": self.required}
        if self.required_for is not None:
            body["required_for"] = self.required_for
        return body


@dataclass(frozen=True, slots=True)
class ScopeDefinition:
    """One scope an API defines: its ``value`` and an optional ``description``."""

    value: str
    description: str | None = None

    def to_json(self) -> dict[str, str]:
        if self.description is None:
            return {"value": self.value}
        return {"value": self.value, "description": self.description}


@dataclass(frozen=True, slots=True)
class ResourceServer:
    """An API: the audience of its tokens and the secret that signs them.

    ``is_system`` marks the Management API itself: it cannot be changed or
    deleted through the API, and its signing secret is never shown.
    """

    id: str
    name: str
    identifier: str
    signing_secret: str = field(repr=False)
    scopes: tuple[ScopeDefinition, ...] = ()
    token_lifetime: int = 86400
    signing_alg: str = "HS256"
    is_system: bool = False
    settings: dict[str, Any] = field(default_factory=dict)
    proof_of_possession: ProofOfPossession | None = None

    @property
    def scope_values(self) -> tuple[str, ...]:
        return tuple(scope.value for scope in self.scopes)

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "identifier": self.identifier,
            "scopes": [scope.to_json() for scope in self.scopes],
            "signing_alg": self.signing_alg,
            "token_lifetime": self.token_lifetime,
            **self.settings,
        }
        if self.proof_of_possession is not None:
            body["proof_of_possession"] = self.proof_of_possession.to_json()
        if self.is_system:
            body["is_system"] = True
        elif self.signing_alg != ALGORITHM:
            # As on Auth0: an RS256 API has no secret to show (one is kept for a
            # later switch to HS256).
            body["signing_secret"] = self.signing_secret
        return body


@dataclass(frozen=True, slots=True)
class ResourceServerChanges:
    """A PATCH of a resource server: None leaves a field as it is.

    ``proof_of_possession`` is the exception: None leaves it, and
    ``remove_proof_of_possession`` (Auth0's ``"proof_of_possession": null``) drops it.
    """

    name: str | None = None
    scopes: tuple[ScopeDefinition, ...] | None = None
    token_lifetime: int | None = None
    signing_secret: str | None = None
    signing_alg: str | None = None
    settings: dict[str, Any] | None = None
    proof_of_possession: ProofOfPossession | None = None
    remove_proof_of_possession: bool = False


@dataclass(frozen=True, slots=True)
class Client:
    """A machine-to-machine application; only the hash of its secret is kept."""

    client_id: str
    name: str
    secret_hash: str = field(repr=False)
    description: str | None = None
    app_type: str = "non_interactive"
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def grant_types(self) -> tuple[str, ...]:
        return (CLIENT_CREDENTIALS,)

    def to_json(self, client_secret: str | None = None) -> dict[str, Any]:
        """The client; ``client_secret`` only in the answer to its creation."""
        body: dict[str, Any] = {"client_id": self.client_id, "name": self.name}
        if self.description is not None:
            body["description"] = self.description
        body["app_type"] = self.app_type
        body["grant_types"] = list(self.grant_types)
        body.update(self.settings)
        if client_secret is not None:
            body["client_secret"] = client_secret
        return body


@dataclass(frozen=True, slots=True)
class ClientGrant:
    """A client's permission to get tokens for one API, with these scopes."""

    id: str
    client_id: str
    audience: str
    scope: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "client_id": self.client_id,
            "audience": self.audience,
            "scope": list(self.scope),
        }


@dataclass(frozen=True, slots=True)
class ClientChanges:
    """A PATCH of a client: None leaves a field as it is; ``settings`` are merged."""

    name: str | None = None
    description: str | None = None
    settings: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Page:
    """Which slice of a list to return (Auth0's ``page`` and ``per_page``)."""

    number: int = 0
    size: int = 50

    @property
    def offset(self) -> int:
        return self.number * self.size


@dataclass(frozen=True, slots=True)
class SigningKey:
    """One of the tenant's RS256 signing keys, and where it is in its life.

    A key is made as the *next* key, becomes *current* at a rotation (it
    signs every RS256 token from then on), *previous* at the rotation after
    (still published, so tokens it signed keep verifying), and *revoked* when
    revoked (no longer published). Times are ISO 8601 UTC strings, as Auth0's.
    """

    kid: str
    private_pem: str = field(repr=False)
    cert_pem: str
    created_at: str
    current_since: str | None = None
    current_until: str | None = None
    revoked_at: str | None = None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def current(self) -> bool:
        return self.current_since is not None and self.current_until is None and not self.revoked

    @property
    def next(self) -> bool:
        return self.current_since is None and not self.revoked

    @property
    def previous(self) -> bool:
        return self.current_until is not None and not self.revoked

    def to_json(self) -> dict[str, Any]:
        """Auth0's signing key object: flags only when true, times only when set."""
        body: dict[str, Any] = {"kid": self.kid, "cert": self.cert_pem}
        body.update(certificate_details(self.cert_pem))
        for flag in ("current", "next", "previous", "revoked"):
            if getattr(self, flag):
                body[flag] = True
        for moment in ("current_since", "current_until", "revoked_at"):
            if (value := getattr(self, moment)) is not None:
                body[moment] = value
        return body
