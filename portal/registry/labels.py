"""The Local Contexts Traditional Knowledge (TK) and Biocultural (BC) Labels and Notices a
Nation may attach to a dataset holding its data (rows of `DatasetLabel`).

The set as data: each label's code, name and kind, and what it says in a sentence of our
own plain words (the community adds its own wording when it attaches one; the agreement
prints that wording as the label's clause, and this sentence when it gave none).

The names, kinds and sentences are kept in English (the agreement, the API); a page shows
them in the language it speaks (Label.shown_name, shown_kind, shown_description): each is
marked with N_ for the catalogue.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask_babel import gettext, lazy_gettext
from sqlmodel import Session, select

from portal import validation
from portal.registry.models import DatasetLabel, Nation


def N_(text: str) -> str:
    """Marks ``text`` for the catalogue, leaving it English here (see the docstring)."""
    return text


@dataclass(frozen=True)
class Label:
    code: str
    name: str
    kind: str  # "TK Label", "BC Label" or "Notice"
    description: str

    @property
    def shown_name(self) -> str:
        return gettext(self.name)

    @property
    def shown_kind(self) -> str:
        return gettext(self.kind)

    @property
    def shown_description(self) -> str:
        return gettext(self.description)


TK, BC, NOTICE = N_("TK Label"), N_("BC Label"), N_("Notice")
# The heading of each kind's group in a list of choices.
KIND_GROUPS = {
    TK: lazy_gettext("TK Labels"),
    BC: lazy_gettext("BC Labels"),
    NOTICE: lazy_gettext("Notices"),
}

_LABELS = (
    (
        TK,
        N_("TK Attribution"),
        N_("Name the community as the source of this knowledge whenever it is used."),
    ),
    (
        TK,
        N_("TK Clan"),
        N_("This knowledge belongs to a particular clan; ask that clan before using it."),
    ),
    (
        TK,
        N_("TK Family"),
        N_("This knowledge belongs to a particular family; ask that family before using it."),
    ),
    (
        TK,
        N_("TK Multiple Communities"),
        N_("Several communities hold this knowledge together; each has a say in its use."),
    ),
    (
        TK,
        N_("TK Community Voice"),
        N_("The community wants its own voice and interpretation heard wherever this is used."),
    ),
    (
        TK,
        N_("TK Creative"),
        N_("The community made or shaped this and wants that creative part recognised."),
    ),
    (
        TK,
        N_("TK Verified"),
        N_("The community has checked that this material is used and described properly."),
    ),
    (
        TK,
        N_("TK Non-Verified"),
        N_("The community has not checked that this material is used or described properly."),
    ),
    (
        TK,
        N_("TK Seasonal"),
        N_("Some of this may only be used or shared at certain times of the year."),
    ),
    (
        TK,
        N_("TK Women General"),
        N_("Some of this is for women; ask the community before others see it."),
    ),
    (
        TK,
        N_("TK Men General"),
        N_("Some of this is for men; ask the community before others see it."),
    ),
    (
        TK,
        N_("TK Men Restricted"),
        N_("Only certain men may see or use this, as the community decides."),
    ),
    (
        TK,
        N_("TK Women Restricted"),
        N_("Only certain women may see or use this, as the community decides."),
    ),
    (
        TK,
        N_("TK Culturally Sensitive"),
        N_("This is culturally sensitive: handle it with care and ask before using it."),
    ),
    (
        TK,
        N_("TK Secret/Sacred"),
        N_(
            "This is secret or sacred: it is not to be shared or used without the "
            "community's leave."
        ),
    ),
    (
        TK,
        N_("TK Open to Commercialization"),
        N_("The community is open to commercial use, on terms agreed with it first."),
    ),
    (TK, N_("TK Non-Commercial"), N_("This is not to be used to make money.")),
    (TK, N_("TK Community Use Only"), N_("Only the community itself may use this.")),
    (TK, N_("TK Outreach"), N_("The community allows this to be used for teaching and outreach.")),
    (
        BC,
        N_("BC Provenance"),
        N_("The community is the source of this data and must be named with it."),
    ),
    (
        BC,
        N_("BC Multiple Communities"),
        N_("Several communities have rights in this data; each has a say in its use."),
    ),
    (BC, N_("BC Clan"), N_("This data comes from a particular clan, whose say governs its use.")),
    (
        BC,
        N_("BC Consent Verified"),
        N_("The community confirms that consent was given for this use."),
    ),
    (
        BC,
        N_("BC Consent Non-Verified"),
        N_("The community has not confirmed that consent was given for this use."),
    ),
    (
        BC,
        N_("BC Research Use"),
        N_("This data may be used for research the community has agreed to."),
    ),
    (
        BC,
        N_("BC Open to Collaboration"),
        N_("The community welcomes working together on research with this data."),
    ),
    (
        BC,
        N_("BC Open to Commercialization"),
        N_("The community is open to commercial use, on terms agreed with it first."),
    ),
    (BC, N_("BC Non-Commercial"), N_("This data is not to be used to make money.")),
    (
        BC,
        N_("BC Outreach"),
        N_("The community allows this data to be used for teaching and outreach."),
    ),
    (
        NOTICE,
        N_("TK Notice"),
        N_("Traditional knowledge in this data has rights and conditions the community sets."),
    ),
    (
        NOTICE,
        N_("BC Notice"),
        N_("This data has rights of the community whose lands and waters it comes from."),
    ),
    (
        NOTICE,
        N_("Attribution Incomplete Notice"),
        N_("Who this comes from is not fully recorded; the community may correct it."),
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
        errors["code"] = gettext("Choose a TK or BC Label or Notice.")
    elif label(code) is None:
        errors["code"] = gettext(
            "%(code)s is not a TK or BC Label or Notice: choose one from the list.",
            code=repr(code[:64]),
        )
    wording = validation.text(
        errors, "wording", wording, "community's wording", max_length=MAX_WORDING, required=False
    )
    hub_url = (hub_url or "").strip()
    parts = urlsplit(hub_url) if len(hub_url) <= MAX_HUB_URL else None
    if hub_url and (parts is None or parts.scheme != "https" or not parts.hostname):
        errors["hub_url"] = gettext(
            "Give the Local Contexts Hub project's address starting with https:// "
            "(at most %(max)s characters), or leave it empty.",
            max=MAX_HUB_URL,
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
