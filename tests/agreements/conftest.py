"""Fixtures for agreements.

``issued``: once per run, a two-Nation request taken through the real workflow to its
three signatures, in a database and instance folder of its own; the tests that only
read the PDFs (text, fonts, signatures, tampering) share it, so the suite renders and
signs it once. ``approved`` and ``signed``: the same, per test, for tests that change
things or look at the database.
"""

import shutil
from dataclasses import dataclass
from datetime import date

import pytest
from cryptography import x509
from sqlmodel import select

from portal import create_app, migrate
from portal.agreements import downloads as agreement_downloads
from portal.agreements import service as agreements
from portal.agreements.models import AgreementVersion
from portal.db import session_scope
from portal.policy.sync import load_files
from portal.storage import service as storage

from agreement_kit import (
    CEDAR_CONDITIONS,
    HERON_CONDITIONS,
    RESEARCHER_NAME,
    SIGNERS,
    Signed,
    ca_certificate,
    rename,
    request_of,
    stored_pdf,
)
from flows import Flow, seed_people
from helpers import ON_POSTGRES, scratch_postgres_database, seed_nations


@dataclass(frozen=True)
class Issued:
    ref: str
    versions: list[bytes]  # as issued, then after each signature
    french: bytes  # the reading copy in French
    ca_certificate: x509.Certificate
    term_start: date
    term_end: date

    @property
    def signed(self) -> bytes:
        return self.versions[-1]


def _issue(database_url: str, instance) -> Issued:
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "issued-secret",
            "DATABASE_URL": database_url,
            "INSTANCE_PATH": str(instance),
            "MAIL_SEND_AFTER_REQUEST": False,
        }
    )
    try:
        if ON_POSTGRES:  # a scratch database: migrate it and load policies/, as the template has
            migrate.upgrade(database_url)
            with app.app_context(), session_scope() as session:
                load_files(session)
        seed_nations(app)
        seed_people(app)
        rename(app, "researcher@example.org", RESEARCHER_NAME, "Université crie (fictional)")
        flow = Flow(app)
        ref = flow.approved(cedar_conditions=CEDAR_CONDITIONS, heron_conditions=HERON_CONDITIONS)
        for who, nation in SIGNERS:
            flow.do(who, "sign", ref, nation)
        with app.app_context(), session_scope() as session:
            request = request_of(session, ref)
            agreement = agreements.current(session, request)
            rows = session.exec(
                select(AgreementVersion)
                .where(AgreementVersion.agreement_id == agreement.id)
                .order_by(AgreementVersion.number)
            ).all()
            versions = [storage.get(session, row.sha256) for row in rows]
            reader = flow.user(session, "researcher")
            _name, french = agreement_downloads.download(session, reader, request, "fr")
            term = (agreement.term_start, agreement.term_end)
        return Issued(ref, versions, french, ca_certificate(app), *term)
    finally:
        app.extensions["portal.db"].dispose()


@pytest.fixture(scope="session")
def issued(migrated_template, tmp_path_factory) -> Issued:
    instance = tmp_path_factory.mktemp("issued-instance")
    if ON_POSTGRES:
        with scratch_postgres_database() as url:
            return _issue(url, instance)
    path = tmp_path_factory.mktemp("issued-db") / "portal.db"
    shutil.copyfile(migrated_template, path)
    return _issue(f"sqlite:///{path}", instance)


@pytest.fixture
def approved(flow) -> str:
    """Both Nations approved, with conditions: the agreement waits for signatures."""
    return flow.approved(cedar_conditions=CEDAR_CONDITIONS, heron_conditions=HERON_CONDITIONS)


@pytest.fixture
def signed(app, flow, approved) -> Signed:
    for who, nation in SIGNERS:
        flow.do(who, "sign", approved, nation)
    return Signed(approved, stored_pdf(app, approved), ca_certificate(app))
