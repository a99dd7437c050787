"""The `portal` command line (README.md, "Command line"): what each command writes to the real
database, exit codes 0 / 1 / 2, and the one-line reason on stderr when it refuses."""

import functools
import hashlib
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from sqlmodel import select

from portal import create_app, migrate
from portal.auth import service as auth
from portal.auth.models import ApiToken, Role, RoleMembership, User
from portal.auth.passwords import hash_password, verify_password
from portal.db import session_scope
from portal.models import metadata
from portal.registry import service as registry
from portal.registry.models import Dataset, DatasetNation, Nation

from helpers import PASSWORD

# The console script installed next to this interpreter (the one `pip install -e .` made).
PORTAL = Path(sys.executable).parent / "portal"


# --- helpers --------------------------------------------------------------------------


@functools.cache
def known_hash() -> str:
    """One real Argon2 hash, made once: users who only need to exist cost nothing more."""
    return hash_password(PASSWORD)


def add_user(app, email: str = "ada@example.org") -> int:
    with app.app_context(), session_scope() as session:
        user = User(email=email, name="Ada Lovelace", password_hash=known_hash())
        session.add(user)
        session.flush()
        return user.id


def row_counts(app) -> dict[str, int]:
    with app.app_context(), session_scope() as session:
        connection = session.connection()
        return {
            table.name: connection.execute(sa.select(sa.func.count()).select_from(table)).scalar()
            for table in metadata.sorted_tables
        }


def everything_stored(app) -> str:
    """Every value in every table, as text: to show a secret is nowhere in the database."""
    with app.app_context(), session_scope() as session:
        connection = session.connection()
        return "\n".join(
            repr(tuple(row))
            for table in metadata.sorted_tables
            for row in connection.execute(sa.select(table))
        )


def memberships(app, user_id: int) -> list[tuple[str, str | None]]:
    with app.app_context(), session_scope() as session:
        rows = session.exec(
            select(RoleMembership.role, Nation.slug)
            .join(Nation, RoleMembership.nation_id == Nation.id, isouter=True)
            .where(RoleMembership.user_id == user_id)
        ).all()
        return sorted((str(role), slug) for role, slug in rows)


def assert_refused(result, exit_code: int, *words: str) -> None:
    """Exit ``exit_code``; exactly one `Error:` line naming the problem; nothing reported
    as done. A refusal (exit 1) prints that line and nothing else."""
    assert result.exit_code == exit_code, (result.stdout, result.stderr, result.exception)
    assert isinstance(result.exception, SystemExit), result.exception  # no crash
    lines = result.stderr.splitlines()
    if exit_code == 1:
        assert len(lines) == 1, lines
    errors = [line for line in lines if line.startswith("Error: ")]
    assert len(errors) == 1, lines
    for word in words:
        assert word.lower() in errors[0].lower(), (word, errors[0])
    assert result.stdout == ""


def assert_done(result) -> None:
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    assert result.stderr == ""


def alembic_heads(url: str) -> list[str]:
    return ScriptDirectory.from_config(migrate.alembic_config(url)).get_heads()


def alembic_versions(app) -> list[str]:
    with app.app_context(), session_scope() as session:
        return list(
            session.connection()
            .execute(sa.text("SELECT version_num FROM alembic_version"))
            .scalars()
        )


def cli_app(database_url: str, tmp_path: Path):
    """The app as the `portal` script builds it: administration needs no secret key."""
    return create_app(
        {
            "DATABASE_URL": database_url,
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "REQUIRE_SECRET_KEY": False,
        }
    )


# --- portal db upgrade ----------------------------------------------------------------


