"""The fictional demo: Nations, datasets and one login per role.

Every Nation, dataset and person here is invented; the names say so. Seeding is
idempotent: what exists already (by slug or e-mail) is left exactly as it is.
"""

import os
import secrets
from pathlib import Path

from flask import Flask
from sqlmodel import Session, select

from portal.auth import service as auth
from portal.auth import twofactor
from portal.auth.models import Role
from portal.config import SECRET_KEY_FILE
from portal.registry import service as registry
from portal.registry.models import Dataset, Nation
from portal.requests.models import AccessRequest
from portal.workflow import create_draft

DEMO_PASSWORD = "demo-password"  # noqa: S105 - fictional accounts on a local demo only
# The demo's representatives and administrator must sign in with a second factor, as
# everywhere: they share this known TOTP secret (fictional accounts on a local demo only).
DEMO_TOTP_SECRET = "DEMOFICTIONALDEMOFICTIONALDEMO23"  # noqa: S105

NATIONS = [
    dict(slug="kestrel-river", name="Kestrel River First Nation (fictional)", framework="OCAP",
         review_quorum=2, min_approvals=1, residency=["CA"], max_term_days=1095,
         # Its names in French and, invented too, in Cree syllabics (the pages' font).
         names={"name_fr": "Première Nation de la rivière Kestrel (fictive)",
                "name_own": "ᑫᐢᑐᕒᐁᓪ ᓯᐱᐩ", "name_own_lang": "cr-Cans"}),
    dict(slug="aspen-hollow", name="Aspen Hollow Métis Community (fictional)", framework="OCAS",
         review_quorum=1, min_approvals=1, residency=["CA"], max_term_days=730),
    dict(slug="northwind", name="Northwind Inuit Region (fictional)", framework="CARE",
         review_quorum=2, min_approvals=2, residency=["CA-NU"], max_term_days=365,
         small_cell_threshold=10,
         names={"name_fr": "Région inuite de Northwind (fictive)",
                "name_own": "ᓄᑦᕗᐃᓐᑦ", "name_own_lang": "iu-Cans"}),
]  # fmt: skip

DATASETS = [
    dict(slug="child-family-services",
         title="Child and family services records, 2015–2024 (fictional)",
         custodian="Ministry of Children's Services (fictional)",
         nations=["kestrel-river", "aspen-hollow"]),
    dict(slug="primary-care-visits", title="Primary care visits, 2018–2024 (fictional)",
         custodian="Regional Health Authority (fictional)",
         nations=["kestrel-river", "northwind"]),
    dict(slug="school-attendance", title="School attendance and graduation, 2010–2024 (fictional)",
         custodian="Department of Education (fictional)", nations=["aspen-hollow"]),
    dict(slug="income-assistance", title="Income assistance cases, 2016–2024 (fictional)",
         custodian="Department of Social Development (fictional)", nations=["northwind"]),
]  # fmt: skip

# (e-mail, name, institution, role, Nation slug or None)
PEOPLE = [
    (
        "researcher@example.org",
        "Robin Researcher",
        "Community Health Research Collective (fictional)",
        Role.RESEARCHER,
        None,
    ),
    (
        "coordinator@example.org",
        "Casey Coordinator",
        "Portal secretariat (fictional)",
        Role.COORDINATOR,
        None,
    ),
    ("admin@example.org", "Alex Admin", "Portal secretariat (fictional)", Role.ADMIN, None),
    (
        "steward1.kestrel@example.org",
        "Sam Steward",
        "Kestrel River (fictional)",
        Role.STEWARD,
        "kestrel-river",
    ),
    (
        "steward2.kestrel@example.org",
        "Jordan Steward",
        "Kestrel River (fictional)",
        Role.STEWARD,
        "kestrel-river",
    ),
    (
        "rep.kestrel@example.org",
        "Riley Representative",
        "Kestrel River (fictional)",
        Role.REPRESENTATIVE,
        "kestrel-river",
    ),
    (
        "steward.aspen@example.org",
        "Morgan Steward",
        "Aspen Hollow (fictional)",
        Role.STEWARD,
        "aspen-hollow",
    ),
    (
        "rep.aspen@example.org",
        "Avery Representative",
        "Aspen Hollow (fictional)",
        Role.REPRESENTATIVE,
        "aspen-hollow",
    ),
    (
        "steward1.northwind@example.org",
        "Kai Steward",
        "Northwind (fictional)",
        Role.STEWARD,
        "northwind",
    ),
    (
        "steward2.northwind@example.org",
        "Noa Steward",
        "Northwind (fictional)",
        Role.STEWARD,
        "northwind",
    ),
    (
        "rep.northwind@example.org",
        "Quinn Representative",
        "Northwind (fictional)",
        Role.REPRESENTATIVE,
        "northwind",
    ),
]

