"""Every permission line of the real policies/roles.csv, one at a time: load policies/
without it and what it grants disappears everywhere it shows at once (the action in
perform(), the button or link on the request page, the API's allowed_actions, the
home page's queue, the mail after the step that would call for it); with the line
present, all of them appear. A line added to roles.csv without a row in CASES fails.
"""

import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

import pytest
from sqlmodel import func, select

from portal.auth.models import User
from portal.db import session_scope
from portal.errors import ServiceError
from portal.lifecycle.models import Obligation
from portal.notify.models import OutboxMessage
from portal.paths import resource_dir
from portal.policy.files import read_directory, read_file
from portal.policy.models import Proposal
from portal.policy.service import authorize
from portal.policy.store import replace_file_rules
from portal.registry.service import get_dataset, get_nation
from portal.requests.models import AccessRequest
from portal.workflow import AssessObligation, Edit, ReportObligation, create_draft
from portal.workflow.labels import attach_label
from portal.workflow.proposals import Propose, VoteOnProposal, govern

from apis import Api
from flows import COMPLETE, PEOPLE, command
from helpers import sign_in, sqlite_pass_only

# What a line reaches is the policy's wiring, the same on either database; the SQL that
# reads the policy (who sees which request) runs on PostgreSQL in test_access_matrix.py
# and test_policy_access.py. This is CI's longest module: run it once.
pytestmark = sqlite_pass_only("each policy line's reach")

ROLES_CSV = resource_dir("policies") / "roles.csv"
CEDAR = "Red Cedar Nation (fictional)"


def roles_lines() -> list[str]:
    lines, problems = read_file(ROLES_CSV)
    assert problems == []
    return [line.text for line in lines if line.ptype == "p"]


# --- what a person sees -------------------------------------------------------------


@dataclass
class Env:
    flow: Any
    api: Api
    since: int  # the last outbox message before the triggering step
    clients: dict[str, Any] = field(default_factory=dict)

    @property
    def app(self):
        return self.flow.app

    def client(self, who: str):
        if who not in self.clients:
            client = self.app.test_client()
            assert sign_in(client, PEOPLE[who][0]).status_code == 302
            self.clients[who] = client
        return self.clients[who]

    def get(self, who: str, path: str):
        return self.client(who).get(path)

    def page(self, who: str, ref: str) -> str | None:
        response = self.get(who, f"/requests/{ref}")
        return response.get_data(as_text=True) if response.status_code == 200 else None

    def link(self, who: str, ref: str, text: str) -> bool:
        html = self.page(who, ref)
        return html is not None and text in html

    def allowed(self, who: str, ref: str) -> list[dict] | None:
        response = self.api.get(who, f"/requests/{ref}")
        return response.get_json()["allowed_actions"] if response.status_code == 200 else None

    def offers(self, who: str, ref: str, action: str, nation: str | None = None) -> bool:
        return any(
            entry["action"] == action and entry["nation"] == nation
            for entry in self.allowed(who, ref) or []
        )

    def queued(self, who: str, ref: str, key: str) -> bool:
        html = self.get(who, "/").get_data(as_text=True)
        panel = re.search(rf'id="queue-{key}">(.*?)</div>', html, re.DOTALL)
        return panel is not None and ref in panel.group(1)

    def listed(self, who: str, ref: str) -> bool:
        """On the home page's list and in the API's list."""
        home = ref in self.get(who, "/").get_data(as_text=True)
        api = ref in {item["ref"] for item in self.api.get(who, "/requests").get_json()["items"]}
        assert home == api, "the home page and the API list the same requests"
        return home

    def mailed(self, who: str, subject: str) -> bool:
        """Whether ``who`` got a message whose subject starts so, after the trigger."""
        with self.app.app_context(), session_scope() as session:
            rows = session.exec(select(OutboxMessage).where(OutboxMessage.id > self.since))
            return any(
                m.recipient == PEOPLE[who][0] and m.subject.startswith(subject) for m in rows
            )

    def acts(self, who: str, ref: str, action: str, nation: str | None = None, **body) -> str:
        """perform() the command: "ok", or the name of the error it raised."""
        try:
            self.flow.perform(who, ref, command(action, nation, **body))
        except ServiceError as error:
            return type(error).__name__
        return "ok"

    def may(self, who: str, action: str, nation: str | None = None) -> bool:
        with self.app.app_context(), session_scope() as session:
            user = session.exec(select(User).where(User.email == PEOPLE[who][0])).one()
            where = get_nation(session, nation) if nation else None
            return authorize(session, user, action, nation=where).allowed