def test_db_upgrade_migrates_an_empty_database_and_is_idempotent(fresh_database_url, tmp_path):
    app = cli_app(fresh_database_url, tmp_path)
    runner = app.test_cli_runner()
    try:
        inspector_tables = sa.inspect(app.extensions["portal.db"]).get_table_names()
        assert inspector_tables == [], "the fresh database starts empty"

        # Part-way first: the oldest revision, then the rest.
        script = ScriptDirectory.from_config(migrate.alembic_config(fresh_database_url))
        (base,) = script.get_bases()
        heads = alembic_heads(fresh_database_url)
        assert len(heads) == 1 and heads != [base], "expected one head beyond the base revision"
        partial = runner.invoke(args=["db", "upgrade", "--revision", base])
        assert_done(partial)
        assert alembic_versions(app) == [base]

        first = runner.invoke(args=["db", "upgrade"])
        assert_done(first)
        assert first.stdout == "Database upgraded to head.\n"
        assert alembic_versions(app) == heads
        tables = set(sa.inspect(app.extensions["portal.db"]).get_table_names())
        assert {table.name for table in metadata.sorted_tables} <= tables

        with app.app_context(), session_scope() as session:
            session.add(Nation(slug="kept", name="Kept (fictional)", framework="OCAP"))
        before = row_counts(app)

        second = runner.invoke(args=["db", "upgrade"])
        assert_done(second)
        assert alembic_versions(app) == heads
        assert row_counts(app) == before, "running it again touches no data"
    finally:
        app.extensions["portal.db"].dispose()


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("sqlite:////nonexistent-folder/portal.db", id="sqlite-missing-folder"),
        pytest.param("postgresql+psycopg://nobody@127.0.0.1:1/portal", id="postgres-no-server"),
    ],
)
def test_db_upgrade_reports_an_unreachable_database_in_one_line(url, tmp_path):
    app = cli_app(url, tmp_path)
    result = app.test_cli_runner().invoke(args=["db", "upgrade"])
    app.extensions["portal.db"].dispose()
    assert_refused(result, 1, "database error")


# --- portal users create --------------------------------------------------------------


@pytest.mark.parametrize(
    ("stdin", "password"),
    [
        pytest.param("a long passphrase\nsecond line ignored\n", "a long passphrase", id="lf"),
        pytest.param(
            "  spaces kept inside and out  \r\n", "  spaces kept inside and out  ", id="crlf"
        ),
        pytest.param("exactly10!", "exactly10!", id="minimum-length-no-newline"),
    ],
)
def test_users_create_stores_an_argon2_hash_of_the_password_from_stdin(
    app, runner, stdin, password
):
    result = runner.invoke(
        args=[
            "users",
            "create",
            " Ada@Example.ORG ",
            "--name",
            " Ada Lovelace ",
            "--institution",
            "Analytical Engines (fictional)",
            "--password-stdin",
        ],
        input=stdin,
    )
    assert_done(result)
    assert result.stdout == "Created ada@example.org.\n"
    assert password not in result.stdout

    with app.app_context(), session_scope() as session:
        (user,) = session.exec(select(User)).all()
        assert (user.email, user.name, user.institution) == (
            "ada@example.org",
            "Ada Lovelace",
            "Analytical Engines (fictional)",
        )
        assert user.active
        assert user.password_hash.startswith("$argon2id$")
        assert verify_password(user.password_hash, password)
    assert password not in everything_stored(app), "the password is never stored as given"
    counts = row_counts(app)
    assert counts.pop("user_account") == 1
    # The rules, loaded before every test.
    for policy_table in ("policy_rule", "policy_version", "rules_version"):
        counts.pop(policy_table)
    # The one event that records it (and the chain head that follows it), nothing else.
    assert (counts.pop("audit_event"), counts.pop("audit_chain_head")) == (1, 1)
    assert set(counts.values()) == {0}, f"creating a login grants nothing: {counts}"


CREATE = ["users", "create", "bob@example.org", "--name", "Bob", "--password-stdin"]


@pytest.mark.parametrize(
    ("args", "stdin", "exit_code", "words"),
    [
        pytest.param(CREATE, "\n", 1, ["password", "empty"], id="empty-password"),
        pytest.param(CREATE, "", 1, ["password", "empty"], id="nothing-on-stdin"),
        pytest.param(CREATE, "short\n", 1, ["password", "at least"], id="too-short"),
        pytest.param(CREATE, "123456789\n", 1, ["password", "at least"], id="one-too-short"),
        pytest.param(
            ["users", "create", "not-an-email", "--name", "Bob", "--password-stdin"],
            "a long passphrase\n",
            1,
            ["email"],
            id="no-at-sign",
        ),
        pytest.param(
            ["users", "create", "bob@", "--name", "Bob", "--password-stdin"],
            "a long passphrase\n",
            1,
            ["email"],
            id="no-domain",
        ),
        pytest.param(
            ["users", "create", "bob@example.org", "--name", "   ", "--password-stdin"],
            "a long passphrase\n",
            1,
            ["name", "empty"],
            id="blank-name",
        ),
        pytest.param(
            ["users", "create", "bob@example.org", "--name", "Bob"],
            "a long passphrase\n",
            2,
            ["--password-stdin"],
            id="missing-password-stdin",
        ),
        pytest.param(
            ["users", "create", "bob@example.org", "--password-stdin"],
            "a long passphrase\n",
            2,
            ["--name"],
            id="missing-name",
        ),
        pytest.param(
            ["users", "create", "--name", "Bob", "--password-stdin"],
            "a long passphrase\n",
            2,
            ["EMAIL"],
            id="missing-email",
        ),
    ],
)
def test_users_create_refuses_and_writes_nothing(app, runner, args, stdin, exit_code, words):
    before = row_counts(app)
    result = runner.invoke(args=args, input=stdin)
    assert_refused(result, exit_code, *words)
    assert row_counts(app) == before


