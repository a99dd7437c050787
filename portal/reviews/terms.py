"""The standard conditions a Nation can attach to an approval (free-text ones too).

Each has a label for the decision form and a text, completed with the Nation's own
values, that goes into the decision and the agreement.
"""

from portal.registry.models import Nation

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


def condition_text(code: str, nation: Nation, storage_location: str) -> str:
    return STANDARD_CONDITIONS[code][1].format(
        threshold=nation.small_cell_threshold,
        location=storage_location or "as declared",
        nation=nation.name,
    )
