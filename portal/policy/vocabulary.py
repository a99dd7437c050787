"""The words policy lines may use: actions, the wildcard domain, and the rules
about actions that the sovereignty invariants fix (ARCHITECTURE.md 1, 2 and 5).

The policy files may give actions to roles and attach conditions to actions, but
`portal policy check` refuses files that break what is fixed here, so a typo or
an over-generous line cannot make a coordinator decide for a Nation.
"""

import enum

from flask_babel import lazy_gettext as _l
from flask_babel import pgettext

from portal.auth.models import Role

# The domain of portal-wide roles, and of policy lines that apply in every Nation.
WILDCARD = "*"


class Scope(enum.Enum):
    NATION = "nation"  # asked in one Nation's domain: authorize(..., nation=X)
    PORTAL = "portal"  # asked portal-wide: authorize(...) without a Nation
    EITHER = "either"


class Action(enum.StrEnum):
    VIEW = "view"
    CREATE = "create"
    EDIT = "edit"
    SUBMIT = "submit"
    WITHDRAW = "withdraw"
    SCREEN = "screen"
    REVIEW = "review"
    APPROVE = "approve"
    REFUSE = "refuse"
    SIGN = "sign"
    REVOKE = "revoke"
    MANAGE_PROFILE = "manage_profile"
    VIEW_RECORD = "view_record"
    VIEW_DASHBOARD = "view_dashboard"
    MANAGE_REGISTRY = "manage_registry"
    MANAGE_USERS = "manage_users"
    INVITE = "invite"
    INVITE_MEMBER = "invite_member"
    # Conversations on a request: one action per kind of thread (portal/workflow/messaging.py).
    MESSAGE_COORDINATORS = "message_coordinators"
    MESSAGE_NATION = "message_nation"
    DISCUSS = "discuss"
    # The governance rules in force and their history, in words (portal/rules/routes.py).
    READ_RULES = "read_rules"
    # Portal-wide rules are the members' (portal/workflow/proposals.py): proposed as a
    # change set, in force once the member Nations approve.
    PROPOSE_RULES = "propose_rules"
    VOTE_ON_RULES = "vote_on_rules"
    # The background jobs and mail that failed every retry: see them and run them again.
    MANAGE_JOBS = "manage_jobs"
    # An active request's obligations (portal/workflow/obligations.py): the researcher
    # reports, the Nation's people assess, and only its representative waives one.
    REPORT_OBLIGATION = "report_obligation"
    ASSESS_OBLIGATION = "assess_obligation"
    WAIVE_OBLIGATION = "waive_obligation"
    # The custodians' entitlement notices (portal/workflow/deliveries.py): read their
    # delivery log (portal-wide, or for one Nation's datasets) and send one again.
    VIEW_DELIVERIES = "view_deliveries"
    RETRY_DELIVERY = "retry_delivery"
    # The end of access (portal/workflow/ending.py): the researcher closes early and
    # attests destruction; each Nation concerned acknowledges or asks for more.
    CLOSE = "close"
    ATTEST_DESTRUCTION = "attest_destruction"
    ACKNOWLEDGE_DESTRUCTION = "acknowledge_destruction"
    # Outputs before publication (portal/workflow/outputs.py): the researcher submits;
    # each asking Nation's stewards review and its representative decides.
    SUBMIT_OUTPUT = "submit_output"
    REVIEW_OUTPUT = "review_output"
    DECIDE_OUTPUT = "decide_output"
    # Renewal and amendment of an active request (portal/workflow/amending.py): the
    # researcher opens one; it is screened, reviewed and decided afresh like a revision.
    RENEW = "renew"
    AMEND = "amend"
    # A Nation marks the datasets holding its data with Local Contexts TK and BC Labels
    # and Notices, in its community's own words (portal/workflow/labels.py).
    LABEL_DATASETS = "label_datasets"

    @property
    def scope(self) -> Scope:
        return _SCOPES.get(self, Scope.EITHER)

    @property
    def phrase(self) -> str:
        """What the action is, completing "Only a coordinator may ...", in the language
        spoken (English for the API and outside a request)."""
        return str(_PHRASES[self])

    def phrase_for(self, nation: str) -> str:
        """The phrase with the Nation it is done for named where it says "it" ("review
        for Red Cedar", "manage their Nation's governance profile"): ``nation`` is a
        Nation's name or words such as "their Nation", in the language spoken."""
        named = _NATION_PHRASES.get(self)
        return str(named) % {"nation": nation} if named is not None else self.phrase

    @property
    def name_words(self) -> str:
        """The action's name as a verb ("approve", "review output"), in the language
        spoken: the name a policy line gives it, said in words."""
        return action_name(self.value)


