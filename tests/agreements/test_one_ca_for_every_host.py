"""Two application hosts behind one load balancer: the same database and the same
configured CA (PORTAL_CA_KEY, PORTAL_CA_CERT, SECRET_KEY), each its own instance folder.
An agreement issued and signed on one, signed on the other, is served the same by both
and verifies against the one CA: nothing per host is needed. A configured CA that is
missing or does not open stops the start; none is ever made in its place."""

import hashlib
from pathlib import Path

import pytest

from portal import create_app
from portal.agreements import ca, signing
from portal.agreements import service as agreements
from portal.db import session_scope

from agreement_kit import request_of
from flows import PEOPLE, Flow
from helpers import sign_in

SECRET = "test-secret-key"  # the tests' own; both hosts share it


@pytest.fixture
def shared_ca(tmp_path) -> tuple[Path, Path]:
    """A CA made once and handed to every host, as an operator deploys it."""
    folder = tmp_path / "shared" / "ca"
    folder.parent.mkdir()
    ca._create(folder, SECRET)
    return folder / ca.KEY_FILE, folder / ca.CERT_FILE


def host(database_url: str, instance: Path, shared_ca, **config):
    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": SECRET,
            "DATABASE_URL": database_url,
            "INSTANCE_PATH": str(instance),
            "CA_KEY_PATH": str(shared_ca[0]),
            "CA_CERT_PATH": str(shared_ca[1]),
            "SESSION_COOKIE_SECURE": False,
            "MAIL_SEND_AFTER_REQUEST": False,
            **config,
        }
    )


@pytest.fixture
def app(database_url, instance_path, shared_ca):
    """Host A (the fixtures' app, so ``flow`` seeds the people through it)."""
    app = host(database_url, instance_path, shared_ca)
    yield app
    app.extensions["portal.db"].dispose()


@pytest.fixture
def other_host(database_url, tmp_path, shared_ca):
    app = host(database_url, tmp_path / "host-b", shared_ca)
    yield app
    app.extensions["portal.db"].dispose()


def served(app, ref: str) -> bytes:
    client = app.test_client()
    sign_in(client, PEOPLE["researcher"][0])
    response = client.get(f"/requests/{ref}/agreement.pdf")
    assert response.status_code == 200, response.status_code
    return response.data


def test_two_hosts_sign_one_agreement_in_turn_and_serve_the_same_bytes(
    app, other_host, flow, shared_ca
):
    ref = flow.approved()  # issued on host A, with the last approval
    on_b = Flow(other_host)
    assert flow.do("researcher", "sign", ref) == "awaiting_signatures"
    assert on_b.do("cedar_rep", "sign", ref, "red-cedar") == "awaiting_signatures"
    assert flow.do("heron_rep", "sign", ref, "blue-heron") == "active"

    with app.app_context(), session_scope() as session:
        digest = agreements.current(session, request_of(session, ref)).sha256
    from_a, from_b = served(app, ref), served(other_host, ref)
    assert from_a == from_b
    assert hashlib.sha256(from_b).hexdigest() == digest

    certificate = ca._certificate(shared_ca[1])
    reports = signing.read_signatures(from_b, certificate)
    assert len(reports) == 3
    assert all(r.intact and r.valid and r.trusted for r in reports)
    for instance in (Path(app.config["INSTANCE_PATH"]), Path(other_host.config["INSTANCE_PATH"])):
        assert not (instance / "ca").exists(), "no host made a CA of its own"
        assert not (instance / "agreements").exists(), "no host keeps the agreement itself"


def test_a_configured_ca_that_is_missing_or_does_not_open_stops_the_start(
    database_url, tmp_path, shared_ca
):
    key, cert = shared_ca
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate")
    cases = [
        ((tmp_path / "gone-key.pem", cert), {}, "file is missing: "),
        ((key, tmp_path / "gone-cert.pem"), {}, "file is missing: "),
        ((key, junk), {}, "is not a PEM certificate"),
        ((key, cert), {"SECRET_KEY": "another secret"}, "key cannot be opened"),
        ((key, ""), {}, "Configure both PORTAL_CA_KEY and PORTAL_CA_CERT"),
        # The command line may run without a secret: the files must be there all the same.
        ((tmp_path / "gone-key.pem", cert), {"SECRET_KEY": None, "REQUIRE_SECRET_KEY": False},
         "file is missing: "),
    ]  # fmt: skip
    for number, (paths, config, words) in enumerate(cases):
        instance = tmp_path / f"instance-{number}"
        with pytest.raises(RuntimeError, match="PORTAL_CA_KEY and PORTAL_CA_CERT: ") as raised:
            host(database_url, instance, paths, **config)
        assert words in str(raised.value), (number, str(raised.value))
        assert not (instance / "ca").exists(), "no CA is made in place of the configured one"
    # Without a secret, a configured CA that is there lets the command line start.
    cli = host(database_url, tmp_path / "cli", shared_ca, SECRET_KEY=None, REQUIRE_SECRET_KEY=False)
    cli.extensions["portal.db"].dispose()
