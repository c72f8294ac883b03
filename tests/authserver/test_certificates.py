"""The one validity rule of the server's certificates: ``signing.certificate_builder``.

Signing keys and the local TLS CA and server certificate all start from it; the
certificates are read back with ``cryptography``, the library that parses them
for every TLS client.
"""

from __future__ import annotations

import datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from scopegate.authserver.signing import certificate_builder

FIVE_MINUTES = datetime.timedelta(minutes=5)


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


@pytest.mark.parametrize(
    "days",
    [pytest.param(1, id="one-day"), pytest.param(3650, id="ten-years")],
)
def test_a_certificate_is_valid_from_five_minutes_ago_for_its_days(days: int) -> None:
    issuer_key = ec.generate_private_key(ec.SECP256R1())
    key = ec.generate_private_key(ec.SECP256R1())
    before = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)

    cert = certificate_builder(_name("subject"), _name("issuer"), key.public_key(), days).sign(
        issuer_key, hashes.SHA256()
    )

    after = datetime.datetime.now(datetime.timezone.utc)
    assert before - FIVE_MINUTES <= cert.not_valid_before_utc <= after - FIVE_MINUTES
    assert cert.not_valid_after_utc - cert.not_valid_before_utc == (
        datetime.timedelta(days=days) + FIVE_MINUTES
    )
    assert (cert.subject, cert.issuer) == (_name("subject"), _name("issuer"))
    assert cert.public_key() == key.public_key()


def test_each_certificate_gets_its_own_serial_number() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    serials = {
        certificate_builder(_name("a"), _name("a"), key.public_key(), 1)
        .sign(key, hashes.SHA256())
        .serial_number
        for _ in range(3)
    }
    assert len(serials) == 3
