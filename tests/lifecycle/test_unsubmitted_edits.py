"""A finding of a security probe of commit e0f8f4f, reproduced here: the researcher's
edits after a submission took effect at once, before anyone had screened them.

1. Invariant 10: a team member who is also a Nation's steward, dropped from the team in
   an amendment's draft (never submitted), assessed an obligation and read the Nation's
   internal thread on their own request; a steward added to the draft's team lost the
   right to judge the request under the edition in force.
2. Invariant 9 and "404 for what one may not know of": a Nation whose dataset the draft
   added saw the request, its unsubmitted text and the other Nations' obligations; the
   coordinator and the Nations concerned read the unsubmitted text too. The same held
   for a request returned for changes.

Edits after a submission are now the researcher's alone until they submit them: what
everyone else reads, which Nations the request concerns and who is on the requesting
side are those of the revision submitted last.
"""

import pytest

from portal.db import session_scope
from portal.errors import Forbidden

from flows import COMPLETE
from helpers import sign_in
from obligated import YEARLY
from renewals import OWL, add_third_nation, request_of

ROBIN = COMPLETE["team"][0]
SAM = {"name": "Sam Cedar (fictional)", "email": "s3.cedar@example.org", "role": "Analyst"}
DRAFTED = "A purpose typed in a draft, never submitted (fictional)."
INTERNAL = "/requests/{ref}/conversations/internal/red-cedar"


def internal_thread(app, email: str, ref: str) -> int:
    client = app.test_client()
    sign_in(client, email)
    return client.get(INTERNAL.format(ref=ref)).status_code


def test_a_team_member_dropped_in_a_draft_still_does_not_judge(app, flow, owed, api):
    ref = owed.active(team=[ROBIN, SAM])  # Sam is on the team and Red Cedar's steward
    owed.due_soon(ref, YEARLY)  # its report is taken now
    owed.report("researcher", ref, YEARLY)
    assert internal_thread(app, SAM["email"], ref) == 404
    flow.do("researcher", "amend", ref)
    flow.edit("researcher", ref, team=[ROBIN])  # never submitted

    with pytest.raises(Forbidden, match="requesting side"):
        owed.assess("cedar_steward3", ref, YEARLY)
    assert owed.obligations(ref)[YEARLY].state.value == "reported", "nothing written"
    assert internal_thread(app, SAM["email"], ref) == 404
    offered = api.get("cedar_steward3", f"/requests/{ref}").get_json()["allowed_actions"]
    assert "assess_obligation" not in {option["action"] for option in offered}

    # The researcher sees the draft's team; everyone else the team submitted.
    for who, team in (("researcher", [ROBIN]), ("cedar_rep", [ROBIN, SAM])):
        assert api.get(who, f"/requests/{ref}").get_json()["team"] == team, who


def test_a_steward_added_to_a_draft_still_judges_the_edition_in_force(app, flow, owed):
    ref = owed.active()
    owed.due_soon(ref, YEARLY)  # its report is taken now
    owed.report("researcher", ref, YEARLY)
    flow.do("researcher", "amend", ref)
    flow.edit("researcher", ref, team=[ROBIN, SAM])  # never submitted

    assert internal_thread(app, SAM["email"], ref) == 200
    owed.assess("cedar_steward3", ref, YEARLY)  # met: the next year's report is owed
    assert owed.obligations(ref)[YEARLY].assessed_at is not None


def test_an_amendment_draft_is_the_researchers_alone_until_submitted(app, flow, api, make_user):
    add_third_nation(app, make_user)
    ref = flow.active()
    flow.do("researcher", "amend", ref)
    datasets = ["cedar-health", "heron-schools", "owl-lands"]
    api.patch("researcher", f"/requests/{ref}", json={"datasets": datasets, "purpose": DRAFTED})

    assert api.get("s.owl@example.org", f"/requests/{ref}").status_code == 404
    assert ref not in {
        r["ref"] for r in api.get("s.owl@example.org", "/requests").get_json()["items"]
    }
    for who in ("coordinator", "cedar_steward1", "heron_rep"):
        seen = api.get(who, f"/requests/{ref}").get_json()
        assert (seen["purpose"], seen["datasets"]) == (COMPLETE["purpose"], COMPLETE["datasets"])
        assert seen["nations"] == ["blue-heron", "red-cedar"], who
    mine = api.get("researcher", f"/requests/{ref}").get_json()
    assert (mine["purpose"], mine["datasets"], mine["unsubmitted"]) == (DRAFTED, datasets, True)
    assert api.get("coordinator", f"/requests/{ref}").get_json()["unsubmitted"] is False

    # Submitted, it is everyone's to read, and Grey Owl's to review.
    assert api.act("researcher", ref, "submit").status_code == 200
    seen = api.get("s.owl@example.org", f"/requests/{ref}").get_json()
    assert (seen["purpose"], seen["datasets"]) == (DRAFTED, datasets)
    assert OWL in seen["nations"]


