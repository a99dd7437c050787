"""Through the API, a review or decision may say which revision it judges (``revision``):
one sent for a revision that is no longer current is refused (409, current_revision),
nothing written; a caller that does not say judges the current revision, as before.
The pages send it always (tests/test_stale_forms.py)."""

from apis import problem


def test_a_review_or_decision_for_a_revision_no_longer_current_is_refused(api, flow):
    ref = flow.to_review()
    flow.do("heron_steward", "review", ref, "blue-heron", recommendation="changes", comment="Why?")
    flow.edit("researcher", ref, methods="Descriptive statistics, now with a linkage step.")
    flow.do("researcher", "submit", ref)
    flow.do("coordinator", "screen", ref)
    review = {"nation": "red-cedar", "recommendation": "approve"}
    stale = problem(api.act("cedar_steward1", ref, "review", **review, revision=1), 409)
    assert [rule["rule"] for rule in stale["blocked_by"]] == ["current_revision"]
    assert "revision 2" in stale["detail"]
    assert api.act("cedar_steward1", ref, "review", **review, revision=2).status_code == 200
    assert api.act("cedar_steward2", ref, "review", **review).status_code == 200
    decision = {"nation": "red-cedar", "outcome": "approve"}
    stale = problem(api.act("cedar_rep", ref, "decide", **decision, revision=1), 409)
    assert [rule["rule"] for rule in stale["blocked_by"]] == ["current_revision"]
    assert flow.status(ref) == "under_review"
    assert api.act("cedar_rep", ref, "decide", **decision, revision=2).status_code == 200
    # Refusal stays possible whatever was read (invariant 2).
    refusal = {"nation": "blue-heron", "outcome": "refuse", "reason": "No.", "revision": 1}
    assert api.act("heron_rep", ref, "decide", **refusal).status_code == 200
    assert flow.status(ref) == "refused"


def test_a_screening_for_a_revision_no_longer_current_is_refused(api, flow):
    ref = flow.draft()
    flow.do("researcher", "submit", ref)
    flow.do("coordinator", "screen", ref, outcome="return", comment="Which years?")
    flow.edit("researcher", ref, methods="Descriptive statistics of 2015 to 2020.")
    flow.do("researcher", "submit", ref)
    for outcome in ({"outcome": "accept"}, {"outcome": "return", "comment": "Still unclear."}):
        stale = problem(api.act("coordinator", ref, "screen", **outcome, revision=1), 409)
        assert [rule["rule"] for rule in stale["blocked_by"]] == ["current_revision"]
        assert "revision 2" in stale["detail"]
        assert flow.status(ref) == "screening"
    assert api.act("coordinator", ref, "screen", outcome="accept", revision=2).status_code == 200
    assert flow.status(ref) == "under_review"
