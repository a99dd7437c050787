"""A Nation's TK and BC Labels and Notices on the datasets holding its data, as its
representatives attach and remove them (`label_datasets`, reserved to them).

Every function asks the policy first, in the Nation's domain, then that the dataset
holds the Nation's data (a Nation labels only its own). Flush, never commit; each change
is an audit event in the Nation's record. A label becomes a clause of the agreements
issued after it (portal/agreements/document.py): one already issued keeps what it said.
"""

from flask_babel import gettext as _
from sqlmodel import Session, select

from portal.audit.events import EventType
from portal.audit.service import record_event
from portal.auth.models import User
from portal.db import utcnow
from portal.errors import NotFound, ValidationError
from portal.policy.service import authorize, require
from portal.policy.vocabulary import Action
from portal.registry.labels import check_label
from portal.registry.models import Dataset, DatasetLabel, Nation
from portal.registry.service import nations_of


def require_labelling(session: Session, actor: User, dataset: Dataset, nation: Nation) -> None:
    """403 unless ``actor`` may label for the Nation; 404 if the dataset holds none of its data."""
    require(session, actor, Action.LABEL_DATASETS, nation=nation)
    if nation.id not in {n.id for n in nations_of(session, dataset)}:
        raise NotFound(
            _("%(dataset)s holds no data of %(nation)s", dataset=dataset.title, nation=nation.name)
        )


def _attached(session: Session, dataset: Dataset, nation: Nation, code: str) -> DatasetLabel | None:
    return session.exec(
        select(DatasetLabel).where(
            DatasetLabel.dataset_id == dataset.id,
            DatasetLabel.nation_id == nation.id,
            DatasetLabel.code == code,
        )
    ).first()


def labelling_nations(session: Session, actor: User, dataset: Dataset) -> list[Nation]:
    """The dataset's Nations for which ``actor`` may attach labels (the page's forms)."""
    return [
        nation
        for nation in nations_of(session, dataset)
        if authorize(session, actor, Action.LABEL_DATASETS, nation=nation).allowed
    ]


def attach_label(
    session: Session,
    actor: User,
    dataset: Dataset,
    nation: Nation,
    *,
    code: str,
    wording: str = "",
    hub_url: str = "",
) -> tuple[DatasetLabel, dict[str, list]]:
    """Attach a label for the Nation, or change the wording or link of the one it has;
    returns the row and {field: [old, new]} of what changed ({} for nothing)."""
    require_labelling(session, actor, dataset, nation)
    errors, values = check_label(code, wording, hub_url)
    if errors:
        raise ValidationError(errors)
    row = _attached(session, dataset, nation, code)
    if row is None:
        row = DatasetLabel(dataset_id=dataset.id, nation_id=nation.id, code=code)
        changes = {name: ["", values[name]] for name in ("wording", "hub_url")}
    else:
        changes = {
            name: [getattr(row, name), values[name]]
            for name in ("wording", "hub_url")
            if getattr(row, name) != values[name]
        }
        if not changes:
            return row, {}
    row.wording, row.hub_url, row.updated_at = values["wording"], values["hub_url"], utcnow()
    session.add(row)
    session.flush()
    _event(session, actor, EventType.DATASET_LABELLED, dataset, nation, code, changes)
    return row, changes


def remove_label(
    session: Session, actor: User, dataset: Dataset, nation: Nation, code: str
) -> None:
    """Take the Nation's label off the dataset (NotFound if it has none of that code)."""
    require_labelling(session, actor, dataset, nation)
    row = _attached(session, dataset, nation, code)
    if row is None:
        raise NotFound(
            _(
                "%(nation)s has no label %(code)s on %(dataset)s",
                nation=nation.name,
                code=repr(code[:64]),
                dataset=dataset.title,
            )
        )
    session.delete(row)
    session.flush()
    _event(session, actor, EventType.DATASET_LABEL_REMOVED, dataset, nation, code, {})


def _event(session, actor, kind, dataset: Dataset, nation: Nation, code: str, changes) -> None:
    record_event(
        session,
        action=kind,
        actor=actor,
        nations=[nation],
        details={"slug": dataset.slug, "label": code, **({"changes": changes} if changes else {})},
    )


def set_labels(
    session: Session, actor: User, nation: Nation, dataset_slug: str, wanted: list[dict]
) -> Dataset:
    """The API's whole-set form: the Nation's labels on the dataset become ``wanted``
    ([{code, wording, hub_url}]); each one attached, changed or removed is its own event.
    Every entry is checked before anything changes (422 names "labels.N.field")."""
    require(session, actor, Action.LABEL_DATASETS, nation=nation)
    dataset = session.exec(select(Dataset).where(Dataset.slug == dataset_slug)).first()
    if dataset is None or nation.id not in {n.id for n in nations_of(session, dataset)}:
        raise ValidationError(
            {"dataset": f"{dataset_slug[:64]!r} is no dataset holding {nation.name}'s data."}
        )
    errors: dict[str, str] = {}
    codes = [entry.get("code", "") for entry in wanted]
    for n, entry in enumerate(wanted):
        found, _values = check_label(
            entry.get("code", ""), entry.get("wording", ""), entry.get("hub_url", "")
        )
        errors |= {f"labels.{n}.{field}": message for field, message in found.items()}
        if codes.index(entry.get("code", "")) != n:
            errors[f"labels.{n}.code"] = "Each label once: this one is in the list already."
    if errors:
        raise ValidationError(errors)
    have = session.exec(
        select(DatasetLabel.code).where(
            DatasetLabel.dataset_id == dataset.id, DatasetLabel.nation_id == nation.id
        )
    ).all()
    for code in sorted(set(have) - set(codes)):
        remove_label(session, actor, dataset, nation, code)
    for entry in wanted:
        attach_label(session, actor, dataset, nation, **entry)
    return dataset