# --- the table ----------------------------------------------------------------------

Observe = Callable[[Env, str | None], dict[str, Any]]


@dataclass(frozen=True)
class Case:
    observe: Observe  # every place the grant shows, for this line
    prepare: Callable[[Any], str | None] = lambda flow: None  # with the full policy
    trigger: Callable[[Any, str], Any] | None = None  # the step whose mail is watched
    absent: dict[str, Any] = field(default_factory=dict)  # what is not False without it
    # p2 lines the checker would call unreachable without the p line (removed with it)
    also_remove: tuple[str, ...] = ()
    # the checker refuses the files without this line (its conditions become unreachable
    # but are required in every Nation): load the same rows through the store instead
    checker_refuses: bool = False


def submitted(flow) -> str:
    ref = flow.draft()
    flow.do("researcher", "submit", ref)
    return ref


def one_cedar_review(flow) -> str:
    ref = flow.to_review()
    flow.do("cedar_steward1", "review", ref, "red-cedar")
    return ref


def cedar_approved(flow) -> str:
    ref = flow.reviewed()
    flow.do("cedar_rep", "decide", ref, "red-cedar")
    return ref


def changes_asked_by_cedar(flow) -> str:
    ref = flow.to_review()
    flow.do("cedar_steward1", "review", ref, "red-cedar", recommendation="changes", comment="?")
    return ref


def drop_cedar(flow, ref: str) -> None:
    flow.edit("researcher", ref, **{**COMPLETE, "datasets": ["heron-schools"]})
    flow.do("researcher", "submit", ref)


def sees(who: str, acting: tuple, queue: str | None = None, mail: str | None = None) -> Observe:
    """For a ``view`` line: the request page, the API, the lists, the queue, the mail
    and the action of the role that the line lets see requests."""

    def observe(env: Env, ref: str) -> dict[str, Any]:
        seen = {
            "page": env.get(who, f"/requests/{ref}").status_code == 200,
            "api": env.api.get(who, f"/requests/{ref}").status_code == 200,
            "listed": env.listed(who, ref),
        }
        if queue:
            seen["queue"] = env.queued(who, ref, queue)
        if mail:
            seen["mail"] = env.mailed(who, mail.format(ref=ref))
        action, nation, body = acting
        seen["acts"] = env.acts(who, ref, action, nation, **body)
        return seen

    return observe


def view_line(who, acting, queue=None, mail=None, **case) -> Case:
    return Case(sees(who, acting, queue, mail), absent={"acts": "NotFound"}, **case)


def admin_line(who: str, action: str, path: str, nation: str | None = None) -> Case:
    """Not about requests: the administration page opens (else 403), the navigation
    links to it, and authorize() allows the action."""

    def observe(env: Env, ref) -> dict[str, Any]:
        return {**_nav(path)(who)(env, ref), "authorize": env.may(who, action, nation)}

    return Case(observe)


def _label(env: Env, ref) -> dict[str, Any]:
    """label_datasets: the dataset page's form for Red Cedar, and attaching a label."""
    page = env.get("cedar_rep", "/datasets/cedar-health").get_data(as_text=True)
    with env.app.app_context(), session_scope() as session:
        user = session.exec(select(User).where(User.email == PEOPLE["cedar_rep"][0])).one()
        dataset = get_dataset(session, "cedar-health")
        try:
            attach_label(
                session, user, dataset, get_nation(session, "red-cedar"), code="tk-seasonal"
            )
            acts = "ok"
        except ServiceError as error:
            acts = type(error).__name__
    return {
        "form": "Attach a label for Red Cedar Nation (fictional)" in page,
        "authorize": env.may("cedar_rep", "label_datasets", "red-cedar"),
        "acts": acts,
    }


def _researcher_view(env: Env, ref: str) -> dict[str, Any]:
    return sees("researcher", ("withdraw", None, {}))(env, ref)


def _create(env: Env, ref) -> dict[str, Any]:
    home = env.get("researcher", "/").get_data(as_text=True)
    api = env.api.post("researcher", "/requests", json={"title": "By the API"})
    with env.app.app_context(), session_scope() as session:
        user = session.exec(select(User).where(User.email == PEOPLE["researcher"][0])).one()
        try:
            create_draft(session, user, {"title": "By the service"})
            service = "ok"
        except ServiceError as error:
            service = type(error).__name__
    return {
        "link": 'href="/requests/new"' in home,
        "api": api.status_code == 201,
        "acts": service,
    }


