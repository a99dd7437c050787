"""Entitlement notices to data custodians (issue 11, part 6): signed the Standard
Webhooks way, delivered to a real HTTP receiver on 127.0.0.1 that verifies each with
the `standardwebhooks` library, survive its outage (retried with backoff, every attempt
logged), give up after a day, and are sent again from the delivery log by those the
policy lets; a Nation reads only the log of its own datasets."""

import hashlib
import json
import re
import socket
from datetime import timedelta

import pytest
from sqlmodel import select

from portal.agreements import odrl
from portal.agreements import service as agreements
from portal.audit.models import AuditEvent
from portal.db import session_scope, utcnow
from portal.jobs.custodians import deliver_custodian_notices
from portal.notify.models import CustodianDelivery, CustodianEndpoint, DeliveryAttempt
from portal.requests.models import AccessRequest
from portal.workflow import Expire, perform

from apis import Api
from helpers import csrf_token, sign_in
from receivers import Receiver

SIGNERS = (("researcher", None), ("cedar_rep", "red-cedar"), ("heron_rep", "blue-heron"))
CEDAR_CONDITIONS = ["community_output_review", "aggregate_only", "Share results with the Elders."]


@pytest.fixture
def receiver():
    with Receiver() as running:
        yield running


@pytest.fixture
def local_app(app):
    app.config["CUSTODIAN_WEBHOOKS_ALLOW_LOCAL_HTTP"] = True
    app.config["CUSTODIAN_WEBHOOKS_ALLOW_PRIVATE_ADDRESSES"] = True  # the receiver's 127.0.0.1
    return app


def register(runner, receiver, slug="cedar-health", *extra) -> str:
    result = runner.invoke(args=["datasets", "webhook", slug, "--url", receiver.url, *extra])
    assert result.exit_code == 0, result.output
    secret = re.search(r"(whsec_\S+)", result.output).group(1)
    receiver.secret = secret
    return secret


def activate(flow) -> str:
    ref = flow.approved(cedar_conditions=CEDAR_CONDITIONS)
    for who, nation in SIGNERS:
        flow.do(who, "sign", ref, nation)
    assert flow.status(ref) == "active"
    return ref


def run_job(app, now) -> dict:
    with app.app_context(), session_scope() as session:
        return deliver_custodian_notices(session, now)


def deliveries(app) -> list[CustodianDelivery]:
    with app.app_context(), session_scope() as session:
        found = session.exec(select(CustodianDelivery).order_by(CustodianDelivery.created_at))
        return [(d.model_copy()) for d in found]


def attempts(app, delivery_id) -> list[DeliveryAttempt]:
    with app.app_context(), session_scope() as session:
        query = select(DeliveryAttempt).where(DeliveryAttempt.delivery_id == delivery_id)
        return [a.model_copy() for a in session.exec(query.order_by(DeliveryAttempt.id))]


