"""--tls certificates: what is in them, where they are kept, when they are made again."""

from __future__ import annotations

import datetime
import ipaddress
import os
import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from scopegate.authserver import tls
from scopegate.errors import ConfigurationError


def test_a_certificate_for_this_machine_signed_by_a_ca_of_its_own(tmp_path: Path) -> None:
    db = str(tmp_path / "auth.db")
    files = tls.ensure_certificate(db)
    assert files.created
    assert (files.certfile, files.keyfile, files.ca_file) == (
        Path(db + "-cert.pem"),
        Path(db + "-key.pem"),
        Path(db + "-ca.pem"),
    )
    cert = x509.load_pem_x509_certificate(files.certfile.read_bytes())
    assert files.ca_file is not None
    ca = x509.load_pem_x509_certificate(files.ca_file.read_bytes())
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["localhost"]
    assert names.get_values_for_type(x509.IPAddress) == [
        ipaddress.ip_address("127.0.0.1"),
        ipaddress.ip_address("::1"),
    ]
    assert cert.issuer == ca.subject
    cert.verify_directly_issued_by(ca)
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    usage = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(usage) == [ExtendedKeyUsageOID.SERVER_AUTH]
    assert stat.S_IMODE(os.stat(files.keyfile).st_mode) == 0o600
    # Only the server's key is kept: the CA can sign nothing else.
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "auth.db-ca.pem",
        "auth.db-cert.pem",
        "auth.db-key.pem",
    ]


def test_later_starts_reuse_it_until_it_nears_its_end(tmp_path: Path) -> None:
    db = str(tmp_path / "auth.db")
    first = tls.ensure_certificate(db)
    again = tls.ensure_certificate(db)
    assert not again.created
    assert again.certfile.read_bytes() == first.certfile.read_bytes()
    cert = x509.load_pem_x509_certificate(first.certfile.read_bytes())
    remaining = cert.not_valid_after_utc - datetime.datetime.now(datetime.timezone.utc)
    assert datetime.timedelta(days=396) < remaining <= datetime.timedelta(days=397)
    first.certfile.write_text("not a certificate")
    assert tls.ensure_certificate(db).created


@pytest.mark.parametrize(
    ("certfile", "keyfile", "message"),
    [
        pytest.param("c.pem", None, "go together", id="cert-only"),
        pytest.param(None, "k.pem", "go together", id="key-only"),
        pytest.param("c.pem", "k.pem", "cannot use --certfile", id="missing"),
    ],
)
def test_given_files_are_checked(
    tmp_path: Path, certfile: str | None, keyfile: str | None, message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        tls.given_certificate(
            None if certfile is None else str(tmp_path / certfile),
            None if keyfile is None else str(tmp_path / keyfile),
        )


def test_given_files_that_load_are_used_as_they_are(tmp_path: Path) -> None:
    made = tls.ensure_certificate(str(tmp_path / "auth.db"))
    given = tls.given_certificate(str(made.certfile), str(made.keyfile))
    assert given == tls.TlsFiles(made.certfile, made.keyfile, None)
    assert tls.given_certificate(None, None) is None


def test_no_certificate_for_a_database_in_memory() -> None:
    with pytest.raises(ConfigurationError, match="give --db FILE"):
        tls.ensure_certificate(":memory:")