def _edit(env: Env, ref: str) -> dict[str, Any]:
    seen = {
        "link": env.link("researcher", ref, f'href="/requests/{ref}/edit"'),
        "allowed": env.offers("researcher", ref, "edit"),
        "api": env.api.patch("researcher", f"/requests/{ref}", json={"title": "T"}).status_code
        == 200,
    }
    try:
        env.flow.perform("researcher", ref, Edit(fields={"title": "Changed"}))
        seen["acts"] = "ok"
    except ServiceError as error:
        seen["acts"] = type(error).__name__
    return seen


def _submit(env: Env, ref: str) -> dict[str, Any]:
    return {
        "link": env.link("researcher", ref, "Edit and submit"),
        "allowed": env.offers("researcher", ref, "submit"),
        "queue": env.queued("researcher", ref, "yours"),
        "acts": env.acts("researcher", ref, "submit"),
    }


def _withdraw(env: Env, ref: str) -> dict[str, Any]:
    return {
        "link": env.link("researcher", ref, "Withdraw this request"),
        "allowed": env.offers("researcher", ref, "withdraw"),
        "acts": env.acts("researcher", ref, "withdraw"),
    }


def _researcher_sign(env: Env, ref: str) -> dict[str, Any]:
    return {
        "link": env.link("researcher", ref, "Sign as the researcher"),
        "allowed": env.offers("researcher", ref, "sign"),
        "queue": env.queued("researcher", ref, "sign"),
        "acts": env.acts("researcher", ref, "sign"),
    }


def _screen(env: Env, ref: str) -> dict[str, Any]:
    return {
        "link": env.link("coordinator", ref, "Screen this request"),
        "allowed": env.offers("coordinator", ref, "screen"),
        "queue": env.queued("coordinator", ref, "screen"),
        "mail": env.mailed("coordinator", f"New request to screen: {ref}"),
        "acts": env.acts("coordinator", ref, "screen"),
    }


def _review(env: Env, ref: str) -> dict[str, Any]:
    who = "cedar_steward1"
    return {
        "link": env.link(who, ref, f"Review for {CEDAR}"),
        "allowed": env.offers(who, ref, "review", "red-cedar"),
        "queue": env.queued(who, ref, "review"),
        "mail": env.mailed(who, f"Request {ref} touches {CEDAR}"),
        "acts": env.acts(who, ref, "review", "red-cedar"),
    }


def _deciding(env: Env, ref: str) -> dict[str, Any]:
    """What the representative sees of deciding, once the quorum is met."""
    who = "cedar_rep"
    decide = [e for e in env.allowed(who, ref) or [] if e["action"] == "decide"]
    page = env.get(who, f"/requests/{ref}/decide/red-cedar")
    return {
        "link": env.link(who, ref, f"Decide for {CEDAR}"),
        "allowed": bool(decide),
        "approval_open": bool(decide) and decide[0]["blocked_by"] == [],
        "approval_page": page.status_code == 200 and "Approval is not possible" not in page.text,
        "queue": env.queued(who, ref, "decide"),
        "mail": env.mailed(who, f"Request {ref} is ready for {CEDAR}"),
    }


def _approve(env: Env, ref: str) -> dict[str, Any]:
    return {**_deciding(env, ref), "acts": env.acts("cedar_rep", ref, "decide", "red-cedar")}


def _refuse(env: Env, ref: str) -> dict[str, Any]:
    seen = _deciding(env, ref)
    seen["approve_allowed"] = _authorize_on(env, "cedar_rep", "approve", "red-cedar", ref)
    seen["acts"] = env.acts("cedar_rep", ref, "decide", "red-cedar", outcome="refuse", reason="r")
    return seen


def _authorize_on(env: Env, who: str, action: str, nation: str, ref: str) -> bool:
    from portal.requests.models import AccessRequest

    with env.app.app_context(), session_scope() as session:
        user = session.exec(select(User).where(User.email == PEOPLE[who][0])).one()
        request = session.exec(select(AccessRequest).where(AccessRequest.ref == ref)).one()
        where = get_nation(session, nation)
        return authorize(session, user, action, nation=where, request=request).allowed


def _rep_sign(env: Env, ref: str) -> dict[str, Any]:
    who = "cedar_rep"
    return {
        "link": env.link(who, ref, f"Sign for {CEDAR}"),
        "allowed": env.offers(who, ref, "sign", "red-cedar"),
        "queue": env.queued(who, ref, "sign"),
        "mail": env.mailed(who, f"The agreement for {ref} waits for {CEDAR}"),
        "acts": env.acts(who, ref, "sign", "red-cedar"),
    }


