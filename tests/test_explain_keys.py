"""scopegate.explain on asymmetric verdicts: unknown kid, wrong key type, JWKS unreachable."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers import IDENTIFIER
from jwks_server import SigningKey, jwks_server
from scopegate import Settings
from scopegate.cli import main
from scopegate.errors import TokenFailure
from scopegate.explain import explain
from scopegate.testing import key_pair, mint_token, test_settings

KEY = SigningKey.generate("key-a")
EC_KEY = SigningKey.generate("key-a", "ES256")  # same kid, wrong type for RS256


def test_valid_rs256_from_a_static_key() -> None:
    settings = test_settings(algorithms=["RS256"])
    report = explain(mint_token(settings, scopes=["read"]), settings)
    assert (report.valid, report.reason) == (True, "scopes: read")


def test_unknown_kid_names_the_known_ones() -> None:
    settings = test_settings(algorithms=["RS256"])
    token = mint_token(settings, headers={"kid": "rotated-away"})
    report = explain(token, settings)
    assert report.failure is TokenFailure.UNKNOWN_KEY
    assert report.reason == (
        f"unknown kid: no key has kid 'rotated-away' (known kids: {key_pair('RS256').kid!r})"
    )


def test_wrong_key_type_says_what_was_needed() -> None:
    settings = Settings(
        _env_file=None,
        identifier=IDENTIFIER,
        public_key=json.dumps({"keys": [EC_KEY.public_jwk()]}),
        algorithms=["RS256", "ES256"],
    )
    report = explain(KEY.mint(), settings)
    assert report.failure is TokenFailure.KEY_MISMATCH
    assert report.reason == "wrong key type: RS256 needs a RSA key, key 'key-a' is EC"


def test_signature_names_the_public_key() -> None:
    settings = test_settings(algorithms=["ES256"])
    other = SigningKey.generate("x", "ES256").private
    token = mint_token(settings, key=other, headers={"kid": key_pair("ES256").kid})
    report = explain(token, settings)
    assert report.failure is TokenFailure.SIGNATURE
    assert report.reason == f"signature does not match the public key {key_pair('ES256').kid!r}"


@pytest.mark.parametrize("down", [True, False])
def test_jwks_fetched_or_unreachable(down: bool) -> None:
    with jwks_server(KEY) as server:
        settings = Settings(_env_file=None, identifier=IDENTIFIER, jwks_uri=server.jwks_uri)
        if down:
            server.stop()
        report = explain(KEY.mint(), settings)
    if down:
        assert (report.valid, report.failure) == (False, None)
        assert report.reason.startswith(
            f"JWKS unreachable: no signing key could be fetched from {server.jwks_uri} ("
        )
        assert report.to_dict()["failure"] is None
    else:
        assert report.valid


@pytest.mark.parametrize("case", ["valid", "unknown-kid", "unreachable"])
def test_inspect_command_explains_asymmetric_verdicts(
    case: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env file
    with jwks_server(KEY) as server:
        monkeypatch.setenv("SCOPEGATE_IDENTIFIER", IDENTIFIER)
        monkeypatch.setenv("SCOPEGATE_JWKS_URI", server.jwks_uri)
        token = KEY.mint(kid="rotated-away") if case == "unknown-kid" else KEY.mint()
        if case == "unreachable":
            server.stop()
        code = main(["inspect", token])
    last = capsys.readouterr().out.splitlines()[-1]
    expected = {
        "valid": (0, "VALID \u2014 scopes: other-scope sample-scope"),
        "unknown-kid": (
            1,
            "INVALID \u2014 unknown kid: no key has kid 'rotated-away' (known kids: 'key-a')",
        ),
        "unreachable": (
            1,
            "INVALID \u2014 JWKS unreachable: no signing key could be fetched from "
            f"{server.jwks_uri} (",
        ),
    }[case]
    assert code == expected[0]
    assert last.startswith(expected[1])
