"""Log lines: one JSON object a line (LOG_FORMAT=json, the default unless debugging) or
plain text (LOG_FORMAT=text), each carrying the id of the web request it belongs to.

Every record made while a request is served gets ``request_id`` (a record factory, so
records that never reach our handler, such as those a test captures, carry it too).
The JSON is written by python-json-logger: no escaping of our own.
"""

import logging
import re
import sys
import time
import uuid

from flask import Flask, g, has_request_context
from flask.logging import default_handler
from pythonjsonlogger.json import JsonFormatter

REQUEST_ID_HEADER = "X-Request-ID"
# An id a client (or the proxy in front) may choose: short, and safe in any log or header.
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
LOG_FORMATS = ("json", "text")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
JSON_FIELDS = ("asctime", "levelname", "name", "message", "request_id")
JSON_NAMES = {"asctime": "time", "levelname": "level", "name": "logger"}


def request_id_from(sent: str | None) -> str:
    """The id the client sent when it is a sane one, else a new one."""
    if sent and _SANE_REQUEST_ID.fullmatch(sent):
        return sent
    return uuid.uuid4().hex


def current_request_id() -> str | None:
    return g.get("request_id") if has_request_context() else None


_make_record = logging.getLogRecordFactory()


def _record_with_request_id(*args, **kwargs) -> logging.LogRecord:
    record = _make_record(*args, **kwargs)
    record.request_id = current_request_id()
    return record


class _UtcJsonFormatter(JsonFormatter):
    """ISO 8601 times in UTC, to the millisecond."""

    converter = staticmethod(time.gmtime)
    default_time_format = "%Y-%m-%dT%H:%M:%S"
    default_msec_format = "%s.%03dZ"


def formatter(log_format: str) -> logging.Formatter:
    if log_format == "text":
        return logging.Formatter(TEXT_FORMAT)
    return _UtcJsonFormatter(list(JSON_FIELDS), rename_fields=JSON_NAMES)


class PortalHandler(logging.StreamHandler):
    """The one handler the portal puts on the root logger (replaced, never doubled,
    when another app is made in the same process). It writes to whatever stderr is at
    the time, as logging's own last resort does, so a stream swapped out (by a test's
    capture) and closed is never written to."""

    def __init__(self) -> None:
        logging.Handler.__init__(self)

    @property
    def stream(self):
        return sys.stderr


def configure(app: Flask) -> None:
    """Send every log record to stderr in the app's LOG_FORMAT; the portal's own loggers
    speak from INFO up (a line per request), the libraries' from WARNING."""
    log_format = app.config.get("LOG_FORMAT") or ("text" if app.debug else "json")
    if log_format not in LOG_FORMATS:
        raise RuntimeError(f"LOG_FORMAT must be json or text, not {log_format!r}")
    if logging.getLogRecordFactory() is not _record_with_request_id:
        logging.setLogRecordFactory(_record_with_request_id)
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, PortalHandler)]:
        root.removeHandler(handler)
    handler = PortalHandler()
    handler.setFormatter(formatter(log_format))
    root.addHandler(handler)
    portal_logger = logging.getLogger("portal")
    portal_logger.removeHandler(default_handler)  # Flask's own: lines would come twice
    if portal_logger.level == logging.NOTSET or portal_logger.level > logging.INFO:
        portal_logger.setLevel(logging.DEBUG if app.debug else logging.INFO)
