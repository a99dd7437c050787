"""The agreement's standard clauses as they stood before the members changed any.

They are governance rules like the policy lines: the first version of the rules
(portal/policy/versions.py) holds these, and a portal-wide proposal the member
Nations approve may change them. Each clause has a code, a title and a text; the
output-review clause has two texts, ``%(nations)s`` naming who reviews outputs.
The English texts are the translation catalogue's keys (portal/agreements/locale).
An agreement prints the clauses of the rules version it was issued under.
"""

import copy

from sqlmodel import Session

from portal.policy.models import clauses_of

STANDARD_CLAUSES: list[dict[str, str]] = [
    {
        "code": "purpose",
        "title": "Purpose.",
        "text": "The data is used only for the purpose approved by the Nations and stated in "
        "this agreement. Any other use needs a new request and a new decision of every "
        "Nation concerned.",
    },
    {
        "code": "no_reidentification",
        "title": "No re-identification.",
        "text": "No one attempts to identify any person, family or community from the data, "
        "alone or combined with other information.",
    },
    {
        "code": "no_onward_transfer",
        "title": "No onward transfer.",
        "text": "The data is not disclosed, sold or transferred to anyone outside the project "
        "team, and it is not moved out of the storage location above.",
    },
    {
        "code": "ownership",
        "title": "Ownership and acknowledgement.",
        "text": "Each Nation keeps ownership of its data and of what is learned from it, and "
        "is acknowledged as its owner in every output.",
    },
    {
        "code": "output_review",
        "title": "Community review of outputs.",
        "text": "Before publication, every output is submitted for review to: %(nations)s. "
        "Nothing is published before that review.",
        "text_if_none": "No Nation requires review of outputs before publication; every output "
        "is still shared with each Nation before it is published.",
    },
    {
        "code": "return_or_destruction",
        "title": "Return or destruction.",
        "text": "At the end of the term, or at once when a Nation revokes this agreement, the "
        "researcher returns or destroys the data and every copy of it, and attests to it in "
        "writing.",
    },
    {
        "code": "termination",
        "title": "Termination on breach.",
        "text": "A breach of this agreement ends it: the Nation concerned may revoke access at "
        "once, and the clause on return or destruction applies.",
    },
]


# The clause whose text names the Nations that review outputs (%(nations)s), with a
# second text for when none does.
OUTPUT_REVIEW = "output_review"


def default_clauses() -> list[dict[str, str]]:
    return copy.deepcopy(STANDARD_CLAUSES)


def agreement_clauses(session: Session, rules_version: int | None) -> list[dict[str, str]]:
    """The standard clauses of an agreement issued under ``rules_version`` (the first
    ones for an agreement issued before versions were kept)."""
    kept = clauses_of(session, rules_version)
    return default_clauses() if kept is None else kept
