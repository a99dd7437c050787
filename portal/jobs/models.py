"""The periodic jobs' own rows: when each job runs next (and who holds it now), and the
runs that failed after every retry, kept for an administrator to see and run again."""

from datetime import datetime

from sqlmodel import Field, SQLModel

from portal.db import UTCDateTime, utcnow


class JobSchedule(SQLModel, table=True):
    """One row per registered job, for the runner inside `portal serve` (no Redis): the
    lease lets one process at a time run the job, however many gunicorn workers there
    are, and ``next_run_at`` carries its interval and its retries across restarts."""

    __tablename__ = "job_schedule"

    name: str = Field(primary_key=True, max_length=64)
    next_run_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    holder: str = Field(default="", max_length=100)
    attempts: int = Field(default=0)  # failed tries of the current run, retried with backoff
    last_run_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_outcome: str = Field(default="", max_length=500)


class FailedJob(SQLModel, table=True):
    """A job run that failed every retry: never dropped, shown to administrators
    (`portal jobs list --failed`, /admin/jobs) until someone runs it again."""

    __tablename__ = "failed_job"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64, index=True)
    error: str = Field(max_length=2000)
    attempts: int
    runner: str = Field(max_length=16)  # "inline" (inside serve) or "rq" (portal worker)
    failed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    retried_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
