"""Which language a page, an e-mail or a PDF speaks, and the switch between them.

English is the source text. The French (Canada) catalogue is
portal/translations/fr_CA/LC_MESSAGES/messages.po; the package build compiles it to
messages.mo (portal/translations/hatch_build.py), and tests/test_translations.py fails
when a message is missing from it or a template holds text outside a translation call.

A page speaks the person's own setting, else the language switch's cookie (someone not
signed in), else the browser's Accept-Language, else English. The JSON API always
speaks English: its messages are part of the contract scripts read. Mail speaks its
recipient's setting, whoever's request sent it.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

from flask import Flask, Response, has_request_context, request
from flask_babel import Babel, force_locale, format_date, get_locale
from flask_login import current_user

# The languages a person may choose, by the code kept in their setting and the cookie,
# each named in its own language (as a language switch names them).
LANGUAGES = {"en": "English", "fr": "Français"}
DEFAULT_LANGUAGE = "en"
# The Babel locale each one speaks in: Canadian conventions for dates and numbers.
LOCALES = {"en": "en_CA", "fr": "fr_CA"}
COOKIE = "language"
COOKIE_SECONDS = 365 * 24 * 3600
TRANSLATIONS_DIR = Path(__file__).resolve().parent / "translations"

babel = Babel()


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", LOCALES[DEFAULT_LANGUAGE])
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", "UTC")
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(TRANSLATIONS_DIR)
    babel.init_app(app, locale_selector=_select_locale)
    # {% trans %} blocks are read with their whitespace folded, as the catalogue holds them.
    app.jinja_env.policies["ext.i18n.trimmed"] = True
    app.add_template_global(current_language, "current_language")
    app.add_template_global(language_tag, "language_tag")
    app.add_template_global(LANGUAGES, "languages")
    app.add_template_filter(day, "day")


def _select_locale() -> str:
    return LOCALES[preferred_language()]


def preferred_language() -> str:
    """The language of what the current request answers (see the module's docstring)."""
    if not has_request_context() or request.blueprint == "api":
        return DEFAULT_LANGUAGE
    own = getattr(current_user, "language", None) if current_user else None
    if own in LANGUAGES:
        return own
    chosen = request.cookies.get(COOKIE)
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(LANGUAGES) or DEFAULT_LANGUAGE


def current_language() -> str:
    """``en`` or ``fr``: the language being spoken now."""
    locale = get_locale()
    return locale.language if locale and locale.language in LANGUAGES else DEFAULT_LANGUAGE


def language_tag() -> str:
    """The BCP 47 tag of the language being spoken (``<html lang>``), e.g. ``fr-CA``."""
    return LOCALES[current_language()].replace("_", "-")


def language_of(person: object) -> str:
    """The language to write to ``person`` in: their setting, else the one spoken now
    (someone mailed by address alone, an invitee, reads the inviter's language)."""
    own = getattr(person, "language", None)
    return own if own in LANGUAGES else current_language()


@contextmanager
def speaking(language: str) -> Iterator[None]:
    """Render what is inside in ``language`` (mail, a PDF), whatever the request speaks."""
    with force_locale(LOCALES.get(language, LOCALES[DEFAULT_LANGUAGE])):
        yield


def remember_choice(response: Response, language: str) -> None:
    """The switch's choice, kept in a cookie for someone not signed in (a signed-in
    person's choice is their setting)."""
    response.set_cookie(
        COOKIE, language, max_age=COOKIE_SECONDS, secure=request.is_secure, samesite="Lax"
    )


def day(value: date | str | None) -> str:
    """A date in the language spoken now (3 déc. 2026, Dec 3, 2026); also the day of an
    ISO date or moment given as text (a view's dict that the API shares)."""
    if isinstance(value, str) and value:
        value = date.fromisoformat(value[:10])
    return format_date(value, "medium") if value else ""
