"""The errors services raise. Pages, the API and the CLI each map them onto their
own form (a field message, a problem+json body, a line on stderr and exit 1)."""

from dataclasses import dataclass, field


class ServiceError(Exception):
    """Something the caller asked for cannot be done; nothing was written."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ValidationError(ServiceError):
    """Bad input. ``errors`` maps each offending field to what is wrong with it."""

    def __init__(self, errors: dict[str, str], message: str | None = None) -> None:
        self.errors = errors
        super().__init__(message or "; ".join(f"{k}: {v}" for k, v in errors.items()))


class NotFound(ServiceError):
    """No such object, or none the caller may know of (both look the same, by design)."""


class Forbidden(ServiceError):
    """The caller may know of the object but may not do this: their roles do not allow
    it, or a rule says "not you" (``blocked_by`` names it, e.g. ``not_own_request``)."""

    def __init__(self, message: str, blocked_by: "list[BlockingRule] | None" = None) -> None:
        super().__init__(message)
        self.blocked_by = list(blocked_by or [])


class Conflict(ServiceError):
    """The object exists already (a duplicate slug or e-mail address)."""


@dataclass(frozen=True)
class BlockingRule:
    rule: str
    message: str


@dataclass
class Refused(ServiceError):
    """A transition not allowed now, by the workflow state or by governance rules."""

    message: str
    blocked_by: list[BlockingRule] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(self.message)
