"""The Casbin enforcer the portal uses, and the index of what its policy says.

Three things make it fast whatever the number of lines (BENCHMARKS.md):

- p lines are kept by pycasbin's FastEnforcer in a cache keyed (action, domain).
  A request in Nation X looks only in the buckets (act, "*") and (act, X), instead
  of scanning every line as the plain Enforcer does.
- The domain role manager's matching function is switched off: left on (its
  default is plain equality), the first look-up in a domain links every role to
  every other, which is quadratic in the people holding roles there.
- The matcher is parsed once per enforcer, not on every question (pycasbin
  compiles it afresh each time, which was half the cost of a question).
"""

import logging
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import casbin
from casbin.model import FastModel, FastPolicy, Model, fast_policy_filter
from casbin.persist import Adapter

from portal.errors import BlockingRule
from portal.policy import parameters
from portal.policy.vocabulary import WILDCARD

log = logging.getLogger(__name__)

# The FastPolicy cache nests p lines by these columns of "p = sub, dom, act".
CACHE_KEY_ORDER = (2, 1)

Line = tuple[str, Sequence[str]]  # (ptype, values)
# A condition as a line names it: (name, {parameter: value as written}).
Named = tuple[str, dict[str, str]]
# A p2 line: domain, action, condition, then its parameters, which may be left out.
P2_REQUIRED = 3


class LinesAdapter(Adapter):
    """Hands Casbin lines read elsewhere (the database, or a benchmark's own)."""

    def __init__(self, lines: Iterable[Line]) -> None:
        self.lines = lines

    def load_policy(self, model) -> None:
        for ptype, values in self.lines:
            if ptype == "p2" and len(values) == P2_REQUIRED:  # no parameters given
                values = (*values, "")
            assertion = model.model.get(ptype[0], {}).get(ptype)
            if assertion is None or len(values) != len(assertion.tokens):
                log.warning("policy line ignored (not in the model): %s, %s", ptype, values)
                continue
            assertion.policy.append(list(values))


def without_role_matching(enforcer: casbin.Enforcer) -> casbin.Enforcer:
    enforcer.add_named_matching_func("g", None)
    return enforcer


class _FastModel(FastModel):
    """FastModel that keeps every policy type: pycasbin's own add_def drops the
    result its loader loops on, so a model read through it loses p2 (and g2...)."""

    def add_def(self, sec: str, key: str, value) -> bool:
        added = Model.add_def(self, sec, key, value)
        if sec == "p" and key == "p":
            self.model[sec][key].policy = FastPolicy(self._cache_key_order)
        return added


class NationEnforcer(casbin.FastEnforcer):
    """A FastEnforcer that asks the wildcard bucket as well as the Nation's own.

    Stock FastEnforcer filters on the request's own values, so lines for "*"
    would be missed when asking in Nation X. Filtering is shared state on the
    policy object, so enforcing is serialised with a lock (it takes ~0.1 ms).
    """

    def __init__(self, model_path: str | Path, lines: Iterable[Line] = ()) -> None:
        super().__init__(str(model_path), None, cache_key_order=CACHE_KEY_ORDER)
        without_role_matching(self)
        self._lock = threading.Lock()
        self._expressions: dict[str, object] = {}
        self.set_adapter(LinesAdapter(lines))
        self.load_policy()

    def new_model(self, path: str = "", text: str = "") -> FastModel:
        model = _FastModel(self._cache_key_order)
        if path:
            model.load_model(path)
        else:
            model.load_model_from_text(text)
        return model

    def enforce(self, *rvals: str) -> bool:
        sub, dom, act = rvals
        policy = self.model.model["p"]["p"].policy
        buckets = (WILDCARD,) if dom == WILDCARD else (WILDCARD, dom)
        with self._lock:
            for bucket in buckets:
                with fast_policy_filter(policy, act, bucket):
                    if self.enforce_ex(sub, dom, act)[0]:
                        return True
        return False

    def _get_expression(self, expr: str, functions=None):
        # The functions (g) close over this enforcer's role manager, which lives as
        # long as the enforcer, so the parsed matcher can be kept with them.
        if expr not in self._expressions:
            self._expressions[expr] = casbin.Enforcer._get_expression(expr, functions)
        return self._expressions[expr]

    def warm_up(self) -> None:
        """Build each domain's role graph now, not on the first request that asks."""
        role_manager = self.get_role_manager()
        for domain in list(role_manager.all_links):
            role_manager.has_link(WILDCARD, WILDCARD, domain)


@dataclass
class LoadedPolicy:
    """An enforcer with the policy it was built from, as the service reads it."""

    version: int
    enforcer: NationEnforcer
    # The rules version its lines are (portal/policy/versions.py): what a decision made
    # under this enforcer records.
    rules_version: int | None = None
    lines: int = 0  # how many policy lines it was built from
    # (domain, action) -> (condition name, its parameters), in file order
    conditions: dict[tuple[str, str], list[Named]] = field(default_factory=dict)
    # action -> [(role, domain)] of the p lines that grant it
    grants: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    # The enforcer's answers, kept: a loaded policy never changes (a new version is a
    # new LoadedPolicy), and the questions are few (roles x domains x actions).
    answers: dict[tuple[str, str, str], bool] = field(default_factory=dict)
    # What is said when no role may do an action, kept for the same reason, by (action,
    # Nation and its name, language): pages ask and discard many (portal/policy/service).
    refusals: dict[tuple, BlockingRule] = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        model_path: str | Path,
        lines: Sequence[Line],
        version: int,
        rules_version: int | None = None,
    ) -> "LoadedPolicy":
        enforcer = NationEnforcer(model_path, lines)
        enforcer.warm_up()
        loaded = cls(
            version=version, enforcer=enforcer, rules_version=rules_version, lines=len(lines)
        )
        for ptype, values in lines:
            if ptype == "p2" and len(values) in (P2_REQUIRED, P2_REQUIRED + 1):
                domain, action, name, *params = values
                named = (name, parameters.parse(params[0] if params else ""))
                loaded.conditions.setdefault((domain, action), []).append(named)
            elif ptype == "p" and len(values) == 3:
                role, domain, action = values
                loaded.grants.setdefault(action, []).append((role, domain))
        if not loaded.grants:
            log.warning(
                "no governance policy in the database: every action is refused until "
                "`portal policy load` is run"
            )
        return loaded

    def allows(self, sub: str, domain: str, action: str) -> bool:
        """Whether the enforcer allows ``sub`` (a role) ``action`` in ``domain``."""
        key = (sub, domain, action)
        if (answer := self.answers.get(key)) is None:
            answer = self.answers[key] = self.enforcer.enforce(sub, domain, action)
        return answer

    def conditions_for(self, domain: str, action: str) -> list[Named]:
        """The conditions on ``action`` in ``domain``, each with its parameters: those for
        every Nation, then its own (a condition named twice with the same parameters once)."""
        named = self.conditions.get((WILDCARD, action), [])
        if domain != WILDCARD:
            named = named + self.conditions.get((domain, action), [])
        unique = {(name, parameters.unparse(params)): (name, params) for name, params in named}
        return list(unique.values())

    def grants_in(self, domain: str, action: str) -> list[tuple[str, str]]:
        return [
            (role, line_domain)
            for role, line_domain in self.grants.get(action, [])
            if line_domain in (WILDCARD, domain)
        ]
