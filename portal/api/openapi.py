"""The OpenAPI 3.1 document, generated from the route table (portal/api/table.py) and
the pydantic models it names (portal/api/schemas.py): nothing here is written by hand
beside the code, so the document says what the code does."""

from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema
from werkzeug.http import HTTP_STATUS_CODES

from portal.api import PREFIX
from portal.api.endpoint import Endpoint
from portal.api.problems import HTTP_DETAILS, MIMETYPE
from portal.api.schemas import Problem

REF_TEMPLATE = "#/components/schemas/{model}"
SECURITY_SCHEME = "bearerToken"
ERROR_MEANINGS = {
    **HTTP_DETAILS,
    403: "Authenticated, but the policy does not allow you this, or your roles require "
    "two-factor sign-in and you have not set it up yet (see detail).",
    429: "Too many wrong passwords for this account or from this address: wait as long as "
    "Retry-After says.",
    409: "Not allowed in the request's state or by the governance rules: see blocked_by.",
    422: "Bad input, nothing was written: errors names each offending field.",
}
DESCRIPTION = """\
The Stewardship Portal's API: researchers file access requests; coordinators screen
them; each Nation's designated stewards review and its representative decides.

Authenticate with `Authorization: Bearer <token>` (create a token on the portal's
*API tokens* page or with `portal users token EMAIL`). Errors are RFC 9457 problem
details (`application/problem+json`); a refused call writes nothing. Lists are pages
`{items, next_cursor}`: pass `cursor=<next_cursor>` for the next one until it is null.
"""


def _models(endpoints: list[Endpoint]) -> list[tuple[type[BaseModel], str]]:
    pairs: dict[tuple[type[BaseModel], str], None] = {(Problem, "serialization"): None}
    for endpoint in endpoints:
        for model, mode in (
            (endpoint.body, "validation"),
            (endpoint.query, "validation"),
            (endpoint.response, "serialization"),
        ):
            if model is not None:
                pairs[(model, mode)] = None
    return list(pairs)


def _parameter_schema(prop: dict[str, Any]) -> dict[str, Any]:
    """A query parameter's schema: an optional one is simply left out, never null."""
    schema = {k: v for k, v in prop.items() if k not in ("title", "description")}
    branches = [b for b in schema.pop("anyOf", []) if b != {"type": "null"}]
    if len(branches) == 1:
        schema |= branches[0]
    elif branches:
        schema["anyOf"] = branches
    if schema.get("default", ...) is None:
        del schema["default"]
    return schema


def _query_parameters(schema: dict[str, Any]) -> list[dict[str, Any]]:
    required = set(schema.get("required", []))
    return [
        {
            "name": name,
            "in": "query",
            "required": name in required,
            "schema": _parameter_schema(prop),
            **({"description": prop["description"]} if "description" in prop else {}),
        }
        for name, prop in schema["properties"].items()
    ]


def _errors(endpoint: Endpoint, problem_ref: dict[str, str]) -> dict[str, Any]:
    responses = {}
    for status in endpoint.error_statuses:
        response: dict[str, Any] = {
            "description": ERROR_MEANINGS.get(status, HTTP_STATUS_CODES[status]),
            "content": {MIMETYPE: {"schema": problem_ref}},
        }
        if status == 401:
            response["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"}}}
        responses[str(status)] = response
    return responses


def _operation(endpoint: Endpoint, refs: dict, defs: dict) -> dict[str, Any]:
    success_schema = (
        refs[(endpoint.response, "serialization")] if endpoint.response else {"type": "object"}
    )
    if endpoint.media_type.endswith("+json"):  # JSON of another kind (JSON-LD)
        success_schema = {"type": "object"}
    elif endpoint.media_type != "application/json":
        success_schema = {"type": "string", "format": "binary"}
    operation: dict[str, Any] = {
        "operationId": endpoint.name,
        "summary": endpoint.summary,
        "parameters": [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            for name in endpoint.path_parameters
        ],
        "responses": {
            str(endpoint.status): {
                "description": HTTP_STATUS_CODES[endpoint.status],
                "content": {endpoint.media_type: {"schema": success_schema}},
            },
            **_errors(endpoint, refs[(Problem, "serialization")]),
        },
    }
    if endpoint.description:
        operation["description"] = endpoint.description
    if endpoint.public:
        operation["security"] = []
    if endpoint.query is not None:
        name = refs[(endpoint.query, "validation")]["$ref"].rsplit("/", 1)[-1]
        operation["parameters"] += _query_parameters(defs[name])
    if endpoint.body is not None:
        operation["requestBody"] = {
            # A body whose every field is optional may be left out: it reads as {}.
            "required": any(f.is_required() for f in endpoint.body.model_fields.values()),
            "content": {"application/json": {"schema": refs[(endpoint.body, "validation")]}},
        }
    return operation


def document(endpoints: list[Endpoint]) -> dict[str, Any]:
    refs, schemas = models_json_schema(_models(endpoints), ref_template=REF_TEMPLATE)
    defs = schemas.get("$defs", {})
    paths: dict[str, dict[str, Any]] = {}
    for endpoint in endpoints:
        operation = _operation(endpoint, refs, defs)
        paths.setdefault(PREFIX + endpoint.path, {})[endpoint.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": "Stewardship Portal API", "version": "1", "description": DESCRIPTION},
        "paths": paths,
        "components": {
            "schemas": defs,
            "securitySchemes": {SECURITY_SCHEME: {"type": "http", "scheme": "bearer"}},
        },
        "security": [{SECURITY_SCHEME: []}],
    }
