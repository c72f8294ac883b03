"""DPoP rules that take two requests, on every adapter: replay (RFC 9449 §11.1) and nonces (§9).

The one-request DPoP rows are in ``conformance.dpop_cases`` and run with every
other conformance row; these need a second request, so each is a test of its
own, run against the three ASGI styles and the two Flask styles alike.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest
from pydantic import SecretStr
from starlette.testclient import TestClient

from conformance.apps import STYLES, build_app
from conformance.check import Answer
from conformance.dpop import ORIGIN, THUMBPRINT, Exchange, bound, proof
from conformance.dpop_cases import PROOF_METHOD
from conformance.flask_apps import FLASK_STYLES, build_flask_app
from conformance.model import IDENTITY, dpop_challenge
from scopegate import Settings

Send = Callable[[list[tuple[str, str]]], Answer]
ALL_STYLES = [*STYLES, *FLASK_STYLES]
REPLAYED = "The DPoP proof has already been used"
WHOAMI = "/api/whoami"


@pytest.fixture
def sender(settings: Settings) -> Iterator[Callable[[str, dict[str, Any]], Send]]:
    """``sender(style, overrides)``: a function sending GET /api/whoami with the given headers."""
    with ExitStack() as stack:

        def make(style: str, overrides: dict[str, Any]) -> Send:
            configured = settings.model_copy(update=overrides)
            if style in FLASK_STYLES:
                app = build_flask_app(style, configured)
                app.testing = True
                flask_client = app.test_client()

                def send_flask(headers: list[tuple[str, str]]) -> Answer:
                    response = flask_client.get(WHOAMI, headers=headers, base_url=ORIGIN)
                    items = response.headers.to_wsgi_list()
                    return Answer.of(response.status_code, items, response.get_data())

                return send_flask
            client = stack.enter_context(TestClient(build_app(style, configured)))

            def send_asgi(headers: list[tuple[str, str]]) -> Answer:
                response = client.get(WHOAMI, headers=headers)
                items = response.headers.multi_items()
                return Answer.of(response.status_code, items, response.content)

            return send_asgi

        yield make


def request(pair: Exchange) -> list[tuple[str, str]]:
    return [("Authorization", pair.authorization()), ("DPoP", pair.dpop())]


@pytest.mark.parametrize("style", ALL_STYLES)
def test_a_replayed_proof_is_refused(style: str, sender: Any) -> None:
    send = sender(style, {})
    headers = request(Exchange(bound(), proof(WHOAMI)))
    first = send(headers)
    assert first.status == 200
    assert first.json() == {**IDENTITY, "confirmation": THUMBPRINT}
    second = send(headers)
    assert second.status == 401
    assert second.header("www-authenticate") == dpop_challenge("invalid_dpop_proof", REPLAYED)
    assert second.json() == {"error": "invalid_dpop_proof", "error_description": REPLAYED}
    # A fresh proof for the same token is accepted again.
    token = headers[0][1].split(" ", 1)[1]
    assert send(request(Exchange(lambda: token, proof(WHOAMI)))).status == 200


@pytest.mark.parametrize("style", ALL_STYLES)
def test_a_refused_proof_is_not_remembered(style: str, sender: Any) -> None:
    """Only a proof that passed every check spends its jti: a broken one can be fixed and resent."""
    send = sender(style, {})
    broken = send(request(Exchange(bound(), proof(WHOAMI, method="POST", jti="fixed-jti"))))
    assert broken.status == 401
    assert broken.json()["error_description"] == PROOF_METHOD
    assert send(request(Exchange(bound(), proof(WHOAMI, jti="fixed-jti")))).status == 200


@pytest.mark.parametrize("style", ALL_STYLES)
def test_nonce_round_trip(style: str, sender: Any) -> None:
    """RFC 9449 §9: use_dpop_nonce with a DPoP-Nonce header, then success with that nonce."""
    send = sender(style, {"dpop_nonce": True})
    token = bound()()
    refused = send(request(Exchange(lambda: token, proof(WHOAMI))))
    assert refused.status == 401
    (nonce,) = refused.get_list("dpop-nonce")
    assert refused.json()["error"] == "use_dpop_nonce"
    description = refused.json()["error_description"]
    assert refused.header("www-authenticate") == dpop_challenge("use_dpop_nonce", description)
    assert refused.header("cache-control") == "no-store"
    accepted = send(request(Exchange(lambda: token, proof(WHOAMI, nonce=nonce))))
    assert accepted.status == 200
    assert accepted.json()["confirmation"] == THUMBPRINT
    stale = send(request(Exchange(lambda: token, proof(WHOAMI, nonce="not-the-nonce"))))
    assert stale.status == 401
    assert stale.get_list("dpop-nonce") == [nonce]


@pytest.mark.parametrize("style", ALL_STYLES)
def test_nonces_from_a_shared_secret_work_across_instances(style: str, sender: Any) -> None:
    """Two workers with one dpop_nonce_secret accept each other's nonces."""
    secret = SecretStr("a-secret-every-worker-shares-0123456789")
    shared = {"dpop_nonce": True, "dpop_nonce_secret": secret}
    one, two = sender(style, shared), sender(style, shared)
    token = bound()()
    (nonce,) = one(request(Exchange(lambda: token, proof(WHOAMI)))).get_list("dpop-nonce")
    assert two(request(Exchange(lambda: token, proof(WHOAMI, nonce=nonce)))).status == 200
