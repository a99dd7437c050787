"""Settings, read from the environment once when the app is created.

| variable          | meaning                                                     |
|-------------------|-------------------------------------------------------------|
| PORTAL_INSTANCE   | local state: SQLite database, CA made on first use, mail    |
| DATABASE_URL      | SQLAlchemy URL; default: SQLite file in the instance folder |
| SECRET_KEY        | signs sessions and CSRF tokens; required to serve           |
| SECURE_COOKIES    | "0" only for plain-HTTP local use (``portal demo`` does so)  |
| SMTP_HOST/PORT    | the mail relay for notifications                            |
| PORTAL_CA_PASSPHRASE | protects the agreement CA's and signers' keys (else SECRET_KEY) |
| PORTAL_CA_KEY/CERT | an existing CA's PEM key and certificate (else <instance>/ca/) |
| REDIS_URL         | where the throttles count (else in each worker's memory)    |
| PORTAL_URL        | the portal's public address, for links in e-mail            |
| LIMIT_*           | the throttles, e.g. LIMIT_SIGN_IN_PER_ACCOUNT="10 per 15 minutes" |
| GOVERNANCE_APPROVAL | member Nations approving a rule change: majority, two_thirds, all |
| GOVERNANCE_OBJECTION_STOPS | "1" (default): one Nation's objection rejects a rule change |
| PORTAL_TRUSTED_PROXIES | how many proxies in front set X-Forwarded-For/Proto/Host (0) |
| PORTAL_METRICS_TOKEN | the bearer token /metrics asks for (none: /metrics is 404)    |
| LOG_FORMAT        | json (default unless debugging) or text                     |
| REMIND_SCREENING_DAYS | days a request may wait for screening before a reminder (7; 0: none) |
| PORTAL_JOB_BATCH  | items the reminders and expiry jobs commit at a time (200; 0: all) |
| PORTAL_WEBHOOKS_ALLOW_LOCAL_HTTP | "1": custodians' endpoints may be http://localhost |
| PORTAL_WEBHOOKS_ALLOW_PRIVATE_ADDRESSES | "1": custodians' endpoints may be private or local |
| STORAGE_S3_BUCKET | keep new files in this S3-compatible bucket (else in the database) |
| STORAGE_S3_PREFIX | the start of every object's name (e.g. "portal/"; default none) |
| STORAGE_S3_ENDPOINT_URL | another S3-compatible server (MinIO, Ceph), else AWS    |
| STORAGE_S3_REGION | the bucket's region (else AWS_REGION, ~/.aws/config)        |
"""

import os
from pathlib import Path

SECRET_KEY_FILE = "secret_key"  # noqa: S105 (a file name)


def instance_path() -> Path:
    return Path(os.environ.get("PORTAL_INSTANCE", "instance")).resolve()


def default_database_url(instance: Path) -> str:
    return f"sqlite:///{instance / 'portal.db'}"


def read_secret_key(instance: Path) -> str | None:
    """SECRET_KEY from the environment, else the one ``portal demo`` keeps in the instance."""
    if key := os.environ.get("SECRET_KEY"):
        return key
    key_file = instance / SECRET_KEY_FILE
    if key_file.is_file():
        return key_file.read_text().strip() or None
    return None


def _flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() not in {"0", "false", "no", "off", ""}


