"""A reading copy of an agreement in another language is no signed document: the portal
keeps its digest when it makes one, and /verify (the page and the CLI) names it for what
it is, with a link to what was signed, instead of calling it foreign or altered."""

from sqlmodel import func, select
from test_agreement_pages import signed_in, verify

from portal.agreements.models import ReadingCopy
from portal.db import session_scope

from agreement_kit import flip


def reading_copies(app) -> int:
    with app.app_context(), session_scope() as session:
        return session.exec(select(func.count()).select_from(ReadingCopy)).one()


def test_verify_names_a_reading_copy_and_links_to_what_was_signed(app, runner, signed, tmp_path):
    assert reading_copies(app) == 0
    copy = signed_in(app, "researcher").get(f"/requests/{signed.ref}/agreement.pdf?lang=fr")
    assert copy.status_code == 200 and copy.data.startswith(b"%PDF")
    assert reading_copies(app) == 1, "its digest is kept, not its bytes"

    page = verify(app.test_client(), copy.data).get_data(as_text=True)
    assert f"Reading copy of agreement <code>{signed.ref}</code>, not a signed document." in page
    assert "This portal made it in French for reading" in page
    assert "What was signed is edition 1, in English" in page
    assert f'href="/requests/{signed.ref}#agreement-h"' in page
    assert "Not issued by this portal" not in page and "Issued by this portal" not in page

    # The signed document still verifies as issued; an altered reading copy is nothing.
    assert "Issued by this portal." in verify(app.test_client(), signed.pdf).get_data(as_text=True)
    altered = verify(app.test_client(), flip(copy.data, len(copy.data) // 2)).get_data(as_text=True)
    assert "Reading copy" not in altered and "Not issued by this portal" in altered

    path = tmp_path / "copy.pdf"
    path.write_bytes(copy.data)
    result = runner.invoke(args=["agreements", "verify", str(path)])
    assert result.exit_code == 1, "a reading copy is not an agreement issued by this portal"
    assert f"reading copy of agreement {signed.ref}, not a signed document" in result.output
    assert "(edition 1 was signed in en)" in result.output
