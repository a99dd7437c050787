"""PDF signatures with pyHanko: sign (PAdES baseline, one incremental update per
party, each in its own signature field) and read back who signed and whether each
signature holds, trusting only the portal's CA."""

import hashlib
import io
import time
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.general import get_pyca_cryptography_hash
from pyhanko.sign.validation import EmbeddedPdfSignature, validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

from portal.agreements import appearance
from portal.agreements.gc_pause import collector_paused

# Room for the CMS signature: two EC certificates with long UTF-8 names fit in ~3 KB.
SIGNATURE_BYTES = 8192
# Anyone may upload a file to check, so the work it causes is bounded: an agreement
# carries one signature per party, and a file with many more fields than that (or
# fields pointing at one signature again and again) is not one of ours.
MAX_SIGNATURE_FIELDS = 32
CHECK_SECONDS = 10.0


class Uncheckable(Exception):
    """The file's signatures cannot be checked; ``message`` says why, in plain words."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


TOO_MANY = (
    f"The document has too many signature fields to check (more than {MAX_SIGNATURE_FIELDS}); "
    "no agreement of this portal has that many."
)
TOO_SLOW = "The document's signatures took too long to check, so they were not checked."
MALFORMED = "One of the document's signatures is malformed, so it could not be checked."


@dataclass(frozen=True)
class Credential:
    key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate
    ca_certificate: x509.Certificate


def _asn1_cert(certificate: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))


class _LoadedKeySigner(signers.SimpleSigner):
    """SimpleSigner re-parses its key from DER on every signature; this one signs
    with the key object it was given (the key cache in ca.py keeps it warm)."""

    def __init__(self, credential: Credential) -> None:
        der = credential.key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        super().__init__(
            signing_cert=_asn1_cert(credential.certificate),
            signing_key=asn1_keys.PrivateKeyInfo.load(der),
            cert_registry=SimpleCertificateStore.from_certs(
                [_asn1_cert(credential.ca_certificate)]
            ),
        )
        self._key = credential.key

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        hash_algorithm = get_pyca_cryptography_hash(digest_algorithm)
        return self._key.sign(data, ec.ECDSA(hash_algorithm))


@lru_cache(maxsize=64)
def _signer(credential: Credential) -> _LoadedKeySigner:
    # Building the signer parses the certificates into asn1crypto objects; kept, the
    # parsed forms make each later signature about a third cheaper.
    return _LoadedKeySigner(credential)


def sign(pdf: bytes, field_name: str, credential: Credential, *, reason: str, name: str) -> bytes:
    """``pdf`` with one more signature in the field ``field_name``: the empty one the
    agreement has for the party, drawn there (appearance.py), else a new invisible one."""
    metadata = signers.PdfSignatureMetadata(
        field_name=field_name,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        reason=reason,
        name=name,
    )
    output = io.BytesIO()
    with collector_paused():
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
        # A fixed reservation spares pyHanko a trial signature to measure the size.
        values = appearance.stamp_values(credential.certificate)
        signers.PdfSigner(
            metadata, signer=_signer(credential), stamp_style=appearance.stamp(values)
        ).sign_pdf(
            writer,
            output=output,
            bytes_reserved=SIGNATURE_BYTES,
            appearance_text_params=values,
        )
    return output.getvalue()


@dataclass(frozen=True)
class SignatureReport:
    """One signature found in a PDF, as the verification page tells it."""

    field_name: str
    signer: str  # the certificate's common name
    title: str  # role and Nation, as the certificate says
    organisation: str
    claimed_time: datetime | None
    intact: bool  # the signed bytes are unchanged
    valid: bool  # the cryptographic signature is correct
    trusted: bool  # the certificate chains to the portal's CA
    whole_file: bool  # nothing was added after it
    revision_sha256: str  # SHA-256 of the file as it was when signed
    fingerprint: str  # SHA-256 of the signer's certificate


def _name_part(name: x509.Name, oid) -> str:
    values = name.get_attributes_for_oid(oid)
    return str(values[0].value) if values else ""


def _byte_range(signature: EmbeddedPdfSignature, size: int) -> tuple[int, int, int, int]:
    """The signature's /ByteRange: two spans from the file's start, in order, in the file."""
    values = list(signature.byte_range)
    if len(values) != 4 or not all(isinstance(v, int) and v >= 0 for v in values):
        raise Uncheckable(MALFORMED)
    start, first, second, length = values
    if start != 0 or second < first or second + length > size:
        raise Uncheckable(MALFORMED)
    return start, first, second, length


def _distinct_signatures(reader: PdfFileReader, size: int) -> list[EmbeddedPdfSignature]:
    """The filled signature fields, at most MAX_SIGNATURE_FIELDS of them, each signature
    once (by its object and by the bytes it covers), in signing order."""
    found: dict[tuple, EmbeddedPdfSignature] = {}
    objects: set = set()
    walked = fields.enumerate_sig_fields(reader, filled_status=True)
    for count, (name, _value, field_ref) in enumerate(walked, start=1):
        if count > MAX_SIGNATURE_FIELDS:
            raise Uncheckable(TOO_MANY)
        value = field_ref.get_object().raw_get("/V")
        if isinstance(value, generic.IndirectObject):
            if value.reference in objects:
                continue  # parsing the same signature again would only cost time
            objects.add(value.reference)
        try:
            signature = EmbeddedPdfSignature(reader, field_ref, name)
        except Exception:  # no /ByteRange, no CMS content, not a dictionary...
            raise Uncheckable(MALFORMED) from None
        if signature.sig_object_type != "/Sig":
            continue  # a document timestamp names no signer
        found.setdefault(_byte_range(signature, size), signature)
    return sorted(found.values(), key=lambda signature: signature.signed_revision)


def read_signatures(pdf: bytes, ca_certificate: x509.Certificate) -> list[SignatureReport]:
    """Every signature in ``pdf``, each validated against the portal's CA alone.
    Raises ValueError if ``pdf`` cannot be read as a PDF, Uncheckable if its signatures
    are too many, too slow or malformed."""
    deadline = time.monotonic() + CHECK_SECONDS
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        reader.root  # noqa: B018 (reads the trailer and catalogue: fails early on junk)
    except Exception as error:  # an uploaded file may be anything at all
        raise ValueError(f"not a readable PDF: {error}") from None
    try:
        embedded = _distinct_signatures(reader, len(pdf))
    except Uncheckable:
        raise
    except Exception as error:
        raise ValueError(f"not a readable PDF: {error}") from None
    context = ValidationContext(trust_roots=[_asn1_cert(ca_certificate)])
    reports = []
    for signature in embedded:
        if time.monotonic() > deadline:
            raise Uncheckable(TOO_SLOW)
        reports.append(_report(pdf, signature, context))
    return reports


def _report(pdf: bytes, signature: EmbeddedPdfSignature, context) -> SignatureReport:
    try:
        status = validate_pdf_signature(signature, signer_validation_context=context)
        intact, valid, trusted = status.intact, status.valid, status.trusted
        whole = status.coverage == SignatureCoverageLevel.ENTIRE_FILE
        claimed = status.signer_reported_dt
    except Exception:
        intact = valid = trusted = whole = False
        claimed = None
    try:
        cert = x509.load_der_x509_certificate(signature.signer_cert.dump())
    except Exception:
        raise Uncheckable(MALFORMED) from None
    end = signature.byte_range[2] + signature.byte_range[3]
    return SignatureReport(
        field_name=signature.field_name,
        signer=_name_part(cert.subject, NameOID.COMMON_NAME),
        title=_name_part(cert.subject, NameOID.TITLE),
        organisation=_name_part(cert.subject, NameOID.ORGANIZATION_NAME),
        claimed_time=claimed,
        intact=intact,
        valid=valid,
        trusted=trusted,
        whole_file=whole,
        revision_sha256=hashlib.sha256(pdf[:end]).hexdigest(),
        fingerprint=hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest(),
    )
