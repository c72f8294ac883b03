"""The demo's steps, as data: what each one does and the answer it must get.

Each :class:`Step` runs an action against the servers through the shipped
clients; the transcript records every exchange, and the step passes when the
*last* one has the expected status (and, for a rejection, exactly the
documented ``WWW-Authenticate`` challenge).

Three flows (:data:`FLOWS`): ``hs256``, the seed's API verified with its signing
secret (:data:`STEPS`); ``rs256``, an RS256 API whose resource server is
given only its issuer and identifier and finds the keys through discovery,
then survives a key rotation and refuses the revoked key's tokens
(:data:`RS256_STEPS`); and ``dpop``, an API that requires DPoP-bound tokens
(RFC 9449): the client's key binds the token, and the token alone, another
key's proof or a replayed proof are refused (:data:`DPOP_STEPS`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import httpx
import jwt

from scopegate._bearer import BEARER, DPOP
from scopegate._challenge import challenge_for
from scopegate._claimset import client_subject
from scopegate._settings import ASYMMETRIC_ALGORITHMS, Settings
from scopegate.client import ClientCredentialsAuth, ManagementClient
from scopegate.client._dpop import DPoPKey
from scopegate.client._management import JSONObject
from scopegate.demo.transcript import Exchange, Transcript, abbreviate
from scopegate.errors import (
    BearerError,
    DPoPFailure,
    InsufficientScopeError,
    InvalidDPoPProofError,
    InvalidTokenError,
    MissingTokenError,
    TokenFailure,
)
from scopegate.explain import format_time
from scopegate.testing import bearer, dpop_headers, mint_token

SAMPLE_API = "My Sample API"
SAMPLE_IDENTIFIER = "https://my-api-urn"
SAMPLE_SCOPE = "sample-scope"
OTHER_SCOPE = "other-scope"
ROUTE = "/api/private-scoped"
REALM = "api"
RS256_API = "My RS256 API"
RS256_IDENTIFIER = "https://my-rs256-api"
DPOP_API = "My DPoP API"
DPOP_IDENTIFIER = "https://my-dpop-api"
# Auth0's proof_of_possession: tokens for the API only to a request with a DPoP proof.
DPOP_REQUIRED = {"mechanism": "dpop", "required": True}
# Short, so the rotation and the revocation show in a few seconds rather than minutes
# (the defaults are 600 s and 30 s).
JWKS_CACHE_TTL = 1.0
JWKS_REFRESH_COOLDOWN = 0.5
# How long the last step retries the revoked key's token before it calls the 200 a deviation.
REVOKED_RETRY_LIMIT = 5.0

T = TypeVar("T")


class StepFailed(RuntimeError):
    """A step could not run (an earlier one left nothing to work with)."""


@dataclass
class DemoContext:
    """What the steps share: the servers, the clients, and what earlier steps produced."""

    transcript: Transcript
    auth_url: str
    management: ManagementClient
    http: httpx.Client
    start_api: Callable[[Settings], str]
    # Field declarations (duplicates pairs them with authserver/http/schemas.py by shape).
    api_url: str | None = None
    settings: Settings | None = None
    client: JSONObject | None = None
    auth: ClientCredentialsAuth | None = None
    token: str | None = None
    other_auth: ClientCredentialsAuth | None = None
    identifier: str = SAMPLE_IDENTIFIER
    client_name: str = "My M2M App"
    old_kid: str | None = None
    new_token: str | None = None
    dpop_key: DPoPKey | None = None
    proof: str | None = None

    @property
    def token_url(self) -> str:
        return self.auth_url + "/oauth/token"

    def route(self) -> str:
        return need(self.api_url, "the resource server") + ROUTE

    def say(self, *texts: str) -> None:
        self.transcript.lines(texts)


def _challenge(error: BearerError, scheme: str = BEARER) -> str:
    """The demo API's challenge for ``error`` on ``scheme``, with the other scheme offered
    (``dpop="allowed"``, the default)."""
    return challenge_for(
        error, realm=REALM, mode="allowed", algorithms=ASYMMETRIC_ALGORITHMS, scheme=scheme
    )


def need(value: T | None, what: str) -> T:
    if value is None:
        raise StepFailed(f"{what} is missing: an earlier step did not finish")
    return value


def tamper(token: str) -> tuple[str, int, str, str]:
    """``token`` with one character of its payload changed: (token, index, old, new)."""
    header, payload, signature = token.split(".")
    index = len(payload) // 2  # a middle character: all six of its bits are payload
    old = payload[index]
    new = "A" if old != "A" else "B"
    payload = payload[:index] + new + payload[index + 1 :]
    return f"{header}.{payload}.{signature}", index, old, new


@dataclass(frozen=True)
class Step:
    """One step of the flow and the answer it must get."""

    title: str
    status: int
    action: Callable[[DemoContext], None]
    note: str = ""
    challenge: str | None = None

    def check(self, exchanges: Sequence[Exchange]) -> str | None:
        """Why the step deviates, or None when its last exchange is as documented."""
        if not exchanges:
            return "no HTTP exchange happened"
        last = exchanges[-1]
        if last.status != self.status:
            return f"{last.method} {last.url} answered {last.status}, expected {self.status}"
        if self.challenge is not None and last.challenge != self.challenge:
            return f"WWW-Authenticate was {last.challenge!r}, expected {self.challenge!r}"
        return None


# -- the actions ---------------------------------------------------------------


def register_api(ctx: DemoContext) -> None:
    api = ctx.management.create_resource_server(
        SAMPLE_IDENTIFIER,
        name=SAMPLE_API,
        signing_alg="HS256",
        scopes=[
            {"value": SAMPLE_SCOPE, "description": "Description for Sample Scope"},
            {"value": OTHER_SCOPE, "description": "Another scope, granted to the second client"},
        ],
    )
    # Explicit settings: no SCOPEGATE_* variable or .env can change what the API accepts.
    ctx.settings = Settings.explicit(
        signing_secret=api["signing_secret"],
        identifier=api["identifier"],
        issuer=ctx.auth_url + "/",
        realm=REALM,
    )
    ctx.api_url = ctx.start_api(ctx.settings)
    ellipsis = ctx.transcript.ellipsis
    ctx.say(
        f"The resource server (the FastAPI example's routes) now runs at {ctx.api_url},",
        "configured with what the authorization server just returned:",
        f"  SCOPEGATE_SIGNING_SECRET={abbreviate(api['signing_secret'], ellipsis)}"
        "  (the signing_secret of My Sample API)",
        f"  SCOPEGATE_IDENTIFIER={api['identifier']}",
        f"  SCOPEGATE_ISSUER={ctx.settings.issuer}",
        "",
    )


def create_client(ctx: DemoContext) -> None:
    ctx.client = ctx.management.create_client(
        ctx.client_name, description="A machine-to-machine application"
    )


def grant_sample_scope(ctx: DemoContext) -> None:
    client = need(ctx.client, "the client")
    ctx.management.create_client_grant(client["client_id"], ctx.identifier, [SAMPLE_SCOPE])


def client_auth(ctx: DemoContext) -> ClientCredentialsAuth:
    """A new client-credentials auth for the flow's client and API (so a new token)."""
    client = need(ctx.client, "the client")
    return ClientCredentialsAuth(
        ctx.token_url, client["client_id"], client["client_secret"], ctx.identifier
    )


