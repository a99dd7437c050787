"""The Local Contexts Traditional Knowledge (TK) and Biocultural (BC) Labels and Notices a
Nation may attach to a dataset holding its data (rows of `DatasetLabel`).

The set as data: each label's code, name and kind, and what it says in a sentence of our
own plain words (the community adds its own wording when it attaches one; the agreement
prints that wording as the label's clause, and this sentence when it gave none).
"""

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlmodel import Session, select

from portal import validation
from portal.registry.models import DatasetLabel, Nation


@dataclass(frozen=True)
class Label:
    code: str
    name: str
    kind: str  # "TK Label", "BC Label" or "Notice"
    description: str


TK, BC, NOTICE = "TK Label", "BC Label", "Notice"

_LABELS = (
    (
        TK,
        "TK Attribution",
        "Name the community as the source of this knowledge whenever it is used.",
    ),
    (TK, "TK Clan", "This knowledge belongs to a particular clan; ask that clan before using it."),
    (
        TK,
        "TK Family",
        "This knowledge belongs to a particular family; ask that family before using it.",
    ),
    (
        TK,
        "TK Multiple Communities",
        "Several communities hold this knowledge together; each has a say in its use.",
    ),
    (
        TK,
        "TK Community Voice",
        "The community wants its own voice and interpretation heard wherever this is used.",
    ),
    (
        TK,
        "TK Creative",
        "The community made or shaped this and wants that creative part recognised.",
    ),
    (
        TK,
        "TK Verified",
        "The community has checked that this material is used and described properly.",
    ),
    (
        TK,
        "TK Non-Verified",
        "The community has not checked that this material is used or described properly.",
    ),
    (TK, "TK Seasonal", "Some of this may only be used or shared at certain times of the year."),
    (TK, "TK Women General", "Some of this is for women; ask the community before others see it."),
    (TK, "TK Men General", "Some of this is for men; ask the community before others see it."),
    (TK, "TK Men Restricted", "Only certain men may see or use this, as the community decides."),
    (
        TK,
        "TK Women Restricted",
        "Only certain women may see or use this, as the community decides.",
    ),
    (
        TK,
        "TK Culturally Sensitive",
        "This is culturally sensitive: handle it with care and ask before using it.",
    ),
    (
        TK,
        "TK Secret/Sacred",
        "This is secret or sacred: it is not to be shared or used without the community's leave.",
    ),
    (
        TK,
        "TK Open to Commercialization",
        "The community is open to commercial use, on terms agreed with it first.",
    ),
    (TK, "TK Non-Commercial", "This is not to be used to make money."),
    (TK, "TK Community Use Only", "Only the community itself may use this."),
    (TK, "TK Outreach", "The community allows this to be used for teaching and outreach."),
    (BC, "BC Provenance", "The community is the source of this data and must be named with it."),
    (
        BC,
        "BC Multiple Communities",
        "Several communities have rights in this data; each has a say in its use.",
    ),
    (BC, "BC Clan", "This data comes from a particular clan, whose say governs its use."),
    (BC, "BC Consent Verified", "The community confirms that consent was given for this use."),
    (
        BC,
        "BC Consent Non-Verified",
        "The community has not confirmed that consent was given for this use.",
    ),
    (BC, "BC Research Use", "This data may be used for research the community has agreed to."),
    (
        BC,
        "BC Open to Collaboration",
        "The community welcomes working together on research with this data.",
    ),
    (
        BC,
        "BC Open to Commercialization",
        "The community is open to commercial use, on terms agreed with it first.",
    ),
    (BC, "BC Non-Commercial", "This data is not to be used to make money."),
    (BC, "BC Outreach", "The community allows this data to be used for teaching and outreach."),
    (
        NOTICE,
        "TK Notice",
        "Traditional knowledge in this data has rights and conditions the community sets.",
    ),
    (
        NOTICE,
        "BC Notice",
        "This data has rights of the community whose lands and waters it comes from.",
    ),
    (
        NOTICE,
        "Attribution Incomplete Notice",
        "Who this comes from is not fully recorded; the community may correct it.",
    ),
)


def _code(name: str) -> str:
    """ "TK Secret/Sacred" -> "tk-secret-sacred": the code a row and a form carry."""
    return "-".join(name.lower().replace("/", " ").split())


LABELS: dict[str, Label] = {
    _code(name): Label(_code(name), name, kind, description) for kind, name, description in _LABELS
}
KINDS = (TK, BC, NOTICE)


def label(code: str) -> Label | None:
    return LABELS.get(code)


MAX_WORDING = 2000
MAX_HUB_URL = 500


def check_label(code: str, wording: str, hub_url: str) -> tuple[dict[str, str], dict[str, str]]:
    """(errors by field, the values stripped) of a label as a Nation attaches it."""
    errors: dict[str, str] = {}
    if not code:
        errors["code"] = "Choose a TK or BC Label or Notice."
    elif label(code) is None:
        errors["code"] = (
            f"{code[:64]!r} is not a TK or BC Label or Notice: choose one from the list."
        )
    wording = validation.text(
        errors, "wording", wording, "community's wording", max_length=MAX_WORDING, required=False
    )
    hub_url = (hub_url or "").strip()
    parts = urlsplit(hub_url) if len(hub_url) <= MAX_HUB_URL else None
    if hub_url and (parts is None or parts.scheme != "https" or not parts.hostname):
        errors["hub_url"] = (
            "Give the Local Contexts Hub project's address starting with https:// "
            f"(at most {MAX_HUB_URL} characters), or leave it empty."
        )
    return errors, {"code": code, "wording": wording, "hub_url": hub_url}


def labels_of(
    session: Session, dataset_ids: Iterable[int]
) -> dict[int, list[tuple[DatasetLabel, Label, Nation]]]:
    """The labels on each dataset, by the Nation that attached them, in the set's order."""
    ids = list(dataset_ids)
    rows = session.exec(
        select(DatasetLabel, Nation)
        .join(Nation, Nation.id == DatasetLabel.nation_id)
        .where(DatasetLabel.dataset_id.in_(ids))
    ).all()
    order = {code: n for n, code in enumerate(LABELS)}
    found: dict[int, list[tuple[DatasetLabel, Label, Nation]]] = {i: [] for i in ids}
    for row, nation in sorted(rows, key=lambda r: (r[1].name, order.get(r[0].code, 99))):
        if (known := label(row.code)) is not None:  # a code since retired: not shown
            found[row.dataset_id].append((row, known, nation))
    return found
