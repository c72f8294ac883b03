"""The tenant's RS256 signing keys: made, described and loaded with :mod:`cryptography`.

A key is an RSA 2048 key pair (RFC 7518 §3.3's minimum) with a self-signed
certificate for its public half, as Auth0 publishes one per key (``cert``,
``pkcs7``, and the SHA-1 ``fingerprint`` and ``thumbprint`` of the
certificate). The store keeps the private key as PKCS#8 PEM and the
certificate as PEM; everything else is derived from them here. The public
JWK comes from PyJWT's :class:`~jwt.algorithms.RSAAlgorithm`, the library
that verifies it on the other side.

:mod:`cryptography` is the ``authserver`` extra's; it is imported when a key
is first needed, so importing the package does not require it.
"""

from __future__ import annotations

import datetime
import functools
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
    from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes

ALGORITHM = "RS256"
_KEY_BITS = 2048
_CERT_DAYS = 3650  # Auth0's tenant certificates are valid for about ten years
_COMMON_NAME = "scopegate authserver"


@dataclass(frozen=True, slots=True)
class KeyMaterial:
    """A new key before it is stored: its ``kid``, private key and certificate (PEM)."""

    kid: str
    private_pem: str = field(repr=False)
    cert_pem: str


def new_kid() -> str:
    """22 URL-safe characters (128 random bits), like Auth0's key ids."""
    return secrets.token_urlsafe(16)


def certificate_builder(
    subject: x509.Name, issuer: x509.Name, public_key: CertificatePublicKeyTypes, days: int
) -> x509.CertificateBuilder:
    """A certificate for ``public_key``, valid for ``days`` days from five minutes ago.

    The one validity rule of the server's certificates (signing keys, the local TLS CA
    and its server certificate): backdated so that a client's clock a little behind
    still accepts it.
    """
    from cryptography import x509

    now = datetime.datetime.now(datetime.timezone.utc)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=days))
    )


def new_key_material() -> KeyMaterial:
    """A fresh RSA 2048 key pair with a self-signed certificate (tens of milliseconds)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=_KEY_BITS)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, _COMMON_NAME)])
    cert = (
        certificate_builder(name, name, key.public_key(), _CERT_DAYS)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")
    cert_pem = cert.public_bytes(serialization.Encoding.PEM).decode("ascii")
    return KeyMaterial(new_kid(), private_pem, cert_pem)


@functools.lru_cache(maxsize=16)
def load_private_key(private_pem: str) -> RSAPrivateKey:
    """The private key, parsed once per key (parsing checks the key, which takes a while)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

    key = serialization.load_pem_private_key(private_pem.encode("ascii"), password=None)
    if not isinstance(key, RSAPrivateKey):
        raise TypeError("a signing key in the store is not an RSA key")
    return key


def public_jwk(cert_pem: str, kid: str) -> dict[str, Any]:
    """The JWK (RFC 7517) of the certificate's public key: ``kty``, ``n``, ``e``,
    ``kid``, ``alg`` and ``use``; a new dict each time."""
    kty, n, e = _public_members(cert_pem)
    return {"kty": kty, "n": n, "e": e, "kid": kid, "alg": ALGORITHM, "use": "sig"}


@functools.lru_cache(maxsize=64)
def _public_members(cert_pem: str) -> tuple[str, str, str]:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
    from jwt.algorithms import RSAAlgorithm

    public_key = x509.load_pem_x509_certificate(cert_pem.encode("ascii")).public_key()
    if not isinstance(public_key, RSAPublicKey):
        raise TypeError("a signing key in the store is not an RSA key")
    jwk = RSAAlgorithm.to_jwk(public_key, as_dict=True)
    return jwk["kty"], jwk["n"], jwk["e"]


@functools.lru_cache(maxsize=64)
def certificate_details(cert_pem: str) -> dict[str, str]:
    """Auth0's description of a key's certificate: ``fingerprint`` (SHA-1, colon-separated
    hex), ``thumbprint`` (the same digits, no colons) and ``pkcs7`` (PEM)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.serialization import pkcs7

    cert = x509.load_pem_x509_certificate(cert_pem.encode("ascii"))
    # SHA-1 is what Auth0 (and Windows' "thumbprint") name a certificate by; not a security use.
    digest = cert.fingerprint(hashes.SHA1()).hex().upper()  # noqa: S303
    bundle = pkcs7.serialize_certificates([cert], serialization.Encoding.PEM)
    return {
        "fingerprint": ":".join(digest[i : i + 2] for i in range(0, len(digest), 2)),
        "thumbprint": digest,
        "pkcs7": bundle.decode("ascii"),
    }
