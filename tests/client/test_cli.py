"""``scopegate api|clients|grants`` as a subprocess against the real authorization server."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from client.harness import AuthServer
from live_server import free_port
from scopegate.client import ClientCredentialsAuth

SCRIPT = Path(sys.executable).with_name("scopegate")
TIMEOUT = 30


def clean_env(**extra: str) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("SCOPEGATE_")}
    env.update(extra, PYTHONIOENCODING="utf-8")
    return env


@pytest.fixture(scope="module")
def env(server: AuthServer) -> dict[str, str]:
    """Connection settings in the environment, as a script would set them."""
    credentials = server.credentials
    assert credentials.client_id is not None
    assert credentials.client_secret is not None
    return clean_env(
        SCOPEGATE_MANAGEMENT_URL=server.url,
        SCOPEGATE_MANAGEMENT_CLIENT_ID=credentials.client_id,
        SCOPEGATE_MANAGEMENT_CLIENT_SECRET=credentials.client_secret,
    )


def run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    assert SCRIPT.is_file(), "run: pip install -e . (the console script is missing)"
    return subprocess.run(
        [str(SCRIPT), *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT
    )


def ok(args: list[str], env: dict[str, str], cwd: Path) -> Any:
    result = run(args, env, cwd)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return json.loads(result.stdout) if result.stdout else None


def refused(args: list[str], env: dict[str, str], cwd: Path, code: int) -> str:
    result = run(args, env, cwd)
    assert result.returncode == code, (result.stdout, result.stderr)
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    return result.stderr.strip()


def test_the_api_authorization_setup(env: dict[str, str], tmp_path: Path) -> None:
    ident = f"https://api-{secrets.token_hex(4)}.test"
    api = ok(
        [
            "api",
            "create",
            "--name",
            "My Sample API",
            "--identifier",
            ident,
            "--scope",
            "sample-scope",
        ],
        env,
        tmp_path,
    )
    assert api["name"] == "My Sample API"
    assert api["scopes"] == [{"value": "sample-scope"}]
    assert len(api["signing_secret"]) >= 32

    client = ok(["clients", "create", "--name", "My M2M App"], env, tmp_path)
    assert len(client["client_secret"]) >= 32
    grant = ok(
        [
            "grants",
            "create",
            "--client-id",
            client["client_id"],
            "--audience",
            ident,
            "--scope",
            "sample-scope",
        ],
        env,
        tmp_path,
    )
    assert grant["scope"] == ["sample-scope"]

    assert ok(["api", "get", ident], env, tmp_path) == api
    assert any(item["id"] == api["id"] for item in ok(["api", "list"], env, tmp_path))
    assert ok(["grants", "list", "--client-id", client["client_id"]], env, tmp_path) == [grant]
    shown = ok(["clients", "get", client["client_id"]], env, tmp_path)
    assert shown["name"] == "My M2M App"
    assert "client_secret" not in shown
    assert any(
        c["client_id"] == client["client_id"] for c in ok(["clients", "list"], env, tmp_path)
    )

    updated = ok(
        [
            "api",
            "update",
            api["id"],
            "--scope",
            "sample-scope other-scope",
            "--token-lifetime",
            "60",
        ],
        env,
        tmp_path,
    )
    assert [scope["value"] for scope in updated["scopes"]] == ["sample-scope", "other-scope"]
    assert updated["token_lifetime"] == 60
    regranted = ok(
        ["grants", "update", grant["id"], "--scope", "other-scope", "--scope", "sample-scope"],
        env,
        tmp_path,
    )
    assert regranted["scope"] == ["other-scope", "sample-scope"]

    assert ok(["grants", "delete", grant["id"]], env, tmp_path) is None
    assert ok(["clients", "delete", client["client_id"]], env, tmp_path) is None
    assert ok(["api", "delete", ident], env, tmp_path) is None
    assert "does not exist" in refused(["api", "get", api["id"]], env, tmp_path, 1)


def test_options_instead_of_variables(server: AuthServer, tmp_path: Path) -> None:
    credentials = server.credentials
    assert credentials.client_id is not None
    assert credentials.client_secret is not None
    listed = ok(
        [
            "clients",
            "list",
            "--server",
            server.url,
            "--management-client-id",
            credentials.client_id,
            "--management-client-secret",
            credentials.client_secret,
        ],
        clean_env(),
        tmp_path,
    )
    assert credentials.client_id in {client["client_id"] for client in listed}


def test_a_token_option(server: AuthServer, tmp_path: Path) -> None:
    credentials = server.credentials
    assert credentials.client_id is not None
    assert credentials.client_secret is not None
    auth = ClientCredentialsAuth(
        server.token_url, credentials.client_id, credentials.client_secret, server.url + "/api/v2/"
    )
    with httpx.Client() as http:
        token = auth.sync_get_token(http)
    env = clean_env(SCOPEGATE_MANAGEMENT_CLIENT_ID="ignored", SCOPEGATE_MANAGEMENT_TOKEN="bad")
    assert isinstance(
        ok(["api", "list", "--server", server.url, "--token", token], env, tmp_path), list
    )
    # The variable: a bad token is refused by the server, on one line.
    message = refused(["api", "list", "--server", server.url], env, tmp_path, 1)
    assert message == (
        "scopegate api list: error: the server refused: 401 Unauthorized: "
        "The access token is malformed (invalid_token)"
    )


def test_a_conflict(env: dict[str, str], tmp_path: Path) -> None:
    ident = f"https://api-{secrets.token_hex(4)}.test"
    ok(["api", "create", "--identifier", ident], env, tmp_path)
    message = refused(["api", "create", "--identifier", ident], env, tmp_path, 1)
    assert message == (
        "scopegate api create: error: the server refused: 409 Conflict: "
        "A resource server with the same identifier already exists. (conflict)"
    )


def test_the_dpop_policy(env: dict[str, str], tmp_path: Path) -> None:
    """--dpop as Auth0's proof_of_possession; 'off' removes it."""
    ident = f"https://api-{secrets.token_hex(4)}.test"
    created = ok(["api", "create", "--identifier", ident, "--dpop", "required"], env, tmp_path)
    assert created["proof_of_possession"] == {"mechanism": "dpop", "required": True}
    allowed = ok(["api", "update", ident, "--dpop", "allowed"], env, tmp_path)
    assert allowed["proof_of_possession"] == {"mechanism": "dpop", "required": False}
    assert ok(["api", "update", ident, "--name", "renamed"], env, tmp_path)[
        "proof_of_possession"
    ] == {"mechanism": "dpop", "required": False}
    off = ok(["api", "update", ident, "--dpop", "off"], env, tmp_path)
    assert "proof_of_possession" not in off
    plain = ok(["api", "create", "--identifier", ident + "/2"], env, tmp_path)
    assert "proof_of_possession" not in plain


