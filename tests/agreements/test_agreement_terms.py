"""Machine-readable terms (issue 13, part 5): each standard condition carries a DUO code
where one fits and a portal term where none does; the agreement's terms are an ODRL
Agreement in JSON-LD, embedded in the PDF before the first signature (so all three
signatures cover it), served by the API to the agreement's readers only."""

import hashlib
import io
import json

import pytest
from pyld import jsonld
from pypdf import PdfReader
from sqlmodel import select

from portal.agreements import odrl, signing
from portal.agreements import service as agreements
from portal.agreements.document import document
from portal.audit.models import AuditEvent
from portal.db import session_scope
from portal.policy.standard_texts import check_catalogue
from portal.reviews.terms import default_catalogue, term_of

from agreement_kit import RESEARCHER_NAME, flip, pdfsig, request_of, stored_pdf
from apis import Api, problem

DUO = "http://purl.obolibrary.org/obo/DUO_"
OWN = "urn:stewardship-portal:terms:"
CEDAR = "urn:stewardship-portal:nation:red-cedar"
HERON = "urn:stewardship-portal:nation:blue-heron"


def test_each_standard_condition_carries_its_code():
    assert {code: entry["term"] for code, entry in default_catalogue().items()} == {
        "community_output_review": OWN + "community_output_review",
        "aggregate_only": OWN + "aggregate_only",
        "no_linkage": OWN + "no_linkage",
        "data_stays_in_location": DUO + "0000022",  # geographical restriction
        "acknowledge_ownership": OWN + "acknowledge_ownership",
        "return_or_destroy": OWN + "return_or_destroy",
        "non_commercial": DUO + "0000046",  # non-commercial use only
        "ethics_approval_kept": DUO + "0000021",  # ethics approval required
        "named_users_only": DUO + "0000026",  # user specific restriction
        "collective_consent": OWN + "collective_consent",
    }
    assert check_catalogue(default_catalogue()) == []


@pytest.mark.parametrize(
    ("term", "accepted"),
    [
        (DUO + "0000046", True),
        (OWN + "elders_first", True),
        (None, True),  # none: the seed's term for the code, or a portal one
        ("DUO:0000046", False),  # a CURIE, not the IRI
        (DUO + "000046", False),
        (DUO + "00000460", False),
        ("https://purl.obolibrary.org/obo/DUO_0000046", False),
        (OWN + "Elders", False),
        (OWN, False),
        (46, False),
    ],
)
def test_a_catalogue_entry_may_name_only_a_duo_or_portal_term(term, accepted):
    entry = {"label": "Elders first", "text": "Elders read the results first."}
    problems = check_catalogue({"elders_first": entry | ({} if term is None else {"term": term})})
    assert (problems == []) is accepted, problems


def test_an_entry_kept_without_a_term_reads_the_seeds_or_a_portal_one():
    assert term_of("non_commercial", {"label": "l", "text": "t"}) == DUO + "0000046"
    assert term_of("elders_first", {"label": "l", "text": "t"}) == OWN + "elders_first"
    assert term_of("non_commercial", {"term": OWN + "x"}) == OWN + "x"


def terms_in(pdf: bytes) -> dict:
    data = odrl.embedded(pdf)
    assert data is not None, "no terms embedded"
    return json.loads(data)


def duties(permission: dict) -> list[tuple]:
    return [(d["assigner"], d.get("code"), d["dct:description"]) for d in permission["duty"]]


