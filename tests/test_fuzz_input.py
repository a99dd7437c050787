"""Hostile text into every form of the pages and every body of the API: NULs, line
separators, huge numbers, very long strings, any unicode. Whatever is sent, the portal
answers without a server error, and a refusal (4xx) writes nothing (invariant 8).

The pages' POST routes come from the URL map, so a new form is fuzzed (or this test
fails until it says who uses it); the API's operations come from its OpenAPI document.
tests/api/test_api_schemathesis.py checks the API keeps to that document; this adds the
hostile values and the "nothing written" check. Bounded and derandomized: it runs in
well under a minute, the same way every time, on SQLite and on PostgreSQL."""

import io
import re
from datetime import date

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.audit.models import AuditChainHead
from portal.auth import service as auth
from portal.db import session_scope
from portal.models import metadata
from portal.reviews.forms import CRITERIA

from flows import PEOPLE
from helpers import sign_in

FUZZ = settings(
    max_examples=8,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
NASTY = ["\x00", "\r", "\n", "\u2028", "\u2029", "\x85", "\x0b", "\x0c", "\x1c", "\ufeff", "\u202e"]
# Hypothesis starts from the simplest case of the first branch: a lone NUL.
HOSTILE_TEXT = st.one_of(
    st.builds(lambda a, c, b: a + c + b, st.text(max_size=8), st.sampled_from(NASTY), st.text()),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.builds(lambda c, n: c * n, st.sampled_from(["x", "\x00", "é"]), st.integers(0, 20_000)),
    st.sampled_from(["", "0", "-1", "2147483648", "1e309", "NaN", "CA-ON", "approve", "y"]),
    st.text(alphabet=st.sampled_from([*NASTY, "a", " ", "é", "ᐁ", "😀"]), max_size=40),
    st.text(max_size=40),
)

# Each POST page: who may use it, the page that holds its form, the state it needs.
PAGES = {
    "auth.sign_in": (None, "/sign-in", None),
    "auth.sign_out": ("researcher", "/", None),
    "main.choose_language": ("researcher", "/account", None),
    "auth.tokens": ("researcher", "/account/tokens", None),
    "auth.revoke_token": ("researcher", "/account/tokens", None),
    "registry.profile": ("cedar_rep", "/nations/red-cedar/profile", None),
    "registry.designate": ("cedar_rep", "/nations/red-cedar/profile", None),
    "registry.remove": ("cedar_rep", "/nations/red-cedar/stewards/{user_id}/remove", None),
    "requests.new": ("researcher", "/requests/new", None),
    "requests.edit": ("researcher", "/requests/{ref}/edit", "draft"),
    "requests.withdraw": ("researcher", "/requests/{ref}", "draft"),
    "reviews.screen": ("coordinator", "/requests/{ref}/screen", "screening"),
    "reviews.review": ("cedar_steward1", "/requests/{ref}/review/red-cedar", "under_review"),
    "reviews.decide": ("cedar_rep", "/requests/{ref}/decide/red-cedar", "under_review"),
    "reviews.revoke": ("cedar_rep", "/requests/{ref}/revoke/red-cedar", "approved"),
    "agreements.sign": ("researcher", "/requests/{ref}", "approved"),
    "conversations.thread": (
        "cedar_steward1",
        "/requests/{ref}/conversations/internal/red-cedar",
        "under_review",
    ),
    "lifecycle.report": (
        "researcher",
        "/requests/{ref}/obligations/{obligation_id}/report",
        "active",
    ),
    "lifecycle.assess": (
        "cedar_rep",
        "/requests/{ref}/obligations/{obligation_id}/assess",
        "active",
    ),
    # The end of access: an active request (close), one closed early (attest), one whose
    # attestation waits for the Nations (answer).
    "lifecycle.close": ("researcher", "/requests/{ref}/end/close", "active"),
    "lifecycle.attest": ("researcher", "/requests/{ref}/end/attest", "ended"),
    "lifecycle.answer": ("cedar_rep", "/requests/{ref}/end/answer/red-cedar", "attested"),
    "agreements.verify": (None, "/verify", None),
    "auth.sign_in_code": (None, "/sign-in", None),  # no password given first: back to it
    "auth.forgot_password": (None, "/forgot-password", None),
    "auth.reset_password": (None, "/forgot-password", None),  # a link that is no link
    "auth.two_factor": ("researcher", "/account/two-factor", None),
    "auth.disable_two_factor": ("researcher", "/account", None),
    "auth.change_password": ("researcher", "/account", None),
    "auth.end_other_sessions": ("researcher", "/account", None),
    # A link that is no invitation, and an invitation that does not exist: 404, nothing written.
    "auth.invitation": (None, "/sign-in", None),
    "auth.revoke_invitation": ("admin", "/admin/invitations", None),
    "registry.invitations": ("cedar_rep", "/nations/red-cedar/invitations", None),
    "registry.rules": ("cedar_rep", "/nations/red-cedar/profile", None),
    "admin.grant": ("admin", "/admin/people/{user_id}", None),
    "admin.revoke_role": ("admin", "/admin/people/{user_id}", None),
    "admin.set_active": ("admin", "/admin/people/{user_id}", None),
    "admin.invitations": ("admin", "/admin/invitations", None),
    "admin.nations": ("admin", "/admin/nations", None),
    "admin.datasets": ("admin", "/admin/datasets", None),
    "admin.dataset": ("admin", "/admin/datasets/cedar-health", None),
    "admin.dataset_endpoint": ("admin", "/admin/datasets/cedar-health", None),
    "admin.jobs": ("admin", "/admin/jobs", None),
    # A Nation's labels on its dataset (remove: none attached, so 404 and nothing written).
    "datasets.attach": ("cedar_rep", "/datasets/cedar-health", None),
    "datasets.remove": ("cedar_rep", "/datasets/cedar-health", None),
    # A notice that does not exist: 404, nothing written.
    "deliveries.retry": ("coordinator", "/deliveries", None),
    "proposals.new": ("admin", "/rules/proposals/new", None),
    # A proposed rule change the administrator made (proposal_change below).
    "proposals.vote": ("cedar_rep", "/rules/proposals/{proposal_id}", None),
    "proposals.withdraw": ("admin", "/rules/proposals/{proposal_id}", None),
    # An active request with one output in review (ref_in's "output").
    "outputs.new": ("researcher", "/requests/{ref}/outputs/new", "output"),
    "outputs.review": ("cedar_steward1", "/requests/{ref}/outputs/{output_id}", "output"),
    "outputs.decide": ("cedar_rep", "/requests/{ref}/outputs/{output_id}", "output"),
    # The Renew form on an active request's page (its Amend form posts the same fields).
    "requests.open_amendment": ("researcher", "/requests/{ref}", "active"),
}
API_WHO = {
    "create_request": "researcher",
    "update_request": "researcher",
    "submit": "researcher",
    "withdraw": "researcher",
    "sign": "researcher",
    "screen": "coordinator",
    "review": "cedar_steward1",
    "decide": "cedar_rep",
    "revoke": "cedar_rep",
    "message": "cedar_steward1",
    "report_obligation": "researcher",
    "assess_obligation": "cedar_rep",
    "create_proposal": "admin",
    "vote_on_proposal": "cedar_rep",
    "put_nation_rules": "cedar_rep",
    "preview_nation_rules": "cedar_rep",
    "submit_output": "researcher",
    "review_output": "cedar_steward1",
    "decide_output": "cedar_rep",
    "close": "researcher",
    "attest_destruction": "researcher",
    "acknowledge_destruction": "cedar_rep",
    "update_nation_profile": "cedar_rep",
    "renew": "researcher",
    "amend": "researcher",
    "put_nation_labels": "cedar_rep",
}
API_STATE = {
    "screen": "screening",
    "review": "under_review",
    "decide": "under_review",
    "message": "under_review",
    "submit_output": "output",
    "review_output": "output",
    "decide_output": "output",
    "renew": "output",  # an active request
    "amend": "output",
}


def proposal_change(app) -> int:
    """A proposed portal-wide rule change, open, made by the administrator: its id."""
    from portal.workflow.proposals import Propose, govern

    change = {"lines": {"add": [["p2", "*", "review", "ethics_approval_given"]]}}
    with app.app_context(), session_scope() as session:
        admin = auth.get_user(session, PEOPLE["admin"][0])
        return govern(session, admin, Propose("Coordinators read records", "", change)).id


def snapshot(app) -> dict:
    """Row counts of every table and the audit chain's head: what a refusal must keep."""
    with app.app_context(), session_scope() as session:
        counts = {
            table.name: session.execute(sa.select(sa.func.count()).select_from(table)).scalar()
            for table in metadata.sorted_tables
        }
        head = session.get(AuditChainHead, 1)
        return {**counts, "head": head.last_hash if head else None}


def ref_in(flow, state: str | None) -> str:
    """A new request in ``state`` (approved: awaiting signatures); a draft by default."""
    if state == "screening":
        ref = flow.draft()
        flow.do("researcher", "submit", ref)
        return ref
    if state == "active":  # access began: Red Cedar is owed the data's return
        ref = flow.approved(cedar_conditions=["return_or_destroy"])
        for signer in ("researcher", "cedar_rep", "heron_rep"):
            flow.do(signer, "sign", ref)
        return ref
    if state in ("ended", "attested"):
        from portal.workflow.commands import AttestDestruction, Close

        from helpers import PASSWORD

        ref = flow.active()
        flow.perform("researcher", ref, Close(reason="Finished early"))
        if state == "attested":
            what = ("Every extract", "Secure erase", str(date.today()), "Robin (fictional)")
            flow.perform("researcher", ref, AttestDestruction(*what, password=PASSWORD))
        return ref
    if state == "output":
        from portal.workflow.commands import SubmitOutput

        ref = flow.active()
        flow.perform("researcher", ref, SubmitOutput("T", "V", "t.csv", b"A,B\nx,1\n"))
        return ref
    make = {"under_review": flow.to_review, "approved": flow.approved}.get(state, flow.draft)
    return make()


def obligation_of(app, ref: str) -> int:
    """The id of the request's one obligation (0 if it has none)."""
    from portal.lifecycle.models import Obligation
    from portal.requests.models import AccessRequest

    with app.app_context(), session_scope() as session:
        request = session.exec(sa.select(AccessRequest).where(AccessRequest.ref == ref)).scalar()
        query = sa.select(Obligation.id).where(Obligation.request_id == request.id)
        return session.exec(query).scalar() or 0


def latest_output_id(app) -> int:
    from portal.lifecycle.outputs.models import ResearchOutput

    with app.app_context(), session_scope() as session:
        return session.execute(sa.select(sa.func.max(ResearchOutput.id))).scalar() or 0


def form_fields(html: str) -> dict[str, str]:
    """Each field's name and input type on the page (the CSRF token aside)."""
    fields = {}
    for tag, attrs in re.findall(r"<(input|textarea|select)\b([^>]*)>", html):
        name = re.search(r'name="([^"]+)"', attrs)
        kind = re.search(r'type="([^"]+)"', attrs)
        if name and name[1] != "csrf_token":
            fields[name[1]] = kind[1] if kind else tag
    return fields


def post_url(
    app, endpoint: str, ref: str | None, user_id: int, token_id: int, proposal_id: int = 0
) -> str:
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    values = {"ref": ref, "slug": "red-cedar", "nation_slug": "red-cedar"}
    values["proposal_id"] = proposal_id
    values["output_id"] = latest_output_id(app)
    values |= {"user_id": user_id, "token_id": token_id, "dataset_slug": "cedar-health"}
    values |= {"invitation_id": 999_999, "token": "not-an-invitation", "channel": "internal"}
    values["delivery_id"] = "msg_none"
    values["kind"] = "renew"
    values["code"] = "tk-seasonal"
    if "obligation_id" in rule.arguments:
        values["obligation_id"] = obligation_of(app, ref)
    with app.test_request_context():
        from flask import url_for

        return url_for(endpoint, **{k: values[k] for k in rule.arguments})


def signed_in(app, who: str | None):
    client = app.test_client()
    if who is not None:
        assert sign_in(client, PEOPLE[who][0]).status_code == 302
    return client


def test_every_post_page_is_fuzzed(app):
    posts = {
        r.endpoint
        for r in app.url_map.iter_rules()
        if "POST" in r.methods and not r.endpoint.startswith("api.")
    }
    assert posts == set(PAGES), "say in PAGES who uses each new form"


# Refusals that are audit events themselves: a failed sign-in or code is recorded (its
# 401 notwithstanding); nothing else may change.
AUDITED_REFUSALS = frozenset({"auth.sign_in", "auth.sign_in_code"})
AUDIT_TABLES = frozenset({"audit_event", "audit_event_nation", "head"})


# WTForms' own messages, which name no field: a page says which field, in words, instead.
WTFORMS_WORDS = (
    "Not a valid choice",
    "not a valid choice for this field",
    "Not a valid integer value",
    "This field is required.",
)


def check(app, before: dict, response, endpoint: str = "") -> None:
    assert response.status_code < 500, response.get_data(as_text=True)[:500]
    text = response.get_data(as_text=True)
    assert not any(words in text for words in WTFORMS_WORDS), text[:2000]
    if response.status_code >= 400:
        after = snapshot(app)
        if endpoint in AUDITED_REFUSALS:
            after = {k: v for k, v in after.items() if k not in AUDIT_TABLES}
            before = {k: v for k, v in before.items() if k not in AUDIT_TABLES}
        assert after == before, f"a {response.status_code} wrote something"


@pytest.mark.parametrize("endpoint", sorted(PAGES))
def test_hostile_form_input_never_breaks_a_page(app, flow, endpoint):
    who, page, state = PAGES[endpoint]
    ref = ref_in(flow, state)
    with app.app_context(), session_scope() as session:
        steward_id = auth.get_user(session, PEOPLE["cedar_steward1"][0]).id
        researcher = auth.get_user(session, PEOPLE["researcher"][0])
        token_id = auth.create_api_token(session, researcher, "to revoke")[1].id
    proposal_id = proposal_change(app) if "{proposal_id}" in page else 0
    url = post_url(app, endpoint, ref, steward_id, token_id, proposal_id)
    obligation_id = obligation_of(app, ref) if "{obligation_id}" in page else 0
    output_id = latest_output_id(app)
    page = page.format(
        ref=ref,
        user_id=steward_id,
        proposal_id=proposal_id,
        obligation_id=obligation_id,
        output_id=output_id,
    )
    # One signed-in client for every example: a code of a two-factor sign-in is good
    # once, so signing in afresh each time would wait on the clock. The form's fields are
    # read once: a post that succeeds may change the page after it.
    client = signed_in(app, who)
    fields = form_fields(client.get(page).get_data(as_text=True))

    @FUZZ
    @given(data=st.data())
    def fuzz(data):
        nonlocal client
        answer = client.get(page)
        if who is not None and "/sign-in" in answer.headers.get("Location", ""):
            client = signed_in(app, who)  # an example signed them out (the sign-out form)
            answer = client.get(page)
        html = answer.get_data(as_text=True)
        token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html)
        body = {"csrf_token": token[1] if token else ""}
        for name, kind in fields.items():
            value = data.draw(HOSTILE_TEXT, label=name)
            body[name] = (io.BytesIO(value.encode()), "x.pdf") if kind == "file" else value
        before = snapshot(app)
        response = client.post(url, data=body, content_type="multipart/form-data")
        check(app, before, response, endpoint)

    fuzz()


