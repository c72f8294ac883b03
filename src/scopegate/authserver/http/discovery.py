"""``/.well-known``: the JWK Set and the authorization server metadata.

``/.well-known/jwks.json`` publishes the public halves of the signing keys
that are not revoked (current, next and previous, as Auth0 does: a verifier
that caches the set already holds the next key when it becomes current).
``/.well-known/openid-configuration`` and RFC 8414's
``/.well-known/oauth-authorization-server`` carry the same metadata, and only
what is true here: a token endpoint for the client credentials grant, with
client secrets, the DPoP proof algorithms it accepts, and the JWK Set. There
is no authorization endpoint and no ID token, so no
``response_types_supported`` or ``id_token_signing_alg_values_supported``.

Both answer with ``Cache-Control: public, max-age=60``: a rotation reaches a
verifier that honours the header within a minute, and a revoked key leaves
its cache as fast.
"""

from __future__ import annotations

from typing import Any, cast

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from scopegate.authserver.http.sender_constraining import DPOP_ALGORITHMS
from scopegate.authserver.signing import public_jwk
from scopegate.authserver.storage import Store

CACHE_SECONDS = 60
_CACHE = {"Cache-Control": f"public, max-age={CACHE_SECONDS}"}
JWKS_PATH = "/.well-known/jwks.json"


def metadata(base_url: str) -> dict[str, Any]:
    """The server's metadata (RFC 8414 §2) for ``base_url`` (no trailing slash)."""
    return {
        "issuer": base_url + "/",
        "token_endpoint": base_url + "/oauth/token",
        "jwks_uri": base_url + JWKS_PATH,
        "grant_types_supported": ["client_credentials"],
        "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
        # RFC 9449 §5.1: the token endpoint takes DPoP proofs signed with these.
        "dpop_signing_alg_values_supported": list(DPOP_ALGORITHMS),
    }


async def jwks(request: Request) -> Response:
    store = cast(Store, request.app.state.store)
    keys = await run_in_threadpool(store.signing_keys.published)
    body = {"keys": [public_jwk(key.cert_pem, key.kid) for key in keys]}
    return JSONResponse(body, headers=_CACHE)


async def configuration(request: Request) -> Response:
    return JSONResponse(metadata(cast(str, request.app.state.base_url)), headers=_CACHE)


ROUTES: list[BaseRoute] = [
    Route(JWKS_PATH, jwks, methods=["GET"]),
    Route("/.well-known/openid-configuration", configuration, methods=["GET"]),
    Route("/.well-known/oauth-authorization-server", configuration, methods=["GET"]),
]