def test_a_started_notice_survives_the_receivers_outage_and_verifies(
    local_app, flow, runner, receiver
):
    register(runner, receiver)
    receiver.fail_first = 2  # 500, 500, then 204
    ref = activate(flow)
    [queued] = deliveries(local_app)  # heron-schools has no endpoint: one notice only
    assert queued.event_type == "access.started" and queued.status == "pending"

    start = utcnow()
    assert run_job(local_app, start) == {"delivered": 0, "waiting": 1, "failed": 0}
    assert run_job(local_app, start + timedelta(seconds=30)) == {
        "delivered": 0,
        "waiting": 0,
        "failed": 0,
    }  # not due yet: the first backoff is a minute
    assert run_job(local_app, start + timedelta(minutes=1))["waiting"] == 1
    assert run_job(local_app, start + timedelta(minutes=6))["delivered"] == 1

    logged = attempts(local_app, queued.id)
    assert [a.status_code for a in logged] == [500, 500, 204]
    assert "answered 500" in logged[0].error and logged[2].error == ""
    [done] = deliveries(local_app)
    assert done.status == "delivered" and done.attempts == 3
    # Every attempt reached the receiver signed; each verified with the library.
    assert len(receiver.received) == 3 and all(r.verified for r in receiver.received)
    assert {r.headers["webhook-id"] for r in receiver.received} == {queued.id}
    body = receiver.received[-1].payload
    assert body["type"] == "access.started"
    data = body["data"]
    assert data["request"]["ref"] == ref and data["request"]["status"] == "active"
    assert data["researcher"] == {"name": "researcher", "email": "researcher@example.org"}
    assert data["dataset"]["slug"] == "cedar-health"
    with local_app.app_context(), session_scope() as session:
        request = session.exec(select(AccessRequest).where(AccessRequest.ref == ref)).one()
        agreement = agreements.current(session, request)
        assert data["term"] == {
            "start": agreement.term_start.isoformat(),
            "end": agreement.term_end.isoformat(),
        }
        stored_pdf = agreements.stored_pdf(session, agreement)
    cedar = next(n for n in data["nations"] if n["slug"] == "red-cedar")
    assert cedar["holds_data_in_dataset"] is True
    assert cedar["conditions"] == [
        {"code": "community_output_review"},
        {"code": "aggregate_only"},
        {"text": "Share results with the Elders."},
    ]
    # The machine-readable terms, inline: the file the signatures cover, byte for byte.
    signed_terms = odrl.embedded(stored_pdf)
    assert data["terms"] == json.loads(signed_terms)
    assert data["terms_sha256"] == hashlib.sha256(signed_terms).hexdigest()
    [permission] = [p for p in data["terms"]["permission"] if p["target"].endswith("cedar-health")]
    assert [duty.get("code") for duty in permission["duty"]] == [
        "portal:community_output_review",
        "portal:aggregate_only",
        None,
    ]
    # No deliberation travels: no reviews, comments, reasons or names of a Nation's people.
    # (The terms name things urn:stewardship-portal:...: the portal's name, no one's role.)
    text = receiver.received[-1].raw.replace(odrl.PORTAL, "")
    assert odrl.PORTAL == "urn:stewardship-portal:"
    for private in ("recommend", "comment", "reason", "s1.cedar", "rep.cedar", "steward"):
        assert private not in text


def test_revocation_and_expiry_send_access_ended(local_app, flow, runner, receiver):
    register(runner, receiver)
    revoked = activate(flow)
    flow.do("cedar_rep", "revoke", revoked, "red-cedar", reason="Data used beyond purpose")
    expiring = activate(flow)
    with local_app.app_context(), session_scope() as session:
        request = session.exec(select(AccessRequest).where(AccessRequest.ref == expiring)).one()
        end = agreements.current(session, request).term_end
        perform(session, None, expiring, Expire(today=end))
    assert run_job(local_app, utcnow())["delivered"] == 4
    seen = [(r.payload["type"], r.payload["data"]["request"]["ref"]) for r in receiver.received]
    assert sorted(seen) == sorted(
        [
            ("access.started", revoked),
            ("access.ended", revoked),
            ("access.started", expiring),
            ("access.ended", expiring),
        ]
    )
    ended = {r.payload["data"]["request"]["ref"]: r.payload["data"] for r in receiver.received}
    assert ended[revoked]["request"]["status"] == "revoked"
    assert ended[expiring]["request"]["status"] == "expired"
    assert "Data used beyond purpose" not in "".join(r.raw for r in receiver.received)


def test_a_revocation_before_access_began_tells_no_custodian(local_app, flow, runner, receiver):
    register(runner, receiver)
    ref = flow.approved()
    flow.do("cedar_rep", "revoke", ref, "red-cedar", reason="Changed our mind")
    assert deliveries(local_app) == []