def request_token(ctx: DemoContext) -> None:
    ctx.auth = client_auth(ctx)
    ctx.token = ctx.auth.sync_get_token(ctx.http)


def call_with_token(ctx: DemoContext) -> None:
    ctx.http.get(ctx.route(), auth=need(ctx.auth, "the client's auth"))


def call_without_token(ctx: DemoContext) -> None:
    ctx.http.get(ctx.route())


def create_other_client(ctx: DemoContext) -> None:
    other = ctx.management.create_client("Other App", description="Granted only other-scope")
    ctx.management.create_client_grant(other["client_id"], ctx.identifier, [OTHER_SCOPE])
    ctx.other_auth = ClientCredentialsAuth(
        ctx.token_url, other["client_id"], other["client_secret"], ctx.identifier
    )


def call_with_other_scope(ctx: DemoContext) -> None:
    ctx.http.get(ctx.route(), auth=need(ctx.other_auth, "the second client's auth"))


def call_with_expired_token(ctx: DemoContext) -> None:
    settings = need(ctx.settings, "the API's settings")
    client = need(ctx.client, "the client")
    issued = time.time() - 2 * 3600
    token = mint_token(
        settings,
        scopes=[SAMPLE_SCOPE],
        subject=client_subject(client["client_id"]),
        now=issued,
        expires_in=3600,
    )
    ctx.say(
        "Signed: the claims the server issues to My M2M App, with "
        f"iat {format_time(issued)} and exp {format_time(issued + 3600)} (an hour ago).",
        "",
    )
    ctx.http.get(ctx.route(), headers=bearer(token))


