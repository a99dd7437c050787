"""What an event's hash covers, written once for the writer and the verifier.

An event's hash is the SHA-256 of its canonical content, which includes the hash
of the event before it; changing, removing, adding or moving any event therefore
breaks the chain from that point on.

Canonical content: a JSON object with sorted keys, compact separators, ASCII
escapes, the timestamp in ISO 8601 UTC with microseconds, and the ids of the
Nations concerned in ascending order.
"""

import hashlib
import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any


def canonical_json(value: Any) -> str:
    """The one JSON spelling of ``value`` (raises TypeError for anything JSON cannot hold)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False)


def timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


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
    content = {
        "action": action,
        "actor_id": actor_id,
        "actor_label": actor_label,
        "client_address": client_address,
        "details": details,
        "id": event_id,
        "nation_ids": sorted(nation_ids),
        "occurred_at": timestamp(occurred_at),
        "prev_hash": prev_hash,
        "request_id": request_id,
    }
    return hashlib.sha256(canonical_json(content).encode()).hexdigest()
