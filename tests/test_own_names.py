"""A Nation's and a dataset's names in French and in the Nation's own language and script:
checked (length, a well-formed BCP 47 tag, syllabics tagged Cans), set where the profile
and the dataset are edited (pages and API), audited, and written by the one `names`
filter wherever a page names them in a heading or a list."""

import re

import pytest
from sqlmodel import select

from portal.audit.models import AuditEvent
from portal.db import session_scope
from portal.errors import ValidationError
from portal.registry.names import canonical_tag, check_names, is_language_tag, names_html
from portal.registry.service import get_dataset, get_nation

from apis import Api
from helpers import csrf_token, sign_in

CREE = "ᓀᐦᐃᔭᐍᐏᐣ"  # fictional use of Cree syllabics for a fictional Nation
OWN = f'<span class="own-name" lang="cr-Cans">{CREE}</span>'
FRENCH = '<span lang="fr">Nation du Cèdre rouge (fictive)</span>'


@pytest.mark.parametrize(
    ("tag", "ok"),
    [
        ("cr-Cans", True), ("iu-Cans", True), ("moh", True), ("oj-Cans-CA", True),
        ("en-CA", True), ("zh-yue-Hant-HK", True), ("de-CH-1996", True), ("en-a-bbb-x-a-ccc", True),
        ("cr_Cans", False), ("c", False), ("cr-", False), ("cr--Cans", False), ("123", False),
        ("toolongtag", False), ("cr-Cans-CA-", False), ("cr Cans", False), ("", False),
        ("a" * 2 + "-" + "b" * 8 + "-" + "c" * 8 + "-" + "d" * 8 + "-" + "e" * 8, False),  # 38
    ],
)  # fmt: skip
def test_a_language_tag_is_well_formed_bcp47(tag, ok):
    assert is_language_tag(tag) is ok


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [("CR-CANS", "cr-Cans"), ("iu-cans", "iu-Cans"), ("en-ca", "en-CA"), ("MOH", "moh"),
     ("en-A-BBB-X-AB", "en-a-bbb-x-ab")],
)  # fmt: skip
def test_a_tag_is_kept_in_its_canonical_case(typed, canonical):
    assert canonical_tag(typed) == canonical


def names(fr="", own="", lang=""):
    errors: dict[str, str] = {}
    return check_names(errors, fr, own, lang), errors


def test_names_are_checked_and_stripped():
    assert names(" Cèdre ", f" {CREE} ", " cr-cans ") == (
        {"name_fr": "Cèdre", "name_own": CREE, "name_own_lang": "cr-Cans"},
        {},
    )
    assert names() == ({"name_fr": "", "name_own": "", "name_own_lang": ""}, {})
    assert names("x" * 200)[1] == {}
    assert names("x" * 201)[1] == {"name_fr": "The French name must be at most 200 characters."}
    assert names(own="x" * 201, lang="moh")[1] == {
        "name_own": "The name in the Nation's own language must be at most 200 characters."
    }
    assert names(own=CREE)[1] == {
        "name_own_lang": "Give the language tag of the name (e.g. cr-Cans, iu-Cans, moh)."
    }
    assert names(lang="cr-Cans")[1] == {
        "name_own": "Give the name in the Nation's own language, or no language tag."
    }
    assert names(own=CREE, lang="cr")[1] == {
        "name_own_lang": "The name is written in syllabics: its tag names the script Cans "
        "(e.g. cr-Cans)."
    }
    assert names(own="Kanien'kéha", lang="moh")[1] == {}
    assert names(own=CREE, lang="cr_Cans")[1] == {
        "name_own_lang": "'cr_Cans' is not a BCP 47 language tag: give the language and, for "
        "syllabics, the script, e.g. cr-Cans, iu-Cans or moh."
    }


def test_the_filter_writes_each_name_marked_with_its_language():
    assert names_html({"name": "A & B"}) == "A &amp; B"
    nation = {"name": "Red", "name_fr": "Rouge", "name_own": CREE, "name_own_lang": "cr-Cans"}
    assert names_html(nation) == (
        'Red <span class="own-names">· <span lang="fr">Rouge</span></span> '
        f'<span class="own-names">· {OWN}</span>'
    )
    attack = {"title": "T", "name_own": "<b>", "name_own_lang": '"><script>'}
    assert "<b>" not in names_html(attack) and "<script>" not in names_html(attack)