def call_with_tampered_token(ctx: DemoContext) -> None:
    token, index, old, new = tamper(need(ctx.token, "the token"))
    ctx.say(
        f"The token from step 4 with payload character {index} changed: "
        f"{old!r} {ctx.transcript.arrow} {new!r}.",
        "",
    )
    ctx.http.get(ctx.route(), headers=bearer(token))


# -- the RS256 flow's actions --------------------------------------------------


def header_of(token: str) -> tuple[str, str]:
    """The ``alg`` and ``kid`` in ``token``'s header (read, not verified: the API does that)."""
    header = jwt.get_unverified_header(token)
    alg, kid = header.get("alg"), header.get("kid")
    if not isinstance(alg, str) or not isinstance(kid, str):
        raise StepFailed("the token's header has no alg or no kid")
    return alg, kid


def register_rs256_api(ctx: DemoContext) -> None:
    api = ctx.management.create_resource_server(
        RS256_IDENTIFIER,
        name=RS256_API,
        signing_alg="RS256",
        scopes=[{"value": SAMPLE_SCOPE, "description": "Description for Sample Scope"}],
    )
    # Only the issuer and the identifier: the keys come from the issuer's metadata.
    ctx.settings = Settings.explicit(
        identifier=api["identifier"],
        issuer=ctx.auth_url + "/",
        realm=REALM,
        jwks_cache_ttl=JWKS_CACHE_TTL,
        jwks_refresh_cooldown=JWKS_REFRESH_COOLDOWN,
    )
    ctx.api_url = ctx.start_api(ctx.settings)
    ctx.say(
        f"A second resource server (the same routes) now runs at {ctx.api_url},",
        "configured with no secret and no key, only:",
        f"  SCOPEGATE_IDENTIFIER={api['identifier']}",
        f"  SCOPEGATE_ISSUER={ctx.settings.issuer}",
        f"  SCOPEGATE_JWKS_CACHE_TTL={JWKS_CACHE_TTL:g}  SCOPEGATE_JWKS_REFRESH_COOLDOWN="
        f"{JWKS_REFRESH_COOLDOWN:g}  (600 and 30 by default; short so the demo is quick)",
        "At its start it fetched the issuer's discovery document and the JWK Set it names",
        "(its own requests, not shown; the next step makes the same two).",
        "",
    )


def discover(ctx: DemoContext) -> None:
    metadata = ctx.http.get(ctx.auth_url + "/.well-known/openid-configuration")
    metadata.raise_for_status()
    jwks = ctx.http.get(metadata.json()["jwks_uri"])
    kids = [key.get("kid") for key in jwks.json().get("keys", [])]
    ctx.say(f"Published kids: {', '.join(str(kid) for kid in kids)}", "")


def request_rs256_token(ctx: DemoContext) -> None:
    request_token(ctx)
    alg, ctx.old_kid = header_of(need(ctx.token, "the token"))
    ctx.say(f"The token's header: alg {alg}, kid {ctx.old_kid}.", "")


def rotate_key(ctx: DemoContext) -> None:
    need(ctx.old_kid, "the first token's kid")
    rotated = ctx.management.rotate_signing_key()
    ctx.say(
        f"The current key is now {rotated['kid']}; {ctx.old_kid} stays published as the "
        "previous key.",
        "",
    )


def call_with_new_token(ctx: DemoContext) -> None:
    ctx.new_token = client_auth(ctx).sync_get_token(ctx.http)
    alg, kid = header_of(ctx.new_token)
    ctx.say(f"The new token's header: alg {alg}, kid {kid}.", "")
    # An unknown kid is refetched at most once per cooldown since the API's last fetch.
    time.sleep(JWKS_REFRESH_COOLDOWN + 0.1)
    ctx.http.get(ctx.route(), headers=bearer(ctx.new_token))


