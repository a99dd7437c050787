"""A Nation's and a dataset's names beside the English one: French, and the Nation's own
language and script with its BCP 47 language tag ("cr-Cans", "iu-Cans", "moh").

The `langcodes` package is not a dependency of the portal, so the tag's form is checked
by the grammar of RFC 5646 below (well-formed, not checked against the registry): a tag
is what pages put in lang="..." and what the stylesheets choose the syllabics font by.
"""

import re
from typing import Any

from flask_babel import gettext as _
from markupsafe import Markup, escape

from portal import validation

NAME_FIELDS = ("name_fr", "name_own", "name_own_lang")
MAX_NAME = 200
MAX_TAG = 35  # RFC 5646 4.4.1: 35 characters hold any tag a language needs

# RFC 5646 "langtag": language (2-3 letters, up to three extlangs; or 4-8 letters),
# script (4 letters), region (2 letters or 3 digits), variants, extensions, private use.
_LANGTAG = re.compile(
    r"(?:[a-z]{2,3}(?:-[a-z]{3}){0,3}|[a-z]{4,8})"
    r"(?:-[a-z]{4})?"
    r"(?:-(?:[a-z]{2}|[0-9]{3}))?"
    r"(?:-(?:[a-z0-9]{5,8}|[0-9][a-z0-9]{3}))*"
    r"(?:-[0-9a-wyz](?:-[a-z0-9]{2,8})+)*"
    r"(?:-x(?:-[a-z0-9]{1,8})+)?",
    re.IGNORECASE | re.ASCII,
)
# The Unified Canadian Aboriginal Syllabics and its Extended block.
_SYLLABICS = re.compile("[\u1400-\u167f\u18b0-\u18ff]")


def is_language_tag(tag: str) -> bool:
    return len(tag) <= MAX_TAG and _LANGTAG.fullmatch(tag) is not None


def canonical_tag(tag: str) -> str:
    """RFC 5646's case conventions: language lower, script title, region upper ("cr-Cans")."""
    language, *rest = tag.split("-")
    out, singleton = [language.lower()], False
    for part in rest:
        singleton = singleton or len(part) == 1  # extensions and private use: lower
        if not singleton and len(part) == 4 and part.isalpha():
            part = part.title()
        elif not singleton and len(part) == 2 and part.isalpha():
            part = part.upper()
        else:
            part = part.lower()
        out.append(part)
    return "-".join(out)


def check_names(errors: dict[str, str], name_fr: str, name_own: str, name_own_lang: str) -> dict:
    """The three names, stripped and checked; a message per bad field into ``errors``."""
    name_fr = validation.text(
        errors, "name_fr", name_fr, "French name", max_length=MAX_NAME, required=False
    )
    name_own = validation.text(
        errors,
        "name_own",
        name_own,
        "name in the Nation's own language",
        max_length=MAX_NAME,
        required=False,
    )
    tag = (name_own_lang or "").strip()
    if tag and not is_language_tag(tag):
        errors["name_own_lang"] = _(
            "%(tag)s is not a BCP 47 language tag: give the language and, for "
            "syllabics, the script, e.g. cr-Cans, iu-Cans or moh.",
            tag=repr(tag[:40]),
        )
    elif name_own and not tag:
        errors["name_own_lang"] = _(
            "Give the language tag of the name (e.g. cr-Cans, iu-Cans, moh)."
        )
    elif tag and not name_own:
        errors["name_own"] = _("Give the name in the Nation's own language, or no language tag.")
    elif _SYLLABICS.search(name_own) and "cans" not in tag.lower().split("-"):
        # Pages and PDFs choose the syllabics font and screen readers the voice by the tag.
        errors["name_own_lang"] = _(
            "The name is written in syllabics: its tag names the script Cans (e.g. %(tag)s).",
            tag=tag.split("-")[0].lower() + "-Cans",
        )
    if "name_own_lang" not in errors and tag:
        tag = canonical_tag(tag)
    return {"name_fr": name_fr, "name_own": name_own, "name_own_lang": tag}


def names_html(thing: Any) -> Markup:
    """The one place pages and PDFs write a Nation's or a dataset's names (the `names`
    filter): the English (a dataset's title), then the French and the Nation's own, each
    marked with its language so the syllabics font and screen readers pick it up:
    Red Cedar · <span lang="fr">Cèdre rouge</span> · <span lang="cr-Cans">ᓀᐦᐃᔭᐍᐏᐣ</span>."""

    def get(name: str) -> str:
        value = thing.get(name) if isinstance(thing, dict) else getattr(thing, name, None)
        return value or ""

    html = escape(get("name") or get("title"))
    if french := get("name_fr"):
        html += Markup(' <span class="own-names">· <span lang="fr">%s</span></span>') % french
    if own := get("name_own"):
        html += Markup(
            ' <span class="own-names">· <span class="own-name" lang="%s">%s</span></span>'
        ) % (get("name_own_lang"), own)
    return html
