"""The ``scopegate`` command line: in-process through ``main(argv)``, plus subprocess smoke tests.

The commands run in-process (``cli``, conftest's fixture) where a subprocess would test
nothing more; the entry points (``scopegate``, ``python -m scopegate``), their exit codes, a
terminal's encoding and the README's ``curl`` pipeline run as real processes.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from helpers import IDENTIFIER, ISSUER, SECRET, CliResult, InProcessCli, subprocess_env
from live_server import example_env, free_port, serve, uvicorn_command
from scopegate import Settings, TokenVerifier
from scopegate.explain import format_time
from scopegate.testing import mint_token

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "fastapi_app"
SCRIPT = Path(sys.executable).with_name("scopegate")
MODULE = [sys.executable, "-m", "scopegate"]
DASH = "\u2014"
TIMEOUT = 30

CONFIGURED = {
    "SCOPEGATE_SIGNING_SECRET": SECRET,
    "SCOPEGATE_IDENTIFIER": IDENTIFIER,
    "SCOPEGATE_ISSUER": ISSUER,
}

Run = Callable[..., CliResult]


def base_env(**settings: str) -> dict[str, str]:
    """The caller's environment without SCOPEGATE_*, plus ``settings``, in UTF-8."""
    return subprocess_env(**settings, PYTHONIOENCODING="utf-8")


@pytest.fixture
def settings() -> Settings:
    """What the command line reads from CONFIGURED (no .env in its working directory)."""
    return Settings(
        signing_secret=SECRET, identifier=IDENTIFIER, issuer=ISSUER, _env_file=None
    ).model_copy(update={"cache_maxsize": 0})


@pytest.fixture
def run(cli: InProcessCli) -> Run:
    """``scopegate ARGS`` in-process, with CONFIGURED as its ``SCOPEGATE_*`` unless ``env``."""

    def run_(*args: str, env: Mapping[str, str] = CONFIGURED, stdin: str | bytes = "") -> CliResult:
        return cli(*args, env=env, stdin=stdin)

    return run_


@pytest.fixture(params=["module", "script"])
def command(request: pytest.FixtureRequest) -> list[str]:
    """``python -m scopegate`` and the installed console script."""
    if request.param == "script":
        assert SCRIPT.is_file(), "run: pip install -e . (the console script is missing)"
        return [str(SCRIPT)]
    return MODULE


def run_process(
    args: list[str],
    cwd: Path,
    *,
    env: dict[str, str] | None = None,
    stdin: str | None = None,
    command: list[str] = MODULE,
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*command, *args],
        cwd=cwd,
        env=base_env(**CONFIGURED) if env is None else env,
        input=stdin if stdin is not None else "",
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=TIMEOUT,
        check=False,
    )


def assert_clean_error(result: CliResult | subprocess.CompletedProcess[str], code: int) -> str:
    """One ``scopegate: error:`` line on stderr, nothing on stdout, no traceback."""
    assert result.returncode == code, result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("scopegate: error: ")
    return lines[0]


def verdict(result: CliResult | subprocess.CompletedProcess[str]) -> str:
    return result.stdout.splitlines()[-1]


# --- scopegate token --------------------------------------------------------------------


def test_token_verifies(run: Run, settings: Settings) -> None:
    result = run("token", "--scope", "sample-scope", "--scope", "read write")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.endswith("\n")
    access = TokenVerifier(settings).verify(result.stdout.strip())
    assert access.scopes == {"sample-scope", "read", "write"}
    assert access.subject == "scopegate-cli@clients"
    assert access.client_id == "scopegate-cli"
    assert access.issuer == ISSUER
    assert 3590 < access.expires_at.timestamp() - time.time() <= 3600


def test_token_options(run: Run, settings: Settings) -> None:
    result = run(
        "token",
        "--sub",
        "my-client@clients",
        "--expires-in",
        "120",
        "--claim",
        'permissions=["read:messages"]',
        "--claim",
        "tenant=acme",
        "--claim",
        "gty=null",
    )
    assert result.returncode == 0, result.stderr
    claims = jwt.decode(result.stdout.strip(), options={"verify_signature": False})
    assert claims["sub"] == "my-client@clients"
    assert claims["azp"] == "my-client"
    assert claims["exp"] - claims["iat"] == 120
    assert claims["permissions"] == ["read:messages"]
    assert claims["tenant"] == "acme"
    assert "gty" not in claims
    assert "scope" not in claims
    assert TokenVerifier(settings).verify(result.stdout.strip()).scopes == frozenset()


def test_token_expired_on_purpose(run: Run, settings: Settings) -> None:
    result = run("token", "--expires-in", "-60")
    claims = jwt.decode(result.stdout.strip(), options={"verify_signature": False})
    assert claims["exp"] <= time.time() - 59
    assert claims["iat"] < claims["exp"]


