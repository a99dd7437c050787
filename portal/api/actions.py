"""POST /requests/{ref}/actions/{action}: one operation per workflow command, all made
the same way from the transition table (portal.workflow): the body becomes the command,
perform() carries it out, and the answer is the request as it now stands. Refusals
(403, 404, 409, 422) are the workflow's, mapped once by the API's error handlers."""

from collections.abc import Callable

from pydantic import BaseModel

from portal.agreements import downloads as agreement_downloads
from portal.api import bodies, represent, schemas
from portal.auth.models import User
from portal.db import get_session, reads_first, start_writing, writes
from portal.errors import NotFound
from portal.lifecycle import downloads
from portal.lifecycle.outputs import content
from portal.policy.access import get_visible, require_agreement_reader
from portal.transparency import obligations
from portal.transparency import outputs as output_view
from portal.workflow import Command, perform, perform_ahead, works_ahead
from portal.workflow import commands as c

# The body each command is sent with; its fields are the command's own.
BODIES: dict[type[Command], type[BaseModel]] = {
    c.Submit: bodies.SubmitIn,
    c.Withdraw: bodies.WithdrawIn,
    c.Screen: bodies.ScreenIn,
    c.Review: bodies.ReviewIn,
    c.Decide: bodies.DecideIn,
    c.Sign: bodies.SignIn,
    c.Revoke: bodies.RevokeIn,
    c.Message: bodies.MessageIn,
    c.ReportObligation: bodies.ReportObligationIn,
    c.AssessObligation: bodies.AssessObligationIn,
    c.Close: bodies.CloseIn,
    c.AttestDestruction: bodies.AttestDestructionIn,
    c.AcknowledgeDestruction: bodies.AcknowledgeDestructionIn,
    c.SubmitOutput: bodies.SubmitOutputIn,
    c.ReviewOutput: bodies.ReviewOutputIn,
    c.DecideOutput: bodies.DecideOutputIn,
    c.Renew: bodies.RenewIn,
    c.Amend: bodies.AmendIn,
}


def _command(kind: type[Command], body: BaseModel) -> Command:
    # A body that is not the command's fields as they are (a file in base64) says how.
    dumped = body.command_fields() if hasattr(body, "command_fields") else body.model_dump()
    fields = {
        name: tuple(value) if isinstance(value, list) else value for name, value in dumped.items()
    }
    return kind(**fields)


def action(kind: type[Command]) -> Callable[..., schemas.RequestOut]:
    """The handler of ``POST .../actions/<kind.name>``."""

    def handler(user: User, ref: str, body: BaseModel) -> schemas.RequestOut:
        session = get_session()
        # Signing's slow part runs before the write lock is taken (reads_first below).
        command = perform_ahead(session, user, ref, _command(kind, body))
        start_writing(session)
        req = perform(session, user, ref, command)
        return represent.request(session, user, req)

    handler.__name__ = kind.name
    return reads_first(handler) if works_ahead(kind) else handler


def _document(user: User, ref: str, download, edition: int | None = None) -> tuple[bytes, dict]:
    """A document of the agreement's readers (each download is an audit event)."""
    session = get_session()
    req = get_visible(session, user, ref)
    agreement = agreement_downloads.edition(session, req, edition) if edition else None
    require_agreement_reader(session, user, req, agreement)
    filename, data = (
        download(session, user, req)
        if edition is None
        else download(session, user, req, number=edition)
    )
    return data, {"Content-Disposition": f'inline; filename="{filename}"'}


@writes  # each download is an audit event
def agreement_pdf(user: User, ref: str, query: bodies.EditionQuery) -> tuple[bytes, dict]:
    """The agreement in force, or the edition asked for (a superseded or pending one)."""
    return _document(user, ref, agreement_downloads.download, query.edition)


@writes  # each download is an audit event
def agreement_terms(user: User, ref: str, query: bodies.EditionQuery) -> tuple[bytes, dict]:
    """An edition's terms as ODRL in JSON-LD: the file embedded in its signed PDF."""
    return _document(user, ref, agreement_downloads.download_terms, query.edition)


@writes  # each download is an audit event
def attestation_pdf(user: User, ref: str) -> tuple[bytes, dict[str, str]]:
    """The latest signed destruction attestation."""
    return _document(user, ref, downloads.download)


@writes  # each download is an audit event
def output_file(user: User, ref: str, output_id: str) -> tuple[bytes, dict[str, str]]:
    """An output's file, for its researcher's side and the people of the request's
    Nations (404 for others). Each download is an audit event."""
    session = get_session()
    req = get_visible(session, user, ref)
    number = int(output_id) if output_id.isdecimal() and len(output_id) < 12 else None
    if number is None:
        raise NotFound(f"{ref} has no output {output_id}")
    filename, media_type, data = output_view.download(session, user, req, number)
    # Served as bytes: what they are (media_type) is in the request's outputs.
    del media_type
    return data, {
        "Content-Disposition": f'attachment; filename="{content.safe_filename(filename)}"'
    }


@writes  # each download is an audit event
def obligation_file(user: User, ref: str, obligation_id: str) -> tuple[bytes, dict[str, str]]:
    """The file sent with an obligation's report (404 for whoever may not read it). Each
    download is an audit event."""
    session = get_session()
    req = get_visible(session, user, ref)
    number = int(obligation_id) if obligation_id.isdecimal() and len(obligation_id) < 12 else 0
    filename, media_type, data = obligations.report_file(session, user, req, number)
    del media_type  # served as bytes, like an output's file
    return data, {"Content-Disposition": f'attachment; filename="{filename}"'}