def _revoke(env: Env, ref: str) -> dict[str, Any]:
    who = "cedar_rep"
    return {
        "link": env.link(who, ref, f"Revoke for {CEDAR}"),
        "allowed": env.offers(who, ref, "revoke", "red-cedar"),
        "acts": env.acts(who, ref, "revoke", "red-cedar"),
    }


def _ends(who: str, action: str, nation: str | None = None) -> Observe:
    """For the end's lines: the API offers the step, and perform() takes it."""

    def observe(env: Env, ref: str) -> dict[str, Any]:
        return {
            "allowed": env.offers(who, ref, action, nation),
            "acts": env.acts(who, ref, action, nation),
        }

    return observe


def _nav(path: str) -> Callable[[str], Observe]:
    def for_who(who: str) -> Observe:
        def observe(env: Env, ref) -> dict[str, Any]:
            home = env.get(who, "/").get_data(as_text=True)
            return {
                "page": env.get(who, path).status_code == 200,
                "nav": f'href="{path}"' in home,
            }

        return observe

    return for_who


def _thread(who: str, channel: str, nation: str | None = None) -> Observe:
    """For a conversation's line: the thread's link on the request page, its page, the
    API's list of conversations, the mail when someone else writes in it, and writing."""

    def observe(env: Env, ref: str) -> dict[str, Any]:
        path = f"/requests/{ref}/conversations/{channel}" + (f"/{nation}" if nation else "")
        listed = env.api.get(who, f"/requests/{ref}/conversations").get_json()["items"]
        return {
            "link": env.link(who, ref, f'href="{path}"'),
            "page": env.get(who, path).status_code == 200,
            "api": any(t["channel"] == channel and t["nation"] == nation for t in listed),
            "mail": env.mailed(who, f"New message on {ref}"),
            "acts": env.acts(who, ref, "message", nation, channel=channel),
        }

    return observe


def _writes(who: str, channel: str, nation: str | None = None) -> Callable[[Any, str], Any]:
    return lambda flow, ref: flow.do(who, "message", ref, nation, channel=channel)


def thread_line(reader: str, writer: str, channel: str, nation: str | None = None) -> Case:
    return Case(
        _thread(reader, channel, nation),
        prepare=submitted,
        trigger=_writes(writer, channel, nation),
        absent={"acts": "Forbidden"},
    )


# Portal-wide rule changes: who proposes, and who answers for a member Nation.
ETHICS_FIRST = {"lines": {"add": [["p2", "*", "review", "ethics_approval_given"]]}}


def _proposes(who: str, nation: str | None) -> Observe:
    def observe(env: Env, ref) -> dict[str, Any]:
        command = Propose("Ethics approval before review", "", ETHICS_FIRST, nation)
        return {
            "page": env.get(who, "/rules/proposals/new").status_code == 200,
            "authorize": env.may(who, "propose_rules", nation),
            "acts": _govern(env.app, who, command),
        }

    return observe


def _admin_proposes(flow, ref) -> None:
    _govern(flow.app, "admin", Propose("Ethics approval before review", "", ETHICS_FIRST))


def _answers(env: Env, ref) -> dict[str, Any]:
    with env.app.app_context(), session_scope() as session:
        number = session.exec(select(func.max(Proposal.id))).one()
    path = f"/rules/proposals/{number}"
    return {
        "form": "Give your Nation's answer" in env.get("cedar_rep", path).get_data(as_text=True),
        "api": env.api.get("cedar_rep", path).get_json()["may_vote_for"] == ["red-cedar"],
        "mail": env.mailed("cedar_rep", "A change to the portal-wide rules is proposed"),
        "acts": _govern(env.app, "cedar_rep", VoteOnProposal(number, "red-cedar", "approve", "")),
    }


def _heron_decides(flow, ref: str) -> None:
    flow.do("heron_rep", "decide", ref, "blue-heron")


def _second_review(flow, ref: str) -> None:
    flow.do("cedar_steward2", "review", ref, "red-cedar")


# --- outputs before publication (portal/workflow/outputs.py) --------------------------

OUTPUT_CSV = b"Region,Count\nNorth,12\nSouth,30\n"


def _latest_output(app) -> int:
    from portal.lifecycle.outputs.models import ResearchOutput

    with app.app_context(), session_scope() as session:
        return session.exec(select(func.max(ResearchOutput.id))).one()


