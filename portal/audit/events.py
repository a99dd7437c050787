"""Every kind of audit event, once: the writers name them, the timelines put them in
words, the dashboard measures stages between them, and invariant 9 reads who may see
what of each.

An event's audience says who may read its actor and details, beyond the kind and time
that everyone who may see the request reads:

- ``PUBLIC``: everyone who may see the request.
- ``SENT``: what a Nation sends to the researcher (requests for changes, its decision,
  reasons and conditions, a revocation): the researcher and that Nation's own people.
- ``INTERNAL``: a Nation's deliberation (a steward's review, criteria, conflicts):
  that Nation's stewards and representatives alone.

A message (``message.posted``) is read by its thread's readers, whoever they are.
"""

import enum

from flask_babel import lazy_gettext as _l


class Audience(enum.Enum):
    PUBLIC = "public"
    SENT = "sent"
    INTERNAL = "internal"


class EventType(enum.StrEnum):
    REQUEST_CREATED = "request.created"
    REQUEST_EDITED = "request.edited"
    REQUEST_SUBMITTED = "request.submitted"
    REQUEST_RETURNED = "request.returned"
    REQUEST_SCREENED = "request.screened"
    REQUEST_WITHDRAWN = "request.withdrawn"
    REQUEST_CHANGES_REQUESTED = "request.changes_requested"
    REVIEW_RECORDED = "review.recorded"
    DECISION_APPROVED = "decision.approved"
    DECISION_REFUSED = "decision.refused"
    TRACK_ENDED = "track.ended"
    REQUEST_REVOKED = "request.revoked"
    AGREEMENT_SIGNED = "agreement.signed"
    AGREEMENT_DOWNLOADED = "agreement.downloaded"
    REQUEST_EXPIRED = "request.expired"
    MESSAGE_POSTED = "message.posted"
    REMINDER_SENT = "reminder.sent"
    OBLIGATION_REPORTED = "obligation.reported"
    OBLIGATION_ASSESSED = "obligation.assessed"
    OBLIGATION_FILE_DOWNLOADED = "obligation.file_downloaded"
    # The end (portal/workflow/ending.py): access ended early, attested, answered, closed.
    REQUEST_ENDED = "request.ended"
    DESTRUCTION_ATTESTED = "destruction.attested"
    DESTRUCTION_ACKNOWLEDGED = "destruction.acknowledged"
    ATTESTATION_DOWNLOADED = "attestation.downloaded"
    REQUEST_CLOSED = "request.closed"
    OUTPUT_SUBMITTED = "output.submitted"
    OUTPUT_REVIEWED = "output.reviewed"
    OUTPUT_APPROVED = "output.approved"
    OUTPUT_REFUSED = "output.refused"
    OUTPUT_PART_ENDED = "output.part_ended"
    OUTPUT_DOWNLOADED = "output.downloaded"
    # Renewal and amendment (portal/workflow/amending.py): opened by the researcher, in
    # force when the new edition's last party signs, or ended without effect.
    AMENDMENT_OPENED = "amendment.opened"
    AMENDMENT_IN_FORCE = "amendment.in_force"
    AMENDMENT_ENDED = "amendment.ended"
    USER_CREATED = "user.created"
    TOKEN_CREATED = "token.created"  # noqa: S105 (an event name, not a secret)
    TOKEN_REVOKED = "token.revoked"  # noqa: S105
    POLICY_LOADED = "policy.loaded"
    RULES_CHANGED = "rules.changed"
    PROPOSAL_MADE = "proposal.made"
    PROPOSAL_VOTED = "proposal.voted"
    PROPOSAL_WITHDRAWN = "proposal.withdrawn"
    PROPOSAL_REJECTED = "proposal.rejected"
    NATION_REGISTERED = "nation.registered"
    NATION_ADMITTED = "nation.admitted"
    NATION_PROFILE_CHANGED = "nation.profile_changed"
    NATION_RECORD_DOWNLOADED = "nation.record_downloaded"
    DATASET_REGISTERED = "dataset.registered"
    ROLE_GRANTED = "role.granted"
    ROLE_REVOKED = "role.revoked"
    USER_DEACTIVATED = "user.deactivated"
    USER_REACTIVATED = "user.reactivated"
    DATASET_CHANGED = "dataset.changed"
    DATASET_LABELLED = "dataset.labelled"
    DATASET_LABEL_REMOVED = "dataset.label_removed"
    DELIVERY_RETRIED = "delivery.retried"
    INVITATION_SENT = "invitation.sent"
    INVITATION_ACCEPTED = "invitation.accepted"
    INVITATION_REVOKED = "invitation.revoked"
    INVITATION_REFUSED = "invitation.refused"
    USER_SIGNED_IN = "user.signed_in"
    USER_SIGN_IN_FAILED = "user.sign_in_failed"
    USER_SIGNED_OUT = "user.signed_out"
    USER_SESSIONS_ENDED = "user.sessions_ended"
    PASSWORD_RESET_REQUESTED = "password.reset_requested"  # noqa: S105 (an event name)
    PASSWORD_RESET = "password.reset"  # noqa: S105
    PASSWORD_CHANGED = "password.changed"  # noqa: S105
    TWO_FACTOR_ENABLED = "two_factor.enabled"
    TWO_FACTOR_DISABLED = "two_factor.disabled"
    TWO_FACTOR_RESET = "two_factor.reset"
    RECOVERY_CODE_USED = "two_factor.recovery_code_used"

    @property
    def words(self) -> str:
        """What happened, as a timeline says it, in the language spoken now."""
        return str(_WORDS[self])

    @property
    def audience(self) -> Audience:
        return _AUDIENCE.get(self, Audience.PUBLIC)

    @property
    def names_actor(self) -> bool:
        """Whether everyone who reads the event reads who did it. Not so for steps
        people take for a Nation (its stewards' and representatives' names are its
        own) nor for downloads, which anyone concerned may make."""
        return self not in _ACTOR_PRIVATE


