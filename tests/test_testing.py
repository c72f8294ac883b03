"""scopegate.testing and the pytest plugin: minted tokens go through the real validation path."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
import uvicorn
from fastapi import FastAPI, Security
from fastapi.testclient import TestClient
from flask import Flask
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient as StarletteTestClient

from scopegate import Settings, TokenVerifier
from scopegate._settings import MIN_SECRET_BYTES, env_name
from scopegate.asgi import BearerAuthMiddleware
from scopegate.errors import InvalidTokenError, TokenFailure
from scopegate.fastapi import require_scope as fastapi_require_scope
from scopegate.flask import ScopeGate
from scopegate.flask import require_scope as flask_require_scope
from scopegate.starlette import require_scope as starlette_require_scope
from scopegate.testing import (
    TEST_IDENTIFIER,
    TEST_ISSUER,
    TEST_SUBJECT,
    bearer,
    mint_token,
    test_settings,
)

pytest_plugins = ["pytester"]

NOW = 1_800_000_000
OTHER_SECRET = "another-secret-that-is-long-enough-for-hs256-0123456789"
Mint = Callable[..., str]
Bearer = Callable[[str], dict[str, str]]


@pytest.fixture
def settings() -> Settings:
    return test_settings()


def failure_of(token: str, settings: Settings, now: float = NOW) -> TokenFailure | None:
    try:
        TokenVerifier(settings, clock=lambda: now).verify(token)
    except InvalidTokenError as error:
        return error.failure
    return None


def unverified(token: str) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


# --- mint_token and test_settings -------------------------------------------------------


def test_minted_token_round_trips_through_the_verifier(settings: Settings) -> None:
    token = mint_token(settings, scopes=["read:messages write:messages", "admin"], now=NOW)
    access = TokenVerifier(settings, clock=lambda: NOW + 10).verify(token)
    assert access.scopes == {"read:messages", "write:messages", "admin"}
    assert access.subject == TEST_SUBJECT
    assert access.client_id == "scopegate-test-client"
    assert access.audience == (TEST_IDENTIFIER,)
    assert access.issuer == TEST_ISSUER
    assert access.expires_at.timestamp() == NOW + 3600
    assert access.issued_at is not None
    assert access.issued_at.timestamp() == NOW


def test_minted_claims_are_those_of_a_client_credentials_grant(settings: Settings) -> None:
    token = mint_token(settings, scopes=["b a", "a"], subject="abc@clients", now=NOW + 0.7)
    assert unverified(token) == {
        "iss": TEST_ISSUER,
        "sub": "abc@clients",
        "aud": TEST_IDENTIFIER,
        "iat": NOW,
        "exp": NOW + 3600,
        "azp": "abc",
        "scope": "b a",
        "gty": "client-credentials",
    }
    assert jwt.get_unverified_header(token) == {"alg": "HS256", "typ": "JWT"}


def test_current_time_is_the_default(settings: Settings) -> None:
    before = int(time.time())
    claims = unverified(mint_token(settings, expires_in=60))
    assert before <= claims["iat"] <= int(time.time())
    assert claims["exp"] == claims["iat"] + 60
    assert failure_of(mint_token(settings), settings, time.time()) is None


@pytest.mark.parametrize(
    ("scopes", "expected"),
    [
        pytest.param((), None, id="none"),
        pytest.param("read write", "read write", id="one-string-is-not-characters"),
        pytest.param(["read", "read write", " "], "read write", id="deduplicated"),
        pytest.param(iter(["x", "y"]), "x y", id="any-iterable"),
    ],
)
def test_scope_claim(settings: Settings, scopes: Any, expected: str | None) -> None:
    assert unverified(mint_token(settings, scopes=scopes)).get("scope") == expected


def test_claims_are_overridable_and_removable(settings: Settings) -> None:
    token = mint_token(
        settings,
        scopes=["ignored"],
        scope="from-claim",
        permissions=["read:messages"],
        sub="someone",
        gty=None,
        azp=None,
        now=NOW,
    )
    claims = unverified(token)
    assert claims["scope"] == "from-claim"
    assert claims["permissions"] == ["read:messages"]
    assert claims["sub"] == "someone"
    assert "gty" not in claims
    assert "azp" not in claims


def test_no_issuer_claim_when_the_settings_name_none() -> None:
    settings = test_settings(issuer=None)
    token = mint_token(settings)
    assert "iss" not in unverified(token)
    assert failure_of(token, settings, time.time()) is None


def test_headers_are_added(settings: Settings) -> None:
    token = mint_token(settings, headers={"kid": "key-1", "typ": "at+jwt"})
    assert jwt.get_unverified_header(token) == {"alg": "HS256", "typ": "at+jwt", "kid": "key-1"}
    assert failure_of(token, settings, time.time()) is None


def test_signs_with_the_first_allowed_algorithm() -> None:
    settings = test_settings(algorithms=["HS512", "HS256"])
    token = mint_token(settings)
    assert jwt.get_unverified_header(token)["alg"] == "HS512"
    assert failure_of(token, settings, time.time()) is None


@pytest.mark.parametrize(
    ("overrides", "failure"),
    [
        pytest.param({"expires_in": -60}, TokenFailure.EXPIRED, id="expired"),
        pytest.param({"aud": "https://another-api"}, TokenFailure.AUDIENCE, id="wrong-audience"),
        pytest.param({"iss": "https://evil.example/"}, TokenFailure.ISSUER, id="wrong-issuer"),
        pytest.param({"secret": OTHER_SECRET}, TokenFailure.SIGNATURE, id="bad-signature"),
        pytest.param({"algorithm": "HS384"}, TokenFailure.ALGORITHM, id="algorithm"),
        pytest.param({"exp": None}, TokenFailure.MISSING_CLAIM, id="no-exp"),
        pytest.param({"aud": None}, TokenFailure.MISSING_CLAIM, id="no-aud"),
        pytest.param({"nbf": NOW + 600}, TokenFailure.NOT_YET_VALID, id="not-yet-valid"),
        pytest.param({"now": NOW + 600}, TokenFailure.NOT_YET_VALID, id="issued-in-future"),
        pytest.param({"scope": 5}, TokenFailure.CLAIM_TYPE, id="scope-type"),
        pytest.param({"headers": {"typ": "JOSE"}}, TokenFailure.TYPE, id="typ"),
    ],
)
def test_bad_tokens_on_purpose(
    settings: Settings, overrides: dict[str, Any], failure: TokenFailure
) -> None:
    token = mint_token(settings, **{"now": NOW, **overrides})
    assert failure_of(token, settings) is failure


def test_signature_override_accepts_bytes(settings: Settings) -> None:
    token = mint_token(settings, secret=settings.secret_bytes)
    assert failure_of(token, settings, time.time()) is None


def test_settings_none_reads_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in Settings.model_fields:
        monkeypatch.delenv(env_name(name), raising=False)
    monkeypatch.setenv("SCOPEGATE_SIGNING_SECRET", OTHER_SECRET)
    monkeypatch.setenv("SCOPEGATE_IDENTIFIER", "https://from-env")
    token = mint_token(scopes=["x"])
    env_settings = Settings()
    assert unverified(token)["aud"] == "https://from-env"
    assert "iss" not in unverified(token)
    assert failure_of(token, env_settings, time.time()) is None


def test_test_settings_are_random_strong_and_isolated(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("SCOPEGATE_LEEWAY=99\nSCOPEGATE_REALM=dotenv\n")
    monkeypatch.setenv("SCOPEGATE_IDENTIFIER", "https://from-env")
    monkeypatch.setenv("SCOPEGATE_ALGORITHMS", "HS512")
    first, second = test_settings(), test_settings()
    assert first.secret_bytes != second.secret_bytes
    assert len(first.secret_bytes) >= 64 > MIN_SECRET_BYTES
    assert first.identifier == TEST_IDENTIFIER
    assert first.issuer == TEST_ISSUER
    assert first.algorithms == ["HS256"]
    assert first.leeway == 5.0
    assert first.realm == "api"


def test_test_settings_overrides() -> None:
    settings = test_settings(identifier="https://my-api-urn", scope_claims=["permissions"])
    assert settings.identifier == "https://my-api-urn"
    assert settings.scope_claims == ["permissions"]
    token = mint_token(settings, permissions=["read"], scopes=["ignored"])
    assert TokenVerifier(settings).verify(token).scopes == {"read"}


def test_bearer() -> None:
    assert bearer("abc.def.ghi") == {"Authorization": "Bearer abc.def.ghi"}


def test_helpers_import_neither_a_framework_nor_pytest() -> None:
    code = (
        "import sys, scopegate.testing, scopegate.explain, scopegate.cli\n"
        "loaded = sorted(m for m in ('pytest', 'fastapi', 'starlette', 'flask', 'werkzeug',"
        " 'httpx') if m in sys.modules)\n"
        "print(loaded)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


# --- the pytest plugin, through its entry point ----------------------------------------

PLUGIN_TESTS = """
import os

