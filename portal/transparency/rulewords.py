"""The governance rules in words: each policy line as a sentence a member can read.

The rules page, the history, a proposal's diff and a Nation's own rules all say a
line through ``explain_line``, so a line reads the same wherever it is shown.
"""

import re
from collections.abc import Mapping, Sequence

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal.auth.models import NATION_ROLES
from portal.policy import parameters
from portal.policy.conditions import SIGNATURES
from portal.policy.vocabulary import WILDCARD, Action, action_name

# Who may do it, at the head of a sentence: "A steward may ...".
_SOMEONE = {
    "researcher": _l("A researcher"),
    "coordinator": _l("A coordinator"),
    "admin": _l("An admin"),
    "steward": _l("A steward"),
    "representative": _l("A representative"),
}


def _someone(role: str) -> str:
    found = _SOMEONE.get(role)
    if found is not None:
        return str(found)
    return f"{'An' if role[:1].lower() in 'aeiou' else 'A'} {role}"  # a role not known here


def _phrase(action: str, nation: str) -> str:
    """What the action is, with ``nation`` for the Nation it is done for (an action's
    phrase says "it" for it: vocabulary._PHRASES)."""
    try:
        return Action(action).phrase_for(nation)
    except ValueError:  # an action not known here: its name, in English as it is written
        phrase = action.replace("_", " ")
        return re.sub(r"\bits\b", f"{nation}'s", re.sub(r"\bit\b", nation, phrase))


def _grant(role: str, domain: str, action: str, names: dict[str, str]) -> str:
    """A p line: who may do what, and for which Nation: their own Nation for a role held
    in one, any Nation for a portal-wide role, the named one for a line of its domain."""
    if domain != WILDCARD:
        nation = names.get(domain, domain)
        return _(
            "%(someone)s may %(phrase)s (in %(nation)s only).",
            someone=_someone(role),
            phrase=_phrase(action, nation),
            nation=nation,
        )
    nation = _("their Nation") if role in NATION_ROLES else _("a Nation")
    return _("%(someone)s may %(phrase)s.", someone=_someone(role), phrase=_phrase(action, nation))


def condition_words(name: str, params: Mapping[str, object] | None = None) -> str:
    """What a named condition asks, in its own sentence, with the values of ``params``
    (its defaults for those not given)."""
    signature = SIGNATURES.get(name)
    if signature is None:
        return _("the rule %(name)s (not known to this portal)", name=repr(name))
    return signature.words(params)


def explain_line(line: Sequence[str], nation_names: dict[str, str] | None = None) -> str:
    """One policy line ([ptype, v0, v1, ...]) as a sentence."""
    names = nation_names or {}
    ptype, *values = line
    if ptype == "p" and len(values) == 3:
        return _grant(*values, names)
    if ptype == "p2" and len(values) >= 3:
        domain, action, name = values[:3]
        params = parameters.parse(values[3]) if len(values) > 3 else None
        words = condition_words(name, params)
        if domain == WILDCARD:
            return _(
                "In every Nation, %(action)s needs: %(condition)s",
                action=action_name(action),
                condition=words,
            )
        return _(
            "In %(nation)s, %(action)s needs: %(condition)s",
            nation=names.get(domain, domain),
            action=action_name(action),
            condition=words,
        )
    return ", ".join(line)