_SCOPES = {
    Action.REVIEW: Scope.NATION,
    Action.APPROVE: Scope.NATION,
    Action.REFUSE: Scope.NATION,
    Action.REVOKE: Scope.NATION,
    Action.MANAGE_PROFILE: Scope.NATION,
    Action.VIEW_RECORD: Scope.NATION,
    Action.CREATE: Scope.PORTAL,
    Action.VIEW_DASHBOARD: Scope.PORTAL,
    Action.MANAGE_REGISTRY: Scope.PORTAL,
    Action.MANAGE_USERS: Scope.PORTAL,
    Action.MANAGE_JOBS: Scope.PORTAL,
    Action.INVITE: Scope.PORTAL,
    Action.INVITE_MEMBER: Scope.NATION,
    Action.MESSAGE_COORDINATORS: Scope.PORTAL,
    Action.MESSAGE_NATION: Scope.NATION,
    Action.DISCUSS: Scope.NATION,
    Action.VOTE_ON_RULES: Scope.NATION,
    Action.ASSESS_OBLIGATION: Scope.NATION,
    Action.WAIVE_OBLIGATION: Scope.NATION,
    Action.ACKNOWLEDGE_DESTRUCTION: Scope.NATION,
    Action.REVIEW_OUTPUT: Scope.NATION,
    Action.DECIDE_OUTPUT: Scope.NATION,
    Action.LABEL_DATASETS: Scope.NATION,
}

# "for it" is the Nation named in the sentence ("a representative of X may approve for it").
_PHRASES = {
    Action.VIEW: _l("view requests"),
    Action.CREATE: _l("create requests"),
    Action.EDIT: _l("edit requests"),
    Action.SUBMIT: _l("submit requests"),
    Action.WITHDRAW: _l("withdraw requests"),
    Action.SCREEN: _l("screen requests"),
    Action.REVIEW: _l("review for it"),
    Action.APPROVE: _l("approve for it"),
    Action.REFUSE: _l("refuse for it"),
    Action.SIGN: _l("sign agreements"),
    Action.REVOKE: _l("revoke access for it"),
    Action.MANAGE_PROFILE: _l("manage its governance profile"),
    Action.VIEW_RECORD: _l("read its record"),
    Action.VIEW_DASHBOARD: _l("see the coordinators' dashboard"),
    Action.MANAGE_REGISTRY: _l("manage the registry"),
    Action.MANAGE_USERS: _l("manage users"),
    Action.INVITE: _l("invite people to the portal"),
    Action.INVITE_MEMBER: _l("invite its stewards and representatives"),
    Action.MESSAGE_COORDINATORS: _l(
        "take part in the researcher's conversation with the coordinators"
    ),
    Action.MESSAGE_NATION: _l("take part in the researcher's conversation with it"),
    Action.DISCUSS: _l("take part in its own discussion of a request"),
    Action.READ_RULES: _l("read the rules in force and their history"),
    Action.PROPOSE_RULES: _l("propose changes to the portal-wide rules"),
    Action.VOTE_ON_RULES: _l("answer proposed changes to the portal-wide rules for it"),
    Action.MANAGE_JOBS: _l("see and retry the background jobs and mail that failed"),
    Action.REPORT_OBLIGATION: _l("report on the obligations of their requests"),
    Action.ASSESS_OBLIGATION: _l("assess the obligations owed to it"),
    Action.WAIVE_OBLIGATION: _l("waive an obligation owed to it"),
    Action.VIEW_DELIVERIES: _l("read the log of notices to data custodians"),
    Action.RETRY_DELIVERY: _l("send a notice to a data custodian again"),
    Action.CLOSE: _l("end their access early"),
    Action.ATTEST_DESTRUCTION: _l("attest the destruction of the data"),
    Action.ACKNOWLEDGE_DESTRUCTION: _l("acknowledge a destruction attestation for it"),
    Action.SUBMIT_OUTPUT: _l("submit outputs for review before publication"),
    Action.REVIEW_OUTPUT: _l("review outputs before publication for it"),
    Action.DECIDE_OUTPUT: _l("approve or refuse the publication of outputs for it"),
    Action.RENEW: _l("ask to renew their active requests"),
    Action.AMEND: _l("ask to amend their active requests"),
    Action.LABEL_DATASETS: _l("attach TK and BC Labels and Notices to its datasets"),
}