import pytest

from scopegate import Settings, TokenVerifier


def test_settings_are_exported(scopegate_settings):
    assert os.environ["SCOPEGATE_SIGNING_SECRET"] == (
        scopegate_settings.signing_secret.get_secret_value()
    )
    assert os.environ["SCOPEGATE_IDENTIFIER"] == "https://api.scopegate.test"
    # An app that reads its settings from the environment (and the .env file
    # beside this test, which variables override) sees exactly these.
    assert Settings() == scopegate_settings


def test_minted_tokens_verify(scopegate_settings, mint_token, bearer):
    token = mint_token(scopes=["sample-scope"])
    assert TokenVerifier(Settings()).verify(token).scopes == {"sample-scope"}
    assert bearer(token) == {"Authorization": "Bearer " + token}


SEEN = []


@pytest.mark.parametrize("run", [1, 2])
def test_one_secret_per_session(scopegate_settings, scopegate_test_secret, run):
    SEEN.append(scopegate_settings.signing_secret.get_secret_value())
    assert SEEN == [scopegate_test_secret] * run
    assert len(scopegate_test_secret) >= 64


def test_nothing_leaks_out_of_a_test():
    assert not [name for name in os.environ if name.startswith("SCOPEGATE_")]
"""

DOTENV = """\
SCOPEGATE_SIGNING_SECRET=dotenv-secret-dotenv-secret-dotenv-secret
SCOPEGATE_IDENTIFIER=https://dotenv
SCOPEGATE_ISSUER=https://dotenv-issuer/
SCOPEGATE_ALGORITHMS=HS512
SCOPEGATE_LEEWAY=100
SCOPEGATE_SCOPE_CLAIMS=permissions
SCOPEGATE_REALM=dotenv
SCOPEGATE_CACHE_MAXSIZE=7
"""


def test_plugin_fixtures_in_a_project(pytester: pytest.Pytester) -> None:
    pytester.makefile("", **{".env": DOTENV})
    pytester.makepyfile(test_api=PLUGIN_TESTS)
    pytester.runpytest("-W", "error").assert_outcomes(passed=5)


MODULE_LEVEL_APP = """
from fastapi import FastAPI, Security
from fastapi.testclient import TestClient

