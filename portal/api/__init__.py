"""The JSON API at /api/v1 (README.md, "API"): bearer tokens only, problem+json errors,
and an OpenAPI 3.1 document generated from the table that registers its operations."""

from flask import Flask

PREFIX = "/api/v1"


def init_app(app: Flask) -> None:
    from portal.api.table import bp

    # Only bearer tokens authenticate here, never the session cookie (see auth.py),
    # so the pages' CSRF form tokens have nothing to protect. (The pages' CSRFProtect,
    # set up by portal.web before the API, keeps itself in app.extensions.)
    app.extensions["csrf"].exempt(bp)
    app.register_blueprint(bp)