def profile_post(client, **fields):
    page = client.get("/nations/red-cedar/profile").get_data(as_text=True)
    data = {
        "csrf_token": csrf_token(page), "review_quorum": "2", "min_approvals": "1",
        "residency": "CA", "max_term_days": "730", "output_review_required": "y",
        "small_cell_threshold": "5", **fields,
    }  # fmt: skip
    return client.post("/nations/red-cedar/profile", data=data)


def events(app, action: str) -> list[dict]:
    with app.app_context(), session_scope() as session:
        rows = session.exec(select(AuditEvent).where(AuditEvent.action == action)).all()
        return [row.details for row in rows]


def test_the_representative_gives_the_nations_names_on_its_profile(app, flow, client):
    assert sign_in(client, "rep.cedar@example.org").status_code == 302
    bad = profile_post(client, name_fr="Cèdre", name_own=CREE, name_own_lang="cr")
    assert bad.status_code == 422
    html = bad.get_data(as_text=True)
    assert "its tag names the script Cans (e.g. cr-Cans)" in html
    assert f'value="{CREE}"' in html and 'value="Cèdre"' in html  # kept as typed
    with app.app_context(), session_scope() as session:
        assert get_nation(session, "red-cedar").name_own == ""  # nothing changed
    response = profile_post(
        client, name_fr="Nation du Cèdre rouge (fictive)", name_own=CREE, name_own_lang="CR-cans"
    )
    assert response.status_code == 302
    with app.app_context(), session_scope() as session:
        nation = get_nation(session, "red-cedar")
        assert (nation.name_fr, nation.name_own, nation.name_own_lang) == (
            "Nation du Cèdre rouge (fictive)", CREE, "cr-Cans",
        )  # fmt: skip
    assert events(app, "nation.profile_changed")[-1] == {
        "name_fr": ["", "Nation du Cèdre rouge (fictive)"],
        "name_own": ["", CREE],
        "name_own_lang": ["", "cr-Cans"],
    }
    heading = client.get("/nations/red-cedar/profile").get_data(as_text=True)
    assert (
        f'<h1>Governance profile: Red Cedar Nation (fictional) <span class="own-names">· {FRENCH}'
        in heading
    )
    assert OWN in heading
    # The profile form without the name fields (an older form) leaves the names alone.
    assert profile_post(client, review_quorum="3").status_code == 302
    with app.app_context(), session_scope() as session:
        assert get_nation(session, "red-cedar").name_own == CREE
    # Sent empty, they go.
    assert profile_post(client, name_fr="", name_own="", name_own_lang="").status_code == 302
    with app.app_context(), session_scope() as session:
        assert get_nation(session, "red-cedar").name_fr == ""


def test_the_names_show_where_pages_name_the_nation_and_dataset(app, flow, client):
    with app.app_context(), session_scope() as session:
        nation = get_nation(session, "red-cedar")
        nation.name_fr, nation.name_own, nation.name_own_lang = (
            "Nation du Cèdre rouge (fictive)", CREE, "cr-Cans",
        )  # fmt: skip
        dataset = get_dataset(session, "cedar-health")
        dataset.name_own, dataset.name_own_lang = "ᒥᔪ ᐱᒫᑎᓯᐏᐣ", "cr-Cans"
        session.add_all([nation, dataset])
    ref = flow.to_review()
    sign_in(client, "rep.cedar@example.org")
    request_page = client.get(f"/requests/{ref}").get_data(as_text=True)
    assert re.search(r'<h3 id="track-red-cedar">Red Cedar Nation \(fictional\) <span', request_page)
    assert OWN in request_page and FRENCH in request_page
    assert '<span class="own-name" lang="cr-Cans">ᒥᔪ ᐱᒫᑎᓯᐏᐣ</span>' in request_page
    record = client.get("/nations/red-cedar/record").get_data(as_text=True)
    assert re.search(r"<h1>Record: Red Cedar Nation \(fictional\) <span", record) and OWN in record
    listed = client.get("/datasets").get_data(as_text=True)
    assert OWN in listed and '<span class="own-name" lang="cr-Cans">ᒥᔪ ᐱᒫᑎᓯᐏᐣ</span>' in listed
    shown = client.get("/datasets/cedar-health").get_data(as_text=True)
    assert re.search(
        r'<h1>Cedar health <span class="own-names">· <span class="own-name" lang="cr-Cans">ᒥᔪ',
        shown,
    )