@pytest.mark.parametrize("email", ["ada@example.org", "ADA@Example.org", "  ada@example.org  "])
def test_users_create_refuses_a_duplicate_email(app, runner, email):
    user_id = add_user(app, "ada@example.org")
    before = row_counts(app)
    result = runner.invoke(
        args=["users", "create", email, "--name", "Impostor", "--password-stdin"],
        input="another long passphrase\n",
    )
    assert_refused(result, 1, "ada@example.org", "exists already")
    assert row_counts(app) == before
    with app.app_context(), session_scope() as session:
        user = session.get(User, user_id)
        assert (user.name, user.password_hash) == ("Ada Lovelace", known_hash())


# --- portal users grant ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "nation"),
    [
        ("researcher", None),
        ("coordinator", None),
        ("admin", None),
        ("steward", "red-cedar"),
        ("representative", "blue-heron"),
    ],
)
def test_users_grant_gives_one_role_once(app, runner, nations, role, nation):
    user_id = add_user(app)
    args = ["users", "grant", "Ada@Example.org", role, *(["--nation", nation] if nation else [])]
    first = runner.invoke(args=args)
    assert_done(first)
    assert first.stdout.startswith(f"ada@example.org is now {role}")
    if nation:
        with app.app_context(), session_scope() as session:
            assert f" for {registry.get_nation(session, nation).name}." in first.stdout
    assert memberships(app, user_id) == [(role, nation)]

    before = row_counts(app)
    second = runner.invoke(args=args)
    assert_done(second)
    assert second.stdout == first.stdout
    assert row_counts(app) == before, "granting again is idempotent"
    assert memberships(app, user_id) == [(role, nation)]


def test_users_grant_adds_roles_per_nation(app, runner, nations):
    user_id = add_user(app)
    grants = [
        ["steward", "--nation", "red-cedar"],
        ["steward", "--nation", "blue-heron"],
        ["representative", "--nation", "red-cedar"],
        ["researcher"],
    ]
    for grant in grants:
        assert_done(runner.invoke(args=["users", "grant", "ada@example.org", *grant]))
    assert memberships(app, user_id) == [
        ("representative", "red-cedar"),
        ("researcher", None),
        ("steward", "blue-heron"),
        ("steward", "red-cedar"),
    ]


@pytest.mark.parametrize(
    ("email", "role", "nation", "exit_code", "words"),
    [
        pytest.param(
            "ghost@example.org", "researcher", None, 1, ["ghost@example.org"], id="no-user"
        ),
        pytest.param(
            "ghost@example.org", "steward", "red-cedar", 1, ["ghost@example.org"], id="no-user-2"
        ),
        pytest.param("ada@example.org", "steward", "atlantis", 1, ["atlantis"], id="no-nation"),
        pytest.param(
            "ada@example.org", "representative", "atlantis", 1, ["atlantis"], id="no-nation-2"
        ),
        pytest.param("ada@example.org", "wizard", None, 2, ["wizard"], id="unknown-role"),
        pytest.param("ada@example.org", "Steward", "red-cedar", 2, ["Steward"], id="role-case"),
        pytest.param("ada@example.org", "steward", None, 2, ["--nation"], id="steward-no-nation"),
        pytest.param(
            "ada@example.org", "representative", None, 2, ["--nation"], id="rep-no-nation"
        ),
        pytest.param(
            "ada@example.org", "researcher", "red-cedar", 2, ["--nation"], id="researcher-nation"
        ),
        pytest.param("ada@example.org", "admin", "red-cedar", 2, ["--nation"], id="admin-nation"),
    ],
)
def test_users_grant_refuses_and_writes_nothing(
    app, runner, nations, email, role, nation, exit_code, words
):
    user_id = add_user(app)
    before = row_counts(app)
    result = runner.invoke(
        args=["users", "grant", email, role, *(["--nation", nation] if nation else [])]
    )
    assert_refused(result, exit_code, *words)
    assert row_counts(app) == before
    assert memberships(app, user_id) == []