def test_the_signed_pdf_holds_the_terms_as_an_odrl_agreement(issued):
    terms = terms_in(issued.signed)
    context = terms["@context"]
    assert context[0] == "http://www.w3.org/ns/odrl.jsonld"
    assert context[1]["DUO"] == {"@id": DUO, "@prefix": True}
    assert context[1]["portal"] == OWN
    assert context[1]["code"] == {"@id": "dct:type", "@type": "@id"}
    assert terms["@type"] == "Agreement"
    assert terms["uid"] == f"urn:stewardship-portal:agreement:{issued.ref}:revision:1"
    assert sorted(terms["assigner"], key=lambda p: p["uid"]) == [
        {"@type": "Party", "uid": HERON, "vcard:fn": "Blue Heron Métis (fictional)"},
        {"@type": "Party", "uid": CEDAR, "vcard:fn": "Red Cedar Nation (fictional)"},
    ]
    assert terms["assignee"] == {
        "@type": "Party",
        "uid": "mailto:researcher@example.org",
        "vcard:fn": RESEARCHER_NAME,
        "vcard:organization-name": "Université crie (fictional)",
    }
    cedar, heron = terms["permission"]
    assert [cedar["target"], heron["target"]] == [
        "urn:stewardship-portal:dataset:cedar-health",
        "urn:stewardship-portal:dataset:heron-schools",
    ]
    assert (cedar["assigner"], heron["assigner"]) == ([CEDAR], [HERON])
    for permission in (cedar, heron):
        assert permission["@type"] == "Permission" and permission["action"] == "use"
        assert permission["constraint"] == [
            {"leftOperand": "dateTime", "operator": "gteq", "code": "DUO:0000025",
             "rightOperand": {"@value": issued.term_start.isoformat(), "@type": "xsd:date"}},
            {"leftOperand": "dateTime", "operator": "lt", "code": "DUO:0000025",
             "rightOperand": {"@value": issued.term_end.isoformat(), "@type": "xsd:date"}},
            {"leftOperand": "spatial", "operator": "eq", "code": "DUO:0000022",
             "rightOperand": {"@value": "CA-ON", "@type": "portal:iso3166"}},
        ]  # fmt: skip
        assert {d["action"] for d in permission["duty"]} == {"portal:meetCondition"}
    assert duties(cedar) == [
        (CEDAR, "portal:community_output_review",
         "Outputs are reviewed by Red Cedar Nation (fictional) before publication."),
        (CEDAR, "portal:aggregate_only",
         "Only aggregate results are released; cells below 5 are suppressed."),
        (CEDAR, None, "Share results with the Elders."),
    ]  # fmt: skip
    assert duties(heron) == [
        (HERON, "DUO:0000046",
         "The data and what is learned from it are used for no commercial purpose."),
        (HERON, None, "Acknowledge the Métis Nation's knowledge keepers by name."),
    ]  # fmt: skip


def expand(curie: str, context: dict) -> str:
    """A compact IRI as a JSON-LD processor expands it with the context's prefixes."""
    prefix, _, suffix = curie.partition(":")
    definition = context[prefix]
    return (definition["@id"] if isinstance(definition, dict) else definition) + suffix


def test_the_codes_expand_to_the_duo_iris(issued):
    terms = terms_in(issued.signed)
    codes = {
        expand(duty["code"], terms["@context"][1])
        for permission in terms["permission"]
        for duty in permission["duty"]
        if "code" in duty
    }
    assert codes == {
        DUO + "0000046",
        OWN + "community_output_review",
        OWN + "aggregate_only",
    }


def test_the_terms_are_an_associated_file_of_the_pdf_as_issued(issued):
    catalog = PdfReader(io.BytesIO(issued.versions[0])).trailer["/Root"]
    [spec] = [reference.get_object() for reference in catalog["/AF"]]
    assert spec["/F"] == spec["/UF"] == "terms.jsonld"
    assert spec["/AFRelationship"] == "/Supplement"
    stream = spec["/EF"]["/F"].get_object()
    assert stream["/Subtype"] == "/application/ld+json"
    assert stream.get_data() == odrl.embedded(issued.signed)
    # The same file in every version: the signatures were added after it, over it.
    assert {odrl.embedded(version) for version in issued.versions} == {stream.get_data()}


def test_every_signature_covers_the_terms(issued, tmp_path):
    path = tmp_path / "agreement.pdf"
    path.write_bytes(issued.signed)
    assert pdfsig(path).count("Signature Validation: Signature is Valid.") == 3
    # A byte changed inside the embedded file's stream breaks all three signatures.
    issued_pdf = issued.versions[0]
    at = issued_pdf.index(b"stream", issued_pdf.index(b"/Type /EmbeddedFile")) + 12
    tampered = flip(issued.signed, at)
    reports = signing.read_signatures(tampered, issued.ca_certificate)
    assert len(reports) == 3 and not any(r.intact for r in reports)
    path.write_bytes(tampered)
    report = pdfsig(path)
    assert "Signature is Valid." not in report, report


