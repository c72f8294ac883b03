"""Generated identifiers and secrets; scrypt hashes compared in constant time."""

from __future__ import annotations

import re

import pytest

from scopegate.authserver import credentials


def test_identifier_formats() -> None:
    assert re.fullmatch(r"[0-9a-f]{24}", credentials.new_resource_server_id())
    assert re.fullmatch(r"[A-Za-z0-9]{32}", credentials.new_client_id())
    assert re.fullmatch(r"cgr_[A-Za-z0-9]{16}", credentials.new_grant_id())
    assert re.fullmatch(r"[A-Za-z0-9_-]{64}", credentials.new_client_secret())


def test_signing_secrets_are_long_and_distinct() -> None:
    secrets = {credentials.new_signing_secret() for _ in range(50)}
    assert len(secrets) == 50
    assert all(len(secret.encode()) >= 32 for secret in secrets)


def test_hash_and_verify() -> None:
    stored = credentials.hash_secret("correct horse battery staple")
    assert stored.startswith("scrypt$16384$8$1$")
    assert "correct" not in stored
    assert credentials.verify_secret("correct horse battery staple", stored)
    assert not credentials.verify_secret("correct horse battery stapl", stored)
    assert not credentials.verify_secret("", stored)


def test_each_hash_has_its_own_salt() -> None:
    assert credentials.hash_secret("same") != credentials.hash_secret("same")


@pytest.mark.parametrize(
    "stored",
    [
        pytest.param("", id="empty"),
        pytest.param("bcrypt$x$y$z$a$b", id="other-scheme"),
        pytest.param("scrypt$16384$8$1$!!$!!", id="bad-base64"),
        pytest.param("scrypt$x$8$1$AAAA$AAAA", id="bad-number"),
        pytest.param("scrypt$16384$8", id="too-few-parts"),
    ],
)
def test_a_malformed_hash_never_matches(stored: str) -> None:
    assert not credentials.verify_secret("anything", stored)


def test_oversized_and_unencodable_secrets_never_match() -> None:
    stored = credentials.hash_secret("x" * 600)
    assert not credentials.verify_secret("x" * 600, stored)  # beyond MAX_SECRET_LENGTH
    assert not credentials.verify_secret("\ud800", credentials.dummy_hash())


def test_dummy_hash_is_stable_and_matches_nothing() -> None:
    assert credentials.dummy_hash() is credentials.dummy_hash()
    assert not credentials.verify_secret("", credentials.dummy_hash())
