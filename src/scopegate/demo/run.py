"""Running the demo: start the servers, walk each flow's steps, say which one deviated."""

from __future__ import annotations

import sys
import tempfile
import textwrap
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path
from typing import TextIO

import httpx

from scopegate._settings import Settings
from scopegate.authserver import ManagementCredentials, create_app
from scopegate.client import ClientError, ManagementClient
from scopegate.demo.api import create_api
from scopegate.demo.flow import FLOWS, DemoContext, Flow, Step, StepFailed
from scopegate.demo.servers import ServerError, serve
from scopegate.demo.transcript import Transcript, abbreviate

EXIT_DEVIATED = 1
EXIT_NOT_STARTED = 2
_WIDTH = 96
_TIMEOUT = 10.0
ALL_FLOWS = tuple(FLOWS)


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
    return 0


def _walk_flows(make_context: Callable[[Flow], DemoContext], flows: Sequence[Flow]) -> int:
    """Each flow in turn, with its own context (and so its own API); stop at a deviation."""
    transcript: Transcript | None = None
    for flow in flows:
        ctx = make_context(flow)
        transcript = ctx.transcript
        if len(flows) > 1:
            transcript.line(f"== {flow.title} ({len(flow.steps)} steps) ==")
            transcript.line()
        code = _walk(ctx, flow.steps)
        if code != 0:
            return code
        if len(flows) > 1:
            transcript.line(
                f"The {flow.name.upper()} flow: all {len(flow.steps)} steps behaved as documented."
            )
            transcript.line()
    if transcript is not None:
        total = sum(len(flow.steps) for flow in flows)
        transcript.line(f"All {total} steps behaved as documented.")
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
    transcript.line("Resource server       one per flow, started once its API exists (step 1)")
    transcript.line()


def run_demo(
    out: TextIO | None = None,
    steps: Sequence[Step] | None = None,
    *,
    flows: Sequence[str] = ALL_FLOWS,
) -> int:
    """Start the servers, run the ``flows`` (names in :data:`~scopegate.demo.flow.FLOWS`,
    in order) and print the transcript to ``out`` (stdout).

    ``steps``, when given, replace the steps of the first of ``flows`` and only that
    flow runs (the tests use it to make a step deviate).

    Raises:
        KeyError: a name in ``flows`` is not a flow.

    Returns:
        0 when every step behaved as documented, 1 at the first that did not
        (named on stderr too), 2 when a server could not start.
    """
    chosen = [FLOWS[name] for name in flows]
    if steps is not None:
        chosen = [replace(chosen[0], steps=tuple(steps))]
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

        def make_context(flow: Flow) -> DemoContext:
            return DemoContext(
                transcript,
                auth.url,
                management,
                http,
                start_api,
                identifier=flow.identifier,
                client_name=flow.client_name,
            )

        return _walk_flows(make_context, chosen)
