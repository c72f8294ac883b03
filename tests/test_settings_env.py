"""Settings read from SCOPEGATE_* variables and the .env file, and their precedence."""

from __future__ import annotations

from pathlib import Path

import pytest

from scopegate import Settings
from settings_helpers import (
    HEADER,
    IDENTIFIER,
    SECRET,
    WEAK_SECRET,
    assert_no_secret,
    configuration_error,
)

pytestmark = pytest.mark.usefixtures("tmp_cwd")  # no .env of the repository


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param("HS256,HS384", id="comma"),
        pytest.param("HS256 HS384", id="space"),
        pytest.param(" HS256 , HS384 ", id="comma-and-spaces"),
        pytest.param('["HS256", "HS384"]', id="json-array"),
    ],
)
def test_algorithms_from_env(monkeypatch: pytest.MonkeyPatch, raw: str) -> None:
    monkeypatch.setenv("SCOPEGATE_SIGNING_SECRET", SECRET)
    monkeypatch.setenv("SCOPEGATE_IDENTIFIER", IDENTIFIER)
    monkeypatch.setenv("SCOPEGATE_ALGORITHMS", raw)
    assert Settings().algorithms == ["HS256", "HS384"]


def test_every_setting_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "SIGNING_SECRET": "short",
        "IDENTIFIER": IDENTIFIER,
        "ISSUER": "https://issuer.example/",
        "ALGORITHMS": "HS512",
        "LEEWAY": "12.5",
        "SCOPE_CLAIMS": "scope,permissions",
        "REALM": "orders",
        "ALLOW_WEAK_SECRET": "true",
        "MAX_TOKEN_BYTES": "4096",
    }.items():
        monkeypatch.setenv(f"SCOPEGATE_{name}", value)
    settings = Settings()
    assert settings.secret_bytes == b"short"
    assert settings.identifier == IDENTIFIER
    assert settings.issuer == "https://issuer.example/"
    assert settings.algorithms == ["HS512"]
    assert settings.leeway == 12.5
    assert settings.scope_claims == ["scope", "permissions"]
    assert settings.realm == "orders"
    assert settings.allow_weak_secret is True
    assert settings.max_token_bytes == 4096


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        pytest.param(
            "SCOPEGATE_ALGORITHMS",
            "HS256,RS256",
            "algorithms (SCOPEGATE_ALGORITHMS): RS256 needs a key source: "
            "SCOPEGATE_JWKS_URI, SCOPEGATE_PUBLIC_KEY or SCOPEGATE_ISSUER (discovery)",
            id="algorithms-unknown",
        ),
        pytest.param(
            "SCOPEGATE_ALGORITHMS",
            "",
            "algorithms (SCOPEGATE_ALGORITHMS): must name at least one algorithm",
            id="algorithms-empty",
        ),
        pytest.param(
            "SCOPEGATE_ALGORITHMS",
            '["HS256", "none"]',
            "algorithms (SCOPEGATE_ALGORITHMS): 'none' is never accepted: tokens must be signed",
            id="algorithms-json-none",
        ),
        pytest.param(
            "SCOPEGATE_ALGORITHMS",
            "[HS256",
            "algorithms (SCOPEGATE_ALGORITHMS): Expecting value: line 1 column 2 (char 1)",
            id="algorithms-bad-json",
        ),
        pytest.param(
            "SCOPEGATE_LEEWAY",
            "ten",
            "leeway (SCOPEGATE_LEEWAY): "
            "Input should be a valid number, unable to parse string as a number",
            id="leeway-not-a-number",
        ),
        pytest.param(
            "SCOPEGATE_LEEWAY",
            "301",
            "leeway (SCOPEGATE_LEEWAY): Input should be less than or equal to 300",
            id="leeway-too-large",
        ),
        pytest.param(
            "SCOPEGATE_SIGNING_SECRET",
            WEAK_SECRET,
            "signing_secret (SCOPEGATE_SIGNING_SECRET): is 31 bytes; HMAC keys need at least 32 "
            "(RFC 7518 section 3.2). Set SCOPEGATE_ALLOW_WEAK_SECRET=true to accept it anyway",
            id="secret-weak",
        ),
    ],
)
def test_bad_env_var_is_named(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv("SCOPEGATE_SIGNING_SECRET", SECRET)
    monkeypatch.setenv("SCOPEGATE_IDENTIFIER", IDENTIFIER)
    monkeypatch.setenv(name, value)
    exc = configuration_error()
    assert str(exc) == HEADER + message
    assert_no_secret(exc, SECRET, WEAK_SECRET)


def test_missing_env_is_reported_without_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCOPEGATE_SIGNING_SECRET", SECRET)
    exc = configuration_error()
    assert str(exc) == HEADER + "identifier (SCOPEGATE_IDENTIFIER): is required"
    assert_no_secret(exc, SECRET)


def write_env_file(directory: Path, **values: str) -> None:
    lines = [f"SCOPEGATE_{name.upper()}={value}" for name, value in values.items()]
    (directory / ".env").write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_env_file_in_working_directory(tmp_cwd: Path) -> None:
    write_env_file(
        tmp_cwd,
        signing_secret=SECRET,
        identifier=IDENTIFIER,
        algorithms="HS256,HS384",
        scope_claims="scope,permissions",
        leeway="7",
    )
    settings = Settings()
    assert settings.secret_bytes == SECRET.encode()
    assert settings.identifier == IDENTIFIER
    assert settings.algorithms == ["HS256", "HS384"]
    assert settings.scope_claims == ["scope", "permissions"]
    assert settings.leeway == 7.0


def test_env_file_ignored_when_disabled(tmp_cwd: Path) -> None:
    write_env_file(tmp_cwd, signing_secret=SECRET, identifier=IDENTIFIER)
    exc = configuration_error(_env_file=None)
    assert str(exc) == (
        HEADER + "identifier (SCOPEGATE_IDENTIFIER): is required\n"
        "  signing_secret (SCOPEGATE_SIGNING_SECRET): is required, unless tokens are verified "
        "with a public key from SCOPEGATE_JWKS_URI, SCOPEGATE_PUBLIC_KEY or SCOPEGATE_ISSUER "
        "(discovery)"
    )


def test_bad_env_file_value_is_named_without_secret(tmp_cwd: Path) -> None:
    write_env_file(tmp_cwd, signing_secret=WEAK_SECRET, identifier=IDENTIFIER)
    exc = configuration_error()
    assert str(exc).startswith(HEADER + "signing_secret (SCOPEGATE_SIGNING_SECRET): is 31 bytes")
    assert_no_secret(exc, WEAK_SECRET)


def test_keyword_beats_env_beats_env_file(monkeypatch: pytest.MonkeyPatch, tmp_cwd: Path) -> None:
    write_env_file(tmp_cwd, signing_secret=SECRET, identifier="from-file", realm="file", leeway="1")
    monkeypatch.setenv("SCOPEGATE_IDENTIFIER", "from-env")
    monkeypatch.setenv("SCOPEGATE_REALM", "env")
    settings = Settings(identifier="from-keyword")
    assert settings.identifier == "from-keyword"
    assert settings.realm == "env"
    assert settings.leeway == 1.0


def test_keyword_beats_bad_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCOPEGATE_ALGORITHMS", "RS256")
    monkeypatch.setenv("SCOPEGATE_LEEWAY", "-5")
    settings = Settings(
        signing_secret=SECRET, identifier=IDENTIFIER, algorithms=["HS384"], leeway=0
    )
    assert settings.algorithms == ["HS384"]
    assert settings.leeway == 0.0


def test_token_rules_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCOPEGATE_SIGNING_SECRET", SECRET)
    monkeypatch.setenv("SCOPEGATE_IDENTIFIER", IDENTIFIER)
    monkeypatch.setenv("SCOPEGATE_TOKEN_PROFILE", " RFC9068 ")
    monkeypatch.setenv("SCOPEGATE_REQUIRED_CLAIMS", "org_id, jti org_id")
    monkeypatch.setenv(
        "SCOPEGATE_CLAIM_VALUES", '{"gty": ["client-credentials"], "azp": ["a", "b"]}'
    )
    settings = Settings()
    assert settings.token_profile == "rfc9068"
    assert settings.required_claims == ["org_id", "jti"]
    assert settings.claim_values == {"gty": ["client-credentials"], "azp": ["a", "b"]}


def test_token_rules_default_to_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCOPEGATE_SIGNING_SECRET", SECRET)
    monkeypatch.setenv("SCOPEGATE_IDENTIFIER", IDENTIFIER)
    monkeypatch.setenv("SCOPEGATE_CLAIM_VALUES", "")
    settings = Settings()
    assert (settings.token_profile, settings.required_claims, settings.claim_values) == (
        "default",
        [],
        {},
    )


@pytest.mark.parametrize(
    ("values", "message"),
    [
        pytest.param(
            {"SCOPEGATE_TOKEN_PROFILE": "auth0"},
            "token_profile (SCOPEGATE_TOKEN_PROFILE): Input should be 'default' or 'rfc9068'",
            id="profile-unknown",
        ),
        pytest.param(
            {"SCOPEGATE_CLAIM_VALUES": "{gty"},
            "claim_values (SCOPEGATE_CLAIM_VALUES): must be a JSON object, e.g. "
            '{"gty": ["client-credentials"]}',
            id="claim-values-not-json",
        ),
        pytest.param(
            {"SCOPEGATE_CLAIM_VALUES": '{"gty": []}'},
            "claim_values (SCOPEGATE_CLAIM_VALUES): 'gty' needs at least one accepted value",
            id="claim-values-empty-list",
        ),
        pytest.param(
            {"SCOPEGATE_CLAIM_VALUES": '{"gty": "client-credentials"}'},
            "claim_values (SCOPEGATE_CLAIM_VALUES): Input should be a valid list",
            id="claim-values-not-a-list",
        ),
        pytest.param(
            {"SCOPEGATE_REQUIRED_CLAIMS": '["org", " "]'},
            "required_claims (SCOPEGATE_REQUIRED_CLAIMS): claim names must not be empty",
            id="required-claims-blank",
        ),
    ],
)
def test_bad_token_rules_are_all_named(
    monkeypatch: pytest.MonkeyPatch, values: dict[str, str], message: str
) -> None:
    monkeypatch.setenv("SCOPEGATE_SIGNING_SECRET", SECRET)
    monkeypatch.setenv("SCOPEGATE_IDENTIFIER", IDENTIFIER)
    monkeypatch.setenv("SCOPEGATE_TOKEN_PROFILE", "nested")
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    exc = configuration_error()
    # Field validators: each bad setting is reported, beside the other one.
    assert message in str(exc).split("\n  ")
    if "SCOPEGATE_TOKEN_PROFILE" not in values:
        assert (
            "token_profile (SCOPEGATE_TOKEN_PROFILE): Input should be 'default' or 'rfc9068'"
            in str(exc)
        )
