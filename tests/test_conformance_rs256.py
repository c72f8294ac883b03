"""The conformance token cases under an RS256 configuration, on every adapter style.

The same rows as ``conformance.token_cases``, with the same expected status,
challenge and body; only the signing changes (see ``conformance.tokens.Signer``):
valid tokens are RS256 with the API's key, "another secret" is another RSA key,
and a forged ``HS256`` header becomes ``RS256`` (and the reverse). The key is the
static ``public_key`` (a PEM, so a ``kid`` header never matters), so no case
touches the network.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from urllib.parse import urlencode

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.testclient import TestClient

from conformance import tokens
from conformance.apps import STYLES, build_app
from conformance.check import Answer, check_answer, refuse_network
from conformance.flask_apps import FLASK_STYLES, build_flask_app
from conformance.model import Case
from conformance.token_cases import TOKEN_CASES
from helpers import IDENTIFIER, ISSUER
from scopegate import Settings

API_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PEM = API_KEY.public_key().public_bytes(
    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
)
DEFAULTS = {"auth_required": True, "allow_query_token": False}
# The rows that need no other settings (profiles, declared claims and validators
# are about claims, whatever signed them: they run under HS256 in test_conformance).
RS256_CASES = [case for case in TOKEN_CASES if case.options == DEFAULTS and not case.overrides]
CASE_PARAMS = [pytest.param(case, id=case.id) for case in RS256_CASES]


@pytest.fixture(autouse=True)
def rs256(monkeypatch: pytest.MonkeyPatch) -> None:
    refuse_network(monkeypatch)
    monkeypatch.setattr(tokens.SIGNER, "rs256_key", API_KEY)
    monkeypatch.setattr(tokens.SIGNER, "other_rs256_key", OTHER_KEY)


@pytest.fixture(scope="module")
def rs256_settings() -> Settings:
    return Settings(
        _env_file=None,
        identifier=IDENTIFIER,
        issuer=ISSUER,
        public_key=PEM.decode(),
        algorithms=["RS256"],
    )


@pytest.fixture(scope="module")
def asgi_clients(rs256_settings: Settings) -> Iterator[dict[str, TestClient]]:
    with ExitStack() as stack:
        yield {
            style: stack.enter_context(TestClient(build_app(style, rs256_settings)))
            for style in STYLES
        }


def test_most_token_cases_run_under_rs256() -> None:
    assert len(RS256_CASES) >= 0.8 * len(TOKEN_CASES)


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("case", CASE_PARAMS)
def test_asgi(case: Case, style: str, asgi_clients: dict[str, TestClient]) -> None:
    headers = [
        (name.encode("ascii"), value.encode("utf-8")) for name, value in case.build_headers()
    ]
    response = asgi_clients[style].get(case.path, headers=headers)
    check_answer(
        case, Answer.of(response.status_code, response.headers.multi_items(), response.content)
    )


@pytest.mark.parametrize("style", FLASK_STYLES)
@pytest.mark.parametrize("case", CASE_PARAMS)
def test_flask(case: Case, style: str, rs256_settings: Settings) -> None:
    client = build_flask_app(style, rs256_settings).test_client()
    headers = [
        (name, value.encode("utf-8").decode("latin-1")) for name, value in case.build_headers()
    ]
    response = client.get(case.path, headers=headers, query_string=urlencode(case.build_query()))
    answer = Answer.of(response.status_code, response.headers.to_wsgi_list(), response.get_data())
    check_answer(case, answer)


def test_the_tokens_are_rs256() -> None:
    assert jwt.get_unverified_header(tokens.valid()())["alg"] == "RS256"
    assert jwt.get_unverified_header(tokens.forged({"alg": "HS256"})())["alg"] == "RS256"
    assert jwt.get_unverified_header(tokens.forged({"alg": "RS256"})())["alg"] == "HS256"
    public = API_KEY.public_key()
    assert jwt.decode(tokens.valid()(), public, ["RS256"], audience=IDENTIFIER)
