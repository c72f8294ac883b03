"""The Management API (``/api/v2``): resource servers, clients and client grants.

Each route needs one of Auth0's scope names (``create:resource_servers``,
``read:clients``, ...), checked by :func:`scopegate.starlette.require_scope`
behind the :class:`~scopegate.asgi.BearerAuthMiddleware` that guards the whole
API, so a missing or weak token gets scopegate's own 401 or 403. Bodies are
validated before any write, and each write is one store transaction.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.concurrency import run_in_threadpool
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
from scopegate.authserver.listing import listing, paging
from scopegate.authserver.payloads import read_json
from scopegate.authserver.records import Client, ResourceServer, ResourceServerChanges
from scopegate.authserver.schemas import (
    ClientCreate,
    ClientGrantCreate,
    ClientGrantUpdate,
    ClientUpdate,
    ResourceServerCreate,
    ResourceServerUpdate,
    parse_body,
)
from scopegate.authserver.store import Store
from scopegate.starlette import current_token, require_scope

__all__ = ["ManagementApi"]


def _no_content() -> Response:
    return Response(status_code=204)


def _caller_scopes(request: Request) -> frozenset[str]:
    """The scopes of the request's token (the guards ran, so there is one)."""
    token = current_token(request)
    return frozenset() if token is None else token.scopes


Endpoint = Callable[[Request], Awaitable[Response]]


def _route(path: str, **handlers: Endpoint) -> Route:
    """One route per path, so that a 405 lists every method the path allows."""
    if "GET" in handlers:
        handlers["HEAD"] = handlers["GET"]

    async def dispatch(request: Request) -> Response:
        return await handlers[request.method](request)

    return Route(path, dispatch, methods=list(handlers))


class ManagementApi:
    """The routes of the Management API over one :class:`Store`."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def routes(self) -> list[BaseRoute]:
        rs, one_rs = "/resource-servers", "/resource-servers/{id:path}"
        return [
            _route(rs, POST=self.create_resource_server, GET=self.list_resource_servers),
            _route(
                one_rs,
                GET=self.get_resource_server,
                PATCH=self.update_resource_server,
                DELETE=self.delete_resource_server,
            ),
            _route("/clients", POST=self.create_client, GET=self.list_clients),
            _route(
                "/clients/{id}",
                GET=self.get_client,
                PATCH=self.update_client,
                DELETE=self.delete_client,
            ),
            _route("/client-grants", POST=self.create_client_grant, GET=self.list_client_grants),
            _route(
                "/client-grants/{id}",
                PATCH=self.update_client_grant,
                DELETE=self.delete_client_grant,
            ),
        ]

    # -- resource servers ------------------------------------------------

    @require_scope("create:resource_servers")
    async def create_resource_server(self, request: Request) -> Response:
        body = parse_body(ResourceServerCreate, await read_json(request))
        server = ResourceServer(
            id=new_resource_server_id(),
            name=body.name or body.identifier,
            identifier=body.identifier,
            signing_secret=body.signing_secret or new_signing_secret(),
            scopes=body.scope_definitions() or (),
            token_lifetime=body.token_lifetime,
        )
        await run_in_threadpool(self.store.add_resource_server, server)
        return JSONResponse(server.to_json(), status_code=201)

    @require_scope("read:resource_servers")
    async def list_resource_servers(self, request: Request) -> Response:
        page, totals = paging(request)
        servers, total = await run_in_threadpool(self.store.resource_servers, page)
        items = [server.to_json() for server in servers]
        return listing("resource_servers", items, total, page, totals)

    @require_scope("read:resource_servers")
    async def get_resource_server(self, request: Request) -> Response:
        server = await run_in_threadpool(self.store.resource_server, request.path_params["id"])
        if server is None:
            raise not_found("resource_server")
        return JSONResponse(server.to_json())

    @require_scope("update:resource_servers")
    async def update_resource_server(self, request: Request) -> Response:
        body = parse_body(ResourceServerUpdate, await read_json(request))
        changes = ResourceServerChanges(
            name=body.name,
            scopes=body.scope_definitions(),
            token_lifetime=body.token_lifetime,
            signing_secret=body.signing_secret,
        )
        key = request.path_params["id"]
        server = await run_in_threadpool(self.store.update_resource_server, key, changes)
        return JSONResponse(server.to_json())

    @require_scope("delete:resource_servers")
    async def delete_resource_server(self, request: Request) -> Response:
        await run_in_threadpool(self.store.delete_resource_server, request.path_params["id"])
        return _no_content()

    # -- clients ---------------------------------------------------------

    @require_scope("create:clients")
    async def create_client(self, request: Request) -> Response:
        body = parse_body(ClientCreate, await read_json(request))
        secret = new_client_secret()
        secret_hash = await run_in_threadpool(hash_secret, secret)
        client = Client(new_client_id(), body.name, secret_hash, body.description, body.app_type)
        await run_in_threadpool(self.store.add_client, client)
        return JSONResponse(client.to_json(client_secret=secret), status_code=201)

    @require_scope("read:clients")
    async def list_clients(self, request: Request) -> Response:
        page, totals = paging(request)
        clients, total = await run_in_threadpool(self.store.clients, page)
        return listing("clients", [client.to_json() for client in clients], total, page, totals)

    @require_scope("read:clients")
    async def get_client(self, request: Request) -> Response:
        client = await run_in_threadpool(self.store.client, request.path_params["id"])
        if client is None:
            raise not_found("client")
        return JSONResponse(client.to_json())

    @require_scope("update:clients")
    async def update_client(self, request: Request) -> Response:
        body = parse_body(ClientUpdate, await read_json(request))
        client_id = request.path_params["id"]
        client = await run_in_threadpool(
            self.store.update_client, client_id, body.name, body.description
        )
        return JSONResponse(client.to_json())

    @require_scope("delete:clients")
    async def delete_client(self, request: Request) -> Response:
        await run_in_threadpool(self.store.delete_client, request.path_params["id"])
        return _no_content()

    # -- client grants ---------------------------------------------------

    @require_scope("create:client_grants")
    async def create_client_grant(self, request: Request) -> Response:
        body = parse_body(ClientGrantCreate, await read_json(request))
        grant = await run_in_threadpool(
            self.store.grants.add,
            body.client_id,
            body.audience,
            body.scope,
            _caller_scopes(request),
        )
        return JSONResponse(grant.to_json(), status_code=201)

    @require_scope("read:client_grants")
    async def list_client_grants(self, request: Request) -> Response:
        page, totals = paging(request, frozenset({"audience", "client_id"}))
        audience = request.query_params.get("audience")
        client_id = request.query_params.get("client_id")
        grants, total = await run_in_threadpool(
            lambda: self.store.grants.search(page, audience=audience, client_id=client_id)
        )
        return listing("client_grants", [g.to_json() for g in grants], total, page, totals)

    @require_scope("update:client_grants")
    async def update_client_grant(self, request: Request) -> Response:
        body = parse_body(ClientGrantUpdate, await read_json(request))
        grant_id = request.path_params["id"]
        grant = await run_in_threadpool(
            self.store.grants.update, grant_id, body.scope, _caller_scopes(request)
        )
        return JSONResponse(grant.to_json())

    @require_scope("delete:client_grants")
    async def delete_client_grant(self, request: Request) -> Response:
        await run_in_threadpool(self.store.grants.delete, request.path_params["id"])
        return _no_content()