def test_users_grant_offers_every_role_of_the_contract(app, runner):
    result = runner.invoke(args=["users", "grant", "--help"])
    assert_done(result)
    for role in ("researcher", "coordinator", "admin", "steward", "representative"):
        assert role in result.stdout
    assert {role.value for role in Role} == {
        "researcher",
        "coordinator",
        "admin",
        "steward",
        "representative",
    }


# --- portal users token ---------------------------------------------------------------


def test_users_token_prints_a_token_once_and_stores_only_its_hash(app, runner):
    user_id = add_user(app)
    first = runner.invoke(args=["users", "token", "ada@example.org"])
    second = runner.invoke(args=["users", "token", "ADA@example.org", "--name", "laptop"])
    tokens = []
    for result in (first, second):
        assert_done(result)
        lines = result.stdout.splitlines()
        assert len(lines) == 1 and lines[0].startswith(auth.TOKEN_PREFIX)
        tokens.append(lines[0])
    assert tokens[0] != tokens[1]

    with app.app_context(), session_scope() as session:
        records = session.exec(select(ApiToken).order_by(ApiToken.id)).all()
        assert [(r.user_id, r.name) for r in records] == [
            (user_id, "command line"),
            (user_id, "laptop"),
        ]
        for token, record in zip(tokens, records, strict=True):
            assert record.token_hash == hashlib.sha256(token.encode()).hexdigest()
            assert token.startswith(record.prefix) and len(record.prefix) < len(token) // 2
            assert record.revoked_at is None
    stored = everything_stored(app)
    for token in tokens:
        assert token not in stored, "the token itself is never stored"
        assert token[len(auth.TOKEN_PREFIX) + 4 :] not in stored

    with app.app_context(), session_scope() as session:
        for token in tokens:
            assert auth.user_for_token(session, token).id == user_id
        tampered = tokens[0][:-1] + ("A" if tokens[0][-1] != "A" else "B")
        assert auth.user_for_token(session, tampered) is None


def test_users_token_refuses_an_unknown_user(app, runner):
    add_user(app)
    before = row_counts(app)
    result = runner.invoke(args=["users", "token", "ghost@example.org"])
    assert_refused(result, 1, "ghost@example.org")  # and no token printed (stdout empty)
    assert row_counts(app) == before


# --- portal nations create ------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        pytest.param(
            ["--framework", "OCAP"],
            dict(framework="OCAP", review_quorum=1, min_approvals=1, residency=[]),
            id="defaults",
        ),
        pytest.param(
            [
                *("--framework", "ocas", "--quorum", "3", "--min-approvals", "2"),
                *("--residency", "CA", "CA-ON", "--max-term-days", "365"),
            ],
            dict(
                framework="OCAS",
                review_quorum=3,
                min_approvals=2,
                residency=["CA", "CA-ON"],
                max_term_days=365,
            ),
            id="greedy-residency",
        ),
        pytest.param(
            ["--residency", "CA", "--residency", "ca-on", "--framework", "CARE"],
            dict(framework="CARE", residency=["CA", "CA-ON"]),
            id="repeated-residency",
        ),
        pytest.param(
            [
                *("--residency", "CA-NU", "CA", "CA-NU", "--quorum", "2"),
                *("--min-approvals", "0", "--framework", "CARE", "--residency", "CA-ON"),
            ],
            dict(
                framework="CARE",
                review_quorum=2,
                min_approvals=0,
                residency=["CA-NU", "CA", "CA-ON"],
            ),
            id="greedy-stops-at-next-option-mixed-and-deduplicated",
        ),
        pytest.param(
            [
                *("--framework", "OCAP", "--name-fr", "Kestrel (fictive)"),
                *("--name-own", "ᑫᐢᑐᕒᐁᓪ", "--name-own-lang", "cr-cans"),
            ],
            dict(name_fr="Kestrel (fictive)", name_own="ᑫᐢᑐᕒᐁᓪ", name_own_lang="cr-Cans"),
            id="own-names",
        ),
    ],
)
def test_nations_create(app, runner, options, expected):
    result = runner.invoke(
        args=["nations", "create", "kestrel-river", "--name", "Kestrel River (fictional)", *options]
    )
    assert_done(result)
    assert result.stdout == "Registered Kestrel River (fictional) (kestrel-river).\n"
    defaults = dict(review_quorum=1, min_approvals=1, residency=[], max_term_days=None)
    expected = defaults | expected
    with app.app_context(), session_scope() as session:
        (nation,) = session.exec(select(Nation)).all()
        assert (nation.slug, nation.name) == ("kestrel-river", "Kestrel River (fictional)")
        assert {field: getattr(nation, field) for field in expected} == expected


