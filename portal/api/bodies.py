"""What callers send: JSON bodies and query parameters, as pydantic models.

With schemas.py they are the single source of the OpenAPI document (openapi.py) and of
how the API parses what it is sent (parsing.py). They check shape only (names, types,
the fixed vocabularies); the rules (lengths, ISO codes, which datasets exist, what
submission needs, who may do what) are the services', and come back as 422/403/409.
"""

import base64
import binascii
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, WithJsonSchema
from pydantic_core import PydanticCustomError

from portal.conversations.models import MAX_BODY, Channel
from portal.requests.fields import AGREEMENT_LANGUAGES, DEFAULT_AGREEMENT_LANGUAGE
from portal.requests.models import RequestStatus
from portal.reviews.models import Outcome, Recommendation
from portal.workflow.drafting import RETURN_REASONS, SCREEN_OUTCOMES

MAX_PAGE = 100
DEFAULT_PAGE = 50


def _no_nul(value: str) -> str:
    # Text the databases can hold: PostgreSQL refuses NUL characters in text.
    if "\x00" in value:
        raise PydanticCustomError("nul_character", "Must not contain NUL characters")
    return value


Text = Annotated[
    str,
    AfterValidator(_no_nul),
    WithJsonSchema({"type": "string", "pattern": "^[^\\x00]*$"}),
]


class Body(BaseModel):
    """A JSON body: every name must be one the operation knows, every value its type
    (strict: "365" is not a number)."""

    model_config = ConfigDict(extra="forbid", strict=True)


class Query(BaseModel):
    """Query parameters: strings on the wire, converted; unknown names are refused."""

    model_config = ConfigDict(extra="forbid")


# --- query parameters -----------------------------------------------------------------


class PageQuery(Query):
    cursor: str | None = Field(
        default=None, description="The next_cursor of the previous page; omit for the first."
    )
    limit: int = Field(default=DEFAULT_PAGE, ge=1, le=MAX_PAGE)


class EditionQuery(Query):
    edition: int | None = Field(
        default=None, ge=1, description="An edition of the agreement; omit for the one in force."
    )


class RequestListQuery(PageQuery):
    status: RequestStatus | None = Field(default=None, description="Only requests in this state.")


# --- request bodies -------------------------------------------------------------------


class TeamMemberIn(Body):
    name: Text = ""
    email: Text = ""
    role: Text = ""


class DraftIn(Body):
    """The fields of a request (README.md, "API"). All may be left out or empty in a draft;
    PATCH changes only the fields sent. Submission needs every one."""

    title: Text = Field(default="", examples=["Wellbeing of children in care (fictional)"])
    purpose: Text = ""
    datasets: list[Text] = Field(
        default_factory=list, description="Dataset slugs.", examples=[["child-family-services"]]
    )
    methods: Text = ""
    community_benefit: Text = ""
    harm_assessment: Text = ""
    ethics_approval: Text = Field(default="", description="The ethics board and its reference.")
    storage_location: Text = Field(
        default="",
        description="Where the data will be held: ISO 3166 code, e.g. CA or CA-ON.",
        examples=["CA-ON"],
    )
    retention_days: int | None = Field(
        default=None, description="Days; null clears it.", examples=[365]
    )
    team: list[TeamMemberIn] = Field(default_factory=list)
    agreement_language: Literal[tuple(AGREEMENT_LANGUAGES)] = Field(  # type: ignore[valid-type]
        default=DEFAULT_AGREEMENT_LANGUAGE,
        description="The language of the agreement every party signs: en (English), fr "
        "(French) or both (English and French side by side). The Nations see it.",
        examples=["fr"],
    )


class SubmitIn(Body):
    pass


class WithdrawIn(Body):
    reason: Text


READ_REVISION = (
    "The revision you read and judge: if the request was revised since, the answer is "
    "refused (409, current_revision). Left out: the current revision."
)


class ScreenIn(Body):
    outcome: Literal[SCREEN_OUTCOMES]  # type: ignore[valid-type]
    comment: Text = Field(default="", description="Required when returning: what to change.")
    reason: Literal[tuple(RETURN_REASONS)] | None = Field(  # type: ignore[valid-type]
        default=None, description="Why it is returned (default clarification)."
    )
    revision: int | None = Field(default=None, ge=1, description=READ_REVISION)