_WORDS = {
    EventType.REQUEST_CREATED: _l("Draft started"),
    EventType.REQUEST_EDITED: _l("Draft edited"),
    EventType.REQUEST_SUBMITTED: _l("Submitted"),
    EventType.REQUEST_RETURNED: _l("Returned to the researcher by screening"),
    EventType.REQUEST_SCREENED: _l("Accepted by screening for the Nations' review"),
    EventType.REQUEST_WITHDRAWN: _l("Withdrawn by the researcher"),
    EventType.REQUEST_CHANGES_REQUESTED: _l("Changes requested by a Nation"),
    EventType.REVIEW_RECORDED: _l("Steward review recorded"),
    EventType.DECISION_APPROVED: _l("Approved by a Nation"),
    EventType.DECISION_REFUSED: _l("Refused by a Nation"),
    EventType.TRACK_ENDED: _l("A Nation's part ended: the revision no longer uses its data"),
    EventType.REQUEST_REVOKED: _l("Revoked by a Nation"),
    EventType.AGREEMENT_SIGNED: _l("Agreement signed"),
    EventType.AGREEMENT_DOWNLOADED: _l("Agreement downloaded"),
    EventType.REQUEST_EXPIRED: _l("Expired at the end of the agreement's term"),
    EventType.MESSAGE_POSTED: _l("Message in a conversation"),
    EventType.REMINDER_SENT: _l("A reminder went out: a step has waited long"),
    EventType.OBLIGATION_REPORTED: _l("The researcher reported on an obligation"),
    EventType.OBLIGATION_ASSESSED: _l("A Nation assessed an obligation"),
    EventType.OBLIGATION_FILE_DOWNLOADED: _l("The file of a report on an obligation downloaded"),
    EventType.REQUEST_ENDED: _l(
        "Access ended early by the researcher: destruction attestation due"
    ),
    EventType.DESTRUCTION_ATTESTED: _l("Destruction attested and signed by the researcher"),
    EventType.DESTRUCTION_ACKNOWLEDGED: _l("A Nation answered the destruction attestation"),
    EventType.ATTESTATION_DOWNLOADED: _l("Destruction attestation downloaded"),
    EventType.REQUEST_CLOSED: _l("Closed: every Nation acknowledged the destruction attestation"),
    EventType.OUTPUT_SUBMITTED: _l("Output submitted for review before publication"),
    EventType.OUTPUT_REVIEWED: _l("Steward review of an output recorded"),
    EventType.OUTPUT_APPROVED: _l("A Nation approved an output's publication"),
    EventType.OUTPUT_REFUSED: _l("A Nation refused an output's publication"),
    EventType.OUTPUT_PART_ENDED: _l(
        "A Nation's part in an output ended: the request no longer uses its data"
    ),
    EventType.OUTPUT_DOWNLOADED: _l("Output downloaded"),
    EventType.AMENDMENT_OPENED: _l("Renewal or amendment opened by the researcher"),
    EventType.AMENDMENT_IN_FORCE: _l("New agreement edition in force: the previous one superseded"),
    EventType.AMENDMENT_ENDED: _l("Renewal or amendment ended without effect"),
    EventType.USER_CREATED: _l("Login created"),
    EventType.TOKEN_CREATED: _l("API token created"),
    EventType.TOKEN_REVOKED: _l("API token revoked"),
    EventType.POLICY_LOADED: _l("Governance rules loaded"),
    EventType.RULES_CHANGED: _l("Governance rules changed: a new version is in force"),
    EventType.PROPOSAL_MADE: _l("A change to the portal-wide rules was proposed"),
    EventType.PROPOSAL_VOTED: _l("A member Nation answered a proposed change to the rules"),
    EventType.PROPOSAL_WITHDRAWN: _l("A proposed change to the rules was withdrawn"),
    EventType.PROPOSAL_REJECTED: _l("A proposed change to the rules was rejected"),
    EventType.NATION_REGISTERED: _l("Nation registered"),
    EventType.NATION_ADMITTED: _l("A Nation was admitted as a member by the member Nations"),
    EventType.NATION_PROFILE_CHANGED: _l("Governance profile changed"),
    EventType.NATION_RECORD_DOWNLOADED: _l("The Nation's record downloaded"),
    EventType.DATASET_REGISTERED: _l("Dataset registered"),
    EventType.ROLE_GRANTED: _l("Role granted"),
    EventType.ROLE_REVOKED: _l("Role taken away"),
    EventType.USER_DEACTIVATED: _l("Login deactivated"),
    EventType.USER_REACTIVATED: _l("Login reactivated"),
    EventType.DATASET_CHANGED: _l("Dataset changed"),
    EventType.DATASET_LABELLED: _l("A Nation attached a TK or BC Label or Notice to a dataset"),
    EventType.DATASET_LABEL_REMOVED: _l(
        "A Nation removed a TK or BC Label or Notice from a dataset"
    ),
    EventType.DELIVERY_RETRIED: _l("A notice to a data custodian sent again"),
    EventType.INVITATION_SENT: _l("Invitation sent"),
    EventType.INVITATION_ACCEPTED: _l("Invitation accepted"),
    EventType.INVITATION_REVOKED: _l("Invitation revoked"),
    EventType.INVITATION_REFUSED: _l("Invitation link refused: expired, used or revoked"),
    EventType.USER_SIGNED_IN: _l("Signed in"),
    EventType.USER_SIGN_IN_FAILED: _l("A sign-in failed"),
    EventType.USER_SIGNED_OUT: _l("Signed out: every session ended"),
    EventType.USER_SESSIONS_ENDED: _l("Every other session ended"),
    EventType.PASSWORD_RESET_REQUESTED: _l("A password reset link was asked for"),
    EventType.PASSWORD_RESET: _l("Password set from a reset link"),
    EventType.PASSWORD_CHANGED: _l("Password changed"),
    EventType.TWO_FACTOR_ENABLED: _l("Two-factor sign-in set up"),
    EventType.TWO_FACTOR_DISABLED: _l("Two-factor sign-in turned off"),
    EventType.TWO_FACTOR_RESET: _l("Two-factor sign-in reset by an administrator"),
    EventType.RECOVERY_CODE_USED: _l("A recovery code was used to sign in"),
}

