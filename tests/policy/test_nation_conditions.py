"""The conditions a Nation may add to its review and approval, each at its boundaries,
and the parameters they declare (portal/policy/parameters.py)."""

import pytest

from portal.db import session_scope
from portal.policy import parameters
from portal.policy.conditions import CONDITIONS, SIGNATURES, Facts
from portal.registry import service as registry
from portal.registry.models import Framework, Nation
from portal.registry.service import get_nation
from portal.requests.models import AccessRequest
from portal.reviews.models import Recommendation

NATION_NAME = "Kestrel River First Nation (fictional)"


def kestrel() -> Nation:
    return Nation(slug="kestrel-river", name=NATION_NAME, framework=Framework.OCAP)


def check(name: str, params: dict | None = None, **fields):
    request = AccessRequest(ref="R-TEST-0001", researcher_id=1, **fields)
    return CONDITIONS[name](Facts(session=None, nation=kestrel(), request=request), params)


def words(count: int) -> str:
    return " ".join(["word"] * count)


@pytest.mark.parametrize(
    ("name", "field"),
    [
        ("community_benefit_described", "community_benefit"),
        ("harm_assessment_described", "harm_assessment"),
    ],
)
@pytest.mark.parametrize(("written", "holds"), [(9, False), (10, True), (11, True), (0, False)])
def test_described_in_at_least_min_words(name, field, written, holds):
    result = check(name, {"min_words": "10"}, **{field: words(written)})
    assert (result is None) is holds
    if not holds:
        assert result.rule == name
        assert NATION_NAME in result.message
        assert "at least 10 words" in result.message and f"gives {written}." in result.message


def test_described_counts_words_not_characters_and_defaults_to_50():
    assert check("community_benefit_described", None, community_benefit=words(50)) is None
    result = check("community_benefit_described", None, community_benefit=words(49))
    assert "at least 50 words; this request gives 49." in result.message
    long_word = "a" * 400
    assert check("harm_assessment_described", {"min_words": 2}, harm_assessment=long_word)


@pytest.mark.parametrize(("members", "holds"), [(2, True), (3, True), (4, False)])
def test_team_at_most(members, holds):
    team = [{"name": f"P{i}", "email": f"p{i}@example.org", "role": "RA"} for i in range(members)]
    result = check("team_at_most", {"count": "3"}, team=team)
    assert (result is None) is holds
    if not holds:
        assert result.rule == "team_at_most"
        assert result.message == (
            f"{NATION_NAME} allows at most 3 team members on a request; this request names 4."
        )


def test_team_at_most_one_says_member():
    team = [{"name": "A", "email": "a@example.org"}, {"name": "B", "email": "b@example.org"}]
    assert "at most 1 team member on" in check("team_at_most", {"count": 1}, team=team).message


@pytest.fixture
def kestrel_data(app, make_user):
    with app.app_context(), session_scope() as session:
        registry.create_nation(session, "kestrel-river", NATION_NAME, "OCAP")
        registry.create_nation(session, "blue-heron", "Blue Heron Métis (fictional)", "OCAS")
        for slug, holders in [
            ("k-one", ["kestrel-river"]),
            ("k-two", ["kestrel-river"]),
            ("k-shared", ["kestrel-river", "blue-heron"]),
            ("h-only", ["blue-heron"]),
        ]:
            registry.create_dataset(session, slug, slug, "Data (fictional)", holders)
    return {
        "s1": make_user("s1@example.org", ("steward", "kestrel-river")),
        "s2": make_user("s2@example.org", ("steward", "kestrel-river")),
    }


def evaluate(app, name: str, request_id: int, params: dict | None = None):
    with app.app_context(), session_scope() as session:
        facts = Facts(
            session, get_nation(session, "kestrel-river"), session.get(AccessRequest, request_id)
        )
        return CONDITIONS[name](facts, params)


@pytest.mark.parametrize(
    ("datasets", "holds"),
    [
        (("k-one", "h-only"), True),  # another Nation's datasets do not count
        (("k-one", "k-shared", "h-only"), True),  # 2: at the limit
        (("k-one", "k-two", "k-shared"), False),  # 3: one over
    ],
)
def test_datasets_at_most_counts_the_nations_own(app, kestrel_data, make_request, datasets, holds):
    request_id = make_request(datasets)
    result = evaluate(app, "datasets_at_most", request_id, {"count": "2"})
    assert (result is None) is holds
    if not holds:
        assert result.message == (
            f"{NATION_NAME} allows at most 2 of its datasets in one request; "
            "this request asks for 3."
        )


