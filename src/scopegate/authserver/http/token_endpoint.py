"""``POST /oauth/token``: the client credentials grant (RFC 6749 §4.4), as Auth0 answers it.

The client authenticates with ``client_id`` and ``client_secret`` in the body
or with HTTP Basic (RFC 6749 §2.3.1), never both. The token is a JWT signed
as the audience API says: RS256 with the tenant's current signing key (its
``kid`` in the header, the public half in ``/.well-known/jwks.json``), or
HS256 with the API's signing secret. It carries Auth0's claims:
``iss``, ``sub`` (``CLIENT_ID@clients``), ``aud``, ``iat``, ``exp``,
``scope``, ``gty`` and ``azp``, and ``cnf.jkt`` when the token is bound to
a DPoP key (``token_type: DPoP``; see :mod:`.sender_constraining`). Errors
follow RFC 6749 §5.2; like Auth0, an audience the client may not use is a 403
``access_denied``.
"""

from __future__ import annotations

import base64
import binascii
import time
from collections.abc import Callable
from urllib.parse import unquote_plus

import jwt
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from scopegate._claimset import client_credentials_claims
from scopegate._scopes import parse_scopes
from scopegate.authserver.credentials import (
    MAX_SECRET_LENGTH,
    dummy_hash,
    hash_secret,
    needs_rehash,
    verify_secret,
)
from scopegate.authserver.errors import NO_STORE, OAuthError
from scopegate.authserver.http.bodies import read_token_parameters
from scopegate.authserver.http.sender_constraining import SenderConstraining
from scopegate.authserver.signing import ALGORITHM, load_private_key
from scopegate.authserver.storage import Store
from scopegate.authserver.storage.records import (
    CLIENT_CREDENTIALS,
    Client,
    ClientGrant,
    ResourceServer,
)

BASIC_CHALLENGE = 'Basic realm="oauth", charset="UTF-8"'
_MAX_SCOPE_ECHO = 200


def _missing(name: str) -> OAuthError:
    return OAuthError("invalid_request", f"Missing required parameter: {name}")


def _basic_credentials(request: Request) -> tuple[str, str] | None:
    """``(client_id, client_secret)`` from ``Authorization: Basic``; None without the header."""
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, encoded = header.partition(" ")
    try:
        if scheme.lower() != "basic":
            raise ValueError("not Basic")
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        client_id, colon, secret = decoded.partition(":")
        if not colon:
            raise ValueError("no colon")
        # RFC 6749 §2.3.1: each part was form-encoded before base64.
        return (
            unquote_plus(client_id, errors="strict"),
            unquote_plus(secret, errors="strict"),
        )
    except (ValueError, binascii.Error):
        raise OAuthError(
            "invalid_client", "Client authentication failed.", 401, BASIC_CHALLENGE
        ) from None


def _requested_scopes(raw: str | None, available: tuple[str, ...]) -> tuple[str, ...]:
    """The scopes to issue: all of ``available``, or those asked for (each must be available)."""
    if raw is None or not raw.strip(" "):
        return available
    try:
        requested = parse_scopes(raw)
    except ValueError:
        raise OAuthError("invalid_scope", "The requested scope is malformed.") from None
    missing = [scope for scope in requested if scope not in available]
    if missing:
        names = " ".join(missing)
        if len(names) > _MAX_SCOPE_ECHO:
            names = names[:_MAX_SCOPE_ECHO] + "..."
        raise OAuthError("invalid_scope", f"Client has not been granted scopes: {names}")
    return tuple(scope for scope in available if scope in requested)


