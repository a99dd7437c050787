"""What the catalogue of standard conditions and the agreement's standard clauses must
be for every decision and agreement to come out whole, whatever a proposal changes.

Condition texts are completed with str.format and the Nation's values, so they may
name {nation}, {threshold} and {location} only (nothing else can be reached through a
placeholder). Clause texts go through gettext's %-formatting in the agreement's
template, so a % is allowed only in the output-review clause, as %(nations)s. Lengths
are bounded so a text cannot swamp the agreement's pages.

Two clauses may change but not go: the output-review clause is where each Nation's own
requirement to review outputs (its governance profile) appears in the agreement, and
the clause on return or destruction is what makes the end of the term, or a Nation's
revocation, bind the data itself (Possession; the termination clause refers to it).
"""

from string import Formatter
from typing import Any

from portal.agreements.clauses import OUTPUT_REVIEW
from portal.policy.files import Problem
from portal.reviews import due
from portal.reviews.terms import NOT_A_CODE, PLACEHOLDERS, TERM, looks_like_code

LABEL_MAX = 150  # a checkbox's label on the decision page; a clause's title
TEXT_MAX = 1000
REQUIRED_CLAUSES = {
    OUTPUT_REVIEW: "each Nation's requirement to review outputs appears in the agreement there",
    "return_or_destruction": "it binds the data when the term ends or a Nation revokes",
}
NATIONS = "%(nations)s"


def _code(where: str, code: Any) -> list[Problem]:
    if not isinstance(code, str) or not looks_like_code(code):
        message = "its code must be lowercase letters, digits and underscores, from a letter"
        return [Problem(where, message)]
    return []


def _sized(where: str, name: str, value: Any, limit: int) -> list[Problem]:
    if not isinstance(value, str) or not value.strip():
        return [Problem(where, f"needs a {name}")]
    if len(value) > limit:
        return [Problem(where, f"its {name} is longer than {limit} characters")]
    return []


def _placeholders(where: str, text: str) -> list[Problem]:
    """A condition text's {...}: only the Nation's values, written plainly."""
    try:
        fields = [(name, spec, conversion) for _, name, spec, conversion in Formatter().parse(text)]
    except ValueError:
        return [Problem(where, "its text has a { or } without its pair (write {{ or }})")]
    wrong = sorted(
        "{" + name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
        for name, spec, conversion in fields
        if name is not None and (name not in PLACEHOLDERS or spec or conversion)
    )
    if wrong:
        allowed = ", ".join(f"{{{name}}}" for name in sorted(PLACEHOLDERS))
        return [Problem(where, f"its text may name only {allowed}, not {', '.join(wrong)}")]
    return []


def check_catalogue(catalogue: dict[str, Any]) -> list[Problem]:
    problems = []
    for code, entry in catalogue.items():
        where = f"condition {code}"
        problems += _code(where, code)
        if code == NOT_A_CODE:
            problems.append(Problem(where, f"{NOT_A_CODE} marks a Nation's own words"))
        if not isinstance(entry, dict):
            problems.append(Problem(where, "needs a label and a text"))
            continue
        problems += _sized(where, "label", entry.get("label"), LABEL_MAX)
        problems += _sized(where, "text", entry.get("text"), TEXT_MAX)
        if isinstance(entry.get("text"), str):
            problems += _placeholders(where, entry["text"])
        problems += _due(where, entry.get("due"))
        problems += _term(where, entry.get("term"))
    return problems


def _term(where: str, term: Any) -> list[Problem]:
    """A term, if the entry has one, is what the agreement's ODRL names it by: a DUO
    code's IRI or a portal term (portal/reviews/terms.py)."""
    if term is None or (isinstance(term, str) and TERM.fullmatch(term)):
        return []
    message = "its term must be a DUO code's IRI (http://purl.obolibrary.org/obo/DUO_0000046)"
    return [Problem(where, f"{message} or a portal term (urn:stewardship-portal:terms:code)")]


def _due(where: str, spec: Any) -> list[Problem]:
    """A default due, if the entry has one, must be one the obligations understand."""
    if spec is None:
        return []
    try:
        due.parse(spec) if isinstance(spec, str) else due.parse("")
    except ValueError as error:
        return [Problem(where, f"its due: {error}")]
    return []


def _percent(where: str, clause: dict[str, Any]) -> list[Problem]:
    problems = []
    for name in ("title", "text", "text_if_none"):
        value = clause.get(name)
        if not isinstance(value, str):
            continue
        if clause.get("code") == OUTPUT_REVIEW and name == "text":
            if "%" in value.replace(NATIONS, ""):
                problems.append(Problem(where, f"its text may use % only as {NATIONS}"))
        elif "%" in value:
            problems.append(Problem(where, f"its {name} may not use % (write per cent)"))
    return problems


def check_clauses(clauses: list[Any]) -> list[Problem]:
    problems = []
    codes = [clause.get("code") if isinstance(clause, dict) else None for clause in clauses]
    for clause in clauses:
        if not isinstance(clause, dict):
            problems.append(Problem("clause", "needs a code, a title and a text"))
            continue
        where = f"clause {clause.get('code')}"
        problems += _code(where, clause.get("code"))
        problems += _sized(where, "title", clause.get("title"), LABEL_MAX)
        problems += _sized(where, "text", clause.get("text"), TEXT_MAX)
        if clause.get("code") == OUTPUT_REVIEW:
            text = "text for when no Nation reviews outputs (text_if_none)"
            problems += _sized(where, text, clause.get("text_if_none"), TEXT_MAX)
        problems += _percent(where, clause)
    for code in sorted({code for code in codes if codes.count(code) > 1}, key=str):
        problems.append(Problem(f"clause {code}", "appears more than once"))
    for code, why in REQUIRED_CLAUSES.items():
        if code not in codes:
            problems.append(Problem(f"clause {code}", f"may be changed but not removed: {why}"))
    return problems
