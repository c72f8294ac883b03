"""The Management API (``/api/v2``): resource servers, clients, client grants and signing keys.

Each route needs one of Auth0's scope names (``create:resource_servers``,
``read:clients``, ...), checked by :func:`scopegate.starlette.require_scope`
behind the :class:`~scopegate.asgi.BearerAuthMiddleware` that guards the whole
API, so a missing or weak token gets scopegate's own 401 or 403. Bodies are
validated before any write, and each write is one store transaction.
"""

from __future__ import annotations

from typing import cast

from starlette.concurrency import run_in_threadpool
from starlette.endpoints import HTTPEndpoint
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from scopegate.authserver.credentials import (
    hash_secret,
    new_client_id,
    new_client_secret,
    new_resource_server_id,
    new_signing_secret,
)
from scopegate.authserver.errors import not_found
from scopegate.authserver.http.bodies import read_json
from scopegate.authserver.http.listing import (
    Query,
    checkpoint_listing,
    listing,
    query_error,
    read_query,
)
from scopegate.authserver.http.schemas import (
    ClientCreate,
    ClientGrantCreate,
    ClientGrantUpdate,
    ClientUpdate,
    ResourceServerCreate,
    ResourceServerUpdate,
    parse_body,
)
from scopegate.authserver.http.signing_keys import ROUTES as SIGNING_KEY_ROUTES
from scopegate.authserver.storage import Store
from scopegate.authserver.storage.records import (
    Client,
    ClientChanges,
    ResourceServer,
    ResourceServerChanges,
)
from scopegate.starlette import current_token, require_scope


def _store(request: Request) -> Store:
    return cast(Store, request.app.state.store)


def _no_content() -> Response:
    return Response(status_code=204)


def _caller_scopes(request: Request) -> frozenset[str]:
    """The scopes of the request's token (the guards ran, so there is one)."""
    token = current_token(request)
    return frozenset() if token is None else token.scopes


# Starlette's HTTPEndpoint: one route per path, a method per verb, and a 405
# with an Allow header listing them for any other verb.


class ResourceServerList(HTTPEndpoint):
    """``/resource-servers``."""

    @require_scope("create:resource_servers")
    async def post(self, request: Request) -> Response:
        body = parse_body(ResourceServerCreate, await read_json(request))
        server = ResourceServer(
            id=new_resource_server_id(),
            name=body.name or body.identifier,
            identifier=body.identifier,
            signing_secret=body.signing_secret or new_signing_secret(),
            scopes=body.scope_definitions() or (),
            token_lifetime=body.token_lifetime,
            signing_alg=body.signing_alg,
            settings=body.settings(),
            proof_of_possession=body.pop_record(),
        )
        await run_in_threadpool(_store(request).resource_servers.add, server)
        return JSONResponse(server.to_json(), status_code=201)

    @require_scope("read:resource_servers")
    async def get(self, request: Request) -> Response:
        query = read_query(request, ["identifiers"], fields=True, repeatable=["identifiers"])
        identifiers = query.params.get("identifiers", [])
        servers, total = await run_in_threadpool(
            _store(request).resource_servers.list, query.page, identifiers
        )
        return listing("resource_servers", [s.to_json() for s in servers], total, query)


class ResourceServerItem(HTTPEndpoint):
    """``/resource-servers/{id}``: by ``id`` or by identifier."""

    @require_scope("read:resource_servers")
    async def get(self, request: Request) -> Response:
        query = read_query(request, paging=False, fields=True)
        server = await run_in_threadpool(
            _store(request).resource_servers.get, request.path_params["id"]
        )
        if server is None:
            raise not_found("resource_server")
        return JSONResponse(query.fields.apply(server.to_json()))

    @require_scope("update:resource_servers")
    async def patch(self, request: Request) -> Response:
        body = parse_body(ResourceServerUpdate, await read_json(request))
        changes = ResourceServerChanges(
            name=body.name,
            scopes=body.scope_definitions(),
            token_lifetime=body.token_lifetime,
            signing_secret=body.signing_secret,
            signing_alg=body.signing_alg,
            settings=body.settings(),
            proof_of_possession=body.pop_record(),
            remove_proof_of_possession=body.removes_pop,
        )
        key = request.path_params["id"]
        server = await run_in_threadpool(_store(request).resource_servers.update, key, changes)
        return JSONResponse(server.to_json())

    @require_scope("delete:resource_servers")
    async def delete(self, request: Request) -> Response:
        await run_in_threadpool(_store(request).resource_servers.delete, request.path_params["id"])
        return _no_content()


_CLIENT_FILTERS = ["is_global", "is_first_party", "app_type", "external_client_id"]
_NO_SEARCH = {"q": "this server has no search; filter with app_type or is_first_party"}


