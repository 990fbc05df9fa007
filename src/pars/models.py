"""Imports every feature's tables so the metadata is complete (for Alembic and tests)."""

from pars.api.models import IdempotencyKey
from pars.audit.models import AuditCheckpoint, AuditEntry, AuditHead, Disclosure
from pars.auth.models import Agency, ApiKey, User
from pars.db import Base
from pars.feed.models import FeedEvent, FeedStream, Subscription, WebhookAttempt, WebhookJob
from pars.outbox.events import OutboxEvent
from pars.oversight.models import Alert, Complaint, ScanCursor, Tally
from pars.records.models import Arrest, Charge, Counter, Person
from pars.sharing.models import Agreement, AgreementVersion, DetainerRequest, LiftVote, Vote

metadata = Base.metadata

__all__ = [
    "Agency", "Agreement", "AgreementVersion", "Alert", "ApiKey", "Arrest", "AuditCheckpoint", "AuditEntry",
    "AuditHead", "Charge", "Complaint", "Counter", "DetainerRequest", "Disclosure", "FeedEvent", "FeedStream",
    "IdempotencyKey", "LiftVote", "OutboxEvent", "Person", "ScanCursor", "Subscription", "Tally", "User", "Vote",
    "WebhookAttempt", "WebhookJob", "metadata",
]  # fmt: skip
