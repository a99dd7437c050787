"""Security headers and the modes of the files the portal keeps (findings of the
security probe): HSTS when cookies are secure, no caching of what a signed-in person
reads, and an instance folder nobody else may read."""

import stat

from portal import create_app, migrate
from portal.agreements import ca
from portal.agreements.settings import settings_for
from portal.db import session_scope
from portal.demo import ensure_secret_key

from flows import PEOPLE
from helpers import sign_in


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_hsts_goes_with_secure_cookies(app):
    assert "Strict-Transport-Security" not in app.test_client().get("/sign-in").headers
    app.config["SESSION_COOKIE_SECURE"] = True
    response = app.test_client().get("/sign-in")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_what_a_signed_in_person_reads_is_never_cached(app, flow):
    anonymous = app.test_client()
    assert "no-store" not in anonymous.get("/sign-in").headers.get("Cache-Control", "")
    rep = app.test_client()
    assert sign_in(rep, PEOPLE["cedar_rep"][0]).status_code == 302
    for url in ("/", "/nations/red-cedar/record", "/nations/red-cedar/record.csv", "/nope"):
        response = rep.get(url)
        assert response.headers.get("Cache-Control") == "no-store", url


def test_the_api_answers_are_never_cached(app, flow, runner):
    token = runner.invoke(args=["users", "token", PEOPLE["researcher"][0]]).output.strip()
    response = app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert response.headers.get("Cache-Control") == "no-store"


def test_the_instance_folder_and_its_files_are_private(tmp_path, monkeypatch):
    monkeypatch.setenv("PORTAL_INSTANCE", str(tmp_path / "fresh-instance"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("SECRET_KEY", raising=False)
    app = create_app({"REQUIRE_SECRET_KEY": False})
    instance = tmp_path / "fresh-instance"
    try:
        assert mode(instance) == 0o700
        migrate.upgrade(app.config["DATABASE_URL"])
        assert mode(instance / "portal.db") == 0o600
        ensure_secret_key(app)
        assert mode(instance / "secret_key") == 0o600
        with app.app_context(), session_scope() as session:
            folder = settings_for(session).ca_dir
            ca.authority(settings_for(session))
        assert mode(folder) == 0o700
        assert {f.name: mode(f) for f in folder.iterdir()} == {
            f.name: 0o600 for f in folder.iterdir()
        }
        leaky = [f for f in instance.rglob("*") if f.is_file() and mode(f) & 0o077]
        assert leaky == []
    finally:
        app.extensions["portal.db"].dispose()
