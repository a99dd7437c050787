"""The rules in words: the page of the rules in force, the history, each version with
what changed, the request page's "decided under rules version N", the API and the
command line."""

import html
import re

import pytest

from portal.db import session_scope
from portal.paths import resource_dir
from portal.policy.files import read_directory
from portal.policy.models import Proposal, ProposalVote, RulesOrigin, Vote
from portal.policy.versions import install
from portal.registry.service import get_nation
from portal.transparency.rulewords import explain_line

from apis import Api
from flows import PEOPLE
from helpers import sign_in

CEDAR, HERON = "Red Cedar Nation (fictional)", "Blue Heron Métis (fictional)"
NAMES = {"red-cedar": CEDAR, "blue-heron": HERON}
HERON_RULE = ["p2", "blue-heron", "approve", "ethics_approval_given"]
CLAUSE_TEXT = "The data is used only for the purpose the Nations approved (sentinel P)."


def page(app, who: str, path: str):
    client = app.test_client()
    assert sign_in(client, PEOPLE[who][0]).status_code == 302
    return client.get(path)


def text(response) -> str:
    """What the page says, tags left out (links within a sentence too), so a sentence
    reads whole."""
    inline = re.sub(r"</?(a|time|strong)\b[^>]*>", "", response.text)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", inline)).split())


def heron_sets_a_rule(flow) -> int:
    with flow.app.app_context(), session_scope() as session:
        return install(
            session,
            {"lines": {"add": [HERON_RULE]}},
            origin=RulesOrigin.NATION,
            summary="Approval needs the ethics approval named",
            actor=flow.user(session, "heron_rep"),
            nation=get_nation(session, "blue-heron"),
        ).number


def members_change_a_clause(flow) -> tuple[int, int]:
    """A proposal of Red Cedar's representative that both member Nations approved."""
    with flow.app.app_context(), session_scope() as session:
        cedar, heron = get_nation(session, "red-cedar"), get_nation(session, "blue-heron")
        proposer = flow.user(session, "cedar_rep")
        changes = {"clauses": {"purpose": {"title": "Purpose.", "text": CLAUSE_TEXT}}}
        proposal = Proposal(
            title="Say the purpose plainly",
            proposer_id=proposer.id,
            nation_id=cedar.id,
            base_version=2,
            changes=changes,
        )
        session.add(proposal)
        session.flush()
        for nation, who in ((cedar, "cedar_rep"), (heron, "heron_rep")):
            voter = flow.user(session, who)
            session.add(
                ProposalVote(
                    proposal_id=proposal.id,
                    nation_id=nation.id,
                    voter_id=voter.id,
                    vote=Vote.APPROVE,
                )
            )
        version = install(
            session,
            changes,
            origin=RulesOrigin.PROPOSAL,
            summary=proposal.title,
            actor=proposer,
            proposal=proposal,
        )
        return version.number, proposal.id


# --- the rules in force ----------------------------------------------------------------


def test_the_rules_page_explains_every_line_of_policies(flow):
    said = text(page(flow.app, "researcher", "/rules"))
    lines, problems = read_directory(resource_dir("policies"))
    assert problems == [] and lines
    for line in lines:
        assert explain_line((line.ptype, *line.values), NAMES) in said, line.text
    assert "Version 1, in force since" in said
    assert "Loaded at installation, by an operator" in said
    for role in ("Researcher", "Coordinator", "Steward", "Representative", "Admin"):
        assert "What each role may do" in said and f" {role} " in said
    assert "No Nation has set rules of its own beyond these." in said
    # The catalogue of standard conditions and the agreement's clauses, in words.
    assert "No re-identification." in said and "Community review of outputs." in said


def test_a_nations_own_rules_stand_under_its_name(flow):
    heron_sets_a_rule(flow)
    response = page(flow.app, "coordinator", "/rules")
    said = text(response)
    assert f"Each Nation's own rules {HERON} {explain_line(HERON_RULE, NAMES)}" in said
    assert "Version 2, in force since" in said
    assert f"{HERON}'s own rules, saved by rep.heron" in said
    assert "@" not in said  # names, never e-mail addresses


