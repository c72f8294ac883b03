"""``scopegate api|clients|grants|keys`` against the real authorization server on 127.0.0.1.

The commands run in-process through ``main(argv)`` (conftest's ``cli``); the README's two
terminals (``scopegate authserver``, then a command) run as real processes.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest

from client.harness import AuthServer
from helpers import InProcessCli, subprocess_env
from live_server import free_port
from scopegate.client import ClientCredentialsAuth

SCRIPT = Path(sys.executable).with_name("scopegate")
TIMEOUT = 30


def clean_env(**extra: str) -> dict[str, str]:
    return subprocess_env(**extra, PYTHONIOENCODING="utf-8")


@pytest.fixture(scope="module")
def env(server: AuthServer) -> dict[str, str]:
    """Connection settings in the environment, as a script would set them."""
    credentials = server.credentials
    assert credentials.client_id is not None
    assert credentials.client_secret is not None
    return {
        "SCOPEGATE_MANAGEMENT_URL": server.url,
        "SCOPEGATE_MANAGEMENT_CLIENT_ID": credentials.client_id,
        "SCOPEGATE_MANAGEMENT_CLIENT_SECRET": credentials.client_secret,
    }


def ok(cli: InProcessCli, args: list[str], env: Mapping[str, str]) -> Any:
    result = cli(*args, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return json.loads(result.stdout) if result.stdout else None


def refused(cli: InProcessCli, args: list[str], env: Mapping[str, str], code: int) -> str:
    result = cli(*args, env=env)
    assert result.returncode == code, (result.stdout, result.stderr)
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    return result.stderr.strip()


def test_the_api_authorization_setup(env: dict[str, str], cli: InProcessCli) -> None:
    ident = f"https://api-{secrets.token_hex(4)}.test"
    api = ok(
        cli,
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
    )
    assert api["name"] == "My Sample API"
    assert api["scopes"] == [{"value": "sample-scope"}]
    assert len(api["signing_secret"]) >= 32

    client = ok(cli, ["clients", "create", "--name", "My M2M App"], env)
    assert len(client["client_secret"]) >= 32
    grant = ok(
        cli,
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
    )
    assert grant["scope"] == ["sample-scope"]

    assert ok(cli, ["api", "get", ident], env) == api
    assert any(item["id"] == api["id"] for item in ok(cli, ["api", "list"], env))
    assert ok(cli, ["grants", "list", "--client-id", client["client_id"]], env) == [grant]
    shown = ok(cli, ["clients", "get", client["client_id"]], env)
    assert shown["name"] == "My M2M App"
    assert "client_secret" not in shown
    assert any(c["client_id"] == client["client_id"] for c in ok(cli, ["clients", "list"], env))

    updated = ok(
        cli,
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
    )
    assert [scope["value"] for scope in updated["scopes"]] == ["sample-scope", "other-scope"]
    assert updated["token_lifetime"] == 60
    regranted = ok(
        cli,
        ["grants", "update", grant["id"], "--scope", "other-scope", "--scope", "sample-scope"],
        env,
    )
    assert regranted["scope"] == ["other-scope", "sample-scope"]

    assert ok(cli, ["grants", "delete", grant["id"]], env) is None
    assert ok(cli, ["clients", "delete", client["client_id"]], env) is None
    assert ok(cli, ["api", "delete", ident], env) is None
    assert "does not exist" in refused(cli, ["api", "get", api["id"]], env, 1)


def test_options_instead_of_variables(server: AuthServer, cli: InProcessCli) -> None:
    credentials = server.credentials
    assert credentials.client_id is not None
    assert credentials.client_secret is not None
    listed = ok(
        cli,
        [
            "clients",
            "list",
            "--server",
            server.url,
            # "=": a generated secret may begin with "-", which argparse takes for an option.
            f"--management-client-id={credentials.client_id}",
            f"--management-client-secret={credentials.client_secret}",
        ],
        {},
    )
    assert credentials.client_id in {client["client_id"] for client in listed}


def test_a_token_option(server: AuthServer, cli: InProcessCli) -> None:
    credentials = server.credentials
    assert credentials.client_id is not None
    assert credentials.client_secret is not None
    auth = ClientCredentialsAuth(
        server.token_url, credentials.client_id, credentials.client_secret, server.url + "/api/v2/"
    )
    with httpx.Client() as http:
        token = auth.sync_get_token(http)
    env = {"SCOPEGATE_MANAGEMENT_CLIENT_ID": "ignored", "SCOPEGATE_MANAGEMENT_TOKEN": "bad"}
    assert isinstance(ok(cli, ["api", "list", "--server", server.url, "--token", token], env), list)
    # The variable: a bad token is refused by the server, on one line.
    message = refused(cli, ["api", "list", "--server", server.url], env, 1)
    assert message == (
        "scopegate api list: error: the server refused: 401 Unauthorized: "
        "The access token is malformed (invalid_token)"
    )


def test_a_conflict(env: dict[str, str], cli: InProcessCli) -> None:
    ident = f"https://api-{secrets.token_hex(4)}.test"
    ok(cli, ["api", "create", "--identifier", ident], env)
    message = refused(cli, ["api", "create", "--identifier", ident], env, 1)
    assert message == (
        "scopegate api create: error: the server refused: 409 Conflict: "
        "A resource server with the same identifier already exists. (conflict)"
    )


def test_the_dpop_policy(env: dict[str, str], cli: InProcessCli) -> None:
    """--dpop as Auth0's proof_of_possession; 'off' removes it."""
    ident = f"https://api-{secrets.token_hex(4)}.test"
    created = ok(cli, ["api", "create", "--identifier", ident, "--dpop", "required"], env)
    assert created["proof_of_possession"] == {"mechanism": "dpop", "required": True}
    allowed = ok(cli, ["api", "update", ident, "--dpop", "allowed"], env)
    assert allowed["proof_of_possession"] == {"mechanism": "dpop", "required": False}
    assert ok(cli, ["api", "update", ident, "--name", "renamed"], env)["proof_of_possession"] == {
        "mechanism": "dpop",
        "required": False,
    }
    off = ok(cli, ["api", "update", ident, "--dpop", "off"], env)
    assert "proof_of_possession" not in off
    plain = ok(cli, ["api", "create", "--identifier", ident + "/2"], env)
    assert "proof_of_possession" not in plain


