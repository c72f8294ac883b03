"""pytest fixtures for testing an API protected by scopegate.

Registered through the ``pytest11`` entry point when scopegate is installed;
it only defines fixtures, so nothing happens unless a test asks for one:

``scopegate_settings``
    :func:`~scopegate.testing.test_settings` with the session's random secret
    (``scopegate_test_secret``), also exported as ``SCOPEGATE_*`` variables
    for the test's duration, so an app that builds ``Settings()`` from the
    environment (or an ``.env`` file, which environment variables override)
    accepts exactly these settings. The secret is drawn once per session, so
    a module-level app, whose middleware keeps the settings it was built with,
    accepts the tokens of every test. Override ``scopegate_settings_overrides``
    to change any setting. (A setting left as None, such as ``issuer=None``,
    cannot be exported: its variable is removed, and an ``.env`` file could
    still set it.) When a test fails after its settings changed from an
    earlier test's, its report says so: a module-level app still has the old ones.
``scopegate_test_secret``
    The session's random signing secret; override it for another.
``mint_token``
    :func:`~scopegate.testing.mint_token` bound to ``scopegate_settings``.
``bearer``
    :func:`~scopegate.testing.bearer`: a token as an ``Authorization`` header dict.
``scopegate_dpop_key``
    A new ES256 :class:`~scopegate.client._dpop.DPoPKey` per test, for
    ``mint_token(dpop_key=...)`` and :func:`~scopegate.testing.dpop_proof`
    (needs httpx, as ``scopegate.client`` does: ``pip install 'scopegate[client]'``).

Example::

    def test_private_scoped(client, mint_token, bearer):
        token = mint_token(scopes=["sample-scope"])
        assert client.get("/api/private-scoped", headers=bearer(token)).status_code == 200
"""

from __future__ import annotations

import functools
import json
import secrets
from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any

import pytest

from scopegate._settings import Settings, env_name
from scopegate.testing import bearer as _bearer
from scopegate.testing import mint_token as _mint_token
from scopegate.testing import test_settings

if TYPE_CHECKING:
    from scopegate.client._dpop import DPoPKey

# The first settings a test of this session exported, to explain a later failure.
# Kept on the session's config, so a pytest run inside a test has its own.
_FIRST_EXPORTED = pytest.StashKey[Settings]()


def _env_value(value: Any) -> str:
    """A setting's value as its ``SCOPEGATE_*`` variable spells it."""
    if hasattr(value, "get_secret_value"):
        return str(value.get_secret_value())
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):  # claim_values is a JSON object in the environment
        return json.dumps(value)
    return str(value)


@pytest.fixture
def scopegate_settings_overrides() -> dict[str, Any]:
    """Settings to change in ``scopegate_settings``; override this fixture to set them."""
    return {}


@pytest.fixture(scope="session")
def scopegate_test_secret() -> str:
    """The signing secret of this test session: random, drawn once."""
    return secrets.token_urlsafe(48)


@pytest.fixture
def scopegate_settings(
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    scopegate_test_secret: str,
    scopegate_settings_overrides: dict[str, Any],
) -> Settings:
    """Test settings with the session's secret, exported as ``SCOPEGATE_*`` for this test."""
    settings = test_settings(**scopegate_settings_overrides)
    if settings.signing_secret is not None and "signing_secret" not in scopegate_settings_overrides:
        settings = settings.replace(signing_secret=scopegate_test_secret)
    request.config.stash.setdefault(_FIRST_EXPORTED, settings)
    # Every setting is exported, not just the secret: a variable always wins
    # over an .env file, so the app sees exactly these settings.
    for name in Settings.model_fields:
        value = getattr(settings, name)
        if value is None:
            monkeypatch.delenv(env_name(name), raising=False)
        else:
            monkeypatch.setenv(env_name(name), _env_value(value))
    return settings


@pytest.fixture
def mint_token(scopegate_settings: Settings) -> Callable[..., str]:
    """``mint_token(scopes=[...], **claims)``: a token that ``scopegate_settings`` accepts."""
    return functools.partial(_mint_token, scopegate_settings)


@pytest.fixture
def bearer() -> Callable[[str], dict[str, str]]:
    """``bearer(token)``: the ``Authorization`` header dict for ``token``."""
    return _bearer


@pytest.fixture
def scopegate_dpop_key() -> DPoPKey:
    """A new ES256 DPoP key: the client's key pair for DPoP-bound tokens and proofs."""
    # Imported here, not at the top: the plugin loads in every pytest run, with or
    # without httpx (which the client package needs).
    from scopegate.client._dpop import DPoPKey

    return DPoPKey.generate()


def _changed_settings(settings: Settings, first: Settings | None) -> list[str]:
    if first is None or settings == first:
        return []
    return [
        name for name in Settings.model_fields if getattr(settings, name) != getattr(first, name)
    ]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """On a failure, say when this test's settings differ from an earlier test's."""
    report = yield
    settings = getattr(item, "funcargs", {}).get("scopegate_settings")
    if report.failed and isinstance(settings, Settings):
        changed = _changed_settings(settings, item.config.stash.get(_FIRST_EXPORTED, None))
        if changed:
            report.sections.append(
                (
                    "scopegate",
                    "This test's settings differ from those of an earlier test in "
                    f"{', '.join(changed)}. An app built once (at module level) keeps the "
                    "settings its middleware was built with and refuses these tokens: build "
                    "the app in a fixture, or give every test the same overrides.",
                )
            )
    return report
