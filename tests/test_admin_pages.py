"""The administration pages: people and their portal-wide roles, Nations, datasets.
Only administrators reach them (the access matrix walks every person through every
route); here, what each page does, and that an administrator still never decides."""

import pytest
from sqlmodel import select

from portal.audit.models import AuditEvent
from portal.auth.models import Role, User
from portal.auth.service import roles_of
from portal.db import session_scope
from portal.registry import service as registry
from portal.registry.models import Nation

from helpers import PASSWORD, csrf_token, sign_in


def post(client, path: str, data: dict, page_path: str | None = None):
    page = client.get(page_path or path).get_data(as_text=True)
    return client.post(path, data={**data, "csrf_token": csrf_token(page)})


def user_id(app, email: str) -> int:
    with app.app_context(), session_scope() as session:
        return session.exec(select(User.id).where(User.email == email)).one()


def kinds(app) -> list[str]:
    with app.app_context(), session_scope() as session:
        return list(session.exec(select(AuditEvent.action).order_by(AuditEvent.id)))


@pytest.fixture
def admin(app, flow):
    client = app.test_client()
    assert sign_in(client, "admin@example.org").status_code == 302
    return client


def test_the_navigation_offers_the_pages_to_administrators_only(app, flow, admin):
    nav = admin.get("/").text
    for link in ("/admin/people", "/admin/invitations", "/admin/nations", "/admin/datasets"):
        assert f'href="{link}"' in nav
    for who in ("coordinator@example.org", "rep.cedar@example.org", "researcher@example.org"):
        client = app.test_client()
        sign_in(client, who)
        page = client.get("/").text
        assert "/admin/" not in page
        assert client.get("/admin/people").status_code == 403
    rep = app.test_client()
    sign_in(rep, "rep.cedar@example.org")
    assert 'href="/nations/red-cedar/invitations"' in rep.get("/").text


def test_people_search_grant_revoke_deactivate_reactivate(app, flow, admin):
    found = admin.get("/admin/people?q=CEDAR").text
    assert "s1.cedar@example.org" in found and "researcher@example.org" not in found
    assert "Steward · Red Cedar Nation (fictional)" in found
    target = user_id(app, "researcher@example.org")
    page = f"/admin/people/{target}"
    assert "researcher@example.org" in admin.get(page).text

    granted = post(admin, f"{page}/roles", {"role": "coordinator"}, page)
    assert granted.status_code == 302
    # A Nation's role is not the administrator's to grant.
    refused = post(admin, f"{page}/roles", {"role": "steward"}, page)
    assert refused.status_code == 422 and "Choose a portal-wide role." in refused.text
    with app.app_context(), session_scope() as session:
        user = session.get(User, target)
        assert {role for role, _ in roles_of(session, user)} == {Role.RESEARCHER, Role.COORDINATOR}
    assert post(admin, f"{page}/roles/revoke", {"role": "coordinator"}, page).status_code == 302
    assert post(admin, f"{page}/roles/revoke", {"role": "coordinator"}, page).status_code == 404
    assert post(admin, f"{page}/roles/revoke", {"role": "steward"}, page).status_code == 422

    # Deactivated: signed out at the next request, cannot sign in; never deleted.
    researcher = app.test_client()
    sign_in(researcher, "researcher@example.org")
    assert researcher.get("/account/tokens").status_code == 200
    assert post(admin, f"{page}/active", {"action": "deactivate"}, page).status_code == 302
    assert "/sign-in" in researcher.get("/account/tokens").headers.get("Location", "")
    assert sign_in(app.test_client(), "researcher@example.org").status_code == 401
    assert "deactivated" in admin.get("/admin/people?q=researcher@").text
    assert post(admin, f"{page}/active", {"action": "reactivate"}, page).status_code == 302
    assert sign_in(app.test_client(), "researcher@example.org").status_code == 302
    assert post(admin, f"{page}/active", {"action": "delete"}, page).status_code == 422

    # An administrator does not lock themselves out.
    own = f"/admin/people/{user_id(app, 'admin@example.org')}"
    assert post(admin, f"{own}/active", {"action": "deactivate"}, own).status_code == 422
    assert post(admin, f"{own}/roles/revoke", {"role": "admin"}, own).status_code == 409
    changes = ("role.granted", "role.revoked", "user.deactivated", "user.reactivated")
    assert [k for k in kinds(app) if k in changes][-4:] == [
        "role.granted",
        "role.revoked",
        "user.deactivated",
        "user.reactivated",
    ]


