"""``scopegate demo``: the whole flow as a subprocess, and how it reports a deviation."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from live_server import BAD_SIGNATURE, EXPIRED, INSUFFICIENT_SCOPE, NO_TOKEN
from scopegate.demo import run_demo
from scopegate.demo.flow import STEPS, Step

SCRIPT = Path(sys.executable).with_name("scopegate")
TIMEOUT = 60

# (title, expected status, lines the step's part of the transcript must hold)
EXPECTED = [
    (
        'Register "My Sample API" (https://my-api-urn, scopes sample-scope and other-scope)',
        201,
        ["> POST http://127.0.0.1:", "/oauth/token", "/api/v2/resource-servers", "< 201 Created"],
    ),
    ('Create a client, "My M2M App"', 201, ["/api/v2/clients", "< 201 Created"]),
    (
        "Grant My M2M App sample-scope on My Sample API",
        201,
        ["/api/v2/client-grants", '"scope":["sample-scope"]', "< 201 Created"],
    ),
    (
        "Request a token for My M2M App (client credentials grant)",
        200,
        ["grant_type=client_credentials", "audience=https://my-api-urn", "< 200 OK"],
    ),
    ("GET /api/private-scoped with that token", 200, ["< 200 OK", "have a scope of sample-scope"]),
    (
        "GET /api/private-scoped with no token",
        401,
        ["< 401 Unauthorized", f"< WWW-Authenticate: {NO_TOKEN}\n"],
    ),
    (
        'Create a second client, "Other App", granted only other-scope',
        201,
        ['"scope":["other-scope"]', "< 201 Created"],
    ),
    (
        "GET /api/private-scoped with a token granted only other-scope",
        403,
        ['"scope":"other-scope"', "< 403 Forbidden", f"< WWW-Authenticate: {INSUFFICIENT_SCOPE}"],
    ),
    (
        "GET /api/private-scoped with an expired token",
        401,
        ["scopegate.testing.mint_token", "< 401 Unauthorized", f"< WWW-Authenticate: {EXPIRED}"],
    ),
    (
        "GET /api/private-scoped with a tampered token",
        401,
        ["payload character", "< 401 Unauthorized", f"< WWW-Authenticate: {BAD_SIGNATURE}"],
    ),
]


def clean_env(**extra: str) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("SCOPEGATE_")}
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> subprocess.CompletedProcess[str]:
    """``scopegate demo`` run once, from an empty folder, as a user runs it."""
    assert SCRIPT.is_file(), "run: pip install -e . (the console script is missing)"
    return subprocess.run(
        [str(SCRIPT), "demo"],
        cwd=tmp_path_factory.mktemp("demo"),
        env=clean_env(PYTHONIOENCODING="utf-8"),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )


def sections(transcript: str) -> list[str]:
    """The transcript cut at each step's heading."""
    return re.split(r"^(?=\[\d+/\d+\] )", transcript, flags=re.MULTILINE)[1:]


def test_the_demo_succeeds(demo: subprocess.CompletedProcess[str]) -> None:
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert demo.stderr == ""
    assert demo.stdout.rstrip().endswith("All 10 steps behaved as documented.")


def test_each_step_gets_the_documented_answer(demo: subprocess.CompletedProcess[str]) -> None:
    parts = sections(demo.stdout)
    assert len(parts) == len(EXPECTED)
    for number, (part, (title, status, lines)) in enumerate(zip(parts, EXPECTED, strict=True), 1):
        assert part.startswith(f"[{number}/10] {title}  (expect {status})\n"), part
        assert f"  ok: {status}, as documented\n" in part, part
        for line in lines:
            assert line in part, (number, line)


def test_the_transcript_hides_secrets_and_tokens(demo: subprocess.CompletedProcess[str]) -> None:
    out = demo.stdout
    assert re.search(r"eyJ[\w-]+\.[\w-]+\.[\w-]+", out) is None  # no whole JWT
    # Client ids are 32 characters; secrets are 64 and tokens longer: none appears whole.
    assert re.findall(r"[\w-]{40,}", out) == []
    assert re.search(r'"signing_secret":"[\w-]{12}\u2026"', out)
    assert re.search(r"client_secret=[\w-]{12}\u2026&", out)
    assert re.search(r'"access_token":"eyJhbGciOiJI\u2026[\w-]{6}"', out)


def test_the_servers_are_named(demo: subprocess.CompletedProcess[str]) -> None:
    assert re.search(r"^Authorization server  http://127\.0\.0\.1:\d+ ", demo.stdout, re.M)
    assert "the FastAPI example's routes) now runs at http://127.0.0.1:" in demo.stdout
    assert "  SCOPEGATE_IDENTIFIER=https://my-api-urn\n" in demo.stdout


def test_python_dash_m_on_an_ascii_terminal(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "scopegate", "demo"],
        cwd=tmp_path,
        env=clean_env(PYTHONIOENCODING="ascii"),
        capture_output=True,
        timeout=TIMEOUT,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout.decode("ascii")  # nothing but ASCII
    assert re.search(r'"signing_secret":"[\w-]{12}\.\.\."', out)
    assert re.search(r"payload character \d+ changed: '\w' -> '[AB]'", out)


# --- deviations, in process -------------------------------------------------------------------


def run_in_process(steps: tuple[Step, ...]) -> tuple[int, str]:
    out = io.StringIO()
    return run_demo(out, steps), out.getvalue()


def test_a_wrong_status_stops_the_demo_and_names_the_step(
    capsys: pytest.CaptureFixture[str],
) -> None:
    steps = (STEPS[0], replace(STEPS[1], status=200), STEPS[2])
    code, out = run_in_process(steps)
    assert code == 1
    assert re.search(
        r"  DEVIATION: POST http://127\.0\.0\.1:\d+/api/v2/clients answered 201, expected 200\n",
        out,
    )
    assert "[3/3]" not in out
    stderr = capsys.readouterr().err
    assert stderr.startswith(
        'scopegate demo: step 2 (Create a client, "My M2M App") deviated: POST http://127.0.0.1:'
    )
    assert stderr.count("\n") == 1


def test_a_wrong_challenge_is_a_deviation(capsys: pytest.CaptureFixture[str]) -> None:
    steps = (STEPS[0], replace(STEPS[5], challenge='Bearer realm="elsewhere"'))
    code, out = run_in_process(steps)
    assert code == 1
    assert (
        "DEVIATION: WWW-Authenticate was 'Bearer realm=\"api\"', "
        "expected 'Bearer realm=\"elsewhere\"'"
    ) in out
    assert "step 2 (GET /api/private-scoped with no token) deviated" in capsys.readouterr().err


def test_a_refusal_is_a_deviation(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run_in_process((STEPS[0], STEPS[0]))  # the identifier is taken the second time
    assert code == 1
    assert (
        "DEVIATION: ManagementError: 409 Conflict: A resource server with the same identifier "
        "already exists. (conflict)"
    ) in out
    capsys.readouterr()


def test_a_step_out_of_order_is_a_deviation(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run_in_process((STEPS[3],))
    assert code == 1
    assert "DEVIATION: StepFailed: the client is missing: an earlier step did not finish" in out
    capsys.readouterr()
