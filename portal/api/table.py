"""Every operation of the API, in one table: the blueprint is registered from it and
the OpenAPI document is generated from it (README.md, "API")."""

from flask import Blueprint, current_app, request

from portal.api import (
    PREFIX,
    actions,
    deliveries,
    nation_rules,
    openapi,
    problems,
    proposals,
    rules,
    views,
)
from portal.api import bodies as b
from portal.api import schemas as s
from portal.api.endpoint import Endpoint
from portal.lifecycle.outputs import store as output_store
from portal.workflow import commands as c
from portal.workflow.table import TRANSITIONS

REQUEST = "/requests/{ref}"
NATION_RULES = "/nations/{slug}/rules"
ACTION_ERRORS = (403, 409)
THROTTLED = (c.Sign, c.AttestDestruction)


def serve_openapi() -> dict:
    return openapi.document(ENDPOINTS)


ENDPOINTS: list[Endpoint] = [
    Endpoint("GET", "/openapi.json", serve_openapi, "This document", None, public=True),
    Endpoint("GET", "/me", views.me, "Who the token belongs to, and their roles", s.MeOut),
    Endpoint(
        "GET", "/nations", views.list_nations, "Nations and their governance profiles",
        s.NationList, query=b.PageQuery,
    ),
    Endpoint(
        "PATCH", "/nations/{slug}/profile", views.update_nation_profile,
        "Change your Nation's governance profile settings (its representatives)",
        s.NationOut, body=b.ProfileIn, errors=(403,),
        description="Only the settings sent change, each checked (422 names it): quorum, "
        "approvals, residency, maximum term, outputs, small cells, and the days a review, "
        "a decision or a signature waits before a reminder (null: none). A reminder is a "
        "message only, never a change of state.",
    ),
    Endpoint(
        "GET", NATION_RULES, nation_rules.get_nation_rules,
        "A Nation's own conditions on review and approval, and those every Nation's need",
        s.NationRulesOut,
    ),
    Endpoint(
        "PUT", NATION_RULES, nation_rules.put_nation_rules,
        "Set your Nation's own conditions on review and approval (its representatives)",
        s.NationRulesOut, body=b.NationRulesIn, errors=(403,),
        description="Each list replaces the Nation's conditions on that action; a new rules "
        "version is recorded. Refusal takes no condition (invariant 2). 422 names each "
        "unknown condition or parameter, e.g. approve.team_at_most.count.",
    ),
    Endpoint(
        "POST", f"{NATION_RULES}/preview", nation_rules.preview_nation_rules,
        "What setting these rules would block or unblock among the Nation's requests in "
        "flight (its representatives)",
        s.PreviewOut, body=b.NationRulesIn, errors=(403,),
    ),
    Endpoint(
        "PUT", "/nations/{slug}/labels", views.put_nation_labels,
        "Set your Nation's TK and BC Labels and Notices on a dataset holding its data "
        "(its representatives)",
        s.DatasetOut, body=b.LabelsIn, errors=(403,),
        description="The labels sent replace the Nation's on that dataset: each attached, "
        "changed or removed is audited (dataset.labelled, dataset.label_removed). Each "
        "becomes a clause, in the community's wording, of the agreements issued after. "
        "422 names the field, e.g. labels.0.hub_url (https only) or dataset.",
    ),
    Endpoint(
        "GET", "/datasets", views.list_datasets, "Datasets and whose data they hold",
        s.DatasetList, query=b.PageQuery,
    ),
    Endpoint(
        "GET", "/requests", views.list_requests,
        "The requests you may see, most recently changed first", s.RequestList,
        query=b.RequestListQuery,
        description="Your own; those touching your Nations' data once submitted; all "
        "submitted ones for coordinators.",
    ),
    Endpoint(
        "POST", "/requests", views.create_request, "Create a draft (researchers)",
        s.RequestOut, status=201, body=b.DraftIn, errors=(403,),
    ),
    Endpoint("GET", REQUEST, views.get_request, "A request as you may see it", s.RequestOut),
    Endpoint(
        "PATCH", REQUEST, views.update_request,
        "Edit the fields sent (its researcher; draft or changes_requested)", s.RequestOut,
        body=b.DraftIn, errors=(403, 409),
    ),
    Endpoint(
        "GET", f"{REQUEST}/events", views.list_events, "Its audit events, oldest first",
        s.EventList, query=b.PageQuery,
    ),
    Endpoint(
        "GET", f"{REQUEST}/conversations", views.list_conversations,
        "Its conversations you may read, with their messages", s.ConversationList,
    ),
]  # fmt: skip

