"""The administrators' list of people, a page at a time by name: every person once,
each with their own roles (read for the whole page at once), and a bad cursor named."""

import re

from sqlmodel import select

from portal.auth.models import User
from portal.auth.service import roles_of
from portal.db import session_scope
from portal.workflow.administration import PEOPLE_PAGE

from helpers import sign_in

ROW = re.compile(
    r'<td><a href="/admin/people/(\d+)">[^<]*</a></td>\s*<td>[^<]*</td>\s*<td>([^<]*)</td>'
)


def test_every_person_once_across_the_pages_with_their_own_roles(app, flow):
    with app.app_context(), session_scope() as session:
        for number in range(PEOPLE_PAGE + 5):
            session.add(
                User(email=f"p{number}@example.org", name=f"Person {number:03d}", password_hash="-")
            )
    with app.app_context(), session_scope() as session:
        everyone = session.exec(select(User).order_by(User.name, User.id)).all()
        ids = [user.id for user in everyone]
        expected = {user.id: roles_of(session, user) for user in everyone}
        labels = {
            uid: "; ".join(r.label + (f" · {n.name}" if n else "") for r, n in roles) or "none"
            for uid, roles in expected.items()
        }
    admin = app.test_client()
    sign_in(admin, "admin@example.org")
    first = admin.get("/admin/people").text
    rows = ROW.findall(first)
    assert len(rows) == PEOPLE_PAGE
    following = re.search(r'href="(/admin/people\?after=\d+)" rel="next"', first).group(1)
    second = admin.get(following).text
    rows += ROW.findall(second)
    assert 'rel="next"' not in second
    assert [int(uid) for uid, _ in rows] == ids
    assert all(shown.replace("&amp;", "&") == labels[int(uid)] for uid, shown in rows)


def test_a_cursor_that_is_no_persons_number_is_refused_by_name(app, flow):
    admin = app.test_client()
    sign_in(admin, "admin@example.org")
    for cursor in ("x", "999999"):
        answer = admin.get(f"/admin/people?after={cursor}")
        assert answer.status_code == 400 and "after" in answer.text
