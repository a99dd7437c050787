"""Who reads that an output exists (invariant 11): whoever sees the request through a
role that reaches it for a Nation the output concerns. A Nation an amendment dropped
reads the outputs it was party to, not those submitted after it left. The output pages,
the API and the listing of the request's events (privacy.sight) all ask here."""

from sqlmodel import Session

from portal.agreements.editions import editions_of
from portal.agreements.parties import nations_concerned, parties_of_edition
from portal.auth.models import User
from portal.lifecycle.outputs import service as outputs
from portal.lifecycle.outputs.models import ResearchOutput
from portal.policy.access import reaches_for
from portal.requests.models import AccessRequest


def concerned_nations(session: Session, req: AccessRequest, output: ResearchOutput) -> set[int]:
    """The ids of the Nations ``output`` concerns: one the request concerns now (its data,
    or a party in force while an amendment drops it), one asked to review it, or a party
    of the edition in force when it was submitted. Not a Nation whose part had ended by
    then: it no longer reads the agreement either (found in a probe)."""
    concerned = {nation.id for nation in nations_concerned(session, req)}
    asked = {nation.id for _track, nation in outputs.tracks_of(session, output)}
    return concerned | asked | parties_then(session, req, output)


def may_read(session: Session, viewer: User, req: AccessRequest, nation_ids: set[int]) -> bool:
    """That the output exists, and what and where: whoever sees the request through a
    role that reaches it for a Nation the output concerns (the requesting side, a
    coordinator). A Nation dropped before it was submitted does not (found in a probe)."""
    return req.involves(viewer.id, viewer.email) or reaches_for(session, viewer, req, nation_ids)


def parties_then(session: Session, req: AccessRequest, output: ResearchOutput) -> set[int]:
    """The Nations party to the edition in force when ``output`` was submitted."""
    took_effect = [
        edition
        for edition in editions_of(session, req)
        if edition.effective_at is not None and edition.effective_at <= output.submitted_at
    ]
    if not took_effect:
        return set()
    parties = parties_of_edition(session, req, took_effect[-1])
    return {party.nation.id for party in parties if party.nation is not None}


def unread(session: Session, viewer: User, req: AccessRequest) -> frozenset[int]:
    """The ids of the request's outputs ``viewer`` may not know of."""
    return frozenset(
        output.id
        for output in outputs.outputs_of(session, req)
        if not may_read(session, viewer, req, concerned_nations(session, req, output))
    )