# One operation per workflow command, made from the transition table.
ACTION_SUMMARIES = {
    c.Submit: ("Submit (its researcher): every field is required", ""),
    c.Withdraw: ("Withdraw (its researcher)", ""),
    c.Screen: ("Screen (coordinators): accept for review, or return to the researcher", ""),
    c.Review: ("Review for your Nation (its designated stewards)", ""),
    c.Decide: (
        "Approve with conditions, or refuse, for your Nation (its representative)",
        "Approval needs the Nation's quorum and its other governance rules: 409 names the "
        "rules that block it in blocked_by. Refusal stays open after approval, until "
        "access begins.",
    ),
    c.Sign: (
        "Sign the agreement (each party; re-enter your password)",
        "Someone who represents several approving Nations names the one signed for.",
    ),
    c.Revoke: ("Revoke for your Nation, at once (its representative)", ""),
    c.Message: (
        "Write in one of the request's conversations (whoever may read it)",
        "It changes nothing of the request's state. A thread you may not read answers 403.",
    ),
    c.ReportObligation: (
        "Report on an obligation of your active request (its researcher)",
        "404 for an obligation not of this request; 409 once reported (until assessed), "
        "and once met, waived or superseded by a later edition's. "
        "A file may come with the text, in base64 (content_base64), checked as an output's "
        "(422 naming file); the obligation's report_file then links to it.",
    ),
    c.AssessObligation: (
        "Assess an obligation owed to your Nation: met, not_met, or waived (its stewards "
        "and representatives; waived: its representatives)",
        "It changes no decision and not the request's state. 409 for an obligation met, "
        "waived or superseded by a later edition's. One a later edition replaced "
        "(superseded_by) does not open again when met, and a one-off reported before it fell "
        "due and found not_met is left superseded.",
    ),
    c.Close: (
        "End your access early (its researcher; active)",
        "Access ends at once; a destruction attestation is then due. The request stays "
        "active (its end says access ended) until every Nation acknowledged it: closed.",
    ),
    c.AttestDestruction: (
        "Attest what was destroyed or returned, signed (its researcher; re-enter your password)",
        "Due after any end (revoked, expired, closed early). 422 names each missing or "
        "wrong field; 409 while the last attestation waits for the Nations.",
    ),
    c.AcknowledgeDestruction: (
        "Acknowledge the destruction attestation, or ask for more, for your Nation",
        "When every Nation acknowledged, the request is closed. The comment is the "
        "researcher's and your Nation's alone.",
    ),
    c.SubmitOutput: (
        "Submit an output for review before publication (its researcher; active request)",
        "The file is sent in base64 (content_base64). Its type is read from its content: a "
        "PDF, a CSV table (the same number of columns on every row) or plain UTF-8 text; a "
        "name that disagrees (a .csv name on a PDF) is refused, as is a file over "
        "OUTPUT_MAX_BYTES (422 naming file; 413 for a body too large to read). Each Nation "
        "whose profile or approval asks for output review reviews it; with none, it is "
        "cleared at once. The answer's outputs list it, with each Nation's small-cell "
        "findings for a CSV.",
    ),
    c.ReviewOutput: (
        "Review an output for your Nation (its designated stewards)",
        "A declared conflict of interest does not count toward the Nation's quorum.",
    ),
    c.DecideOutput: (
        "Approve or refuse an output's publication for your Nation (its representative)",
        "Approval needs the Nation's quorum of steward reviews of the output (409, "
        "blocked_by output_quorum_met). The output is cleared once every asking Nation "
        "approved; one refusal refuses it, and the researcher reads the reasons.",
    ),
    c.Renew: (
        "Ask to renew your active request (its researcher; before the term ends)",
        "Opens a renewal: the request stays active under the agreement in force while its "
        "amendment (the request's amendment field) is a draft you edit with PATCH, then "
        "submit, and the coordinator screens, every Nation concerned reviews and decides, "
        "and every party signs a new edition with a fresh term. 409 while one is open "
        "(amendment_in_progress) or once the term ended. Nothing renews by itself.",
    ),
    c.Amend: (
        "Ask to amend your active request: team, methods, datasets... (its researcher)",
        "Like renew, but the new edition keeps the term end of the one in force. A Nation "
        "whose data is added joins; one whose data is dropped leaves. A refusal or your "
        "withdrawal ends the amendment only: access goes on under the edition in force.",
    ),
}
ENDPOINTS += [
    Endpoint(
        "POST", f"{REQUEST}/actions/{kind.name}", actions.action(kind),
        ACTION_SUMMARIES[kind][0], s.RequestOut, body=actions.BODIES[kind],
        errors=ACTION_ERRORS + ((429,) if kind in THROTTLED else ()),  # the throttled password
        description=ACTION_SUMMARIES[kind][1],
    )
    for kind, transition in TRANSITIONS.items()
    if not kind.system and kind is not c.Edit  # editing is PATCH on the request
]  # fmt: skip