class ReviewIn(Body):
    nation: Text = Field(
        description="The slug of the Nation you review for.", examples=["kestrel-river"]
    )
    recommendation: Recommendation | None = Field(
        default=None, description="Required unless you declare a conflict of interest."
    )
    comment: Text = Field(default="", description="Required for refuse and changes.")
    conflict_of_interest: bool = False
    criteria: dict[str, Text] = Field(
        default_factory=dict, description="The review criteria and your assessment of each."
    )
    tell_researcher: bool = Field(
        default=False,
        description="With changes: also write the comment to the researcher in your "
        "Nation's conversation with them, as the Nation.",
    )
    revision: int | None = Field(default=None, ge=1, description=READ_REVISION)


class DecideIn(Body):
    nation: Text = Field(
        description="The slug of the Nation you decide for.", examples=["kestrel-river"]
    )
    outcome: Outcome
    reason: Text = Field(default="", description="Required when refusing; the researcher sees it.")
    conditions: list[Text] = Field(
        default_factory=list,
        description="Conditions of an approval: standard ones by their code in the "
        "catalogue of the rules in force (a code it does not hold is refused), others in "
        'words, each on one line and without "| due:". In a renewal or amendment they '
        "replace the Nation's conditions in force (see obligations[].superseded_by).",
        examples=[["aggregate_only", "Results are shown to the council first."]],
    )
    dues: dict[str, Text] = Field(
        default_factory=dict,
        description="When a condition falls due once access begins, keyed by the condition "
        'as given in conditions: a date (2027-06-30), "every 12 months", '
        '"before_publication" or "at_end"; a date that has passed is refused. Left out: its '
        "standard condition's default, else at_end.",
        examples=[{"Results are shown to the council first.": "before_publication"}],
    )
    revision: int | None = Field(default=None, ge=1, description=READ_REVISION + " Approval only.")


class SignIn(Body):
    password: Text = Field(description="Your password again: each signature re-authenticates.")
    nation: Text | None = Field(
        default=None,
        description="The slug of the Nation you sign for, if you represent several here.",
        examples=["kestrel-river"],
    )


class RevokeIn(Body):
    nation: Text = Field(
        description="The slug of the Nation that revokes.", examples=["kestrel-river"]
    )
    reason: Text


class RenewIn(Body):
    reason: Text = Field(description="What the renewal is for; everyone concerned reads it.")


class AmendIn(Body):
    reason: Text = Field(
        description="What the amendment changes and why; everyone concerned reads it."
    )


class CloseIn(Body):
    reason: Text = Field(default="", description="Why access ends early (optional).")


class AttestDestructionIn(Body):
    what: Text = Field(description="What was destroyed or returned.")
    method: Text = Field(description="How it was destroyed or returned.")
    done_on: Text = Field(description="When it was done: YYYY-MM-DD.", examples=["2027-01-15"])
    done_by: Text = Field(description="By whom.")
    password: Text = Field(description="Your password again: the attestation is signed.")


class AcknowledgeDestructionIn(Body):
    nation: Text = Field(
        description="The slug of the Nation you answer for.", examples=["kestrel-river"]
    )
    outcome: Literal["acknowledged", "more_needed"]
    comment: Text = Field(
        default="",
        description="Required with more_needed: what more the Nation needs (the researcher "
        "and the Nation's own people read it).",
    )


class MessageIn(Body):
    channel: Channel = Field(
        description="The thread: coordinators (the researcher with the coordinators), "
        "nation (the researcher with a Nation), internal (a Nation's own discussion)."
    )
    nation: Text | None = Field(
        default=None,
        description="The slug of the thread's Nation: required for nation and internal, "
        "absent for coordinators.",
        examples=["kestrel-river"],
    )
    body: Text = Field(description=f"The message: not empty, at most {MAX_BODY} characters.")


def _base64(value: str) -> str:
    try:
        base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise PydanticCustomError("base64", "Must be the file's bytes in base64") from None
    return value


class ReportObligationIn(Body):
    obligation: int = Field(description="The obligation's id (obligations[].id).")
    text: Text = Field(description="What was done to meet it; the Nation owed it reads it.")
    filename: Text = Field(default="", examples=["minutes.pdf"])
    content_base64: Annotated[str, AfterValidator(_base64)] = Field(
        default="",
        description="An optional file with the report, base64-encoded: a PDF, CSV or plain "
        "UTF-8 text (told from the content), at most OUTPUT_MAX_BYTES.",
    )

    def command_fields(self) -> dict[str, Any]:
        fields = self.model_dump(exclude={"content_base64"})
        return {**fields, "content": base64.b64decode(self.content_base64)}


