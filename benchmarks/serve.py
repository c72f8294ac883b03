"""The app a benchmark server imports: ``benchmarks.serve:app``, chosen by ``BENCH_APP``.

Used by :mod:`benchmarks.e2e` as the target of uvicorn (ASGI variants) and
gunicorn (WSGI variants), e.g. ``BENCH_APP=flask_bare gunicorn benchmarks.serve:app``.
"""

from __future__ import annotations

import os

from benchmarks.apps import make_app

app = make_app(os.environ.get("BENCH_APP", "starlette_bare"))
