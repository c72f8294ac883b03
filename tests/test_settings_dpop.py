"""The DPoP settings (scopegate._settings_dpop): defaults, the environment, every misconfiguration.

Each bad value raises ConfigurationError naming the setting and its variable,
never the value (a Redis URL may carry a password).
"""

from __future__ import annotations

from typing import Any

import pytest

from scopegate import Settings
from settings_helpers import (
    HEADER,
    IDENTIFIER,
    SECRET,
    assert_no_secret,
    configuration_error,
)
from subprocess_probe import run_python

pytestmark = pytest.mark.usefixtures("tmp_cwd")  # no .env of the repository


BASE = {"signing_secret": SECRET, "identifier": IDENTIFIER}
ALL_ASYMMETRIC = [
    *("RS256", "RS384", "RS512", "PS256", "PS384", "PS512"),
    *("ES256", "ES384", "ES512", "EdDSA"),
]


def test_defaults() -> None:
    settings = Settings(**BASE)
    assert settings.dpop == "allowed"
    assert settings.dpop_offered
    assert settings.dpop_algorithms == ALL_ASYMMETRIC
    assert settings.dpop_max_age == 300
    assert settings.dpop_replay_store is None
    assert settings.dpop_nonce is False
    assert settings.dpop_nonce_secret is None
    assert settings.public_base_url is None


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        pytest.param({"dpop": "REQUIRED"}, {"dpop": "required"}, id="mode-case-folded"),
        pytest.param({"dpop": " disabled "}, {"dpop": "disabled"}, id="mode-trimmed"),
        pytest.param(
            {"dpop_algorithms": "ES256, EdDSA ES256"},
            {"dpop_algorithms": ["ES256", "EdDSA"]},
            id="algorithms-list-deduplicated",
        ),
        pytest.param(
            {"dpop_algorithms": '["PS256"]'}, {"dpop_algorithms": ["PS256"]}, id="algorithms-json"
        ),
        pytest.param({"dpop_replay_store": "memory"}, {"dpop_replay_store": None}, id="memory"),
        pytest.param(
            {"dpop_replay_store": "redis://:pw@cache.internal:6379/2"},
            {"dpop_replay_store": "redis://:pw@cache.internal:6379/2"},
            id="redis-url",
        ),
        pytest.param(
            {"dpop_replay_store": "rediss://cache.internal"},
            {"dpop_replay_store": "rediss://cache.internal"},
            id="rediss-url",
        ),
        pytest.param(
            {"dpop_replay_store": "unix:///run/redis.sock"},
            {"dpop_replay_store": "unix:///run/redis.sock"},
            id="unix-socket",
        ),
        pytest.param(
            {"public_base_url": "https://api.example.com/v1/"},
            {"public_base_url": "https://api.example.com/v1"},
            id="base-url-trailing-slash-dropped",
        ),
        pytest.param(
            {"public_base_url": "http://127.0.0.1:8000"},
            {"public_base_url": "http://127.0.0.1:8000"},
            id="base-url-http-with-port",
        ),
    ],
)
def test_accepted_values(values: dict[str, Any], expected: dict[str, Any]) -> None:
    settings = Settings(**BASE, **values)
    assert {name: getattr(settings, name) for name in expected} == expected