class TokenEndpoint:
    """Issues access tokens to clients with a grant for the requested audience.

    Args:
        store: where clients, APIs and grants live.
        issuer: the ``iss`` of every token: the base URL with a trailing slash.
        clock: seconds since the epoch, for ``iat`` and ``exp``.
        dpop: the DPoP check; by default one for ``<issuer>oauth/token``, without nonces.
    """

    def __init__(
        self,
        store: Store,
        issuer: str,
        clock: Callable[[], float] = time.time,
        dpop: SenderConstraining | None = None,
    ) -> None:
        self.store = store
        self.issuer = issuer
        self.clock = clock
        self.dpop = dpop or SenderConstraining(issuer + "oauth/token", clock=clock)

    async def handle(self, request: Request) -> Response:
        params = await read_token_parameters(request)
        basic = _basic_credentials(request)
        grant_type = params.get("grant_type")
        if not grant_type:
            raise _missing("grant_type")
        if grant_type != CLIENT_CREDENTIALS:
            raise OAuthError(
                "unsupported_grant_type", "Only the client_credentials grant type is supported."
            )
        client_id, secret = params.get("client_id"), params.get("client_secret")
        if basic is not None:
            if secret is not None:
                raise OAuthError(
                    "invalid_request", "Use one client authentication method, not two."
                )
            if client_id is not None and client_id != basic[0]:
                raise OAuthError(
                    "invalid_request", "The client_id does not match the Authorization header."
                )
            client_id, secret = basic
        if not client_id:
            raise _missing("client_id")
        audience = params.get("audience")
        if not audience:
            raise _missing("audience")
        challenge = BASIC_CHALLENGE if basic is not None else None
        client, grant, server = await run_in_threadpool(
            self._authenticate, client_id, secret or "", audience, challenge
        )
        # The store keeps every grant within its API's scopes (it prunes a grant
        # when its API drops a scope), so what is granted is what may be issued.
        scopes = _requested_scopes(params.get("scope"), grant.scope)
        # Last, once the request is otherwise good: a refused request does not use up the jti.
        jkt = await self.dpop.jkt(request, server.proof_of_possession)
        return await run_in_threadpool(self._issue, client, server, scopes, jkt)

    def _authenticate(
        self, client_id: str, secret: str, audience: str, challenge: str | None
    ) -> tuple[Client, ClientGrant, ResourceServer]:
        """The client, if ``secret`` is its secret, with its grant for ``audience``.

        One read transaction, and one answer for every authentication failure.
        """
        if len(client_id) > MAX_SECRET_LENGTH or len(audience) > MAX_SECRET_LENGTH * 4:
            client, grant, server = None, None, None
        else:
            client, grant, server = self.store.token_lookup(client_id, audience)
        stored = client.secret_hash if client is not None else dummy_hash()
        # Checked even for an unknown client, so timing does not reveal which ids exist.
        matches = verify_secret(secret, stored)
        if client is None or not secret or not matches:
            raise OAuthError("invalid_client", "Client authentication failed.", 401, challenge)
        if needs_rehash(stored):
            self.store.clients.rehash_secret(client.client_id, stored, hash_secret(secret))
        if server is None:
            raise OAuthError(
                "access_denied",
                "Service not enabled within domain: no API has this identifier.",
                403,
            )
        if grant is None:
            raise OAuthError(
                "access_denied",
                "Client is not authorized to access this API: create a client grant for it.",
                403,
            )
        return client, grant, server

    def _issue(
        self, client: Client, server: ResourceServer, scopes: tuple[str, ...], jkt: str | None
    ) -> Response:
        scope = " ".join(scopes)
        claims = client_credentials_claims(
            issuer=self.issuer,
            client_id=client.client_id,
            audience=server.identifier,
            scopes=scopes,
            issued_at=self.clock(),
            lifetime=server.token_lifetime,
            extra=None if jkt is None else {"cnf": {"jkt": jkt}},
        )
        if server.signing_alg == ALGORITHM:
            # Read on every token, so a rotation by another process using the same
            # file takes effect at once; the parsed key is cached by its PEM.
            key = self.store.signing_keys.current()
            if key is None:
                raise RuntimeError("no current signing key: the bootstrap makes one")
            token = jwt.encode(
                claims,
                load_private_key(key.private_pem),
                algorithm=ALGORITHM,
                headers={"kid": key.kid},
            )
        else:
            token = jwt.encode(claims, server.signing_secret, algorithm=server.signing_alg)
        body = {
            "access_token": token,
            "token_type": "Bearer" if jkt is None else "DPoP",
            "expires_in": server.token_lifetime,
            "scope": scope,
        }
        return JSONResponse(body, headers={**NO_STORE, **self.dpop.nonce_headers()})