def test_the_rules_page_says_each_line_in_french(flow):
    """A grant and a condition read as French sentences, with no English frame left."""
    heron_sets_a_rule(flow)
    client = flow.app.test_client()
    assert sign_in(client, PEOPLE["researcher"][0]).status_code == 302
    said = text(client.get("/rules", headers={"Accept-Language": "fr"}))
    assert "Un intendant peut faire l’examen pour sa Nation." in said
    assert "Un représentant peut gérer le profil de gouvernance propre à sa Nation." in said
    assert "Une chercheuse ou un chercheur peut soumettre des demandes." in said
    assert (
        "Dans toutes les Nations, « faire l’examen » exige : "
        "La demande a franchi l’examen préalable du coordonnateur." in said
    )
    assert (
        f"Pour {HERON}, « approuver » exige : "
        "La demande indique son approbation éthique (le comité et la référence)." in said
    )
    # The lines in words (the clauses' own texts are the rules' data, as they were written).
    lines = said[said.index("Ce que chaque rôle peut faire") : said.index("Conditions types")]
    for english in (" may ", "in every Nation", "In every Nation", " needs: ", "their Nation"):
        assert english not in lines, english
    # The catalogue's and the clauses' seed words in French; the actions named in French.
    assert "Only the named team uses the data" not in said
    assert "No re-identification." not in said and "Aucune réidentification." in said
    assert "Faire l’examen" in said and "Review\n" not in said


@pytest.mark.parametrize("who", sorted(PEOPLE))
def test_every_role_reads_the_rules_and_finds_them_in_the_menu(flow, who):
    client = flow.app.test_client()
    assert sign_in(client, PEOPLE[who][0]).status_code == 302
    for path in ("/rules", "/rules/history", "/rules/versions/1"):
        assert client.get(path).status_code == 200, path
    assert 'href="/rules"' in client.get("/").text


def test_signed_out_visitors_are_sent_to_sign_in_and_no_role_reads_nothing(flow, make_user):
    for path in ("/rules", "/rules/history", "/rules/versions/1"):
        response = flow.app.test_client().get(path)
        assert response.status_code == 302 and "/sign-in" in response.headers["Location"]
    make_user("nobody@example.org")
    client = flow.app.test_client()
    assert sign_in(client, "nobody@example.org").status_code == 302
    assert client.get("/rules").status_code == 403
    assert client.get("/rules/history").status_code == 403
    assert 'href="/rules"' not in client.get("/").text


# --- history and versions --------------------------------------------------------------


def test_the_history_lists_every_version_with_who_made_it(flow):
    heron_sets_a_rule(flow)
    number, proposal_id = members_change_a_clause(flow)
    assert number == 3
    response = page(flow.app, "cedar_steward1", "/rules/history")
    said = text(response)
    rows = re.findall(r"Version (\d+)", said)
    assert rows == ["3", "2", "1"]
    assert "Loaded at installation, by an operator" in said
    assert f"{HERON}'s own rules, saved by rep.heron" in said
    assert (
        "A proposal approved by member Nations: Say the purpose plainly, proposed by rep.cedar "
        f"for {CEDAR}; approved by {HERON}, {CEDAR}"
    ) in said
    assert f'href="/rules/proposals/{proposal_id}"' in response.text
    assert "@" not in said


def test_a_version_shows_itself_its_change_and_the_difference_from_today(flow):
    heron_sets_a_rule(flow)
    members_change_a_clause(flow)
    first = text(page(flow.app, "researcher", "/rules/versions/1"))
    assert "This is the first version recorded." in first
    assert "Version 3 is in force now." in first and "What differs" not in first
    second = text(page(flow.app, "researcher", "/rules/versions/2"))
    assert f"Rule added {explain_line(HERON_RULE, NAMES)}" in second
    assert CLAUSE_TEXT not in second  # version 2 in full still has the old clause
    compared = text(page(flow.app, "researcher", "/rules/versions/2?compare=current"))
    assert "What differs in the rules in force today (version 3)" in compared
    assert "Agreement clause changed Purpose. " in compared and CLAUSE_TEXT in compared
    assert explain_line(HERON_RULE, NAMES) not in compared.split("What changed from")[0]
    current = text(page(flow.app, "researcher", "/rules/versions/3?compare=current"))
    assert "This is the version in force." in current and "What differs" not in current