def test_edits_after_a_return_are_the_researchers_alone_until_resubmitted(
    app, flow, api, make_user
):
    add_third_nation(app, make_user)
    ref = flow.draft()
    flow.do("researcher", "submit", ref)
    flow.do("coordinator", "screen", ref, outcome="return", comment="Say which age groups.")
    flow.edit("researcher", ref, purpose=DRAFTED, datasets=["cedar-health", "owl-lands"])

    assert api.get("s.owl@example.org", f"/requests/{ref}").status_code == 404
    assert api.get("coordinator", f"/requests/{ref}").get_json()["purpose"] == COMPLETE["purpose"]
    events = api.get("coordinator", f"/requests/{ref}/events").get_json()["items"]
    [edited] = [e for e in events if e["action"] == "request.edited"]
    assert "fields" not in (edited["details"] or {}), "not even which fields a draft changes"
    assert api.get("heron_steward", f"/requests/{ref}").status_code == 200  # still concerned
    page = app.test_client()
    sign_in(page, "researcher@example.org")
    assert DRAFTED in page.get(f"/requests/{ref}/edit").get_data(as_text=True)
    assert DRAFTED in page.get(f"/requests/{ref}").get_data(as_text=True)

    flow.do("researcher", "submit", ref)  # the edits go in with the new revision
    assert api.get("coordinator", f"/requests/{ref}").get_json()["purpose"] == DRAFTED
    assert api.get("s.owl@example.org", f"/requests/{ref}").status_code == 200


def test_edits_set_back_or_never_submitted_leave_nothing_pending(app, flow, api):
    """Set back to what was submitted, the edits are no edits; a request refused while
    its researcher was editing it keeps none (they could never be submitted)."""
    ref = flow.draft()
    flow.do("researcher", "submit", ref)
    flow.do("coordinator", "screen", ref, outcome="return", comment="Say which age groups.")
    flow.edit("researcher", ref, purpose=DRAFTED)
    assert pending(app, ref) is not None
    flow.edit("researcher", ref, purpose=COMPLETE["purpose"])
    assert pending(app, ref) is None

    flow.edit("researcher", ref, purpose=DRAFTED)
    flow.do("cedar_rep", "decide", ref, "red-cedar", outcome="refuse", reason="Not now.")
    assert (flow.status(ref), pending(app, ref)) == ("refused", None)
    assert api.get("researcher", f"/requests/{ref}").get_json()["purpose"] == COMPLETE["purpose"]


def pending(app, ref: str) -> dict | None:
    with app.app_context(), session_scope() as session:
        return request_of(session, ref).pending_fields


def test_a_member_an_amendment_drops_stays_on_the_requesting_side_until_it_takes_effect(
    app, flow, owed, api
):
    """Found in a probe: once the amendment dropping them was submitted, a team member
    who is the Nation's steward read its own discussion, reviewed the amendment (alone
    making the quorum) and assessed an obligation of the edition that still names them."""
    ref = owed.active(team=[ROBIN, SAM])
    owed.due_soon(ref, YEARLY)  # its report is taken now
    owed.report("researcher", ref, YEARLY)
    flow.do("researcher", "amend", ref)
    flow.edit("researcher", ref, team=[ROBIN])
    flow.do("researcher", "submit", ref)
    flow.do("coordinator", "screen", ref)

    assess = {"obligation": owed.id(ref, YEARLY), "outcome": "met"}
    review = {"nation": "red-cedar", "recommendation": "approve"}
    for action, body in (("review", review), ("assess_obligation", assess)):
        refused = api.act("cedar_steward3", ref, action, **body)
        assert refused.status_code == 403, action
        assert "not_own_request" in {r["rule"] for r in refused.get_json()["blocked_by"]}
    assert internal_thread(app, SAM["email"], ref) == 404
    assert owed.obligations(ref)[YEARLY].state.value == "reported", "nothing written"
