"""The verification page on hostile uploads: it answers in plain words, quickly, and
never with a server error (findings of the security probe)."""

import io
import re
import time

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from helpers import csrf_token, sqlite_pass_only

pytestmark = sqlite_pass_only("the verification page on hostile files")


def verify(client, data: bytes):
    page = client.get("/verify").get_data(as_text=True)
    return client.post(
        "/verify",
        data={"csrf_token": csrf_token(page), "document": (io.BytesIO(data), "agreement.pdf")},
        content_type="multipart/form-data",
    )


def with_fields_pointing_at_one_signature(pdf: bytes, count: int) -> bytes:
    """``pdf`` plus ``count`` signature fields whose value is its first signature: a
    small file that makes a naive checker validate that signature ``count`` times."""
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    form = writer.root["/AcroForm"]
    fields = form["/Fields"]
    signature = fields[0].get_object().raw_get("/V")
    for number in range(count):
        field = generic.DictionaryObject(
            {
                generic.NameObject("/FT"): generic.NameObject("/Sig"),
                generic.NameObject("/T"): generic.TextStringObject(f"copy{number}"),
                generic.NameObject("/V"): signature,
            }
        )
        fields.append(writer.add_object(field))
    writer.update_container(form)
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()


def test_many_fields_on_one_signature_are_refused_quickly(app, issued):
    hostile = with_fields_pointing_at_one_signature(issued.signed, 1500)
    assert len(hostile) < 200_000
    started = time.monotonic()
    response = verify(app.test_client(), hostile)
    elapsed = time.monotonic() - started
    page = response.get_data(as_text=True)
    assert response.status_code == 422, page
    assert "too many signature fields to check" in page
    assert elapsed < 10, f"took {elapsed:.1f} s"


def test_a_few_fields_on_one_signature_count_it_once(app, issued):
    response = verify(app.test_client(), with_fields_pointing_at_one_signature(issued.signed, 5))
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page
    assert "Signatures (3" in page  # the three real ones, each once


def shorten_last_byte_range(pdf: bytes, replacement: bytes) -> bytes:
    """The last signature's /ByteRange array replaced, padded to the same length so
    every cross-reference offset still holds."""
    last = list(re.finditer(rb"/ByteRange\s*\[[^\]]*\]", pdf))[-1]
    original = last.group()
    new = b"/ByteRange [" + replacement + b"]"
    assert len(new) <= len(original)
    new = new[:-1] + b" " * (len(original) - len(new)) + b"]"
    return pdf[: last.start()] + new + pdf[last.end() :]


def test_a_short_last_byte_range_gets_a_clear_answer(app, issued):
    client = app.test_client()
    for replacement in (b"0 10 20", b"0 10", b"", b"0 10 20 99999999"):
        response = verify(client, shorten_last_byte_range(issued.signed, replacement))
        page = response.get_data(as_text=True)
        assert response.status_code in (200, 422), (replacement, page)
        assert "Something went wrong" not in page
        assert "Valid: made with a key this portal certified" not in page or (
            page.count("Valid: made with a key this portal certified") < 3
        )


def test_the_page_and_its_verdicts_speak_french_to_a_french_reader(app, issued):
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "fr-CA,fr;q=0.9"
    page = client.get("/verify").get_data(as_text=True)
    assert "Téléversez un PDF pour savoir si ce portail l’a émis" in page
    unreadable = verify(client, b"not a PDF at all").get_data(as_text=True)
    assert "Ce n’est pas un PDF que ce portail peut lire." in unreadable
    hostile = verify(client, with_fields_pointing_at_one_signature(issued.signed, 40))
    assert hostile.status_code == 422
    assert "Ce document n’a pas pu être vérifié." in hostile.get_data(as_text=True)
    assert "trop de champs de signature pour être vérifié (plus de 32)" in hostile.get_data(
        as_text=True
    )
    # Signed elsewhere (another portal's database and authority): not this portal's.
    foreign = verify(client, issued.signed).get_data(as_text=True)
    assert "<strong>Non émis par ce portail</strong>, ou modifié" in foreign
    assert "Pas faite avec une clé certifiée par ce portail" in foreign
    assert "Not issued by this portal" not in foreign
