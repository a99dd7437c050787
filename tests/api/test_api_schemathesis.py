"""schemathesis against the running app (in-process WSGI), over every operation of the
document the app serves: no server error, and no answer that breaks the document
(status, media type, headers, body), and bad input always refused. Bounded so it runs
in seconds: a few dozen examples an operation."""

import itertools

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from portal import demo
from portal.api import openapi
from portal.api.table import ENDPOINTS
from portal.auth import service as auth
from portal.db import session_scope
from portal.workflow import Screen, Submit, create_draft, perform

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
TESTER = "fuzz@example.org"  # holds every role, so every operation can get past its checks
SCREENER = "screener@example.org"
ROLES = [
    "researcher",
    "coordinator",
    ("steward", "kestrel-river"),
    ("representative", "kestrel-river"),
    ("steward", "aspen-hollow"),
    ("representative", "aspen-hollow"),
]
DRAFT = {
    "title": "Fuzzing (fictional)",
    "purpose": "p",
    "datasets": ["child-family-services"],  # Kestrel River's and Aspen Hollow's data
    "methods": "m",
    "community_benefit": "b",
    "harm_assessment": "h",
    "ethics_approval": "REB #1 (fictional)",
    "storage_location": "CA-ON",
    "retention_days": 365,
    "team": [{"name": "F", "email": "fuzz@example.org", "role": "PI"}],
}


@pytest.fixture
def fuzzing(app, make_user):
    """The demo's fictional registry (the document's examples name its Nations and
    datasets), a token for the tester, and requests of theirs to aim at: a draft, one
    under review, and (every third case) the made-up reference schemathesis generated."""
    with app.app_context(), session_scope() as session:
        demo.seed(session)
    make_user(TESTER, *ROLES)
    make_user(SCREENER, "coordinator")
    with app.app_context(), session_scope() as session:
        tester = auth.get_user(session, TESTER)
        token, _ = auth.create_api_token(session, tester, "fuzzing")
        draft = create_draft(session, tester, DRAFT)
        in_review = create_draft(session, tester, DRAFT)
        perform(session, tester, in_review.ref, Submit())
        # No one screens their own request: another coordinator does.
        perform(session, auth.get_user(session, SCREENER), in_review.ref, Screen(outcome="accept"))
        refs = [draft.ref, in_review.ref]
    return {"token": token, "targets": itertools.cycle([*refs, None])}


# The document as the code generates it; the test checks the app serves this very one.
DOCUMENT = openapi.document(ENDPOINTS)
schema = schemathesis.openapi.from_dict(DOCUMENT)


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_keeps_to_the_document(case, app, fuzzing):
    path = case.path_parameters or {}
    if "ref" in path and not case.meta.is_negative_at(ParameterLocation.PATH):
        # A made-up reference only ever finds nothing: aim most cases at real requests.
        target = next(fuzzing["targets"])
        if target is not None:
            path["ref"] = target
    case.call_and_validate(
        app=app, headers={"Authorization": f"Bearer {fuzzing['token']}"}, checks=CHECKS
    )


def test_the_app_serves_the_document_under_test(client):
    assert client.get("/api/v1/openapi.json").get_json() == DOCUMENT
