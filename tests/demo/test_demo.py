"""``scopegate demo``: both flows as a subprocess, each alone in-process, and its deviations."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from conformance.model import DPOP_ALGS, DPOP_OFFER
from helpers import InProcessCli, subprocess_env
from live_server import BAD_SIGNATURE, EXPIRED, INSUFFICIENT_SCOPE, NO_TOKEN
from scopegate.demo import run_demo
from scopegate.demo.flow import DPOP_STEPS, RS256_STEPS, STEPS, Step

SCRIPT = Path(sys.executable).with_name("scopegate")
TIMEOUT = 60

UNKNOWN_KEY = (
    'Bearer realm="api", error="invalid_token", '
    f'error_description="The access token signing key is not known", {DPOP_OFFER}'
)
OK_PRIVATE = "have a scope of sample-scope"

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

RS256_EXPECTED = [
    (
        'Register "My RS256 API" (https://my-rs256-api, signing_alg RS256, scope sample-scope)',
        201,
        [
            '"signing_alg":"RS256"',
            "< 201 Created",
            "configured with no secret and no key, only:",
            "  SCOPEGATE_IDENTIFIER=https://my-rs256-api\n",
            "  SCOPEGATE_JWKS_CACHE_TTL=1  SCOPEGATE_JWKS_REFRESH_COOLDOWN=0.5  ",
        ],
    ),
    (
        "Discovery: GET /.well-known/openid-configuration, then its jwks_uri",
        200,
        ["/.well-known/openid-configuration\n", '"jwks_uri":"http://127.0.0.1:', "/jwks.json\n"],
    ),
    ('Create a client, "My RS256 App"', 201, ['"name":"My RS256 App"', "< 201 Created"]),
    (
        "Grant My RS256 App sample-scope on My RS256 API",
        201,
        ['"audience":"https://my-rs256-api","scope":["sample-scope"]', "< 201 Created"],
    ),
    (
        "Request a token for My RS256 App",
        200,
        ["audience=https://my-rs256-api", '"access_token":"eyJhbGciOiJS', "alg RS256, kid "],
    ),
    ("GET /api/private-scoped with that token", 200, ["< 200 OK", OK_PRIVATE]),
    (
        "Rotate the signing key (POST /api/v2/keys/signing/rotate)",
        200,
        ["> POST http://127.0.0.1:", "/api/v2/keys/signing/rotate\n", "< 200 OK"],
    ),
    (
        "GET /api/private-scoped with a new token, signed with the new key",
        200,
        ["/oauth/token", "The new token's header: alg RS256, kid ", "< 200 OK", OK_PRIVATE],
    ),
    (
        "GET /api/private-scoped with the first token (the previous key)",
        200,
        ["< 200 OK", OK_PRIVATE],
    ),
    (
        "Revoke the previous key (PUT /api/v2/keys/signing/{kid}/revoke)",
        200,
        ["> PUT http://127.0.0.1:", "/revoke\n", "< 200 OK"],
    ),
    (
        "GET /api/private-scoped with the first token, once the API's keys have refreshed",
        401,
        [
            "unrecorded until the refresh has landed",
            "< 401 Unauthorized",
            f"< WWW-Authenticate: {UNKNOWN_KEY}\n",
            '< {"error":"invalid_token","error_description":'
            '"The access token signing key is not known"}',
        ],
    ),
]


BEARER_OFFER = 'Bearer realm="api"'


def dpop_challenge(error: str, description: str) -> str:
    """The DPoP scheme carries the error; Bearer is still offered (dpop="allowed")."""
    return (
        f'{BEARER_OFFER}, DPoP realm="api", error="{error}", '
        f'error_description="{description}", algs="{DPOP_ALGS}"'
    )


BOUND_AS_BEARER = "The access token is sender-constrained and cannot be used as a bearer token"
DPOP_EXPECTED = [
    (
        'Register "My DPoP API" (https://my-dpop-api, RS256, proof_of_possession: dpop, required)',
        201,
        [
            '"proof_of_possession":{"mechanism":"dpop","required":true}',
            "< 201 Created",
            "  SCOPEGATE_IDENTIFIER=https://my-dpop-api\n",
            "and SCOPEGATE_DPOP left at its default, allowed",
        ],
    ),
    ('Create a client, "My DPoP App"', 201, ['"name":"My DPoP App"', "< 201 Created"]),
    (
        "Grant My DPoP App sample-scope on My DPoP API",
        201,
        ['"audience":"https://my-dpop-api","scope":["sample-scope"]', "< 201 Created"],
    ),
    (
        "Request a token without a DPoP proof",
        400,
        [
            "audience=https://my-dpop-api\n",
            "< 400 Bad Request",
            '< {"error":"invalid_dpop_proof","error_description":"A DPoP proof is required"}',
        ],
    ),
    (
        "Request a token with ClientCredentialsAuth(dpop_key=DPoPKey.generate())",
        200,
        [
            "> DPoP: eyJhbGciOiJF",  # ES256
            '"token_type":"DPoP"',
            "The client's key: ES256, RFC 7638 thumbprint ",
        ],
    ),
    (
        "GET /api/private-scoped with that token and a fresh proof",
        200,
        ["> Authorization: DPoP eyJhbGciOiJS", "> DPoP: eyJhbGciOiJF", "< 200 OK", OK_PRIVATE],
    ),
    (
        "GET /api/private-scoped with the same token stolen, sent as Bearer",
        401,
        [
            "> Authorization: Bearer eyJhbGciOiJS",
            f'< WWW-Authenticate: Bearer realm="api", error="invalid_token", '
            f'error_description="{BOUND_AS_BEARER}", {DPOP_OFFER}\n',
        ],
    ),
    (
        "GET /api/private-scoped with the same token on the DPoP scheme, without a proof",
        401,
        [
            "< WWW-Authenticate: "
            + dpop_challenge("invalid_dpop_proof", "A DPoP proof is required")
            + "\n"
        ],
    ),
    (
        "GET /api/private-scoped with the same token and a proof from another key",
        401,
        [
            "signed by a key of the thief's own",
            "< WWW-Authenticate: "
            + dpop_challenge("invalid_token", "The access token is not bound to the DPoP proof key")
            + "\n",
        ],
    ),
    (
        "GET /api/private-scoped with the proof of step 6 replayed",
        401,
        [
            "< WWW-Authenticate: "
            + dpop_challenge("invalid_dpop_proof", "The DPoP proof has already been used")
            + "\n"
        ],
    ),
]


def run_cli(folder: Path, *options: str) -> subprocess.CompletedProcess[str]:
    """``scopegate demo`` from an empty folder, as a user runs it."""
    assert SCRIPT.is_file(), "run: pip install -e . (the console script is missing)"
    return subprocess.run(
        [str(SCRIPT), "demo", *options],
        cwd=folder,
        env=subprocess_env(PYTHONIOENCODING="utf-8"),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> subprocess.CompletedProcess[str]:
    """``scopegate demo`` run once with no option: every flow."""
    return run_cli(tmp_path_factory.mktemp("demo"))


def sections(transcript: str) -> list[str]:
    """The transcript cut at each step's heading."""
    return re.split(r"^(?=\[\d+/\d+\] )", transcript, flags=re.MULTILINE)[1:]


