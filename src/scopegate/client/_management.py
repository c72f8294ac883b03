"""``ManagementClient``: APIs, clients, grants and signing keys through a Management API.

It speaks the subset of Auth0's Management API v2 that the API Authorization
scenario needs, so it works the same against ``scopegate authserver`` and a
real Auth0 tenant::

    with ManagementClient.with_client_credentials("http://127.0.0.1:8787", ID, SECRET) as m:
        api = m.create_resource_server("https://my-api-urn", name="My Sample API",
                                       scopes=["sample-scope"])
        app = m.create_client("My M2M App")
        m.create_client_grant(app["client_id"], api["identifier"], ["sample-scope"])

Answers are the server's JSON, as dicts. A refusal raises :class:`ManagementError`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import Any

import httpx

from scopegate.client._auth import ClientCredentialsAuth
from scopegate.client._errors import ManagementError
from scopegate.client._payload import (
    JSONObject,
    base_url_of,
    path_segment,
    scope_definitions,
    scope_list,
    without_none,
)

__all__ = ["JSONObject", "ManagementClient", "base_url_of"]

# Auth0's largest page; the local server's too.
_PER_PAGE = 100


class ManagementClient:
    """A synchronous client of a Management API (``<base URL>/api/v2``).

    Args:
        base_url: the server, e.g. ``http://127.0.0.1:8787`` or ``https://TENANT.auth0.com``
            (a bare domain means https).
        token: a Management API access token, sent as a bearer token.
        auth: any ``httpx.Auth`` instead, e.g. a :class:`ClientCredentialsAuth`.
        **httpx_options: passed to ``httpx.Client`` (``timeout``, ``transport``,
            ``event_hooks``, ``verify``...).

    Raises:
        ConfigurationError: ``base_url`` is not a server URL.

    Example::

        with ManagementClient("https://TENANT.auth0.com", token=MANAGEMENT_TOKEN) as m:
            m.list_resource_servers()
    """

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        auth: httpx.Auth | None = None,
        **httpx_options: Any,
    ) -> None:
        if token is not None and auth is not None:
            raise ValueError("give a token or an auth, not both")
        self.base_url = base_url_of(base_url)
        headers = {"Accept": "application/json"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        httpx_options.setdefault("timeout", 10.0)
        self._http = httpx.Client(
            base_url=self.base_url + "/api/v2/", headers=headers, auth=auth, **httpx_options
        )

    @classmethod
    def with_client_credentials(
        cls, domain_or_base_url: str, client_id: str, client_secret: str, **httpx_options: Any
    ) -> ManagementClient:
        """A client that gets its own Management API token (audience ``<base URL>/api/v2/``).

        The application needs a grant for the Management API with the scopes the
        calls use (``create:resource_servers``, ``read:clients``...).
        """
        base = base_url_of(domain_or_base_url)
        auth = ClientCredentialsAuth(
            f"{base}/oauth/token", client_id, client_secret, audience=f"{base}/api/v2/"
        )
        return cls(base, auth=auth, **httpx_options)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ManagementClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # Shaped like DPoPKey.__repr__ (duplicates pairs them): names only, never a secret.
    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.base_url!r})"

    # -- plumbing ----------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        *,
        json: JSONObject | None = None,
        params: Mapping[str, str | int] | None = None,
        shape: type[dict[str, Any]] | type[list[Any]] | None = dict,
    ) -> Any:
        """The answer's JSON, checked to be of ``shape`` (None: an empty answer is fine)."""
        response = self._http.request(method, path, json=json, params=params)
        try:
            body = response.json() if response.content else None
        except ValueError:
            body = None
        if response.is_error:
            raise ManagementError.from_body(response.status_code, body, response.reason_phrase)
        if shape is not None and not isinstance(body, shape):
            kind = "object" if shape is dict else "array"
            raise ManagementError(
                response.status_code, "invalid_response", f"the answer is not a JSON {kind}"
            )
        return body

    def _object(self, method: str, path: str, json: JSONObject | None = None) -> JSONObject:
        body: JSONObject = self._call(method, path, json=json)
        return body

    def _delete(self, path: str) -> None:
        self._call("DELETE", path, shape=None)

    def _list(self, path: str, **filters: str | None) -> list[JSONObject]:
        """Every item, page by page."""
        items: list[JSONObject] = []
        params: dict[str, str | int] = {
            name: value for name, value in filters.items() if value is not None
        }
        page = 0
        while True:
            body = self._call(
                "GET", path, params={**params, "page": page, "per_page": _PER_PAGE}, shape=list
            )
            items.extend(body)
            if len(body) < _PER_PAGE:
                return items
            page += 1

    # -- resource servers (APIs) -------------------------------------------

    def create_resource_server(
        self,
        identifier: str,
        *,
        name: str | None = None,
        scopes: Iterable[str | Mapping[str, str]] = (),
        token_lifetime: int | None = None,
        signing_secret: str | None = None,
        signing_alg: str = "HS256",
        proof_of_possession: Mapping[str, Any] | None = None,
    ) -> JSONObject:
        """Register an API; the answer holds its ``id`` and ``signing_secret``.

        ``scopes`` are scope names (a string may hold several, space-separated)
        or ``{"value": ..., "description": ...}`` objects. ``proof_of_possession``
        is Auth0's sender-constraining policy, e.g. ``{"mechanism": "dpop",
        "required": True}`` (tokens for the API only with a DPoP proof).
        """
        body = without_none(
            identifier=identifier,
            name=name,
            signing_alg=signing_alg,
            signing_secret=signing_secret,
            token_lifetime=token_lifetime,
            proof_of_possession=None if proof_of_possession is None else dict(proof_of_possession),
        )
        definitions = scope_definitions(scopes)
        if definitions:
            body["scopes"] = definitions
        return self._object("POST", "resource-servers", body)

    # One method per Management API endpoint (duplicates pairs them by shape); the shared steps
    # are _object and _list.
    def list_resource_servers(self) -> list[JSONObject]:
        return self._list("resource-servers")

    def get_resource_server(self, id_or_identifier: str) -> JSONObject:
        """One API, by its ``id`` or its identifier (audience)."""
        return self._object("GET", f"resource-servers/{path_segment(id_or_identifier)}")

    def update_resource_server(
        self,
        id_or_identifier: str,
        *,
        name: str | None = None,
        scopes: Iterable[str | Mapping[str, str]] | None = None,
        token_lifetime: int | None = None,
        signing_secret: str | None = None,
        proof_of_possession: Mapping[str, Any] | None = None,
        remove_proof_of_possession: bool = False,
    ) -> JSONObject:
        """Change an API; ``scopes`` replaces the whole list. None leaves a field as it is.

        ``proof_of_possession`` replaces the sender-constraining policy;
        ``remove_proof_of_possession`` drops it (Auth0's ``"proof_of_possession": null``).
        """
        if proof_of_possession is not None and remove_proof_of_possession:
            raise ValueError("give proof_of_possession or remove_proof_of_possession, not both")
        body = without_none(name=name, token_lifetime=token_lifetime, signing_secret=signing_secret)
        if scopes is not None:
            body["scopes"] = scope_definitions(scopes)
        if proof_of_possession is not None:
            body["proof_of_possession"] = dict(proof_of_possession)
        elif remove_proof_of_possession:
            body["proof_of_possession"] = None
        return self._object("PATCH", f"resource-servers/{path_segment(id_or_identifier)}", body)

    def delete_resource_server(self, id_or_identifier: str) -> None:
        self._delete(f"resource-servers/{path_segment(id_or_identifier)}")

    # -- clients (applications) --------------------------------------------

    def create_client(
        self, name: str, *, description: str | None = None, app_type: str = "non_interactive"
    ) -> JSONObject:
        """Create a machine-to-machine application; the answer holds its ``client_secret``."""
        body = without_none(name=name, description=description, app_type=app_type)
        return self._object("POST", "clients", body)

    def list_clients(self) -> list[JSONObject]:
        return self._list("clients")

    def get_client(self, client_id: str) -> JSONObject:
        return self._object("GET", f"clients/{path_segment(client_id)}")

    def update_client(
        self, client_id: str, *, name: str | None = None, description: str | None = None
    ) -> JSONObject:
        body = without_none(name=name, description=description)
        return self._object("PATCH", f"clients/{path_segment(client_id)}", body)

    def delete_client(self, client_id: str) -> None:
        self._delete(f"clients/{path_segment(client_id)}")

    # -- client grants -----------------------------------------------------

    def create_client_grant(
        self, client_id: str, audience: str, scope: Iterable[str] | str
    ) -> JSONObject:
        """Let ``client_id`` get tokens for the API ``audience`` with these scopes."""
        body = {"client_id": client_id, "audience": audience, "scope": scope_list(scope)}
        return self._object("POST", "client-grants", body)

    def list_client_grants(
        self, *, audience: str | None = None, client_id: str | None = None
    ) -> list[JSONObject]:
        return self._list("client-grants", audience=audience, client_id=client_id)

    def update_client_grant(self, grant_id: str, scope: Iterable[str] | str) -> JSONObject:
        """Replace the scopes of a grant."""
        body = {"scope": scope_list(scope)}
        return self._object("PATCH", f"client-grants/{path_segment(grant_id)}", body)

    def delete_client_grant(self, grant_id: str) -> None:
        self._delete(f"client-grants/{path_segment(grant_id)}")

    # -- signing keys (RS256) ------------------------------------------------

    def list_signing_keys(self) -> list[JSONObject]:
        """Every signing key, with its ``kid``, ``cert`` and ``current``/``next``/
        ``previous``/``revoked`` flags (needs ``read:signing_keys``)."""
        keys: list[JSONObject] = self._call("GET", "keys/signing", shape=list)
        return keys

    def get_signing_key(self, kid: str) -> JSONObject:
        return self._object("GET", f"keys/signing/{path_segment(kid)}")

    def rotate_signing_key(self) -> JSONObject:
        """Make the next key current; the answer is its ``kid`` and ``cert``
        (needs ``create:signing_keys``). The previous key stays published."""
        return self._object("POST", "keys/signing/rotate")

    def revoke_signing_key(self, kid: str) -> JSONObject:
        """Take a previous key out of the JWK Set; the answer is its ``kid`` and ``cert``
        (needs ``update:signing_keys``)."""
        return self._object("PUT", f"keys/signing/{path_segment(kid)}/revoke")
