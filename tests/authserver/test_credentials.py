"""Generated identifiers and secrets; HMAC-SHA-256 hashes (and legacy scrypt ones) compared
in constant time."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import time

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


def legacy_scrypt_hash(secret: str) -> str:
    """A hash as scopegate stored it before: ``scrypt$n$r$p$salt$hash``, n=2**14, r=8, p=1."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(secret.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32)
    b64 = base64.b64encode
    return f"scrypt$16384$8$1${b64(salt).decode()}${b64(digest).decode()}"


def test_hash_and_verify() -> None:
    stored = credentials.hash_secret("correct horse battery staple")
    assert re.fullmatch(r"hmac-sha256\$[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}=", stored)
    assert not credentials.needs_rehash(stored)
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
        pytest.param("hmac-sha256$!!$!!", id="hmac-bad-base64"),
        pytest.param("hmac-sha256$AAAA", id="hmac-too-few-parts"),
        pytest.param("hmac-sha256$AAAA$AAAA$AAAA", id="hmac-too-many-parts"),
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


def test_legacy_scrypt_hashes_still_verify_and_ask_to_be_rehashed() -> None:
    stored = legacy_scrypt_hash("an old secret of an old database")
    assert credentials.verify_secret("an old secret of an old database", stored)
    assert not credentials.verify_secret("an old secret of an old databasE", stored)
    assert credentials.needs_rehash(stored)


def _best_of(runs: int, secret: str, stored: str) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        credentials.verify_secret(secret, stored)
        best = min(best, time.perf_counter() - start)
    return best


def test_verification_is_cheap_and_the_same_for_unknown_clients() -> None:
    # scrypt took 35 ms and 16 MiB a check, for unknown clients too: a flood of bad
    # credentials saturated the machine. An HMAC takes microseconds.
    secret = credentials.new_client_secret()
    stored = credentials.hash_secret(secret)
    right = _best_of(200, secret, stored)
    wrong = _best_of(200, secret + "x", stored)
    unknown = _best_of(200, secret, credentials.dummy_hash())
    assert max(right, wrong, unknown) < 0.001
    # Same scheme, same work: no ratio beyond what scheduling noise gives.
    assert max(right, wrong, unknown) < 5 * min(right, wrong, unknown)


def test_generated_secrets_never_start_with_a_dash() -> None:
    # A secret goes on command lines (--client-secret SECRET), where argparse reads a
    # leading "-" as an option; token_urlsafe starts one in 64 that way.
    drawn = [credentials.new_client_secret() for _ in range(2000)]
    drawn += [credentials.new_signing_secret() for _ in range(2000)]
    assert [secret for secret in drawn if secret.startswith("-")] == []
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{64}", secret) for secret in drawn)