def call_with_old_token(ctx: DemoContext) -> None:
    ctx.http.get(ctx.route(), headers=bearer(need(ctx.token, "the first token")))


def revoke_old_key(ctx: DemoContext) -> None:
    ctx.management.revoke_signing_key(need(ctx.old_kid, "the first token's kid"))


def call_with_revoked_token(ctx: DemoContext) -> None:
    token = need(ctx.token, "the first token")
    route = ctx.route()
    # The moment the background refresh lands is not ours to know: wait out the TTL,
    # then repeat the request unrecorded until the key is gone (or the limit passes),
    # so the transcript shows the same single exchange on every run.
    time.sleep(JWKS_CACHE_TTL + 0.1)
    deadline = time.monotonic() + REVOKED_RETRY_LIMIT
    with httpx.Client(timeout=ctx.http.timeout) as quiet:
        while (
            quiet.get(route, headers=bearer(token)).status_code == 200
            and time.monotonic() < deadline
        ):
            time.sleep(0.05)
    ctx.http.get(route, headers=bearer(token))


# -- the DPoP flow's actions ---------------------------------------------------


def register_dpop_api(ctx: DemoContext) -> None:
    api = ctx.management.create_resource_server(
        DPOP_IDENTIFIER,
        name=DPOP_API,
        signing_alg="RS256",
        scopes=[{"value": SAMPLE_SCOPE, "description": "Description for Sample Scope"}],
        proof_of_possession=DPOP_REQUIRED,
    )
    ctx.settings = Settings.explicit(
        identifier=api["identifier"], issuer=ctx.auth_url + "/", realm=REALM
    )
    ctx.api_url = ctx.start_api(ctx.settings)
    ctx.say(
        f"A third resource server (the same routes) now runs at {ctx.api_url}, configured with:",
        f"  SCOPEGATE_IDENTIFIER={api['identifier']}",
        f"  SCOPEGATE_ISSUER={ctx.settings.issuer}",
        "and SCOPEGATE_DPOP left at its default, allowed: a DPoP-bound token with its proof,",
        "or a bearer token (a bound token sent as Bearer is refused).",
        "",
    )


def request_token_without_proof(ctx: DemoContext) -> None:
    client = need(ctx.client, "the client")
    form = {
        "grant_type": "client_credentials",
        "client_id": client["client_id"],
        "client_secret": client["client_secret"],
        "audience": ctx.identifier,
    }
    ctx.http.post(ctx.token_url, data=form)


def request_dpop_token(ctx: DemoContext) -> None:
    client = need(ctx.client, "the client")
    key = ctx.dpop_key = DPoPKey.generate()
    ctx.auth = ClientCredentialsAuth(
        ctx.token_url, client["client_id"], client["client_secret"], ctx.identifier, dpop_key=key
    )
    ctx.token = ctx.auth.sync_get_token(ctx.http)
    jkt = jwt.decode(ctx.token, options={"verify_signature": False}).get("cnf", {}).get("jkt")
    if jkt != key.thumbprint:
        raise StepFailed("the token is not bound to the client's key (cnf.jkt)")
    ellipsis = ctx.transcript.ellipsis
    ctx.say(
        f"The client's key: {key.alg}, RFC 7638 thumbprint {abbreviate(key.thumbprint, ellipsis)};",
        "the token's cnf.jkt is that thumbprint, and token_type is DPoP.",
        "",
    )


def call_with_dpop_token(ctx: DemoContext) -> None:
    response = ctx.http.get(ctx.route(), auth=need(ctx.auth, "the client's auth"))
    ctx.proof = response.request.headers.get("dpop")


def call_bound_token_as_bearer(ctx: DemoContext) -> None:
    ctx.http.get(ctx.route(), headers=bearer(need(ctx.token, "the token")))


def call_bound_token_without_proof(ctx: DemoContext) -> None:
    ctx.http.get(ctx.route(), headers={"Authorization": f"DPoP {need(ctx.token, 'the token')}"})