def _with_output(flow, reviews: tuple[str, ...] = ()) -> str:
    ref = flow.active()
    flow.do("researcher", "submit_output", ref, title="T", venue="V", content=OUTPUT_CSV)
    output = _latest_output(flow.app)
    for who in reviews:
        flow.do(who, "review_output", ref, "red-cedar", output=output)
    return ref


def _output_step(who: str, action: str, button: str, **body) -> Observe:
    def observe(env: Env, ref: str) -> dict[str, Any]:
        output = _latest_output(env.app)
        page = env.get(who, f"/requests/{ref}/outputs/{output}").get_data(as_text=True)
        return {
            "button": f"{button} for {CEDAR}" in page,
            "allowed": env.offers(who, ref, action, "red-cedar"),
            "acts": env.acts(who, ref, action, "red-cedar", output=output, **body),
        }

    return observe


def _submit_output(env: Env, ref: str) -> dict[str, Any]:
    return {
        "link": env.link("researcher", ref, "Submit an output for review"),
        "allowed": env.offers("researcher", ref, "submit_output"),
        "acts": env.acts(
            "researcher", ref, "submit_output", title="T", venue="V", content=OUTPUT_CSV
        ),
    }


def _opens(action: str, button: str) -> Observe:
    """Renewal or amendment: the form on the page, the API's offer, and the command."""

    def observe(env: Env, ref: str) -> dict[str, Any]:
        return {
            "form": env.link("researcher", ref, button),
            "allowed": env.offers("researcher", ref, action),
            "acts": env.acts("researcher", ref, action),
        }

    return observe