# A person's sign-ins, passwords and second factor concern no request and no Nation;
# should one ever be shown beside a request, it reads as its kind and time only.
ACCOUNT_EVENTS = frozenset(
    {
        EventType.USER_SIGNED_IN,
        EventType.USER_SIGN_IN_FAILED,
        EventType.USER_SIGNED_OUT,
        EventType.USER_SESSIONS_ENDED,
        EventType.USER_DEACTIVATED,
        EventType.PASSWORD_RESET_REQUESTED,
        EventType.PASSWORD_RESET,
        EventType.PASSWORD_CHANGED,
        EventType.TWO_FACTOR_ENABLED,
        EventType.TWO_FACTOR_DISABLED,
        EventType.TWO_FACTOR_RESET,
        EventType.RECOVERY_CODE_USED,
    }
)

_AUDIENCE = {
    **dict.fromkeys(ACCOUNT_EVENTS, Audience.INTERNAL),
    EventType.REVIEW_RECORDED: Audience.INTERNAL,
    EventType.REQUEST_CHANGES_REQUESTED: Audience.SENT,
    EventType.DECISION_APPROVED: Audience.SENT,
    EventType.DECISION_REFUSED: Audience.SENT,
    EventType.REQUEST_REVOKED: Audience.SENT,
    # A report goes to the Nation owed it; the Nation's assessment (its comment) stays
    # its own: the researcher reads the outcome on the request page (invariant 9).
    EventType.OBLIGATION_REPORTED: Audience.SENT,
    # The file is the researcher's and the Nation owed's to read: so is who read it.
    EventType.OBLIGATION_FILE_DOWNLOADED: Audience.SENT,
    EventType.OBLIGATION_ASSESSED: Audience.INTERNAL,
    # Whether a Nation acknowledged or asked for more, and why, is between it and the
    # researcher (invariant 9); others read that a Nation answered.
    EventType.DESTRUCTION_ACKNOWLEDGED: Audience.SENT,
    # A message's readers are its thread's (portal/transparency/privacy.py asks the
    # policy who reads the thread); a reader that does not ask keeps it to the Nations.
    EventType.MESSAGE_POSTED: Audience.INTERNAL,
    # An output's reviews are its Nation's deliberation; its decision and reasons are
    # sent to the researcher (invariant 9).
    EventType.OUTPUT_REVIEWED: Audience.INTERNAL,
    EventType.OUTPUT_APPROVED: Audience.SENT,
    EventType.OUTPUT_REFUSED: Audience.SENT,
}

