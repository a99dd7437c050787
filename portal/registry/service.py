"""The registry: Nations with their governance profiles, and datasets. Flush, never commit."""

import re
from collections.abc import Iterable
from typing import Any

import pycountry
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlmodel import Session, select

from portal import validation
from portal.agreements.models import Agreement
from portal.audit.events import EventType
from portal.audit.service import record_event
from portal.auth.models import User
from portal.db import utcnow
from portal.errors import Conflict, NotFound, ValidationError
from portal.registry.models import Dataset, DatasetNation, Framework, Nation
from portal.registry.names import NAME_FIELDS, check_names
from portal.requests.models import AccessRequest, RequestDataset, RequestRevision, RequestStatus

SLUG_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
SLUG_RULE = "lower-case letters, digits and hyphens, starting and ending with a letter or digit"


def check_slug(slug: str, field: str = "slug") -> str:
    if not SLUG_PATTERN.fullmatch(slug):
        raise ValidationError(
            {
                field: _(
                    "%(slug)s is not a valid slug: use lower-case letters, digits and hyphens, "
                    "starting and ending with a letter or digit.",
                    slug=repr(slug),
                )
            }
        )
    return slug


def jurisdiction_code(code: str) -> str:
    """An ISO 3166 country (``CA``) or subdivision (``CA-ON``) code, upper-cased, or an error."""
    normalised = code.strip().upper()
    if pycountry.countries.get(alpha_2=normalised) or pycountry.subdivisions.get(code=normalised):
        return normalised
    raise ValidationError(
        {
            "residency": _(
                "%(code)s is not an ISO 3166 country or subdivision code (e.g. CA, CA-ON).",
                code=repr(code),
            )
        }
    )


# Bounds well past any real Nation's rules, and well inside the columns' range (a
# 32-bit integer; a term added to a date must stay a date).
MAX_QUORUM = 100
MAX_TERM_DAYS = 36_500
MAX_SMALL_CELL = 10_000


def check_profile(
    review_quorum: int,
    min_approvals: int,
    residency: Iterable[str],
    max_term_days: int | None,
    small_cell_threshold: int,
) -> tuple[dict[str, str], list[str]]:
    """The rules of a governance profile: (errors by field, residency codes normalised)."""
    errors: dict[str, str] = {}
    if review_quorum < 1:
        errors["review_quorum"] = _("The review quorum must be at least 1.")
    elif review_quorum > MAX_QUORUM:
        errors["review_quorum"] = _("The review quorum can be at most %(max)s.", max=MAX_QUORUM)
    if not 0 <= min_approvals <= min(max(review_quorum, 0), MAX_QUORUM):
        errors["min_approvals"] = _("Minimum approvals must be between 0 and the review quorum.")
    if max_term_days is not None and max_term_days < 1:
        errors["max_term_days"] = _("The maximum term must be at least 1 day.")
    elif max_term_days is not None and max_term_days > MAX_TERM_DAYS:
        errors["max_term_days"] = _(
            "The maximum term can be at most %(max)s days (100 years).", max=MAX_TERM_DAYS
        )
    if small_cell_threshold < 0:
        errors["small_cell_threshold"] = _("The small-cell threshold cannot be negative.")
    elif small_cell_threshold > MAX_SMALL_CELL:
        errors["small_cell_threshold"] = _(
            "The small-cell threshold can be at most %(max)s.", max=MAX_SMALL_CELL
        )
    codes: list[str] = []
    bad: list[str] = []
    for code in residency:
        try:
            codes.append(jurisdiction_code(code))
        except ValidationError as error:
            bad.append(code)
            errors |= error.errors
    if len(bad) > 1:
        listed = ", ".join(repr(code) for code in bad)
        errors["residency"] = _(
            "%(codes)s are not ISO 3166 country or subdivision codes (e.g. CA, CA-ON).",
            codes=listed,
        )
    return errors, list(dict.fromkeys(codes))


def get_nation(session: Session, slug: str) -> Nation:
    # Not a slug at all (say, a NUL byte PostgreSQL cannot even compare): no such Nation.
    is_slug = isinstance(slug, str) and SLUG_PATTERN.fullmatch(slug)
    nation = session.exec(select(Nation).where(Nation.slug == slug)).first() if is_slug else None
    if nation is None:
        raise NotFound(f"no Nation with slug {slug!r}")
    return nation