CASES: dict[str, Case] = {
    "p, researcher, *, renew": Case(
        _opens("renew", "Renew this request"),
        prepare=lambda flow: flow.active(),
        absent={"acts": "Forbidden"},
    ),
    "p, researcher, *, amend": Case(
        _opens("amend", "Amend this request"),
        prepare=lambda flow: flow.active(),
        absent={"acts": "Forbidden"},
    ),
    "p, researcher, *, close": Case(
        _ends("researcher", "close"),
        prepare=lambda flow: flow.active(),
        absent={"acts": "Forbidden"},
    ),
    "p, researcher, *, attest_destruction": Case(
        _ends("researcher", "attest_destruction"),
        prepare=lambda flow: flow.ended(),
        absent={"acts": "Forbidden"},
    ),
    "p, steward, *, acknowledge_destruction": Case(
        _ends("cedar_steward1", "acknowledge_destruction", "red-cedar"),
        prepare=lambda flow: flow.attested(),
        absent={"acts": "Forbidden"},
    ),
    "p, representative, *, acknowledge_destruction": Case(
        _ends("cedar_rep", "acknowledge_destruction", "red-cedar"),
        prepare=lambda flow: flow.attested(),
        absent={"acts": "Forbidden"},
    ),
    "p, researcher, *, view": Case(
        _researcher_view, prepare=submitted, absent={"acts": "NotFound"}
    ),
    "p, researcher, *, create": Case(_create, absent={"acts": "Forbidden"}),
    "p, researcher, *, edit": Case(
        _edit, prepare=lambda flow: flow.draft(), absent={"acts": "Forbidden"}
    ),
    "p, researcher, *, submit": Case(
        _submit,
        prepare=lambda flow: flow.draft(),
        absent={"acts": "Forbidden"},
        also_remove=("p2, *, submit, ethics_approval_given",),
    ),
    "p, researcher, *, withdraw": Case(_withdraw, prepare=submitted, absent={"acts": "Forbidden"}),
    "p, researcher, *, sign": Case(
        _researcher_sign, prepare=lambda flow: flow.approved(), absent={"acts": "Forbidden"}
    ),
    "p, coordinator, *, view": view_line(
        "coordinator",
        ("screen", None, {}),
        queue="screen",
        mail="New request to screen: {ref}",
        prepare=lambda flow: flow.draft(),
        trigger=lambda flow, ref: flow.do("researcher", "submit", ref),
    ),
    "p, coordinator, *, screen": Case(
        _screen,
        prepare=lambda flow: flow.draft(),
        trigger=lambda flow, ref: flow.do("researcher", "submit", ref),
        absent={"acts": "Forbidden"},
        checker_refuses=True,  # not_own_screening is required on screen in every Nation
    ),
    "p, coordinator, *, view_dashboard": Case(_nav("/dashboard")("coordinator")),
    "p, steward, *, view": view_line(
        "cedar_steward1",
        ("review", "red-cedar", {}),
        queue="review",
        mail="Request {ref} touches " + CEDAR,
        prepare=submitted,
        trigger=lambda flow, ref: flow.do("coordinator", "screen", ref),
    ),
    "p, steward, *, review": Case(
        _review,
        prepare=submitted,
        trigger=lambda flow, ref: flow.do("coordinator", "screen", ref),
        absent={"acts": "Forbidden"},
        checker_refuses=True,
    ),
    "p, steward, *, view_record": Case(
        lambda env, ref: {
            **_nav("/nations/red-cedar/record")("cedar_steward1")(env, ref),
            "mail": env.mailed("cedar_steward1", f"{ref} no longer uses {CEDAR}"),
        },
        prepare=changes_asked_by_cedar,
        trigger=drop_cedar,
        checker_refuses=True,
    ),
    "p, representative, *, view": view_line(
        "cedar_rep",
        ("decide", "red-cedar", {"outcome": "refuse", "reason": "r"}),
        queue="decide",
        mail="Request {ref} is ready for " + CEDAR,
        prepare=one_cedar_review,
        trigger=_second_review,
    ),
    # Deciding is one command for two policy actions. Without `approve` the representative
    # can still refuse: the link, the offer, the queue and the mail stay (refusal is always
    # possible); approval goes from perform() and the offer says so (blocked by "role").
    "p, representative, *, approve": Case(
        _approve,
        prepare=one_cedar_review,
        trigger=_second_review,
        absent={"link": True, "allowed": True, "mail": True, "queue": True, "acts": "Forbidden"},
        checker_refuses=True,
    ),
    # Without `refuse`, deciding disappears from the page, the API, the queue and the mail
    # together, and perform() refuses the refusal; approval itself stays allowed.
    "p, representative, *, refuse": Case(
        _refuse,
        prepare=one_cedar_review,
        trigger=_second_review,
        absent={"approve_allowed": True, "acts": "Forbidden"},
        checker_refuses=True,
    ),
    "p, representative, *, sign": Case(
        _rep_sign, prepare=cedar_approved, trigger=_heron_decides, absent={"acts": "Forbidden"}
    ),
    "p, representative, *, revoke": Case(
        _revoke,
        prepare=lambda flow: flow.approved(),
        absent={"acts": "Forbidden"},
        checker_refuses=True,
    ),
    "p, representative, *, manage_profile": Case(
        _nav("/nations/red-cedar/profile")("cedar_rep"), checker_refuses=True
    ),
    "p, representative, *, view_record": Case(
        lambda env, ref: {
            **_nav("/nations/red-cedar/record")("cedar_rep")(env, ref),
            "mail": env.mailed("cedar_rep", f"{ref} no longer uses {CEDAR}"),
        },
        prepare=changes_asked_by_cedar,
        trigger=drop_cedar,
        checker_refuses=True,
    ),
    "p, representative, *, label_datasets": Case(
        _label, absent={"acts": "Forbidden"}, checker_refuses=True
    ),
    "p, representative, *, invite_member": admin_line(
        "cedar_rep", "invite_member", "/nations/red-cedar/invitations", "red-cedar"
    ),
    "p, researcher, *, message_coordinators": thread_line(
        "researcher", "coordinator", "coordinators"
    ),
    "p, researcher, *, message_nation": thread_line(
        "researcher", "cedar_rep", "nation", "red-cedar"
    ),
    "p, coordinator, *, message_coordinators": thread_line(
        "coordinator", "researcher", "coordinators"
    ),
    "p, steward, *, message_nation": thread_line(
        "cedar_steward1", "researcher", "nation", "red-cedar"
    ),
    "p, steward, *, discuss": thread_line("cedar_steward1", "cedar_rep", "internal", "red-cedar"),
    "p, representative, *, message_nation": thread_line(
        "cedar_rep", "researcher", "nation", "red-cedar"
    ),
    "p, representative, *, discuss": thread_line(
        "cedar_rep", "cedar_steward1", "internal", "red-cedar"
    ),
    **{
        f"p, {role}, *, read_rules": Case(_nav("/rules")(who))
        for role, who in (
            ("researcher", "researcher"),
            ("coordinator", "coordinator"),
            ("steward", "cedar_steward1"),
            ("representative", "cedar_rep"),
            ("admin", "admin"),
        )
    },
    "p, admin, *, manage_registry": admin_line("admin", "manage_registry", "/admin/datasets"),
    "p, admin, *, manage_users": admin_line("admin", "manage_users", "/admin/people"),
    "p, admin, *, invite": admin_line("admin", "invite", "/admin/invitations"),
    "p, admin, *, manage_jobs": admin_line("admin", "manage_jobs", "/admin/jobs"),
    "p, admin, *, propose_rules": Case(_proposes("admin", None), absent={"acts": "Forbidden"}),
    "p, representative, *, propose_rules": Case(
        _proposes("cedar_rep", "red-cedar"), absent={"acts": "Forbidden"}
    ),
    "p, representative, *, vote_on_rules": Case(
        _answers, trigger=_admin_proposes, absent={"acts": "Forbidden"}, checker_refuses=True
    ),
    "p, researcher, *, submit_output": Case(
        _submit_output, prepare=lambda flow: flow.active(), absent={"acts": "Forbidden"}
    ),
    # Without the grant, the required not_own_request on the action is unreachable.
    "p, steward, *, review_output": Case(
        _output_step("cedar_steward1", "review_output", "Review"),
        prepare=_with_output,
        absent={"acts": "Forbidden"},
        checker_refuses=True,
    ),
    "p, representative, *, decide_output": Case(
        _output_step("cedar_rep", "decide_output", "Decide"),
        prepare=lambda flow: _with_output(flow, ("cedar_steward1", "cedar_steward2")),
        absent={"acts": "Forbidden"},
        checker_refuses=True,
    ),
}


