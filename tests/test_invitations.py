"""Invitations through the pages: an administrator invites portal-wide roles and a
Nation's first representative; its representatives invite the rest. Each link is
mailed, works once, for 7 days, unless revoked; every step is on the record."""

import re
from datetime import timedelta

import pytest
from sqlmodel import select

from portal.audit.models import AuditEvent
from portal.auth.models import Invitation, Role, User
from portal.auth.service import find_membership, grant_role, roles_of
from portal.db import session_scope, utcnow
from portal.notify.models import OutboxMessage
from portal.registry import service as registry
from portal.reviews.forms import CRITERIA
from portal.reviews.service import counting_steward_ids

from flows import Flow
from helpers import PASSWORD, TOTP_SECRET, csrf_token, sign_in

NEW_PASSWORD = "a brand new passphrase"
LINK = re.compile(r"http://localhost:5000(/invitations/[A-Za-z0-9_-]+)")  # under PORTAL_URL


def post(client, path: str, data: dict | None = None, page: str | None = None):
    """POST a form with the CSRF token of ``page`` (or of the form at ``path``)."""
    html = page if page is not None else client.get(path).get_data(as_text=True)
    return client.post(path, data={**(data or {}), "csrf_token": csrf_token(html)})


def mailed_link(app, email: str) -> str:
    """The path of the newest invitation link mailed to ``email``."""
    with app.app_context(), session_scope() as session:
        message = session.exec(
            select(OutboxMessage)
            .where(OutboxMessage.recipient == email)
            .order_by(OutboxMessage.id.desc())
        ).first()
        assert message is not None, f"nothing mailed to {email}"
        return LINK.search(message.body).group(1)


def events(app, kind: str) -> list[AuditEvent]:
    with app.app_context(), session_scope() as session:
        found = session.exec(select(AuditEvent).where(AuditEvent.action == kind)).all()
        session.expunge_all()
        return list(found)


def invite(client, path: str, **data):
    return post(client, path, data)


def set_up_two_factor(app, email: str) -> None:
    """A representative must have two-factor sign-in before anything else (the pages
    that set it up are tested in tests/test_two_factor.py): set it up as they would."""
    from portal.auth import twofactor

    with app.app_context(), session_scope() as session:
        user = session.exec(select(User).where(User.email == email)).one()
        twofactor.enable_with_secret(session, user, TOTP_SECRET)


def accept_as_new(app, link: str, name: str = "New Person", password: str = NEW_PASSWORD):
    client = app.test_client()
    response = post(client, link, {"name": name, "password": password, "confirm": password})
    return client, response


@pytest.fixture
def admin(app, make_user, nations):
    make_user("admin@example.org", "admin", name="Ada Admin")
    client = app.test_client()
    assert sign_in(client, "admin@example.org").status_code == 302
    return client


