"""Local Contexts TK and BC Labels and Notices: the set as data, attached by the Nation's
own representatives only (label_datasets, through the enforcer), audited, shown on the
dataset's and the request's pages, and each a clause of the agreement (read back with
pdftotext). Runs on SQLite, and on PostgreSQL with TEST_DATABASE_URL."""

import re
import subprocess

import pytest
from sqlmodel import select

from portal.agreements import service as agreements
from portal.audit.models import AuditEvent
from portal.auth.models import User
from portal.db import session_scope
from portal.errors import Forbidden, NotFound
from portal.registry.labels import LABELS, check_label
from portal.registry.models import DatasetLabel
from portal.registry.service import get_dataset, get_nation
from portal.requests.models import AccessRequest
from portal.workflow import labels

from apis import Api
from flows import PEOPLE
from helpers import csrf_token, sign_in

TK = [
    "TK Attribution", "TK Clan", "TK Family", "TK Multiple Communities", "TK Community Voice",
    "TK Creative", "TK Verified", "TK Non-Verified", "TK Seasonal", "TK Women General",
    "TK Men General", "TK Men Restricted", "TK Women Restricted", "TK Culturally Sensitive",
    "TK Secret/Sacred", "TK Open to Commercialization", "TK Non-Commercial",
    "TK Community Use Only", "TK Outreach",
]  # fmt: skip
BC = [
    "BC Provenance", "BC Multiple Communities", "BC Clan", "BC Consent Verified",
    "BC Consent Non-Verified", "BC Research Use", "BC Open to Collaboration",
    "BC Open to Commercialization", "BC Non-Commercial", "BC Outreach",
]  # fmt: skip
NOTICES = ["TK Notice", "BC Notice", "Attribution Incomplete Notice"]
WORDING = "Our harvest stories are told in winter only (fictional community wording)."
HUB = "https://localcontextshub.org/projects/fictional-cedar/"


def test_the_label_set_is_complete_and_each_says_what_it_means():
    by_kind = {
        kind: [label.name for label in LABELS.values() if label.kind == kind]
        for kind in ("TK Label", "BC Label", "Notice")
    }
    assert by_kind == {"TK Label": TK, "BC Label": BC, "Notice": NOTICES}
    assert LABELS["tk-secret-sacred"].name == "TK Secret/Sacred"
    assert all(re.fullmatch(r"[a-z]+(-[a-z]+)+", code) for code in LABELS)
    descriptions = [label.description for label in LABELS.values()]
    assert all(d.endswith(".") and len(d) > 20 for d in descriptions)


def test_a_label_is_checked_field_by_field():
    assert check_label("tk-seasonal", f"  {WORDING} ", f" {HUB} ") == (
        {},
        {"code": "tk-seasonal", "wording": WORDING, "hub_url": HUB},
    )
    assert check_label("tk-seasonal", "w" * 2000, "")[0] == {}
    assert check_label("tk-seasonal", "w" * 2001, "")[0] == {
        "wording": "The community's wording must be at most 2000 characters."
    }
    assert check_label("", "", "")[0] == {"code": "Choose a TK or BC Label or Notice."}
    assert check_label("tk-nothing", "", "")[0] == {
        "code": "'tk-nothing' is not a TK or BC Label or Notice: choose one from the list."
    }
    https = "Give the Local Contexts Hub project's address starting with https:// "
    for bad in ("http://localcontextshub.org/p/1", "https://", "javascript:alert(1)", "hub"):
        assert check_label("bc-provenance", "", bad)[0] == {
            "hub_url": https + "(at most 500 characters), or leave it empty."
        }
    assert check_label("bc-provenance", "", "https://h.example/" + "p" * 482)[0] == {}
    assert "hub_url" in check_label("bc-provenance", "", "https://h.example/" + "p" * 483)[0]


def label_rows(app) -> list[tuple[str, str, str, str, str]]:
    with app.app_context(), session_scope() as session:
        rows = session.exec(select(DatasetLabel).order_by(DatasetLabel.id)).all()
        nations = {n: get_nation(session, n).id for n in ("red-cedar", "blue-heron")}
        slug = {v: k for k, v in nations.items()}
        return [(slug[r.nation_id], r.code, r.wording, r.hub_url, str(r.dataset_id)) for r in rows]


def attach(app, who: str, dataset: str, nation: str, code: str = "tk-seasonal", **more):
    with app.app_context(), session_scope() as session:
        user = session.exec(select(User).where(User.email == PEOPLE[who][0])).one()
        return labels.attach_label(
            session, user, get_dataset(session, dataset), get_nation(session, nation),
            code=code, **more,
        )  # fmt: skip


