"""English and French: the catalogue is complete, every template's text goes through a
translation call, and each page, e-mail and API answer speaks the language it should."""

import html.parser
import io
import re
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from portal import i18n

from helpers import PASSWORD, csrf_token, sign_in, sqlite_pass_only

pytestmark = sqlite_pass_only("the catalogue and the language spoken")

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "portal" / "translations" / "fr_CA" / "LC_MESSAGES" / "messages.po"
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None, "lazy_ngettext": (1, 2)}
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]|\{\w*\}")


def source_messages() -> dict[str, str]:
    """Every message the code and the templates ask to translate, with where it is."""
    with (ROOT / "portal" / "translations" / "babel.cfg").open() as mapping:
        method_map, options_map = parse_mapping_cfg(mapping)
    found = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS
    ):
        text = message[0] if isinstance(message, tuple) else message  # a plural: its singular
        if text:
            found.setdefault(text, f"{filename}:{lineno}")
    return found


def french_catalogue():
    with CATALOGUE.open("rb") as file:
        return read_po(file, locale="fr_CA")


def test_every_message_has_its_french():
    catalog = french_catalogue()
    translated = {  # a plural message: its singular and its plural both
        text: message
        for message in catalog
        if message.id and not message.fuzzy and all(_strings(message))
        for text in (message.id if isinstance(message.id, tuple) else (message.id,))
    }
    missing = {text: where for text, where in source_messages().items() if text not in translated}
    assert not missing, "without French in messages.po:\n" + "\n".join(
        f"{where}: {text!r}" for text, where in sorted(missing.items(), key=lambda m: m[1])
    )


def test_the_french_keeps_every_placeholder():
    wrong = []
    for message in french_catalogue():
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        wanted = sorted(PLACEHOLDER.findall(ids[-1]))
        for text in _strings(message):
            if sorted(PLACEHOLDER.findall(text)) != wanted:
                wrong.append(f"{ids[0]!r} -> {text!r}")
    assert not wrong, "placeholders lost or added:\n" + "\n".join(wrong)


def test_an_output_is_an_extrant_in_every_french_message():
    """A research output is "extrant" in the French, as the page headings say ("Extrants
    avant publication"): a browser found some messages calling it "résultat", which
    the French uses for a results table and for an outcome."""
    wrong = []
    for message in french_catalogue():
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        if not re.search(r"\boutputs?\b", ids[0], re.IGNORECASE):
            continue
        for text in _strings(message):
            if re.search(r"r[ée]sultat", text, re.IGNORECASE):
                wrong.append(f"{ids[0]!r} -> {text!r}")
    assert not wrong, "an output called résultat:\n" + "\n".join(wrong)


def _strings(message) -> tuple[str, ...]:
    return message.string if isinstance(message.string, tuple) else (message.string,)


def test_the_compiled_catalogue_is_the_one_in_the_repository():
    compiled = io.BytesIO()
    write_mo(compiled, french_catalogue())
    built = CATALOGUE.with_suffix(".mo")
    assert built.is_file() and built.read_bytes() == compiled.getvalue(), (
        "messages.mo is missing or older than messages.po: "
        "run `python portal/translations/hatch_build.py` (or pip install -e . again)"
    )


# --- no text outside a translation call -------------------------------------------------

# What a reader sees of a tag besides its text: these attributes are read out or shown.
VISIBLE_ATTRIBUTES = {"title", "alt", "placeholder", "aria-label", "aria-description", "label"}
JINJA = re.compile(
    r"\{%-?\s*trans\b.*?\{%-?\s*endtrans\s*-?%\}"  # a {% trans %} block: translated
    r"|\{#.*?#\}|\{%.*?%\}",  # a comment or a statement: no text of its own
    re.DOTALL,
)
EXPRESSION = re.compile(r"\{\{.*?\}\}", re.DOTALL)
LETTERS = re.compile(r"[^\W\d_]{2,}")