_ACTOR_PRIVATE = ACCOUNT_EVENTS | frozenset(
    {
        EventType.REVIEW_RECORDED,
        EventType.REQUEST_CHANGES_REQUESTED,
        EventType.DECISION_APPROVED,
        EventType.DECISION_REFUSED,
        EventType.REQUEST_REVOKED,
        EventType.AGREEMENT_DOWNLOADED,
        EventType.NATION_RECORD_DOWNLOADED,
        EventType.MESSAGE_POSTED,
        EventType.OBLIGATION_ASSESSED,
        EventType.OBLIGATION_FILE_DOWNLOADED,
        EventType.DESTRUCTION_ACKNOWLEDGED,
        EventType.ATTESTATION_DOWNLOADED,
        EventType.OUTPUT_REVIEWED,
        EventType.OUTPUT_APPROVED,
        EventType.OUTPUT_REFUSED,
        EventType.OUTPUT_DOWNLOADED,
        # Ended by a Nation's refusal or completed by its signature: who acted for the
        # Nation is its own to know.
        EventType.AMENDMENT_IN_FORCE,
        EventType.AMENDMENT_ENDED,
        # Ended by the signature that put the amendment in force, as AMENDMENT_IN_FORCE.
        EventType.OUTPUT_PART_ENDED,
    }
)