@pytest.mark.parametrize(
    ("who", "dataset", "nation", "refused"),
    [
        ("cedar_steward1", "cedar-health", "red-cedar", Forbidden),
        ("heron_rep", "cedar-health", "red-cedar", Forbidden),
        ("coordinator", "cedar-health", "red-cedar", Forbidden),
        ("admin", "cedar-health", "red-cedar", Forbidden),
        ("researcher", "cedar-health", "red-cedar", Forbidden),
        ("cedar_rep", "heron-schools", "red-cedar", NotFound),  # not its data
        ("cedar_rep", "cedar-health", "blue-heron", Forbidden),  # not its Nation
        ("cedar_rep", "cedar-health", "red-cedar", None),
        ("heron_rep", "shared-welfare", "blue-heron", None),
    ],
)
def test_only_the_nations_own_representative_labels_its_data(
    app, flow, who, dataset, nation, refused
):
    if refused is None:
        _row, changes = attach(app, who, dataset, nation, wording=WORDING)
        assert changes == {"wording": ["", WORDING], "hub_url": ["", ""]}
        assert [row[:3] for row in label_rows(app)] == [(nation, "tk-seasonal", WORDING)]
    else:
        with pytest.raises(refused):
            attach(app, who, dataset, nation)
        assert label_rows(app) == []


def test_the_representative_attaches_changes_and_removes_on_the_page(app, flow, client):
    assert sign_in(client, "rep.cedar@example.org").status_code == 302
    profile = client.get("/nations/red-cedar/profile").get_data(as_text=True)
    assert '<a href="/datasets/cedar-health">Cedar health</a>' in profile
    assert 'href="/datasets/heron-schools"' not in profile  # not its data
    page = client.get("/datasets/cedar-health").get_data(as_text=True)
    assert "Attach a label for Red Cedar Nation (fictional)" in page
    form = {
        "csrf_token": csrf_token(page), "red-cedar-code": "tk-seasonal",
        "red-cedar-wording": WORDING, "red-cedar-hub_url": "http://not-https.example/",
    }  # fmt: skip
    bad = client.post("/datasets/cedar-health/labels/red-cedar", data=form)
    assert bad.status_code == 422
    html = bad.get_data(as_text=True)
    assert "starting with https://" in html and WORDING in html  # kept as typed
    assert label_rows(app) == []
    done = client.post(
        "/datasets/cedar-health/labels/red-cedar", data=form | {"red-cedar-hub_url": HUB}
    )
    assert done.status_code == 302
    shown = client.get("/datasets/cedar-health").get_data(as_text=True)
    assert re.search(r'data-label="tk-seasonal">\s*<strong>TK Seasonal</strong>', shown)
    assert WORDING in shown and f'href="{HUB}"' in shown
    assert LABELS["tk-seasonal"].description in shown
    # Sent again with the same values: nothing changes, no event.
    again = client.post(
        "/datasets/cedar-health/labels/red-cedar", data=form | {"red-cedar-hub_url": HUB}
    )
    assert again.status_code == 302
    with app.app_context(), session_scope() as session:
        kinds = [e.action for e in session.exec(select(AuditEvent).order_by(AuditEvent.id))]
        event = session.exec(
            select(AuditEvent).where(AuditEvent.action == "dataset.labelled")
        ).one()
        assert event.details == {
            "slug": "cedar-health", "label": "tk-seasonal",
            "changes": {"wording": ["", WORDING], "hub_url": ["", HUB]},
        }  # fmt: skip
    assert kinds.count("dataset.labelled") == 1
    removed = client.post(
        "/datasets/cedar-health/labels/red-cedar/tk-seasonal/remove",
        data={"csrf_token": csrf_token(shown)},
    )
    assert removed.status_code == 302 and label_rows(app) == []
    with app.app_context(), session_scope() as session:
        assert session.exec(
            select(AuditEvent).where(AuditEvent.action == "dataset.label_removed")
        ).one()
    gone = client.post(
        "/datasets/cedar-health/labels/red-cedar/tk-seasonal/remove",
        data={"csrf_token": csrf_token(shown)},
    )
    assert gone.status_code == 404


@pytest.mark.parametrize("who", ["cedar_steward1", "heron_rep", "coordinator", "admin"])
def test_others_read_the_labels_but_get_no_form_and_403(app, flow, client, who):
    attach(app, "cedar_rep", "cedar-health", "red-cedar", wording=WORDING)
    sign_in(client, PEOPLE[who][0])
    page = client.get("/datasets/cedar-health").get_data(as_text=True)
    assert WORDING in page and "Attach a label" not in page and "Remove TK Seasonal" not in page
    token = csrf_token(client.get("/").get_data(as_text=True))
    posted = client.post(
        "/datasets/cedar-health/labels/red-cedar",
        data={"csrf_token": token, "red-cedar-code": "tk-clan"},
    )
    assert posted.status_code == 403
    remove = client.post(
        "/datasets/cedar-health/labels/red-cedar/tk-seasonal/remove", data={"csrf_token": token}
    )
    assert remove.status_code == 403
    assert [row[1] for row in label_rows(app)] == ["tk-seasonal"]