def test_an_admin_invites_a_coordinator_who_sets_a_password_and_signs_in(app, admin):
    response = invite(admin, "/admin/invitations", email="Cora@Example.org", role="coordinator")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    page = response.get_data(as_text=True)
    link = mailed_link(app, "cora@example.org")
    assert link in page, "the link is shown once to the inviter"
    with app.app_context(), session_scope() as session:
        stored = session.exec(select(Invitation)).one()
        token = link.rsplit("/", 1)[1]
        assert token not in (stored.token_hash, stored.email)  # only its hash is kept
        assert stored.expires_at - stored.created_at == timedelta(days=7)

    # The invitee opens the link, makes a mistake, and keeps what they typed.
    client = app.test_client()
    opened = client.get(link)
    assert opened.status_code == 200
    assert "Ada Admin invites" in opened.text and "a coordinator" in opened.text
    wrong = post(
        client, link, {"name": "Cora Coordinator", "password": "short", "confirm": "short"}
    )
    assert wrong.status_code == 422
    assert "at least 10 characters" in wrong.text and 'value="Cora Coordinator"' in wrong.text
    differ = post(client, link, {"name": "Cora", "password": NEW_PASSWORD, "confirm": "other"})
    assert differ.status_code == 422 and "The two passwords differ." in differ.text

    done = post(
        client,
        link,
        {"name": "Cora Coordinator", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert done.status_code == 302 and "/sign-in" in done.headers["Location"]
    assert sign_in(client, "cora@example.org", NEW_PASSWORD).status_code == 302
    home = client.get("/")
    assert "Cora Coordinator" in home.text and "Dashboard" in home.text
    with app.app_context(), session_scope() as session:
        user = session.exec(select(User).where(User.email == "cora@example.org")).one()
        assert [(role, nation) for role, nation in roles_of(session, user)] == [
            (Role.COORDINATOR, None)
        ]
        assert user.password_hash.startswith("$argon2id$")

    # The link works once.
    again = app.test_client().get(link)
    assert again.status_code == 410 and "used already" in again.text
    assert [e.details["reason"] for e in events(app, "invitation.refused")] == ["accepted"]
    assert len(events(app, "invitation.sent")) == len(events(app, "invitation.accepted")) == 1
    granted = events(app, "role.granted")[-1]
    assert granted.details == {"user": "cora@example.org", "role": "coordinator", "nation": None}


def test_an_expired_link_is_refused_with_a_clear_page(app, admin):
    invite(admin, "/admin/invitations", email="late@example.org", role="researcher")
    link = mailed_link(app, "late@example.org")
    with app.app_context(), session_scope() as session:
        stored = session.exec(select(Invitation)).one()
        stored.expires_at = utcnow() - timedelta(minutes=1)
        session.add(stored)
    client = app.test_client()
    for response in (
        client.get(link),
        client.get(link),
    ):
        assert response.status_code == 410
        assert "This invitation has expired" in response.text
    refused = events(app, "invitation.refused")
    assert [e.details["reason"] for e in refused] == ["expired", "expired"]
    with app.app_context(), session_scope() as session:
        assert session.exec(select(User).where(User.email == "late@example.org")).first() is None


def test_a_revoked_link_is_refused(app, admin):
    invite(admin, "/admin/invitations", email="gone@example.org", role="researcher")
    link = mailed_link(app, "gone@example.org")
    with app.app_context(), session_scope() as session:
        invitation_id = session.exec(select(Invitation.id)).one()
    page = admin.get("/admin/invitations").text
    assert "gone@example.org" in page and "pending" in page
    revoked = post(admin, f"/invitations/{invitation_id}/revoke", page=page)
    assert revoked.status_code == 302
    assert "revoked" in admin.get("/admin/invitations").text
    opened = app.test_client().get(link)
    assert opened.status_code == 410 and "withdrawn" in opened.text
    assert len(events(app, "invitation.revoked")) == 1
    assert events(app, "invitation.refused")[0].details["reason"] == "revoked"
    # Revoked once; not again.
    assert post(admin, f"/invitations/{invitation_id}/revoke", page=page).status_code == 409


def test_a_mistyped_link_is_not_found(app, admin):
    response = app.test_client().get("/invitations/not-a-real-token-at-all-0123456789")
    assert response.status_code == 404 and "not valid" in response.text
    assert events(app, "invitation.refused") == []


def test_an_existing_login_signs_in_and_accepts(app, admin, make_user):
    make_user("known@example.org", "researcher", name="Kim Known")
    invite(admin, "/admin/invitations", email="known@example.org", role="coordinator")
    link = mailed_link(app, "known@example.org")
    client = app.test_client()
    assert "Sign in to accept" in client.get(link).text
    # Someone else signed in cannot take it.
    make_user("other@example.org", "researcher")
    other = app.test_client()
    sign_in(other, "other@example.org")
    assert other.get(link).status_code == 403
    # The invitee signs in, comes back and accepts.
    signed = client.post(
        f"/sign-in?next={link}",
        data={
            "email": "known@example.org",
            "password": PASSWORD,
            "csrf_token": csrf_token(client.get("/sign-in").text),
        },
    )
    assert signed.headers["Location"] == link
    page = client.get(link).text
    assert "Accept the invitation" in page
    accepted = post(client, link, page=page)
    assert accepted.status_code == 302
    with app.app_context(), session_scope() as session:
        user = session.exec(select(User).where(User.email == "known@example.org")).one()
        assert {role for role, _ in roles_of(session, user)} == {Role.RESEARCHER, Role.COORDINATOR}
    assert client.get(link).status_code == 410


def test_who_may_invite_whom(app, admin, make_user):
    """Admins: portal-wide roles and a Nation's first representative only; a Nation's
    representatives: its stewards and representatives; nobody else."""
    # Not a steward: that is the Nation's to choose.
    refused = invite(
        admin, "/admin/invitations", email="s@example.org", role="steward", nation="red-cedar"
    )
    assert refused.status_code == 422
    # A first representative: yes, once the Nation has none.
    first = invite(
        admin,
        "/admin/invitations",
        email="rep@example.org",
        role="representative",
        nation="red-cedar",
    )
    assert first.status_code == 200, first.text
    rep = accept_as_new(app, mailed_link(app, "rep@example.org"), "Rita Rep")[0]
    first_sign_in = sign_in(rep, "rep@example.org", NEW_PASSWORD)
    assert "two-factor" in first_sign_in.headers["Location"], "a representative sets up 2FA first"
    set_up_two_factor(app, "rep@example.org")
    rep = app.test_client()
    assert sign_in(rep, "rep@example.org", NEW_PASSWORD).status_code == 302
    # Now Red Cedar has one: the admin may not appoint another (no longer offered).
    second = invite(
        admin,
        "/admin/invitations",
        email="rep2@example.org",
        role="representative",
        nation="red-cedar",
    )
    assert second.status_code == 422 and "Choose a Nation from the list." in second.text
    with app.app_context(), session_scope() as session:
        from portal.errors import Forbidden, Refused
        from portal.workflow.invitations import authority_for

        someone = session.exec(select(User).where(User.email == "admin@example.org")).one()
        cedar = registry.get_nation(session, "red-cedar")
        with pytest.raises(Refused, match="its own representatives invite"):
            authority_for(session, someone, "representative", cedar)
        with pytest.raises(Forbidden, match="Only a representative of Red Cedar"):
            authority_for(session, someone, "steward", cedar)
    # The representative invites for Red Cedar only, stewards and representatives only.
    page = rep.get("/nations/red-cedar/invitations")
    assert page.status_code == 200
    assert "Invitations: Red Cedar Nation (fictional)" in rep.get("/").text
    assert (
        invite(
            rep, "/nations/red-cedar/invitations", email="x@example.org", role="admin"
        ).status_code
        == 422
    )
    assert rep.get("/nations/blue-heron/invitations").status_code == 403
    assert rep.get("/admin/invitations").status_code == 403
    # Researchers and coordinators invite nobody.
    make_user("res@example.org", "researcher")
    res = app.test_client()
    sign_in(res, "res@example.org")
    assert res.get("/admin/invitations").status_code == 403
    assert res.get("/nations/red-cedar/invitations").status_code == 403
    assert "Invitations" not in res.get("/").text
    # An invitation made by someone who since lost the role grants nothing.
    ok = invite(rep, "/nations/red-cedar/invitations", email="late.s@example.org", role="steward")
    assert ok.status_code == 200
    with app.app_context(), session_scope() as session:
        from portal.auth.service import revoke_role

        user = session.exec(select(User).where(User.email == "rep@example.org")).one()
        revoke_role(session, user, "representative", registry.get_nation(session, "red-cedar"))
    _client, late = accept_as_new(app, mailed_link(app, "late.s@example.org"))
    assert late.status_code == 409 and "may no longer offer this role" in late.text


def test_a_first_representative_invites_a_steward_who_reviews(app, admin, make_user):
    """The admin appoints Green Kestrel's first representative, who invites a steward;
    the steward accepts, and their review counts toward the Nation's quorum."""
    with app.app_context(), session_scope() as session:
        registry.create_nation(session, "green-kestrel", "Green Kestrel (fictional)", "OCAP")
        registry.create_dataset(session, "kestrel-fish", "Kestrel fish", "Fish", ["green-kestrel"])
    make_user("researcher@example.org", "researcher")
    make_user("coordinator@example.org", "coordinator")
    invite(
        admin,
        "/admin/invitations",
        email="kay@example.org",
        role="representative",
        nation="green-kestrel",
    )
    rep, response = accept_as_new(app, mailed_link(app, "kay@example.org"), "Kay Kestrelrep")
    assert response.status_code == 302
    set_up_two_factor(app, "kay@example.org")
    sign_in(rep, "kay@example.org", NEW_PASSWORD)
    sent = invite(
        rep, "/nations/green-kestrel/invitations", email="sam@example.org", role="steward"
    )
    assert sent.status_code == 200 and "Invitation sent" in sent.text
    steward, response = accept_as_new(app, mailed_link(app, "sam@example.org"), "Sam Steward")
    assert response.status_code == 302
    assert sign_in(steward, "sam@example.org", NEW_PASSWORD).status_code == 302

    flow = Flow(app)
    ref = flow.draft(datasets=["kestrel-fish"])
    flow.do("researcher", "submit", ref)
    flow.do("coordinator", "screen", ref)
    review = steward.get(f"/requests/{ref}/review/green-kestrel")
    assert review.status_code == 200
    done = post(
        steward,
        f"/requests/{ref}/review/green-kestrel",
        {"recommendation": "approve", "comment": "Fine."}
        | {f"criterion_{key}": "met" for key in CRITERIA},
        page=review.text,
    )
    assert done.status_code == 302, done.text
    with app.app_context(), session_scope() as session:
        from portal.requests.models import AccessRequest

        request = session.exec(select(AccessRequest).where(AccessRequest.ref == ref)).one()
        nation = registry.get_nation(session, "green-kestrel")
        sam = session.exec(select(User).where(User.email == "sam@example.org")).one()
        assert counting_steward_ids(session, request, nation) == {sam.id}
        assert find_membership(session, sam, Role.STEWARD, nation) is not None
    # The representative decides; the admin who appointed them cannot.
    assert admin.get(f"/requests/{ref}/decide/green-kestrel").status_code in (403, 404)
    assert flow.do("kay@example.org", "decide", ref, "green-kestrel") == "awaiting_signatures"
    # The Nation's record holds the invitations made for it.
    record = rep.get("/nations/green-kestrel/record").text
    assert "Invitation sent" in record and "Invitation accepted" in record


def test_an_admin_never_appoints_themself_a_nations_representative(app, admin, make_user):
    """Found in a probe: an administrator registered Nations, invited themself as each
    one's first representative, accepted in the same session, and with those votes
    outnumbered the member Nations on a change of the portal-wide rules. An
    administrator never acts for a Nation: one login does not hold both. The invitation
    is refused when sent, and one sent before is refused when used."""
    with app.app_context(), session_scope() as session:
        registry.create_nation(session, "puppet-one", "Puppet One (fictional)", "OCAP")
    refused = invite(
        admin, "/admin/invitations",
        email="admin@example.org", role="representative", nation="puppet-one",
    )  # fmt: skip
    assert refused.status_code == 422
    assert "an administrator never acts for a Nation" in refused.text
    assert _accepted(app) == []

    # One sent before the login became an administrator is refused when it is used.
    make_user("later.admin@example.org", "researcher")
    sent = invite(
        admin, "/admin/invitations",
        email="later.admin@example.org", role="representative", nation="puppet-one",
    )  # fmt: skip
    assert sent.status_code == 200, sent.text
    with app.app_context(), session_scope() as session:
        later = session.exec(select(User).where(User.email == "later.admin@example.org")).one()
        grant_role(session, later, Role.ADMIN)
    set_up_two_factor(app, "later.admin@example.org")  # an administrator signs in with it
    client = app.test_client()
    sign_in(client, "later.admin@example.org")
    used = post(client, mailed_link(app, "later.admin@example.org"))
    assert used.status_code == 409 and "an administrator never acts for a Nation" in used.text
    assert _accepted(app) == []

    # Nor does someone acting for a Nation become an administrator.
    make_user("steward.admin@example.org", ("steward", "red-cedar"))
    refused = invite(admin, "/admin/invitations", email="steward.admin@example.org", role="admin")
    assert refused.status_code == 422 and "an administrator never does" in refused.text


def _accepted(app) -> list[str]:
    with app.app_context(), session_scope() as session:
        query = select(Invitation.email).where(Invitation.accepted_at.is_not(None))
        return list(session.exec(query))


def test_the_pages_that_grant_a_role_say_why_an_administrator_cannot_hold_it(app, admin, make_user):
    """The same rule (auth.service.grant_role) named on each page that grants a role."""
    steward = make_user("s.kept@example.org", ("steward", "red-cedar"))
    page = admin.get(f"/admin/people/{steward}").text
    refused = post(admin, f"/admin/people/{steward}/roles", {"role": "admin"}, page=page)
    assert refused.status_code == 422 and "an administrator never does" in refused.text

    make_user("rep.kept@example.org", ("representative", "red-cedar"))
    rep = app.test_client()
    sign_in(rep, "rep.kept@example.org")
    page = rep.get("/nations/red-cedar/profile").text
    refused = rep.post(
        "/nations/red-cedar/stewards",
        data={"steward-email": "admin@example.org", "csrf_token": csrf_token(page)},
    )
    assert refused.status_code == 422
    assert "an administrator never acts for a Nation" in refused.text