# The same phrases with the Nation named: "%(nation)s" is a Nation's name, "their Nation"
# or "a Nation" (portal/transparency/rulewords.py says a policy line with them).
_NATION_PHRASES = {
    Action.REVIEW: _l("review for %(nation)s"),
    Action.APPROVE: _l("approve for %(nation)s"),
    Action.REFUSE: _l("refuse for %(nation)s"),
    Action.REVOKE: _l("revoke access for %(nation)s"),
    Action.MANAGE_PROFILE: _l("manage %(nation)s's governance profile"),
    Action.VIEW_RECORD: _l("read %(nation)s's record"),
    Action.INVITE_MEMBER: _l("invite %(nation)s's stewards and representatives"),
    Action.MESSAGE_NATION: _l("take part in the researcher's conversation with %(nation)s"),
    Action.DISCUSS: _l("take part in %(nation)s's own discussion of a request"),
    Action.VOTE_ON_RULES: _l("answer proposed changes to the portal-wide rules for %(nation)s"),
    Action.ASSESS_OBLIGATION: _l("assess the obligations owed to %(nation)s"),
    Action.WAIVE_OBLIGATION: _l("waive an obligation owed to %(nation)s"),
    Action.ACKNOWLEDGE_DESTRUCTION: _l("acknowledge a destruction attestation for %(nation)s"),
    Action.REVIEW_OUTPUT: _l("review outputs before publication for %(nation)s"),
    Action.DECIDE_OUTPUT: _l("approve or refuse the publication of outputs for %(nation)s"),
    Action.LABEL_DATASETS: _l("attach TK and BC Labels and Notices to %(nation)s's datasets"),
}


def action_name(name: str) -> str:
    """A policy line's action (``approve``, ``review_output``) as a verb, in the language
    spoken; an action this portal does not know, as it is written."""
    names = {
        Action.VIEW: pgettext("policy action", "view"),
        Action.CREATE: pgettext("policy action", "create"),
        Action.EDIT: pgettext("policy action", "edit"),
        Action.SUBMIT: pgettext("policy action", "submit"),
        Action.WITHDRAW: pgettext("policy action", "withdraw"),
        Action.SCREEN: pgettext("policy action", "screen"),
        Action.REVIEW: pgettext("policy action", "review"),
        Action.APPROVE: pgettext("policy action", "approve"),
        Action.REFUSE: pgettext("policy action", "refuse"),
        Action.SIGN: pgettext("policy action", "sign"),
        Action.REVOKE: pgettext("policy action", "revoke"),
        Action.MANAGE_PROFILE: pgettext("policy action", "manage profile"),
        Action.VIEW_RECORD: pgettext("policy action", "view record"),
        Action.VIEW_DASHBOARD: pgettext("policy action", "view dashboard"),
        Action.MANAGE_REGISTRY: pgettext("policy action", "manage registry"),
        Action.MANAGE_USERS: pgettext("policy action", "manage users"),
        Action.INVITE: pgettext("policy action", "invite"),
        Action.INVITE_MEMBER: pgettext("policy action", "invite member"),
        Action.MESSAGE_COORDINATORS: pgettext("policy action", "message coordinators"),
        Action.MESSAGE_NATION: pgettext("policy action", "message nation"),
        Action.DISCUSS: pgettext("policy action", "discuss"),
        Action.READ_RULES: pgettext("policy action", "read rules"),
        Action.PROPOSE_RULES: pgettext("policy action", "propose rules"),
        Action.VOTE_ON_RULES: pgettext("policy action", "vote on rules"),
        Action.MANAGE_JOBS: pgettext("policy action", "manage jobs"),
        Action.REPORT_OBLIGATION: pgettext("policy action", "report obligation"),
        Action.ASSESS_OBLIGATION: pgettext("policy action", "assess obligation"),
        Action.WAIVE_OBLIGATION: pgettext("policy action", "waive obligation"),
        Action.VIEW_DELIVERIES: pgettext("policy action", "view deliveries"),
        Action.RETRY_DELIVERY: pgettext("policy action", "retry delivery"),
        Action.CLOSE: pgettext("policy action", "close"),
        Action.ATTEST_DESTRUCTION: pgettext("policy action", "attest destruction"),
        Action.ACKNOWLEDGE_DESTRUCTION: pgettext("policy action", "acknowledge destruction"),
        Action.SUBMIT_OUTPUT: pgettext("policy action", "submit output"),
        Action.REVIEW_OUTPUT: pgettext("policy action", "review output"),
        Action.DECIDE_OUTPUT: pgettext("policy action", "decide output"),
        Action.RENEW: pgettext("policy action", "renew"),
        Action.AMEND: pgettext("policy action", "amend"),
        Action.LABEL_DATASETS: pgettext("policy action", "label datasets"),
    }
    return names.get(name) or name.replace("_", " ")


