"""Two application hosts behind one address: two gunicorn instances on different ports,
each with an instance folder of its own, sharing the database, Redis and the configured
certificate authority, as a coalition's deployment would behind a load balancer.

A journey whose steps alternate between them shows that nothing a host keeps to itself
matters: sessions, the throttles' counts, the rules in force, the agreement's file and
its signatures all hold whichever host answers.
"""

import hashlib
import io
import uuid
from http.cookiejar import CookieJar

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader

from portal import create_app, migrate
from portal.agreements import ca
from portal.agreements.settings import from_config
from portal.auth import service as auth
from portal.db import get_engine, session_scope

from flows import COMPLETE, PEOPLE
from helpers import PASSWORD, csrf_token, redis_test_url, seed_nations, seed_people
from hosts import Host, gunicorn

SECRET = "two-hosts-secret-key"
REDIS = redis_test_url(2)  # 2, 3
SIGN_IN_LIMIT = 3


@pytest.fixture
def shared(fresh_database_url, tmp_path) -> dict[str, str]:
    """A database migrated and loaded as an operator would, the people of a two-Nation
    journey with their API tokens, and one CA for every host: the hosts' common
    environment, and each person's token by name."""
    url = fresh_database_url
    migrate.upgrade(url)
    maker = tmp_path / "ca-maker"
    config = {"DATABASE_URL": url, "SECRET_KEY": SECRET, "INSTANCE_PATH": str(maker)}
    app = create_app(config)
    try:
        loaded = app.test_cli_runner().invoke(args=["policy", "load"])
        assert loaded.exit_code == 0, loaded.output
        seed_nations(app)
        seed_people(app, PEOPLE.values())
        tokens = {}
        with app.app_context(), session_scope() as session:
            for who, (email, _roles) in PEOPLE.items():
                tokens[who], _ = auth.create_api_token(
                    session, auth.find_user(session, email), "two hosts"
                )
        ca.authority(from_config(app.config))  # made once, then configured on every host
    finally:
        get_engine(app).dispose()
    environment = {
        "DATABASE_URL": url,
        "SECRET_KEY": SECRET,
        "REDIS_URL": REDIS,
        "RATELIMIT_KEY_PREFIX": f"two-hosts-{uuid.uuid4().hex}",
        "LIMIT_SIGN_IN_PER_ACCOUNT": f"{SIGN_IN_LIMIT} per 15 minutes",
        "PORTAL_CA_KEY": str(maker / "ca" / ca.KEY_FILE),
        "PORTAL_CA_CERT": str(maker / "ca" / ca.CERT_FILE),
    }
    return {"environment": environment, "tokens": tokens}


@pytest.fixture
def hosts(shared, tmp_path) -> tuple[Host, Host]:
    folders = [tmp_path / "host-a", tmp_path / "host-b"]
    for folder in folders:
        folder.mkdir()
    with (
        gunicorn({**shared["environment"], "PORTAL_INSTANCE": str(folders[0])}, folders[0]) as a,
        gunicorn({**shared["environment"], "PORTAL_INSTANCE": str(folders[1])}, folders[1]) as b,
    ):
        yield a, b


def act(host: Host, token: str, ref: str, action: str, **body) -> dict:
    answer = host.call(
        f"/api/v1/requests/{ref}/actions/{action}", "POST", json_body=body, token=token
    )
    assert answer.status == 200, (host.base, action, answer.text)
    return answer.json()