# --- obligations: an active request owing Red Cedar its return or destruction ---------


def _owing(flow, reported: bool) -> str:
    ref = flow.approved(cedar_conditions=["return_or_destroy"])
    for who in ("researcher", "cedar_rep", "heron_rep"):
        flow.do(who, "sign", ref)
    with flow.app.app_context(), session_scope() as session:  # due within the month: it
        owed = session.get(Obligation, _obligation_id(flow, ref))  # waits in the queue
        owed.next_due = date.today() + timedelta(days=7)
        session.add(owed)
    if reported:
        flow.perform("researcher", ref, ReportObligation(_obligation_id(flow, ref), "Done."))
    return ref


def _obligation_id(flow, ref: str) -> int:
    with flow.app.app_context(), session_scope() as session:
        request = session.exec(select(AccessRequest).where(AccessRequest.ref == ref)).one()
        query = select(Obligation.id).where(Obligation.request_id == request.id)
        return session.exec(query).one()


def _obligation_step(who: str, command, link: str, queue: str | None = None) -> Observe:
    """The link on the request page, the API's allowed_actions, the queue, then the
    step itself (last: it changes the obligation)."""

    def observe(env: Env, ref: str) -> dict[str, Any]:
        number = _obligation_id(env.flow, ref)
        page = env.page(who, ref) or ""
        seen = {
            "link": link.format(id=number) in page,
            "api": any(
                entry["action"] == command.name and entry["obligation"] == number
                for entry in env.allowed(who, ref) or []
            ),
        }
        if queue:
            seen["queue"] = env.queued(who, ref, queue)
        try:
            env.flow.perform(who, ref, replace(command, obligation=number))
            seen["acts"] = "ok"
        except ServiceError as error:
            seen["acts"] = type(error).__name__
        return seen

    return observe


def _met_offered(env: Env, ref: str) -> dict[str, Any]:
    """A representative who may still waive opens the assessment page either way; with
    the line it offers met (and the step takes it)."""
    number = _obligation_id(env.flow, ref)
    page = env.get("cedar_rep", f"/requests/{ref}/obligations/{number}/assess").text
    seen = {"met": 'value="met"' in page, "queue": env.queued("cedar_rep", ref, "assess")}
    try:
        env.flow.perform("cedar_rep", ref, AssessObligation(number, "met"))
        seen["acts"] = "ok"
    except ServiceError as error:
        seen["acts"] = type(error).__name__
    return seen


CASES.update(
    {
        "p, researcher, *, report_obligation": Case(
            _obligation_step(
                "researcher", ReportObligation(text="Destroyed."), "/obligations/{id}/report",
                "report",
            ),
            prepare=lambda flow: _owing(flow, reported=False),
            absent={"acts": "Forbidden"},
        ),
        "p, steward, *, assess_obligation": Case(
            _obligation_step(
                "cedar_steward1", AssessObligation(outcome="met"), "/obligations/{id}/assess",
                "assess",
            ),
            prepare=lambda flow: _owing(flow, reported=True),
            absent={"acts": "Forbidden"},
        ),
        "p, representative, *, assess_obligation": Case(
            _met_offered,
            prepare=lambda flow: _owing(flow, reported=True),
            absent={"acts": "Forbidden"},
        ),
        "p, representative, *, waive_obligation": Case(
            _obligation_step(
                "cedar_rep", AssessObligation(outcome="waived", comment="Let go."), "Waive it for",
            ),
            prepare=lambda flow: _owing(flow, reported=False),
            absent={"acts": "Forbidden"},
            checker_refuses=True,  # not_own_request is required on waiving everywhere
        ),
    }
)  # fmt: skip


