"""First start: the Management API's own resource server and a client allowed to use it.

The Management API is a row like any API (identifier ``<base URL>/api/v2/``,
its own generated signing secret, Auth0's scope names), marked as the system
API so the Management API cannot change or delete it. On the first start a
management client is created and granted every management scope; its secret
exists only in the returned :class:`ManagementCredentials`, to be shown once.
Credentials given by the operator are applied instead, on every start.

Every start also brings an older database up to date: the Management API's
scopes (``read:signing_keys``... were added later) and the management
client's grant are set again, and the tenant gets its current and next RS256
signing keys if it has none.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from scopegate._settings import MIN_SECRET_BYTES
from scopegate.authserver.credentials import (
    hash_secret,
    new_client_id,
    new_client_secret,
    new_resource_server_id,
    new_signing_secret,
)
from scopegate.authserver.signing import new_key_material
from scopegate.authserver.storage import Store
from scopegate.authserver.storage.records import (
    Client,
    ResourceServer,
    ResourceServerChanges,
    ScopeDefinition,
)
from scopegate.errors import ConfigurationError

_RESOURCES = ("clients", "client_grants", "resource_servers")
_ACTIONS = ("read", "create", "update", "delete")
# Auth0's signing key scopes: there is no delete, a key is revoked (an update).
_SIGNING_KEY_SCOPES = ("read:signing_keys", "create:signing_keys", "update:signing_keys")
MANAGEMENT_SCOPES = (
    *(f"{action}:{resource}" for resource in _RESOURCES for action in _ACTIONS),
    *_SIGNING_KEY_SCOPES,
)
_SCOPE_DEFINITIONS = tuple(
    ScopeDefinition(scope, f"{scope.split(':')[0].title()} {scope.split(':')[1].replace('_', ' ')}")
    for scope in MANAGEMENT_SCOPES
)
_CLIENT_KEY = "management_client_id"
_PRINTABLE = re.compile(r"[\x21-\x7e]+\Z")


@dataclass(frozen=True)
class ManagementCredentials:
    """How to get a Management API token.

    Attributes:
        client_id: the management client, None if it was deleted since.
        client_secret: its secret when known: created by this start or given in
            settings; None otherwise (it is stored hashed only).
        audience: the Management API identifier, ``<base URL>/api/v2/``.
        token_url: where to ask for the token.
        created: True when this start created the client (its secret is new).
    """

    client_id: str | None
    client_secret: str | None = field(repr=False)
    audience: str
    token_url: str
    created: bool = False


def _check_given(client_id: str | None, client_secret: str | None) -> None:
    if (client_id is None) != (client_secret is None):
        raise ConfigurationError(
            "management_client_id and management_client_secret go together: give both or neither"
        )
    if client_id is not None and not (_PRINTABLE.match(client_id) and len(client_id) <= 128):
        raise ConfigurationError(
            "management_client_id: must be 1 to 128 printable ASCII characters without spaces"
        )
    if client_secret is not None and not (
        _PRINTABLE.match(client_secret) and MIN_SECRET_BYTES <= len(client_secret) <= 512
    ):
        raise ConfigurationError(
            f"management_client_secret: must be {MIN_SECRET_BYTES} to 512 printable ASCII "
            "characters without spaces"
        )


def _system_api(store: Store, identifier: str) -> ResourceServer:
    system = store.resource_servers.system()
    if system is None:
        _check_free(store, identifier)
        return store.resource_servers.add(
            ResourceServer(
                id=new_resource_server_id(),
                name="Management API",
                identifier=identifier,
                signing_secret=new_signing_secret(),
                scopes=_SCOPE_DEFINITIONS,
                is_system=True,
            )
        )
    if system.identifier != identifier:
        _check_free(store, identifier)
        system = store.resource_servers.move_system(identifier)
    if system.scopes != _SCOPE_DEFINITIONS:
        changes = ResourceServerChanges(scopes=_SCOPE_DEFINITIONS)
        system = store.resource_servers.update(system.id, changes, system=True)
    return system


def _check_free(store: Store, identifier: str) -> None:
    taken = store.resource_servers.get(identifier)
    if taken is not None and not taken.is_system:
        raise ConfigurationError(
            f"base_url: the Management API identifier {identifier} is already the identifier "
            f"of the API {taken.name!r} in {store.db.path}; choose another --base-url, "
            "or delete that API first"
        )


def _check_alone(store: Store, identifier: str) -> None:
    """Moving the Management API is for a restart, never under another running instance."""
    system = store.resource_servers.system()
    if system is None or system.identifier == identifier or store.db.only_user():
        return
    raise ConfigurationError(
        f"base_url: another scopegate authserver is serving {store.db.path} with the "
        f"Management API at {system.identifier}; start this one with the same --base-url, "
        "or stop that one first"
    )


def bootstrap(
    store: Store,
    base_url: str,
    client_id: str | None = None,
    client_secret: str | None = None,
) -> tuple[ResourceServer, ManagementCredentials]:
    """Make sure the Management API and its client exist; one transaction.

    Args:
        store: the store to set up.
        base_url: the server's base URL, without a trailing slash.
        client_id: the management client to use instead of a generated one.
        client_secret: its secret (both or neither).

    Raises:
        ConfigurationError: bad given credentials.
    """
    _check_given(client_id, client_secret)
    identifier = f"{base_url}/api/v2/"
    given = client_id is not None
    # (client_id, secret, hash) to store; hashed before the write lock: scrypt is slow.
    pending: tuple[str, str, str] | None = None
    if client_id is not None and client_secret is not None:
        pending = (client_id, client_secret, hash_secret(client_secret))
    elif store.metadata.get(_CLIENT_KEY) is None:
        new_id, new_secret = new_client_id(), new_client_secret()
        pending = (new_id, new_secret, hash_secret(new_secret))
    # Made before the write lock too: RSA key generation takes a while.
    fresh = [new_key_material() for _ in range(store.signing_keys.missing())]
    try:
        _check_alone(store, identifier)
        with store.db.write():
            system, credentials = _bootstrap(store, base_url, identifier, pending, given)
            store.signing_keys.ensure(fresh)
    finally:
        store.db.shared()
    return system, credentials


def _bootstrap(
    store: Store,
    base_url: str,
    identifier: str,
    pending: tuple[str, str, str] | None,
    given: bool,
) -> tuple[ResourceServer, ManagementCredentials]:
    system = _system_api(store, identifier)
    store.grants.prune_all()
    known = store.metadata.get(_CLIENT_KEY)
    if pending is not None and (given or known is None):
        management_id, secret, secret_hash = pending
        if store.clients.get(management_id) is None:
            store.clients.add(Client(management_id, "Management API client", secret_hash))
        else:
            store.clients.set_secret(management_id, secret_hash)
        store.metadata.set(_CLIENT_KEY, management_id)
        found: str | None = management_id
    else:  # bootstrapped before (perhaps by another process just now): shown then
        found, secret = known, None
    if found is not None and store.clients.get(found) is None:
        found = None  # deleted through the API since
    if found is not None:
        store.grants.ensure(found, identifier, MANAGEMENT_SCOPES)
    credentials = ManagementCredentials(
        client_id=found,
        client_secret=secret if found is not None else None,
        audience=identifier,
        token_url=f"{base_url}/oauth/token",
        created=pending is not None and not given and found == pending[0],
    )
    return system, credentials
