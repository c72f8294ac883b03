"""Running the demo: start both servers, walk the steps, say which one deviated."""

from __future__ import annotations

import sys
import tempfile
import textwrap
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import TextIO

import httpx

from scopegate.authserver import ManagementCredentials, create_app
from scopegate.client import ClientError, ManagementClient
from scopegate.demo.api import create_api
from scopegate.demo.flow import STEPS, DemoContext, Step, StepFailed
from scopegate.demo.servers import ServerError, serve
from scopegate.demo.transcript import Transcript, abbreviate
from scopegate.settings import Settings

__all__ = ["EXIT_DEVIATED", "EXIT_NOT_STARTED", "run_demo"]

EXIT_DEVIATED = 1
EXIT_NOT_STARTED = 2
_WIDTH = 96
_TIMEOUT = 10.0


def _wrap(text: str, indent: str = "  ") -> list[str]:
    return textwrap.wrap(text, _WIDTH, initial_indent=indent, subsequent_indent=indent)


def _run_step(ctx: DemoContext, number: int, step: Step, total: int) -> str | None:
    transcript = ctx.transcript
    transcript.line(f"[{number}/{total}] {step.title}  (expect {step.status})")
    for line in _wrap(step.note) if step.note else ():
        transcript.line(line)
    transcript.line()
    seen = len(transcript.exchanges)
    try:
        step.action(ctx)
    except (ClientError, httpx.HTTPError, StepFailed, ServerError) as error:
        problem: str | None = f"{type(error).__name__}: {error}"
    else:
        problem = step.check(transcript.exchanges[seen:])
    if problem is None:
        transcript.line(f"  ok: {step.status}, as documented")
    else:
        transcript.line(f"  DEVIATION: {problem}")
    transcript.line()
    return problem


def _walk(ctx: DemoContext, steps: Sequence[Step]) -> int:
    for number, step in enumerate(steps, 1):
        problem = _run_step(ctx, number, step, len(steps))
        if problem is not None:
            message = f"step {number} ({step.title}) deviated: {problem}"
            ctx.transcript.line(f"FAILED: {message}")
            print(f"scopegate demo: {message}", file=sys.stderr)
            return EXIT_DEVIATED
    ctx.transcript.line(f"All {len(steps)} steps behaved as documented.")
    return 0


def _introduce(
    transcript: Transcript, auth_url: str, db: Path, mgmt: ManagementCredentials
) -> None:
    client_id = abbreviate(mgmt.client_id or "", transcript.ellipsis)
    transcript.line("scopegate demo: Auth0's API Authorization flow over real HTTP on 127.0.0.1")
    transcript.line()
    transcript.line(f"Authorization server  {auth_url}  (scopegate authserver, SQLite {db})")
    transcript.line(
        f"  management client {client_id}, created at its first start; "
        "it gets its own Management API token"
    )
    transcript.line("Resource server       starts once My Sample API exists (step 1)")
    transcript.line()


def run_demo(out: TextIO | None = None, steps: Sequence[Step] = STEPS) -> int:
    """Start the servers, run ``steps``, print the transcript to ``out`` (stdout).

    Returns:
        0 when every step behaved as documented, 1 at the first that did not
        (named on stderr too), 2 when a server could not start.
    """
    transcript = Transcript(out or sys.stdout)
    hooks = {"response": [transcript.record]}
    with ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="scopegate-demo-")))
        db = folder / "auth.db"
        try:
            auth = stack.enter_context(
                serve(lambda base: create_app(base, str(db)), "authorization server")
            )
        except ServerError as error:
            print(f"scopegate demo: error: {error}", file=sys.stderr)
            return EXIT_NOT_STARTED
        credentials: ManagementCredentials = auth.app.state.bootstrap
        if credentials.client_id is None or credentials.client_secret is None:
            raise RuntimeError("a new authorization server has no management client")
        _introduce(transcript, auth.url, db, credentials)

        def start_api(settings: Settings) -> str:
            return stack.enter_context(
                serve(lambda _base: create_api(settings), "resource server")
            ).url

        management = stack.enter_context(
            ManagementClient.with_client_credentials(
                auth.url,
                credentials.client_id,
                credentials.client_secret,
                event_hooks=hooks,
                timeout=_TIMEOUT,
            )
        )
        http = stack.enter_context(httpx.Client(event_hooks=hooks, timeout=_TIMEOUT))
        ctx = DemoContext(transcript, auth.url, management, http, start_api)
        return _walk(ctx, steps)