def test_a_deactivated_login_keeps_no_token_and_no_session_when_reactivated(app, flow, admin):
    """Deactivating a login ends its sessions and API tokens for good, from the page and
    the command line alike: reactivating it gives back the sign-in, never an old token or
    cookie (found by a probe: a token worked again once its login was reactivated)."""
    from apis import Api

    api = Api(app)
    target = user_id(app, "s2.cedar@example.org")
    page = f"/admin/people/{target}"
    steward = app.test_client()
    sign_in(steward, "s2.cedar@example.org")
    assert api.get("cedar_steward2", "/me").status_code == 200
    assert post(admin, f"{page}/active", {"action": "deactivate"}, page).status_code == 302
    assert api.get("cedar_steward2", "/me").status_code == 401
    assert post(admin, f"{page}/active", {"action": "reactivate"}, page).status_code == 302
    assert api.get("cedar_steward2", "/me").status_code == 401, "the old token stays revoked"
    assert "/sign-in" in steward.get("/account/tokens").headers.get("Location", "")
    with app.app_context(), session_scope() as session:
        query = select(AuditEvent.details).where(AuditEvent.action == "token.revoked")
        revoked = [details["because"] for details in session.exec(query)]
    assert revoked == ["user.deactivated"]


def test_registering_a_nation_leaves_its_profile_its_own(app, flow, admin):
    bad = post(admin, "/admin/nations", {"slug": "Not A Slug", "name": "", "framework": "OCAP"})
    assert bad.status_code == 422 and 'value="Not A Slug"' in bad.text
    made = post(
        admin,
        "/admin/nations",
        {"slug": "green-kestrel", "name": "Green Kestrel (fictional)", "framework": "CARE"},
    )
    assert made.status_code == 302
    assert "Green Kestrel (fictional)" in admin.get("/admin/nations").text
    dup = post(admin, "/admin/nations", {"slug": "green-kestrel", "name": "X", "framework": "OCAP"})
    assert dup.status_code == 422 and "exists already" in dup.text
    # The governance profile is the Nation's: the administrator cannot change it.
    assert admin.get("/nations/green-kestrel/profile").status_code == 403
    page = admin.get("/nations/red-cedar/profile")
    assert page.status_code == 403
    with app.app_context(), session_scope() as session:
        kestrel = registry.get_nation(session, "green-kestrel")
        assert (kestrel.review_quorum, kestrel.framework.value) == (1, "CARE")
    assert "nation.registered" in kinds(app)