@pytest.mark.parametrize(
    "claim",
    [
        pytest.param("novalue", id="no-equals"),
        pytest.param("=value", id="no-name"),
        pytest.param("secret=x", id="reserved"),
    ],
)
def test_token_bad_claim_is_a_usage_error(run: Run, claim: str) -> None:
    result = run("token", "--claim", claim)
    assert result.returncode == 2
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert "argument --claim" in result.stderr


def test_token_refuses_without_a_secret(run: Run) -> None:
    env = {"SCOPEGATE_IDENTIFIER": IDENTIFIER}
    line = assert_clean_error(run("token", "--scope", "x", env=env), 2)
    assert "no signing secret configured: set SCOPEGATE_SIGNING_SECRET" in line


def test_token_reports_a_weak_secret_without_printing_it(run: Run) -> None:
    env = {"SCOPEGATE_SIGNING_SECRET": "short-secret", "SCOPEGATE_IDENTIFIER": IDENTIFIER}
    line = assert_clean_error(run("token", env=env), 2)
    assert "SCOPEGATE_SIGNING_SECRET" in line
    assert "short-secret" not in line


def test_token_reads_dotenv_of_the_working_directory(
    run: Run, tmp_path: Path, settings: Settings
) -> None:
    (tmp_path / ".env").write_text(
        f"SCOPEGATE_SIGNING_SECRET={SECRET}\nSCOPEGATE_IDENTIFIER={IDENTIFIER}\n"
        f"SCOPEGATE_ISSUER={ISSUER}\n"
    )
    result = run("token", env={})
    assert result.returncode == 0, result.stderr
    assert TokenVerifier(settings).verify(result.stdout.strip()).issuer == ISSUER


def test_env_file_option(run: Run, tmp_path: Path, settings: Settings) -> None:
    env_file = tmp_path / "api.env"
    env_file.write_text(f"SCOPEGATE_SIGNING_SECRET={SECRET}\nSCOPEGATE_IDENTIFIER=https://file\n")
    result = run("--env-file", str(env_file), "token", env={})
    assert result.returncode == 0, result.stderr
    assert jwt.decode(result.stdout.strip(), options={"verify_signature": False})["aud"] == (
        "https://file"
    )
    missing = run("--env-file", str(tmp_path / "nope.env"), "token")
    assert "nope.env: no such file" in assert_clean_error(missing, 2)


# --- scopegate inspect ------------------------------------------------------------------


def test_inspect_valid(run: Run, settings: Settings) -> None:
    token = mint_token(settings, scopes=["sample-scope", "read"])
    result = run("inspect", token)
    assert result.returncode == 0, result.stderr
    assert verdict(result) == f"VALID {DASH} scopes: read sample-scope"
    out = result.stdout
    assert "Header:" in out
    assert "alg  HS256" in out
    assert "Claims (unverified):" in out
    assert f"aud    {IDENTIFIER}" in out
    assert "issued now" in out or "issued 1 second ago" in out
    assert "expires in 59 minutes" in out
    assert f"Checked against: audience {IDENTIFIER!r}, issuer {ISSUER!r}, algorithms HS256" in out
    assert SECRET not in out + result.stderr


def test_inspect_expired(run: Run, settings: Settings) -> None:
    token = mint_token(settings, now=time.time() - 3 * 3600, expires_in=3600)
    exp = jwt.decode(token, options={"verify_signature": False})["exp"]
    result = run("inspect", token)
    assert result.returncode == 1, result.stderr
    assert result.stderr == ""
    assert verdict(result) == f"INVALID {DASH} expired 2 hours ago (at {format_time(exp)})"
    assert f"({format_time(exp)}, expired 2 hours ago)" in result.stdout
    assert SECRET not in result.stdout


def test_inspect_wrong_audience(run: Run, settings: Settings) -> None:
    token = mint_token(settings, scopes=["sample-scope"], aud="https://other-api")
    result = run("inspect", token)
    assert result.returncode == 1, result.stderr
    assert verdict(result) == (
        f"INVALID {DASH} audience: expected 'https://my-api-urn', got 'https://other-api'"
    )