def list_nations(session: Session) -> list[Nation]:
    return list(session.exec(select(Nation).order_by(Nation.name)))


def create_nation(
    session: Session,
    slug: str,
    name: str,
    framework: Framework | str,
    *,
    review_quorum: int = 1,
    min_approvals: int = 1,
    residency: Iterable[str] = (),
    max_term_days: int | None = None,
    output_review_required: bool = True,
    small_cell_threshold: int = 5,
    names: dict[str, str] | None = None,
    actor: User | None = None,
    admitted: bool = True,
) -> Nation:
    """Register a Nation and its governance profile. ``actor``: who (None: the system);
    ``names``: its name_fr, name_own and name_own_lang (portal/registry/names.py);
    ``admitted``: a member Nation at once, or waiting for the members to admit it (who
    decides is portal/policy/membership.py's, which every adapter registers through)."""
    errors: dict[str, str] = {}
    own = check_names(errors, **{name: (names or {}).get(name, "") for name in NAME_FIELDS})
    try:
        check_slug(slug)
    except ValidationError as error:
        errors |= error.errors
    name = validation.text(errors, "name", name, "name", max_length=200)
    try:
        framework = Framework(framework)
    except ValueError:
        choices = ", ".join(f.value for f in Framework)
        errors["framework"] = _(
            "%(framework)s is not a framework: choose one of %(choices)s.",
            framework=repr(framework),
            choices=choices,
        )
    profile_errors, codes = check_profile(
        review_quorum, min_approvals, residency, max_term_days, small_cell_threshold
    )
    errors |= profile_errors
    if errors:
        raise ValidationError(errors)
    if session.exec(select(Nation.id).where(Nation.slug == slug)).first() is not None:
        raise Conflict(_("a Nation with slug %(slug)s exists already", slug=repr(slug)))
    nation = Nation(
        slug=slug,
        name=name,
        framework=framework,
        review_quorum=review_quorum,
        min_approvals=min_approvals,
        residency=codes,
        max_term_days=max_term_days,
        output_review_required=output_review_required,
        small_cell_threshold=small_cell_threshold,
        admitted_at=utcnow() if admitted else None,
        **own,
    )
    session.add(nation)
    session.flush()
    record_event(
        session,
        action=EventType.NATION_REGISTERED,
        actor=actor,
        nations=[nation],
        details={
            "slug": nation.slug,
            "name": nation.name,
            "profile": governance_profile(nation),
            "member": admitted,
        },
    )
    return nation


def governance_profile(nation: Nation) -> dict[str, Any]:
    """The rules a Nation sets for its data, as plain values (for the record and the API)."""
    return {
        "framework": nation.framework.value,
        "review_quorum": nation.review_quorum,
        "min_approvals": nation.min_approvals,
        "residency": list(nation.residency),
        "max_term_days": nation.max_term_days,
        "output_review_required": nation.output_review_required,
        "small_cell_threshold": nation.small_cell_threshold,
        "remind_review_days": nation.remind_review_days,
        "remind_decision_days": nation.remind_decision_days,
        "remind_signature_days": nation.remind_signature_days,
        "remind_report_days": nation.remind_report_days,
        "attestation_due_days": nation.attestation_due_days,
    }


