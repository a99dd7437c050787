"""Reading what a call sends: its JSON body and query parameters, into the models of
schemas.py (the same ones the OpenAPI document describes), and the opaque cursors of
paginated lists."""

from typing import Any, TypeVar

from flask import current_app, request
from itsdangerous import BadSignature, URLSafeSerializer
from pydantic import BaseModel
from werkzeug.exceptions import RequestEntityTooLarge

from portal.errors import ValidationError

M = TypeVar("M", bound=BaseModel)


def parse_body(model: type[M]) -> M:
    """The body as ``model``. An empty body reads as ``{}``. Over the size limit: 413
    (raised by the request as it reads); not JSON: 400; wrong shape: 422."""
    raw = request.get_data(cache=True)
    limit = request.max_content_length
    if request.content_length is None and limit is not None and len(raw) >= limit:
        # A streamed body (no Content-Length) is cut at the limit as it is read, not
        # refused: one that reached it was larger than we take.
        raise RequestEntityTooLarge()
    return model.model_validate_json(raw if raw.strip() else b"{}")


def parse_query(model: type[M]) -> M:
    return model.model_validate(request.args.to_dict())


def _serializer(kind: str) -> URLSafeSerializer:
    # Signed, so a cursor is only ever one this API gave out (and names nothing else).
    return URLSafeSerializer(current_app.secret_key, salt=f"portal.api.cursor.{kind}")


def make_cursor(kind: str, position: Any) -> str:
    return _serializer(kind).dumps(position)


def read_cursor(kind: str, cursor: str | None) -> Any:
    """The position a cursor of this kind stands for; None for the first page."""
    if cursor is None:
        return None
    try:
        return _serializer(kind).loads(cursor)
    except BadSignature:
        raise ValidationError(
            {"cursor": "Not a cursor of this list: pass the next_cursor of the previous page."}
        ) from None
