"""/nations/{slug}/rules: a Nation's own conditions on review and approval. Anyone
signed in reads them; its representatives set them and preview what a change would do
(portal/workflow/nation_rules.py holds the rules; 403, 404 and 422 are its)."""

from portal.api import bodies, schemas
from portal.auth.models import User
from portal.db import get_session
from portal.policy import parameters
from portal.policy.conditions import SIGNATURES
from portal.policy.service import require
from portal.policy.versions import number_in_force
from portal.policy.vocabulary import Action
from portal.registry.service import get_nation
from portal.transparency.rulewords import condition_words
from portal.workflow import nation_rules


def _condition(name: str, params: dict) -> schemas.RuleConditionOut:
    declared = SIGNATURES[name].parameters if name in SIGNATURES else ()
    return schemas.RuleConditionOut(
        condition=name,
        params=parameters.values(declared, params),
        words=condition_words(name, params),
    )


def _rules(body: bodies.NationRulesIn) -> dict[str, list[nation_rules.Chosen]]:
    return {
        action: [(item.condition, dict(item.params)) for item in getattr(body, action)]
        for action in ("review", "approve")
    }


def get_nation_rules(user: User, slug: str) -> schemas.NationRulesOut:
    session = get_session()
    nation = get_nation(session, slug)
    own = nation_rules.nation_rules(session, nation)
    return schemas.NationRulesOut(
        nation=nation.slug,
        review=[_condition(*chosen) for chosen in own[Action.REVIEW]],
        approve=[_condition(*chosen) for chosen in own[Action.APPROVE]],
        always_required={
            action.value: [
                _condition(*chosen) for chosen in nation_rules.required_everywhere(session, action)
            ]
            for action in nation_rules.NATION_RULE_ACTIONS
        },
        rules_version=number_in_force(session),
    )


def put_nation_rules(user: User, slug: str, body: bodies.NationRulesIn) -> schemas.NationRulesOut:
    session = get_session()
    nation_rules.set_nation_rules(session, user, get_nation(session, slug), _rules(body))
    return get_nation_rules(user, slug)


def preview_nation_rules(user: User, slug: str, body: bodies.NationRulesIn) -> schemas.PreviewOut:
    session = get_session()
    nation = get_nation(session, slug)
    require(session, user, Action.MANAGE_PROFILE, nation=nation)
    rows = nation_rules.preview(session, nation, _rules(body))
    return schemas.PreviewOut(
        items=[
            schemas.PreviewRowOut(
                ref=row.ref,
                title=row.title,
                action=row.action.value,
                effect=row.effect,
                why=row.why,
                before=row.before,
                after=row.after,
            )
            for row in rows
        ]
    )
