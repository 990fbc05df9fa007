"""The audit trail. Every action anywhere in PARS is written through ``record_event``."""

from pars.audit.actions import AuditAction, Outcome
from pars.audit.service import record_event

__all__ = ["AuditAction", "Outcome", "record_event"]