DEMO_DRAFT_TITLE = "Wellbeing of children in care (fictional demo request)"

LOGINS_TEXT = "\n".join(
    [
        "",
        "Demo data is FICTIONAL: every Nation, dataset, person and request is invented.",
        f"Every demo login has the password: {DEMO_PASSWORD}",
        "",
        *(
            f"  {email:<34} {role.value}{' · ' + nation if nation else ''}"
            for email, _name, _inst, role, nation in PEOPLE
        ),
        "",
        "Representatives and the administrator sign in with a code too (two-factor sign-in).",
        f"Add this demo key to an authenticator app: {DEMO_TOTP_SECRET}",
        "or print the current code with:",
        f"  python -c \"import pyotp; print(pyotp.TOTP('{DEMO_TOTP_SECRET}').now())\"",
        "",
    ]
)


def ensure_secret_key(app: Flask) -> None:
    """Give the app a secret key, kept in the instance folder so sessions survive restarts."""
    if app.config.get("SECRET_KEY"):
        return
    key_file = Path(app.config["INSTANCE_PATH"]) / SECRET_KEY_FILE
    if not key_file.exists() or not key_file.read_text().strip():
        # Written whole under a temporary name, then renamed: never a half-written key.
        partial = key_file.with_suffix(".partial")
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(secrets.token_hex(32))
        os.replace(partial, key_file)
    app.config["SECRET_KEY"] = key_file.read_text().strip()


def seed(session: Session) -> None:
    """Seed what is missing; the audit events written say the system did it (actor None)."""
    for spec in NATIONS:
        if session.exec(select(Nation.id).where(Nation.slug == spec["slug"])).first() is None:
            registry.create_nation(session, **spec)
    for spec in DATASETS:
        if session.exec(select(Dataset.id).where(Dataset.slug == spec["slug"])).first() is None:
            spec = dict(spec)
            registry.create_dataset(session, nation_slugs=spec.pop("nations"), **spec)
    for email, name, institution, role, nation_slug in PEOPLE:
        if auth.find_user(session, email) is not None:
            continue  # an existing account keeps exactly the roles it has now
        user = auth.create_user(session, email, name, DEMO_PASSWORD, institution)
        nation = registry.get_nation(session, nation_slug) if nation_slug else None
        auth.grant_role(session, user, role, nation)
        if twofactor.two_factor_required(session, user):
            twofactor.enable_with_secret(session, user, DEMO_TOTP_SECRET)
    researcher = auth.get_user(session, PEOPLE[0][0])
    has_draft = session.exec(
        select(AccessRequest.id).where(AccessRequest.title == DEMO_DRAFT_TITLE)
    ).first()
    if has_draft is None:
        create_draft(
            session,
            researcher,
            {
                "title": DEMO_DRAFT_TITLE,
                "purpose": "To describe, with the communities, how children in care are supported "
                "and where services fall short. (Fictional.)",
                "datasets": ["child-family-services", "primary-care-visits"],
                "storage_location": "CA-ON",
                "retention_days": 730,
            },
        )