def test_after_a_day_it_fails_and_a_retry_from_the_log_delivers(local_app, flow, runner, receiver):
    register(runner, receiver)
    receiver.fail_first = 1000  # down for good
    activate(flow)
    [queued] = deliveries(local_app)
    now = utcnow()
    runs = 0
    while deliveries(local_app)[0].status == "pending":
        run_job(local_app, now)
        runs += 1
        now = deliveries(local_app)[0].due_at
    [failed] = deliveries(local_app)
    logged = attempts(local_app, queued.id)
    assert failed.status == "failed" and len(logged) == runs == 7
    span = logged[-1].attempted_at - logged[0].attempted_at
    assert timedelta(hours=20) < span <= timedelta(hours=24)

    receiver.fail_first = 0
    api = Api(local_app)
    answer = api.post("coordinator", f"/deliveries/{queued.id}/retry")
    assert answer.status_code == 200 and answer.get_json()["status"] == "pending"
    assert run_job(local_app, utcnow() + timedelta(seconds=1))["delivered"] == 1
    assert deliveries(local_app)[0].status == "delivered"
    again = api.post("coordinator", f"/deliveries/{queued.id}/retry")
    assert again.status_code == 409
    with local_app.app_context(), session_scope() as session:
        events = session.exec(select(AuditEvent).where(AuditEvent.action == "delivery.retried"))
        assert len(events.all()) == 1


def test_each_nation_reads_and_retries_only_its_own_datasets_notices(
    local_app, flow, runner, receiver
):
    register(runner, receiver)  # cedar-health: Red Cedar's data only
    activate(flow)
    [queued] = deliveries(local_app)
    api = Api(local_app)
    for who in ("coordinator", "cedar_steward1", "cedar_rep"):
        listed = api.get(who, "/deliveries")
        assert [d["id"] for d in listed.get_json()["items"]] == [queued.id], who
        assert api.get(who, f"/deliveries/{queued.id}").status_code == 200
    for who in ("heron_steward", "heron_rep"):
        assert api.get(who, "/deliveries").get_json()["items"] == [], who
        assert api.get(who, f"/deliveries/{queued.id}").status_code == 404, who
        assert api.post(who, f"/deliveries/{queued.id}/retry").status_code == 404, who
    for who in ("researcher", "admin"):
        assert api.get(who, "/deliveries").status_code == 403, who
        assert api.get(who, f"/deliveries/{queued.id}").status_code == 404, who
    assert api.post("cedar_steward1", f"/deliveries/{queued.id}/retry").status_code == 200

    # The pages say the same.
    heron = local_app.test_client()
    sign_in(heron, "s.heron@example.org")
    assert queued.id not in heron.get("/deliveries").get_data(as_text=True)
    assert heron.get(f"/deliveries/{queued.id}").status_code == 404
    cedar = local_app.test_client()
    sign_in(cedar, "s1.cedar@example.org")
    assert "access.started" in cedar.get("/deliveries").get_data(as_text=True)
    page = cedar.get(f"/deliveries/{queued.id}")
    assert page.status_code == 200 and "Send it again" in page.get_data(as_text=True)
    retried = cedar.post(
        f"/deliveries/{queued.id}/retry", data={"csrf_token": csrf_token(page.get_data(True))}
    )
    assert retried.status_code == 302


def test_the_administrator_registers_an_endpoint_and_sees_the_secret_once(
    local_app, nations, make_user
):
    make_user("admin@example.org", "admin")
    client = local_app.test_client()
    sign_in(client, "admin@example.org")
    page = client.get("/admin/datasets/cedar-health")
    token = csrf_token(page.get_data(as_text=True))
    url = "/admin/datasets/cedar-health/endpoint"
    refused = client.post(url, data={"csrf_token": token, "url": "ftp://x", "intent": "save"})
    assert refused.status_code == 422 and "https://" in refused.get_data(as_text=True)
    saved = client.post(
        url, data={"csrf_token": token, "url": "https://custodian.example/hook", "intent": "save"}
    )
    shown = re.search(r"whsec_[A-Za-z0-9+/=]+", saved.get_data(as_text=True)).group(0)
    assert saved.status_code == 200 and saved.headers["Cache-Control"] == "no-store"
    later = client.get("/admin/datasets/cedar-health").get_data(as_text=True)
    assert "whsec_" not in later and "https://custodian.example/hook" in later
    with local_app.app_context(), session_scope() as session:
        endpoint = session.exec(select(CustodianEndpoint)).one()
        assert shown not in endpoint.sealed_secret  # kept sealed, never as given
    rotated = client.post(
        url, data={"csrf_token": token, "url": "https://custodian.example/hook", "intent": "rotate"}
    )
    assert re.search(r"whsec_[A-Za-z0-9+/=]+", rotated.get_data(True)).group(0) != shown


