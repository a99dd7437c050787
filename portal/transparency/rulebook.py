"""The governance rules as members read them: the version in force, what made each
version (with the names of who made and approved it), every line in words grouped by
role, by action and by Nation, the catalogue of standard conditions and the agreement's
standard clauses. The rules page, its history, the API and `portal policy show` read
them here. Who may read them is the policy's (``read_rules``)."""

from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext as _
from sqlmodel import Session, select

from portal.agreements.render import words_in
from portal.auth.models import User
from portal.auth.service import roles_of
from portal.db import could_be_id
from portal.errors import Forbidden, NotFound
from portal.i18n import current_language
from portal.policy.models import Proposal, ProposalVote, RulesOrigin, RulesVersion, Vote
from portal.policy.service import authorize
from portal.policy.versions import Rules, changes_between, is_nations_own, rules_of
from portal.policy.vocabulary import WILDCARD, Action
from portal.registry.models import Nation
from portal.reviews.terms import shown
from portal.transparency.rulediff import ChangeRow, describe_changes
from portal.transparency.rulewords import explain_line


def may_read_rules(session: Session, user: User) -> bool:
    """The policy's ``read_rules``: portal-wide for a portal-wide role, or in a Nation
    where the person holds a steward's or representative's role."""
    places = [
        None,
        *{nation.id: nation for _role, nation in roles_of(session, user) if nation}.values(),
    ]
    return any(authorize(session, user, Action.READ_RULES, nation=n).allowed for n in places)


def require_rules_reader(session: Session, user: User) -> None:
    """Forbidden (403, in the policy's own sentence) unless ``user`` may read the rules:
    the rules pages, their history and the proposals, on the pages and in the API."""
    if not may_read_rules(session, user):
        refusal = authorize(session, user, Action.READ_RULES).blocked_by[0]
        raise Forbidden(refusal.message, [refusal])


@dataclass(frozen=True)
class Origin:
    """What made a version, in words and names (never an e-mail address)."""

    kind: RulesOrigin
    words: str  # "Loaded at installation", "Red Cedar's own rules", ...
    made_by: str | None = None  # the person who made it (the proposer, for a proposal)
    nation: str | None = None  # the Nation it was made for or by
    proposal_id: int | None = None
    proposal_title: str | None = None
    approved_by: list[str] = field(default_factory=list)  # the member Nations, by name

    @property
    def sentence(self) -> str:
        """In plain text (the command line); the pages link the proposal too."""
        if self.kind is RulesOrigin.NATION:
            return self.words + (f", saved by {self.made_by}" if self.made_by else "")
        if self.kind is RulesOrigin.PROPOSAL:
            text = self.words + (f": {self.proposal_title}" if self.proposal_title else "")
            if self.made_by:
                text += f", proposed by {self.made_by}"
                text += f" for {self.nation}" if self.nation else ""
            approved = ", ".join(self.approved_by)
            return text + (f"; approved by {approved}" if approved else "")
        return f"{self.words}, by {self.made_by or 'an operator'}"


@dataclass(frozen=True)
class VersionLine:
    number: int
    created_at: datetime
    summary: str
    origin: Origin


def nation_names(session: Session) -> dict[str, str]:
    return {nation.slug: nation.name for nation in session.exec(select(Nation))}


def _name(session: Session, model, key: int | None) -> str | None:
    found = session.get(model, key) if key is not None else None
    return found.name if found is not None else None


def origin_of(session: Session, version: RulesVersion) -> Origin:
    person, nation = (
        _name(session, User, version.actor_id),
        _name(session, Nation, version.nation_id),
    )
    if version.origin is RulesOrigin.NATION:
        return Origin(version.origin, _("%(nation)s's own rules", nation=nation), person, nation)
    if version.origin is RulesOrigin.LOAD:
        return Origin(version.origin, _("Loaded at installation"), person, nation)
    proposal = session.get(Proposal, version.proposal_id) if version.proposal_id else None
    words = _("A proposal approved by member Nations")
    if proposal is None:
        return Origin(version.origin, words, person, nation)
    approving = session.exec(
        select(Nation.name)
        .join(ProposalVote, ProposalVote.nation_id == Nation.id)
        .where(ProposalVote.proposal_id == proposal.id, ProposalVote.vote == Vote.APPROVE)
        .order_by(Nation.name)
    ).all()
    return Origin(
        version.origin,
        words,
        _name(session, User, proposal.proposer_id) or person,
        _name(session, Nation, proposal.nation_id),
        proposal.id,
        proposal.title,
        list(approving),
    )


def history(session: Session) -> list[VersionLine]:
    """Every version, newest first."""
    versions = session.exec(select(RulesVersion).order_by(RulesVersion.number.desc()))
    return [VersionLine(v.number, v.created_at, v.summary, origin_of(session, v)) for v in versions]


@dataclass
class Rulebook:
    """One version of the rules in words."""

    rules: Rules
    version: VersionLine | None  # None: the rows as loaded before versions were kept
    by_role: dict[str, list[str]]  # role -> what it may do
    by_action: dict[str, list[str]]  # action -> what it needs, in every Nation
    by_nation: dict[str, list[str]]  # a Nation's name -> its own rules
    other: list[str]  # any line none of the groups takes
    catalogue: list[tuple[str, str]]  # the standard conditions: label, text
    clauses: list[tuple[str, str]]  # the agreement's standard clauses: title, text


def version_line(session: Session, number: int) -> VersionLine | None:
    found = session.get(RulesVersion, number) if could_be_id(number) else None
    if found is None:
        return None
    return VersionLine(found.number, found.created_at, found.summary, origin_of(session, found))


def rulebook(session: Session, rules: Rules) -> Rulebook:
    names = nation_names(session)
    language = current_language()
    book = Rulebook(
        rules, version_line(session, rules.number), {}, {}, {}, [],
        # The seed's words in the language spoken; words the members changed as written.
        [(shown(entry["label"]), shown(entry["text"])) for entry in rules.catalogue.values()],
        [(words_in(c["title"], language), words_in(c["text"], language)) for c in rules.clauses],
    )  # fmt: skip
    for line in rules.lines:
        words = explain_line(line, names)
        if is_nations_own(line):
            book.by_nation.setdefault(names.get(line[1], line[1]), []).append(words)
        elif line[0] == "p2" and line[1] == WILDCARD:
            book.by_action.setdefault(line[2].replace("_", " "), []).append(words)
        elif line[0] == "p" and len(line) == 4:
            book.by_role.setdefault(line[1], []).append(words)
        else:
            book.other.append(words)
    return book


@dataclass
class VersionPage:
    book: Rulebook
    number_in_force: int | None
    since_previous: list[ChangeRow] | None  # None for the first version
    against_current: list[ChangeRow] | None  # asked for, and not the version in force


def version_page(
    session: Session, number: int, in_force: Rules, compare: bool = False
) -> VersionPage:
    """A version in full, what changed from the one before, and (``compare``) what
    differs in the rules in force. NotFound for a number never recorded."""
    rules = rules_of(session, number) if could_be_id(number) else None
    if rules is None:
        raise NotFound(_("There is no such version of the rules."))
    names = nation_names(session)
    previous = rules_of(session, number - 1)
    since = None if previous is None else describe_changes(
        changes_between(previous, rules), names, before=previous
    )  # fmt: skip
    against = None
    if compare and in_force.number != number:
        against = describe_changes(changes_between(rules, in_force), names, before=rules)
    return VersionPage(rulebook(session, rules), in_force.number, since, against)