def test_a_label_is_shown_in_french_and_kept_in_english(app, flow, client):
    attach(app, "cedar_rep", "cedar-health", "red-cedar")
    sign_in(client, PEOPLE["cedar_rep"][0])
    french = {"Accept-Language": "fr"}
    page = client.get("/datasets/cedar-health", headers=french).get_data(as_text=True)
    assert re.search(r'data-label="tk-seasonal">\s*<strong>TK Saisonnier</strong>', page)
    assert "(Étiquette TK, Red Cedar Nation (fictional))" in page
    assert "qu’à certains moments de l’année" in page  # its meaning, no wording given
    assert '<optgroup label="Étiquettes BC">' in page and "Retirer TK Saisonnier" in page
    index = client.get("/datasets", headers=french).get_data(as_text=True)
    assert "Jeux de données inscrits" in index and "<td>TK Saisonnier</td>" in index
    # The set itself stays English: the agreement and the API read it.
    assert LABELS["tk-seasonal"].name == "TK Seasonal"


def fields(response) -> set[str]:
    return {error["field"] for error in response.get_json()["errors"]}


def test_the_api_sets_the_whole_set_and_lists_it(app, flow):
    api = Api(app)
    sent = [{"code": "tk-seasonal", "wording": WORDING, "hub_url": HUB}, {"code": "bc-provenance"}]
    body = {"dataset": "cedar-health", "labels": sent}
    assert (
        api.call("cedar_steward1", "PUT", "/nations/red-cedar/labels", json=body).status_code == 403
    )
    assert api.call("heron_rep", "PUT", "/nations/red-cedar/labels", json=body).status_code == 403
    wrong = api.call("heron_rep", "PUT", "/nations/blue-heron/labels", json=body)
    assert wrong.status_code == 422 and fields(wrong) == {"dataset"}
    twice = {
        "dataset": "cedar-health",
        "labels": [{"code": "tk-clan"}, {"code": "tk-clan", "hub_url": "ftp://x"}],
    }
    refused = api.call("cedar_rep", "PUT", "/nations/red-cedar/labels", json=twice)
    assert refused.status_code == 422
    assert fields(refused) == {"labels.1.code", "labels.1.hub_url"}
    assert label_rows(app) == []
    answer = api.call("cedar_rep", "PUT", "/nations/red-cedar/labels", json=body)
    assert answer.status_code == 200
    got = [
        (label["code"], label["nation"], label["wording"]) for label in answer.get_json()["labels"]
    ]
    assert got == [("tk-seasonal", "red-cedar", WORDING), ("bc-provenance", "red-cedar", "")]
    # The set replaces: what is left out goes.
    answer = api.call(
        "cedar_rep",
        "PUT",
        "/nations/red-cedar/labels",
        json={"dataset": "cedar-health", "labels": [{"code": "bc-provenance"}]},
    )
    assert [label["code"] for label in answer.get_json()["labels"]] == ["bc-provenance"]
    listed = {d["slug"]: d for d in api.get("researcher", "/datasets").get_json()["items"]}
    assert [label["name"] for label in listed["cedar-health"]["labels"]] == ["BC Provenance"]


def agreement_text(app, ref: str) -> str:
    with app.app_context(), session_scope() as session:
        request = session.exec(select(AccessRequest).where(AccessRequest.ref == ref)).one()
        pdf = agreements.stored_pdf(session, agreements.current(session, request))
    done = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True
    )
    return " ".join(done.stdout.decode().split())


def test_each_label_is_a_clause_of_the_agreement_and_shows_on_the_request(app, flow, client):
    attach(app, "cedar_rep", "cedar-health", "red-cedar", wording=WORDING, hub_url=HUB)
    attach(app, "cedar_rep", "cedar-health", "red-cedar", code="bc-provenance")
    attach(
        app, "heron_rep", "heron-schools", "blue-heron", code="tk-notice", wording="Heron words."
    )
    ref = flow.approved(cedar_conditions=["Cite the Nation (fictional condition)."])
    text = agreement_text(app, ref)
    assert (
        "The Traditional Knowledge and Biocultural Labels and Notices the Nation attached to its "
        "data, each a clause of this agreement:" in text
    )
    # Numbered after the Nation's own condition (1.), in the community's wording.
    assert f"2. TK Seasonal, on Cedar health: {WORDING} Local Contexts Hub project: {HUB}" in text
    assert f"3. BC Provenance, on Cedar health: {LABELS['bc-provenance'].description}" in text
    assert "1. TK Notice, on Heron schools: Heron words." in text
    # Each under its own Nation in section 5 (the Nations in the agreement's order).
    section = text[text.index("5. Conditions set by each Nation") : text.index("6. Standard")]
    heron, cedar = section.index("Blue Heron Métis (fictional)"), section.index("Red Cedar Nation")
    assert heron < section.index("TK Notice, on Heron") < cedar < section.index("TK Seasonal")
    sign_in(client, "researcher@example.org")
    page = client.get(f"/requests/{ref}").get_data(as_text=True)
    assert WORDING in page and "Heron words." in page and 'href="/datasets/cedar-health"' in page
