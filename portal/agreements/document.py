"""What the agreement says: the values the template prints, read from the request,
its decisions and the registry, the same for every language."""

from typing import Any

from sqlmodel import Session, select

from portal.agreements.clauses import agreement_clauses
from portal.agreements.editions import signing_nations
from portal.agreements.models import Agreement
from portal.agreements.parties import approved_now, parties_of_edition
from portal.auth.models import User
from portal.registry.labels import labels_of
from portal.registry.models import DatasetNation, Nation
from portal.registry.names import NAME_FIELDS
from portal.requests.fields import agreement_language
from portal.requests.models import AccessRequest, RequestRevision
from portal.requests.service import datasets_named
from portal.reviews import due as dues
from portal.reviews.models import Decision
from portal.reviews.service import standing_approval
from portal.reviews.terms import catalogue_of, condition_params, term_of


def term_days(request: AccessRequest, nations: list[Nation]) -> int:
    """The retention asked for, capped by the shortest maximum term of the Nations."""
    limits = [n.max_term_days for n in nations if n.max_term_days]
    return min([request.retention_days or 365, *limits])


def language_asked(session: Session, request: AccessRequest) -> str:
    """The language the revision the Nations approved asks the agreement in: "en", "fr"
    or "both" (a revision from before the choice existed: English)."""
    fields = _revision_fields(session, request, request.current_revision)
    return agreement_language(fields or {"agreement_language": request.agreement_language})


def document(
    session: Session, request: AccessRequest, agreement: Agreement, approval: Decision | None = None
) -> dict[str, Any]:
    """What the template prints: plain values, the same for every language. With
    ``approval`` (not stored): as it will read once that approval is written (the
    agreement rendered ahead of the last approval, service.draft)."""
    researcher = session.get(User, request.researcher_id)
    also = approval.nation_id if approval is not None else None
    # An edition's Nations: who approved its revision (at issue), who signed it after.
    nations = (
        approved_now(session, request, also)
        if agreement.effective_at is None
        else signing_nations(session, agreement)
    )
    # What the Nations approved: the revision's fields (a renewal's draft may be changing
    # the request's own while this edition is in force).
    fields = _revision_fields(session, request, agreement.revision)
    rows = []
    for nation in nations:
        decision = (
            approval
            if nation.id == also
            else standing_approval(session, request, nation, agreement.revision)
        )
        representative = session.get(User, decision.representative_id)
        params = condition_params(nation, fields.get("storage_location", request.storage_location))
        # A standard condition reads in another language from the text of the catalogue
        # it was decided under, completed with the same values; its term (the IRI in the
        # agreement's ODRL) is that catalogue's too.
        catalogue = catalogue_of(session, decision.rules_version)
        conditions = [
            {
                **c,
                "params": params,
                "template": catalogue[c["code"]]["text"],
                "term": term_of(c["code"], catalogue[c["code"]]),
            }
            if c.get("code") in catalogue
            # A Nation's own condition states when it falls due (at the end unless the
            # representative said otherwise); a standard one's text says it, unless the
            # representative gave it a due of its own (kept in ``c``).
            else {**c, "params": None, "due": c.get("due") or dues.DEFAULT}
            for c in decision.conditions
        ]
        rows.append(
            {
                "slug": nation.slug,
                "name": nation.name,
                **{name: getattr(nation, name) for name in NAME_FIELDS},
                "framework": nation.framework.value,
                "representative": representative.name,
                "conditions": conditions,
            }
        )
    datasets = []
    requested = datasets_named(session, fields.get("datasets") or [])
    # Each approving Nation's labels on the data become its clauses (section 5).
    labels = labels_of(session, [d.id for d in requested])
    for row, nation_id in zip(rows, [n.id for n in nations], strict=True):
        row["labels"] = [
            {"dataset": d.title, "name": label.name, "kind": label.kind,
             "words": attached.wording or label.description, "hub_url": attached.hub_url}
            for d in requested
            for attached, label, nation in labels[d.id]
            if nation.id == nation_id
        ]  # fmt: skip
    for dataset in requested:
        holders = session.exec(
            select(Nation.name, Nation.slug)
            .join(DatasetNation, DatasetNation.nation_id == Nation.id)
            .where(DatasetNation.dataset_id == dataset.id)
            .order_by(Nation.name)
        ).all()
        datasets.append(
            {
                "slug": dataset.slug,
                "title": dataset.title,
                **{name: getattr(dataset, name) for name in NAME_FIELDS},
                "custodian": dataset.custodian,
                "nations": [name for name, _ in holders],
                "nation_slugs": sorted(slug for _, slug in holders),
            }
        )
    return {
        "ref": request.ref,
        "title": fields.get("title", request.title),
        "purpose": fields.get("purpose", request.purpose),
        "ethics_approval": fields.get("ethics_approval", request.ethics_approval),
        "revision": agreement.revision,
        "edition": agreement.edition,  # a renewal's or amendment's is 2, 3, ...
        "reading_copy": False,
        "signed_language": agreement.language,
        "issued_on": agreement.issued_at.date(),
        "term_start": agreement.term_start,
        "term_end": agreement.term_end,
        "term_days": (agreement.term_end - agreement.term_start).days,
        "storage_location": fields.get("storage_location", request.storage_location),
        "researcher": {
            "name": researcher.name,
            "institution": researcher.institution,
            "email": researcher.email,
        },
        "team": fields.get("team", request.team),
        "nations": rows,
        "datasets": datasets,
        "output_review": [n.name for n in nations if n.output_review_required],
        "clauses": agreement_clauses(session, agreement.rules_version),
        "parties": [
            {"field": p.field_name, "nation": p.nation.name if p.nation else None,
             "signer": researcher.name if p.nation is None else None}
            for p in parties_of_edition(session, request, agreement, also)
        ],
    }  # fmt: skip


def _revision_fields(session: Session, request: AccessRequest, number: int) -> dict[str, Any]:
    revision = session.exec(
        select(RequestRevision).where(
            RequestRevision.request_id == request.id, RequestRevision.number == number
        )
    ).first()
    return dict(revision.fields) if revision is not None else {}
