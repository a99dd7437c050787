"""The agreement's terms for machines: a W3C ODRL 2.2 Agreement in JSON-LD.

Built from the same values the PDF prints (portal/agreements/document.py) and embedded
in the PDF as an associated file before anyone signs (portal/agreements/render.py), so
every signature covers it; the API and the custodians' notices serve the file read back
from the signed PDF (``embedded``), never a copy made again later.

The policy: the Nations are its assigners and the researcher its assignee; each dataset
is the target of a permission to ``use`` it, from the Nations whose data it holds, within
the term (``dateTime``, DUO:0000025 time limit on use) and the storage location
(``spatial``, an ISO 3166 code; DUO:0000022 geographical restriction); each condition a
Nation attached is a duty on the permissions over its data, with the term of its
catalogue entry (a DUO code or a portal one, portal/reviews/terms.py) as its ``code``
(dct:type) and its words as the PDF prints them. A Nation's own words have no code.
"""

import json
from io import BytesIO
from typing import Any

from pyhanko.pdf_utils.reader import PdfFileReader

from portal.agreements.render import condition_in
from portal.reviews.terms import DUO, PORTAL_TERMS

ODRL_CONTEXT = "http://www.w3.org/ns/odrl.jsonld"
MEDIA_TYPE = "application/ld+json"
FILENAME = "terms.jsonld"
DESCRIPTION = "The terms of this agreement as a W3C ODRL 2.2 policy (JSON-LD)"
# Names of the portal's things: stable whatever host serves them.
PORTAL = "urn:stewardship-portal:"
PROFILE = PORTAL + "odrl-profile"
# A duty to meet a condition: the portal's action, since ODRL has none that means "do
# what this condition says"; the condition's code says which.
MEET = "portal:meetCondition"
TIME_LIMIT = "DUO:0000025"
GEOGRAPHICAL = "DUO:0000022"
CONTEXT: list[Any] = [
    ODRL_CONTEXT,
    {
        "@version": 1.1,
        "dct": "http://purl.org/dc/terms/",
        "vcard": "http://www.w3.org/2006/vcard/ns#",
        "xsd": "http://www.w3.org/2001/XMLSchema#",
        "DUO": {"@id": DUO, "@prefix": True},
        "portal": PORTAL_TERMS,
        "code": {"@id": "dct:type", "@type": "@id"},
    },
]


def nation_uid(slug: str) -> str:
    return f"{PORTAL}nation:{slug}"


def dataset_uid(slug: str) -> str:
    return f"{PORTAL}dataset:{slug}"


def compact(iri: str) -> str:
    """A term's IRI as the policy writes it, with the context's prefixes."""
    if iri.startswith(DUO):
        return "DUO:" + iri.removeprefix(DUO)
    if iri.startswith(PORTAL_TERMS):
        return "portal:" + iri.removeprefix(PORTAL_TERMS)
    return iri


def _date(day) -> dict[str, str]:
    return {"@value": day.isoformat(), "@type": "xsd:date"}


def _constraints(doc: dict[str, Any]) -> list[dict[str, Any]]:
    # Use from the first day of the term, up to (not on) its end: the request expires
    # on term_end (portal/workflow/signing.py, guard_expire).
    return [
        {"leftOperand": "dateTime", "operator": "gteq", "rightOperand": _date(doc["term_start"]),
         "code": TIME_LIMIT},
        {"leftOperand": "dateTime", "operator": "lt", "rightOperand": _date(doc["term_end"]),
         "code": TIME_LIMIT},
        # ODRL asks an IRI of a place; ISO 3166 codes have none, so a typed literal.
        {"leftOperand": "spatial", "operator": "eq", "code": GEOGRAPHICAL,
         "rightOperand": {"@value": doc["storage_location"], "@type": "portal:iso3166"}},
    ]  # fmt: skip


def _duty(nation: dict[str, Any], condition: dict[str, Any], language: str) -> dict[str, Any]:
    duty: dict[str, Any] = {
        "@type": "Duty",
        "assigner": nation_uid(nation["slug"]),
        "action": MEET,
        "dct:description": condition_in(condition, language),
    }
    if condition.get("term"):
        duty["code"] = compact(condition["term"])
    return duty


def policy(doc: dict[str, Any], language: str) -> dict[str, Any]:
    """The ODRL Agreement of ``doc`` (document.document()), its words in ``language``."""
    nations = {nation["slug"]: nation for nation in doc["nations"]}
    researcher = doc["researcher"]
    permissions = []
    for dataset in doc["datasets"]:
        holders = [nations[slug] for slug in dataset["nation_slugs"] if slug in nations]
        permissions.append(
            {
                "@type": "Permission",
                "target": dataset_uid(dataset["slug"]),
                "assigner": [nation_uid(n["slug"]) for n in holders],
                "action": "use",
                "constraint": _constraints(doc),
                "duty": [_duty(n, c, language) for n in holders for c in n["conditions"]],
            }
        )
    return {
        "@context": CONTEXT,
        "@type": "Agreement",
        "uid": f"{PORTAL}agreement:{doc['ref']}:revision:{doc['revision']}",
        "profile": PROFILE,
        "dct:title": doc["title"],
        "dct:description": doc["purpose"],
        "dct:language": language,
        "dct:issued": _date(doc["issued_on"]),
        "assigner": [
            {"@type": "Party", "uid": nation_uid(n["slug"]), "vcard:fn": n["name"]}
            for n in doc["nations"]
        ],
        "assignee": {
            "@type": "Party",
            "uid": f"mailto:{researcher['email']}",
            "vcard:fn": researcher["name"],
        }
        | (
            {"vcard:organization-name": researcher["institution"]}
            if researcher["institution"]
            else {}
        ),
        "permission": permissions,
    }


def serialize(terms: dict[str, Any]) -> bytes:
    """The bytes embedded and served: UTF-8, keys in the order written."""
    return json.dumps(terms, ensure_ascii=False, indent=2).encode()


def _resolved(dictionary: Any, key: str, default: Any = None) -> Any:
    """``dictionary[key]`` (pyHanko's [] resolves an indirect object; its get() does
    not), or ``default`` ({} unless given) when it has none."""
    try:
        return dictionary[key]
    except KeyError:
        return {} if default is None else default


def embedded(pdf: bytes) -> bytes | None:
    """The terms file embedded in ``pdf`` (its latest revision), or None for an
    agreement issued before its terms were embedded."""
    reader = PdfFileReader(BytesIO(pdf), strict=False)
    files = _resolved(_resolved(reader.root, "/Names"), "/EmbeddedFiles")
    pairs = list(_resolved(files, "/Names", []))
    for name, spec in zip(pairs[::2], pairs[1::2], strict=True):
        if str(name) == FILENAME:
            return spec.get_object()["/EF"]["/F"].data
    return None