def check_steps(parts: list[str], expected: list[tuple[str, int, list[str]]]) -> None:
    assert len(parts) == len(expected)
    total = len(expected)
    for number, (part, (title, status, lines)) in enumerate(zip(parts, expected, strict=True), 1):
        assert part.startswith(f"[{number}/{total}] {title}  (expect {status})\n"), part
        assert f"  ok: {status}, as documented\n" in part, part
        for line in lines:
            assert line in part, (number, line)


def test_the_demo_succeeds(demo: subprocess.CompletedProcess[str]) -> None:
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert demo.stderr == ""
    assert demo.stdout.rstrip().endswith("All 31 steps behaved as documented.")
    hs256 = demo.stdout.index(
        "== HS256: the seed's API, verified with its signing secret (10 steps) =="
    )
    rs256 = demo.stdout.index(
        "== RS256: an API verified through discovery, across a key rotation (11 steps) =="
    )
    assert hs256 < demo.stdout.index("The HS256 flow: all 10 steps behaved as documented.") < rs256
    dpop = demo.stdout.index(
        "== DPoP: tokens bound to the client's key, useless without it (10 steps) =="
    )
    assert rs256 < demo.stdout.index("The RS256 flow: all 11 steps behaved as documented.") < dpop
    assert "The DPOP flow: all 10 steps behaved as documented." in demo.stdout