class Reach(enum.Enum):
    """Which requests a role reaches: the object check that goes with every grant.

    A researcher acts on the requests they filed; a steward or representative on the
    submitted requests that touch their Nation's data (or in which it took part); a
    coordinator or an administrator on every submitted request. Drafts are their
    researcher's alone. What a role may *do* there is the policy's to say.
    """

    OWN = "own"
    NATION = "nation"
    ALL = "all"


ROLE_REACH: dict[Role, Reach] = {
    Role.RESEARCHER: Reach.OWN,
    Role.STEWARD: Reach.NATION,
    Role.REPRESENTATIVE: Reach.NATION,
    Role.COORDINATOR: Reach.ALL,
    Role.ADMIN: Reach.ALL,
}

# Actions only certain roles may ever be given (invariant 1: only a Nation's
# representative decides for it; stewards, not coordinators, review). Who speaks
# for a Nation is the Nation's own choice too: only its representatives invite its
# stewards and representatives (invite_member). An administrator's portal-wide
# `invite` may appoint a Nation's first representative, and only while it has none
# (portal/workflow/invitations.py): that gives the Nation a voice, it decides
# nothing for it, and from then on the Nation's own representatives invite.
RESERVED_ACTIONS: dict[Action, frozenset[Role]] = {
    Action.APPROVE: frozenset({Role.REPRESENTATIVE}),
    Action.REFUSE: frozenset({Role.REPRESENTATIVE}),
    Action.REVOKE: frozenset({Role.REPRESENTATIVE}),
    Action.MANAGE_PROFILE: frozenset({Role.REPRESENTATIVE}),
    Action.INVITE_MEMBER: frozenset({Role.REPRESENTATIVE}),
    Action.REVIEW: frozenset({Role.STEWARD}),
    # An output's publication is decided like a request: reviewed by the Nation's
    # stewards, approved or refused by its representative, for that Nation alone.
    Action.REVIEW_OUTPUT: frozenset({Role.STEWARD}),
    Action.DECIDE_OUTPUT: frozenset({Role.REPRESENTATIVE}),
    # A Nation's own discussion is its deliberation (invariant 9): its people alone.
    Action.DISCUSS: frozenset({Role.STEWARD, Role.REPRESENTATIVE}),
    # Its record holds its deliberations too: reading it makes one of its insiders
    # (portal/transparency/privacy.py), so no portal-wide change can open it to others.
    Action.VIEW_RECORD: frozenset({Role.STEWARD, Role.REPRESENTATIVE}),
    # The portal-wide rules are the member Nations' to change: each answers a proposal
    # through its own representatives, never through a portal-wide role.
    Action.VOTE_ON_RULES: frozenset({Role.REPRESENTATIVE}),
    # Held where it is asked: an administrator proposes portal-wide, a representative
    # for its own Nation (an administrator never speaks for a Nation).
    Action.PROPOSE_RULES: frozenset({Role.ADMIN, Role.REPRESENTATIVE}),
    # Whether what a Nation asked for was done is the Nation's to judge (and its comment
    # its own deliberation, invariant 9); letting an obligation go is deciding for it.
    Action.ASSESS_OBLIGATION: frozenset({Role.STEWARD, Role.REPRESENTATIVE}),
    Action.WAIVE_OBLIGATION: frozenset({Role.REPRESENTATIVE}),
    # Whether the data came back or was destroyed as agreed is the Nation's to say.
    Action.ACKNOWLEDGE_DESTRUCTION: frozenset({Role.STEWARD, Role.REPRESENTATIVE}),
    # A Nation's labels speak for it (they become clauses of every agreement on its data):
    # its representatives attach them, never a portal-wide role.
    Action.LABEL_DATASETS: frozenset({Role.REPRESENTATIVE}),
}