def test_an_endpoint_must_be_https_unless_local_http_is_allowed(app, nations, runner):
    local = runner.invoke(
        args=["datasets", "webhook", "cedar-health", "--url", "http://127.0.0.1:9/x"]
    )
    assert local.exit_code == 1 and "https://" in local.output
    app.config["CUSTODIAN_WEBHOOKS_ALLOW_LOCAL_HTTP"] = True
    app.config["CUSTODIAN_WEBHOOKS_ALLOW_PRIVATE_ADDRESSES"] = True
    remote = runner.invoke(
        args=["datasets", "webhook", "cedar-health", "--url", "http://example.org/x"]
    )
    assert remote.exit_code == 1 and "https://" in remote.output
    assert (
        runner.invoke(
            args=["datasets", "webhook", "cedar-health", "--url", "http://127.0.0.1:9/x"]
        ).exit_code
        == 0
    )


# Found in a probe: an administrator could point a dataset's notices at the portal's own
# machine or network (cloud metadata at 169.254.169.254) and read the answers in the log.
@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/x", "https://127.1.2.3:8443/x", "https://localhost/x",
        "https://api.localhost/x", "https://LOCALHOST./x", "https://10.0.0.5/x",
        "https://172.16.0.1/x", "https://172.31.255.1/x", "https://192.168.1.1/x",
        "https://169.254.169.254/latest/meta-data", "https://0.0.0.0/x", "https://100.64.0.1/x",
        "https://[::1]/x", "https://[fc00::1]/x", "https://[fd12:3456::1]/x",
        "https://[fe80::1]/x", "https://[::ffff:127.0.0.1]/x", "https://224.0.0.1/x",
    ],
)  # fmt: skip
def test_an_endpoint_on_this_machine_or_a_private_network_is_refused(app, nations, runner, url):
    refused = runner.invoke(args=["datasets", "webhook", "cedar-health", "--url", url])
    assert refused.exit_code == 1
    assert "is on this machine or a private network" in refused.output
    with app.app_context(), session_scope() as session:
        assert session.exec(select(CustodianEndpoint)).first() is None
    app.config["CUSTODIAN_WEBHOOKS_ALLOW_PRIVATE_ADDRESSES"] = True
    allowed = runner.invoke(args=["datasets", "webhook", "cedar-health", "--url", url])
    assert allowed.exit_code == 0, allowed.output


def test_the_administrators_form_names_the_private_address(app, nations, make_user):
    make_user("admin@example.org", "admin")
    client = app.test_client()
    sign_in(client, "admin@example.org")
    token = csrf_token(client.get("/admin/datasets/cedar-health").get_data(as_text=True))
    typed = "https://169.254.169.254/latest/meta-data"
    refused = client.post(
        "/admin/datasets/cedar-health/endpoint",
        data={"csrf_token": token, "url": typed, "intent": "save"},
    )
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "169.254.169.254 is on this machine or a private network" in page
    assert f'value="{typed}"' in page


def test_a_notice_is_never_sent_to_a_private_address_with_the_setting_off(
    local_app, flow, runner, receiver
):
    """Checked again when sending, on the addresses the name resolves to: a name that
    passed registration may point at this machine (here: the machine's own name)."""
    register(runner, receiver)
    activate(flow)
    try:
        socket.getaddrinfo(socket.gethostname(), None)
    except OSError:
        pytest.skip("this machine's name does not resolve")
    by_name = receiver.url.replace("127.0.0.1", socket.gethostname())
    local_app.config["CUSTODIAN_WEBHOOKS_ALLOW_PRIVATE_ADDRESSES"] = False
    start = utcnow()
    for url, later in ((receiver.url, 0), (by_name, 2)):
        with local_app.app_context(), session_scope() as session:
            session.exec(select(CustodianEndpoint)).one().url = url
        assert run_job(local_app, start + timedelta(minutes=later))["delivered"] == 0
    [queued] = deliveries(local_app)
    logged = attempts(local_app, queued.id)
    assert [a.status_code for a in logged] == [None, None] and receiver.received == []
    assert all("on this machine or a private network" in a.error for a in logged)
    local_app.config["CUSTODIAN_WEBHOOKS_ALLOW_PRIVATE_ADDRESSES"] = True
    assert run_job(local_app, start + timedelta(minutes=10))["delivered"] == 1
    assert receiver.received[-1].verified