def _whole_number(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    if not value.isdigit():
        raise RuntimeError(f"{name} must be a whole number (0 or more), not {value!r}")
    return int(value)


def from_environment() -> dict:
    instance = instance_path()
    return {
        "INSTANCE_PATH": str(instance),
        "DATABASE_URL": os.environ.get("DATABASE_URL") or default_database_url(instance),
        "SECRET_KEY": read_secret_key(instance),
        "SESSION_COOKIE_SECURE": _flag("SECURE_COOKIES", True),
        "SMTP_HOST": os.environ.get("SMTP_HOST") or None,
        "SMTP_PORT": int(os.environ.get("SMTP_PORT", "25")),
        "MAIL_FROM": os.environ.get("MAIL_FROM", "portal@localhost"),
        "CA_PASSPHRASE": os.environ.get("PORTAL_CA_PASSPHRASE") or None,
        "CA_KEY_PATH": os.environ.get("PORTAL_CA_KEY") or None,
        "CA_CERT_PATH": os.environ.get("PORTAL_CA_CERT") or None,
        "REDIS_URL": os.environ.get("REDIS_URL") or None,
        "PORTAL_URL": os.environ.get("PORTAL_URL") or "http://localhost:5000",
        "RATELIMIT_KEY_PREFIX": os.environ.get("RATELIMIT_KEY_PREFIX") or "portal",
        **{name: os.environ.get(name) or default for name, default in LIMITS.items()},
        "GOVERNANCE_APPROVAL": os.environ.get("GOVERNANCE_APPROVAL") or GOVERNANCE_APPROVAL,
        "GOVERNANCE_OBJECTION_STOPS": _flag(
            "GOVERNANCE_OBJECTION_STOPS", GOVERNANCE_OBJECTION_STOPS
        ),
        # How many proxies in front of the portal each append to X-Forwarded-*: trust
        # that many (werkzeug's ProxyFix, portal/ops.py); 0 trusts none.
        "TRUSTED_PROXIES": _whole_number("PORTAL_TRUSTED_PROXIES", 0),
        "METRICS_TOKEN": os.environ.get("PORTAL_METRICS_TOKEN") or None,
        # Days a request may wait for screening before the coordinators are reminded
        # (portal/workflow/reminders.py); 0: no reminders.
        "REMIND_SCREENING_DAYS": _whole_number("REMIND_SCREENING_DAYS", 7),
        # How many items the reminders and expiry jobs handle per transaction
        # (portal/jobs/batches.py); 0: each run in one transaction.
        "JOB_BATCH": _whole_number("PORTAL_JOB_BATCH", 200),
        "LOG_FORMAT": os.environ.get("LOG_FORMAT") or None,  # None: json unless debugging
        # Custodians' endpoints are HTTPS; plain HTTP to this machine only if this says so.
        "CUSTODIAN_WEBHOOKS_ALLOW_LOCAL_HTTP": _flag("PORTAL_WEBHOOKS_ALLOW_LOCAL_HTTP", False),
        # ... and never to this machine or a private network, unless this says so (tests,
        # demos): portal/notify/addresses.py.
        "CUSTODIAN_WEBHOOKS_ALLOW_PRIVATE_ADDRESSES": _flag(
            "PORTAL_WEBHOOKS_ALLOW_PRIVATE_ADDRESSES", False
        ),
        # The largest output a researcher may submit for review before publication.
        "OUTPUT_MAX_BYTES": _whole_number("PORTAL_OUTPUT_MAX_BYTES", 10 * 1024 * 1024),
        # Files (agreements, outputs, attestations) in an S3-compatible bucket, with its
        # credentials from the AWS chain (portal/storage/s3.py); unset: in the database.
        **{name: os.environ.get(name) or None for name in STORAGE_S3},
    }


STORAGE_S3 = (
    "STORAGE_S3_BUCKET",
    "STORAGE_S3_PREFIX",
    "STORAGE_S3_ENDPOINT_URL",
    "STORAGE_S3_REGION",
)


# The member Nations govern the portal-wide rules (portal/policy/approval.py): how many
# of them must approve a proposed change ("majority": more than half; "two_thirds": at
# least two thirds; "all"), and whether one objection rejects it. Silence never counts.
GOVERNANCE_APPROVAL = "majority"
GOVERNANCE_OBJECTION_STOPS = True


# Throttles (Flask-Limiter notation: "N per M minutes", several joined with ";"). Each
# holds per account (the e-mail submitted, normalised, or the person signed in) and per
# client address; sign-in and signing count failed attempts only.
LIMITS = {
    "LIMIT_SIGN_IN_PER_ACCOUNT": "10 per 15 minutes",
    "LIMIT_SIGN_IN_PER_ADDRESS": "50 per 15 minutes",
    "LIMIT_FORGOT_PASSWORD_PER_ACCOUNT": "3 per hour",
    "LIMIT_FORGOT_PASSWORD_PER_ADDRESS": "20 per hour",
    "LIMIT_SIGNING_PER_ACCOUNT": "5 per 15 minutes",
    "LIMIT_SIGNING_PER_ADDRESS": "30 per 15 minutes",
    "LIMIT_VERIFY_PER_ADDRESS": "30 per hour",
}


# Fixed settings: not meant to vary between deployments.
FIXED = {
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_NAME": "portal_session",
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    # Idle lifetime (the cookie's signature is refused once older, and renewed with each
    # request) and absolute lifetime (from sign-in, whatever the activity).
    "PERMANENT_SESSION_LIFETIME": 8 * 3600,
    "SESSION_ABSOLUTE_LIFETIME": 12 * 3600,
    "WTF_CSRF_TIME_LIMIT": 8 * 3600,
    "MAX_CONTENT_LENGTH": 16 * 1024 * 1024,
    # The JSON API's bodies are small; it refuses anything larger with 413.
    "API_MAX_CONTENT_LENGTH": 64 * 1024,
    "REQUIRE_SECRET_KEY": True,
    # Send queued mail right after the request that queued it commits (tests send by hand).
    "MAIL_SEND_AFTER_REQUEST": True,
}