# Each form sent with its choice left empty (or, with no choice, its required field):
# the body, and the message its error summary must show.
EVERY_CRITERION_MET = {f"criterion_{key}": "met" for key in CRITERIA}
LEFT_EMPTY = {
    "reviews.screen": ({"outcome": ""}, "Choose an outcome: accept the request or return it."),
    "reviews.review": ({"recommendation": "", **EVERY_CRITERION_MET}, "Choose a recommendation."),
    "reviews.decide": ({"outcome": ""}, "Choose a decision: approve or refuse."),
    "reviews.revoke": ({"reason": "", "confirm": "y"}, "Give the reason for revoking."),
    "requests.edit": ({"title": "Kept", "datasets": "no-such-data"}, "Unknown dataset"),
    "admin.grant": ({"role": ""}, "Choose a portal-wide role."),
    "admin.nations": (
        {"name": "Probe Nation", "slug": "probe", "framework": ""},
        "Choose a data-governance framework.",
    ),
    "admin.datasets": (
        {"slug": "probe", "title": "Probe", "custodian": "Probe"},
        "Name at least one Nation whose data the dataset holds.",
    ),
    "admin.dataset": (
        {"title": "Probe", "custodian": "Probe", "nations": "no-such-nation"},
        "Choose the Nations from the list.",
    ),
    "admin.invitations": ({"email": "new@example.org", "role": ""}, "Choose a role."),
    "registry.invitations": ({"email": "new@example.org", "role": ""}, "Choose a role."),
    "lifecycle.answer": ({"outcome": "", "comment": "Kept"}, "Choose an answer."),
    "datasets.attach": ({"red-cedar-code": ""}, "Choose a TK or BC Label or Notice."),
    "registry.profile": (
        {"review_quorum": "", "min_approvals": "1", "small_cell_threshold": "5"},
        "Give the steward reviews needed as a whole number.",
    ),
}


