"""Every table model, imported in one place so SQLModel.metadata is complete
(for Alembic, the drift test and anyone who needs the whole schema)."""

from sqlmodel import SQLModel

from portal.auth.models import ApiToken, Role, RoleMembership, User
from portal.registry.models import Dataset, DatasetNation, Framework, Nation
from portal.requests.models import (
    AccessRequest,
    RequestDataset,
    RequestRevision,
    RequestStatus,
)

metadata = SQLModel.metadata

__all__ = [
    "AccessRequest",
    "ApiToken",
    "Dataset",
    "DatasetNation",
    "Framework",
    "Nation",
    "RequestDataset",
    "RequestRevision",
    "RequestStatus",
    "Role",
    "RoleMembership",
    "User",
    "metadata",
]
