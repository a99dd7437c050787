"""The agreement as a PDF: templates/agreements/agreement.html through WeasyPrint.

The template is translatable (Jinja2's i18n extension; the catalogues are the .po
files in portal/agreements/locale/, read with Babel, no build step). WeasyPrint
fetches nothing but the portal's own static files (StaticFilesOnly): the fonts and
the stylesheet. The font is DejaVu Sans, shipped in portal/static/fonts/, which has
French accents and the Cree, Ojibwe and Inuktitut syllabics (U+1400–167F).

An agreement is signed in English, in French, or in both side by side ("both"): the
template's text rendered in each language, cut into the same parts (the template's
part markers) and set in pairs, English left and French right, with the signature
blocks once, labelled in both languages.
"""

import gettext
import io
import threading
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
import pycountry
from babel.dates import format_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from markupsafe import Markup
from weasyprint import CSS, HTML, Attachment
from weasyprint.text.fonts import FontConfiguration

from portal import i18n
from portal.agreements.clauses import OUTPUT_REVIEW
from portal.agreements.gc_pause import collector_paused
from portal.agreements.layout import EmbeddedFile, SignatureBox, associate, signature_boxes
from portal.paths import resource_dir
from portal.pdf import STATIC_DIR, StaticFilesOnly
from portal.registry.names import names_html
from portal.requests.fields import AGREEMENT_LANGUAGES
from portal.reviews import due as dues
from portal.reviews.terms import condition_params

LANGUAGES = {"en": "English", "fr": "Français"}  # the template's languages
BOTH = "both"
SIDE_BY_SIDE = ("en", "fr")  # "both": English left, French right
# What an agreement may be signed in: the choices a request offers (requests/fields.py).
SIGNED_LANGUAGES = tuple(AGREEMENT_LANGUAGES)
PARTS = ("<!--parts-->", "<!--/parts-->")  # the text set side by side, and where it is cut
PART = "<!--part-->"
SIGNING = ("<!--signing-->", "<!--/signing-->")  # the signatures' heading, also paired
LOCALES = {"en": "en_CA", "fr": "fr_CA"}
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
TEMPLATE = "agreements/agreement.html"
# Whose catalogue a document's text is in: the agreement's (portal/agreements/locale/),
# or the portal's (messages.po: a destruction attestation's, kept complete with the pages').
AGREEMENT, PORTAL = "agreement", "messages"


@cache
def translations(language: str, domain: str = AGREEMENT) -> gettext.NullTranslations:
    """The catalogue of ``language`` (English is the source text): the agreement's own,
    or the portal's (``messages``) for its other documents."""
    if language == "en":
        return gettext.NullTranslations()
    if domain == PORTAL:
        return Translations.load(str(i18n.TRANSLATIONS_DIR), [i18n.LOCALES[language]], PORTAL)
    po_file = LOCALE_DIR / language / "LC_MESSAGES" / "agreement.po"
    if not po_file.is_file():
        return gettext.NullTranslations()
    with po_file.open("rb") as file:
        catalog = read_po(file, locale=language)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled)


@cache
def environment(language: str, domain: str = AGREEMENT) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(resource_dir("templates")),
        autoescape=True,
        extensions=["jinja2.ext.i18n"],
        undefined=jinja2.StrictUndefined,
    )
    env.install_gettext_translations(translations(language, domain), newstyle=True)
    env.filters["longdate"] = lambda day: format_date(day, "long", locale=LOCALES[language])
    env.filters["place"] = lambda code: place_name(code, language)
    env.filters["css_string"] = css_string
    env.filters["css_counters"] = css_counters
    env.filters["condition"] = lambda condition: condition_in(condition, language)
    env.filters["due"] = dues.parse  # the template words it (its sentences have French)
    env.filters["words"] = lambda text: words_in(text, language)
    env.filters["clause"] = lambda clause, nations: clause_in(clause, nations, language)
    env.filters["names"] = names_html  # the names as the pages write them (lang-marked)
    return env