class ClientList(HTTPEndpoint):
    """``/clients``."""

    @require_scope("create:clients")
    async def post(self, request: Request) -> Response:
        body = parse_body(ClientCreate, await read_json(request))
        secret = new_client_secret()
        client = Client(
            new_client_id(),
            body.name,
            hash_secret(secret),
            body.description,
            body.app_type or "non_interactive",
            body.settings(),
        )
        await run_in_threadpool(_store(request).clients.add, client)
        return JSONResponse(client.to_json(client_secret=secret), status_code=201)

    @require_scope("read:clients")
    async def get(self, request: Request) -> Response:
        query = read_query(request, _CLIENT_FILTERS, fields=True, unsupported=_NO_SEARCH)
        app_types = query.comma_list("app_type")
        # No client here is global or has an external id: those filters match none.
        none = query.boolean("is_global") is True or query.one("external_client_id") is not None
        clients, total = await run_in_threadpool(
            lambda: _store(request).clients.list(
                query.page,
                app_types=app_types,
                is_first_party=query.boolean("is_first_party"),
                none=none,
            )
        )
        return listing("clients", [client.to_json() for client in clients], total, query)


class ClientItem(HTTPEndpoint):
    """``/clients/{id}``."""

    @require_scope("read:clients")
    async def get(self, request: Request) -> Response:
        query = read_query(request, paging=False, fields=True)
        client = await run_in_threadpool(_store(request).clients.get, request.path_params["id"])
        if client is None:
            raise not_found("client")
        return JSONResponse(query.fields.apply(client.to_json()))

    @require_scope("update:clients")
    async def patch(self, request: Request) -> Response:
        body = parse_body(ClientUpdate, await read_json(request))
        changes = ClientChanges(body.name, body.description, body.settings())
        client_id = request.path_params["id"]
        client = await run_in_threadpool(_store(request).clients.update, client_id, changes)
        return JSONResponse(client.to_json())

    # Same handler as the resource servers' delete (duplicates pairs them): one REST resource
    # each; the shared steps are _store and _no_content.
    @require_scope("delete:clients")
    async def delete(self, request: Request) -> Response:
        await run_in_threadpool(_store(request).clients.delete, request.path_params["id"])
        return _no_content()


_GRANT_FILTERS = ["audience", "client_id", "allow_any_organization", "subject_type", "default_for"]


def _grants_match_none(query: Query) -> bool:
    """True for filters no grant here passes: every grant is a client's own, for any
    organization never, and the default of no group."""
    subject = query.one("subject_type")
    if subject not in (None, "client", "user"):
        raise query_error("'subject_type' must be client or user.")
    return (
        query.boolean("allow_any_organization") is True
        or subject == "user"
        or query.one("default_for") is not None
    )


class ClientGrantList(HTTPEndpoint):
    """``/client-grants``: offset pages, or checkpoints with ``from``/``take``."""

    @require_scope("create:client_grants")
    async def post(self, request: Request) -> Response:
        body = parse_body(ClientGrantCreate, await read_json(request))
        grant = await run_in_threadpool(
            _store(request).grants.add,
            body.client_id,
            body.audience,
            body.scope,
            _caller_scopes(request),
        )
        return JSONResponse(grant.to_json(), status_code=201)

    @require_scope("read:client_grants")
    async def get(self, request: Request) -> Response:
        query = read_query(request, _GRANT_FILTERS, checkpoint=True)
        grants = _store(request).grants
        audience, client_id = query.one("audience"), query.one("client_id")
        none = _grants_match_none(query)
        checkpoint = query.checkpoint
        if checkpoint is not None:
            page, next_id = await run_in_threadpool(
                lambda: grants.checkpoint(
                    checkpoint.start,
                    checkpoint.take,
                    audience=audience,
                    client_id=client_id,
                    none=none,
                )
            )
            return checkpoint_listing("client_grants", [g.to_json() for g in page], next_id, query)
        found, total = await run_in_threadpool(
            lambda: grants.search(query.page, audience=audience, client_id=client_id, none=none)
        )
        return listing("client_grants", [g.to_json() for g in found], total, query)


class ClientGrantItem(HTTPEndpoint):
    """``/client-grants/{id}``."""

    @require_scope("read:client_grants")
    async def get(self, request: Request) -> Response:
        read_query(request, paging=False)
        grant = await run_in_threadpool(_store(request).grants.get, request.path_params["id"])
        return JSONResponse(grant.to_json())

    @require_scope("update:client_grants")
    async def patch(self, request: Request) -> Response:
        body = parse_body(ClientGrantUpdate, await read_json(request))
        grant = await run_in_threadpool(
            _store(request).grants.update,
            request.path_params["id"],
            body.scope,
            _caller_scopes(request),
        )
        return JSONResponse(grant.to_json())

    @require_scope("delete:client_grants")
    async def delete(self, request: Request) -> Response:
        await run_in_threadpool(_store(request).grants.delete, request.path_params["id"])
        return _no_content()


ROUTES: list[BaseRoute] = [
    Route("/resource-servers", ResourceServerList),
    Route("/resource-servers/{id:path}", ResourceServerItem),
    Route("/clients", ClientList),
    Route("/clients/{id}", ClientItem),
    Route("/client-grants", ClientGrantList),
    Route("/client-grants/{id}", ClientGrantItem),
    *SIGNING_KEY_ROUTES,
]