def test_signing_keys(env: dict[str, str], tmp_path: Path) -> None:
    keys = ok(["keys", "list"], env, tmp_path)
    (current,) = [key["kid"] for key in keys if key.get("current")]
    (upcoming,) = [key["kid"] for key in keys if key.get("next")]
    rotated = ok(["keys", "rotate"], env, tmp_path)
    assert rotated["kid"] == upcoming
    assert ok(["keys", "revoke", current], env, tmp_path)["kid"] == current
    message = refused(["keys", "revoke", upcoming], env, tmp_path, 1)
    assert message == (
        "scopegate keys revoke: error: the server refused: 400 Bad Request: The current "
        "signing key cannot be revoked; rotate the keys first, then revoke the previous key. "
        "(operation_not_supported)"
    )


def test_a_wrong_secret(env: dict[str, str], tmp_path: Path) -> None:
    wrong = {**env, "SCOPEGATE_MANAGEMENT_CLIENT_SECRET": "wrong-secret-" * 4}
    message = refused(["clients", "list"], wrong, tmp_path, 1)
    assert message.startswith("scopegate clients list: error: no Management API token: ")
    assert message.endswith("401 invalid_client: Client authentication failed.")
    assert "wrong-secret" not in message


def test_an_unreachable_server(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    env = clean_env(SCOPEGATE_MANAGEMENT_URL=url, SCOPEGATE_MANAGEMENT_TOKEN="t")
    message = refused(["api", "list"], env, tmp_path, 1)
    assert message.startswith(f"scopegate api list: error: cannot reach {url}/api/v2/")


@pytest.mark.parametrize(
    ("args", "extra", "expected"),
    [
        pytest.param(
            ["api", "list"],
            {},
            "scopegate api list: error: no server: give --server URL or set "
            "SCOPEGATE_MANAGEMENT_URL",
            id="no-server",
        ),
        pytest.param(
            ["api", "list", "--server", "http://127.0.0.1:9"],
            {},
            "scopegate api list: error: no credentials: give --token (or "
            "SCOPEGATE_MANAGEMENT_TOKEN), or --management-client-id and "
            "--management-client-secret (or SCOPEGATE_MANAGEMENT_CLIENT_ID and "
            "SCOPEGATE_MANAGEMENT_CLIENT_SECRET)",
            id="no-credentials",
        ),
        pytest.param(
            ["grants", "list", "--server", "http://127.0.0.1:9", "--management-client-id", "x"],
            {},
            "scopegate grants list: error: no --management-client-secret (or its variable): "
            "client credentials go in pairs",
            id="half-credentials",
        ),
        pytest.param(
            ["clients", "list", "--server", "ftp://example.com", "--token", "t"],
            {},
            "scopegate clients list: error: 'ftp://example.com' is not a server: give a URL "
            "such as http://127.0.0.1:8787 or an Auth0 domain such as TENANT.auth0.com",
            id="bad-server",
        ),
        pytest.param(
            ["api", "update", "some-id"],
            {"SCOPEGATE_MANAGEMENT_URL": "http://127.0.0.1:9", "SCOPEGATE_MANAGEMENT_TOKEN": "t"},
            "scopegate api update: error: nothing to change: give --name, --scope, "
            "--token-lifetime or --dpop",
            id="nothing-to-change",
        ),
    ],
)
def test_usage_errors(
    args: list[str], extra: dict[str, str], expected: str, tmp_path: Path
) -> None:
    assert refused(args, clean_env(**extra), tmp_path, 2) == expected


def test_argparse_errors_are_usage_errors(tmp_path: Path) -> None:
    result = run(["grants", "create", "--client-id", "x"], clean_env(), tmp_path)
    assert result.returncode == 2
    assert "the following arguments are required: --audience, --scope" in result.stderr
    result = run(
        ["api", "create", "--identifier", "urn:x", "--token-lifetime", "0"], clean_env(), tmp_path
    )
    assert result.returncode == 2
    assert "'0' is not a positive whole number" in result.stderr


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(["api"], ["create", "list", "get", "update", "delete"], id="api"),
        pytest.param(["clients"], ["create", "list", "get", "update", "delete"], id="clients"),
        pytest.param(["grants"], ["create", "list", "update", "delete"], id="grants"),
        pytest.param(["keys"], ["list", "rotate", "revoke"], id="keys"),
        pytest.param(
            ["api", "create"],
            ["--identifier", "--scope", "--server", "SCOPEGATE_MANAGEMENT_URL", "--token"],
            id="api-create",
        ),
        pytest.param(
            ["grants", "create"],
            ["--client-id", "--audience", "--management-client-id", "--management-client-secret"],
            id="grants-create",
        ),
    ],
)
def test_help(args: list[str], expected: list[str], tmp_path: Path) -> None:
    result = run([*args, "--help"], clean_env(), tmp_path)
    assert result.returncode == 0
    for text in expected:
        assert text in result.stdout


