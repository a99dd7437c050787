"""The policy in the web app: every request starts with an up-to-date enforcer."""

from flask import Flask, request

from portal.db import get_session
from portal.policy.store import current_policy


def init_app(app: Flask) -> None:
    app.before_request(_fresh_policy)


def _fresh_policy() -> None:
    """Compare the policy version row with the one this worker's enforcer was built
    from, and rebuild it if a grant, a profile page or `portal policy load` moved it."""
    if request.endpoint == "static" or request.blueprint == "ops":
        return  # files, and the health checks and metrics, which read no policy
    current_policy(get_session())
