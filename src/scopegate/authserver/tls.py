"""HTTPS for the local authorization server: a private CA and a certificate for this machine.

Auth0's SDKs (auth0-python's ``ManagementClient``, npm ``auth0``) only speak
``https://``. ``scopegate authserver --tls`` therefore makes, on its first
start, a CA of its own and a server certificate it signs for ``127.0.0.1``,
``::1`` and ``localhost``, with :mod:`cryptography`, and keeps them beside
the database: ``FILE-ca.pem`` (the certificate to trust), ``FILE-cert.pem``
and ``FILE-key.pem`` (0600). Later starts reuse them while they are valid.
The CA's private key is thrown away once the certificate is signed, so the
CA a developer trusts can never sign anything else.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import ssl
from dataclasses import dataclass
from pathlib import Path

from scopegate.authserver.signing import certificate_builder
from scopegate.errors import ConfigurationError

HOSTS = ("127.0.0.1", "::1", "localhost")
_SERVER_DAYS = 397  # the longest lifetime browsers accept for a server certificate
_RENEW_BEFORE = datetime.timedelta(days=7)


@dataclass(frozen=True)
class TlsFiles:
    """Where the certificate is, and whether this start created it.

    Attributes:
        certfile: the server certificate (PEM), followed by nothing else.
        keyfile: its private key (PEM, 0600).
        ca_file: the certificate to trust (``SSL_CERT_FILE``,
            ``NODE_EXTRA_CA_CERTS``); None for a certificate given by the operator.
        created: True when this start made them.
    """

    certfile: Path
    keyfile: Path
    ca_file: Path | None
    created: bool = False


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    os.chmod(path, 0o600)


def _still_valid(certfile: Path) -> bool:
    from cryptography import x509

    try:
        cert = x509.load_pem_x509_certificate(certfile.read_bytes())
    except (OSError, ValueError):
        return False
    now = datetime.datetime.now(datetime.timezone.utc)
    return cert.not_valid_after_utc - _RENEW_BEFORE > now


def ensure_certificate(db: str) -> TlsFiles:
    """The certificate kept beside ``db``, made now if missing or about to expire.

    Raises:
        ConfigurationError: ``db`` is ``:memory:``, the files cannot be written,
            or ``cryptography`` is not installed.
    """
    if db == ":memory:":
        raise ConfigurationError(
            "tls: --tls keeps its certificate beside the database; give --db FILE, "
            "or --certfile and --keyfile"
        )
    certfile, keyfile, ca_file = Path(db + "-cert.pem"), Path(db + "-key.pem"), Path(db + "-ca.pem")
    if keyfile.exists() and ca_file.exists() and _still_valid(certfile):
        return TlsFiles(certfile, keyfile, ca_file)
    try:
        _make(certfile, keyfile, ca_file)
    except ImportError as exc:
        raise ConfigurationError(
            "tls: --tls needs cryptography: pip install 'scopegate[authserver]'"
        ) from exc
    except OSError as exc:
        raise ConfigurationError(f"tls: cannot write {certfile}: {exc.strerror}") from exc
    return TlsFiles(certfile, keyfile, ca_file, created=True)


def given_certificate(certfile: str | None, keyfile: str | None) -> TlsFiles | None:
    """The operator's ``--certfile``/``--keyfile``, checked to load; None without them.

    Raises:
        ConfigurationError: only one of them, or a pair that does not load.
    """
    if certfile is None and keyfile is None:
        return None
    if certfile is None or keyfile is None:
        raise ConfigurationError("tls: --certfile and --keyfile go together: give both")
    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(certfile, keyfile)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigurationError(
            f"tls: cannot use --certfile {certfile} with --keyfile {keyfile}: {exc}"
        ) from exc
    return TlsFiles(Path(certfile), Path(keyfile), None)


def _make(certfile: Path, keyfile: Path, ca_file: Path) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name(
        [x509.NameAttribute(NameOID.COMMON_NAME, f"scopegate authserver local CA {now:%Y-%m-%d}")]
    )
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca_cert = (
        certificate_builder(ca_name, ca_name, ca_key.public_key(), _SERVER_DAYS)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    names: list[x509.GeneralName] = [
        x509.IPAddress(ipaddress.ip_address(host))
        if host[0].isdigit() or ":" in host
        else x509.DNSName(host)
        for host in HOSTS
    ]
    server_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    cert = (
        certificate_builder(server_name, ca_name, key.public_key(), _SERVER_DAYS)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    _write_private(
        keyfile,
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
    )
    certfile.write_bytes(cert.public_bytes(pem))
    ca_file.write_bytes(ca_cert.public_bytes(pem))