def create_dataset(
    session: Session,
    slug: str,
    title: str,
    custodian: str,
    nation_slugs: Iterable[str],
    description: str = "",
    *,
    names: dict[str, str] | None = None,
    actor: User | None = None,
) -> Dataset:
    """Register a dataset and whose data it holds. ``actor``: who (None: the system);
    ``names``: its name_fr, name_own and name_own_lang (portal/registry/names.py)."""
    errors: dict[str, str] = {}
    own = check_names(errors, **{name: (names or {}).get(name, "") for name in NAME_FIELDS})
    try:
        check_slug(slug)
    except ValidationError as error:
        errors |= error.errors
    title = validation.text(errors, "title", title, "title", max_length=200)
    custodian = validation.text(errors, "custodian", custodian, "custodian", max_length=200)
    nation_slugs = list(dict.fromkeys(nation_slugs))
    if not nation_slugs:
        errors["nations"] = _("Name at least one Nation whose data the dataset holds.")
    if errors:
        raise ValidationError(errors)
    nations = [get_nation(session, nation_slug) for nation_slug in nation_slugs]
    if session.exec(select(Dataset.id).where(Dataset.slug == slug)).first() is not None:
        raise Conflict(_("a dataset with slug %(slug)s exists already", slug=repr(slug)))
    dataset = Dataset(slug=slug, title=title, custodian=custodian, description=description, **own)
    session.add(dataset)
    session.flush()
    for nation in nations:
        session.add(DatasetNation(dataset_id=dataset.id, nation_id=nation.id))
    session.flush()
    record_event(
        session,
        action=EventType.DATASET_REGISTERED,
        actor=actor,
        nations=nations,
        details={
            "slug": dataset.slug,
            "title": dataset.title,
            "custodian": dataset.custodian,
            "nations": [nation.slug for nation in nations],
        },
    )
    return dataset


def list_datasets(session: Session) -> list[tuple[Dataset, list[Nation]]]:
    """Every dataset with the Nations whose data it holds."""
    datasets = list(session.exec(select(Dataset).order_by(Dataset.title)))
    links = session.exec(
        select(DatasetNation.dataset_id, Nation)
        .join(Nation, DatasetNation.nation_id == Nation.id)
        .order_by(Nation.name)
    ).all()
    nations_by_dataset: dict[int, list[Nation]] = {}
    for dataset_id, nation in links:
        nations_by_dataset.setdefault(dataset_id, []).append(nation)
    return [(dataset, nations_by_dataset.get(dataset.id, [])) for dataset in datasets]


def get_dataset(session: Session, slug: str) -> Dataset:
    is_slug = isinstance(slug, str) and SLUG_PATTERN.fullmatch(slug)
    dataset = session.exec(select(Dataset).where(Dataset.slug == slug)).first() if is_slug else None
    if dataset is None:
        raise NotFound(f"no dataset with slug {slug!r}")
    return dataset


def nations_of(session: Session, dataset: Dataset) -> list[Nation]:
    """The Nations whose data ``dataset`` holds, by name."""
    return list(
        session.exec(
            select(Nation)
            .join(DatasetNation, DatasetNation.nation_id == Nation.id)
            .where(DatasetNation.dataset_id == dataset.id)
            .order_by(Nation.name)
        )
    )


# Requests whose Nations were asked, or are being asked: a Nation added to a dataset they
# use would take no part in them (never asked, never a party to the agreement in force).
_NOT_YET_OR_NO_LONGER = (
    RequestStatus.DRAFT,
    RequestStatus.REFUSED,
    RequestStatus.WITHDRAWN,
    RequestStatus.CLOSED,
)


def _in_force_while_amended(session: Session, dataset: Dataset) -> set[str]:
    """The requests an amendment is open on whose edition in force uses ``dataset``: the
    amendment's revision (RequestDataset) may drop it while access to it goes on (found
    in a review). Any edition that took effect counts: a superseded one errs on the side
    of asking."""
    rows = session.exec(
        select(AccessRequest.ref, RequestRevision.fields)
        .join(Agreement, Agreement.request_id == AccessRequest.id)
        .join(
            RequestRevision,
            (RequestRevision.request_id == AccessRequest.id)
            & (RequestRevision.number == Agreement.revision),
        )
        .where(
            AccessRequest.amendment.is_not(None),
            AccessRequest.status.not_in(_NOT_YET_OR_NO_LONGER),
            Agreement.effective_at.is_not(None),
        )
    )
    return {ref for ref, fields in rows if dataset.slug in (fields or {}).get("datasets", [])}


