"""Each named condition, holding and failing, with the message a person reads."""

import pytest

from portal.policy.conditions import CONDITIONS, Facts, within
from portal.registry.models import Framework, Nation
from portal.requests.models import AccessRequest, RequestStatus
from portal.reviews.models import Recommendation

NATION_NAME = "Kestrel River First Nation (fictional)"


def nation(**profile) -> Nation:
    return Nation(slug="kestrel-river", name=NATION_NAME, framework=Framework.OCAP, **profile)


def request(**fields) -> AccessRequest:
    return AccessRequest(ref="R-TEST-0001", researcher_id=1, **fields)


def check(name: str, nation_obj: Nation | None, request_obj: AccessRequest | None):
    # These four conditions read only the Nation and the request, never the database.
    return CONDITIONS[name](Facts(session=None, nation=nation_obj, request=request_obj))


@pytest.mark.parametrize(
    ("residency", "location", "holds"),
    [
        ([], "", True),  # no residency rule: anywhere, even undeclared
        ([], "US", True),
        (["CA"], "CA", True),
        (["CA"], "CA-ON", True),  # a province lies within its country
        (["CA-NU", "CA-NT"], "CA-NT", True),
        (["CA-ON"], "CA", False),  # the country is wider than the province
        (["CA"], "US", False),
        (["CA"], "US-CA", False),  # California is not Canada
        (["CA"], "", False),
    ],
)
def test_storage_in_jurisdiction(residency, location, holds):
    result = check(
        "storage_in_jurisdiction", nation(residency=residency), request(storage_location=location)
    )
    assert (result is None) is holds
    if not holds:
        assert result.rule == "storage_in_jurisdiction"
        assert NATION_NAME in result.message and " or ".join(residency) in result.message
        assert (location or "does not say where") in result.message


@pytest.mark.parametrize(
    ("max_term", "retention", "holds", "numbers"),
    [
        (None, None, True, ()),
        (None, 10_000, True, ()),
        (365, 365, True, ()),
        (365, 30, True, ()),
        (365, 366, False, ("365", "366")),
        (365, None, False, ("365",)),
    ],
)
def test_term_within_limit(max_term, retention, holds, numbers):
    result = check(
        "term_within_limit", nation(max_term_days=max_term), request(retention_days=retention)
    )
    assert (result is None) is holds
    if not holds:
        assert result.rule == "term_within_limit" and NATION_NAME in result.message
        assert all(number in result.message for number in numbers)


@pytest.mark.parametrize(
    ("status", "holds"),
    [
        (RequestStatus.DRAFT, False),
        (RequestStatus.SCREENING, False),
        (RequestStatus.CHANGES_REQUESTED, False),
        (RequestStatus.WITHDRAWN, False),
        (RequestStatus.UNDER_REVIEW, True),
        (RequestStatus.AWAITING_SIGNATURES, True),
        (RequestStatus.ACTIVE, True),
        (RequestStatus.REFUSED, True),
        (RequestStatus.REVOKED, True),
        (RequestStatus.EXPIRED, True),
        (RequestStatus.CLOSED, True),
    ],
)
def test_screened(status, holds):
    result = check("screened", nation(), request(status=status))
    assert (result is None) is holds
    if not holds:
        assert "screening" in result.message and status.label.lower() in result.message


@pytest.mark.parametrize(
    ("ethics", "holds"),
    [("", False), ("   ", False), ("Fictional University REB, ref. 2024-017", True)],
)
def test_ethics_approval_given(ethics, holds):
    result = check("ethics_approval_given", None, request(ethics_approval=ethics))
    assert (result is None) is holds
    if not holds:
        assert result.rule == "ethics_approval_given" and "ethics" in result.message


@pytest.mark.parametrize("name", sorted(CONDITIONS))
def test_a_condition_without_its_facts_fails_with_a_reason(name):
    result = CONDITIONS[name](Facts(session=None, nation=None, request=None))
    assert result is not None and result.rule == name
    assert "no request" in result.message or "no Nation" in result.message


