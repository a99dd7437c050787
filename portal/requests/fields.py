"""The fields of an access request: their labels, how each is checked, and how two
revisions differ. Drafts may be incomplete but never malformed; submission needs
every field (README.md, "API")."""

from typing import Any

from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlmodel import Session, select

from portal.errors import ValidationError
from portal.registry.models import Dataset
from portal.registry.service import SLUG_PATTERN, jurisdiction_code
from portal.validation import CONTROL_CHARACTERS

# Lazy: each is read in the language of the page that shows it.
LABELS = {
    "title": _l("Title"),
    "purpose": _l("Purpose"),
    "datasets": _l("Datasets"),
    "methods": _l("Methods"),
    "community_benefit": _l("Benefit to the community"),
    "harm_assessment": _l("Harm assessment"),
    "ethics_approval": _l("Ethics approval"),
    "storage_location": _l("Storage location"),
    "retention_days": _l("Retention (days)"),
    "team": _l("Team"),
    "agreement_language": _l("Language of the agreement"),
}
TEXT_FIELDS = (
    "title",
    "purpose",
    "methods",
    "community_benefit",
    "harm_assessment",
    "ethics_approval",
)
TEXT_LIMITS = {"title": 300, "ethics_approval": 500}
TEXT_LIMIT = 20_000
TEAM_KEYS = ("name", "email", "role")
MAX_RETENTION_DAYS = 36_500
# The language the agreement is issued and signed in, as the researcher chooses it (the
# Nations see the choice before they decide): "both" sets English and French side by side.
AGREEMENT_LANGUAGES = {"en": "English", "fr": "French", "both": "English and French side by side"}
DEFAULT_AGREEMENT_LANGUAGE = "en"
# What a revision submitted before a field existed holds for it.
DEFAULTS = {"agreement_language": DEFAULT_AGREEMENT_LANGUAGE}


def clean(session: Session, fields: dict[str, Any]) -> tuple[dict[str, Any], list[Dataset] | None]:
    """Check and normalise the fields given (any subset). Returns the clean values and,
    when ``datasets`` was given, the datasets it names. Raises ValidationError naming
    every bad field; nothing is written."""
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    unknown = set(fields) - set(LABELS)
    for name in sorted(unknown):
        errors[name] = _("Not a field of a request.")
    for name in TEXT_FIELDS:
        if name not in fields:
            continue
        value = fields[name]
        limit = TEXT_LIMITS.get(name, TEXT_LIMIT)
        if not isinstance(value, str):
            errors[name] = _("Must be text.")
        elif "\x00" in value:  # PostgreSQL cannot store it; nobody types it
            errors[name] = _("Must not contain NUL characters.")
        elif name == "title" and CONTROL_CHARACTERS.search(value):
            # Mail subjects and bodies print the title: a line break would begin a new
            # line there (found in a probe, through the API).
            errors[name] = _(
                "The title must be one line, without line breaks or other control characters."
            )
        elif len(value.strip()) > limit:
            errors[name] = _("Must be at most %(limit)s characters.", limit=limit)
        else:
            values[name] = value.strip()
    if "storage_location" in fields:
        location = fields["storage_location"]
        if not isinstance(location, str):
            errors["storage_location"] = _("Must be an ISO 3166 code such as CA or CA-ON.")
        elif not location.strip():
            values["storage_location"] = ""
        else:
            try:
                values["storage_location"] = jurisdiction_code(location)
            except ValidationError as error:
                errors["storage_location"] = error.errors["residency"]
    if "retention_days" in fields:
        days = fields["retention_days"]
        if days is None or days == "":
            values["retention_days"] = None
        elif isinstance(days, bool) or not isinstance(days, int):
            errors["retention_days"] = _("Must be a whole number of days.")
        elif not 1 <= days <= MAX_RETENTION_DAYS:
            errors["retention_days"] = _(
                "Must be between 1 and %(most)s days.", most=MAX_RETENTION_DAYS
            )
        else:
            values["retention_days"] = days
    if "agreement_language" in fields:
        language = fields["agreement_language"]
        if language not in AGREEMENT_LANGUAGES:
            errors["agreement_language"] = _(
                "Must be one of %(choices)s.",
                choices=", ".join(repr(code) for code in AGREEMENT_LANGUAGES),
            )
        else:
            values["agreement_language"] = language
    if "team" in fields:
        try:
            values["team"] = _clean_team(fields["team"])
        except ValidationError as error:
            errors |= error.errors
    datasets = None
    if "datasets" in fields:
        try:
            datasets = _find_datasets(session, fields["datasets"])
        except ValidationError as error:
            errors |= error.errors
    if errors:
        raise ValidationError(errors)
    return values, datasets


