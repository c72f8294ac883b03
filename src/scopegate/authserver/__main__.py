"""``python -m scopegate.authserver``: run the authorization server."""

from __future__ import annotations

import sys

from scopegate.cli.authserver import main

if __name__ == "__main__":
    sys.exit(main())
