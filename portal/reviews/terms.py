"""The standard conditions a Nation can attach to an approval (free-text ones too).

Each has a label for the decision form, a text, completed with the Nation's own
values, that goes into the decision and the agreement, and a term: the IRI a machine
reads it by in the agreement's ODRL policy (portal/agreements/odrl.py), a code of the
GA4GH Data Use Ontology (DUO) where one means the same, else one of the portal's own.
They are governance rules: the catalogue in force is that of the newest rules version
(portal/policy/versions.py), which the member Nations change by proposal; the dict
below is only its first seed.
"""

import re

from flask_babel import gettext
from sqlmodel import Session

from portal.policy import models as rules
from portal.registry.models import Nation

Catalogue = dict[str, dict[str, str]]


def N_(text: str) -> str:
    """Marks a text for the French catalogue without translating it here: the seed is
    stored as it is, and a page translates it (gettext) when it shows it unchanged."""
    return text


def shown(text: str) -> str:
    """A catalogue entry's label or text in the language spoken now: the seed's words
    have their French; words the members changed are shown as they wrote them."""
    return gettext(text) if text else text


STANDARD_CONDITIONS: dict[str, tuple[str, str]] = {
    "community_output_review": (
        N_("Outputs reviewed by the community before publication"),
        N_("Outputs are reviewed by {nation} before publication."),
    ),
    "aggregate_only": (
        N_("Aggregate results only, small cells suppressed"),
        N_("Only aggregate results are released; cells below {threshold} are suppressed."),
    ),
    "no_linkage": (
        N_("No linkage with other data without a new request"),
        N_("The data is not linked with other data without a new request."),
    ),
    "data_stays_in_location": (
        N_("Data stays in the approved location"),
        N_("The data stays in the approved location ({location})."),
    ),
    "acknowledge_ownership": (
        N_("The Nation is acknowledged as owner"),
        N_("{nation} is acknowledged as the owner of its data in every output."),
    ),
    "return_or_destroy": (
        N_("Return or destruction at the end"),
        N_("The data is returned or destroyed at the end of the term, with an attestation."),
    ),
    "non_commercial": (
        N_("Non-commercial use only"),
        N_("The data and what is learned from it are used for no commercial purpose."),
    ),
    "ethics_approval_kept": (
        N_("Ethics approval kept for the whole term"),
        N_(
            "The research keeps a valid ethics approval for the whole term, and {nation} is told "
            "at once if it lapses."
        ),
    ),
    "named_users_only": (
        N_("Only the named team uses the data"),
        N_("Only the researcher and the team members named in this agreement use the data."),
    ),
    "collective_consent": (
        N_("Collective consent for any new use"),
        N_(
            "Any use beyond this agreement needs the collective consent of {nation}, given "
            "through its own governance."
        ),
    ),
}
# The IRI of each standard condition. DUO's where its definition is the condition's
# (DUO:0000022 geographical restriction, 0000046 non-commercial use only, 0000021
# ethics approval required, 0000026 user-specific restriction); DUO has no code for
# the others, which are the portal's own (PORTAL_TERMS). DUO:0000029 "return to
# database or resource" is about returning results to the resource, not destroying
# the data, so it is not return_or_destroy's.
DUO = "http://purl.obolibrary.org/obo/DUO_"
PORTAL_TERMS = "urn:stewardship-portal:terms:"
DUO_CODES: dict[str, str] = {
    "data_stays_in_location": "0000022",
    "non_commercial": "0000046",
    "ethics_approval_kept": "0000021",
    "named_users_only": "0000026",
}
# What a catalogue entry's term may be: a DUO code, or a portal term named like a code.
TERM = re.compile(
    r"http://purl\.obolibrary\.org/obo/DUO_\d{7}|urn:stewardship-portal:terms:[a-z][a-z0-9_]{0,59}"
)
# When a standard condition falls due once access begins, unless the representative
# says otherwise (portal/reviews/due.py); the others are due at the end.
DEFAULT_DUES: dict[str, str] = {
    "community_output_review": "before_publication",
    "return_or_destroy": "at_end",
}
# What a condition's text may name: the deciding Nation's own values.
PLACEHOLDERS = frozenset({"nation", "threshold", "location"})
# A code of the catalogue (or of a clause): what a decision names a standard condition by.
# "custom" marks a Nation's own words in a decision, so it is no code.
CODE = re.compile(r"[a-z][a-z0-9_]{0,59}")
NOT_A_CODE = "custom"


def looks_like_code(item: str) -> bool:
    return CODE.fullmatch(item) is not None


def seed_term(code: str) -> str:
    """The term the first catalogue gives ``code``: DUO's, or the portal's own."""
    return DUO + DUO_CODES[code] if code in DUO_CODES else PORTAL_TERMS + code


def default_catalogue() -> Catalogue:
    return {
        code: {"label": label, "text": text, "term": seed_term(code)}
        | ({"due": DEFAULT_DUES[code]} if code in DEFAULT_DUES else {})
        for code, (label, text) in STANDARD_CONDITIONS.items()
    }


def term_of(code: str, entry: dict[str, str] | None) -> str:
    """The IRI of a catalogue entry. A catalogue kept before entries had terms (or an
    entry the members added without one) reads the seed's term for the same code: the
    code names the condition in every version."""
    return (entry or {}).get("term") or seed_term(code)


def short_term(iri: str) -> str:
    """``DUO:0000046`` or ``portal:no_linkage``: how people and notices name a term."""
    if iri.startswith(DUO):
        return "DUO:" + iri.removeprefix(DUO)
    return "portal:" + iri.removeprefix(PORTAL_TERMS)


def catalogue_in_force(session: Session) -> Catalogue:
    """The standard conditions a decision may attach now."""
    kept = rules.catalogue_in_force(session)
    return default_catalogue() if kept is None else kept


def catalogue_of(session: Session, number: int | None) -> Catalogue:
    """The standard conditions of rules version ``number`` (the defaults before any)."""
    kept = rules.catalogue_of(session, number)
    return default_catalogue() if kept is None else kept


def condition_params(nation: Nation, storage_location: str) -> dict[str, str | int]:
    return {
        "nation": nation.name,
        "threshold": nation.small_cell_threshold,
        "location": storage_location or "as declared",
    }


def condition_text(text: str, nation: Nation, storage_location: str) -> str:
    """A catalogue entry's ``text`` completed with the deciding Nation's values."""
    return text.format(**condition_params(nation, storage_location))
