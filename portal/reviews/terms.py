"""The standard conditions a Nation can attach to an approval (free-text ones too).

Each has a label for the decision form and a text, completed with the Nation's own
values, that goes into the decision and the agreement. They are governance rules:
the catalogue in force is that of the newest rules version (portal/policy/versions.py),
which the member Nations change by proposal; the dict below is only its first seed.
"""

import re

from sqlmodel import Session

from portal.policy import models as rules
from portal.registry.models import Nation

Catalogue = dict[str, dict[str, str]]

STANDARD_CONDITIONS: dict[str, tuple[str, str]] = {
    "community_output_review": (
        "Outputs reviewed by the community before publication",
        "Outputs are reviewed by {nation} before publication.",
    ),
    "aggregate_only": (
        "Aggregate results only, small cells suppressed",
        "Only aggregate results are released; cells below {threshold} are suppressed.",
    ),
    "no_linkage": (
        "No linkage with other data without a new request",
        "The data is not linked with other data without a new request.",
    ),
    "data_stays_in_location": (
        "Data stays in the approved location",
        "The data stays in the approved location ({location}).",
    ),
    "acknowledge_ownership": (
        "The Nation is acknowledged as owner",
        "{nation} is acknowledged as the owner of its data in every output.",
    ),
    "return_or_destroy": (
        "Return or destruction at the end",
        "The data is returned or destroyed at the end of the term, with an attestation.",
    ),
}
# When a standard condition falls due once access begins, unless the representative
# says otherwise (portal/lifecycle/due.py); the others are due at the end.
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


def default_catalogue() -> Catalogue:
    return {
        code: {"label": label, "text": text}
        | ({"due": DEFAULT_DUES[code]} if code in DEFAULT_DUES else {})
        for code, (label, text) in STANDARD_CONDITIONS.items()
    }


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