@pytest.mark.parametrize(
    ("values", "message"),
    [
        pytest.param(
            {"dpop": "optional"},
            "dpop (SCOPEGATE_DPOP): Input should be 'allowed', 'required' or 'disabled'",
            id="unknown-mode",
        ),
        pytest.param(
            {"dpop_algorithms": "HS256"},
            "dpop_algorithms (SCOPEGATE_DPOP_ALGORITHMS): HS256 is symmetric: a DPoP proof is "
            "signed with the client's own private key",
            id="hmac",
        ),
        pytest.param(
            {"dpop_algorithms": "ES256 none"},
            "dpop_algorithms (SCOPEGATE_DPOP_ALGORITHMS): 'none' is never accepted: a DPoP "
            "proof must be signed",
            id="none",
        ),
        pytest.param(
            {"dpop_algorithms": "ES257"},
            "dpop_algorithms (SCOPEGATE_DPOP_ALGORITHMS): unknown algorithm 'ES257'; known: "
            + ", ".join(ALL_ASYMMETRIC),
            id="unknown-algorithm",
        ),
        pytest.param(
            {"dpop_algorithms": ""},
            "dpop_algorithms (SCOPEGATE_DPOP_ALGORITHMS): must name at least one algorithm",
            id="no-algorithm",
        ),
        pytest.param(
            {"dpop_max_age": 0},
            "dpop_max_age (SCOPEGATE_DPOP_MAX_AGE): Input should be greater than 0",
            id="max-age-zero",
        ),
        pytest.param(
            {"dpop_replay_store": "http://cache.internal"},
            "dpop_replay_store (SCOPEGATE_DPOP_REPLAY_STORE): must be 'memory' or a redis://, "
            "rediss:// or unix:// URL",
            id="not-redis",
        ),
        pytest.param(
            {"dpop_replay_store": "redis://:hunter2-password@"},
            "dpop_replay_store (SCOPEGATE_DPOP_REPLAY_STORE): a redis:// URL needs a host",
            id="redis-without-host",
        ),
        pytest.param(
            {"dpop_replay_store": "redis://:hunter2-password@cache:port"},
            "dpop_replay_store (SCOPEGATE_DPOP_REPLAY_STORE): is not a valid URL",
            id="redis-bad-port",
        ),
        pytest.param(
            {"dpop_nonce_secret": ""},
            "dpop_nonce_secret (SCOPEGATE_DPOP_NONCE_SECRET): must not be empty",
            id="empty-nonce-secret",
        ),
        pytest.param(
            {"public_base_url": "/v1"},
            "public_base_url (SCOPEGATE_PUBLIC_BASE_URL): must be an absolute http or https "
            "URL, e.g. https://api.example.com",
            id="base-url-relative",
        ),
        pytest.param(
            {"public_base_url": "ftp://api.example.com"},
            "public_base_url (SCOPEGATE_PUBLIC_BASE_URL): must be an absolute http or https "
            "URL, e.g. https://api.example.com",
            id="base-url-ftp",
        ),
        pytest.param(
            {"public_base_url": "https://api.example.com/v1?x=1"},
            "public_base_url (SCOPEGATE_PUBLIC_BASE_URL): must not have a query or a fragment",
            id="base-url-query",
        ),
        pytest.param(
            {"public_base_url": "https://api.example.com/#top"},
            "public_base_url (SCOPEGATE_PUBLIC_BASE_URL): must not have a query or a fragment",
            id="base-url-fragment",
        ),
        pytest.param(
            {"public_base_url": "https://user:hunter2-password@api.example.com"},
            "public_base_url (SCOPEGATE_PUBLIC_BASE_URL): must not carry user information",
            id="base-url-userinfo",
        ),
    ],
)
def test_misconfigurations(values: dict[str, Any], message: str) -> None:
    error = configuration_error(**BASE, **values)
    assert str(error) == HEADER + message
    assert_no_secret(error, "hunter2-password")


def test_every_problem_is_named_at_once() -> None:
    error = configuration_error(
        **BASE, dpop="sometimes", dpop_algorithms="HS256", public_base_url="ftp://x"
    )
    assert [line.split()[0] for line in str(error).splitlines()[1:]] == [
        "dpop",
        "dpop_algorithms",
        "public_base_url",
    ]


def test_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCOPEGATE_DPOP", "required")
    monkeypatch.setenv("SCOPEGATE_DPOP_ALGORITHMS", "ES256,PS256")
    monkeypatch.setenv("SCOPEGATE_DPOP_MAX_AGE", "60")
    monkeypatch.setenv("SCOPEGATE_DPOP_NONCE", "true")
    monkeypatch.setenv("SCOPEGATE_DPOP_NONCE_SECRET", SECRET)
    monkeypatch.setenv("SCOPEGATE_PUBLIC_BASE_URL", "https://api.example.com")
    settings = Settings(**BASE)
    assert (settings.dpop, settings.dpop_algorithms, settings.dpop_max_age) == (
        "required",
        ["ES256", "PS256"],
        60,
    )
    assert settings.dpop_nonce is True
    assert settings.dpop_nonce_secret is not None
    assert settings.dpop_nonce_secret.get_secret_value() == SECRET
    assert SECRET not in repr(settings)
    assert settings.public_base_url == "https://api.example.com"