def test_signing_keys(env: dict[str, str], cli: InProcessCli) -> None:
    keys = ok(cli, ["keys", "list"], env)
    (current,) = [key["kid"] for key in keys if key.get("current")]
    (upcoming,) = [key["kid"] for key in keys if key.get("next")]
    rotated = ok(cli, ["keys", "rotate"], env)
    assert rotated["kid"] == upcoming
    assert ok(cli, ["keys", "revoke", current], env)["kid"] == current
    message = refused(cli, ["keys", "revoke", upcoming], env, 1)
    assert message == (
        "scopegate keys revoke: error: the server refused: 400 Bad Request: The current "
        "signing key cannot be revoked; rotate the keys first, then revoke the previous key. "
        "(operation_not_supported)"
    )


def test_a_wrong_secret(env: dict[str, str], cli: InProcessCli) -> None:
    wrong = {**env, "SCOPEGATE_MANAGEMENT_CLIENT_SECRET": "wrong-secret-" * 4}
    message = refused(cli, ["clients", "list"], wrong, 1)
    assert message.startswith("scopegate clients list: error: no Management API token: ")
    assert message.endswith("401 invalid_client: Client authentication failed.")
    assert "wrong-secret" not in message


def test_an_unreachable_server(cli: InProcessCli) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    env = {"SCOPEGATE_MANAGEMENT_URL": url, "SCOPEGATE_MANAGEMENT_TOKEN": "t"}
    message = refused(cli, ["api", "list"], env, 1)
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
    args: list[str], extra: dict[str, str], expected: str, cli: InProcessCli
) -> None:
    assert refused(cli, args, extra, 2) == expected


def test_argparse_errors_are_usage_errors(cli: InProcessCli) -> None:
    result = cli("grants", "create", "--client-id", "x", env={})
    assert result.returncode == 2
    assert "the following arguments are required: --audience, --scope" in result.stderr
    result = cli("api", "create", "--identifier", "urn:x", "--token-lifetime", "0", env={})
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
def test_help(args: list[str], expected: list[str], cli: InProcessCli) -> None:
    result = cli(*args, "--help", env={})
    assert result.returncode == 0
    for text in expected:
        assert text in result.stdout


def test_against_scopegate_authserver_started_from_the_command_line(
    cli: InProcessCli, tmp_path: Path
) -> None:
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
            env = {
                "SCOPEGATE_MANAGEMENT_URL": f"http://127.0.0.1:{port}",
                "SCOPEGATE_MANAGEMENT_CLIENT_ID": printed["client_id"],
                "SCOPEGATE_MANAGEMENT_CLIENT_SECRET": printed["client_secret"],
            }
            deadline = time.monotonic() + TIMEOUT
            while True:  # the announcement comes before uvicorn listens
                result = cli("clients", "list", env=env)
                if result.returncode == 0 or time.monotonic() > deadline:
                    break
                time.sleep(0.1)
            assert result.returncode == 0, result.stderr
            # The second terminal's command, through the console script.
            listed = subprocess.run(
                [str(SCRIPT), "clients", "list"],
                env=clean_env(**env),
                cwd=tmp_path,
                capture_output=True,
                text=True,
                timeout=TIMEOUT,
                check=False,
            )
            assert listed.returncode == 0, listed.stderr
            assert listed.stderr == ""
            assert [client["client_id"] for client in json.loads(listed.stdout)] == [
                printed["client_id"]
            ]
        finally:
            server.terminate()
            server.wait(TIMEOUT)