def test_a_rotated_secret_signs_from_then_on(local_app, flow, runner, receiver):
    old = register(runner, receiver)
    new = register(runner, receiver, "cedar-health", "--rotate")
    assert new != old
    activate(flow)
    assert run_job(local_app, utcnow())["delivered"] == 1
    assert receiver.received[-1].verified
    receiver.secret = old
    assert not receiver.verifies(receiver.received[-1])


def test_the_log_offers_a_retry_only_to_whoever_may_send_it_again(
    local_app, flow, runner, receiver
):
    register(runner, receiver)
    activate(flow)
    [queued] = deliveries(local_app)
    api = Api(local_app)
    assert api.get("cedar_rep", f"/deliveries/{queued.id}").get_json()["allowed_actions"] == [
        "retry"
    ]
    run_job(local_app, utcnow())  # delivered: nothing more to do
    for who in ("coordinator", "cedar_rep"):
        [item] = api.get(who, "/deliveries").get_json()["items"]
        assert item["status"] == "delivered" and item["allowed_actions"] == [], who


def test_portal_notices_deliver_sends_what_is_due(local_app, flow, runner, receiver):
    register(runner, receiver)
    activate(flow)
    result = runner.invoke(args=["notices", "deliver"])
    assert result.exit_code == 0, result.output
    assert "1 delivered, 0 waiting for a retry, 0 failed after a day." in result.output
    assert receiver.received[-1].verified
    again = runner.invoke(args=["notices", "deliver"])
    assert "0 delivered" in again.output and len(receiver.received) == 1


def test_closing_early_sends_access_ended_and_the_last_acknowledgement_access_destroyed(
    local_app, flow, runner, receiver
):
    from datetime import date

    from portal.workflow.commands import AcknowledgeDestruction, AttestDestruction, Close

    from helpers import PASSWORD

    register(runner, receiver)
    ref = activate(flow)
    flow.perform("researcher", ref, Close(reason="Finished early (sentinel C3)"))
    what = ("Every extract", "Secure erase", str(date.today()), "Robin (fictional)")
    flow.perform("researcher", ref, AttestDestruction(*what, password=PASSWORD))
    more = AcknowledgeDestruction("red-cedar", "more_needed", "The tapes too (sentinel C4)")
    flow.perform("cedar_rep", ref, more)
    flow.perform("researcher", ref, AttestDestruction(*what, password=PASSWORD))
    for who, nation in (("cedar_rep", "red-cedar"), ("heron_rep", "blue-heron")):
        flow.perform(who, ref, AcknowledgeDestruction(nation, "acknowledged"))
    assert flow.status(ref) == "closed"
    assert sorted(d.event_type for d in deliveries(local_app)) == [
        "access.destroyed",
        "access.ended",
        "access.started",
    ]  # once each: asking for more and attesting again tell the custodians nothing
    assert run_job(local_app, utcnow())["delivered"] == 3
    assert all(r.verified for r in receiver.received)
    destroyed = next(r for r in receiver.received if r.payload["type"] == "access.destroyed")
    assert destroyed.payload["data"]["request"] == {
        "ref": ref,
        "title": destroyed.payload["data"]["request"]["title"],
        "status": "closed",
    }
    text = "".join(r.raw for r in receiver.received)
    for private in ("sentinel C3", "sentinel C4", "comment", "reason", "rep.cedar"):
        assert private not in text