def test_inspect_what_token_printed(run: Run) -> None:
    """The pair a developer uses: inspect explains what token minted."""
    minted = run("token", "--scope", "sample-scope", "--expires-in", "-7200")
    result = run("inspect", minted.stdout.strip())
    assert result.returncode == 1
    assert verdict(result).startswith(f"INVALID {DASH} expired 2 hours ago (at ")
    foreign = run("token", "--claim", "aud=https://other-api")
    result = run("inspect", foreign.stdout.strip())
    assert verdict(result) == (
        f"INVALID {DASH} audience: expected 'https://my-api-urn', got 'https://other-api'"
    )


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        pytest.param(
            {"secret": "another-secret-that-is-long-enough-for-hs256-0123456789"},
            "signature does not match the configured signing secret",
            id="signature",
        ),
        pytest.param(
            {"iss": "https://evil.example/"},
            f"issuer: expected {ISSUER!r}, got 'https://evil.example/'",
            id="issuer",
        ),
        pytest.param(
            {"algorithm": "HS384"},
            "algorithm HS384 is not allowed (allowed: HS256)",
            id="algorithm",
        ),
    ],
)
def test_inspect_names_the_rule(
    run: Run, settings: Settings, overrides: dict[str, Any], reason: str
) -> None:
    result = run("inspect", mint_token(settings, **overrides))
    assert result.returncode == 1
    assert verdict(result) == f"INVALID {DASH} {reason}"


def test_inspect_not_yet_valid(run: Run, settings: Settings) -> None:
    nbf = int(time.time()) + 7200 + 30
    result = run("inspect", mint_token(settings, nbf=nbf))
    assert result.returncode == 1
    assert verdict(result) == f"INVALID {DASH} not yet valid until {format_time(nbf)} (in 2 hours)"


def test_inspect_json(run: Run, settings: Settings) -> None:
    token = mint_token(settings, scopes=["sample-scope"], aud="https://other-api")
    result = run("inspect", "--json", token)
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["valid"] is False
    assert report["failure"] == "AUDIENCE"
    assert report["description"] == "The access token audience is not accepted"
    assert report["reason"] == "audience: expected 'https://my-api-urn', got 'https://other-api'"
    assert report["header"] == {"alg": "HS256", "typ": "JWT"}
    assert report["claims"]["aud"] == "https://other-api"
    assert set(report["dates"]) == {"iat", "exp"}
    assert report["dates"]["exp"]["relative"] == "in 59 minutes"
    assert report["scopes"] == []
    valid = run("inspect", "--json", mint_token(settings, scopes=["a"]))
    assert valid.returncode == 0
    assert json.loads(valid.stdout)["scopes"] == ["a"]
    assert json.loads(valid.stdout)["failure"] is None
    assert SECRET not in result.stdout + valid.stdout


def test_inspect_reads_stdin(run: Run, settings: Settings) -> None:
    token = mint_token(settings, scopes=["sample-scope"])
    result = run("inspect", "-", stdin=f"  Bearer {token}\n\n")
    assert result.returncode == 0, result.stderr
    assert verdict(result) == f"VALID {DASH} scopes: sample-scope"


def test_inspect_strips_bearer_from_the_argument(run: Run, settings: Settings) -> None:
    result = run("inspect", f"bearer {mint_token(settings)}")
    assert result.returncode == 0, result.stderr


NOT_BASE64URL = (
    "malformed: the header is not canonical base64url "
    "(URL-safe alphabet, no padding, no stray trailing bits)"
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "garbage", "malformed: a JWT has 3 dot-separated parts, this has 1", id="word"
        ),
        pytest.param("a.b.c", NOT_BASE64URL, id="parts"),
        pytest.param("\u00e9\u00e9.x.y", NOT_BASE64URL, id="utf8"),
    ],
)
def test_inspect_garbage_is_one_line_and_invalid(run: Run, text: str, expected: str) -> None:
    result = run("inspect", text)
    assert result.returncode == 1
    assert result.stderr == ""
    assert result.stdout == f"INVALID {DASH} {expected}\n"


def test_inspect_binary_stdin(run: Run) -> None:
    result = run("inspect", "-", stdin=b"\xff\xfe\x00garbage\x1b[31m")
    assert result.returncode == 1
    assert result.stderr == ""
    assert len(result.stdout.splitlines()) == 1
    assert "\x1b" not in result.stdout


def test_inspect_empty_stdin_is_a_usage_error(run: Run) -> None:
    line = assert_clean_error(run("inspect", "-", stdin="  \n"), 2)
    assert line == "scopegate: error: no token given (standard input is empty)"


def test_inspect_without_settings(run: Run, settings: Settings) -> None:
    result = run("inspect", mint_token(settings), env={})
    line = assert_clean_error(result, 2)
    assert "SCOPEGATE_SIGNING_SECRET" in line
    assert "SCOPEGATE_IDENTIFIER" in line


def test_inspect_escapes_control_characters(run: Run, settings: Settings) -> None:
    result = run("inspect", mint_token(settings, sub="evil\x1b[2J@clients"))
    assert result.returncode == 0
    assert "\x1b" not in result.stdout
    assert '"evil\\u001b[2J@clients"' in result.stdout


