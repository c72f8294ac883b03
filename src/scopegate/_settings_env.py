"""Settings as the environment spells them, kept beside :mod:`scopegate._settings`.

The ``SCOPEGATE_*`` name of each setting (:func:`env_name`), the string syntax
of a list setting (:func:`split_list`), the switch that makes
:meth:`~scopegate._settings.Settings.explicit` read keyword arguments only, and
the :class:`~scopegate.errors.ConfigurationError` message that names every bad
setting by its variable (:func:`describe_errors`), never by its value.
"""

from __future__ import annotations

import json
from collections.abc import Container, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from pydantic import ValidationError

__all__ = [
    "ENV_PREFIX",
    "describe_errors",
    "env_name",
    "explicit_only",
    "is_explicit",
    "split_list",
]

ENV_PREFIX = "SCOPEGATE_"


def env_name(setting: str) -> str:
    """The environment variable that sets ``setting``."""
    return ENV_PREFIX + setting.upper()


def split_list(value: Any) -> Any:
    """The list rule of every list setting: ``a,b``, ``a b`` or a JSON array.

    A string is always a list of items, never a list of characters; any other
    value is left for pydantic to validate.
    """
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            return json.loads(text)
        return [item for item in text.replace(",", " ").split() if item]
    return value


# Set while Settings.explicit() builds an instance: only keyword arguments count then.
_EXPLICIT: ContextVar[bool] = ContextVar("scopegate_explicit_settings", default=False)


@contextmanager
def explicit_only() -> Iterator[None]:
    """While inside, Settings built read keyword arguments only (no environment, no ``.env``)."""
    reset = _EXPLICIT.set(True)
    try:
        yield
    finally:
        _EXPLICIT.reset(reset)


def is_explicit() -> bool:
    """True inside :func:`explicit_only`."""
    return _EXPLICIT.get()


def describe_errors(exc: ValidationError, fields: Container[str]) -> str:
    """A message naming each bad setting and its variable, without any input value.

    ``fields`` are the settings' names: a check on one field may report a
    problem of another it depends on, as ``"other: message"``.
    """
    lines = []
    for error in exc.errors(include_input=False, include_url=False):
        message = str(error["msg"]).removeprefix("Value error, ")
        field, _, rest = message.partition(": ")
        if error["loc"] and field not in fields:
            field = str(error["loc"][0])
        elif error["loc"]:  # a check on one field that is about another it depends on
            message = rest
        else:  # a model-level check: the message starts with the field name
            field, _, message = message.partition(": ")
        if error["type"] == "missing":
            message = "is required"
        lines.append(f"{field} ({env_name(field)}): {message}")
    return "Invalid scopegate settings:\n  " + "\n  ".join(lines)
