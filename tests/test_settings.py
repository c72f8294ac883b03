"""Settings: every misconfiguration raises ConfigurationError naming the setting and its env var.

Environment variables and the .env file are covered in test_settings_env.py.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from scopegate import ConfigurationError, Settings, TokenVerifier
from settings_helpers import (
    HEADER,
    IDENTIFIER,
    SECRET,
    WEAK_SECRET,
    assert_no_secret,
    configuration_error,
)

pytestmark = pytest.mark.usefixtures("tmp_cwd")  # no .env of the repository


NO_KEY = (
    "is required, unless tokens are verified with a public key from SCOPEGATE_JWKS_URI, "
    "SCOPEGATE_PUBLIC_KEY or SCOPEGATE_ISSUER (discovery)"
)
MISCONFIGURATIONS = [
    pytest.param(
        {"identifier": IDENTIFIER},
        "signing_secret (SCOPEGATE_SIGNING_SECRET): " + NO_KEY,
        id="missing-secret",
    ),
    pytest.param(
        {"signing_secret": SECRET},
        "identifier (SCOPEGATE_IDENTIFIER): is required",
        id="missing-identifier",
    ),
    pytest.param(
        {},
        "identifier (SCOPEGATE_IDENTIFIER): is required\n"
        "  signing_secret (SCOPEGATE_SIGNING_SECRET): " + NO_KEY,
        id="missing-both",
    ),
    pytest.param(
        {"signing_secret": "", "identifier": IDENTIFIER},
        "signing_secret (SCOPEGATE_SIGNING_SECRET): must not be empty",
        id="empty-secret",
    ),
    pytest.param(
        {"signing_secret": "", "identifier": IDENTIFIER, "allow_weak_secret": True},
        "signing_secret (SCOPEGATE_SIGNING_SECRET): must not be empty",
        id="empty-secret-even-if-weak-allowed",
    ),
    pytest.param(
        {"signing_secret": SECRET, "identifier": ""},
        "identifier (SCOPEGATE_IDENTIFIER): must not be empty",
        id="empty-identifier",
    ),
    pytest.param(
        {"signing_secret": SECRET, "identifier": " \t "},
        "identifier (SCOPEGATE_IDENTIFIER): must not be empty",
        id="blank-identifier",
    ),
    *(
        pytest.param(
            {"signing_secret": SECRET, "identifier": IDENTIFIER, "algorithms": algorithms},
            "algorithms (SCOPEGATE_ALGORITHMS): 'none' is never accepted: tokens must be signed",
            id=f"algorithm-{'-'.join(algorithms)}",
        )
        for algorithms in (["none"], ["None"], ["NONE"], ["HS256", "nOnE"])
    ),
    *(
        pytest.param(
            {"signing_secret": SECRET, "identifier": IDENTIFIER, "algorithms": [algorithm]},
            f"algorithms (SCOPEGATE_ALGORITHMS): unknown algorithm '{algorithm}'; known: "
            "HS256, HS384, HS512, RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, "
            "ES512, EdDSA",
            id=f"algorithm-{algorithm}",
        )
        for algorithm in ("HS999", "hs256", "rs256", "ES256K", "ES521")
    ),
    *(
        pytest.param(
            {"signing_secret": SECRET, "identifier": IDENTIFIER, "algorithms": [algorithm]},
            f"algorithms (SCOPEGATE_ALGORITHMS): {algorithm} needs a key source: "
            "SCOPEGATE_JWKS_URI, SCOPEGATE_PUBLIC_KEY or SCOPEGATE_ISSUER (discovery)",
            id=f"algorithm-{algorithm}-without-key-source",
        )
        for algorithm in ("RS256", "ES256", "EdDSA")
    ),
    pytest.param(
        {"signing_secret": SECRET, "identifier": IDENTIFIER, "algorithms": []},
        "algorithms (SCOPEGATE_ALGORITHMS): must name at least one algorithm",
        id="algorithms-empty-list",
    ),
    pytest.param(
        {"signing_secret": SECRET, "identifier": IDENTIFIER, "algorithms": " , "},
        "algorithms (SCOPEGATE_ALGORITHMS): must name at least one algorithm",
        id="algorithms-blank-string",
    ),
    pytest.param(
        {"signing_secret": WEAK_SECRET, "identifier": IDENTIFIER},
        "signing_secret (SCOPEGATE_SIGNING_SECRET): is 31 bytes; HMAC keys need at least 32 "
        "(RFC 7518 section 3.2). Set SCOPEGATE_ALLOW_WEAK_SECRET=true to accept it anyway",
        id="weak-secret-31-bytes",
    ),
    pytest.param(
        # 15 two-byte characters and one ASCII: 16 characters but 31 bytes.
        {"signing_secret": "é" * 15 + "x", "identifier": IDENTIFIER},
        "signing_secret (SCOPEGATE_SIGNING_SECRET): is 31 bytes; HMAC keys need at least 32 "
        "(RFC 7518 section 3.2). Set SCOPEGATE_ALLOW_WEAK_SECRET=true to accept it anyway",
        id="weak-secret-counted-in-utf8-bytes",
    ),
    *(
        pytest.param(
            {"signing_secret": SECRET, "identifier": IDENTIFIER, "realm": realm},
            'realm (SCOPEGATE_REALM): must be printable ASCII without quotes (") or backslashes',
            id=f"realm-{name}",
        )
        for name, realm in (("quote", 'my"api'), ("backslash", "my\\api"), ("empty", ""))
    ),
    pytest.param(
        {"signing_secret": SECRET, "identifier": IDENTIFIER, "leeway": -1},
        "leeway (SCOPEGATE_LEEWAY): Input should be greater than or equal to 0",
        id="leeway-negative",
    ),
    pytest.param(
        {"signing_secret": SECRET, "identifier": IDENTIFIER, "leeway": 300.5},
        "leeway (SCOPEGATE_LEEWAY): Input should be less than or equal to 300",
        id="leeway-over-300",
    ),
    pytest.param(
        {"signing_secret": SECRET, "identifier": IDENTIFIER, "leeway": float("nan")},
        "leeway (SCOPEGATE_LEEWAY): Input should be less than or equal to 300",
        id="leeway-nan",
    ),
    pytest.param(
        {"signing_secret": SECRET, "identifier": IDENTIFIER, "max_token_bytes": 255},
        "max_token_bytes (SCOPEGATE_MAX_TOKEN_BYTES): Input should be greater than or equal to 256",
        id="max-token-bytes-too-small",
    ),
    pytest.param(
        {"signing_secret": SECRET, "identifier": IDENTIFIER, "cache_maxsize": -1},
        "cache_maxsize (SCOPEGATE_CACHE_MAXSIZE): Input should be greater than or equal to 0",
        id="cache-maxsize-negative",
    ),
    pytest.param(
        {"signing_secret": SECRET, "identifier": IDENTIFIER, "cache_ttl": 0},
        "cache_ttl (SCOPEGATE_CACHE_TTL): Input should be greater than 0",
        id="cache-ttl-zero",
    ),
    pytest.param(
        {"signing_secret": SECRET, "identifier": IDENTIFIER, "scope_claims": []},
        "scope_claims (SCOPEGATE_SCOPE_CLAIMS): must name at least one claim",
        id="scope-claims-empty",
    ),
]


@pytest.mark.parametrize(("values", "message"), MISCONFIGURATIONS)
def test_misconfiguration_names_setting_and_env_var(values: dict[str, Any], message: str) -> None:
    exc = configuration_error(_env_file=None, **values)
    assert str(exc) == HEADER + message
    assert_no_secret(exc, SECRET, WEAK_SECRET)


@pytest.mark.parametrize(
    "secret",
    [
        pytest.param("x" * 32, id="32-ascii"),
        pytest.param("é" * 16, id="16-two-byte-chars"),
    ],
)
def test_secret_of_32_bytes_is_enough(secret: str) -> None:
    settings = Settings(signing_secret=secret, identifier=IDENTIFIER, _env_file=None)
    assert settings.secret_bytes == secret.encode("utf-8")


@pytest.mark.parametrize(
    ("algorithms", "secret", "needed"),
    [
        pytest.param(["HS384"], "x" * 47, 48, id="HS384-47-bytes"),
        pytest.param(["HS256", "HS384"], "x" * 32, 48, id="HS256-HS384-32-bytes"),
        pytest.param(["HS512"], "x" * 63, 64, id="HS512-63-bytes"),
    ],
)
def test_secret_must_be_as_long_as_the_largest_hash(
    algorithms: list[str], secret: str, needed: int
) -> None:
    # RFC 7518 §3.2: the key MUST be at least the size of the hash output, and
    # PyJWT warns (InsecureKeyLengthWarning) on every verification otherwise.
    exc = configuration_error(
        signing_secret=secret, identifier=IDENTIFIER, algorithms=algorithms, _env_file=None
    )
    assert str(exc) == (
        HEADER + f"signing_secret (SCOPEGATE_SIGNING_SECRET): is {len(secret)} bytes; "
        f"HMAC keys need at least {needed} (RFC 7518 section 3.2). "
        "Set SCOPEGATE_ALLOW_WEAK_SECRET=true to accept it anyway"
    )
    assert_no_secret(exc, secret)


@pytest.mark.parametrize(
    ("algorithms", "length"),
    [
        pytest.param(["HS384"], 48, id="HS384-48-bytes"),
        pytest.param(["HS512", "HS256"], 64, id="HS512-64-bytes"),
    ],
)
def test_secret_as_long_as_the_largest_hash(algorithms: list[str], length: int) -> None:
    settings = Settings(
        signing_secret="x" * length, identifier=IDENTIFIER, algorithms=algorithms, _env_file=None
    )
    assert settings.algorithms == algorithms


def test_weak_secret_is_accepted_when_allowed() -> None:
    settings = Settings(
        signing_secret="short", identifier=IDENTIFIER, allow_weak_secret=True, _env_file=None
    )
    assert settings.secret_bytes == b"short"


def test_defaults() -> None:
    settings = Settings(signing_secret=SECRET, identifier=IDENTIFIER, _env_file=None)
    assert settings.identifier == IDENTIFIER
    assert settings.issuer is None
    assert settings.algorithms == ["HS256"]
    assert settings.leeway == 5.0
    assert settings.scope_claims == ["scope"]
    assert settings.realm == "api"
    assert settings.allow_weak_secret is False
    assert settings.max_token_bytes == 8192
    assert settings.cache_maxsize == 10_000
    assert settings.cache_ttl == 600.0
    assert SECRET not in repr(settings)
    assert SECRET not in str(settings)


def test_duplicate_algorithms_are_dropped_in_order() -> None:
    settings = Settings(
        signing_secret=SECRET,
        identifier=IDENTIFIER,
        algorithms=["HS384", "HS256", "HS384"],
        _env_file=None,
    )
    assert settings.algorithms == ["HS384", "HS256"]


# --- one configuration: the request policy, explicit settings, all problems at once ----


def test_request_policy_fields_parse_like_every_list_and_boolean() -> None:
    settings = Settings.explicit(
        signing_secret=SECRET,
        identifier=IDENTIFIER,
        public_paths="/health, /docs /health",
        auth_required="no",
        allow_query_token="on",
    )
    assert settings.public_paths == ["/health", "/docs"]
    assert (settings.auth_required, settings.allow_query_token) == (False, True)


def test_a_public_path_must_be_a_path() -> None:
    with pytest.raises(ConfigurationError) as raised:
        Settings.explicit(signing_secret=SECRET, identifier=IDENTIFIER, public_paths="health")
    assert str(raised.value) == (
        "Invalid scopegate settings:\n  public_paths (SCOPEGATE_PUBLIC_PATHS): "
        "'health' is not a path: public paths start with /"
    )


def test_explicit_settings_read_neither_environment_nor_env_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("SCOPEGATE_REALM=dotenv\nSCOPEGATE_LEEWAY=99\n")
    monkeypatch.setenv("SCOPEGATE_AUTH_REQUIRED", "false")
    monkeypatch.setenv("SCOPEGATE_IDENTIFIER", "https://from-env")
    settings = Settings.explicit(signing_secret=SECRET, identifier=IDENTIFIER)
    assert (settings.identifier, settings.realm, settings.leeway) == (IDENTIFIER, "api", 5.0)
    assert settings.auth_required is True
    assert Settings(signing_secret=SECRET).realm == "dotenv"  # the ordinary constructor reads both


def test_replace_validates_again_without_reading_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    base = Settings.explicit(signing_secret=SECRET, identifier=IDENTIFIER)
    monkeypatch.setenv("SCOPEGATE_REALM", "env")
    changed = base.replace(public_paths=["/health"], leeway=10)
    assert (changed.public_paths, changed.leeway, changed.realm) == (["/health"], 10.0, "api")
    assert base.replace() is base
    with pytest.raises(ConfigurationError, match=r"leeway \(SCOPEGATE_LEEWAY\)"):
        base.replace(leeway=1000)


def test_every_bad_setting_is_reported_at_once() -> None:
    with pytest.raises(ConfigurationError) as raised:
        Settings.explicit(signing_secret="short", identifier=IDENTIFIER, leeway=1000, realm='a"b')
    lines = str(raised.value).splitlines()
    assert lines[0] == "Invalid scopegate settings:"
    assert [line.split(" (")[0].strip() for line in lines[1:]] == [
        "signing_secret",
        "leeway",
        "realm",
    ]


@pytest.mark.parametrize(
    ("issuer", "warned"),
    [
        pytest.param("https://tenant.auth0.com", True, id="auth0-domain-without-slash"),
        pytest.param("http://127.0.0.1:8787", True, id="local-without-slash"),
        pytest.param("https://tenant.auth0.com/", False, id="with-slash"),
        pytest.param("https://login.example.com/realms/api", False, id="with-a-path"),
        pytest.param("urn:example:issuer", False, id="not-a-url"),
    ],
)
def test_issuer_without_trailing_slash_warns_at_start_up(
    issuer: str, warned: bool, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings.explicit(signing_secret=SECRET, identifier=IDENTIFIER, issuer=issuer)
    with caplog.at_level(logging.WARNING, logger="scopegate"):
        TokenVerifier(settings)
    messages = [record.getMessage() for record in caplog.records]
    if warned:
        assert messages == [
            f"scopegate: SCOPEGATE_ISSUER is {issuer!r}, without a trailing slash; Auth0 and "
            f"most authorization servers issue {issuer + '/'!r}, and iss must match exactly"
        ]
    else:
        assert messages == []
