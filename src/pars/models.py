"""Imports every feature's tables so the metadata is complete (for Alembic and tests)."""

from pars.audit.models import AuditCheckpoint, AuditEntry, AuditHead, Disclosure
from pars.auth.models import Agency, ApiKey, User
from pars.db import Base
from pars.feed.outbox import OutboxEvent
from pars.records.models import Arrest, Charge, Counter, Person
from pars.sharing.models import Agreement, AgreementVersion, DetainerRequest, LiftVote, Vote

metadata = Base.metadata

__all__ = [
    "Agency", "Agreement", "AgreementVersion", "ApiKey", "Arrest", "AuditCheckpoint", "AuditEntry", "AuditHead",
    "Charge", "Counter", "DetainerRequest", "Disclosure", "LiftVote", "OutboxEvent", "Person", "User", "Vote",
    "metadata",
]  # fmt: skip
