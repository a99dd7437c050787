"""What an event's hash covers, written once for the writer and the verifier.

An event's hash is the SHA-256 of its canonical content, which includes the hash
of the event before it; changing, removing, adding or moving any event therefore
breaks the chain from that point on.

Canonical content: the JSON object

    {"action", "actor_id", "actor_label", "client_address", "details", "id",
     "nation_ids", "occurred_at", "prev_hash", "request_id"}

spelt with sorted keys, compact separators and ASCII escapes (``json_text``), the
timestamp in ISO 8601 UTC with microseconds, the Nations' ids ascending.
``canonical_content`` writes that text directly from parts already spelt, so the
verifier can hash the details' stored text without parsing it (the database keeps
every JSON value in this same spelling).
"""

import hashlib
from collections.abc import Iterable
from datetime import UTC, datetime
from json.encoder import encode_basestring_ascii  # what json.dumps quotes strings with
from typing import Any

from portal.db import json_text

canonical_json = json_text


def timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def canonical_content(
    *,
    event_id: int,
    occurred_at: str,  # timestamp(...)
    actor_id: int | None,
    actor_label: str,
    action: str,
    request_id: int | None,
    nation_ids: list[int],  # ascending
    details_json: str,  # canonical_json(details)
    client_address: str | None,
    prev_hash: str,
) -> str:
    # Spelt out by hand (the verifier runs this for every event, so no helper calls);
    # a test checks it is exactly canonical_json() of the object.
    quote = encode_basestring_ascii
    return (
        f'{{"action":{quote(action)},'
        f'"actor_id":{"null" if actor_id is None else int(actor_id)},'
        f'"actor_label":{quote(actor_label)},'
        f'"client_address":{"null" if client_address is None else quote(client_address)},'
        f'"details":{details_json},"id":{int(event_id)},'
        f'"nation_ids":[{",".join(map(str, nation_ids))}],'
        f'"occurred_at":{quote(occurred_at)},"prev_hash":{quote(prev_hash)},'
        f'"request_id":{"null" if request_id is None else int(request_id)}}}'
    )


def content_hash(content: str) -> str:
    return hashlib.sha256(content.encode()).hexdigest()


def event_hash(
    *,
    event_id: int,
    occurred_at: datetime,
    actor_id: int | None,
    actor_label: str,
    action: str,
    request_id: int | None,
    nation_ids: Iterable[int],
    details: dict[str, Any],
    client_address: str | None,
    prev_hash: str,
) -> str:
    """The hash of an event given as Python values (what the writer has in hand)."""
    content = canonical_content(
        event_id=event_id,
        occurred_at=timestamp(occurred_at),
        actor_id=actor_id,
        actor_label=actor_label,
        action=action,
        request_id=request_id,
        nation_ids=sorted(nation_ids),
        details_json=canonical_json(details),
        client_address=client_address,
        prev_hash=prev_hash,
    )
    return content_hash(content)