@pytest.mark.parametrize("number", ["0", "2", "99", "99999999999999999999"])
def test_unknown_versions_are_not_found(flow, number):
    assert page(flow.app, "researcher", f"/rules/versions/{number}").status_code == 404
    assert Api(flow.app).get("researcher", f"/rules/versions/{number}").status_code == 404


# --- the request page and the API ------------------------------------------------------


def test_the_request_page_says_which_rules_each_decision_was_made_under(flow):
    ref = flow.reviewed()
    flow.do("cedar_rep", "decide", ref, "red-cedar")  # version 1
    heron_sets_a_rule(flow)
    flow.do("heron_rep", "decide", ref, "blue-heron")  # version 2, and the agreement
    said = text(page(flow.app, "researcher", f"/requests/{ref}"))
    assert "Decided under rules version 1. The rules changed since" in said
    assert "Decided under rules version 2." in said
    assert "Issued under rules version 2." in said
    assert "Decided under rules version 2. The rules changed" not in said
    raw = page(flow.app, "researcher", f"/requests/{ref}").text
    assert 'href="/rules/versions/1?compare=current#compare-current-h"' in raw
    # Another Nation, and the coordinators, read each track's status, not its decision.
    heron = text(page(flow.app, "heron_rep", f"/requests/{ref}"))
    assert "rules version 1" not in heron and "Decided under rules version 2." in heron
    coordinator = text(page(flow.app, "coordinator", f"/requests/{ref}"))
    assert "Decided under" not in coordinator

    api = Api(flow.app)
    body = api.get("researcher", f"/requests/{ref}").get_json()
    versions = {t["nation"]: t["decision"]["rules_version"] for t in body["tracks"]}
    assert versions == {"red-cedar": 1, "blue-heron": 2}
    assert body["agreement"]["rules_version"] == 2
    tracks = api.get("coordinator", f"/requests/{ref}").get_json()["tracks"]
    assert [t["decision"] for t in tracks] == [None, None]


def test_the_api_gives_the_rules_in_force_and_their_versions(flow):
    heron_sets_a_rule(flow)
    api = Api(flow.app)
    rules = api.get("cedar_steward1", "/rules").get_json()
    assert rules["number"] == 2
    assert rules["origin"]["kind"] == "nation" and rules["origin"]["made_by"] == "rep.heron"
    assert {"line": HERON_RULE, "words": explain_line(HERON_RULE, NAMES)} in rules["lines"]
    assert len(rules["lines"]) == len(read_directory(resource_dir("policies"))[0]) + 1
    listed = api.get("admin", "/rules/versions").get_json()["items"]
    assert [v["number"] for v in listed] == [2, 1]
    second = api.get("researcher", "/rules/versions/2").get_json()
    assert second["changes"] == [
        {
            "part": "line",
            "change": "added",
            "what": explain_line(HERON_RULE, NAMES),
            "old": None,
            "new": None,
        }
    ]
    assert api.get("researcher", "/rules/versions/1").get_json()["changes"] is None
    assert api.get(None, "/rules").status_code == 401


# --- the command line ------------------------------------------------------------------


def test_policy_show_and_history(flow, runner):
    heron_sets_a_rule(flow)
    shown = runner.invoke(args=["policy", "show"])
    assert shown.exit_code == 0, shown.output
    assert shown.output.startswith("Rules version 2, in force since ")
    assert f"{HERON}'s own rules, saved by rep.heron." in shown.output
    assert f"  - {explain_line(HERON_RULE, NAMES)}" in shown.output
    assert "  - An admin may invite people to the portal." in shown.output
    listed = runner.invoke(args=["policy", "history"])
    assert listed.exit_code == 0, listed.output
    lines = listed.output.splitlines()
    assert [line.split("\t")[0] for line in lines] == ["2", "1"]
    assert lines[1].endswith("Loaded at installation, by an operator — Loaded from policies/")