def test_a_journey_alternating_between_two_hosts(shared, hosts):
    a, b = hosts
    token = shared["tokens"]
    created = a.call("/api/v1/requests", "POST", json_body=COMPLETE, token=token["researcher"])
    assert created.status == 201, created.text
    ref = created.json()["ref"]

    act(b, token["researcher"], ref, "submit")
    act(a, token["coordinator"], ref, "screen", outcome="accept")
    act(b, token["cedar_steward1"], ref, "review", nation="red-cedar", recommendation="approve")
    act(a, token["cedar_steward2"], ref, "review", nation="red-cedar", recommendation="approve")
    act(b, token["heron_steward"], ref, "review", nation="blue-heron", recommendation="approve")
    act(a, token["cedar_rep"], ref, "decide", nation="red-cedar", outcome="approve")
    decided = act(b, token["heron_rep"], ref, "decide", nation="blue-heron", outcome="approve")
    assert decided["status"] == "awaiting_signatures"

    # The agreement written by the host that took the last decision is the one both serve.
    path = f"/api/v1/requests/{ref}/agreement.pdf"
    issued = [host.call(path, token=token["researcher"]) for host in (a, b)]
    assert [answer.status for answer in issued] == [200, 200], [
        answer.text[:300] for answer in issued
    ]
    assert issued[0].body == issued[1].body

    act(a, token["researcher"], ref, "sign", password=PASSWORD)
    act(b, token["cedar_rep"], ref, "sign", password=PASSWORD, nation="red-cedar")
    signed = act(a, token["heron_rep"], ref, "sign", password=PASSWORD, nation="blue-heron")
    assert signed["status"] == "active"

    copies = [host.call(path, token=token["cedar_rep"]).body for host in (a, b)]
    assert hashlib.sha256(copies[0]).digest() == hashlib.sha256(copies[1]).digest()
    signatures = PdfFileReader(io.BytesIO(copies[1])).embedded_signatures
    assert len(signatures) == 3
    for signature in signatures:
        # Signed on either host, each signature chains to the one configured CA.
        issuer = signature.signer_cert.issuer.native["common_name"]
        assert issuer == ca.CA_NAME

    # Every step, whichever host took it, is on the one record either host reads.
    events = b.call(f"/api/v1/requests/{ref}/events", token=token["coordinator"]).json()
    actions = [event["action"] for event in events["items"]]
    assert actions.count("request.signed") + actions.count("agreement.signed") >= 1, actions


def sign_in(host: Host, cookies: CookieJar, email: str, password: str = PASSWORD):
    page = host.call("/sign-in", cookies=cookies)
    form = {"email": email, "password": password, "csrf_token": csrf_token(page.text)}
    return host.call("/sign-in", "POST", form=form, cookies=cookies)


def test_a_session_begun_on_one_host_holds_and_ends_on_the_other(hosts):
    a, b = hosts
    browser = CookieJar()
    email = PEOPLE["researcher"][0]
    assert sign_in(a, browser, email).status == 302
    account = b.call("/account", cookies=browser)
    assert account.status == 200 and email in account.text

    # Keep a copy of the cookie, then end every session of the account on host B.
    stolen = CookieJar()
    for cookie in browser:
        stolen.set_cookie(cookie)
    ended = b.call(
        "/account/sessions/end",
        "POST",
        form={"csrf_token": csrf_token(account.text)},
        cookies=browser,
    )
    assert ended.status == 302
    assert b.call("/account", cookies=browser).status == 200  # this one goes on
    after = a.call("/account", cookies=stolen)
    assert after.status == 302 and "/sign-in" in after.headers["Location"]


def test_the_throttle_counts_across_hosts(hosts):
    a, b = hosts
    email = PEOPLE["other_researcher"][0]
    answers = [
        sign_in(host, CookieJar(), email, "not the password").status for host in (a, b, a, b, a)
    ]
    # Each host alone would allow SIGN_IN_LIMIT failures; together they allow that many.
    assert answers[:SIGN_IN_LIMIT] == [401] * SIGN_IN_LIMIT
    assert answers[SIGN_IN_LIMIT:] == [429, 429]


def test_a_rule_set_on_one_host_holds_on_the_other_at_its_next_request(shared, hosts):
    a, b = hosts
    token = shared["tokens"]
    rules = "/api/v1/nations/blue-heron/rules"
    before = b.call(rules, token=token["heron_rep"]).json()
    body = {"review": [], "approve": [{"condition": "team_at_most", "params": {"count": 1}}]}
    changed = a.call(rules, "PUT", json_body=body, token=token["heron_rep"])
    assert changed.status == 200, changed.text
    after = b.call(rules, token=token["heron_rep"]).json()
    assert after["rules_version"] == before["rules_version"] + 1
    assert [entry["condition"] for entry in after["approve"]] == ["team_at_most"]
    shown = b.call("/api/v1/rules", token=token["researcher"]).json()
    assert shown["number"] == after["rules_version"]
