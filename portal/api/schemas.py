"""What the API answers: its responses and problem details, as pydantic models (the
single source of their part of the OpenAPI document, see openapi.py)."""

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from portal.auth.models import Role
from portal.registry.models import Framework
from portal.requests.models import AmendmentKind, AmendmentPhase, RequestStatus
from portal.reviews.models import Outcome, Recommendation, TrackStatus


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# --- errors ---------------------------------------------------------------------------


class BlockingRuleOut(Out):
    rule: str = Field(description="The rule's name, e.g. state, quorum_met, role.")
    message: str


class FieldErrorOut(Out):
    field: str = Field(description="The offending field, dotted for nested ones: team.0.email.")
    message: str


class Problem(Out):
    """An RFC 9457 problem detail (application/problem+json)."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    blocked_by: list[BlockingRuleOut] | None = Field(
        default=None,
        description="On 409, the rules that block the transition; on 403, the rule that "
        "says it is not for you (role, account, not_own_request).",
    )
    errors: list[FieldErrorOut] | None = Field(
        default=None, description="Present on 422: each offending field and what is wrong."
    )


# --- responses ------------------------------------------------------------------------


class RoleOut(Out):
    role: Role
    nation: str | None = Field(description="The Nation's slug, for stewards and representatives.")


class MeOut(Out):
    email: str
    name: str
    institution: str
    roles: list[RoleOut]


class NationOut(Out):
    slug: str
    name: str
    name_fr: str = Field(description="Its name in French (empty: none given).")
    name_own: str = Field(description="Its name in the Nation's own language and script.")
    name_own_lang: str = Field(description="That name's BCP 47 language tag, e.g. cr-Cans.")
    framework: Framework
    review_quorum: int
    min_approvals: int
    residency: list[str]
    max_term_days: int | None
    output_review_required: bool
    small_cell_threshold: int
    remind_review_days: int | None = Field(
        description="Days a review may wait before its stewards are reminded (none: never)."
    )
    remind_decision_days: int | None = Field(
        description="Days a decision may wait before the representatives are reminded."
    )
    remind_signature_days: int | None = Field(
        description="Days the agreement may wait for a signature before a reminder."
    )
    remind_report_days: int | None = Field(
        description="Days an obligation's report may be overdue before the researcher is "
        "reminded (and again after as many days)."
    )
    attestation_due_days: int = Field(
        description="Days after access ends within which the researcher attests destruction."
    )
    member_since: datetime | None = Field(
        description="When it became a member Nation, answering changes to the portal-wide "
        "rules (null: its admission waits for the member Nations)."
    )


class RuleConditionOut(Out):
    condition: str
    params: dict[str, int] = Field(description="Its parameters, every one with its value.")
    words: str = Field(description="The rule in a sentence, with its values.")


class NationRulesOut(Out):
    nation: str = Field(description="The Nation's slug.")
    review: list[RuleConditionOut] = Field(description="The Nation's own conditions on review.")
    approve: list[RuleConditionOut] = Field(description="The Nation's own conditions on approval.")
    always_required: dict[str, list[RuleConditionOut]] = Field(
        description="What every Nation's review and approval need (portal-wide rules)."
    )
    rules_version: int | None = Field(description="The rules version in force.")


class PreviewRowOut(Out):
    ref: str
    title: str
    action: str = Field(description="review or approve.")
    effect: str = Field(
        description="would block, would unblock, or would remove one of its obstacles."
    )
    why: list[str] = Field(description="The conditions' messages that change.")
    before: list[str] = Field(description="What blocks it now.")
    after: list[str] = Field(description="What would block it once saved.")


class PreviewOut(Out):
    items: list[PreviewRowOut]


class LabelOut(Out):
    nation: str = Field(description="The slug of the Nation that attached it.")
    code: str = Field(description="The label's code, e.g. tk-seasonal, bc-provenance.")
    name: str = Field(description="Its name, e.g. TK Seasonal.")
    kind: str = Field(description="TK Label, BC Label or Notice.")
    wording: str = Field(description="The community's own wording (empty: none given).")
    description: str = Field(description="What the label means, in the portal's words.")
    hub_url: str = Field(description="Its Local Contexts Hub project (empty: none).")


class DatasetOut(Out):
    slug: str
    title: str
    name_fr: str = Field(description="Its title in French (empty: none given).")
    name_own: str = Field(description="Its title in a Nation's own language and script.")
    name_own_lang: str = Field(description="That title's BCP 47 language tag, e.g. cr-Cans.")
    custodian: str
    description: str
    nations: list[str] = Field(description="Slugs of the Nations whose data it holds.")
    labels: list[LabelOut] = Field(
        description="The TK and BC Labels and Notices its Nations attached, each a clause "
        "of the agreements on its data."
    )


class PersonOut(Out):
    name: str
    email: str


class TeamMemberOut(Out):
    name: str
    email: str
    role: str


class ReviewOut(Out):
    steward: str = Field(description="The steward's name.")
    revision: int
    recommendation: Recommendation | None
    conflict_of_interest: bool
    comment: str
    criteria: dict[str, Any]
    created_at: datetime


class ConditionOut(Out):
    code: str = Field(description="A standard condition's code, or custom.")
    text: str
    due: str | None = Field(default=None, description="The due the representative gave.")


class ObligationOut(Out):
    id: int
    nation: str = Field(description="The slug of the Nation owed it.")
    source: str | None = Field(description="The standard condition's code, or custom.")
    text: str | None = Field(
        description="What the Nation asks: for the researcher and the Nation; else null."
    )
    due: str = Field(description="When it falls due, in words.")
    next_due: date | None = Field(description="The date it next falls due, if one.")
    overdue: bool
    state: str = Field(
        description="open, reported, met, not_met, waived, or superseded (a later edition's "
        "conditions replaced it before it fell due: nothing is owed under it)."
    )
    superseded_by: int | None = Field(
        default=None,
        description="The edition of the agreement whose conditions replaced the ones this "
        "came from. Unless superseded, it was overdue or reported then and owed its last "
        "report (its state says whether it still does); a periodic one does not open again.",
    )
    report: str | None = Field(
        description="The researcher's latest report: for the researcher and the Nation."
    )
    reported_at: datetime | None
    report_file: str | None = Field(
        default=None,
        description="The path of the file sent with the report, for those who read the report.",
    )
    assessment_comment: str | None = Field(
        description="The Nation's comment: for its own people; for the researcher only "
        "when the Nation told them; else null."
    )
    assessed_at: datetime | None


class DecisionOut(Out):
    outcome: Outcome
    revision: int
    representative: str | None = Field(
        description="The representative's name (for the Nation's own people; else null)."
    )
    reason: str
    conditions: list[ConditionOut]
    decided_at: datetime
    rules_version: int | None = Field(
        description="The version of the governance rules it was made under "
        "(GET /rules/versions/{number}); null for a decision made before versions were kept."
    )


class ChangesOut(Out):
    revision: int
    comment: str


class AllowedActionOut(Out):
    action: str = Field(description="POST /requests/{ref}/actions/{action} (edit: PATCH).")
    nation: str | None = Field(description="The Nation it is done for, if one.")
    channel: str | None = Field(
        default=None, description="For message: the thread (coordinators, nation, internal)."
    )
    obligation: int | None = Field(
        default=None, description="For report_obligation and assess_obligation: its id."
    )
    blocked_by: list[dict[str, str]] = Field(
        description="Rules that still block it (e.g. approval before quorum); refusal stays open."
    )


class TrackOut(Out):
    nation: str
    nation_name: str
    status: TrackStatus
    quorum: int = Field(description="Reviews of the current revision the Nation requires.")
    reviews_counted: int = Field(description="Reviews that count toward the quorum so far.")
    stalled: bool | None = Field(
        description="Its eligible stewards can no longer reach the quorum on this revision: "
        "its representative designates another steward. Only for the Nation's own stewards "
        "and representatives (it tells of conflicts of interest), else null."
    )
    reviews: list[ReviewOut] | None = Field(
        description="Its stewards' reviews of the current revision: only for the Nation's "
        "own stewards and representatives, else null."
    )
    changes_requested: list[ChangesOut] = Field(
        description="What the Nation asked the researcher to change (for the researcher "
        "and the Nation)."
    )
    decision: DecisionOut | None = Field(
        description="Its decision, reasons and conditions: for the researcher and the "
        "Nation; null for others, who read the status."
    )


class RequestSummaryOut(Out):
    """A request in a list; GET /requests/{ref} gives all of it."""

    ref: str
    status: RequestStatus
    revision: int = Field(description="The latest submitted revision; 0 before submission.")
    title: str
    researcher: PersonOut
    created_at: datetime
    updated_at: datetime


class OutputNationOut(Out):
    nation: str = Field(description="The slug of a Nation that reviews the output.")
    status: Literal["review", "decision", "approved", "refused", "waived", "ended"] = Field(
        description="waived: the Nation let its review of the request's outputs go. "
        "ended: an amendment dropped the Nation's data while its part was open; it is no "
        "longer a party and its part does not count."
    )
    asked_by: Literal["profile", "condition"] = Field(
        description="Why it reviews: its profile asks it of every request, or its approval "
        "of this one attached the output-review condition."
    )
    findings: dict[str, Any] = Field(
        description="For a CSV: the cells below the Nation's small-cell threshold (flagged), "
        "the total rows and columns found, and the flagged cells a total would let someone "
        "recover (recoverable). Empty for other files."
    )
    reason: str | None = Field(
        description="The reason of its decision, to the researcher and the Nation's people."
    )
    reviews_counted: int | None = Field(
        description="Reviews counting toward its quorum: its own people only, else null."
    )
    quorum: int | None = Field(description="Its quorum: its own people only, else null.")


class OutputOut(Out):
    id: int
    title: str
    venue: str = Field(description="Where it will be published.")
    filename: str
    media_type: Literal["application/pdf", "text/csv", "text/plain"] = Field(
        description="Read from the content, not the name."
    )
    size: int
    sha256: str
    status: Literal["in_review", "cleared", "refused"]
    submitted_at: datetime
    settled_at: datetime | None = Field(description="When it was cleared or refused.")
    file: str | None = Field(
        description="Where to download it: its researcher's side and the people of the "
        "request's Nations; null for others."
    )
    nations: list[OutputNationOut] = Field(
        description="Each Nation that reviews it; none: it was cleared at once."
    )


class AmendmentOut(Out):
    phase: AmendmentPhase
    kind: AmendmentKind = Field(description="renew: a fresh term; amend: the term end stays.")
    changed: list[str] = Field(
        description="The fields it changes from the revision the agreement in force was issued on."
    )


class RequestOut(Out):
    ref: str
    status: RequestStatus
    revision: int = Field(description="The latest submitted revision; 0 before submission.")
    unsubmitted: bool = Field(
        default=False,
        description="The fields below are its researcher's edits since the latest revision, "
        "not yet submitted: only they read them (everyone else reads the revision). "
        "`nations` stays the submitted revision's until they submit.",
    )
    researcher: PersonOut
    created_at: datetime
    updated_at: datetime
    title: str
    purpose: str
    datasets: list[str]
    methods: str
    community_benefit: str
    harm_assessment: str
    ethics_approval: str
    storage_location: str
    retention_days: int | None
    team: list[TeamMemberOut]
    agreement_language: str = Field(
        description="The language of the agreement asked for: en, fr or both (side by side)."
    )
    nations: list[str] = Field(description="Slugs of every Nation whose data it touches.")
    tracks: list[TrackOut]
    next_steps: list[str]
    allowed_actions: list[AllowedActionOut] = Field(
        description="What the caller may do now, and what still blocks it."
    )
    agreement: dict[str, Any] | None = Field(
        description="The data-use agreement once one exists, else null; its rules_version "
        "is the version of the governance rules it was issued under. Its status: "
        "awaiting_signatures, active, revoked, expired, ended (its researcher closed access "
        "early), void or superseded."
    )
    amendment: AmendmentOut | None = Field(
        default=None,
        description="A renewal or amendment in progress on the active request, else null: "
        "its phase (the pipeline's states, walked again while access continues under the "
        "agreement in force) and kind.",
    )
    obligations: list[ObligationOut] = Field(
        default_factory=list,
        description="Once access began: each Nation's conditions as obligations, those the "
        "caller may read (the researcher and each Nation's own people; coordinators and "
        "other Nations read none).",
    )
    end: dict[str, Any] | None = Field(
        default=None,
        description="Once access ended (revoked, expired or closed early), else null: "
        "reason, ended_at, attestation_due, each Nation's due_on, overdue and "
        "acknowledged (its outcome and comment only for the researcher and its own "
        "people), and the attestations made (the latest at attestation_pdf).",
    )
    outputs: list[OutputOut] = Field(
        default_factory=list,
        description="Outputs submitted for review before publication, oldest first.",
    )


class EventOut(Out):
    id: int = Field(description="The event's place in the portal's hash chain.")
    occurred_at: datetime
    action: str
    actor: str = Field(
        description="Who: an e-mail address, or system; for a step taken for a Nation, "
        "the Nation's name unless you are its own."
    )
    details: dict[str, Any]
    withheld: bool = Field(description="Part of it is a Nation's deliberation, not yours.")
    hash: str | None
    prev_hash: str | None


class MessageOut(Out):
    id: int
    written_at: datetime
    author: str = Field(
        description="Who wrote it, by name; for what was written for a Nation to the "
        "researcher, the Nation's name unless you are its own."
    )
    body: str


class ThreadOut(Out):
    channel: str = Field(description="coordinators, nation or internal.")
    nation: str | None = Field(description="The thread's Nation's slug, if it is a Nation's.")
    title: str
    messages: list[MessageOut] = Field(description="Oldest first.")


class ConversationList(Out):
    items: list[ThreadOut] = Field(description="Every thread you may read, and only those.")


class NationList(Out):
    items: list[NationOut]
    next_cursor: str | None


class DatasetList(Out):
    items: list[DatasetOut]
    next_cursor: str | None


class RequestList(Out):
    items: list[RequestSummaryOut]
    next_cursor: str | None


class EventList(Out):
    items: list[EventOut]
    next_cursor: str | None
