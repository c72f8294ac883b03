"""``python -m scopegate``: the command line."""

from __future__ import annotations

from scopegate.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
