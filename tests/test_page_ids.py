"""Every id on a page is given once: valid HTML, and what a label, a link or assistive
technology points at is the one element meant. A browser walk found each form's CSRF
token rendered id="csrf_token" on every page with several forms (the account, the
Nation's profile, an administrator's page of a person, the jobs). The main pages of an
active request, as each role reads them."""

import pytest
from sqlmodel import select

from portal.auth.models import User
from portal.db import session_scope

from flows import PEOPLE
from helpers import given_twice, sign_in
from obligated import YEARLY, Obligated

EVERYONE = ("/", "/account", "/account/tokens", "/rules", "/datasets")
REQUEST = ("/requests/{ref}", "/requests/{ref}/timeline", "/datasets/cedar-health")
NATION = (
    "/nations/red-cedar/record",
    "/nations/red-cedar/profile",
    "/nations/red-cedar/invitations",
)
ADMIN = (
    "/admin/people",
    "/admin/people/{researcher}",
    "/admin/jobs",
    "/admin/nations",
    "/admin/datasets",
    "/admin/datasets/cedar-health",
    "/admin/invitations",
)
OWN = ("/requests/{ref}/obligations/{yearly}/report", "/requests/{ref}/outputs/new")
PAGES = {
    "researcher": EVERYONE + REQUEST + OWN,
    "coordinator": EVERYONE + REQUEST + ("/dashboard",),
    "cedar_steward1": EVERYONE + REQUEST + NATION[:1],
    "cedar_rep": EVERYONE + REQUEST + NATION + ("/requests/{ref}/revoke/red-cedar",),
    "heron_rep": EVERYONE + REQUEST + ("/nations/blue-heron/profile",),
    "admin": EVERYONE + ADMIN,
}


@pytest.mark.parametrize("who", sorted(PAGES))
def test_no_page_gives_an_id_twice(app, flow, make_user, who):
    owed = Obligated(app, flow, make_user)
    ref = owed.active()
    owed.due_soon(ref, YEARLY)  # its report is taken from 30 days before it falls due
    with app.app_context(), session_scope() as session:
        researcher = session.exec(
            select(User.id).where(User.email == PEOPLE["researcher"][0])
        ).one()
    values = {"ref": ref, "yearly": owed.id(ref, YEARLY), "researcher": researcher}
    client = app.test_client()
    sign_in(client, PEOPLE[who][0])
    for template in PAGES[who]:
        path = template.format(**values)
        page = client.get(path)
        assert page.status_code == 200, f"{who} GET {path}: {page.status_code}"
        assert given_twice(page.text) == [], f"{who} GET {path}"
