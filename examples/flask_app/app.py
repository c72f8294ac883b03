"""A Flask resource server protected by scopegate: the API side of Auth0's "API Authorization".

Configured only through ``SCOPEGATE_*`` environment variables or an ``.env``
file beside this one (see ``.env.example``); environment variables win.

Run it under a real WSGI server from the repository root::

    gunicorn --chdir examples/flask_app --bind 127.0.0.1:8001 app:app

(or ``python examples/flask_app/app.py`` for Flask's development server), then
call it with a token from ``scopegate token``, signed with the same settings::

    curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8001/api/private
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from flask import Flask

from scopegate import ConfigurationError, Settings
from scopegate.flask import ScopeGate, current_token, require_scope

ENV_FILE = Path(__file__).with_name(".env")
PUBLIC_PATHS = ["/api/public", "/health"]
BOOT_ERROR = 3


def load_settings() -> Settings:
    """Settings from ``SCOPEGATE_*`` variables, then ``.env`` beside this file when present."""
    return Settings(_env_file=ENV_FILE if ENV_FILE.is_file() else None)


def create_app(settings: Settings) -> Flask:
    """The example API: one public route, one for any valid token, one that needs a scope."""
    app = Flask(__name__)
    ScopeGate(app, settings=settings, public_paths=PUBLIC_PATHS)

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/api/public")
    def public() -> dict[str, str]:
        return {"message": "Hello from a public endpoint! You don't need to be authenticated."}

    # ScopeGate has already rejected requests without a valid token here.
    @app.get("/api/private")
    def private() -> dict[str, Any]:
        return {
            "message": "Hello from a private endpoint! You need to be authenticated.",
            "subject": current_token.subject,
            "scopes": sorted(current_token.scopes),
        }

    @app.get("/api/private-scoped")
    @require_scope("sample-scope")
    def private_scoped() -> dict[str, str]:
        return {
            "message": "Hello from a private endpoint! "
            "You need to be authenticated and have a scope of sample-scope."
        }

    return app


def _settings_or_exit() -> Settings:
    try:
        return load_settings()
    except ConfigurationError as exc:
        hint = f"Set them in the environment or in {ENV_FILE} (see .env.example beside it)."
        print(f"{exc}\n{hint}", file=sys.stderr)
        # 3 is gunicorn's "worker failed to boot": its master then stops with that
        # reason, where any other status would make it respawn the worker forever.
        raise SystemExit(BOOT_ERROR) from None


app = create_app(_settings_or_exit())

if __name__ == "__main__":
    app.run(host="127.0.0.1", port=8001)
