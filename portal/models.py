"""Every table model, imported in one place so SQLModel.metadata is complete
(for Alembic, the drift test and anyone who needs the whole schema)."""

from sqlmodel import SQLModel

from portal.agreements.models import (
    Agreement,
    AgreementSignature,
    AgreementStatus,
    AgreementVersion,
    ReadingCopy,
    SignerCredential,
)
from portal.audit.models import AuditChainHead, AuditEvent, AuditEventNation
from portal.auth.models import (
    ApiToken,
    Invitation,
    PasswordResetToken,
    RecoveryCode,
    Role,
    RoleMembership,
    User,
)
from portal.conversations.models import Channel, Message
from portal.jobs.models import FailedJob, JobSchedule
from portal.lifecycle.attestation_models import (
    AccessEnding,
    DestructionAcknowledgement,
    DestructionAttestation,
)
from portal.lifecycle.models import Obligation
from portal.lifecycle.outputs.models import (
    OutputDecision,
    OutputReview,
    OutputTrack,
    ResearchOutput,
)
from portal.notify.models import (
    CustodianDelivery,
    CustodianEndpoint,
    DeliveryAttempt,
    ExpiryNotice,
    OutboxMessage,
    Reminder,
)
from portal.policy.models import PolicyRule, PolicyVersion
from portal.registry.models import Dataset, DatasetNation, Framework, Nation
from portal.requests.models import (
    AccessRequest,
    RequestDataset,
    RequestRevision,
    RequestStatus,
)
from portal.reviews.models import (
    Decision,
    NationTrack,
    Outcome,
    Recommendation,
    Review,
    TrackStatus,
)
from portal.storage.models import StoredFile

metadata = SQLModel.metadata

__all__ = [
    "AccessEnding",
    "AccessRequest",
    "Agreement",
    "AgreementSignature",
    "AgreementStatus",
    "AgreementVersion",
    "ApiToken",
    "AuditChainHead",
    "AuditEvent",
    "AuditEventNation",
    "Channel",
    "CustodianDelivery",
    "CustodianEndpoint",
    "Dataset",
    "DatasetNation",
    "Decision",
    "DeliveryAttempt",
    "DestructionAcknowledgement",
    "DestructionAttestation",
    "ExpiryNotice",
    "FailedJob",
    "Framework",
    "Invitation",
    "JobSchedule",
    "Message",
    "Nation",
    "NationTrack",
    "Obligation",
    "OutboxMessage",
    "Outcome",
    "OutputDecision",
    "OutputReview",
    "OutputTrack",
    "PasswordResetToken",
    "PolicyRule",
    "PolicyVersion",
    "ReadingCopy",
    "Recommendation",
    "RecoveryCode",
    "Reminder",
    "RequestDataset",
    "RequestRevision",
    "RequestStatus",
    "ResearchOutput",
    "Review",
    "Role",
    "RoleMembership",
    "SignerCredential",
    "StoredFile",
    "TrackStatus",
    "User",
    "metadata",
]
