"""Imports every feature's tables so the metadata is complete (for Alembic and tests)."""

from pars.audit.models import AuditEntry
from pars.auth.models import Agency, ApiKey, User
from pars.db import Base
from pars.feed.outbox import OutboxEvent
from pars.records.models import Arrest, Charge, Counter, Person

metadata = Base.metadata

__all__ = ["Agency", "ApiKey", "Arrest", "AuditEntry", "Charge", "Counter", "OutboxEvent", "Person", "User", "metadata"]