from scopegate.asgi import BearerAuthMiddleware
from scopegate.fastapi import require_scope

app = FastAPI()
app.add_middleware(BearerAuthMiddleware)  # built lazily, at the first request, then kept


@app.get("/scoped", dependencies=[Security(require_scope("sample-scope"))])
async def scoped():
    return {"ok": True}


client = TestClient(app)


def test_first(scopegate_settings, mint_token, bearer):
    token = mint_token(scopes=["sample-scope"])
    assert client.get("/scoped", headers=bearer(token)).status_code == 200


def test_second(scopegate_settings, mint_token, bearer):
    token = mint_token(scopes=["sample-scope"])
    assert client.get("/scoped", headers=bearer(token)).status_code == 200
"""


def test_a_module_level_app_accepts_the_tokens_of_every_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_app=MODULE_LEVEL_APP)
    pytester.runpytest("-W", "error", "-p", "no:cacheprovider").assert_outcomes(passed=2)


def test_a_failure_after_changed_settings_says_why(pytester: pytest.Pytester) -> None:
    changed = MODULE_LEVEL_APP.replace(
        "def test_second(scopegate_settings",
        "@pytest.mark.parametrize('scopegate_settings_overrides', "
        "[{'identifier': 'https://other-api'}])\ndef test_second(scopegate_settings",
    )
    pytester.makepyfile(test_app="import pytest\n" + changed)
    result = pytester.runpytest("-W", "error", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        ["*scopegate*", "*This test's settings differ from those of an earlier test in identifier*"]
    )


def test_plugin_settings_overrides_fixture(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_overrides="""
        import pytest

        from scopegate import Settings, TokenVerifier


        @pytest.fixture
        def scopegate_settings_overrides():
            return {
                "scope_claims": ["scope", "permissions"],
                "issuer": None,
                "leeway": 0,
                "claim_values": {"gty": ["client-credentials"]},
            }


        def test_overridden(scopegate_settings, mint_token):
            assert Settings() == scopegate_settings
            assert scopegate_settings.issuer is None
            token = mint_token(permissions=["read:messages"])
            assert TokenVerifier(Settings()).verify(token).scopes == {"read:messages"}
            assert Settings().claim_values == {"gty": ["client-credentials"]}
        """
    )
    pytester.runpytest("-W", "error").assert_outcomes(passed=1)


def test_plugin_is_registered_by_entry_point(pytester: pytest.Pytester) -> None:
    listed = pytester.runpytest("--fixtures")
    for fixture in ("scopegate_settings", "scopegate_test_secret", "mint_token", "bearer"):
        listed.stdout.fnmatch_lines([f"{fixture} *-- *"])
    pytester.makepyfile("def test_uses(mint_token):\n    assert mint_token()\n")
    disabled = pytester.runpytest("-p", "no:scopegate")
    disabled.assert_outcomes(errors=1)
    disabled.stdout.fnmatch_lines(["*fixture 'mint_token' not found*"])


# --- the fixtures with each framework's test client -------------------------------------


def fastapi_app() -> FastAPI:
    app = FastAPI()
    app.add_middleware(BearerAuthMiddleware)  # settings from the environment

    @app.get("/api/private-scoped", dependencies=[Security(fastapi_require_scope("sample-scope"))])
    async def private_scoped() -> dict[str, str]:
        return {"message": "scoped"}

    return app


def starlette_app() -> Starlette:
    @starlette_require_scope("sample-scope")
    async def private_scoped(request: Request) -> JSONResponse:
        return JSONResponse({"message": "scoped"})

    app = Starlette(routes=[Route("/api/private-scoped", private_scoped)])
    app.add_middleware(BearerAuthMiddleware)
    return app


def flask_app() -> Flask:
    app = Flask(__name__)
    ScopeGate(app)  # settings from app.config, then the environment

    @app.get("/api/private-scoped")
    @flask_require_scope("sample-scope")
    def private_scoped() -> dict[str, str]:
        return {"message": "scoped"}

    return app


def check_client(get: Callable[..., Any], mint_token: Mint, bearer: Bearer) -> None:
    """The same four answers from any client: 200, 403, 401 expired, 401 wrong audience."""
    ok = get("/api/private-scoped", headers=bearer(mint_token(scopes=["sample-scope"])))
    assert ok.status_code == 200
    # Flask's test response has .json as a property; httpx's responses have a method.
    body = ok.json if isinstance(ok.json, dict) else ok.json()
    assert body == {"message": "scoped"}
    assert get("/api/private-scoped", headers=bearer(mint_token())).status_code == 403
    expired = get(
        "/api/private-scoped", headers=bearer(mint_token(scopes=["sample-scope"], expires_in=-60))
    )
    assert expired.status_code == 401
    assert "The access token has expired" in expired.headers["www-authenticate"]
    foreign = get(
        "/api/private-scoped", headers=bearer(mint_token(scopes=["sample-scope"], aud="https://x"))
    )
    assert foreign.status_code == 401
    assert "audience" in foreign.headers["www-authenticate"]


@pytest.mark.usefixtures("scopegate_settings")
def test_fastapi_test_client(mint_token: Mint, bearer: Bearer) -> None:
    with TestClient(fastapi_app()) as client:
        check_client(client.get, mint_token, bearer)


@pytest.mark.usefixtures("scopegate_settings")
def test_starlette_test_client(mint_token: Mint, bearer: Bearer) -> None:
    with StarletteTestClient(starlette_app()) as client:
        check_client(client.get, mint_token, bearer)


@pytest.mark.usefixtures("scopegate_settings")
def test_flask_test_client(mint_token: Mint, bearer: Bearer) -> None:
    check_client(flask_app().test_client().get, mint_token, bearer)


@pytest.fixture
def live_server(scopegate_settings: Settings) -> Iterator[str]:
    """The FastAPI app under a real uvicorn server on 127.0.0.1, in a thread."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        fastapi_app(), log_level="warning", lifespan="off", ws="none", access_log=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            assert thread.is_alive(), "uvicorn stopped"
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def test_httpx_against_a_live_server(live_server: str, mint_token: Mint, bearer: Bearer) -> None:
    with httpx.Client(base_url=live_server, timeout=5.0) as client:
        check_client(client.get, mint_token, bearer)


