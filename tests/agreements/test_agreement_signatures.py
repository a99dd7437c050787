"""The signed PDF: three incremental PAdES signatures, each by a key certified for its
signer, valid by pyHanko's validator and by poppler's pdfsig; any changed byte shows."""

import hashlib
import io
import itertools
import os
import shutil
import subprocess

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from portal.agreements import signing

from agreement_kit import RESEARCHER_NAME, flip, pdfsig

EXPECTED = [  # field, common name, title, organisation
    ("Researcher", RESEARCHER_NAME, "Researcher", "Université crie (fictional)"),
    (
        "Nation-red-cedar",
        "rep.cedar",
        "Representative of Red Cedar Nation (fictional)",
        "Red Cedar Nation (fictional)",
    ),
    (
        "Nation-blue-heron",
        "rep.heron",
        "Representative of Blue Heron Métis (fictional)",
        "Blue Heron Métis (fictional)",
    ),
]


def validate(pdf: bytes, ca_certificate) -> list:
    trust = asn1_x509.Certificate.load(ca_certificate.public_bytes(serialization.Encoding.DER))
    context = ValidationContext(trust_roots=[trust])
    reader = PdfFileReader(io.BytesIO(pdf))
    return [
        (signature, validate_pdf_signature(signature, signer_validation_context=context))
        for signature in reader.embedded_signatures
    ]


def subject(status, oid) -> str:
    return status.signing_cert.subject.native[oid]


def test_three_valid_signatures_by_pyhanko(issued):
    results = validate(issued.signed, issued.ca_certificate)
    assert len(results) == 3
    for (signature, status), (field, name, title, organisation) in zip(
        results, EXPECTED, strict=True
    ):
        assert signature.field_name == field
        assert status.intact and status.valid and status.trusted, status.pretty_print_details()
        assert status.bottom_line
        assert signature.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"  # PAdES
        assert subject(status, "common_name") == name
        assert subject(status, "title") == title
        assert subject(status, "organization_name") == organisation
    coverage = [status.coverage for _signature, status in results]
    assert coverage == [SignatureCoverageLevel.ENTIRE_REVISION] * 2 + [
        SignatureCoverageLevel.ENTIRE_FILE
    ]


def test_each_signature_is_its_own_incremental_update(issued):
    """Version n is the file as the n-th signer left it: each is a prefix of the next."""
    versions = issued.versions
    assert len(versions) == 4
    for earlier, later in itertools.pairwise(versions):
        assert later.startswith(earlier) and len(later) > len(earlier)
    assert validate(versions[0], issued.ca_certificate) == []
    for number in (1, 2, 3):
        assert len(validate(versions[number], issued.ca_certificate)) == number


def test_a_foreign_ca_is_not_trusted(issued, tmp_path):
    from portal.agreements import ca
    from portal.agreements.settings import AgreementSettings

    other = ca.authority(AgreementSettings(instance_path=tmp_path, secret="another portal"))
    for _signature, status in validate(issued.signed, other.certificate):
        assert status.intact and status.valid
        assert not status.trusted


def test_pdfsig_reports_every_signature_valid(issued, tmp_path):
    path = tmp_path / "agreement.pdf"
    path.write_bytes(issued.signed)
    report = pdfsig(path)
    assert report.count("Signature Validation: Signature is Valid.") == 3, report
    for field, name, _title, _organisation in EXPECTED:
        assert f"Signature Field Name: {field}" in report
        assert f"Signer Certificate Common Name: {name}" in report
    assert report.count("Total document signed") == 1  # the last covers the whole file


def test_pdfsig_trusts_the_signers_when_the_portal_ca_is_trusted(issued, tmp_path):
    if not shutil.which("certutil"):
        if os.environ.get("CI"):
            pytest.fail("certutil (libnss3-tools) must be installed in CI")
        pytest.skip("certutil (libnss3-tools) is not installed")
    database = tmp_path / "nss"
    database.mkdir()
    ca_file = tmp_path / "portal-ca.pem"
    ca_file.write_bytes(issued.ca_certificate.public_bytes(serialization.Encoding.PEM))
    subprocess.run(["certutil", "-N", "-d", f"sql:{database}", "--empty-password"], check=True)
    subprocess.run(
        ["certutil", "-A", "-d", f"sql:{database}", "-n", "portal", "-t", "C,C,C", "-i", ca_file],
        check=True,
    )
    path = tmp_path / "agreement.pdf"
    path.write_bytes(issued.signed)
    report = pdfsig(path, "-nssdir", f"sql:{database}")
    assert report.count("Signature is Valid.") == 3, report
    assert report.count("Certificate is Trusted.") == 3, report


@pytest.mark.parametrize("where", [0.02, 0.3, 0.6, 0.95])
def test_any_changed_byte_invalidates(issued, where):
    """A byte changed in what the first signature covers breaks all three (pyHanko
    either finds the digest wrong or cannot even decompress the changed stream)."""
    position = int(len(issued.versions[0]) * where)  # inside the document as issued
    reports = signing.read_signatures(flip(issued.signed, position), issued.ca_certificate)
    assert len(reports) == 3, "the signatures are still found"
    assert not any(r.intact for r in reports)


def test_a_byte_changed_in_the_last_update_breaks_only_the_last(issued):
    start = len(issued.versions[2])
    tampered = flip(issued.signed, start + 40)
    reports = signing.read_signatures(tampered, issued.ca_certificate)
    assert [r.intact and r.valid for r in reports] == [True, True, False]


def test_pdfsig_sees_a_changed_byte(issued, tmp_path):
    path = tmp_path / "tampered.pdf"
    path.write_bytes(flip(issued.signed, len(issued.versions[0]) // 2))
    report = pdfsig(path)
    assert "Signature is Valid." not in report, report
    assert report.count("Digest Mismatch.") == 3, report


def test_read_signatures_tells_who_signed(issued):
    reports = signing.read_signatures(issued.signed, issued.ca_certificate)
    assert [(r.field_name, r.signer, r.title) for r in reports] == [e[:3] for e in EXPECTED]
    assert all(r.intact and r.valid and r.trusted for r in reports)
    assert [r.whole_file for r in reports] == [False, False, True]
    assert [r.revision_sha256 for r in reports] == [
        hashlib.sha256(v).hexdigest() for v in issued.versions[1:]
    ]
