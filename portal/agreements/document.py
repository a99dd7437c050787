"""What the agreement says: the values the template prints, read from the request,
its decisions and the registry, the same for every language."""

from typing import Any

from sqlmodel import Session, select

from portal.agreements.clauses import agreement_clauses
from portal.agreements.models import Agreement
from portal.agreements.parties import approving_nations, parties_of
from portal.auth.models import User
from portal.registry.labels import labels_of
from portal.registry.models import DatasetNation, Nation
from portal.registry.names import NAME_FIELDS
from portal.requests.models import AccessRequest
from portal.requests.service import datasets_of, nations_of
from portal.reviews.service import standing_approval
from portal.reviews.terms import catalogue_of, condition_params


def term_days(request: AccessRequest, nations: list[Nation]) -> int:
    """The retention asked for, capped by the shortest maximum term of the Nations."""
    limits = [n.max_term_days for n in nations if n.max_term_days]
    return min([request.retention_days or 365, *limits])


def document(session: Session, request: AccessRequest, agreement: Agreement) -> dict[str, Any]:
    """What the template prints: plain values, the same for every language."""
    researcher = session.get(User, request.researcher_id)
    nations = approving_nations(session, request)
    all_nations = {n.id: n for n in nations_of(session, request)}
    rows = []
    for nation in nations:
        decision = standing_approval(session, request, nation)
        representative = session.get(User, decision.representative_id)
        params = condition_params(nation, request.storage_location)
        # A standard condition reads in another language from the text of the catalogue
        # it was decided under, completed with the same values.
        catalogue = catalogue_of(session, decision.rules_version)
        conditions = [
            {**c, "params": params, "template": catalogue[c["code"]]["text"]}
            if c.get("code") in catalogue
            else {**c, "params": None}
            for c in decision.conditions
        ]
        rows.append(
            {
                "name": nation.name,
                **{name: getattr(nation, name) for name in NAME_FIELDS},
                "framework": nation.framework.value,
                "representative": representative.name,
                "conditions": conditions,
            }
        )
    datasets = []
    requested = datasets_of(session, request)
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
        ids = session.exec(
            select(DatasetNation.nation_id).where(DatasetNation.dataset_id == dataset.id)
        ).all()
        names = sorted(all_nations[i].name for i in ids if i in all_nations)
        datasets.append(
            {
                "title": dataset.title,
                **{name: getattr(dataset, name) for name in NAME_FIELDS},
                "custodian": dataset.custodian,
                "nations": names,
            }
        )
    return {
        "ref": request.ref,
        "title": request.title,
        "purpose": request.purpose,
        "ethics_approval": request.ethics_approval,
        "revision": agreement.revision,
        "reading_copy": False,
        "signed_language": agreement.language,
        "issued_on": agreement.issued_at.date(),
        "term_start": agreement.term_start,
        "term_end": agreement.term_end,
        "term_days": (agreement.term_end - agreement.term_start).days,
        "storage_location": request.storage_location,
        "researcher": {
            "name": researcher.name,
            "institution": researcher.institution,
            "email": researcher.email,
        },
        "team": request.team,
        "nations": rows,
        "datasets": datasets,
        "output_review": [n.name for n in nations if n.output_review_required],
        "clauses": agreement_clauses(session, agreement.rules_version),
        "parties": [
            {"field": p.field_name, "nation": p.nation.name if p.nation else None,
             "signer": researcher.name if p.nation is None else None}
            for p in parties_of(session, request)
        ],
    }  # fmt: skip
