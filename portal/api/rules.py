"""The governance rules through the API: the version in force with every line in words,
the list of versions, and one version with what changed from the one before. Reading
them is the policy's ``read_rules`` (every role), as on the rules pages."""

from datetime import datetime

from pydantic import Field
from sqlmodel import Session

from portal.api.schemas import Out
from portal.auth.models import User
from portal.db import get_session
from portal.errors import NotFound
from portal.policy.versions import Rules, rules_in_force
from portal.transparency.rulebook import (
    Origin,
    history,
    nation_names,
    require_rules_reader,
    version_line,
    version_page,
)
from portal.transparency.rulewords import explain_line


class OriginOut(Out):
    kind: str = Field(description="load (installation), nation (a Nation's own) or proposal.")
    words: str
    made_by: str | None = Field(description="The name of who made it (a proposal's proposer).")
    nation: str | None = Field(description="The name of the Nation it was made by or for.")
    proposal: int | None = Field(description="The proposal that made it: /rules/proposals/{id}.")
    proposal_title: str | None
    approved_by: list[str] = Field(description="The member Nations that approved it, by name.")


class LineOut(Out):
    line: list[str] = Field(description="The policy line: [ptype, v0, v1, ...].")
    words: str


class ConditionEntryOut(Out):
    code: str
    label: str
    text: str


class ClauseOut(Out):
    code: str
    title: str
    text: str


class ChangeOut(Out):
    part: str = Field(description="line, condition (of the catalogue) or clause.")
    change: str = Field(description="added, removed or changed.")
    what: str = Field(description="A line's sentence, a condition's label, a clause's title.")
    old: str | None
    new: str | None


class VersionOut(Out):
    number: int
    created_at: datetime
    summary: str
    origin: OriginOut


class RulesOut(Out):
    number: int = Field(description="The version's number; 0 before any version was kept.")
    created_at: datetime | None = Field(description="When it came into force.")
    summary: str
    origin: OriginOut | None
    lines: list[LineOut]
    catalogue: list[ConditionEntryOut]
    clauses: list[ClauseOut]


class RulesVersionOut(RulesOut):
    changes: list[ChangeOut] | None = Field(
        description="What changed from the version before; null for the first."
    )


class RulesVersionList(Out):
    items: list[VersionOut] = Field(description="Every version, newest first.")


def _reader(user: User) -> Session:
    session = get_session()
    require_rules_reader(session, user)
    return session


def _origin(origin: Origin) -> OriginOut:
    return OriginOut(
        kind=origin.kind.value,
        words=origin.words,
        made_by=origin.made_by,
        nation=origin.nation,
        proposal=origin.proposal_id,
        proposal_title=origin.proposal_title,
        approved_by=origin.approved_by,
    )


def _rules(session: Session, rules: Rules) -> dict:
    names, version = nation_names(session), version_line(session, rules.number)
    return {
        "number": rules.number,
        "created_at": version.created_at if version else None,
        "summary": version.summary if version else "",
        "origin": _origin(version.origin) if version else None,
        "lines": [LineOut(line=list(ln), words=explain_line(ln, names)) for ln in rules.lines],
        "catalogue": [
            ConditionEntryOut(code=code, label=entry["label"], text=entry["text"])
            for code, entry in rules.catalogue.items()
        ],
        "clauses": [
            ClauseOut(code=c["code"], title=c["title"], text=c["text"]) for c in rules.clauses
        ],
    }


def get_rules(user: User) -> RulesOut:
    session = _reader(user)
    return RulesOut(**_rules(session, rules_in_force(session)))


def list_rules_versions(user: User) -> RulesVersionList:
    items = [
        VersionOut(
            number=v.number, created_at=v.created_at, summary=v.summary, origin=_origin(v.origin)
        )
        for v in history(_reader(user))
    ]
    return RulesVersionList(items=items)


def get_rules_version(user: User, number: str) -> RulesVersionOut:
    session = _reader(user)
    if not (number.isascii() and number.isdigit()):
        raise NotFound("There is no such version of the rules.")
    page = version_page(session, int(number), rules_in_force(session))
    changes = page.since_previous
    return RulesVersionOut(
        **_rules(session, page.book.rules),
        changes=None
        if changes is None
        else [ChangeOut(part=r.part, change=r.change, what=r.what, old=r.old, new=r.new)
              for r in changes],
    )  # fmt: skip
