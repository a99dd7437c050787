"""Shared storage (portal/storage): a file comes back as it was put, under its SHA-256;
putting the same bytes again, even at the same moment, keeps one row; a file whose
bytes changed, or one that is missing, is refused with a clear error."""

import hashlib

import pytest
from sqlmodel import func, select

from portal.db import session_scope
from portal.errors import ServiceError
from portal.storage import service as storage
from portal.storage.models import StoredFile

from helpers import race

DATA = b"%PDF-1.7\n% a fictional output of Red Cedar Nation (fictional)\n"


def put(app, data: bytes = DATA, media_type: str = "application/pdf") -> str:
    with app.app_context(), session_scope() as session:
        return storage.put(session, data, media_type)


def get(app, digest: str) -> bytes:
    with app.app_context(), session_scope() as session:
        return storage.get(session, digest)


def rows(app) -> list[StoredFile]:
    with app.app_context(), session_scope() as session:
        found = session.exec(select(StoredFile)).all()
        for row in found:
            session.expunge(row)
        return found


def test_a_file_comes_back_as_it_was_put(app):
    digest = put(app)
    assert digest == hashlib.sha256(DATA).hexdigest()
    assert get(app, digest) == DATA
    [row] = rows(app)
    assert (row.sha256, row.media_type, row.size) == (digest, "application/pdf", len(DATA))
    assert row.created_at.tzinfo is not None
    empty = put(app, b"", "text/plain")  # an empty file is a file too
    assert get(app, empty) == b""


def test_putting_the_same_bytes_again_keeps_one_row(app):
    first = put(app)
    assert put(app, DATA, "application/octet-stream") == first
    with app.app_context(), session_scope() as session:  # twice in one transaction too
        assert storage.put(session, DATA, "application/pdf") == first
        assert storage.put(session, DATA + b"x", "application/pdf") != first
        assert storage.put(session, DATA + b"x", "application/pdf") != first
    assert len(rows(app)) == 2
    assert rows(app)[0].media_type == "application/pdf"  # the first put's stays


def test_two_puts_of_the_same_bytes_at_once_both_succeed_with_one_row(app):
    results = race(lambda: put(app), lambda: put(app))
    assert results == [hashlib.sha256(DATA).hexdigest()] * 2
    assert len(rows(app)) == 1


def change_stored(app, digest: str, data: bytes) -> None:
    with app.app_context(), session_scope() as session:
        row = session.get(StoredFile, digest)
        row.data = data
        session.add(row)


@pytest.mark.parametrize("position", [0, len(DATA) // 2, len(DATA) - 1])
def test_a_changed_byte_is_refused(app, position):
    digest = put(app)
    changed = bytearray(DATA)
    changed[position] ^= 0x01
    change_stored(app, digest, bytes(changed))
    with pytest.raises(ServiceError, match=f"The stored file {digest} was changed"):
        get(app, digest)


def test_a_missing_file_is_refused_and_a_refused_put_writes_nothing(app):
    digest = hashlib.sha256(b"never stored").hexdigest()
    with pytest.raises(ServiceError, match=f"The stored file {digest} is missing"):
        get(app, digest)
    with pytest.raises(RuntimeError), app.app_context(), session_scope() as session:
        storage.put(session, DATA, "application/pdf")
        raise RuntimeError("the caller's transaction fails after the put")
    with app.app_context(), session_scope() as session:
        assert session.exec(select(func.count()).select_from(StoredFile)).one() == 0