def _check_nations_change(
    session: Session, dataset: Dataset, before: list[Nation], after: list[Nation]
) -> None:
    """A Nation whose data a submitted request already uses cannot be taken off the
    dataset: its part in those requests is its own (it would lose sight of them). Nor
    can one be added while a request that uses it is in progress or in force: that
    Nation would never be asked, yet its data released (found in a probe)."""
    dropped = [n for n in before if n.id not in {m.id for m in after}]
    added = [n for n in after if n.id not in {m.id for m in before}]
    uses = (
        select(AccessRequest.ref)
        .join(RequestDataset, RequestDataset.request_id == AccessRequest.id)
        .where(RequestDataset.dataset_id == dataset.id)
    )
    if dropped and session.exec(uses.where(AccessRequest.status != RequestStatus.DRAFT)).first():
        message = _(
            "Submitted requests already use this dataset, so %(names)s "
            "stays on it: the Nation's part in them is its own.",
            names=", ".join(n.name for n in dropped),
        )
        raise ValidationError({"nations": message})
    if not added:
        return
    live = set(session.exec(uses.where(AccessRequest.status.not_in(_NOT_YET_OR_NO_LONGER))))
    live |= _in_force_while_amended(session, dataset)
    if live:
        # A count, never their references: whoever edits the dataset (an administrator)
        # may not see those requests (found in a probe).
        message = ngettext(
            "%(num)s request in progress or in force uses this dataset: %(names)s would "
            "never be asked about it. Add it once it has ended, or register its data "
            "as a dataset of its own.",
            "%(num)s requests in progress or in force use this dataset: %(names)s would "
            "never be asked about them. Add it once they have ended, or register its data "
            "as a dataset of its own.",
            len(live),
            names=", ".join(n.name for n in added),
        )
        raise ValidationError({"nations": message})


def update_dataset(
    session: Session,
    dataset: Dataset,
    *,
    title: str,
    custodian: str,
    description: str,
    nation_slugs: Iterable[str],
    names: dict[str, str] | None = None,
    actor: User | None = None,
) -> dict[str, list]:
    """Correct a dataset's title, custodian, description and whose data it holds;
    returns {field: [old, new]} for what changed (recorded as dataset.changed).

    Whose data it holds changes only where no request's governance depends on it
    (``_check_nations_change``)."""
    errors: dict[str, str] = {}
    title = validation.text(errors, "title", title, "title", max_length=200)
    custodian = validation.text(errors, "custodian", custodian, "custodian", max_length=200)
    description = (description or "").strip()
    kept = {name: getattr(dataset, name) for name in NAME_FIELDS}  # None: unchanged
    own = check_names(errors, **(kept | (names or {})))
    nation_slugs = list(dict.fromkeys(nation_slugs))
    if not nation_slugs:
        errors["nations"] = _("Name at least one Nation whose data the dataset holds.")
    if errors:
        raise ValidationError(errors)
    nations = [get_nation(session, nation_slug) for nation_slug in nation_slugs]
    before = nations_of(session, dataset)
    dropped = {n.id for n in before} - {n.id for n in nations}
    _check_nations_change(session, dataset, before, nations)
    changes: dict[str, list] = {}
    fields = {"title": title, "custodian": custodian, "description": description, **own}
    for name, new in fields.items():
        if getattr(dataset, name) != new:
            changes[name] = [getattr(dataset, name), new]
            setattr(dataset, name, new)
    old_slugs = sorted(n.slug for n in before)
    new_slugs = sorted(n.slug for n in nations)
    if old_slugs != new_slugs:
        changes["nations"] = [old_slugs, new_slugs]
        for nation in nations:
            if nation.id not in {n.id for n in before}:
                # Dated: the requests last submitted before are none of the Nation's.
                added = DatasetNation(dataset_id=dataset.id, nation_id=nation.id, added_at=utcnow())
                session.add(added)
        for link in session.exec(
            select(DatasetNation).where(
                DatasetNation.dataset_id == dataset.id, DatasetNation.nation_id.in_(dropped)
            )
        ):
            session.delete(link)
    if not changes:
        return {}
    session.add(dataset)
    session.flush()
    record_event(
        session,
        action=EventType.DATASET_CHANGED,
        actor=actor,
        nations=sorted({n.id: n for n in (*before, *nations)}.values(), key=lambda n: n.id),
        details={"slug": dataset.slug, "changes": changes},
    )
    return changes