# --- help and usage ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param([], ["usage: scopegate", "token", "inspect", "--env-file"], id="main"),
        pytest.param(
            ["token"],
            ["usage: scopegate token", "--scope", "--sub", "--expires-in", "--claim", "curl"],
            id="token",
        ),
        pytest.param(
            ["inspect"], ["usage: scopegate inspect", "TOKEN", "--json", "stdin"], id="inspect"
        ),
    ],
)
def test_help(run: Run, args: list[str], expected: list[str]) -> None:
    result = run(*args, "--help", env={})
    assert result.returncode == 0
    for text in expected:
        assert text in result.stdout.replace("standard input", "stdin")


def test_no_command_is_a_usage_error(run: Run) -> None:
    result = run()
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "required: COMMAND" in result.stderr


def test_version(run: Run) -> None:
    result = run("--version")
    assert result.returncode == 0
    assert result.stdout.startswith("scopegate ")


# --- the entry points as processes: exit codes, a terminal's encoding ---------------------


def test_token_verifies_through_the_entry_point(
    command: list[str], tmp_path: Path, settings: Settings
) -> None:
    result = run_process(["token", "--scope", "sample-scope"], tmp_path, command=command)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert TokenVerifier(settings).verify(result.stdout.strip()).scopes == {"sample-scope"}


def test_an_invalid_token_exits_1_through_the_entry_point(
    command: list[str], tmp_path: Path, settings: Settings
) -> None:
    token = mint_token(settings, aud="https://other-api")
    result = run_process(["inspect", "-"], tmp_path, stdin=f"Bearer {token}\n", command=command)
    assert result.returncode == 1, result.stderr
    assert result.stderr == ""
    assert verdict(result).startswith(f"INVALID {DASH} audience: ")


def test_a_configuration_error_exits_2_through_the_entry_point(
    command: list[str], tmp_path: Path
) -> None:
    result = run_process(["token"], tmp_path, env=base_env(), command=command)
    assert "SCOPEGATE_SIGNING_SECRET" in assert_clean_error(result, 2)


def test_inspect_on_an_ascii_terminal(tmp_path: Path, settings: Settings) -> None:
    env = base_env(**CONFIGURED)
    env["PYTHONIOENCODING"] = "ascii"
    token = mint_token(settings, sub="caf\u00e9@clients")
    result = run_process(["inspect", token], tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert verdict(result) == "VALID - no scopes granted"
    assert "caf\\xe9@clients" in result.stdout


# --- end to end: scopegate token | curl | the FastAPI example ---------------------------


@pytest.fixture(scope="module")
def example_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``uvicorn main:app`` for examples/fastapi_app, with every setting in the environment."""
    if not (EXAMPLE / "main.py").is_file():
        pytest.fail("examples/fastapi_app/main.py is missing")
    env = {**example_env(), "PYTHONIOENCODING": "utf-8"}
    port = free_port()
    log = tmp_path_factory.mktemp("uvicorn") / "server.log"
    cwd = tmp_path_factory.mktemp("cwd")
    command = uvicorn_command(EXAMPLE, port)
    with serve(command, env, port, log=log, health_path="/api/public", cwd=cwd) as base_url:
        yield base_url


def call_with_minted_token(url: str, token_args: str, cwd: Path) -> tuple[int, str]:
    """What the README shows: curl with ``$(scopegate token ...)``, else httpx."""
    env = base_env(**CONFIGURED)
    env["PATH"] = f"{SCRIPT.parent}{os.pathsep}{env.get('PATH', '')}"
    curl = shutil.which("curl")
    bash = shutil.which("bash")
    if curl is None or bash is None:
        token = run_process(["token", *token_args.split()], cwd, env=env).stdout.strip()
        response = httpx.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=5.0)
        return response.status_code, response.text
    script = (
        f'curl -sS -w "\\n%{{http_code}}" '
        f'-H "Authorization: Bearer $(scopegate token {token_args})" "$URL"'
    )
    result = subprocess.run(
        [bash, "-c", script],
        cwd=cwd,
        env={**env, "URL": url},
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    body, _, status = result.stdout.rpartition("\n")
    return int(status), body


def test_token_piped_into_curl_against_the_fastapi_example(
    example_server: str, tmp_path: Path
) -> None:
    url = f"{example_server}/api/private-scoped"
    status, body = call_with_minted_token(url, "--scope sample-scope", tmp_path)
    assert status == 200, body
    assert json.loads(body)["message"].startswith("Hello from a private endpoint!")
    # Not a route that lets anything through: the scope is what made the difference.
    status, body = call_with_minted_token(url, "--scope other-scope", tmp_path)
    assert status == 403, body
    assert json.loads(body)["error"] == "insufficient_scope"
    status, body = call_with_minted_token(url, "--scope sample-scope --expires-in -60", tmp_path)
    assert status == 401, body
