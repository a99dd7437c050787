"""An uploaded file is kept and shown under its own name only. Found in a probe: a name
sent with its folders (``../../x.pdf``, ``C:\\Users\\a\\x.pdf``) was kept and shown
whole. Every upload (an output, an obligation's report) takes the last part of the name
as sent, after any folder in either spelling; a name with nothing left is refused with
its reason, nothing written. Letters of any script are kept."""

import base64
import io

import pytest
from sqlmodel import select
from test_output_pages import CSV, form_token, latest_output, signed_in

from portal.db import session_scope
from portal.lifecycle.outputs.models import ResearchOutput

from apis import Api, problem

NO_NAME = "only folders"


def output_name(app, number: int) -> str:
    with app.app_context(), session_scope() as session:
        return (
            session.exec(select(ResearchOutput).where(ResearchOutput.id == number)).one().filename
        )


def post_output(client, ref: str, name: str):
    new = f"/requests/{ref}/outputs/new"
    body = {
        "title": "Table 1",
        "venue": "A fictional journal",
        "csrf_token": form_token(client, new),
    }
    body |= {"intent": "submit", "file": (io.BytesIO(CSV), name)}
    return client.post(new, data=body, content_type="multipart/form-data")


# A multipart name is read as a quoted string, where a lone backslash escapes what
# follows: a Windows path reaches the portal with its backslashes doubled on the wire.
@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("../../x.csv", "x.csv"),
        ("C:\\\\Users\\\\a\\\\Données été.csv", "Données été.csv"),
        ("/etc/../ᓀᐦᐃᔭᐍᐏᐣ.csv", "ᓀᐦᐃᔭᐍᐏᐣ.csv"),
    ],
)
def test_an_output_uploaded_on_the_page_keeps_only_its_own_name(app, flow, sent, kept):
    ref = flow.active()
    client = signed_in(app, "researcher@example.org")
    assert post_output(client, ref, sent).status_code == 302
    number = latest_output(app)
    assert output_name(app, number) == kept
    page = client.get(f"/requests/{ref}/outputs/{number}").text
    assert kept in page and "Users" not in page and "../" not in page
    file = client.get(f"/requests/{ref}/outputs/{number}/file")
    assert "/" not in file.headers["Content-Disposition"].split("filename=")[1]


def test_an_upload_named_only_by_folders_is_refused_with_its_reason(app, flow):
    ref = flow.active()
    client = signed_in(app, "researcher@example.org")
    refused = post_output(client, ref, "../")
    assert refused.status_code == 422 and NO_NAME in refused.text
    assert 'value="A fictional journal"' in refused.text, "what was typed is kept"
    assert latest_output(app) is None, "nothing written"
    api = Api(app)
    body = {"title": "T", "venue": "V", "content_base64": base64.b64encode(CSV).decode()}
    for name in ("C:\\Users\\a\\", "..", "a/.."):
        found = problem(api.act("researcher", ref, "submit_output", **body, filename=name), 422)
        assert [e["field"] for e in found["errors"]] == ["filename"] and NO_NAME in found["detail"]
    assert latest_output(app) is None
    sent = "C:\\Users\\a\\Données été.csv"
    assert api.act("researcher", ref, "submit_output", **body, filename=sent).status_code == 200
    assert output_name(app, latest_output(app)) == "Données été.csv"