NATION = ["nations", "create", "new-nation", "--name", "New Nation (fictional)"]


def test_a_name_in_syllabics_needs_its_script_tag(app, runner):
    result = runner.invoke(
        args=[*NATION, "--framework", "OCAP", "--name-own", "ᑫᐢᑐᕒᐁᓪ", "--name-own-lang", "cr"]
    )
    assert result.exit_code == 1
    assert "its tag names the script Cans (e.g. cr-Cans)" in result.stderr
    with app.app_context(), session_scope() as session:
        assert session.exec(select(Nation)).all() == []


@pytest.mark.parametrize(
    ("args", "exit_code", "words"),
    [
        pytest.param(
            ["nations", "create", "red-cedar", "--name", "Again", "--framework", "OCAP"],
            1,
            ["red-cedar", "exists already"],
            id="duplicate-slug",
        ),
        pytest.param(
            ["nations", "create", "Bad_Slug", "--name", "Bad", "--framework", "OCAP"],
            1,
            ["slug", "Bad_Slug"],
            id="bad-slug",
        ),
        pytest.param(
            ["nations", "create", "trailing-", "--name", "Bad", "--framework", "OCAP"],
            1,
            ["slug"],
            id="bad-slug-trailing-hyphen",
        ),
        pytest.param(
            ["nations", "create", "new-line\n", "--name", "Bad", "--framework", "OCAP"],
            1,
            ["slug"],
            id="bad-slug-trailing-newline",
        ),
        pytest.param([*NATION, "--framework", "XYZ"], 1, ["framework", "XYZ"], id="framework"),
        pytest.param(
            [*NATION, "--framework", "OCAP", "--residency", "ZZ"],
            1,
            ["residency", "ZZ"],
            id="bad-residency",
        ),
        pytest.param(
            [*NATION, "--framework", "OCAP", "--residency", "CA", "XX-99"],
            1,
            ["residency", "XX-99"],
            id="bad-residency-in-greedy-list",
        ),
        pytest.param(
            [*NATION, "--framework", "OCAP", "--quorum", "1", "--min-approvals", "2"],
            1,
            ["min_approvals"],
            id="min-approvals-above-quorum",
        ),
        pytest.param(
            [*NATION, "--framework", "OCAP", "--quorum", "0", "--min-approvals", "0"],
            1,
            ["quorum"],
            id="zero-quorum",
        ),
        pytest.param(
            [*NATION, "--framework", "OCAP", "--max-term-days", "0"],
            1,
            ["max_term_days"],
            id="zero-term",
        ),
        pytest.param(
            ["nations", "create", "new-nation", "--name", " ", "--framework", "OCAP"],
            1,
            ["name", "empty"],
            id="blank-name",
        ),
        pytest.param([*NATION, "--framework", "OCAP", "--quorum", "x"], 2, ["--quorum"], id="q-x"),
        pytest.param(
            [*NATION, "--framework", "OCAP", "--quorum", "2.5"], 2, ["--quorum"], id="q-2.5"
        ),
        pytest.param(
            [*NATION, "--framework", "OCAP", "--quorum", "-1"], 2, ["--quorum"], id="q-neg"
        ),
        pytest.param(NATION, 2, ["--framework"], id="missing-framework"),
        pytest.param(
            ["nations", "create", "new-nation", "--framework", "OCAP"],
            2,
            ["--name"],
            id="missing-name",
        ),
    ],
)
def test_nations_create_refuses_and_writes_nothing(app, runner, nations, args, exit_code, words):
    before = row_counts(app)
    result = runner.invoke(args=args)
    assert_refused(result, exit_code, *words)
    assert row_counts(app) == before