def test_replace_keeps_the_resolved_mode() -> None:
    assert Settings(**BASE).replace(realm="other").dpop == "allowed"
    assert Settings(**BASE, dpop="disabled").replace(realm="other").dpop == "disabled"


def test_a_redis_store_without_redis_py_stops_the_app() -> None:
    """Settings accept the URL; building the protector needs redis-py (scopegate[redis])."""
    script = (
        "import sys\nsys.modules['redis'] = None\n"
        "from scopegate import Settings\nfrom scopegate.wsgi import BearerAuthMiddleware\n"
        f"s = Settings(_env_file=None, signing_secret={SECRET!r}, identifier='a', "
        "dpop_replay_store='redis://127.0.0.1:1/0')\n"
        "try:\n    BearerAuthMiddleware(lambda e, r: [], s)\n"
        "except ImportError as exc:\n    print(type(exc).__name__, '|', exc)\n"
    )
    printed = run_python(script)
    assert printed.startswith("MissingExtraError | ")
    assert "pip install 'scopegate[redis]'" in printed


@pytest.mark.parametrize(
    ("mode", "printed"),
    [
        pytest.param(
            None,
            "disabled | scopegate: DPoP is not offered: checking proofs needs cryptography "
            "(pip install 'scopegate[jwks]'); bearer tokens work as before",
            id="default-becomes-disabled",
        ),
        pytest.param(
            "allowed",
            "MissingExtraError | scopegate: dpop=allowed needs cryptography: "
            "pip install 'scopegate[jwks]'",
            id="explicit-allowed",
        ),
        pytest.param(
            "required",
            "MissingExtraError | scopegate: dpop=required needs cryptography: "
            "pip install 'scopegate[jwks]'",
            id="explicit-required",
        ),
    ],
)
def test_without_cryptography(mode: str | None, printed: str) -> None:
    """A core install (HS256, no cryptography) keeps working; an explicit DPoP mode says why not."""
    option = "" if mode is None else f", dpop={mode!r}"
    build = f"Settings(_env_file=None, signing_secret={SECRET!r}, identifier='a'{option})"
    script = (
        "import logging, sys\nsys.modules['cryptography'] = None\n"
        "records = []\n"
        "class H(logging.Handler):\n    def emit(self, r): records.append(r.getMessage())\n"
        "logging.getLogger('scopegate').addHandler(H())\n"
        "logging.getLogger('scopegate').setLevel(logging.INFO)\n"
        "from scopegate import Settings\n"
        # Built twice: the INFO line is said once per process.
        f"try:\n    s = {build}\n    {build}\n    print(s.dpop, '|', *records)\n"
        "except ImportError as exc:\n    print(type(exc).__name__, '|', exc)\n"
    )
    assert run_python(script) == printed


def test_a_core_install_serves_bearer_tokens_without_loading_dpop() -> None:
    """No cryptography: the default protector works and never imports the DPoP modules."""
    script = (
        "import sys\nsys.modules['cryptography'] = None\n"
        "from scopegate import Settings\nfrom scopegate.wsgi import BearerAuthMiddleware\n"
        f"s = Settings(_env_file=None, signing_secret={SECRET!r}, identifier='a')\n"
        "m = BearerAuthMiddleware(lambda e, r: [], s)\n"
        "print(m.protector.dpop_mode, sorted(n for n in sys.modules if n in "
        "{'scopegate._dpop', 'scopegate._dpop_policy', 'scopegate._replay', 'scopegate._nonce'}))\n"
    )
    assert run_python(script) == "disabled []"