@pytest.mark.parametrize("endpoint", sorted(LEFT_EMPTY))
def test_a_choice_left_empty_is_named_in_the_summary_and_writes_nothing(app, flow, endpoint):
    who, page, state = PAGES[endpoint]
    ref = ref_in(flow, state)
    if state == "approved":  # revoking needs access to have begun
        for signer in ("researcher", "cedar_rep", "heron_rep"):
            flow.do(signer, "sign", ref)
    with app.app_context(), session_scope() as session:
        user_id = auth.get_user(session, PEOPLE["researcher"][0]).id
    client = signed_in(app, who)
    html = client.get(page.format(ref=ref, user_id=user_id)).get_data(as_text=True)
    body, message = LEFT_EMPTY[endpoint]
    token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html)[1]
    before = snapshot(app)
    url = post_url(app, endpoint, ref, user_id, 0)
    response = client.post(url, data={**body, "csrf_token": token})
    text = response.get_data(as_text=True)
    assert response.status_code == 422, text[:2000]
    summary = text.split('class="error-summary"')[1].split("</div>")[0]
    assert message in summary and 'href="#' in summary
    check(app, before, response, endpoint)


def test_every_checked_choice_of_every_form_names_its_field(app):
    """A form added later cannot bring WTForms' "Not a valid choice." back: each choice
    field it checks says, in words, what to choose."""
    import importlib
    import pkgutil

    from flask_wtf import FlaskForm
    from wtforms.fields import SelectFieldBase

    import portal

    for module in pkgutil.walk_packages(portal.__path__, "portal."):
        if module.name.endswith(".forms"):
            importlib.import_module(module.name)
    forms, found = list(FlaskForm.__subclasses__()), []
    while forms:
        kind = forms.pop()
        forms += kind.__subclasses__()
        with app.test_request_context():
            form = kind(meta={"csrf": False})
        for field in form:
            if isinstance(field, SelectFieldBase) and field.validate_choice:
                found.append(field.label.text)
                assert field.invalid_choice_message, f"{kind.__name__}.{field.name}"
    assert "Decision" in found and "Portal-wide role" in found, "the walk reached the forms"


