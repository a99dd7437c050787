"""The OpenAPI document is generated from the code and matches it: every route is in
it, every contract operation is, and the checks that hold every API test to it can fail."""

import pytest
from schemathesis.openapi.checks import JsonSchemaError
from werkzeug.test import EnvironBuilder, TestResponse
from werkzeug.wrappers import Request, Response

from portal.api import PREFIX
from portal.api.bodies import DraftIn
from portal.requests.fields import LABELS

from apis import Api
from helpers import sqlite_pass_only

pytestmark = sqlite_pass_only("the OpenAPI document")

# README.md, "API". (sign and agreement.pdf come with the agreements.)
CONTRACT_OPERATIONS = [
    ("get", "/me"),
    ("get", "/nations"),
    ("get", "/datasets"),
    ("post", "/requests"),
    ("get", "/requests"),
    ("get", "/requests/{ref}"),
    ("patch", "/requests/{ref}"),
    ("get", "/requests/{ref}/events"),
    *[
        ("post", f"/requests/{{ref}}/actions/{action}")
        for action in ("submit", "withdraw", "screen", "review", "decide", "revoke")
    ],
]


def api_routes(app) -> set[tuple[str, str]]:
    return {
        (method.lower(), rule.rule.replace("<", "{").replace(">", "}"))
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith(PREFIX + "/")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }


def documented(document) -> set[tuple[str, str]]:
    return {(method, path) for path, item in document["paths"].items() for method in item}


def test_every_api_route_is_in_the_document_and_nothing_else(app, client):
    response = client.get(f"{PREFIX}/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    document = response.get_json()
    assert document["openapi"].startswith("3.1")
    assert documented(document) == api_routes(app)


@pytest.mark.parametrize("method, path", CONTRACT_OPERATIONS, ids=" ".join)
def test_every_operation_of_the_contract_is_served_and_documented(app, client, method, path):
    assert (method, PREFIX + path) in api_routes(app)
    assert (method, PREFIX + path) in documented(client.get(f"{PREFIX}/openapi.json").get_json())


def test_the_draft_body_has_exactly_the_request_fields():
    assert set(DraftIn.model_fields) == set(LABELS)


def test_the_document_loads_and_every_operation_parses(api):
    operations = list(api.schema.get_all_operations())
    assert len(operations) == len(documented(api.document))
    for result in operations:
        result.ok()  # raises if schemathesis could not make sense of an operation


def test_error_answers_document_their_problem_type(api):
    for path, item in api.document["paths"].items():
        for method, operation in item.items():
            for status, answer in operation["responses"].items():
                if status.startswith(("4", "5")):
                    assert list(answer["content"]) == ["application/problem+json"], (
                        method,
                        path,
                    )


def fake(status: int, body: str, mimetype: str = "application/json") -> TestResponse:
    """An answer to GET /me that the app would never give."""
    response = Response(body, status=status, mimetype=mimetype)
    request = Request(EnvironBuilder(path=f"{PREFIX}/me").get_environ())
    return TestResponse(response.response, response.status, response.headers, request=request)


@pytest.mark.parametrize(
    "response, error",
    [
        (fake(418, "{}"), AssertionError),  # a status the operation does not document
        (fake(200, "{}", "text/html"), AssertionError),  # a media type it does not
        (fake(200, '{"email": "a@b.c"}'), JsonSchemaError),  # a body that breaks the schema
    ],
    ids=["status", "media type", "body"],
)
def test_the_conformance_check_fails_on_an_undocumented_answer(api: Api, response, error):
    with pytest.raises(error):
        api.check_documented("GET", f"{PREFIX}/me", response)