# --- portal datasets create -----------------------------------------------------------


@pytest.mark.parametrize(
    ("nation_options", "expected_nations"),
    [
        pytest.param(["--nation", "red-cedar"], {"red-cedar"}, id="one"),
        pytest.param(
            ["--nation", "red-cedar", "--nation", "blue-heron"],
            {"red-cedar", "blue-heron"},
            id="several",
        ),
        pytest.param(
            ["--nation", "blue-heron", "--nation", "blue-heron"], {"blue-heron"}, id="repeated"
        ),
    ],
)
def test_datasets_create(app, runner, nations, nation_options, expected_nations):
    before = row_counts(app)
    result = runner.invoke(
        args=[
            *("datasets", "create", "housing-waitlist", "--title", " Housing waitlist "),
            *("--custodian", "Housing Agency (fictional)", "--description", "Who waits."),
            *nation_options,
        ]
    )
    assert_done(result)
    assert result.stdout == "Registered dataset housing-waitlist.\n"
    after = row_counts(app)
    assert after["dataset"] == before["dataset"] + 1
    assert after["dataset_nation"] == before["dataset_nation"] + len(expected_nations)
    with app.app_context(), session_scope() as session:
        dataset = session.exec(select(Dataset).where(Dataset.slug == "housing-waitlist")).one()
        assert (dataset.title, dataset.custodian, dataset.description) == (
            "Housing waitlist",
            "Housing Agency (fictional)",
            "Who waits.",
        )
        linked = session.exec(
            select(Nation.slug)
            .join(DatasetNation, DatasetNation.nation_id == Nation.id)
            .where(DatasetNation.dataset_id == dataset.id)
        ).all()
        assert sorted(linked) == sorted(expected_nations)


DATASET = ["datasets", "create", "housing", "--title", "Housing", "--custodian", "Agency"]


@pytest.mark.parametrize(
    ("args", "exit_code", "words"),
    [
        pytest.param(
            [*DATASET, "--nation", "red-cedar", "--nation", "atlantis"],
            1,
            ["atlantis"],
            id="one-unknown-nation",
        ),
        pytest.param([*DATASET, "--nation", "atlantis"], 1, ["atlantis"], id="unknown-nation"),
        pytest.param(
            [
                *("datasets", "create", "cedar-health", "--title", "Again"),
                *("--custodian", "Agency", "--nation", "red-cedar"),
            ],
            1,
            ["cedar-health", "exists already"],
            id="duplicate-slug",
        ),
        pytest.param(
            [
                *("datasets", "create", "Housing Data", "--title", "Housing"),
                *("--custodian", "Agency", "--nation", "red-cedar"),
            ],
            1,
            ["slug"],
            id="bad-slug",
        ),
        pytest.param(
            [
                *("datasets", "create", "housing", "--title", " "),
                *("--custodian", "Agency", "--nation", "red-cedar"),
            ],
            1,
            ["title", "empty"],
            id="blank-title",
        ),
        pytest.param(
            [
                *("datasets", "create", "housing", "--title", "Housing"),
                *("--custodian", "", "--nation", "red-cedar"),
            ],
            1,
            ["custodian", "empty"],
            id="blank-custodian",
        ),
        pytest.param(DATASET, 2, ["--nation"], id="missing-nation"),
        pytest.param(
            ["datasets", "create", "housing", "--custodian", "Agency", "--nation", "red-cedar"],
            2,
            ["--title"],
            id="missing-title",
        ),
        pytest.param(
            ["datasets", "create", "housing", "--title", "Housing", "--nation", "red-cedar"],
            2,
            ["--custodian"],
            id="missing-custodian",
        ),
    ],
)
def test_datasets_create_refuses_and_writes_nothing(app, runner, nations, args, exit_code, words):
    before = row_counts(app)
    result = runner.invoke(args=args)
    assert_refused(result, exit_code, *words)
    assert row_counts(app) == before


# --- the real console script ----------------------------------------------------------


