"""The portal's certificate authority and the signers' keys: made once, kept encrypted,
bound to their owner; certificates name the signer, their role and their Nation."""

import base64
import stat

import pytest
from cryptography import x509
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID
from sqlmodel import select

from portal.agreements import ca
from portal.agreements.models import SignerCredential
from portal.agreements.settings import AgreementSettings
from portal.db import session_scope
from portal.errors import ServiceError

from agreement_kit import rename


def settings(folder, secret="one secret", **paths) -> AgreementSettings:  # noqa: S107
    return AgreementSettings(instance_path=folder, secret=secret, **paths)


def test_the_ca_is_made_once_with_its_key_encrypted(tmp_path):
    first = ca.authority(settings(tmp_path))
    key_file = tmp_path / "ca" / ca.KEY_FILE
    assert key_file.read_bytes().startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    with pytest.raises(TypeError):  # no password: it cannot be read
        serialization.load_pem_private_key(key_file.read_bytes(), password=None)
    again = ca.authority(settings(tmp_path))
    assert again.certificate == first.certificate
    constraints = first.certificate.extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.value.ca and constraints.critical
    assert first.certificate.issuer == first.certificate.subject


def test_a_second_worker_keeps_the_first_ca(tmp_path):
    folder = tmp_path / "ca"
    ca._create(folder, "one secret")
    certificate = (folder / ca.CERT_FILE).read_bytes()
    ca._create(folder, "one secret")  # lost the race: its CA is thrown away
    assert (folder / ca.CERT_FILE).read_bytes() == certificate
    assert [p.name for p in tmp_path.iterdir()] == ["ca"]


def test_another_secret_cannot_open_the_ca(tmp_path):
    ca.authority(settings(tmp_path))
    with pytest.raises(ServiceError, match="cannot be opened"):
        ca.authority(settings(tmp_path, secret="another secret"))


def test_a_configured_ca_is_used(tmp_path):
    made = ca.authority(settings(tmp_path / "a"))
    configured = settings(
        tmp_path / "b",
        ca_key_path=tmp_path / "a" / "ca" / ca.KEY_FILE,
        ca_cert_path=tmp_path / "a" / "ca" / ca.CERT_FILE,
    )
    assert ca.authority(configured).certificate == made.certificate
    assert not (tmp_path / "b" / "ca").exists()
    with pytest.raises(ServiceError, match="both"):
        ca.authority(settings(tmp_path / "c", ca_key_path=tmp_path / "a" / "ca" / ca.KEY_FILE))
    missing = settings(tmp_path / "d", ca_key_path=tmp_path / "x", ca_cert_path=tmp_path / "y")
    with pytest.raises(ServiceError, match="missing"):
        ca.authority(missing)


def credentials(app) -> list[SignerCredential]:
    with app.app_context(), session_scope() as session:
        rows = session.exec(select(SignerCredential).order_by(SignerCredential.id)).all()
        for row in rows:
            session.expunge(row)
        return rows


def test_each_signer_gets_a_certified_key_stored_encrypted(app, signed):
    rows = credentials(app)
    assert [(row.role, row.nation_id is not None) for row in rows] == [
        ("researcher", False),
        ("representative", True),
        ("representative", True),
    ]
    for row in rows:
        certificate = x509.load_pem_x509_certificate(row.certificate_pem.encode())
        assert certificate.issuer == signed.ca_certificate.subject
        signed.ca_certificate.public_key().verify(
            certificate.signature,
            certificate.tbs_certificate_bytes,
            certificate.signature_algorithm_parameters,
        )
        usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
        assert usage.digital_signature and usage.content_commitment
        assert b"PRIVATE KEY" not in base64.b64decode(row.encrypted_key)
        context = f"user:{row.user_id}|cert:{row.fingerprint}"
        key = ca.unwrap_key("test-secret-key", row.encrypted_key, context)
        assert key.public_key().public_numbers() == certificate.public_key().public_numbers()
        # Bound to its owner and certificate: moved to another row, it does not open.
        with pytest.raises(InvalidTag):
            ca.unwrap_key("test-secret-key", row.encrypted_key, f"user:{row.user_id + 1}|x")
        with pytest.raises(InvalidTag):
            ca.unwrap_key("another secret", row.encrypted_key, context)
    names = [x509.load_pem_x509_certificate(row.certificate_pem.encode()).subject for row in rows]
    assert [n.get_attributes_for_oid(NameOID.TITLE)[0].value for n in names] == [
        "Researcher",
        "Representative of Red Cedar Nation (fictional)",
        "Representative of Blue Heron Métis (fictional)",
    ]


def test_a_signer_keeps_their_key_until_their_name_changes(app, flow, signed):
    second = flow.approved()
    flow.do("researcher", "sign", second)
    assert len(credentials(app)) == 3  # the same researcher key signed again
    rename(app, "researcher@example.org", "Robin Researcher-Cardinal")
    third = flow.approved()
    flow.do("researcher", "sign", third)
    rows = credentials(app)
    assert len(rows) == 4
    newest = x509.load_pem_x509_certificate(rows[-1].certificate_pem.encode())
    common_name = newest.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    assert common_name == "Robin Researcher-Cardinal"
