"""The assertions every adapter's conformance run shares, framework-free.

Each test module turns its framework's response into an :class:`Answer`, so
FastAPI, Starlette and Flask are held to literally the same checks.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import socket
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from helpers import SECRET

from .model import DPOP_OFFER, Case
from .tokens import OTHER_SECRET

__all__ = ["Answer", "assert_safe", "check_answer", "check_error_is_safe", "refuse_network"]

# RFC 6750 §3: error_description is %x20-21 / %x23-5B / %x5D-7E (no '"', no '\').
DESCRIPTION_CHARS = re.compile(r"[\x20\x21\x23-\x5b\x5d-\x7e]+\Z")
SCHEMES = {"bearer", "basic", "digest"}


@dataclass(frozen=True)
class Answer:
    """A response as the checks see it: status, headers (names lower-cased) and body bytes."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes

    @classmethod
    def of(cls, status: int, headers: Iterable[tuple[str, str]], body: bytes) -> Answer:
        return cls(status, tuple((name.lower(), value) for name, value in headers), body)

    def get_list(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key == name]

    def header(self, name: str) -> str:
        (value,) = self.get_list(name)
        return value

    def json(self) -> Any:
        return json.loads(self.body)


def refuse_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make any lookup or connection (a jku or x5u fetch) fail the test."""

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError(f"network access during a conformance case: {args!r}")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)


def check_answer(case: Case, answer: Answer) -> None:
    """The exact status, challenge and JSON body of ``case``; the error headers."""
    assert answer.status == case.status
    assert answer.get_list("www-authenticate") == (
        [] if case.challenge is None else [case.challenge]
    )
    assert answer.json() == case.expected_body()
    if case.status >= 400:
        assert answer.header("content-type") == "application/json"
        assert answer.header("cache-control") == "no-store"


def _leaves(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list):
        for item in value:
            yield from _leaves(item)
    else:
        yield str(value)


def _claim_values(token: str) -> list[str]:
    """The claim values of a JWS-looking token, as strings (none when undecodable)."""
    parts = token.split(".")
    if len(parts) < 2:
        return []
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (binascii.Error, ValueError):
        return []
    return list(_leaves(claims))


def assert_safe(description: str, sent: list[str]) -> None:
    """A fixed, header-safe description that echoes nothing the client sent."""
    assert DESCRIPTION_CHARS.match(description), description
    for char in ('"', "\\", "\r", "\n"):
        assert char not in description
    assert SECRET not in description
    assert OTHER_SECRET not in description
    for value in sent:
        for piece in value.split():
            if piece.lower() in SCHEMES:
                continue
            if len(piece) >= 6:
                assert piece not in description
            for claim in _claim_values(piece):
                if len(claim) >= 4:
                    assert claim not in description, claim


def check_error_is_safe(answer: Answer, sent: list[str]) -> None:
    """An error answer: a safe description, repeated exactly in the challenge."""
    description = answer.json()["error_description"]
    assert_safe(description, sent)
    challenge = answer.header("www-authenticate")
    assert SECRET not in challenge
    if "error=" in challenge:
        assert f'error_description="{description}"' in challenge
    else:
        assert challenge in ('Bearer realm="api"', f'Bearer realm="api", {DPOP_OFFER}', DPOP_OFFER)