def test_datasets_are_created_and_corrected(app, flow, admin):
    bad = post(admin, "/admin/datasets", {"slug": "river-data", "title": "", "custodian": "C"})
    assert bad.status_code == 422 and 'value="river-data"' in bad.text
    assert "Name at least one Nation" in bad.text
    made = post(
        admin,
        "/admin/datasets",
        {
            "slug": "river-data",
            "title": "River data",
            "custodian": "Ministry",
            "nations": ["red-cedar"],
        },
    )
    assert made.status_code == 302
    edit = "/admin/datasets/river-data"
    saved = post(
        admin,
        edit,
        {
            "title": "River data (2020-2025)",
            "custodian": "Ministry of Fisheries",
            "description": "Catch records.",
            "nations": ["red-cedar", "blue-heron"],
        },
    )
    assert saved.status_code == 302
    with app.app_context(), session_scope() as session:
        dataset = registry.get_dataset(session, "river-data")
        assert dataset.title == "River data (2020-2025)"
        assert [n.slug for n in registry.nations_of(session, dataset)] == [
            "blue-heron",
            "red-cedar",
        ]
        changed = session.exec(
            select(AuditEvent).where(AuditEvent.action == "dataset.changed")
        ).one()
        assert changed.details["changes"]["nations"] == [["red-cedar"], ["blue-heron", "red-cedar"]]
    # A Nation whose data a submitted request uses stays on the dataset.
    ref = flow.draft(datasets=["cedar-health"])
    flow.do("researcher", "submit", ref)
    kept = post(
        admin,
        "/admin/datasets/cedar-health",
        {"title": "Cedar health", "custodian": "Health (fictional)", "nations": ["blue-heron"]},
    )
    assert kept.status_code == 422 and "Red Cedar Nation (fictional) stays on it" in kept.text
    # Found in a probe: a Nation added while a request using the dataset was in review
    # was never asked, and the request went active on its data. It waits until they end.
    cedar_only = {"title": "Cedar health", "custodian": "Health (fictional)"}
    added = post(
        admin,
        "/admin/datasets/cedar-health",
        {**cedar_only, "nations": ["red-cedar", "blue-heron"]},
    )
    assert added.status_code == 422
    # Found in a probe: the refusal named the requests, which an administrator may not see.
    assert "1 request in progress or in force uses this dataset" in added.text
    assert "Blue Heron Métis (fictional) would never be asked" in added.text
    assert ref not in added.text
    flow.do("researcher", "withdraw", ref)
    added = post(
        admin,
        "/admin/datasets/cedar-health",
        {**cedar_only, "nations": ["red-cedar", "blue-heron"]},
    )
    assert added.status_code == 302, "no request in progress or in force uses it now"
    assert admin.get("/admin/datasets/no-such-data").status_code == 404


def test_an_administrator_still_never_decides(app, flow, admin):
    """Invariant 1 with the new pages in place: no review, decision or signature."""
    ref = flow.approved()
    for path in (
        f"/requests/{ref}/review/red-cedar",
        f"/requests/{ref}/decide/red-cedar",
        f"/requests/{ref}/revoke/red-cedar",
    ):
        assert admin.get(path).status_code in (403, 404)
    signed = admin.post(
        f"/requests/{ref}/sign",
        data={"password": PASSWORD, "csrf_token": csrf_token(admin.get("/").text)},
    )
    assert signed.status_code in (403, 404)
    from portal.errors import Forbidden, NotFound

    for action, nation in (("review", "red-cedar"), ("decide", "red-cedar"), ("sign", None)):
        body = {"outcome": "refuse", "reason": "admin"} if action == "decide" else {}
        with pytest.raises((Forbidden, NotFound)):
            flow.do("admin@example.org", action, ref, nation, **body)
    with app.app_context(), session_scope() as session:
        assert session.exec(select(Nation).where(Nation.slug == "red-cedar")).one()
    assert flow.status(ref) == "awaiting_signatures"


FRENCH = {"Accept-Language": "fr-CA,fr;q=0.9"}


def test_the_datasets_page_and_a_governance_profile_speak_french(app, flow, admin):
    page = admin.get("/admin/datasets", headers=FRENCH).text
    assert '<html lang="fr-CA">' in page
    assert '<h2 id="register-h">Inscrire un jeu de données</h2>' in page
    assert "Jeux de données inscrits" in page and "Dépositaire (qui le détient)" in page
    assert "Register the dataset" not in page
    # A service's refusal speaks French too; the English one stays for an English page.
    bad = admin.post(
        "/admin/datasets",
        data={
            "slug": "Not A Slug",
            "title": "T",
            "custodian": "C",
            "nations": ["red-cedar"],
            "csrf_token": csrf_token(page),
        },
        headers=FRENCH,
    )
    assert bad.status_code == 422 and "n’est pas un identifiant valide" in bad.text
    rep = app.test_client()
    sign_in(rep, "rep.cedar@example.org")
    profile = rep.get("/nations/red-cedar/profile", headers=FRENCH).text
    assert "Profil de gouvernance : Red Cedar Nation (fictional)" in profile
    assert "Paramètres du profil" in profile and "Enregistrer les règles" in profile
    assert "Examens d’intendants requis avant l’approbation" in profile  # a lazy label
    assert "Save the profile settings" not in profile
    english = rep.get("/nations/red-cedar/profile", headers={"Accept-Language": "en"}).text
    assert "Save the profile settings" in english