def words_in(text: str, language: str) -> str:
    """A text of the rules (a clause's title or text) in ``language``: the catalogue's
    translation, or the English as the rules hold it when the catalogue does not know
    it (a text the members changed). A plain string, so the template escapes it."""
    return str(translations(language).gettext(text))


def condition_in(condition: dict[str, Any], language: str) -> str:
    """A Nation's condition in ``language``: standard ones are translated with the
    values they were decided with; a Nation's own words, and a standard text the
    catalogue has no translation of, stay as decided."""
    template, params = condition.get("template"), condition.get("params")
    if language == "en" or not template or not params:
        return condition["text"]
    translated = words_in(template, language)
    return condition["text"] if translated == template else translated.format(**params)


def standard_words(
    condition: dict[str, Any], nation: Any, location: str, catalogue: dict, language: str
) -> str:
    """A decided condition's words in ``language`` on a page: a standard one's
    translation, completed with the Nation's values, while its text is still what the
    catalogue's entry gives; a Nation's own words (and a standard text since changed)
    as decided. The pages' French thus matches the agreement's."""
    text, entry = condition["text"], catalogue.get(condition.get("code") or "")
    if language == "en" or entry is None:
        return text
    params = condition_params(nation, location)
    try:
        completed = entry["text"].format(**params)
    except (KeyError, IndexError, ValueError):  # a text the members wrote other braces in
        return text
    if completed != text:
        return text
    return condition_in({"text": text, "template": entry["text"], "params": params}, language)


def clause_in(clause: dict[str, str], nations: list[str], language: str) -> str:
    """A standard clause's text; the output-review clause names the Nations that
    review outputs, or says none does."""
    if clause["code"] != OUTPUT_REVIEW:
        return words_in(clause["text"], language)
    if not nations:
        return words_in(clause["text_if_none"], language)
    return words_in(clause["text"], language) % {"nations": ", ".join(nations)}


@cache
def place_name(code: str, language: str) -> str:
    """ "CA-ON" as "Ontario, Canada" (or its French name), for the storage clause."""
    country = pycountry.countries.get(alpha_2=code[:2])
    if country is None:
        return code
    domain = gettext.translation(
        "iso3166-1", pycountry.LOCALES_DIR, languages=[language], fallback=True
    )
    name = domain.gettext(country.name)
    subdivision = pycountry.subdivisions.get(code=code) if "-" in code else None
    if subdivision is not None:
        names = gettext.translation(
            "iso3166-2", pycountry.LOCALES_DIR, languages=[language], fallback=True
        )
        name = f"{names.gettext(subdivision.name)}, {name}"
    return f"{name} ({code})"


def css_string(text: str) -> Markup:
    """``text`` as a quoted CSS string, safe inside <style> (page margin content)."""
    escaped = "".join(f"\\{ord(char):x} " if char in '\\"<>&\n' else char for char in str(text))
    return Markup(f'"{escaped}"')  # noqa: S704 - every character that could end it is escaped


def css_counters(text: str) -> Markup:
    """A translated "Page {page} of {pages}" as CSS content with the page counters."""
    pieces = []
    rest = text
    while "{" in rest:
        before, _, after = rest.partition("{")
        name, _, rest = after.partition("}")
        if before:
            pieces.append(css_string(before))
        pieces.append(f"counter({name})")
    if rest:
        pieces.append(css_string(rest))
    return Markup(" ".join(pieces))  # noqa: S704 - quoted pieces and counter() names only


def languages_of(language: str) -> tuple[str, ...]:
    """The template languages an agreement signed in ``language`` is written in."""
    return SIDE_BY_SIDE if language == BOTH else (language,)


def terms_language(language: str) -> str:
    """The language of the embedded terms (one file): English for "both"."""
    return languages_of(language)[0]


def render_html(document: dict[str, Any], language: str) -> str:
    if language == BOTH:
        return _side_by_side(document)
    if language not in LANGUAGES:
        raise ValueError(f"no agreement template in {language!r}")
    template = environment(language).get_template(TEMPLATE)
    return template.render(doc=document, lang=language, sides=None)