def test_within_is_about_codes_not_prefixes():
    assert within("CA-ON", "CA") and within("CA", "CA")
    assert not within("CAT", "CA") and not within("CA", "CA-ON")


def test_the_vocabulary_is_the_documented_one():
    assert set(CONDITIONS) == {
        "quorum_met",
        "min_approvals_met",
        "storage_in_jurisdiction",
        "term_within_limit",
        "screened",
        "ethics_approval_given",
        "not_own_request",
        "not_own_screening",
        # a Nation's own, with parameters (tests/policy/test_nation_conditions.py)
        "community_benefit_described",
        "harm_assessment_described",
        "team_at_most",
        "datasets_at_most",
        "recommendations_unanimous",
    }


@pytest.fixture
def kestrel(app, make_user):
    from portal.db import session_scope
    from portal.registry import service as registry

    with app.app_context(), session_scope() as session:
        registry.create_nation(session, "kestrel-river", NATION_NAME, "OCAP",
                               review_quorum=2, min_approvals=2)  # fmt: skip
        registry.create_nation(session, "blue-heron", "Blue Heron Métis (fictional)", "OCAS")
        registry.create_dataset(session, "cedar-health", "Health", "Health (fictional)",
                                ["kestrel-river", "blue-heron"])  # fmt: skip
    return {
        "s1": make_user("s1@example.org", ("steward", "kestrel-river")),
        "s2": make_user("s2@example.org", ("steward", "kestrel-river")),
        "s3": make_user("s3@example.org", ("steward", "kestrel-river")),
        "heron": make_user("heron@example.org", ("steward", "blue-heron")),
    }


def evaluate(app, name, request_id):
    from portal.db import session_scope
    from portal.registry.service import get_nation

    with app.app_context(), session_scope() as session:
        facts = Facts(
            session, get_nation(session, "kestrel-river"), session.get(AccessRequest, request_id)
        )
        return CONDITIONS[name](facts)


def test_quorum_counts_designated_unconflicted_reviews_of_the_current_revision(
    app, kestrel, make_request, add_review, revoke
):
    request_id = make_request(revision=2)
    add_review(request_id, "kestrel-river", kestrel["s1"], revision=2)
    expected = f"{NATION_NAME} requires 2 steward reviews of this revision; 1 recorded."
    assert evaluate(app, "quorum_met", request_id).message == expected

    # None of these count: an older revision, a declared conflict, a steward of
    # another Nation, and someone who is no longer a steward.
    add_review(request_id, "kestrel-river", kestrel["s2"], revision=1)
    add_review(request_id, "kestrel-river", kestrel["s3"], revision=2, conflict=True)
    add_review(request_id, "kestrel-river", kestrel["heron"], revision=2)
    add_review(request_id, "blue-heron", kestrel["s2"], revision=2)
    assert evaluate(app, "quorum_met", request_id).message == expected

    add_review(
        request_id,
        "kestrel-river",
        kestrel["s2"],
        revision=2,
        recommendation=Recommendation.CHANGES,
    )
    assert evaluate(app, "quorum_met", request_id) is None

    revoke(kestrel["s2"], "steward", "kestrel-river")
    assert evaluate(app, "quorum_met", request_id).message == expected


def test_min_approvals_counts_only_recommendations_to_approve(
    app, kestrel, make_request, add_review
):
    request_id = make_request()
    add_review(request_id, "kestrel-river", kestrel["s1"])
    add_review(request_id, "kestrel-river", kestrel["s2"], recommendation=Recommendation.REFUSE)
    result = evaluate(app, "min_approvals_met", request_id)
    assert result.rule == "min_approvals_met"
    assert result.message == (
        f"{NATION_NAME} requires 2 steward recommendations to approve this revision; 1 recorded."
    )
    add_review(request_id, "kestrel-river", kestrel["s3"])
    assert evaluate(app, "min_approvals_met", request_id) is None