def test_recommendations_unanimous(app, kestrel_data, make_request, add_review):
    request_id = make_request(["k-one"])
    assert evaluate(app, "recommendations_unanimous", request_id) is None  # none yet
    add_review(request_id, "kestrel-river", kestrel_data["s1"])
    assert evaluate(app, "recommendations_unanimous", request_id) is None
    add_review(
        request_id, "kestrel-river", kestrel_data["s2"], recommendation=Recommendation.CHANGES
    )
    result = evaluate(app, "recommendations_unanimous", request_id)
    assert result.rule == "recommendations_unanimous"
    assert result.message == (
        f"{NATION_NAME} requires every steward review of this revision to recommend "
        "approval; 1 counted steward review recommends otherwise."
    )


def test_a_dissent_on_an_older_revision_does_not_count(app, kestrel_data, make_request, add_review):
    request_id = make_request(["k-one"], revision=2)
    add_review(request_id, "kestrel-river", kestrel_data["s1"], revision=2)
    add_review(
        request_id,
        "kestrel-river",
        kestrel_data["s2"],
        revision=1,
        recommendation=Recommendation.REFUSE,
    )
    assert evaluate(app, "recommendations_unanimous", request_id) is None


def test_every_condition_has_a_sentence_and_the_parameters_it_uses():
    for name, signature in SIGNATURES.items():
        assert signature.words().strip(), name
        for parameter in signature.parameters:
            assert "{" + parameter.name + "}" in signature.sentence, name
    assert SIGNATURES["team_at_most"].words({"count": "4"}) == (
        "The request names at most 4 team members who will handle the data."
    )
    assert "at least 50 words" in SIGNATURES["community_benefit_described"].words()


@pytest.mark.parametrize(
    ("given", "problem"),
    [
        ({"count": "1"}, None),  # the minimum
        ({"count": "0"}, "between 1 and"),
        ({"count": str(parameters.LARGEST)}, None),
        ({"count": str(parameters.LARGEST + 1)}, "between 1 and"),
        ({"count": "three"}, "whole number"),
        ({"count": "2.5"}, "whole number"),
        ({"count": True}, "whole number"),
        ({"count": "²"}, "whole number"),  # a digit to str.isdigit(), not to int()
        ({"count": "9" * 5000}, "between 1 and"),  # longer than int() reads
        ({"count": " 3 "}, None),
        ({"size": "3"}, "not a parameter"),
    ],
)
def test_parameters_are_checked_against_the_declaration(given, problem):
    found = parameters.problems(SIGNATURES["team_at_most"].parameters, given)
    if problem is None:
        assert found == {}
    else:
        assert problem in next(iter(found.values()))


def test_parameters_round_trip_as_a_line_writes_them():
    assert parameters.parse("min_words=50; count=2") == {"min_words": "50", "count": "2"}
    assert parameters.unparse({"min_words": 50, "count": 2}) == "count=2;min_words=50"
    assert parameters.parse("") == {}
    assert parameters.parse("count") == {"count": ""}


def test_a_line_with_parameters_reads_in_words():
    from portal.transparency.rulewords import condition_words, explain_line

    names = {"kestrel-river": NATION_NAME}
    assert explain_line(["p2", "kestrel-river", "approve", "team_at_most", "count=4"], names) == (
        f"In {NATION_NAME}, approve needs: "
        "The request names at most 4 team members who will handle the data."
    )
    assert "at most 5 team members" in explain_line(
        ["p2", "kestrel-river", "approve", "team_at_most"], names
    )
    assert condition_words("quorum_met").startswith("The Nation's review quorum")
    assert condition_words("full_moon") == "the rule 'full_moon' (not known to this portal)"
    assert "at least 80 words" in condition_words("harm_assessment_described", {"min_words": 80})


def test_a_condition_and_its_refusal_speak_french(app):
    """The rule in words and what it says when it fails, in the language spoken (the API
    and the command line, outside a French page, keep the English above)."""
    from flask_babel import force_locale

    from portal.transparency.rulewords import explain_line

    with app.test_request_context(), force_locale("fr_CA"):
        assert explain_line(["p2", "*", "approve", "team_at_most", "count=2"], {}) == (
            "Dans toutes les Nations, « approuver » exige : "
            "La demande nomme au plus 2 membres de l’équipe qui manipuleront les données."
        )
        refusal = check("team_at_most", {"count": "1"}, team=["a", "b"])
        assert refusal.message == (
            f"{NATION_NAME} permet au plus 1 membre de l’équipe par demande; "
            "cette demande en nomme 2."
        )
    assert check("team_at_most", {"count": "1"}, team=["a", "b"]).message.startswith(
        f"{NATION_NAME} allows at most 1 team member"
    )
