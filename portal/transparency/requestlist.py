"""The list of requests a person may see, a page at a time: the most recently changed
first, in one state if asked, each page going on after the last request of the page
before (named by its reference), so a deep page costs what the first does."""

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlmodel import Session

from portal.auth.models import User
from portal.errors import NotFound, ValidationError
from portal.policy.access import get_visible, visible_requests
from portal.requests.models import AccessRequest, RequestStatus

LIST_PAGE = 100


@dataclass(frozen=True)
class RequestList:
    requests: list[AccessRequest]
    status: RequestStatus | None  # the state asked for, if any
    after: str | None  # the reference this page goes on after (None: the first page)
    next_cursor: str | None  # the reference the next page goes on after


def request_list(
    session: Session,
    user: User,
    status: str | None = None,
    after: str | None = None,
    size: int = LIST_PAGE,
) -> RequestList:
    """A page of what ``user`` may see; ValidationError naming ``status`` or ``after``
    when either is not one they could have been given."""
    wanted = None
    if status:
        try:
            wanted = RequestStatus(status)
        except ValueError:
            names = ", ".join(s.value for s in RequestStatus)
            raise ValidationError({"status": _("choose one of %(names)s.", names=names)}) from None
    before = None
    if after:
        try:
            last = get_visible(session, user, after)
        except NotFound:
            raise ValidationError(
                {"after": _("%(ref)s is not a request you may see.", ref=after)}
            ) from None
        before = (last.updated_at, last.id)
    found = visible_requests(session, user, wanted, size + 1, before)
    page = found[:size]
    more = len(found) > size
    return RequestList(page, wanted, after, page[-1].ref if more else None)