class _Text(html.parser.HTMLParser):
    """The text and visible attribute values of a template with its Jinja taken out."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[int, str]] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        for name, value in attrs:
            if name in VISIBLE_ATTRIBUTES and value and LETTERS.search(value):
                self.found.append((self.getpos()[0], f'{name}="{value}"'))

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip and LETTERS.search(data):
            self.found.append((self.getpos()[0], data.strip()))


def text_outside_translation(source: str, *, markup: bool) -> list[tuple[int, str]]:
    # Each construct becomes as many newlines as it spans, so line numbers hold.
    def blank(match: re.Match) -> str:
        return "\n" * match.group(0).count("\n")

    stripped = EXPRESSION.sub(lambda m: "0" + blank(m), JINJA.sub(blank, source))
    if not markup:  # a mail template: every line of text is text
        return [
            (number, line.strip())
            for number, line in enumerate(stripped.splitlines(), 1)
            if LETTERS.search(line)
        ]
    parser = _Text()
    parser.feed(stripped)
    parser.close()
    return parser.found


TEMPLATES = sorted((ROOT / "templates").rglob("*.html")) + sorted(
    (ROOT / "templates" / "mail").glob("*.txt")
)


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: str(p.relative_to(ROOT / "templates")))
def test_a_template_holds_no_text_outside_a_translation_call(path):
    found = text_outside_translation(path.read_text(), markup=path.suffix == ".html")
    assert not found, "\n".join(f"{path.name}:{line}: {text!r}" for line, text in found)


def test_the_check_finds_text_outside_a_translation_call():
    found = text_outside_translation(
        '<p title="Help">{{ _("Hello") }} world</p>{% trans %}Fine{% endtrans %}{# note #}',
        markup=True,
    )
    assert [text for _line, text in found] == ['title="Help"', "0 world"]
    assert text_outside_translation("{{ _('Hi') }}\nBye {{ x }}\n", markup=False) == [(2, "Bye 0")]


# --- which language is spoken -----------------------------------------------------------


def _lang(page: bytes) -> str:
    return re.search(rb'<html lang="([^"]+)"', page).group(1).decode()


def test_a_page_speaks_the_browsers_language_until_one_is_chosen(client):
    assert _lang(client.get("/auth/sign-in").data) == "en-CA"
    french = client.get("/auth/sign-in", headers={"Accept-Language": "fr-CA,fr;q=0.9"})
    assert _lang(french.data) == "fr-CA"
    assert "Portail d’intendance des données" in french.text
    # A language the portal does not speak: English.
    assert _lang(client.get("/auth/sign-in", headers={"Accept-Language": "de"}).data) == "en-CA"


def test_the_switch_keeps_the_choice_of_someone_not_signed_in(client):
    page = client.get("/auth/sign-in")
    answer = client.post(
        "/language",
        data={"language": "fr", "next": "/auth/sign-in", "csrf_token": csrf_token(page.text)},
    )
    assert answer.status_code == 302 and answer.headers["Location"] == "/auth/sign-in"
    # The cookie now outweighs the browser's English.
    again = client.get("/auth/sign-in", headers={"Accept-Language": "en"})
    assert _lang(again.data) == "fr-CA"


def test_the_switch_refuses_what_it_does_not_know(client):
    token = csrf_token(client.get("/auth/sign-in").text)
    assert client.post("/language", data={"language": "de", "csrf_token": token}).status_code == 400
    assert client.post("/language", data={"language": "fr"}).status_code == 400  # no CSRF token
    elsewhere = client.post(
        "/language", data={"language": "fr", "next": "//evil.example/", "csrf_token": token}
    )
    assert elsewhere.headers["Location"] == "/"


def test_a_signed_in_persons_choice_is_their_setting(app, client, make_user):
    from portal.auth.models import User
    from portal.db import session_scope

    user_id = make_user("ama@example.org", "researcher")
    sign_in(client, "ama@example.org", PASSWORD)
    token = csrf_token(client.get("/").text)
    client.post("/language", data={"language": "fr", "next": "/", "csrf_token": token})
    with app.app_context(), session_scope() as session:
        assert session.get(User, user_id).language == "fr"
    # Elsewhere, with an English browser and no cookie, the setting holds.
    other = app.test_client()
    sign_in(other, "ama@example.org", PASSWORD)
    other.delete_cookie(i18n.COOKIE)
    assert _lang(other.get("/", headers={"Accept-Language": "en"}).data) == "fr-CA"


def test_the_api_speaks_english_whatever_the_browser_says(client):
    answer = client.get("/api/v1/requests", headers={"Accept-Language": "fr"})
    assert answer.status_code == 401
    assert answer.json["title"].isascii()


def test_dates_are_written_in_the_language_spoken(app):
    from datetime import date

    with app.test_request_context(headers={"Accept-Language": "fr"}):
        assert i18n.day(date(2026, 12, 3)) == "3 déc. 2026"
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert i18n.day(date(2026, 12, 3)) == "Dec 3, 2026"


def test_the_french_role_badges_name_women_and_men_alike(app, flow):
    """Found in a browser: the French badges said "Représentant", "Intendant",
    "Chercheur" to everyone. They now name a role as the catalogue names the researcher
    ("la chercheuse ou le chercheur"): both forms, the feminine first."""
    from flows import PEOPLE

    badges = {
        "researcher": "Chercheuse ou chercheur",
        "coordinator": "Coordonnatrice ou coordonnateur",
        "admin": "Administratrice ou administrateur",
        "cedar_steward1": "Intendante ou intendant · Red Cedar Nation (fictional)",
        "cedar_rep": "Représentante ou représentant · Red Cedar Nation (fictional)",
    }
    for who, badge in badges.items():
        client = app.test_client()
        sign_in(client, PEOPLE[who][0], PASSWORD)
        page = client.get("/", headers={"Accept-Language": "fr-CA,fr;q=0.9"}).text
        shown = re.findall(r'<li class="role-badge">([^<]*)</li>', page)
        assert shown == [badge], (who, shown)
