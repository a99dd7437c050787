"""Calling the API as the people of tests/flows.py, each with a real token; every
answer is checked against the OpenAPI document the app serves (its status must be
documented for the operation, its body must match the documented schema)."""

import schemathesis
from flask import Flask
from werkzeug.exceptions import MethodNotAllowed, NotFound

from portal.auth import service as auth
from portal.db import session_scope

from flows import PEOPLE

PREFIX = "/api/v1"


class Api:
    def __init__(self, app: Flask) -> None:
        self.app = app
        self.client = app.test_client()
        self.tokens: dict[str, str] = {}
        document = self.client.get(f"{PREFIX}/openapi.json").get_json()
        self.document = document
        self.schema = schemathesis.openapi.from_dict(document)

    def token(self, who: str) -> str:
        if who not in self.tokens:
            email = PEOPLE[who][0] if who in PEOPLE else who
            with self.app.app_context(), session_scope() as session:
                token, _ = auth.create_api_token(session, auth.get_user(session, email), who)
            self.tokens[who] = token
        return self.tokens[who]

    def call(self, who: str | None, method: str, path: str, json=None, **kwargs):
        headers = dict(kwargs.pop("headers", {}))
        if who is not None:
            headers.setdefault("Authorization", f"Bearer {self.token(who)}")
        response = self.client.open(
            PREFIX + path, method=method, json=json, headers=headers, **kwargs
        )
        self.check_documented(method, PREFIX + path, response)
        return response

    def get(self, who, path, **kwargs):
        return self.call(who, "GET", path, **kwargs)

    def post(self, who, path, json=None, **kwargs):
        return self.call(who, "POST", path, json=json, **kwargs)

    def patch(self, who, path, json=None, **kwargs):
        return self.call(who, "PATCH", path, json=json, **kwargs)

    def act(self, who, ref, action, **body):
        return self.post(who, f"/requests/{ref}/actions/{action}", json=body)

    def template(self, method: str, path: str) -> str | None:
        """The document's path for a concrete one, or None if no operation serves it."""
        adapter = self.app.url_map.bind("localhost")
        try:
            endpoint, _args = adapter.match(path.split("?")[0], method=method)
        except (NotFound, MethodNotAllowed):
            return None
        rule = next(r for r in self.app.url_map.iter_rules(endpoint))
        return rule.rule.replace("<", "{").replace(">", "}")

    def check_documented(self, method: str, path: str, response) -> None:
        template = self.template(method, path)
        if template is None:  # no such operation: still a problem document
            assert response.mimetype == "application/problem+json", response.data
            return
        documented = self.document["paths"][template][method.lower()]["responses"]
        assert str(response.status_code) in documented, (
            f"{method} {template} answered {response.status_code}, which it does not document: "
            f"{response.get_data(as_text=True)[:500]}"
        )
        assert response.mimetype in documented[str(response.status_code)]["content"]
        self.schema[template][method].validate_response(response)


def problem(response, status: int) -> dict:
    """The problem document of an error response, after checking its status and type."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status and body["title"] and body["detail"]
    return body
