"""What many test modules share: the test API's values, real tokens, settings, a clock, an env.

Test modules import these (``from helpers import ...``); fixtures live in ``conftest.py``,
which nothing imports (pytest advises against it). Helpers for one area stay beside it
(``jose_helpers``, ``settings_helpers``, ``live_server``, the harnesses).
"""

from __future__ import annotations

import io
import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import jwt
import pytest

from scopegate import Settings
from scopegate.cli import main as scopegate_main

SECRET = "FF1prn9UxZotnFEfPVwEJhqqyRmwdSu5-test-secret-0123456789"
IDENTIFIER = "https://my-api-urn"
ISSUER = "https://tenant.example.auth0.com/"
CLIENT_ID = "zA9hQ0wZ2cL1sT8xK3mN5pR7vY4bD6fG"
ENV_PREFIX = "SCOPEGATE_"
NOW = 1_700_000_000  # a fixed, whole second: the fake clocks' start

Mint = Callable[..., str]


def make_claims(**overrides: Any) -> dict[str, Any]:
    """Claims of a valid client-credentials token; a value of None removes that claim."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "sub": f"{CLIENT_ID}@clients",
        "aud": IDENTIFIER,
        "iat": now,
        "exp": now + 86400,
        "azp": CLIENT_ID,
        "scope": "sample-scope other-scope",
        "gty": "client-credentials",
    }
    claims.update(overrides)
    return {name: value for name, value in claims.items() if value is not None}


def mint(
    *,
    key: str | bytes = SECRET,
    algorithm: str = "HS256",
    headers: dict[str, Any] | None = None,
    **overrides: Any,
) -> str:
    """A real HS256 token signed with ``key``, with ``overrides`` applied to valid claims."""
    return jwt.encode(make_claims(**overrides), key, algorithm=algorithm, headers=headers)


def make_settings(**values: Any) -> Settings:
    """The test API's settings (secret, identifier, issuer), no ``.env``, ``values`` on top."""
    values = {"signing_secret": SECRET, "identifier": IDENTIFIER, "issuer": ISSUER, **values}
    return Settings(_env_file=None, **values)


class FakeClock:
    """A clock the test moves by hand (``advance``, or set ``now``)."""

    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def subprocess_env(**extra: str) -> dict[str, str]:
    """The caller's environment without any ``SCOPEGATE_*`` variable, plus ``extra``.

    For a child process; in-process tests get the same clean slate from conftest's autouse
    fixture.
    """
    env = {name: value for name, value in os.environ.items() if not is_scopegate_variable(name)}
    env.update(extra)
    return env


def is_scopegate_variable(name: str) -> bool:
    return name.upper().startswith(ENV_PREFIX)


@dataclass(frozen=True)
class CliResult:
    """What a command printed and its exit code, as a subprocess run reports them."""

    returncode: int
    stdout: str
    stderr: str


Main = Callable[[Sequence[str]], int]


def _exit_status(code: object) -> int:
    """``SystemExit.code`` as the process's exit status (``None`` is 0, a message is 1)."""
    if code is None:
        return 0
    return code if isinstance(code, int) else 1


class InProcessCli:
    """``scopegate ARGS`` run in-process through ``main(argv)``, output captured by ``capsys``.

    ``env`` replaces the ``SCOPEGATE_*`` variables for that one call; ``stdin`` (text or bytes)
    is its standard input; ``main`` another entry point (``python -m scopegate.authserver``'s).
    The conftest fixture ``cli`` gives one, running in the test's own empty folder.
    """

    def __init__(self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):
        self._capsys = capsys
        self._monkeypatch = monkeypatch

    def __call__(
        self,
        *args: str,
        env: Mapping[str, str] | None = None,
        stdin: str | bytes = "",
        main: Main = scopegate_main,
    ) -> CliResult:
        with self._monkeypatch.context() as patch:
            if env is not None:
                for name in list(os.environ):
                    if is_scopegate_variable(name):
                        patch.delenv(name)
                for name, value in env.items():
                    patch.setenv(name, value)
            data = stdin.encode() if isinstance(stdin, str) else stdin
            patch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))
            self._capsys.readouterr()
            try:
                code = main(list(args))
            except SystemExit as exit_:
                code = _exit_status(exit_.code)
            out, err = self._capsys.readouterr()
        return CliResult(code, out, err)