# What a portal-wide role is never given, however many members approve (ARCHITECTURE.md,
# Roles; found in a probe). A researcher reaches only its own requests: nothing that reads
# or acts on everyone's (the custodians' notices, the dashboard, screening) or runs the
# portal. The administrator reaches every submitted request but, by design, sees none:
# nothing that reads or acts on a request. RESERVED_ACTIONS covers deciding for a Nation.
DENIED_ACTIONS: dict[Role, frozenset[Action]] = {
    Role.RESEARCHER: frozenset(
        {
            Action.SCREEN,
            Action.VIEW_DASHBOARD,
            Action.VIEW_DELIVERIES,
            Action.RETRY_DELIVERY,
            Action.MANAGE_REGISTRY,
            Action.MANAGE_USERS,
            Action.MANAGE_JOBS,
            Action.INVITE,
        }
    ),
    Role.ADMIN: frozenset(
        {
            Action.VIEW,
            Action.EDIT,
            Action.SUBMIT,
            Action.WITHDRAW,
            Action.SIGN,
            Action.SCREEN,
            Action.VIEW_DASHBOARD,
            Action.VIEW_DELIVERIES,
            Action.RETRY_DELIVERY,
            Action.MESSAGE_COORDINATORS,
            Action.MESSAGE_NATION,
            Action.REPORT_OBLIGATION,
            Action.CLOSE,
            Action.ATTEST_DESTRUCTION,
            Action.SUBMIT_OUTPUT,
            Action.RENEW,
            Action.AMEND,
        }
    ),
}
DENIED_BECAUSE = {
    Role.RESEARCHER: "a researcher reaches only their own requests",
    Role.ADMIN: "the administrator sees no request",
}

# No one judges their own request (invariant 10): the researcher and its team never
# review, decide or sign for a Nation on it, nor take part in its own discussion of it.
NOT_OWN_REQUEST = "not_own_request"
# ... nor screen it (screening acts for no Nation: a condition of its own).
NOT_OWN_SCREENING = "not_own_screening"

# Conditions that must apply to an action in every Nation (invariants 2, 5 and 10).
REQUIRED_CONDITIONS: dict[Action, frozenset[str]] = {
    Action.APPROVE: frozenset(
        {"quorum_met", "storage_in_jurisdiction", "term_within_limit", NOT_OWN_REQUEST}
    ),
    Action.REFUSE: frozenset({NOT_OWN_REQUEST}),
    Action.REVIEW: frozenset({NOT_OWN_REQUEST}),
    Action.SIGN: frozenset({NOT_OWN_REQUEST}),
    # Ending access is the Nation's judgement too (found in a probe: a representative on
    # the request's team could revoke it in the Nation's name, though not refuse it).
    Action.REVOKE: frozenset({NOT_OWN_REQUEST}),
    Action.DISCUSS: frozenset({NOT_OWN_REQUEST}),
    Action.SCREEN: frozenset({NOT_OWN_SCREENING}),
    Action.ASSESS_OBLIGATION: frozenset({NOT_OWN_REQUEST}),
    Action.WAIVE_OBLIGATION: frozenset({NOT_OWN_REQUEST}),
    Action.ACKNOWLEDGE_DESTRUCTION: frozenset({NOT_OWN_REQUEST}),
    Action.REVIEW_OUTPUT: frozenset({NOT_OWN_REQUEST}),
    Action.DECIDE_OUTPUT: frozenset({NOT_OWN_REQUEST}),
}

# What a Nation's own people must always be able to do, in every Nation: no rule change,
# however many members approve it, takes from a Nation its right to refuse (invariant 2),
# to revoke (6), to set its own rules, to read its record (7) or its say in the rules.
REQUIRED_GRANTS: dict[Action, frozenset[Role]] = {
    Action.REFUSE: frozenset({Role.REPRESENTATIVE}),
    Action.REVOKE: frozenset({Role.REPRESENTATIVE}),
    Action.MANAGE_PROFILE: frozenset({Role.REPRESENTATIVE}),
    Action.VIEW_RECORD: frozenset({Role.STEWARD, Role.REPRESENTATIVE}),
    Action.VOTE_ON_RULES: frozenset({Role.REPRESENTATIVE}),
    # ... and to see the requests that touch its data (without it, no refusal or
    # revocation could be reached), to invite its own people and to deliberate.
    Action.VIEW: frozenset({Role.STEWARD, Role.REPRESENTATIVE}),
    Action.INVITE_MEMBER: frozenset({Role.REPRESENTATIVE}),
    Action.DISCUSS: frozenset({Role.STEWARD, Role.REPRESENTATIVE}),
    # ... and to say, with its TK and BC Labels, how its data is to be treated.
    Action.LABEL_DATASETS: frozenset({Role.REPRESENTATIVE}),
}

# Actions that take no condition but the ones required above (invariant 2: refusal is
# always possible for the Nation; only "not your own request" stands in its way).
# The rights every Nation keeps take no condition either: a condition could take them away
# as surely as removing the line (one that needs a request fails where there is none).
UNCONDITIONAL_ACTIONS = frozenset({Action.REFUSE}) | frozenset(REQUIRED_GRANTS)

ROLE_NAMES = frozenset(role.value for role in Role)
ACTION_NAMES = frozenset(action.value for action in Action)


def subject(user_id: int) -> str:
    """The Casbin subject of a person (role names are subjects of policy lines)."""
    return f"user:{user_id}"
