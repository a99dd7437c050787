"""Mail about outputs and obligations (issue 11), read from a real SMTP server: whoever
may act next (asked of available()) hears of an output to review or decide and of a
report to assess; the researcher hears each Nation's decision with its reasons and each
assessment, never a Nation's deliberations (invariant 9)."""

from email import message_from_bytes
from email.policy import default

from portal.jobs.runner import run_job
from portal.workflow import commands as c

from flows import PEOPLE
from obligated import Obligated

NAMES = {email: who for who, (email, _roles) in PEOPLE.items()}
CSV = b"Region,Girls,Boys,Total\nNorth,12,3,15\nSouth,20,25,45\nTotal,32,28,60\n"
SECRET = "Deliberation: the North cell worries our elders (fictional)."
REASON = "North's boys are identifiable (fictional)."


def delivered(app, inbox) -> list[tuple[str, str, str]]:
    """(who, subject, body) of every message sent so far, then forgets them."""
    run_job(app, "deliver_mail")
    found = []
    for envelope in inbox.messages:
        message = message_from_bytes(envelope.content, policy=default)
        body = message.get_body(preferencelist=("plain",)).get_content()
        for address in envelope.rcpt_tos:
            found.append((NAMES.get(address, address), str(message["Subject"]).strip(), body))
    inbox.messages.clear()
    return found


def to(mail, words: str) -> set[str]:
    return {who for who, subject, _ in mail if words in subject}


def test_outputs_mail_the_reviewers_then_the_representative_then_the_researcher(app, flow, inbox):
    ref = flow.active()
    delivered(app, inbox)  # activation's own notices
    flow.perform("researcher", ref, c.SubmitOutput("Table 1", "A journal", "t.csv", CSV))
    mail = delivered(app, inbox)
    assert to(mail, "waits for Red Cedar") == {"cedar_steward1", "cedar_steward2", "cedar_steward3"}
    assert to(mail, "waits for Blue Heron") == {"heron_steward"}
    assert {who for who, _, _ in mail} == to(mail, "review before publication")
    (body,) = {body for who, _, body in mail if who == "heron_steward"}
    assert f"/requests/{ref}/outputs/1" in body

    for steward in ("cedar_steward1", "cedar_steward2"):
        review = c.ReviewOutput(1, "red-cedar", "refuse", SECRET)
        flow.perform(steward, ref, review)
    mail = delivered(app, inbox)
    assert [who for who, _, _ in mail] == ["cedar_rep"], "once, when the quorum is reached"
    assert "ready for Red Cedar Nation (fictional)'s decision" in mail[0][1]
    flow.perform("cedar_rep", ref, c.DecideOutput(1, "red-cedar", "refuse", REASON))
    mail = delivered(app, inbox)
    assert [(who, subject) for who, subject, _ in mail] == [
        ("researcher", 'Red Cedar Nation (fictional) refused the publication of "Table 1" '
         f"({ref})"),
    ]  # fmt: skip
    body = mail[0][2]
    assert REASON in body and "The output is refused" in body
    assert SECRET not in body and "s1.cedar" not in body

    flow.perform(
        "researcher", ref, c.SubmitOutput("Table 2", "A journal", "t.csv", CSV + b"x,1,1,2\n")
    )
    delivered(app, inbox)
    flow.perform("heron_steward", ref, c.ReviewOutput(2, "blue-heron", "approve", SECRET))
    flow.perform("heron_rep", ref, c.DecideOutput(2, "blue-heron", "approve", ""))
    mail = delivered(app, inbox)
    assert [who for who, _, _ in mail] == ["heron_rep", "researcher"]
    assert "other Nations that asked to review it have still to decide" in mail[1][2]
    for steward in ("cedar_steward1", "cedar_steward2"):
        flow.perform(steward, ref, c.ReviewOutput(2, "red-cedar", "approve", SECRET))
    flow.perform("cedar_rep", ref, c.DecideOutput(2, "red-cedar", "approve", "Thank you."))
    mail = delivered(app, inbox)
    assert [who for who, _, _ in mail] == ["cedar_rep", "researcher"]
    assert "cleared for publication" in mail[1][2] and "Thank you." in mail[1][2]
    assert all(SECRET not in body for _, _, body in mail)


def test_obligations_mail_the_nation_owed_then_the_researcher(app, flow, make_user, inbox):
    owed = Obligated(app, flow, make_user)
    ref = owed.active()
    delivered(app, inbox)
    owed.report("researcher", ref, "return_or_destroy", "Destroyed on the approved server.")
    mail = delivered(app, inbox)
    cedar = {"cedar_steward1", "cedar_steward2", "cedar_steward3", "cedar_rep"}
    assert {who for who, _, _ in mail} == cedar, "the Nation owed it, no one else"
    key = owed.id(ref, "return_or_destroy")
    assert all(f"/requests/{ref}/obligations/{key}/assess" in body for _, _, body in mail)

    owed.assess("cedar_steward1", ref, "return_or_destroy", "not_met", comment=SECRET)
    mail = delivered(app, inbox)
    assert [(who, subject) for who, subject, _ in mail] == [
        ("researcher", f"Red Cedar Nation (fictional) assessed an obligation of {ref}")
    ]
    assert "not met" in mail[0][2] and SECRET not in mail[0][2], "not told: the Nation's own"

    owed.report("researcher", ref, "return_or_destroy", "Certificate attached.")
    delivered(app, inbox)
    owed.assess("cedar_steward2", ref, "return_or_destroy", "met", comment=REASON,
                tell_researcher=True)  # fmt: skip
    mail = delivered(app, inbox)
    assert [who for who, _, _ in mail] == ["researcher"]
    assert REASON in mail[0][2] and "met." in mail[0][2], "told: the researcher reads it"