def call_with_another_key(ctx: DemoContext) -> None:
    thief = DPoPKey.generate()
    ctx.say(
        "A proof for this very request, signed by a key of the thief's own "
        f"(thumbprint {abbreviate(thief.thumbprint, ctx.transcript.ellipsis)}).",
        "",
    )
    route = ctx.route()
    ctx.http.get(route, headers=dpop_headers(need(ctx.token, "the token"), thief, "GET", route))


def replay_proof(ctx: DemoContext) -> None:
    token = need(ctx.token, "the token")
    proof = need(ctx.proof, "the proof of the first call")
    ctx.http.get(ctx.route(), headers={"Authorization": f"DPoP {token}", "DPoP": proof})


# -- the flow ------------------------------------------------------------------

STEPS: tuple[Step, ...] = (
    Step(
        f'Register "{SAMPLE_API}" ({SAMPLE_IDENTIFIER}, scopes {SAMPLE_SCOPE} and {OTHER_SCOPE})',
        201,
        register_api,
        "The management client first gets a Management API token (client credentials).",
    ),
    Step('Create a client, "My M2M App"', 201, create_client),
    Step(f"Grant My M2M App {SAMPLE_SCOPE} on {SAMPLE_API}", 201, grant_sample_scope),
    Step(
        "Request a token for My M2M App (client credentials grant)",
        200,
        request_token,
        "ClientCredentialsAuth asks once and keeps the token until shortly before it expires.",
    ),
    Step(f"GET {ROUTE} with that token", 200, call_with_token),
    Step(
        f"GET {ROUTE} with no token",
        401,
        call_without_token,
        challenge=_challenge(MissingTokenError()),
    ),
    Step(
        f'Create a second client, "Other App", granted only {OTHER_SCOPE}',
        201,
        create_other_client,
    ),
    Step(
        f"GET {ROUTE} with a token granted only {OTHER_SCOPE}",
        403,
        call_with_other_scope,
        challenge=_challenge(InsufficientScopeError([SAMPLE_SCOPE])),
    ),
    Step(
        f"GET {ROUTE} with an expired token",
        401,
        call_with_expired_token,
        "The server issues only fresh tokens (1 s at the shortest) and the API allows 5 s "
        "of clock skew; rather than wait, the demo signs an hour-old token with My Sample "
        "API's signing secret (scopegate.testing.mint_token).",
        challenge=_challenge(InvalidTokenError(TokenFailure.EXPIRED)),
    ),
    Step(
        f"GET {ROUTE} with a tampered token",
        401,
        call_with_tampered_token,
        challenge=_challenge(InvalidTokenError(TokenFailure.SIGNATURE)),
    ),
)

# Step tables (duplicates pairs them with STEPS and DPOP_STEPS by shape): data, one per
# flow; what runs them is Flow.
RS256_STEPS: tuple[Step, ...] = (
    Step(
        f'Register "{RS256_API}" ({RS256_IDENTIFIER}, signing_alg RS256, scope {SAMPLE_SCOPE})',
        201,
        register_rs256_api,
        "RS256 is what Auth0 (and this server) uses when signing_alg is omitted; tokens are "
        "signed with the tenant's private key and verified with its published public half.",
    ),
    Step(
        "Discovery: GET /.well-known/openid-configuration, then its jwks_uri",
        200,
        discover,
        "What scopegate does with only an issuer: the document's issuer must equal the "
        "configured one exactly, and its jwks_uri names the JWK Set.",
    ),
    Step('Create a client, "My RS256 App"', 201, create_client),
    Step(f"Grant My RS256 App {SAMPLE_SCOPE} on {RS256_API}", 201, grant_sample_scope),
    Step("Request a token for My RS256 App", 200, request_rs256_token),
    Step(f"GET {ROUTE} with that token", 200, call_with_token),
    Step(
        "Rotate the signing key (POST /api/v2/keys/signing/rotate)",
        200,
        rotate_key,
        "As on Auth0: the next key becomes current, and the previous one stays in the JWK "
        "Set so tokens already issued keep verifying.",
    ),
    Step(
        f"GET {ROUTE} with a new token, signed with the new key",
        200,
        call_with_new_token,
        "The API was not restarted: the unknown kid makes it refetch the JWK Set (at most "
        f"once per jwks_refresh_cooldown, {JWKS_REFRESH_COOLDOWN:g} s here, which the demo "
        "lets pass first).",
    ),
    Step(f"GET {ROUTE} with the first token (the previous key)", 200, call_with_old_token),
    Step(
        "Revoke the previous key (PUT /api/v2/keys/signing/{kid}/revoke)",
        200,
        revoke_old_key,
        "The key leaves the JWK Set.",
    ),
    Step(
        f"GET {ROUTE} with the first token, once the API's keys have refreshed",
        401,
        call_with_revoked_token,
        f"The API keeps its cached set for jwks_cache_ttl ({JWKS_CACHE_TTL:g} s here) and then "
        "refreshes it in the background while requests go on; a refresh that drops a key "
        "drops its tokens from the caches too. The demo waits out the TTL, repeats the "
        f"request unrecorded until the refresh has landed (at most {REVOKED_RETRY_LIMIT:g} s), "
        "and shows the last one.",
        challenge=_challenge(InvalidTokenError(TokenFailure.UNKNOWN_KEY)),
    ),
)