def test_the_admin_gives_a_datasets_names(app, flow, client):
    sign_in(client, "admin@example.org")
    page = client.get("/admin/datasets/cedar-health").get_data(as_text=True)
    data = {
        "csrf_token": csrf_token(page), "title": "Cedar health", "custodian": "Health (fictional)",
        "nations": ["red-cedar"], "name_fr": "Santé du Cèdre", "name_own": "ᒥᔪ",
        "name_own_lang": "moh",
    }  # fmt: skip
    bad = client.post("/admin/datasets/cedar-health", data=data)
    assert bad.status_code == 422
    assert "its tag names the script Cans (e.g. moh-Cans)" in bad.get_data(as_text=True)
    response = client.post("/admin/datasets/cedar-health", data=data | {"name_own_lang": "cr-Cans"})
    assert response.status_code == 302
    assert events(app, "dataset.changed")[-1]["changes"] == {
        "name_fr": ["", "Santé du Cèdre"], "name_own": ["", "ᒥᔪ"], "name_own_lang": ["", "cr-Cans"],
    }  # fmt: skip


def test_the_api_reads_and_sets_the_names(app, flow):
    api = Api(app)
    sent = {"name_fr": "Cèdre", "name_own": CREE, "name_own_lang": "cr-cans"}
    assert (
        api.call("cedar_steward1", "PATCH", "/nations/red-cedar/profile", json=sent).status_code
        == 403
    )
    bad = api.call(
        "cedar_rep", "PATCH", "/nations/red-cedar/profile", json=sent | {"name_own_lang": "cr"}
    )
    assert bad.status_code == 422 and "name_own_lang" in bad.get_data(as_text=True)
    answer = api.call("cedar_rep", "PATCH", "/nations/red-cedar/profile", json=sent)
    assert answer.status_code == 200
    body = answer.get_json()
    assert (body["name_fr"], body["name_own"], body["name_own_lang"]) == ("Cèdre", CREE, "cr-Cans")
    listed = {n["slug"]: n for n in api.get("researcher", "/nations").get_json()["items"]}
    assert listed["red-cedar"]["name_own"] == CREE and listed["blue-heron"]["name_own"] == ""
    datasets = {d["slug"]: d for d in api.get("researcher", "/datasets").get_json()["items"]}
    assert datasets["cedar-health"]["name_own"] == "" and datasets["cedar-health"]["labels"] == []


def test_registering_a_dataset_checks_its_names(app, nations):
    from portal.registry import service as registry

    with app.app_context(), session_scope() as session, pytest.raises(ValidationError) as caught:
        registry.create_dataset(
            session, "new-one", "New", "C", ["red-cedar"], names={"name_own": CREE}
        )
    assert caught.value.errors == {
        "name_own_lang": "Give the language tag of the name (e.g. cr-Cans, iu-Cans, moh)."
    }


def test_registering_a_nation_takes_its_names(app):
    from portal.registry import service as registry

    with app.app_context(), session_scope() as session:
        names = {"name_fr": "Kestrel (fictive)", "name_own": CREE, "name_own_lang": "CR-CANS"}
        nation = registry.create_nation(
            session, "kestrel", "Kestrel (fictional)", "OCAP", names=names
        )
        assert (nation.name_fr, nation.name_own, nation.name_own_lang) == (
            "Kestrel (fictive)", CREE, "cr-Cans",
        )  # fmt: skip
        with pytest.raises(ValidationError) as caught:
            registry.create_nation(
                session, "other", "Other", "OCAP", names={"name_own_lang": "x y"}
            )
    assert set(caught.value.errors) == {"name_own_lang"}
