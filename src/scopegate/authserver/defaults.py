"""Defaults of the authorization server, importable without Starlette (for the CLI)."""

from __future__ import annotations

__all__ = ["DEFAULT_DB", "DEFAULT_HOST", "DEFAULT_PORT"]

DEFAULT_DB = "scopegate-auth.db"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8787
