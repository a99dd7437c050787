"""Where an output's bytes are kept: by their SHA-256, as agreements are.

The one place outputs are written and read. When the shared store lands
(``portal.storage.service.put(session, data, media_type)`` / ``get(session, sha)``),
these two functions call it instead.
"""

import hashlib

from sqlmodel import Session

from portal.agreements import service as agreements
from portal.agreements.settings import config_for, settings_for
from portal.errors import ServiceError

DEFAULT_MAX_BYTES = 10 * 1024 * 1024


def put(session: Session, data: bytes, media_type: str) -> str:
    """Keep ``data``; its SHA-256."""
    # The agreements' own writer until the shared store lands (one line to swap).
    return agreements._store(settings_for(session), data)


def get(session: Session, sha256: str) -> bytes:
    """The bytes stored under ``sha256``, checked against it."""
    path = settings_for(session).agreements_dir / f"{sha256}.pdf"
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ServiceError(
            f"The output file {sha256} is missing from the instance folder."
        ) from None
    if hashlib.sha256(data).hexdigest() != sha256:
        raise ServiceError(f"The output file {sha256} was changed on disk; it is not used.")
    return data


def max_bytes(session: Session) -> int:
    """The largest output accepted (OUTPUT_MAX_BYTES, PORTAL_OUTPUT_MAX_BYTES)."""
    return int(config_for(session).get("OUTPUT_MAX_BYTES", DEFAULT_MAX_BYTES))
