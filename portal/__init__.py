"""The Stewardship Portal: Nations decide who may use their data, and on what terms."""

from pathlib import Path
from typing import Any

from flask import Flask
from flask.cli import FlaskGroup

from portal import config as settings
from portal.errors import ServiceError
from portal.paths import private_dir, resource_dir


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the application. ``config`` overrides settings read from the environment."""
    app = Flask(__name__, template_folder=str(resource_dir("templates")))
    app.config.update(settings.FIXED)
    app.config.update(settings.from_environment())
    app.config.update(config or {})
    private_dir(Path(app.config["INSTANCE_PATH"]))

    if not app.config["SECRET_KEY"] and app.config["REQUIRE_SECRET_KEY"]:
        raise RuntimeError(
            "SECRET_KEY is not set: export SECRET_KEY (e.g. the output of "
            "`python -c 'import secrets; print(secrets.token_hex(32))'`), "
            "or run `portal demo` once to keep one in the instance folder"
        )

    from portal.agreements import ca
    from portal.agreements import settings as agreement_settings

    try:  # every host signs with the configured CA: never start without it
        ca.check_configured(agreement_settings.from_config(app.config))
    except ServiceError as error:
        raise RuntimeError(f"PORTAL_CA_KEY and PORTAL_CA_CERT: {error.message}") from None

    from portal import api, db, i18n, ops, throttle, web
    from portal.admin import routes as admin_routes
    from portal.agreements import routes as agreement_routes
    from portal.auth import routes as auth_routes
    from portal.cli import register_commands
    from portal.conversations import routes as conversation_routes
    from portal.datasets import routes as dataset_routes
    from portal.lifecycle import routes as lifecycle_routes
    from portal.main import routes as main_routes
    from portal.notify import routes as delivery_routes
    from portal.outputs import routes as output_routes
    from portal.policy import web as policy_web
    from portal.proposals import routes as proposal_routes
    from portal.registry import routes as registry_routes
    from portal.requests import routes as request_routes
    from portal.reviews import routes as review_routes
    from portal.rules import routes as rules_routes
    from portal.storage import service as storage
    from portal.transparency import routes as transparency_routes

    ops.init_app(app)  # first: the request id and the request's log line wrap every hook
    db.init_app(app)
    i18n.init_app(app)
    agreement_settings.configure(db.get_engine(app), app.config)
    storage.configure(db.get_engine(app), app.config)  # the database, or a bucket
    web.init_app(app)
    policy_web.init_app(app)
    auth_routes.init_app(app)
    app.register_blueprint(auth_routes.bp)
    app.register_blueprint(main_routes.bp)
    app.register_blueprint(registry_routes.bp)
    app.register_blueprint(admin_routes.bp)
    app.register_blueprint(request_routes.bp)
    app.register_blueprint(review_routes.bp)
    app.register_blueprint(conversation_routes.bp)
    app.register_blueprint(lifecycle_routes.bp)
    api.init_app(app)
    app.register_blueprint(agreement_routes.bp)
    app.register_blueprint(transparency_routes.bp)
    app.register_blueprint(rules_routes.bp)
    app.register_blueprint(proposal_routes.bp)
    app.register_blueprint(delivery_routes.bp)
    app.register_blueprint(output_routes.bp)
    app.register_blueprint(dataset_routes.bp)
    throttle.init_app(app)  # wraps views of the blueprints above
    register_commands(app)
    return app


def _command_line_app() -> Flask:
    # Administration works without a secret key; serving checks for one itself.
    return create_app({"REQUIRE_SECRET_KEY": False})


# The `portal` console script: a Flask command group, so `flask --app portal ...` works too.
main = FlaskGroup(
    name="portal",
    create_app=_command_line_app,
    help="The Stewardship Portal: database, demo, users, registry, policy, audit, mail, "
    "agreements, jobs, serving.",
)