def test_against_scopegate_authserver_started_from_the_command_line(tmp_path: Path) -> None:
    """The README's two terminals: ``scopegate authserver``, then the management commands."""
    port = free_port()
    with subprocess.Popen(
        [str(SCRIPT), "authserver", "--port", str(port), "--db", str(tmp_path / "auth.db")],
        env=clean_env(),
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as server:
        try:
            assert server.stdout is not None
            printed: dict[str, str] = {}
            for line in server.stdout:
                name, _, value = line.strip().partition(": ")
                printed[name] = value.strip()
                if name == "token URL":
                    break
            env = clean_env(
                SCOPEGATE_MANAGEMENT_URL=f"http://127.0.0.1:{port}",
                SCOPEGATE_MANAGEMENT_CLIENT_ID=printed["client_id"],
                SCOPEGATE_MANAGEMENT_CLIENT_SECRET=printed["client_secret"],
            )
            deadline = time.monotonic() + TIMEOUT
            while True:  # the announcement comes before uvicorn listens
                result = run(["clients", "list"], env, tmp_path)
                if result.returncode == 0 or time.monotonic() > deadline:
                    break
                time.sleep(0.1)
            assert result.returncode == 0, result.stderr
            assert [client["client_id"] for client in json.loads(result.stdout)] == [
                printed["client_id"]
            ]
        finally:
            server.terminate()
            server.wait(TIMEOUT)
