"""The demo's steps, as data: what each one does and the answer it must get.

Each :class:`Step` runs an action against the servers through the shipped
clients; the transcript records every exchange, and the step passes when the
*last* one has the expected status (and, for a rejection, exactly the
documented ``WWW-Authenticate`` challenge).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import httpx

from scopegate.client import ClientCredentialsAuth, ManagementClient
from scopegate.client.management import JSONObject
from scopegate.demo.transcript import Exchange, Transcript, abbreviate
from scopegate.errors import (
    InsufficientScopeError,
    InvalidTokenError,
    MissingTokenError,
    TokenFailure,
)
from scopegate.explain import format_time
from scopegate.settings import Settings
from scopegate.testing import bearer, mint_token

__all__ = [
    "OTHER_SCOPE",
    "REALM",
    "ROUTE",
    "SAMPLE_API",
    "SAMPLE_IDENTIFIER",
    "SAMPLE_SCOPE",
    "STEPS",
    "DemoContext",
    "Step",
    "StepFailed",
    "tamper",
]

SAMPLE_API = "My Sample API"
SAMPLE_IDENTIFIER = "https://my-api-urn"
SAMPLE_SCOPE = "sample-scope"
OTHER_SCOPE = "other-scope"
ROUTE = "/api/private-scoped"
REALM = "api"

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
    api_url: str | None = None
    settings: Settings | None = None
    client: JSONObject | None = None
    auth: ClientCredentialsAuth | None = None
    token: str | None = None
    other_auth: ClientCredentialsAuth | None = None

    @property
    def token_url(self) -> str:
        return self.auth_url + "/oauth/token"

    def route(self) -> str:
        return need(self.api_url, "the resource server") + ROUTE

    def say(self, *texts: str) -> None:
        self.transcript.lines(texts)


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
        "My M2M App", description="A machine-to-machine application"
    )


def grant_sample_scope(ctx: DemoContext) -> None:
    client = need(ctx.client, "the client")
    ctx.management.create_client_grant(client["client_id"], SAMPLE_IDENTIFIER, [SAMPLE_SCOPE])


def request_token(ctx: DemoContext) -> None:
    client = need(ctx.client, "the client")
    ctx.auth = ClientCredentialsAuth(
        ctx.token_url, client["client_id"], client["client_secret"], SAMPLE_IDENTIFIER
    )
    ctx.token = ctx.auth.sync_get_token(ctx.http)


def call_with_token(ctx: DemoContext) -> None:
    ctx.http.get(ctx.route(), auth=need(ctx.auth, "the client's auth"))


def call_without_token(ctx: DemoContext) -> None:
    ctx.http.get(ctx.route())


def create_other_client(ctx: DemoContext) -> None:
    other = ctx.management.create_client("Other App", description="Granted only other-scope")
    ctx.management.create_client_grant(other["client_id"], SAMPLE_IDENTIFIER, [OTHER_SCOPE])
    ctx.other_auth = ClientCredentialsAuth(
        ctx.token_url, other["client_id"], other["client_secret"], SAMPLE_IDENTIFIER
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
        subject=f"{client['client_id']}@clients",
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
        challenge=MissingTokenError().www_authenticate(REALM),
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
        challenge=InsufficientScopeError([SAMPLE_SCOPE]).www_authenticate(REALM),
    ),
    Step(
        f"GET {ROUTE} with an expired token",
        401,
        call_with_expired_token,
        "The server issues only fresh tokens (1 s at the shortest) and the API allows 5 s "
        "of clock skew; rather than wait, the demo signs an hour-old token with My Sample "
        "API's signing secret (scopegate.testing.mint_token).",
        challenge=InvalidTokenError(TokenFailure.EXPIRED).www_authenticate(REALM),
    ),
    Step(
        f"GET {ROUTE} with a tampered token",
        401,
        call_with_tampered_token,
        challenge=InvalidTokenError(TokenFailure.SIGNATURE).www_authenticate(REALM),
    ),
)
