"""Run Python in a fresh interpreter, for what one process cannot show (imports, missing extras)."""

from __future__ import annotations

import subprocess
import sys


def run_python(code: str) -> str:
    """The stripped stdout of ``python -c code``; fails the test on a non-zero exit."""
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    return result.stdout.strip()


def import_without(blocked: str, module: str) -> str:
    """``ImportError | <message>`` from importing ``module`` with ``blocked`` made unimportable."""
    return run_python(
        f"import sys\nsys.modules[{blocked!r}] = None\n"
        f"try:\n    import {module}\n"
        "except ImportError as exc:\n    print(type(exc).__name__, '|', exc)\n"
        "else:\n    print('imported')\n"
    )
