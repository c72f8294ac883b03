"""Shared fixtures, one of each. Shared helpers are in ``helpers.py``; nothing imports this file.

Every test starts with no ``SCOPEGATE_*`` variable of the caller's environment (a developer's
shell must not change what a test sees); a test that wants one sets it with ``monkeypatch``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from helpers import (
    IDENTIFIER,
    ISSUER,
    SECRET,
    FakeClock,
    InProcessCli,
    Mint,
    is_scopegate_variable,
    mint,
)
from scopegate import Settings

# The package's own pytest plugin, loaded here rather than through its pytest11 entry point
# (pyproject's addopts has -p no:scopegate): an entry point is imported before pytest-cov
# starts measuring, so every module it imports would show its definitions as never run.
pytest_plugins = ["scopegate.pytest_plugin"]


@pytest.fixture(autouse=True)
def _no_scopegate_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No ``SCOPEGATE_*`` variable of the caller reaches a test."""
    for name in list(os.environ):
        if is_scopegate_variable(name):
            monkeypatch.delenv(name)


@pytest.fixture
def tmp_cwd(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """The test runs in its own empty folder, so no ``.env`` of the repository is read."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def settings() -> Settings:
    return Settings(signing_secret=SECRET, identifier=IDENTIFIER, issuer=ISSUER, _env_file=None)


@pytest.fixture
def token() -> Mint:
    return mint


@pytest.fixture
def clock() -> FakeClock:
    """A clock the test moves by hand, at 1_700_000_000."""
    return FakeClock()


@pytest.fixture
def cli(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_cwd: Path
) -> InProcessCli:
    """``scopegate ARGS`` in-process (see :class:`helpers.InProcessCli`), in an empty folder."""
    return InProcessCli(capsys, monkeypatch)
