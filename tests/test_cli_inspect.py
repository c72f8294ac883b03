"""``scopegate inspect`` in-process: each token rule explained in words, with claim and values."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

import pytest

from helpers import IDENTIFIER, ISSUER, SECRET
from scopegate import Settings
from scopegate.cli import main
from scopegate.testing import mint_token

DASH = "\u2014"


@pytest.fixture(autouse=True)
def configured(monkeypatch: pytest.MonkeyPatch, tmp_cwd: Path) -> None:
    monkeypatch.setenv("SCOPEGATE_SIGNING_SECRET", SECRET)
    monkeypatch.setenv("SCOPEGATE_IDENTIFIER", IDENTIFIER)
    monkeypatch.setenv("SCOPEGATE_ISSUER", ISSUER)


def settings() -> Settings:
    return Settings(signing_secret=SECRET, identifier=IDENTIFIER, issuer=ISSUER, _env_file=None)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def raw(payload: bytes, header: bytes = b'{"alg":"HS256"}') -> str:
    signing_input = f"{b64(header)}.{b64(payload)}"
    mac = hmac.new(SECRET.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(mac)}"


def claims_text(**overrides: Any) -> str:
    token = mint_token(settings(), **overrides)
    return base64.urlsafe_b64decode(token.split(".")[1] + "==").decode()


def spliced(members: str, **overrides: Any) -> str:
    return raw(f"{claims_text(**overrides)[:-1]},{members}}}".encode())


def inspect(token: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    status = main(["inspect", token])
    return status, capsys.readouterr().out.splitlines()[-1]


CASES = [
    pytest.param(
        lambda: spliced('"sub":"\\ud800"', sub=None),
        "malformed: the payload holds a string with an unpaired surrogate (\\ud800-\\udfff), "
        "which is not Unicode text",
        {},
        id="surrogate",
    ),
    pytest.param(
        lambda: spliced('"nbf":NaN'),
        "malformed: the payload is not JSON (NaN is not JSON)",
        {},
        id="nan",
    ),
    pytest.param(
        lambda: spliced('"scope":"admin"', scopes=["read"]),
        "malformed: the payload is not JSON (duplicate member name 'scope')",
        {},
        id="duplicate",
    ),
    pytest.param(
        lambda: raw(claims_text().encode("utf-16")),
        "malformed: the payload is not UTF-8",
        {},
        id="utf-16",
    ),
    pytest.param(
        lambda: spliced('"nbf":null'),
        "claim type: 'nbf' must be a NumericDate (seconds since 1970, up to year 9999), got None",
        {},
        id="nbf-null",
    ),
    pytest.param(
        lambda: mint_token(settings(), jti=12),
        "claim type: 'jti' must be a string, got 12",
        {},
        id="jti-number",
    ),
    pytest.param(
        lambda: mint_token(settings(), headers={"cty": "JWT"}),
        "header: cty 'JWT' announces a nested JWT, which scopegate does not accept",
        {},
        id="cty",
    ),
    pytest.param(
        lambda: mint_token(
            settings(), cnf={"x5t#S256": "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2"}
        ),
        "sender-constrained: cnf binds the token to a key (x5t#S256), so it needs its proof and "
        "cannot be used as a bearer token (RFC 9449 §7.1, RFC 8705 §3)",
        {},
        id="cnf",
    ),
    pytest.param(
        lambda: mint_token(settings(), profile="default"),
        "type: typ 'JWT' is not accepted (accepted: application/at+jwt, at+jwt)",
        {"SCOPEGATE_TOKEN_PROFILE": "rfc9068"},
        id="rfc9068-typ",
    ),
    pytest.param(
        lambda: mint_token(settings(), profile="rfc9068", jti=None),
        "missing claim: 'jti' (JWT ID) is required by token_profile rfc9068 "
        "(SCOPEGATE_TOKEN_PROFILE)",
        {"SCOPEGATE_TOKEN_PROFILE": "rfc9068"},
        id="rfc9068-jti",
    ),
    pytest.param(
        lambda: mint_token(settings(), gty="password"),
        "claim value: 'gty' must be one of ['client-credentials'], got 'password'",
        {"SCOPEGATE_CLAIM_VALUES": '{"gty": ["client-credentials"]}'},
        id="claim-values",
    ),
    pytest.param(
        lambda: mint_token(settings()),
        "missing claim: 'org_id' is required by required_claims (SCOPEGATE_REQUIRED_CLAIMS)",
        {"SCOPEGATE_REQUIRED_CLAIMS": "org_id"},
        id="required-claims",
    ),
]


@pytest.mark.parametrize(("build", "reason", "env"), CASES)
def test_each_new_rejection_in_words(
    build: Any,
    reason: str,
    env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    status, last = inspect(build(), capsys)
    assert status == 1
    assert last == f"INVALID {DASH} {reason}"


def test_the_claim_rules_in_force_are_shown(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SCOPEGATE_TOKEN_PROFILE", "rfc9068")
    monkeypatch.setenv("SCOPEGATE_REQUIRED_CLAIMS", "org_id")
    monkeypatch.setenv("SCOPEGATE_CLAIM_VALUES", '{"gty": ["client-credentials"]}')
    token = mint_token(settings(), profile="rfc9068", org_id="o1", scopes=["read"])
    assert main(["inspect", token]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-2] == (
        "Also required: token profile rfc9068; required claims org_id; "
        "gty one of 'client-credentials'"
    )
    assert out[-1] == f"VALID {DASH} scopes: read"


def test_json_names_the_rule_and_the_claim(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["inspect", "--json", mint_token(settings(), jti=12)]) == 1
    report = json.loads(capsys.readouterr().out)
    assert (report["failure"], report["rule"], report["claim"]) == ("CLAIM_TYPE", "type", "jti")