class AssessObligationIn(Body):
    obligation: int = Field(description="The obligation's id (obligations[].id).")
    outcome: Literal["met", "not_met", "waived"] = Field(
        description="waived: the Nation lets it go (its representatives only). A periodic "
        "obligation met opens again for its next period."
    )
    comment: Text = Field(
        default="",
        description="Required for not_met and waived. The Nation's own, unless tell_researcher.",
    )
    tell_researcher: bool = Field(
        default=False, description="Show the comment to the researcher with the outcome."
    )
    reported_at: AwareDatetime | None = Field(
        default=None,
        description="The reported_at of the report you read and assess (obligations[]."
        "reported_at): if the researcher reported again since, met or not_met is refused "
        "(409, latest_report). Left out: the latest report.",
    )


class SubmitOutputIn(Body):
    """An output for review before publication: its bytes in base64 (PDF, CSV or plain
    UTF-8 text, told from the content; at most OUTPUT_MAX_BYTES, 10 MB by default)."""

    title: Text = Field(examples=["Children in care, 2020-2025 (fictional)"])
    venue: Text = Field(
        description="Where it will be published.", examples=["Journal of Fictional Studies"]
    )
    filename: Text = Field(default="", examples=["table1.csv"])
    content_base64: Annotated[str, AfterValidator(_base64)] = Field(
        description="The file's bytes, base64-encoded (RFC 4648, with padding)."
    )

    def command_fields(self) -> dict[str, Any]:
        fields = self.model_dump(exclude={"content_base64"})
        return {**fields, "content": base64.b64decode(self.content_base64)}


class ReviewOutputIn(Body):
    output: int = Field(description="The output's id (in the request's outputs).")
    nation: Text = Field(
        description="The slug of the Nation you review for.", examples=["kestrel-river"]
    )
    recommendation: Literal["approve", "refuse"] | None = Field(
        default=None, description="Required unless you declare a conflict of interest."
    )
    comment: Text = Field(default="", description="Required when recommending refusal.")
    conflict_of_interest: bool = False


class DecideOutputIn(Body):
    output: int = Field(description="The output's id (in the request's outputs).")
    nation: Text = Field(
        description="The slug of the Nation you decide for.", examples=["kestrel-river"]
    )
    outcome: Literal["approve", "refuse"]
    reason: Text = Field(default="", description="Required when refusing; the researcher sees it.")


class ConditionIn(Body):
    condition: Text = Field(description="A named condition.", examples=["team_at_most"])
    params: dict[str, int] = Field(
        default_factory=dict,
        description="Its parameters (whole numbers); those left out take their defaults.",
        examples=[{"count": 5}],
    )


class NationRulesIn(Body):
    """A Nation's own conditions on its stewards' review and its approval. Each list
    replaces the Nation's current conditions on that action; refusal takes none."""

    review: list[ConditionIn] = Field(default_factory=list)
    approve: list[ConditionIn] = Field(default_factory=list)


class ProfileIn(Body):
    """A Nation's governance profile settings; PATCH changes only those sent."""

    name_fr: Text = Field(default="", description="Its name in French; empty: none.")
    name_own: Text = Field(
        default="", description="Its name in its own language and script; empty: none."
    )
    name_own_lang: Text = Field(
        default="", description="That name's BCP 47 language tag.", examples=["cr-Cans"]
    )

    review_quorum: int = Field(default=1, description="Steward reviews needed before approval.")
    min_approvals: int = Field(default=1, description="Of those, reviews recommending approval.")
    residency: list[Text] = Field(default_factory=list, examples=[["CA", "CA-ON"]])
    max_term_days: int | None = Field(default=None, description="null: no limit.")
    output_review_required: bool = True
    small_cell_threshold: int = 5
    remind_review_days: int | None = Field(
        default=None,
        description="Days a review waits before its stewards are reminded; null: never.",
    )
    remind_decision_days: int | None = Field(
        default=None, description="Days a decision waits before a reminder; null: never."
    )
    remind_signature_days: int | None = Field(
        default=None, description="Days the agreement waits for a signature; null: never."
    )
    remind_report_days: int | None = Field(
        default=None,
        description="Days an obligation's report is overdue before the researcher is "
        "reminded; null: never.",
    )


class LabelIn(Body):
    code: Text = Field(description="A label's code, e.g. tk-seasonal.", examples=["tk-seasonal"])
    wording: Text = Field(default="", description="The community's own wording of it.")
    hub_url: Text = Field(default="", description="Its Local Contexts Hub project (https).")


class LabelsIn(Body):
    """The Nation's whole set of labels on one dataset: the ones left out are removed."""

    dataset: Text = Field(description="The dataset's slug.", examples=["cedar-health"])
    labels: list[LabelIn] = Field(default_factory=list)