def test_the_terms_read_in_the_agreements_language(app, approved):
    with app.app_context(), session_scope() as session:
        request = request_of(session, approved)
        text = document(session, request, agreements.current(session, request))
    french = odrl.policy(text, "fr")
    assert french["dct:language"] == "fr"
    assert duties(french["permission"][1]) == [
        (HERON, "DUO:0000046",
         "Les données et ce qui en est appris ne servent à aucune fin commerciale."),
        (HERON, None, "Acknowledge the Métis Nation's knowledge keepers by name."),
    ], "a standard condition is translated, a Nation's own words stay as decided"  # fmt: skip


def downloads_of_terms(app, ref: str) -> list[dict]:
    with app.app_context(), session_scope() as session:
        request = request_of(session, ref)
        events = session.exec(
            select(AuditEvent)
            .where(AuditEvent.request_id == request.id)
            .where(AuditEvent.action == "agreement.downloaded")
        ).all()
        return [e.details for e in events if e.details.get("kind") == "terms"]


def test_the_api_serves_the_signed_terms_to_the_agreements_readers(app, flow, approved):
    api = Api(app)
    path = f"/requests/{approved}/agreement/terms"
    embedded = odrl.embedded(stored_pdf(app, approved))
    for who in ("researcher", "cedar_steward1", "heron_rep", "coordinator"):
        answer = api.get(who, path)
        assert answer.status_code == 200, who
        assert answer.mimetype == "application/ld+json"
        assert answer.data == embedded
    digest = hashlib.sha256(embedded).hexdigest()
    assert [d["sha256"] for d in downloads_of_terms(app, approved)] == [digest] * 4
    for who in ("admin", "other_researcher"):
        problem(api.get(who, path), 404)
    assert len(downloads_of_terms(app, approved)) == 4, "a refused read is not recorded"
    assert api.client.get(f"/api/v1{path}").status_code == 401
    reviewed = flow.reviewed()
    problem(api.get("researcher", f"/requests/{reviewed}/agreement/terms"), 404)


# The ODRL 2.2 context's definitions of the terms the policy uses, as the W3C's
# http://www.w3.org/ns/odrl.jsonld gives them (the tests fetch nothing from outside).
ODRL = "http://www.w3.org/ns/odrl/2/"
ODRL_TERMS = {
    "odrl": ODRL,
    "uid": "@id",
    **{name: f"odrl:{name}" for name in ("Agreement", "Party", "Permission", "Duty")},
    **{name: f"odrl:{name}" for name in ("use", "dateTime", "spatial", "gteq", "lt", "eq")},
    **{
        name: {"@type": "@id", "@id": f"odrl:{name}"}
        for name in ("profile", "assigner", "assignee", "target", "permission", "duty")
    },
    "constraint": {"@type": "@id", "@id": "odrl:constraint"},
    **{name: {"@type": "@vocab", "@id": f"odrl:{name}"} for name in ("action", "leftOperand")},
    "operator": {"@type": "@vocab", "@id": "odrl:operator"},
    "rightOperand": "odrl:rightOperand",
}


def load_document(url, options=None):
    assert url == "http://www.w3.org/ns/odrl.jsonld", url
    return {"contextUrl": None, "documentUrl": url, "document": {"@context": ODRL_TERMS}}


def test_the_terms_parse_as_json_ld_with_the_duo_iris(issued):
    [policy] = jsonld.expand(terms_in(issued.signed), {"documentLoader": load_document})
    assert policy["@type"] == [ODRL + "Agreement"]
    assert policy["@id"] == f"urn:stewardship-portal:agreement:{issued.ref}:revision:1"
    permissions = policy[ODRL + "permission"]
    assert [p[ODRL + "action"] for p in permissions] == [[{"@id": ODRL + "use"}]] * 2

    def codes(items) -> list[str]:
        return [
            code["@id"] for item in items for code in item.get("http://purl.org/dc/terms/type", [])
        ]

    cedar, heron = permissions
    assert codes(heron[ODRL + "duty"]) == [DUO + "0000046"]
    assert codes(cedar[ODRL + "duty"]) == [OWN + "community_output_review", OWN + "aggregate_only"]
    assert codes(cedar[ODRL + "constraint"]) == [DUO + "0000025", DUO + "0000025", DUO + "0000022"]
    assert {a["@id"] for d in heron[ODRL + "duty"] for a in d[ODRL + "action"]} == {
        OWN + "meetCondition"
    }
    assert heron[ODRL + "assigner"] == [{"@id": HERON}]
