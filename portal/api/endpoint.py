"""One API operation, described once: the blueprint registers it from this description
and the OpenAPI document is written from it, so the two cannot drift apart."""

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Response, current_app, request
from pydantic import BaseModel

from portal.api.auth import bearer_user
from portal.api.parsing import parse_body, parse_query
from portal.db import view_mode, with_view_mode


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # below /api/v1, in OpenAPI's form: /requests/{ref}
    handler: Callable[..., Any]
    summary: str
    response: type[BaseModel] | None  # None: the handler returns a plain JSON document
    status: int = 200
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    errors: tuple[int, ...] = ()  # what the handler's rules add (403, 409, ...)
    public: bool = False  # served without a token
    description: str = ""
    # A document other than JSON (the agreement PDF): the handler returns (bytes, headers).
    media_type: str = "application/json"

    @property
    def name(self) -> str:
        return self.handler.__name__

    @property
    def rule(self) -> str:
        """The path as a Flask URL rule: /requests/<ref>."""
        return re.sub(r"\{(\w+)\}", r"<\1>", self.path)

    @property
    def path_parameters(self) -> list[str]:
        return re.findall(r"\{(\w+)\}", self.path)

    @property
    def error_statuses(self) -> list[int]:
        """Every error status the operation can answer with."""
        statuses = set(self.errors)
        if not self.public:
            # 403 too: a token of someone whose roles require two-factor sign-in, before
            # they set it up (portal/api/auth.py).
            statuses |= {401, 403}
        if self.body is not None:
            statuses |= {400, 413, 422}
        if self.query is not None:
            statuses.add(422)
        if self.path_parameters:
            statuses.add(404)
        return sorted(statuses)

    def view(self) -> Callable[..., Any]:
        """The Flask view: authenticate, parse, call the handler, reply with JSON."""

        def view(**path: str):
            arguments: dict[str, Any] = dict(path)
            if not self.public:
                arguments["user"] = bearer_user(request.headers.get("Authorization"))
            if self.query is not None:
                arguments["query"] = parse_query(self.query)
            if self.body is not None:
                arguments["body"] = parse_body(self.body)
            result = self.handler(**arguments)
            result, headers = result if isinstance(result, tuple) else (result, {})
            if self.media_type != "application/json":
                response = Response(result, mimetype=self.media_type)
            else:
                payload = (
                    result.model_dump(mode="json") if isinstance(result, BaseModel) else result
                )
                response = current_app.json.response(payload)
            response.status_code = self.status
            response.headers.update(headers)
            return response

        view.__name__ = self.name
        # A handler that writes on a GET, or signs before it writes, says so (portal.db).
        return with_view_mode(view, view_mode(self.handler))
