"""Where an output's bytes are kept: in the shared storage (portal/storage), by their
SHA-256, as agreements are, so every host serves them and a database backup holds them."""

from sqlmodel import Session

from portal.agreements.settings import config_for
from portal.storage import service as storage

DEFAULT_MAX_BYTES = 10 * 1024 * 1024


def put(session: Session, data: bytes, media_type: str) -> str:
    """Keep ``data``; its SHA-256."""
    return storage.put(session, data, media_type)


def get(session: Session, sha256: str) -> bytes:
    """The bytes stored under ``sha256``, checked against it."""
    return storage.get(session, sha256)


def max_bytes(session: Session) -> int:
    """The largest output accepted (OUTPUT_MAX_BYTES, PORTAL_OUTPUT_MAX_BYTES)."""
    return int(config_for(session).get("OUTPUT_MAX_BYTES", DEFAULT_MAX_BYTES))