# --- the custodians' delivery log ----------------------------------------------------


def _retries(who: str, nation: str | None) -> Observe:
    """Resending a notice: what the enforcer answers (the log's own retry buttons and
    the API's allowed_actions follow it: tests/test_custodian_notices.py)."""
    return lambda env, ref: {"authorize": env.may(who, "retry_delivery", nation)}


CASES.update(
    {
        f"p, {role}, *, {action}": (
            admin_line(who, action, "/deliveries", nation)
            if action == "view_deliveries"
            else Case(_retries(who, nation))
        )
        for role, who, nation in (
            ("coordinator", "coordinator", None),
            ("steward", "cedar_steward1", "red-cedar"),
            ("representative", "cedar_rep", "red-cedar"),
        )
        for action in ("view_deliveries", "retry_delivery")
    }
)


# The rights every Nation keeps (REQUIRED_GRANTS): the checker refuses files without them.
for _kept in (
    "p, steward, *, view",
    "p, representative, *, view",
    "p, representative, *, invite_member",
    "p, steward, *, discuss",
    "p, representative, *, discuss",
):
    CASES[_kept] = replace(CASES[_kept], checker_refuses=True)


# --- loading policies/ without a line -----------------------------------------------


def load_without(app, runner, tmp_path, removed: tuple[str, ...], checker_refuses: bool):
    """Copy policies/ without the ``removed`` lines and load it with `portal policy load`
    (or, where the checker refuses the files, put the same rows in through the store)."""
    policies = tmp_path / "policies"
    shutil.copytree(resource_dir("policies"), policies)
    for path in policies.glob("*.csv"):
        kept = [
            raw
            for raw in path.read_text().splitlines()
            if ", ".join(t.strip() for t in raw.split(",")) not in removed
        ]
        path.write_text("\n".join(kept) + "\n")
    lines, problems = read_directory(policies)
    assert problems == []
    assert len(lines) == len(read_directory(resource_dir("policies"))[0]) - len(removed)
    result = runner.invoke(args=["policy", "load", "--policies", str(policies)])
    if not checker_refuses or not removed:
        assert result.exit_code == 0, result.output
        if "awaits the member Nations" in result.output:  # the rules are theirs: approve it
            number = int(result.output.split("#")[1].split()[0])
            for who, slug in (("cedar_rep", "red-cedar"), ("heron_rep", "blue-heron")):
                _govern(app, who, VoteOnProposal(number, slug, "approve", ""))
        return
    refused_because = ("unreachable", "must keep the right to")
    assert result.exit_code != 0, result.output
    assert any(reason in result.output for reason in refused_because), result.output
    with app.app_context(), session_scope() as session:
        replace_file_rules(session, [(ln.source, ln.ptype, list(ln.values)) for ln in lines])


def _govern(app, who: str, command) -> str:
    """govern() the command as ``who``: "ok", or the name of the error it raised."""
    with app.app_context(), session_scope() as session:
        user = session.exec(select(User).where(User.email == PEOPLE[who][0])).one()
        try:
            govern(session, user, command)
        except ServiceError as error:
            return type(error).__name__
    return "ok"


def last_message_id(app) -> int:
    with app.app_context(), session_scope() as session:
        return session.exec(select(func.max(OutboxMessage.id))).one() or 0


@pytest.mark.parametrize("present", [True, False], ids=["with the line", "without it"])
@pytest.mark.parametrize("line", roles_lines())
def test_a_line_shows_everywhere_or_nowhere(flow, runner, tmp_path, line, present):
    assert line in CASES, f"roles.csv has {line!r}, which this table does not know"
    case = CASES[line]
    ref = case.prepare(flow)
    removed = () if present else (line, *case.also_remove)
    load_without(flow.app, runner, tmp_path, removed, case.checker_refuses)
    since = last_message_id(flow.app)
    if case.trigger is not None:
        case.trigger(flow, ref)
    seen = case.observe(Env(flow, Api(flow.app), since), ref)
    if present:
        expected = {key: "ok" if key == "acts" else True for key in seen}
    else:
        expected = {key: case.absent.get(key, False) for key in seen}
    assert seen == expected


def test_the_table_knows_every_line_of_roles_csv_and_no_other():
    assert set(CASES) == set(roles_lines())