def _between(html: str, markers: tuple[str, str]) -> str:
    start, end = markers
    return html[html.index(start) + len(start) : html.index(end)]


def _side_by_side(document: dict[str, Any]) -> str:
    """The agreement in English and French side by side, from the same template: each
    language's text cut into its parts, the parts paired. Every part comes from the
    same template over the same values, so both languages have as many; the markers
    are the template's own (what a party wrote is escaped, so cannot forge one)."""
    halves = [render_html(document, language) for language in SIDE_BY_SIDE]
    parts = [_between(html, PARTS).split(PART)[1:] for html in halves]
    if len({len(found) for found in parts}) != 1:
        raise ValueError("the languages of the agreement do not have the same parts")
    french = _translator(SIDE_BY_SIDE[1])
    sides = {
        "parts": [tuple(Markup(part) for part in pair) for pair in zip(*parts, strict=True)],  # noqa: S704 - the template's own output, escaped there
        "signing": [Markup(_between(html, SIGNING)) for html in halves],  # noqa: S704 - as above
        "french": french,
    }
    template = environment(SIDE_BY_SIDE[0]).get_template(TEMPLATE)
    return template.render(doc=document, lang=SIDE_BY_SIDE[0], sides=sides)


def _translator(language: str) -> Callable[..., Markup]:
    """``_()`` of the template in ``language``, for the words of the side-by-side
    layout that it writes in both languages (its signature labels, its page header)."""
    catalogue = translations(language)

    def translate(message: str, **variables: Any) -> Markup:
        # As Jinja's own newstyle gettext: the catalogue's text is markup, values escaped.
        return Markup(catalogue.gettext(message)) % variables  # noqa: S704 - the catalogue's text

    return translate


_RENDER_LOCK = threading.Lock()


@cache
def _styles() -> tuple[FontConfiguration, CSS]:
    """The font configuration and the parsed stylesheet, made once per process: parsing
    the CSS and loading the @font-face files is a good part of a render's cost."""
    fonts = FontConfiguration()
    sheet = CSS(
        filename=str(STATIC_DIR / "agreement.css"),
        url_fetcher=StaticFilesOnly(),
        font_config=fonts,
    )
    return fonts, sheet


def render_pdf(document: dict[str, Any], language: str) -> bytes:
    """The agreement in ``language``, as PDF bytes (a reading copy: nothing to sign)."""
    return _write_pdf(render_html(document, language))[0]


def render_for_signing(
    document: dict[str, Any], language: str, attachment: EmbeddedFile
) -> tuple[bytes, dict[str, SignatureBox]]:
    """The agreement to be signed: ``attachment`` (the machine-readable terms) embedded
    as an associated file, so the signatures to come cover it, and where on which page
    each party's signature is drawn (the template's ``signature-<field>`` boxes)."""
    return _write_pdf(render_html(document, language), attachment)


def render_template_pdf(template: str, document: dict[str, Any], language: str = "en") -> bytes:
    """Another document of the portal's (a destruction attestation) printed like the
    agreement: same fonts, stylesheet and filters, from ``templates/<template>``, its
    text translated by the portal's catalogue."""
    env = environment(language, PORTAL)
    html = env.get_template(template).render(doc=document, lang=language)
    return _write_pdf(html)[0]


def _write_pdf(
    html: str, attachment: EmbeddedFile | None = None
) -> tuple[bytes, dict[str, SignatureBox]]:
    options: dict[str, Any] = {}
    if attachment is not None:
        options["attachments"] = [
            Attachment(
                string=attachment.data,
                name=attachment.name,
                description=attachment.description,
                relationship=attachment.relationship,
            )
        ]
        options["finisher"] = associate(attachment)
    # WeasyPrint's font configuration is not safe to share between threads at once.
    with _RENDER_LOCK, collector_paused():
        fonts, sheet = _styles()
        rendered = HTML(
            string=html, base_url=STATIC_DIR.as_uri() + "/", url_fetcher=StaticFilesOnly()
        ).render(stylesheets=[sheet], font_config=fonts)
        return rendered.write_pdf(**options), signature_boxes(rendered)
