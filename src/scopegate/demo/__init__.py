"""``scopegate demo``: the API Authorization scenario, end to end, with a transcript.

It starts the local authorization server (SQLite in a temporary folder) and
the FastAPI example's API on free 127.0.0.1 ports, in this process, then walks
the documented flow with the shipped clients and prints each HTTP exchange:

- ``flow``: the steps as data, each with the status (and challenge) it must get;
- ``transcript``: printing exchanges, secrets and tokens abbreviated;
- ``servers``: uvicorn in a thread on a pre-bound loopback socket;
- ``api``: the example's app, shipped so the demo runs from any install;
- ``run``: :func:`run_demo`, which returns the exit status.

Needs the ``demo`` extra: ``pip install 'scopegate[demo]'``.
"""

from __future__ import annotations

try:
    import httpx  # noqa: F401 - fail here, with the pip command, rather than deep inside
except ImportError as exc:  # pragma: no cover - exercised without the extra installed
    raise ImportError("scopegate demo needs httpx: pip install 'scopegate[demo]'") from exc

from scopegate.demo.run import run_demo

__all__ = ["run_demo"]
