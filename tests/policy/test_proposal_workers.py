"""A change the member Nations approve is in force in every worker at its next request,
without a restart; and `portal policy load` installs at once only while no member Nation
exists, else it proposes the change to them."""

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from sqlmodel import select

from portal.auth import service as auth
from portal.db import session_scope
from portal.paths import resource_dir
from portal.policy.models import Proposal, RulesVersion
from portal.workflow import create_draft

from governing import NO_WITHDRAW, add_members, propose, vote
from hosts import free_port

WITHDRAW = "p, researcher, *, withdraw\n"


def allowed(base: str, token: str, ref: str) -> list[str]:
    address = f"{base}/api/v1/requests/{ref}"
    request = urllib.request.Request(address, headers={"Authorization": f"Bearer {token}"})  # noqa: S310
    with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 (http, ours)
        return sorted({entry["action"] for entry in json.load(answer)["allowed_actions"]})


def serve(database_url: str, instance: Path) -> tuple[subprocess.Popen, str]:
    """A second worker: `portal serve` in a process of its own, on the same database."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "second-worker"}
    env |= {"PORTAL_INSTANCE": str(instance), "SECURE_COOKIES": "0"}
    portal = Path(sys.executable).parent / "portal"
    server = subprocess.Popen(
        [str(portal), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"{base}/sign-in", timeout=5).read()  # noqa: S310
            return server, base
        except (OSError, urllib.error.URLError):
            assert server.poll() is None, server.stdout.read()
            assert time.monotonic() < deadline, "the second worker did not start serving"
            time.sleep(0.3)


def test_an_applied_proposal_holds_in_a_second_worker_process_at_its_next_request(
    app, nations, make_user, database_url, tmp_path
):
    make_user("admin@example.org", "admin")
    add_members(app, make_user, 2)
    make_user("researcher@example.org", "researcher")
    with app.app_context(), session_scope() as session:
        researcher = auth.get_user(session, "researcher@example.org")
        ref = create_draft(session, researcher, {"title": "Draft (fictional)"}).ref
        token, _ = auth.create_api_token(session, researcher, "second worker")
    server, base = serve(database_url, tmp_path / "second")
    try:
        assert "withdraw" in allowed(base, token, ref)  # its enforcer is built and kept
        proposal_id = propose(app, "admin@example.org", NO_WITHDRAW)
        assert vote(app, proposal_id, "red-cedar") == "open"
        assert "withdraw" in allowed(base, token, ref), "not before the Nations approve"
        assert vote(app, proposal_id, "blue-heron") == "applied"  # through the first app
        assert "withdraw" not in allowed(base, token, ref)
        assert "edit" in allowed(base, token, ref), "the rest of the rules still hold"
    finally:
        server.terminate()
        server.communicate(timeout=10)


def policies_without_withdraw(tmp_path: Path) -> Path:
    policies = tmp_path / "policies"
    shutil.copytree(resource_dir("policies"), policies)
    roles = policies / "roles.csv"
    roles.write_text(roles.read_text().replace(WITHDRAW, ""))
    return policies


def versions_and_proposals(app) -> tuple[int, list[tuple]]:
    with app.app_context(), session_scope() as session:
        versions = len(session.exec(select(RulesVersion)).all())
        proposals = [
            (p.id, p.proposer_id, p.title.split(" (")[0], p.status.value, p.changes)
            for p in session.exec(select(Proposal))
        ]
        return versions, proposals


def test_policy_load_installs_at_once_while_no_member_nation_exists(app, runner, tmp_path):
    before, _ = versions_and_proposals(app)
    policies = policies_without_withdraw(tmp_path)
    result = runner.invoke(args=["policy", "load", "--policies", str(policies)])
    assert result.exit_code == 0 and result.stdout.startswith("Loaded"), result.output
    approved = (1, None, "Load policies/", "applied", NO_WITHDRAW)
    assert versions_and_proposals(app) == (before + 1, [approved]), "approved by the operator"


def test_policy_load_proposes_to_the_member_nations_once(app, runner, nations, make_user, tmp_path):
    make_user("rep.cedar@example.org", ("representative", "red-cedar"))
    before, _ = versions_and_proposals(app)
    policies = policies_without_withdraw(tmp_path)
    result = runner.invoke(args=["policy", "load", "--policies", str(policies)])
    assert result.exit_code == 0, result.output
    assert result.stdout == "Proposal #1 awaits the member Nations' approval.\n"
    expected = (1, None, "Load policies/", "open", NO_WITHDRAW)
    assert versions_and_proposals(app) == (before, [expected]), "nothing installed"
    again = runner.invoke(args=["policy", "load", "--policies", str(policies)])
    assert again.stdout == result.stdout, "an identical open proposal is not made twice"
    assert versions_and_proposals(app) == (before, [expected])
    unchanged = runner.invoke(args=["policy", "load"])
    assert unchanged.stdout.startswith("Policy unchanged"), "the files say what is in force"
