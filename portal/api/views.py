"""The API's reading and drafting operations: who am I, the registry, requests and
their events. Each parses (done by the Endpoint), calls the workflow or a reading
service, and shapes the answer; the rules are theirs."""

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TypeVar

from portal.api import PREFIX, bodies, represent, schemas
from portal.api.parsing import make_cursor, read_cursor
from portal.audit.service import events_for_request
from portal.auth.models import User
from portal.db import get_session
from portal.policy.access import get_visible, visible_requests
from portal.registry import service as registry
from portal.registry.labels import labels_of
from portal.transparency.conversations import shown_messages, summaries
from portal.transparency.privacy import listed_to, sight
from portal.transparency.timeline import shown_events
from portal.workflow import Edit, create_draft, perform
from portal.workflow.labels import set_labels
from portal.workflow.profiles import update_profile

T = TypeVar("T")


def me(user: User) -> schemas.MeOut:
    return represent.me(get_session(), user)


def _page_in_memory(
    kind: str, items: Sequence[T], key: Callable[[T], list], query: bodies.PageQuery
) -> tuple[list[T], str | None]:
    """A page of a short, ordered list (the registry): the items after the cursor's key."""
    after = read_cursor(kind, query.cursor)
    rest = [item for item in items if after is None or key(item) > after]
    page = rest[: query.limit]
    more = len(rest) > query.limit
    return page, make_cursor(kind, key(page[-1])) if more else None


def list_nations(user: User, query: bodies.PageQuery) -> schemas.NationList:
    nations = registry.list_nations(get_session())  # ordered by name
    page, cursor = _page_in_memory("nations", nations, lambda n: [n.name, n.slug], query)
    return schemas.NationList(items=[represent.nation(n) for n in page], next_cursor=cursor)


def update_nation_profile(user: User, slug: str, body: bodies.ProfileIn) -> schemas.NationOut:
    """Its representatives change the settings sent (403 for anyone else, 422 naming a
    setting out of range); audited as nation.profile_changed when one changed."""
    session = get_session()
    nation = registry.get_nation(session, slug)
    update_profile(session, user, nation, **body.model_dump(exclude_unset=True))
    return represent.nation(nation)


def list_datasets(user: User, query: bodies.PageQuery) -> schemas.DatasetList:
    session = get_session()
    datasets = registry.list_datasets(session)  # ordered by title
    page, cursor = _page_in_memory("datasets", datasets, lambda d: [d[0].title, d[0].slug], query)
    attached = labels_of(session, [d.id for d, _nations in page])
    return schemas.DatasetList(
        items=[represent.dataset(d, nations, attached[d.id]) for d, nations in page],
        next_cursor=cursor,
    )


def put_nation_labels(user: User, slug: str, body: bodies.LabelsIn) -> schemas.DatasetOut:
    """The Nation's labels on a dataset holding its data become those sent (its
    representatives: label_datasets); each change is audited."""
    session = get_session()
    nation = registry.get_nation(session, slug)
    wanted = [label.model_dump() for label in body.labels]
    dataset = set_labels(session, user, nation, body.dataset, wanted)
    nations = registry.nations_of(session, dataset)
    return represent.dataset(dataset, nations, labels_of(session, [dataset.id])[dataset.id])


def list_requests(user: User, query: bodies.RequestListQuery) -> schemas.RequestList:
    session = get_session()
    position = read_cursor("requests", query.cursor)
    before = (datetime.fromisoformat(position[0]), position[1]) if position else None
    found = visible_requests(session, user, query.status, query.limit + 1, before)
    page = found[: query.limit]
    cursor = None
    if len(found) > query.limit:
        last = page[-1]
        cursor = make_cursor("requests", [last.updated_at.isoformat(), last.id])
    return schemas.RequestList(
        items=[represent.summary(session, req) for req in page], next_cursor=cursor
    )


def _fields(body: bodies.DraftIn) -> dict:
    """Only the fields the caller sent (PATCH leaves the others alone)."""
    return body.model_dump(exclude_unset=True)


def create_request(user: User, body: bodies.DraftIn):
    session = get_session()
    req = create_draft(session, user, _fields(body))
    return represent.request(session, user, req), {"Location": f"{PREFIX}/requests/{req.ref}"}


def get_request(user: User, ref: str) -> schemas.RequestOut:
    session = get_session()
    return represent.request(session, user, get_visible(session, user, ref))


def update_request(user: User, ref: str, body: bodies.DraftIn) -> schemas.RequestOut:
    session = get_session()
    req = perform(session, user, ref, Edit(fields=_fields(body)))
    return represent.request(session, user, req)


def list_events(user: User, ref: str, query: bodies.PageQuery) -> schemas.EventList:
    session = get_session()
    req = get_visible(session, user, ref)
    after_id = read_cursor("events", query.cursor)
    seen = sight(session, user, req)
    found = events_for_request(
        session, req, after_id=after_id, limit=query.limit + 1, listed=listed_to(seen)
    )
    page = found[: query.limit]
    cursor = make_cursor("events", page[-1].id) if len(found) > query.limit else None
    shown = shown_events(session, page, seen, by_name=False)
    return schemas.EventList(items=[represent.event(e) for e in shown], next_cursor=cursor)


def list_conversations(user: User, ref: str) -> schemas.ConversationList:
    session = get_session()
    req = get_visible(session, user, ref)
    threads = [
        schemas.ThreadOut(
            channel=summary.thread.channel.value,
            nation=summary.nation_slug,
            title=summary.title,
            messages=[
                represent.message(shown)
                for shown in shown_messages(session, user, req, summary.thread)
            ],
        )
        for summary in summaries(session, user, req)
    ]
    return schemas.ConversationList(items=threads)