ENDPOINTS += [
    Endpoint(
        "GET", f"{REQUEST}/agreement.pdf", actions.agreement_pdf,
        "The current data-use agreement (the parties, the request's Nations, coordinators)",
        None, media_type="application/pdf", query=b.EditionQuery,
        description="404 until every Nation approved and the agreement exists. ?edition=N "
        "serves an earlier (superseded) or pending edition to those who may read it: its "
        "parties, and before it takes effect the current revision's Nations.",
    ),
    Endpoint(
        "GET", f"{REQUEST}/agreement/terms", actions.agreement_terms,
        "The agreement's terms for machines: a W3C ODRL 2.2 Agreement in JSON-LD "
        "(whoever reads the agreement)",
        None, media_type="application/ld+json", query=b.EditionQuery,
        description="The file embedded in the signed PDF (so every signature covers it): "
        "the Nations (assigners), the researcher (assignee), a permission to use each "
        "dataset within the term and storage location, and each Nation's conditions as "
        "duties with their codes (a GA4GH DUO term where one fits, else a portal term). "
        "404 until the agreement exists, or for one issued before its terms were embedded. "
        "?edition=N as for the PDF. Each download is an audit event.",
    ),
    Endpoint(
        "GET", f"{REQUEST}/attestation.pdf", actions.attestation_pdf,
        "The latest signed destruction attestation (whoever reads the agreement)",
        None, media_type="application/pdf",
        description="404 until the researcher attested the destruction of the data.",
    ),
    Endpoint(
        "GET", f"{REQUEST}/outputs/{{output_id}}/file", actions.output_file,
        "An output's file (its researcher's side and the people of the request's Nations)",
        None, media_type="application/octet-stream",
        description="The bytes as submitted (their media type, read from the content, is "
        "in the request's outputs); 404 for whoever may not read it. Each download is an "
        "audit event.",
    ),
    Endpoint(
        "GET", f"{REQUEST}/obligations/{{obligation_id}}/file", actions.obligation_file,
        "The file sent with an obligation's report (its researcher and the Nation owed it)",
        None, media_type="application/octet-stream",
        description="404 when the report came without a file, or for whoever may not read "
        "the report (coordinators, other Nations).",
    ),
]  # fmt: skip


