"""The app factory, its settings and what every response carries."""

import pytest

from portal import create_app
from portal.paths import resource_dir

from flows import PEOPLE
from helpers import sign_in


def test_settings_come_from_the_environment(monkeypatch, tmp_path):
    instance = tmp_path / "state"
    monkeypatch.setenv("PORTAL_INSTANCE", str(instance))
    monkeypatch.setenv("SECRET_KEY", "from-the-environment")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    app = create_app()
    assert app.config["INSTANCE_PATH"] == str(instance)
    assert instance.is_dir(), "the instance folder is created"
    assert app.config["DATABASE_URL"] == f"sqlite:///{instance / 'portal.db'}"
    assert app.secret_key == "from-the-environment"


def test_database_url_and_overrides(monkeypatch, tmp_path):
    monkeypatch.setenv("PORTAL_INSTANCE", str(tmp_path))
    monkeypatch.setenv("SECRET_KEY", "x")
    monkeypatch.setenv("DATABASE_URL", "sqlite:///" + str(tmp_path / "other.db"))
    assert create_app().config["DATABASE_URL"].endswith("other.db")
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'third.db'}"})
    assert app.config["DATABASE_URL"].endswith("third.db")


def test_a_secret_key_is_required_to_serve(monkeypatch, tmp_path):
    monkeypatch.setenv("PORTAL_INSTANCE", str(tmp_path))
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY is not set"):
        create_app()


def test_the_secret_key_kept_in_the_instance_folder_is_used(monkeypatch, tmp_path):
    monkeypatch.setenv("PORTAL_INSTANCE", str(tmp_path))
    monkeypatch.delenv("SECRET_KEY", raising=False)
    (tmp_path / "secret_key").write_text("kept-by-the-demo\n")
    assert create_app().secret_key == "kept-by-the-demo"


def test_templates_come_from_the_top_level_folder(app):
    assert app.template_folder == str(resource_dir("templates"))
    assert (resource_dir("templates") / "base.html").is_file()


def test_production_cookies_are_secure(monkeypatch, tmp_path, database_url):
    monkeypatch.setenv("PORTAL_INSTANCE", str(tmp_path))
    monkeypatch.setenv("SECRET_KEY", "x")
    monkeypatch.delenv("SECURE_COOKIES", raising=False)
    app = create_app({"DATABASE_URL": database_url})
    response = app.test_client().get("/sign-in", base_url="https://portal.example")
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_security_headers_on_every_page(client):
    response = client.get("/")
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_error_pages_share_the_layout(app, client):
    @app.route("/boom")
    def boom():
        raise RuntimeError("deliberate")

    @app.route("/forbidden")
    def forbidden():
        from flask import abort

        abort(403)

    response = client.get("/no-such-page")
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "Stewardship Portal" in html and 'id="main"' in html and "Not found" in html
    response = client.get("/boom")
    assert response.status_code == 500
    assert "Something went wrong" in response.get_data(as_text=True)
    assert "deliberate" not in response.get_data(as_text=True), "no internals leak"
    response = client.get("/forbidden")
    assert response.status_code == 403
    assert "Not allowed" in response.get_data(as_text=True)


def test_static_css_is_served_locally(client):
    html = client.get("/").get_data(as_text=True)
    assert "/static/portal.css" in html
    assert "http://" not in html and "https://" not in html, "nothing from a CDN"
    assert client.get("/static/portal.css").status_code == 200


def test_every_page_names_its_icon_and_favicon_ico_answers_it(client, flow):
    icon = client.get("/static/favicon.svg")
    assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"
    assert icon.get_data(as_text=True).startswith("<svg")
    answer = client.get("/favicon.ico")
    assert answer.status_code == 200 and answer.mimetype == "image/svg+xml"
    assert answer.get_data() == icon.get_data()
    link = '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">'
    assert link in client.get("/sign-in").get_data(as_text=True)
    sign_in(client, PEOPLE["cedar_rep"][0])
    for url in ("/", "/account", "/no-such-page"):
        assert link in client.get(url).get_data(as_text=True), url
    assert client.get("/favicon.ico").status_code == 200, "signed in too"


def test_the_error_pages_advice_holds_for_whoever_reads_it(app, client, make_user):
    """A coordinator is never told to ask a coordinator: the advice names who gives
    roles, which is true whoever reads it."""
    from helpers import sign_in

    @app.route("/forbidden-plain")
    def forbidden_plain():
        from flask import abort

        abort(403)

    @app.route("/boom-again")
    def boom_again():
        raise RuntimeError("deliberate")

    make_user("coordinator@example.org", "coordinator")
    sign_in(client, "coordinator@example.org")
    for path in ("/forbidden-plain", "/admin/people"):
        response = client.get(path)
        assert response.status_code == 403, path
        assert "coordinator" not in response.text.split('id="main"')[1].lower(), path
        assert "administrators" in response.text and "representatives" in response.text, path
    broken = client.get("/boom-again")
    assert broken.status_code == 500 and "coordinator" not in broken.text.split('id="main"')[1]