def test_each_step_gets_the_documented_answer(demo: subprocess.CompletedProcess[str]) -> None:
    parts = sections(demo.stdout)
    rs256 = len(EXPECTED) + len(RS256_EXPECTED)
    check_steps(parts[: len(EXPECTED)], EXPECTED)
    check_steps(parts[len(EXPECTED) : rs256], RS256_EXPECTED)
    check_steps(parts[rs256:], DPOP_EXPECTED)


def test_the_replayed_proof_is_step_6s(demo: subprocess.CompletedProcess[str]) -> None:
    parts = sections(demo.stdout)[len(EXPECTED) + len(RS256_EXPECTED) :]
    sent = re.findall(r"^    > DPoP: (\S+)$", parts[5], re.MULTILINE)
    replayed = re.findall(r"^    > DPoP: (\S+)$", parts[9], re.MULTILINE)
    assert len(sent) == len(replayed) == 1
    assert sent == replayed


def test_the_rotation_and_the_revocation_name_the_right_keys(
    demo: subprocess.CompletedProcess[str],
) -> None:
    parts = sections(demo.stdout)[len(EXPECTED) : len(EXPECTED) + len(RS256_EXPECTED)]
    published = re.search(r"Published kids: ([\w-]+), ([\w-]+)\n", parts[1])
    assert published is not None, parts[1]
    old_kid = re.search(r"The token's header: alg RS256, kid ([\w-]+)\.\n", parts[4])
    assert old_kid is not None, parts[4]
    rotated = re.search(r"The current key is now ([\w-]+); ([\w-]+) stays published", parts[6])
    assert rotated is not None, parts[6]
    new_kid = re.search(r"The new token's header: alg RS256, kid ([\w-]+)\.\n", parts[7])
    assert new_kid is not None, parts[7]
    assert rotated[2] == old_kid[1] != rotated[1] == new_kid[1]
    assert {old_kid[1], new_kid[1]} == {published[1], published[2]}  # current and next
    assert f"/api/v2/keys/signing/{old_kid[1]}/revoke\n" in parts[9]
    # The last step shows one exchange, whatever the retries it made unrecorded.
    assert parts[10].count("> GET ") == 1


@pytest.mark.parametrize(
    ("flow", "expected", "absent"),
    [
        pytest.param("hs256", EXPECTED, "My RS256 API", id="hs256"),
        pytest.param("rs256", RS256_EXPECTED, "My Sample API", id="rs256"),
        pytest.param("dpop", DPOP_EXPECTED, "My RS256 API", id="dpop"),
    ],
)
def test_one_flow_runs_only_its_steps(
    flow: str, expected: list[tuple[str, int, list[str]]], absent: str, cli: InProcessCli
) -> None:
    result = cli("demo", "--flow", flow)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr == ""
    check_steps(sections(result.stdout), expected)
    assert result.stdout.rstrip().endswith(f"All {len(expected)} steps behaved as documented.")
    assert absent not in result.stdout
    assert "== " not in result.stdout  # no flow headings for a single flow


def test_an_unknown_flow_is_a_usage_error(cli: InProcessCli) -> None:
    result = cli("demo", "--flow", "es256")
    assert result.returncode == 2
    assert result.stdout == ""
    assert "argument --flow: invalid choice: 'es256'" in result.stderr


def test_help_names_the_flows(cli: InProcessCli) -> None:
    result = cli("demo", "--help")
    assert result.returncode == 0
    assert "--flow {hs256,rs256,dpop,all}" in result.stdout
    assert "which flow to walk: hs256, rs256, dpop or all" in result.stdout


