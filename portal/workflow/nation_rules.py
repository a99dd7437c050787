"""A Nation's own rules: which named conditions its stewards' review and its approval
need, and with what parameters, set by its representatives on its governance page.

They are that Nation's p2 lines (domain = its slug) in the rules in force. Saving
goes through portal.policy.versions.install(), which checks the sovereignty
invariants again and audits RULES_CHANGED in the Nation's record; so a Nation can
add to its review and approval but can never make refusal conditional (invariant 2)
nor let anyone else decide for it (invariant 1). Flush, never commit.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlmodel import Session, select

from portal.auth.models import User
from portal.errors import ValidationError
from portal.i18n import speaking
from portal.policy import parameters
from portal.policy.conditions import CONDITIONS, SIGNATURES, Facts
from portal.policy.models import RulesOrigin, RulesVersion
from portal.policy.service import require
from portal.policy.versions import RulesInvalid, install, rules_in_force
from portal.policy.vocabulary import WILDCARD, Action
from portal.registry.models import Nation
from portal.requests.models import AccessRequest, RequestStatus
from portal.reviews.models import NationTrack, TrackStatus

# The actions a Nation attaches its own conditions to. Refusal is always possible
# (invariant 2), and revoking, signing and screening are not the Nation's to condition.
NATION_RULE_ACTIONS = (Action.REVIEW, Action.APPROVE)

# The conditions a Nation may choose, per action, in the order the page shows them.
ABOUT_THE_REQUEST = (
    "ethics_approval_given",
    "community_benefit_described",
    "harm_assessment_described",
    "team_at_most",
    "datasets_at_most",
)
CHOOSABLE: dict[Action, tuple[str, ...]] = {
    Action.REVIEW: ABOUT_THE_REQUEST,
    Action.APPROVE: (*ABOUT_THE_REQUEST, "recommendations_unanimous"),
}

Chosen = tuple[str, dict[str, str]]  # (condition, {parameter: value})
RuleSet = dict[Action, list[Chosen]]
LineValues = tuple[str, ...]


def _not_conditional(action: str) -> str:
    if action == Action.REFUSE:
        return _("Refusal is always possible: a Nation cannot make it conditional (invariant 2).")
    return _("A Nation sets its own conditions only for review and approval.")


def own_lines(lines: Sequence[LineValues], nation: Nation) -> list[LineValues]:
    """The Nation's own condition lines for review and approval."""
    actions = {action.value for action in NATION_RULE_ACTIONS}
    return [
        line for line in lines if line[0] == "p2" and line[1] == nation.slug and line[2] in actions
    ]


def required_everywhere(session: Session, action: Action) -> list[Chosen]:
    """The conditions every Nation's ``action`` needs (the portal-wide lines)."""
    return [
        (line[3], parameters.parse(line[4] if len(line) > 4 else ""))
        for line in rules_in_force(session).lines
        if line[0] == "p2" and line[1] == WILDCARD and line[2] == action.value
    ]


def choosable(session: Session, action: Action) -> list[str]:
    """What a Nation may add to ``action``: not what every Nation needs already."""
    everywhere = {name for name, _params in required_everywhere(session, action)}
    return [name for name in CHOOSABLE[action] if name not in everywhere]


def nation_rules(session: Session, nation: Nation) -> RuleSet:
    """The Nation's own conditions on review and approval, with their parameters."""
    rules: RuleSet = {action: [] for action in NATION_RULE_ACTIONS}
    for _ptype, _domain, action, name, *params in own_lines(rules_in_force(session).lines, nation):
        rules[Action(action)].append((name, parameters.parse(params[0] if params else "")))
    return rules


def check_rules(session: Session, rules: Mapping[str, Sequence[Chosen]]) -> RuleSet:
    """The rules, validated: ValidationError naming each field that will not do
    ("refuse", "approve.team_at_most", "approve.team_at_most.count")."""
    errors: dict[str, str] = {}
    checked: RuleSet = {}
    for key, chosen in rules.items():
        if key not in {action.value for action in NATION_RULE_ACTIONS}:
            errors[str(key)] = _not_conditional(str(key))
            continue
        action = Action(key)
        allowed = choosable(session, action)
        checked[action] = []
        for name, params in chosen:
            field = f"{action.value}.{name}"
            if name not in allowed:
                words = {"name": repr(name), "action": action.value}
                if name in SIGNATURES:
                    errors[field] = _(
                        "%(name)s is not a condition a Nation may add to %(action)s "
                        "(every Nation needs it already).",
                        **words,
                    )
                else:
                    errors[field] = _(
                        "%(name)s is not a condition a Nation may add to %(action)s.", **words
                    )
            elif any(name == seen for seen, _ in checked[action]):
                errors[field] = _(
                    "%(name)s is chosen twice for %(action)s.", name=name, action=action.value
                )
            elif found := parameters.problems(SIGNATURES[name].parameters, params):
                errors.update({f"{field}.{key}": message for key, message in found.items()})
            else:
                resolved = parameters.values(SIGNATURES[name].parameters, params)
                checked[action].append((name, {k: str(v) for k, v in resolved.items()}))
    if errors:
        raise ValidationError(errors)
    return checked