class Console:
    """Runs the installed `portal` script in a clean environment, as a person would."""

    def __init__(self, tmp_path: Path, database_url: str) -> None:
        self.cwd = tmp_path
        self.instance = tmp_path / "instance"
        self.database_url = database_url
        self.env = {
            key: value
            for key, value in os.environ.items()
            if key not in {"SECRET_KEY", "DATABASE_URL", "PORTAL_INSTANCE", "SECURE_COOKIES"}
            and not key.startswith("FLASK_")
        }
        self.env |= {"PORTAL_INSTANCE": str(self.instance), "DATABASE_URL": database_url}

    def __call__(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(PORTAL), *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=self.env,
            cwd=self.cwd,
            timeout=120,
            check=False,
        )

    def app(self):
        return create_app(
            {
                "DATABASE_URL": self.database_url,
                "INSTANCE_PATH": str(self.cwd / "reader"),
                "SECRET_KEY": "test-secret-key",
            }
        )


@pytest.fixture
def console(tmp_path, fresh_database_url) -> Console:
    assert PORTAL.is_file(), f"the console script is not installed at {PORTAL}"
    return Console(tmp_path, fresh_database_url)


def test_console_script_migrates_and_registers(console):
    done = console("db", "upgrade")
    assert (done.returncode, done.stdout, done.stderr) == (0, "Database upgraded to head.\n", "")
    created = console(
        "users", "create", "ada@example.org", "--name", "Ada", "--password-stdin", stdin=PASSWORD
    )
    assert (created.returncode, created.stderr) == (0, "")
    granted = console("users", "grant", "ada@example.org", "researcher")
    assert (granted.returncode, granted.stdout, granted.stderr) == (
        0,
        "ada@example.org is now researcher.\n",
        "",
    )

    app = console.app()
    try:
        with app.app_context(), session_scope() as session:
            user = auth.authenticate(session, "ada@example.org", PASSWORD)
            assert user is not None, "the password given on stdin signs in"
            assert auth.roles_of(session, user) == [("researcher", None)]
        before = row_counts(app)

        refused = console("users", "grant", "ghost@example.org", "researcher")
        assert refused.returncode == 1
        assert refused.stdout == ""
        assert len(refused.stderr.splitlines()) == 1
        assert "ghost@example.org" in refused.stderr

        misused = console("users", "grant", "ada@example.org", "steward")
        assert misused.returncode == 2
        errors = [line for line in misused.stderr.splitlines() if line.startswith("Error:")]
        assert len(errors) == 1 and "--nation" in errors[0]

        assert row_counts(app) == before
    finally:
        app.extensions["portal.db"].dispose()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_console_script_will_not_serve_without_a_secret_key(console):
    assert "SECRET_KEY" not in console.env
    result = console("serve", "--port", str(free_port()))
    assert result.returncode == 1, result.stdout
    assert "Serving on" not in result.stdout
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and "SECRET_KEY" in lines[0], lines
    assert console.instance.is_dir()
    assert not (console.instance / "secret_key").exists(), "serve makes no key of its own"


# --- portal users deactivate -----------------------------------------------------------


def test_users_deactivate_ends_the_login_and_its_tokens(app, runner):
    add_user(app)
    token = runner.invoke(args=["users", "token", "ada@example.org"]).stdout.strip()
    result = runner.invoke(args=["users", "deactivate", "ADA@example.org"])
    assert_done(result)
    assert "deactivated" in result.stdout
    with app.app_context(), session_scope() as session:
        assert auth.user_for_token(session, token) is None
        assert auth.authenticate(session, "ada@example.org", PASSWORD) is None
    assert_refused(runner.invoke(args=["users", "deactivate", "ghost@example.org"]), 1, "ghost")


@pytest.mark.parametrize(
    ("environment", "host", "port", "linked"),
    [
        (None, "127.0.0.1", 5088, "http://localhost:5088"),
        (None, "portal.example.org", 8000, "http://portal.example.org:8000"),
        (None, "::1", 8000, "http://[::1]:8000"),  # an IPv6 address in brackets
        ("https://portal.example.org", "127.0.0.1", 5088, "https://portal.example.org"),
    ],
)
def test_mail_links_lead_to_where_the_portal_is_served(
    app, monkeypatch, environment, host, port, linked
):
    """Found following the README: `portal demo --port 5088` mailed links to port 5000."""
    from portal.cli import link_to

    if environment:
        monkeypatch.setenv("PORTAL_URL", environment)
        app.config["PORTAL_URL"] = environment
    else:
        monkeypatch.delenv("PORTAL_URL", raising=False)
    link_to(app, host, port)
    assert app.config["PORTAL_URL"] == linked
