"""The portal's own certificate authority, and the keys it issues to signers.

The CA is an EC P-256 key and a self-signed certificate, in ``<instance>/ca/`` (made
on first use) or at configured paths. Its key is kept as encrypted PKCS#8, under a
passphrase derived from PORTAL_CA_PASSPHRASE or else SECRET_KEY. Each signer gets an
EC P-256 key and a certificate naming them, their role and Nation; the key is stored
in the database wrapped with AES-256-GCM under a key derived from the same secret,
bound to the credential's row (so a wrapped key cannot be moved to someone else's).
Loaded keys are cached per process: deriving and decrypting is the slow part.
"""

import base64
import datetime as dt
import os
import secrets
import shutil
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.x509.oid import NameOID

from portal.agreements.settings import AgreementSettings
from portal.errors import ServiceError
from portal.paths import write_private

CA_NAME = "Stewardship Portal agreement CA"
CA_YEARS = 25
SIGNER_YEARS = 5
KEY_FILE, CERT_FILE = "ca-key.pem", "ca-cert.pem"


@dataclass(frozen=True)
class Authority:
    key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate


def _derive(secret: str, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(
        secret.encode()
    )


def _secret(settings: AgreementSettings) -> str:
    if not settings.secret:
        raise ServiceError("Signing needs SECRET_KEY (or PORTAL_CA_PASSPHRASE) to protect keys.")
    return settings.secret


def authority(settings: AgreementSettings) -> Authority:
    """The CA: loaded from the configured paths or the instance folder, made on first use
    (only ever in the instance folder: a configured CA that cannot be read is an error)."""
    secret = _secret(settings)
    if configured := _configured(settings):
        return _load(*configured, secret)
    folder = settings.ca_dir
    if not (folder / CERT_FILE).is_file():
        _create(folder, secret)
    return _load(folder / KEY_FILE, folder / CERT_FILE, secret)


def check_configured(settings: AgreementSettings) -> None:
    """At start (create_app): a configured CA is there and opens, so every host signs
    with the one CA, and none finds out only when someone signs. Without a secret (the
    command line may run without one) the key is only checked to be there."""
    if not (configured := _configured(settings)):
        return
    if settings.secret:
        _load(*configured, settings.secret)
    else:
        _certificate(configured[1])
        _read(configured[0])


def _configured(settings: AgreementSettings) -> tuple[Path, Path] | None:
    if not (settings.ca_key_path or settings.ca_cert_path):
        return None
    if not (settings.ca_key_path and settings.ca_cert_path):
        raise ServiceError("Configure both PORTAL_CA_KEY and PORTAL_CA_CERT, or neither.")
    return settings.ca_key_path, settings.ca_cert_path


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise ServiceError(f"The certificate authority's file is missing: {path}") from None
    except OSError as error:
        message = f"The certificate authority's file {path} cannot be read: {error.strerror}"
        raise ServiceError(message) from None


def _certificate(path: Path) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(_read(path))
    except ValueError:
        raise ServiceError(
            f"The certificate authority's certificate {path} is not a PEM certificate."
        ) from None


@lru_cache(maxsize=8)
def _load(key_path: Path, cert_path: Path, secret: str) -> Authority:
    certificate = _certificate(cert_path)
    try:
        key = serialization.load_pem_private_key(
            _read(key_path), password=_derive(secret, b"portal ca key").hex().encode()
        )
    except TypeError:  # a key without encryption
        raise ServiceError(
            f"The certificate authority's key {key_path} must be encrypted with the key "
            "derived from PORTAL_CA_PASSPHRASE (else SECRET_KEY), as the portal makes it."
        ) from None
    except ValueError:
        raise ServiceError(
            "The certificate authority's key cannot be opened: SECRET_KEY or "
            "PORTAL_CA_PASSPHRASE changed since it was made."
        ) from None
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ServiceError("The certificate authority's key must be an EC key.")
    return Authority(key, certificate)


def _create(folder: Path, secret: str) -> None:
    """Write a new CA beside ``folder`` and rename it into place, so two workers
    starting at once end up with one CA (the loser's is thrown away)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, CA_NAME),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Stewardship Portal"),
        ]
    )
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=365 * CA_YEARS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_usage(cert_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    passphrase = _derive(secret, b"portal ca key").hex().encode()
    staging = folder.parent / f".{folder.name}-{secrets.token_hex(6)}"
    staging.mkdir(parents=True, mode=0o700)
    key_path = staging / KEY_FILE
    descriptor = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.BestAvailableEncryption(passphrase),
            )
        )
    write_private(staging / CERT_FILE, certificate.public_bytes(serialization.Encoding.PEM))
    try:
        staging.rename(folder)
    except OSError:  # another worker made it first (or an empty folder is in the way)
        if (folder / CERT_FILE).is_file():
            shutil.rmtree(staging)
            return
        folder.rmdir()
        staging.rename(folder)


def _usage(*, cert_sign: bool = False) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not cert_sign,
        content_commitment=not cert_sign,  # non-repudiation: the signer commits to the text
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def signer_name(name: str, organisation: str, title: str, email: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, name[:64]),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation[:64]),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "Stewardship Portal"),
            x509.NameAttribute(NameOID.TITLE, title[:64]),
            x509.NameAttribute(NameOID.EMAIL_ADDRESS, email),
        ]
    )


def issue(ca: Authority, subject: x509.Name) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    """A new key and a certificate for it, signed by the CA."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    email = subject.get_attributes_for_oid(NameOID.EMAIL_ADDRESS)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=365 * SIGNER_YEARS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_usage(), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()), critical=False
        )
    )
    if email:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.RFC822Name(str(email[0].value))]), critical=False
        )
    return key, builder.sign(ca.key, hashes.SHA256())


def wrap_key(settings: AgreementSettings, key: ec.EllipticCurvePrivateKey, context: str) -> str:
    """The key, encrypted (AES-256-GCM) and bound to ``context`` (who and which certificate)."""
    der = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    nonce = os.urandom(12)
    sealed = AESGCM(_derive(_secret(settings), b"portal signer keys")).encrypt(
        nonce, der, context.encode()
    )
    return base64.b64encode(nonce + sealed).decode()


@lru_cache(maxsize=256)
def unwrap_key(secret: str, wrapped: str, context: str) -> ec.EllipticCurvePrivateKey:
    """Raises cryptography's InvalidTag when the secret or the context differ."""
    raw = base64.b64decode(wrapped)
    der = AESGCM(_derive(secret, b"portal signer keys")).decrypt(
        raw[:12], raw[12:], context.encode()
    )
    return serialization.load_der_private_key(der, password=None)


def fingerprint(certificate: x509.Certificate) -> str:
    return certificate.fingerprint(hashes.SHA256()).hex()


def to_pem(certificate: x509.Certificate) -> str:
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


@lru_cache(maxsize=256)
def from_pem(pem: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate(pem.encode())