DPOP_STEPS: tuple[Step, ...] = (
    Step(
        f'Register "{DPOP_API}" ({DPOP_IDENTIFIER}, RS256, proof_of_possession: dpop, required)',
        201,
        register_dpop_api,
        "Auth0's sender-constraining policy: the server issues tokens for this API only to a "
        "token request that carries a DPoP proof (RFC 9449), and binds each token to the "
        "proof's key.",
    ),
    Step('Create a client, "My DPoP App"', 201, create_client),
    Step(f"Grant My DPoP App {SAMPLE_SCOPE} on {DPOP_API}", 201, grant_sample_scope),
    Step("Request a token without a DPoP proof", 400, request_token_without_proof),
    Step(
        "Request a token with ClientCredentialsAuth(dpop_key=DPoPKey.generate())",
        200,
        request_dpop_token,
        "The token request carries a DPoP header: a proof signed with the client's new ES256 "
        "key, for POST on the token endpoint.",
    ),
    Step(
        f"GET {ROUTE} with that token and a fresh proof",
        200,
        call_with_dpop_token,
        "Authorization: DPoP <token>, and a DPoP proof for GET on this URL with ath, the "
        "hash of the token; ClientCredentialsAuth signs one for every request.",
    ),
    Step(
        f"GET {ROUTE} with the same token stolen, sent as Bearer",
        401,
        call_bound_token_as_bearer,
        challenge=_challenge(InvalidTokenError(TokenFailure.BOUND)),
    ),
    Step(
        f"GET {ROUTE} with the same token on the DPoP scheme, without a proof",
        401,
        call_bound_token_without_proof,
        challenge=_challenge(InvalidDPoPProofError(DPoPFailure.MISSING), DPOP),
    ),
    Step(
        f"GET {ROUTE} with the same token and a proof from another key",
        401,
        call_with_another_key,
        challenge=_challenge(InvalidTokenError(TokenFailure.DPOP_BINDING), DPOP),
    ),
    Step(
        f"GET {ROUTE} with the proof of step 6 replayed",
        401,
        replay_proof,
        "The API remembers each proof's jti for as long as the proof is fresh (dpop_max_age, "
        "300 s, in memory here; a Redis URL in dpop_replay_store shares it between workers).",
        challenge=_challenge(InvalidDPoPProofError(DPoPFailure.REPLAYED), DPOP),
    ),
)


@dataclass(frozen=True)
class Flow:
    """A flow of the demo: its steps and the API they register."""

    name: str
    title: str
    steps: tuple[Step, ...]
    identifier: str
    client_name: str


FLOWS: dict[str, Flow] = {
    "hs256": Flow(
        "hs256",
        "HS256: the seed's API, verified with its signing secret",
        STEPS,
        SAMPLE_IDENTIFIER,
        "My M2M App",
    ),
    "rs256": Flow(
        "rs256",
        "RS256: an API verified through discovery, across a key rotation",
        RS256_STEPS,
        RS256_IDENTIFIER,
        "My RS256 App",
    ),
    "dpop": Flow(
        "dpop",
        "DPoP: tokens bound to the client's key, useless without it",
        DPOP_STEPS,
        DPOP_IDENTIFIER,
        "My DPoP App",
    ),
}
