"""Errors as RFC 9457 problem details (application/problem+json).

The services raise portal.errors; here each becomes its status: ValidationError 422
(with ``errors`` naming the fields), NotFound 404, Forbidden 403, Refused and Conflict
409 (with ``blocked_by``). Any problem response ends the request's transaction with a
rollback (portal.db), so a refused call writes nothing.
"""

import json

from flask import Response, current_app, request
from pydantic import ValidationError as ShapeError
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES

from portal.api import PREFIX
from portal.errors import (
    BlockingRule,
    Conflict,
    Forbidden,
    NotFound,
    Refused,
    ServiceError,
    ValidationError,
)

MIMETYPE = "application/problem+json"

# What a plain HTTP error means here, in words a script's author can act on.
HTTP_DETAILS = {
    400: "The request could not be read.",
    401: "Send a valid API token: Authorization: Bearer <token>.",
    403: "Your roles do not allow this.",
    404: "There is nothing here, or nothing you may know of.",
    405: "This resource does not accept that method.",
    413: "The body is larger than the API accepts.",
    415: "Send the body as application/json.",
    429: "Too many attempts from here or for this account: wait as long as Retry-After says.",
}


class ApiProblem(Exception):
    """Raised by the API layer itself (authentication, parsing) to answer with a problem."""

    def __init__(self, status: int, detail: str, **extensions) -> None:
        super().__init__(detail)
        self.status, self.detail, self.extensions = status, detail, extensions


def is_api_request() -> bool:
    return request.path == PREFIX or request.path.startswith(PREFIX + "/")


def problem(status: int, detail: str, **extensions) -> Response:
    body = {
        "type": "about:blank",
        "title": HTTP_STATUS_CODES.get(status, "Error"),
        "status": status,
        "detail": detail,
        **extensions,
    }
    response = current_app.response_class(json.dumps(body), status=status, mimetype=MIMETYPE)
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="portal"'
    return response


def _rules(rules: list[BlockingRule]) -> list[dict[str, str]]:
    return [{"rule": rule.rule, "message": rule.message} for rule in rules]


def field_errors(errors: dict[str, str]) -> list[dict[str, str]]:
    return [{"field": name, "message": message} for name, message in errors.items()]


def from_service_error(error: ServiceError) -> Response:
    if isinstance(error, ValidationError):
        return problem(422, error.message, errors=field_errors(error.errors))
    if isinstance(error, NotFound):
        return problem(404, HTTP_DETAILS[404])  # never echo what was looked for
    if isinstance(error, Forbidden):  # with the rule that says "not you", if one does
        rules = {"blocked_by": _rules(error.blocked_by)} if error.blocked_by else {}
        return problem(403, error.message, **rules)
    if isinstance(error, Refused):
        return problem(409, error.message, blocked_by=_rules(error.blocked_by))
    if isinstance(error, Conflict):
        return problem(
            409, error.message, blocked_by=_rules([BlockingRule("exists", error.message)])
        )
    return problem(400, error.message)


def from_shape_error(error: ShapeError) -> Response:
    """A body or query that does not fit its schema: 422 naming each field; 400 when
    the body is not JSON at all."""
    if any(item["type"] == "json_invalid" for item in error.errors()):
        return problem(400, "The body is not valid JSON.")
    errors: dict[str, str] = {}
    for item in error.errors(include_url=False):
        name = ".".join(str(part) for part in item["loc"]) or "body"
        message = (
            "Not a field of this operation."
            if item["type"] == "extra_forbidden"
            else item["msg"].rstrip(".") + "."
        )
        errors[name] = f"{errors[name]} {message}" if name in errors else message
    detail = "Bad input: " + "; ".join(f"{name}: {text}" for name, text in errors.items())
    return problem(422, detail, errors=field_errors(errors))


def from_http_exception(error: HTTPException) -> Response:
    status = error.code or 500
    detail = HTTP_DETAILS.get(status, error.description or "")
    if status == 413:
        detail += f" The limit is {current_app.config['API_MAX_CONTENT_LENGTH']} bytes."
    response = problem(status, detail)
    if status == 405 and getattr(error, "valid_methods", None):
        response.headers["Allow"] = ", ".join(error.valid_methods)
    return response


def from_exception(error: Exception) -> Response:
    current_app.logger.exception("unhandled error in the API", exc_info=error)
    return problem(500, "The portal hit an error; nothing was changed. Try again.")


def init_blueprint(bp) -> None:
    bp.register_error_handler(ApiProblem, lambda e: problem(e.status, e.detail, **e.extensions))
    bp.register_error_handler(ServiceError, from_service_error)
    bp.register_error_handler(ShapeError, from_shape_error)
    bp.register_error_handler(HTTPException, from_http_exception)
    bp.register_error_handler(Exception, from_exception)
