"""What test_settings.py and test_settings_env.py share: recognisable values and checks."""

from __future__ import annotations

import traceback
from typing import Any

import pytest

from scopegate import ConfigurationError, Settings

# Recognisable values, so a leak into any message is easy to spot.
SECRET = (
    "recognisable-SECRET-value-0123456789-abcdefghijklmnopqrstuvwxyz!"  # 64 bytes: enough for HS512
)
WEAK_SECRET = "weak-SECRET-31-bytes-long-12345"
IDENTIFIER = "https://my-api-urn"
HEADER = "Invalid scopegate settings:\n  "


def configuration_error(**values: Any) -> ConfigurationError:
    with pytest.raises(ConfigurationError) as info:
        Settings(**values)
    return info.value


def assert_no_secret(exc: BaseException, *secrets: str) -> None:
    text = "".join(traceback.format_exception(exc))
    for secret in secrets:
        assert secret not in str(exc)
        assert secret not in repr(exc)
        assert secret not in text