def test_mint_token_rfc9068_profile() -> None:
    settings = test_settings(token_profile="rfc9068")
    token = mint_token(settings, scopes=["read"])
    header = jwt.get_unverified_header(token)
    claims = jwt.decode(token, options={"verify_signature": False})
    assert header == {"alg": "HS256", "typ": "at+jwt"}
    assert claims["client_id"] == claims["azp"] == "scopegate-test-client"
    assert isinstance(claims["jti"], str)
    assert len(claims["jti"]) >= 16
    assert (
        claims["jti"]
        != jwt.decode(mint_token(settings), options={"verify_signature": False})["jti"]
    )
    assert TokenVerifier(settings).verify(token).client_id == "scopegate-test-client"


def test_mint_token_profile_argument_wins_over_the_settings() -> None:
    strict = test_settings(token_profile="rfc9068")
    plain = mint_token(strict, profile="default")
    assert jwt.get_unverified_header(plain) == {"alg": "HS256", "typ": "JWT"}
    with pytest.raises(InvalidTokenError) as raised:
        TokenVerifier(strict).verify(plain)
    assert raised.value.failure is TokenFailure.TYPE
    typed = mint_token(test_settings(), profile="rfc9068")
    assert jwt.get_unverified_header(typed)["typ"] == "at+jwt"
    untyped = mint_token(test_settings(), headers={"typ": None})
    assert jwt.get_unverified_header(untyped) == {"alg": "HS256"}
    with pytest.raises(ValueError, match="unknown token profile 'auth0'"):
        mint_token(test_settings(), profile="auth0")