def body_fields(document: dict, operation: dict) -> list[str]:
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    if "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return list(schema.get("properties", {}))


API_VALUES = st.one_of(
    HOSTILE_TEXT,
    st.integers(min_value=-(10**30), max_value=10**30),
    st.lists(HOSTILE_TEXT, max_size=3),
    st.lists(st.dictionaries(st.sampled_from(["name", "email", "role"]), HOSTILE_TEXT), max_size=2),
    st.sampled_from([None, True, 1.5, {}]),
)


def api_operations(document: dict) -> list[tuple[str, str, dict]]:
    return [
        (method.upper(), path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if isinstance(operation, dict) and "requestBody" in operation
    ]


def test_hostile_api_bodies_never_break_the_api(app, flow):
    client = app.test_client()
    document = client.get("/api/v1/openapi.json").get_json()
    operations = api_operations(document)
    assert {op["operationId"] for _m, _p, op in operations} <= set(API_WHO)
    states = ("draft", "screening", "under_review", "output")
    refs = {state: ref_in(flow, state) for state in states}
    proposal_id = str(proposal_change(app))
    tokens = {}
    with app.app_context(), session_scope() as session:
        for who in set(API_WHO.values()):
            user = auth.get_user(session, PEOPLE[who][0])
            tokens[who] = auth.create_api_token(session, user, "fuzz")[0]

    @settings(FUZZ, max_examples=80)
    @given(data=st.data())
    def fuzz(data):
        method, path, operation = data.draw(st.sampled_from(operations), label="operation")
        name = operation["operationId"]
        ref = refs[API_STATE.get(name, "draft")]
        fields = body_fields(document, operation)
        # An empty body schema (submit's) still gets stray fields: they must be refused.
        names = st.sampled_from(fields or ["stray"])
        chosen = data.draw(st.lists(names, unique=True), label="fields")
        body = {field: data.draw(API_VALUES, label=field) for field in chosen}
        before = snapshot(app)
        response = client.open(
            "/api/v1"
            + path.replace("{ref}", ref)
            .replace("{proposal_id}", proposal_id)
            .replace("{slug}", "red-cedar"),
            method=method,
            json=body,
            headers={"Authorization": f"Bearer {tokens[API_WHO[name]]}"},
        )
        check(app, before, response)

    fuzz()
