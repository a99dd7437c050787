"""The governance rules in words: each policy line as a sentence a member can read.

The rules page, the history, a proposal's diff and a Nation's own rules all say a
line through ``explain_line``, so a line reads the same wherever it is shown.
"""

import re
from collections.abc import Mapping, Sequence

from portal.auth.models import NATION_ROLES
from portal.policy import parameters
from portal.policy.conditions import SIGNATURES
from portal.policy.vocabulary import WILDCARD, Action


def _where(domain: str, nation_names: dict[str, str]) -> str:
    if domain == WILDCARD:
        return "in every Nation"
    return f"in {nation_names.get(domain, domain)}"


def _article(word: str) -> str:
    return "An" if word[:1].lower() in "aeiou" else "A"


def _grant(role: str, domain: str, action: str, names: dict[str, str]) -> str:
    """A p line: who may do what, and for which Nation. An action's phrase says "it" for
    the Nation it is done for (vocabulary._PHRASES): their own Nation for a role held in
    one, any Nation for a portal-wide role, the named one for a line of its domain."""
    try:
        phrase = Action(action).phrase
    except ValueError:
        phrase = action.replace("_", " ")
    if domain != WILDCARD:
        nation = names.get(domain, domain)
        phrase = re.sub(r"\bits\b", f"{nation}'s", re.sub(r"\bit\b", nation, phrase))
        return f"{_article(role)} {role} may {phrase} (in {nation} only)."
    nation = "their Nation" if role in NATION_ROLES else "a Nation"
    phrase = re.sub(r"\bits\b", f"{nation}'s", re.sub(r"\bit\b", nation, phrase))
    return f"{_article(role)} {role} may {phrase}."


def condition_words(name: str, params: Mapping[str, object] | None = None) -> str:
    """What a named condition asks, in its own sentence, with the values of ``params``
    (its defaults for those not given)."""
    signature = SIGNATURES.get(name)
    if signature is None:
        return f"the rule {name!r} (not known to this portal)"
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
        where = _where(domain, names)
        return f"{where[0].upper()}{where[1:]}, {action.replace('_', ' ')} needs: " + (
            condition_words(name, params)
        )
    return ", ".join(line)