def test_the_transcript_hides_secrets_and_tokens(demo: subprocess.CompletedProcess[str]) -> None:
    out = demo.stdout
    assert re.search(r"eyJ[\w-]+\.[\w-]+\.[\w-]+", out) is None  # no whole JWT
    # Client ids are 32 characters; secrets are 64 and tokens longer: none appears whole.
    assert re.findall(r"[\w-]{40,}", out) == []
    assert re.search(r'"signing_secret":"[\w-]{12}\u2026"', out)
    assert re.search(r"client_secret=[\w-]{12}\u2026&", out)
    assert re.search(r'"access_token":"eyJhbGciOiJI\u2026[\w-]{6}"', out)  # HS256
    assert re.search(r'"access_token":"eyJhbGciOiJS\u2026[\w-]{6}"', out)  # RS256
    # Public but page-wide: the JWK Set's moduli and the signing keys' certificates.
    assert re.search(r'"n":"[\w-]{12}\u2026","e":"AQAB"', out)
    assert '"cert":"-----BEGIN C\u2026"' in out


def test_the_servers_are_named(demo: subprocess.CompletedProcess[str]) -> None:
    assert re.search(r"^Authorization server  http://127\.0\.0\.1:\d+ ", demo.stdout, re.M)
    assert "the FastAPI example's routes) now runs at http://127.0.0.1:" in demo.stdout
    assert "  SCOPEGATE_IDENTIFIER=https://my-api-urn\n" in demo.stdout


def test_python_dash_m_on_an_ascii_terminal(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "scopegate", "demo"],
        cwd=tmp_path,
        env=subprocess_env(PYTHONIOENCODING="ascii"),
        capture_output=True,
        timeout=TIMEOUT,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout.decode("ascii")  # nothing but ASCII
    assert re.search(r'"signing_secret":"[\w-]{12}\.\.\."', out)
    assert re.search(r"payload character \d+ changed: '\w' -> '[AB]'", out)
    assert re.search(r'"n":"[\w-]{12}\.\.\.","e":"AQAB"', out)
    assert out.rstrip().endswith("All 31 steps behaved as documented.")


# --- deviations, in process -------------------------------------------------------------------


def run_in_process(steps: tuple[Step, ...], flow: str = "hs256") -> tuple[int, str]:
    out = io.StringIO()
    return run_demo(out, steps, flows=(flow,)), out.getvalue()


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
        f"DEVIATION: WWW-Authenticate was {NO_TOKEN!r}, expected 'Bearer realm=\"elsewhere\"'"
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


def test_an_rs256_step_that_deviates_stops_the_demo(capsys: pytest.CaptureFixture[str]) -> None:
    steps = (*RS256_STEPS[:5], replace(RS256_STEPS[5], status=401))
    code, out = run_in_process(steps, "rs256")
    assert code == 1
    assert re.search(
        r"  DEVIATION: GET http://127\.0\.0\.1:\d+/api/private-scoped answered 200, "
        r"expected 401\n",
        out,
    )
    assert "step 6 (GET /api/private-scoped with that token) deviated" in capsys.readouterr().err


def test_the_rotation_needs_a_token_first(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run_in_process((RS256_STEPS[6],), "rs256")
    assert code == 1
    assert "DEVIATION: StepFailed: the first token's kid is missing" in out
    capsys.readouterr()


def test_a_replay_needs_the_proof_of_a_call_first(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run_in_process((*DPOP_STEPS[:5], DPOP_STEPS[9]), "dpop")
    assert code == 1
    assert (
        "DEVIATION: StepFailed: the proof of the first call is missing: "
        "an earlier step did not finish"
    ) in out
    assert "step 6 (GET /api/private-scoped with the proof of step 6 replayed) deviated" in (
        capsys.readouterr().err
    )


def test_a_bound_token_accepted_as_bearer_would_be_a_deviation(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The check is the status and the exact challenge: a 401 with another one deviates."""
    steps = (*DPOP_STEPS[:5], replace(DPOP_STEPS[6], challenge=NO_TOKEN))
    code, out = run_in_process(steps, "dpop")
    assert code == 1
    assert f"expected {NO_TOKEN!r}" in out
    capsys.readouterr()