def _clean_team(team: Any) -> list[dict[str, str]]:
    shape = _("Must be a list of members, each with a name, an e-mail address and a role.")
    if not isinstance(team, list):
        raise ValidationError({"team": shape})
    members = []
    for number, member in enumerate(team, start=1):
        if not isinstance(member, dict) or set(member) - set(TEAM_KEYS):
            raise ValidationError({"team": shape})
        if not all(isinstance(member.get(key, ""), str) for key in TEAM_KEYS):
            raise ValidationError({"team": shape})
        entry = {key: member.get(key, "").strip() for key in TEAM_KEYS}
        if not any(entry.values()):
            continue  # an empty row of the form
        if entry["email"]:
            try:
                entry["email"] = validate_email(
                    entry["email"], check_deliverability=False
                ).normalized
            except EmailNotValidError:
                raise ValidationError(
                    {
                        "team": _(
                            "Member %(number)s: %(email)s is not an e-mail address.",
                            number=number,
                            email=repr(entry["email"]),
                        )
                    }
                ) from None
        members.append(entry)
    return members


def _find_datasets(session: Session, slugs: Any) -> list[Dataset]:
    if not isinstance(slugs, list) or not all(isinstance(slug, str) for slug in slugs):
        raise ValidationError({"datasets": _("Must be a list of dataset slugs.")})
    # Only well-formed slugs are looked up: anything else is simply unknown.
    wellformed = [slug for slug in slugs if SLUG_PATTERN.fullmatch(slug)]
    query = select(Dataset).where(Dataset.slug.in_(wellformed))
    found = {d.slug: d for d in session.exec(query)}
    unknown = [slug for slug in slugs if slug not in found]
    if unknown:
        raise ValidationError(
            {"datasets": _("Unknown dataset: %(slugs)s.", slugs=", ".join(unknown))}
        )
    return [found[slug] for slug in dict.fromkeys(slugs)]


def nothing_typed(values: dict[str, Any]) -> bool:
    """Whether clean ``values`` hold nothing but empty fields and defaults (a choice
    left as the form offers it is nothing typed)."""
    return not any(value for name, value in values.items() if value != DEFAULTS.get(name))


def missing_for_submission(snapshot: dict[str, Any]) -> dict[str, str]:
    """What a complete request still lacks, field by field."""
    errors = {}
    for name in TEXT_FIELDS:
        if not snapshot.get(name):
            errors[name] = _("%(field)s is required before submitting.", field=LABELS[name])
    if not snapshot.get("datasets"):
        errors["datasets"] = _("Choose at least one dataset.")
    if not snapshot.get("storage_location"):
        errors["storage_location"] = _("Say where the data will be held (e.g. CA or CA-ON).")
    if not snapshot.get("retention_days"):
        errors["retention_days"] = _("Say how many days the data will be kept.")
    team = snapshot.get("team") or []
    # The form's empty rows are no member (a saved snapshot has none).
    if not any(any(str(value or "").strip() for value in member.values()) for member in team):
        errors["team"] = _("Name at least one team member.")
    elif gaps := incomplete_members(team):
        errors["team"] = " ".join(gaps)
    return errors


# What a team member lacks, as the sentence naming their row says it.
MEMBER_PARTS = {"name": _l("a name"), "email": _l("an e-mail address"), "role": _l("a role")}


def incomplete_members(team: list[dict[str, Any]]) -> list[str]:
    """A sentence for each member begun but not finished (a name without an e-mail
    address or a role...), naming their row as bad e-mail addresses are named: the rows
    counted as the form shows them, empty ones included. Empty rows are no member."""
    gaps = []
    for number, member in enumerate(team, start=1):
        entry = {key: str(member.get(key) or "").strip() for key in TEAM_KEYS}
        if not any(entry.values()) or all(entry.values()):
            continue
        missing = [str(MEMBER_PARTS[key]) for key in TEAM_KEYS if not entry[key]]
        if len(missing) > 1:
            missing = [_("%(items)s and %(last)s", items=", ".join(missing[:-1]), last=missing[-1])]
        who = entry["name"] or entry["email"] or entry["role"]
        words = {"number": number, "who": who, "missing": missing[0]}
        gaps.append(_("Member %(number)s (%(who)s): add %(missing)s.", **words))
    return gaps


def member_words(member: dict[str, Any]) -> str:
    """A team member as a page reads them: "Name (role, e-mail)", leaving out what a
    draft does not say yet (never "Name (, )")."""
    details = ", ".join(str(member[key]) for key in ("role", "email") if member.get(key))
    name = str(member.get("name") or "") or "—"
    return f"{name} ({details})" if details else name


def diff(before: dict[str, Any], after: dict[str, Any]) -> list[tuple[str, str, Any, Any]]:
    """Fields that differ between two snapshots: (field, label, before, after)."""
    return [
        (name, label, _value(before, name), _value(after, name))
        for name, label in LABELS.items()
        if _value(before, name) != _value(after, name)
    ]


def _value(snapshot: dict[str, Any], name: str) -> Any:
    value = snapshot.get(name, DEFAULTS.get(name))
    # A revision kept its datasets in the database's order, which a collation may set
    # otherwise than Python's: the same datasets are no change.
    return sorted(value) if name == "datasets" and isinstance(value, list) else value


def agreement_language(snapshot: dict[str, Any]) -> str:
    """The language a revision (or the request's fields) asks the agreement in."""
    return _value(snapshot, "agreement_language")
