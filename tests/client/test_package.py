"""The client package: public API, extras, and what importing it (or the CLI) loads."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import scopegate.client
from subprocess_probe import import_without, run_python

FRAMEWORKS = {"starlette", "fastapi", "flask", "werkzeug", "uvicorn"}


def ruff_sort_key(name: str) -> tuple[int, str]:
    if len(name) > 1 and name.isupper():
        return (0, name)
    if name[:1].isupper():
        return (1, name)
    return (2, name)


@pytest.mark.parametrize(
    "name",
    [
        "scopegate.client",
        "scopegate.client._auth",
        "scopegate.client._dpop",
        "scopegate.client._errors",
        "scopegate.client._management",
        "scopegate.demo",
    ],
)
def test_all_is_sorted_and_exists(name: str) -> None:
    module = importlib.import_module(name)
    exported = module.__all__
    assert exported == sorted(exported, key=ruff_sort_key)
    assert [item for item in exported if not hasattr(module, item)] == []


def test_the_public_names() -> None:
    assert scopegate.client.__all__ == [
        "ClientCredentialsAuth",
        "ClientError",
        "DPoPKey",
        "ManagementClient",
        "ManagementError",
        "TokenRequestError",
    ]
    assert issubclass(scopegate.client.ClientError, scopegate.errors.ScopegateError)
    assert issubclass(scopegate.client.TokenRequestError, scopegate.client.ClientError)
    assert issubclass(scopegate.client.ManagementError, scopegate.client.ClientError)


def test_the_client_loads_no_web_framework() -> None:
    loaded = run_python(
        "import scopegate.client, sys; "
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {FRAMEWORKS!r}))"
    )
    assert loaded == "[]"


def test_the_command_line_loads_no_http_client_until_a_command_needs_it() -> None:
    loaded = run_python(
        "import scopegate.cli, sys; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in {'httpx', 'uvicorn', "
        "'fastapi'} or m.startswith(('scopegate.client', 'scopegate.demo'))))"
    )
    assert loaded == "[]"


@pytest.mark.parametrize(
    ("blocked", "module", "message"),
    [
        pytest.param(
            "httpx",
            "scopegate.client",
            "scopegate.client needs httpx: pip install 'scopegate[client]'",
            id="client",
        ),
        pytest.param(
            "cryptography",
            "scopegate.client._dpop",
            "scopegate.client's DPoPKey needs cryptography: pip install 'scopegate[client]'",
            id="client-dpop",
        ),
        pytest.param(
            "httpx",
            "scopegate.demo",
            "scopegate demo needs httpx: pip install 'scopegate[demo]'",
            id="demo-httpx",
        ),
        pytest.param(
            "fastapi",
            "scopegate.demo",
            "scopegate demo needs FastAPI: pip install 'scopegate[demo]'",
            id="demo-fastapi",
        ),
        pytest.param(
            "uvicorn",
            "scopegate.demo",
            "scopegate demo needs uvicorn: pip install 'scopegate[demo]'",
            id="demo-uvicorn",
        ),
    ],
)
def test_missing_extra_names_the_pip_command(blocked: str, module: str, message: str) -> None:
    assert import_without(blocked, module) == f"ImportError | {message}"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        pytest.param(
            ["api", "list"],
            "scopegate api list: error: scopegate.client needs httpx: "
            "pip install 'scopegate[client]'",
            id="api",
        ),
        pytest.param(
            ["demo"],
            "scopegate demo: error: scopegate demo needs httpx: pip install 'scopegate[demo]'",
            id="demo",
        ),
    ],
)
def test_commands_without_httpx_say_what_to_install(argv: list[str], message: str) -> None:
    code = (
        "import sys\nsys.modules['httpx'] = None\n"
        "from scopegate.cli import main\n"
        f"print('exit', main({argv!r}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.stdout.strip() == "exit 2"
    assert result.stderr.strip() == message