ENDPOINTS += [
    Endpoint(
        "GET", "/rules", rules.get_rules,
        "The governance rules in force, every line in words (every member)", rules.RulesOut,
        errors=(403,),
    ),
    Endpoint(
        "GET", "/rules/versions", rules.list_rules_versions,
        "Every version of the rules, newest first, with what made it", rules.RulesVersionList,
        errors=(403,),
    ),
    Endpoint(
        "GET", "/rules/versions/{number}", rules.get_rules_version,
        "One version of the rules in full, and what changed from the one before",
        rules.RulesVersionOut, errors=(403,),
    ),
]  # fmt: skip

# Portal-wide rule changes, which the member Nations govern (portal/workflow/proposals.py).
PROPOSALS = "/rules/proposals"
PROPOSAL = PROPOSALS + "/{proposal_id}"
ENDPOINTS += [
    Endpoint(
        "GET", PROPOSALS, proposals.list_proposals,
        "Proposed changes to the portal-wide rules, open ones first", proposals.ProposalList,
    ),
    Endpoint(
        "POST", PROPOSALS, proposals.create_proposal,
        "Propose a change (administrators; a representative for its Nation)",
        proposals.ProposalOut, status=201, body=proposals.ProposalIn, errors=(403, 409),
        description="The change set must fit the rules in force, keep the sovereignty "
        "invariants and leave each Nation's own rules alone (422 names what is wrong).",
    ),
    Endpoint(
        "GET", PROPOSAL, proposals.get_proposal,
        "A proposal: the change in words, each member Nation's answer", proposals.ProposalOut,
    ),
    Endpoint(
        "POST", f"{PROPOSAL}/votes", proposals.vote_on_proposal,
        "Answer for your Nation: approve or object (its representatives; once)",
        proposals.ProposalOut, body=proposals.VoteIn, errors=(403, 409),
        description="When the approval rule is met the change is in force at once; 409 "
        "when it no longer fits the rules in force (withdraw it and propose it again).",
    ),
    Endpoint(
        "POST", f"{PROPOSAL}/withdraw", proposals.withdraw_proposal,
        "Withdraw a proposal (its proposer, while open)", proposals.ProposalOut, errors=(403, 409),
    ),
]  # fmt: skip

# The signed notices to data custodians (portal/workflow/deliveries.py).
DELIVERY = "/deliveries/{delivery_id}"
ENDPOINTS += [
    Endpoint(
        "GET", "/deliveries", deliveries.list_deliveries,
        "Notices to data custodians, newest first (coordinators: all; a Nation's people: "
        "those about its datasets)", deliveries.DeliveryList, query=deliveries.DeliveryQuery,
        errors=(403,),
    ),
    Endpoint(
        "GET", DELIVERY, deliveries.get_delivery, "One notice and every attempt to deliver it",
        deliveries.DeliveryOut,
    ),
    Endpoint(
        "POST", f"{DELIVERY}/retry", deliveries.retry_delivery,
        "Send a notice again: due at once, with a new day of attempts", deliveries.DeliveryOut,
        errors=(403, 409),
        description="409 once it was delivered. The job sends it (portal notices deliver).",
    ),
]  # fmt: skip


def _limit_body() -> None:
    # The pages accept uploads up to MAX_CONTENT_LENGTH; the API's bodies are small, but
    # for an output's or a report's, which carry a file in base64 (4 characters per 3 bytes).
    limit = current_app.config["API_MAX_CONTENT_LENGTH"]
    with_file = (c.SubmitOutput.name, c.ReportObligation.name)
    if request.endpoint in {f"{bp.name}.{name}" for name in with_file}:
        limit += (
            current_app.config.get("OUTPUT_MAX_BYTES", output_store.DEFAULT_MAX_BYTES) * 4 // 3 + 4
        )
    request.max_content_length = limit


def _no_store(response):
    response.headers.setdefault("Cache-Control", "no-store")
    return response


bp = Blueprint("api", __name__, url_prefix=PREFIX)
bp.before_request(_limit_body)
bp.after_request(_no_store)
problems.init_blueprint(bp)
for _endpoint in ENDPOINTS:
    bp.add_url_rule(_endpoint.rule, _endpoint.name, _endpoint.view(), methods=[_endpoint.method])