def lines_for(nation: Nation, rules: RuleSet) -> list[LineValues]:
    """The p2 lines that say ``rules`` for the Nation (parameters only when it has some)."""
    lines = []
    for action, chosen in rules.items():
        for name, params in chosen:
            text = parameters.unparse(params)
            lines.append(("p2", nation.slug, action.value, name, *([text] if text else [])))
    return lines


def changes_for(session: Session, nation: Nation, rules: RuleSet) -> dict:
    """The change set: the Nation's current lines for those actions out, the new ones in."""
    current = [
        line
        for line in own_lines(rules_in_force(session).lines, nation)
        if Action(line[2]) in rules
    ]
    wanted = lines_for(nation, rules)
    return {
        "lines": {
            "remove": [list(line) for line in current if line not in wanted],
            "add": [list(line) for line in wanted if line not in current],
        }
    }


def describe(rules: RuleSet) -> str:
    """The rules in a sentence, for the version's summary and the flash. In English,
    whoever saves them: the summary is stored and read by everyone."""
    parts = []
    with speaking("en"):
        for action, chosen in rules.items():
            words = "; ".join(str(SIGNATURES[name].words(params)) for name, params in chosen)
            parts.append(
                f"{action.value} needs: {words}" if words else f"{action.value}: nothing more"
            )
    return ". ".join(parts)


def set_nation_rules(
    session: Session, actor: User, nation: Nation, rules: Mapping[str, Sequence[Chosen]]
) -> RulesVersion | None:
    """Make ``rules`` the Nation's own conditions on the actions it names; returns the new
    rules version, or None when nothing changed. 403 for anyone but its representatives,
    ValidationError (naming the field) for what will not do; nothing written then."""
    require(session, actor, Action.MANAGE_PROFILE, nation=nation)
    checked = check_rules(session, rules)
    try:
        return install(
            session,
            changes_for(session, nation, checked),
            origin=RulesOrigin.NATION,
            nation=nation,
            actor=actor,
            summary=f"{nation.name} set its own rules: {describe(checked)}.",
        )
    except RulesInvalid as invalid:
        raise ValidationError({"rules": "; ".join(invalid.problems)}) from None


# --- the preview: what the change would do to the requests in flight


@dataclass(frozen=True)
class PreviewRow:
    """A request in flight whose review or approval the change would block or unblock."""

    ref: str
    title: str
    action: Action
    before: list[str]  # the messages of the rules that block it now
    after: list[str]  # ... and once the change is saved

    @property
    def blocks(self) -> bool:
        """A rule would stand in its way that does not now."""
        return bool(set(self.after) - set(self.before))

    @property
    def effect(self) -> str:
        if self.blocks:
            return _("would block")
        return _("would unblock") if not self.after else _("would remove one of its obstacles")

    @property
    def why(self) -> list[str]:
        """The messages that change: those added when it blocks, else those lifted."""
        if self.blocks:
            return [message for message in self.after if message not in self.before]
        return [message for message in self.before if message not in self.after]


def in_flight(session: Session, nation: Nation) -> list[AccessRequest]:
    """The requests under review whose track for the Nation is open (review or decision)."""
    return list(
        session.exec(
            select(AccessRequest)
            .join(NationTrack, NationTrack.request_id == AccessRequest.id)
            .where(
                NationTrack.nation_id == nation.id,
                NationTrack.status.in_([TrackStatus.REVIEW, TrackStatus.DECISION]),
                AccessRequest.status == RequestStatus.UNDER_REVIEW,
            )
            .order_by(AccessRequest.ref)
        )
    )


def blocking(facts: Facts, conditions: list[Chosen]) -> list[str]:
    """The messages of the conditions that do not hold (no user: not "not you" rules)."""
    return [
        rule.message
        for name, params in conditions
        if name in CONDITIONS and (rule := CONDITIONS[name](facts, params)) is not None
    ]


def preview(
    session: Session, nation: Nation, rules: Mapping[str, Sequence[Chosen]]
) -> list[PreviewRow]:
    """What saving ``rules`` would change for the Nation's requests in flight (validated
    as set_nation_rules() does; the caller asks who may see it)."""
    checked = check_rules(session, rules)
    now = nation_rules(session, nation)
    rows = []
    for request in in_flight(session, nation):
        facts = Facts(session=session, nation=nation, request=request)
        for action, chosen in checked.items():
            everywhere = required_everywhere(session, action)
            before = blocking(facts, everywhere + now[action])
            after = blocking(facts, everywhere + chosen)
            if before != after:
                rows.append(PreviewRow(request.ref, request.title, action, before, after))
    return rows
