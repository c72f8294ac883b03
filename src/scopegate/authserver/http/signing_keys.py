"""The Management API's signing keys (``/api/v2/keys/signing``), as Auth0's.

``GET /keys/signing`` lists every key (revoked ones too), ``GET
/keys/signing/{kid}`` gives one, ``POST /keys/signing/rotate`` makes the
next key current (and answers its ``kid`` and ``cert``), ``PUT
/keys/signing/{kid}/revoke`` takes a previous key out of the JWK Set (and
answers its ``kid`` and ``cert``). Auth0 documents no query parameters for
them, so any is a 400, before anything is written. The scopes are Auth0's:
``read:signing_keys``, ``create:signing_keys`` (rotate) and
``update:signing_keys`` (revoke).
"""

from __future__ import annotations

from typing import cast

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from scopegate.authserver.errors import not_found
from scopegate.authserver.http.listing import read_query
from scopegate.authserver.signing import new_key_material
from scopegate.authserver.storage import Store
from scopegate.authserver.storage.records import SigningKey
from scopegate.starlette import require_scope


def _store(request: Request) -> Store:
    return cast(Store, request.app.state.store)


def _kid_and_cert(key: SigningKey) -> Response:
    return JSONResponse({"cert": key.cert_pem, "kid": key.kid})


@require_scope("read:signing_keys")
async def list_keys(request: Request) -> Response:
    read_query(request, paging=False)
    keys = await run_in_threadpool(_store(request).signing_keys.list)
    return JSONResponse([key.to_json() for key in keys])


@require_scope("read:signing_keys")
async def get_key(request: Request) -> Response:
    read_query(request, paging=False)
    key = await run_in_threadpool(_store(request).signing_keys.get, request.path_params["kid"])
    if key is None:
        raise not_found("signing_key")
    return JSONResponse(key.to_json())


@require_scope("create:signing_keys")
async def rotate(request: Request) -> Response:
    read_query(request, paging=False)
    fresh = await run_in_threadpool(new_key_material)
    current = await run_in_threadpool(_store(request).signing_keys.rotate, fresh)
    return _kid_and_cert(current)


@require_scope("update:signing_keys")
async def revoke(request: Request) -> Response:
    read_query(request, paging=False)
    key = await run_in_threadpool(_store(request).signing_keys.revoke, request.path_params["kid"])
    return _kid_and_cert(key)


ROUTES: list[BaseRoute] = [
    Route("/keys/signing", list_keys, methods=["GET"]),
    Route("/keys/signing/rotate", rotate, methods=["POST"]),
    Route("/keys/signing/{kid}", get_key, methods=["GET"]),
    Route("/keys/signing/{kid}/revoke", revoke, methods=["PUT"]),
]
