"""The audit trail. Every action anywhere in PARS is written through ``record_event``; every
record that leaves for a partner is also accounted for through ``record_disclosure``."""

from pars.actions import AuditAction, Outcome
from pars.audit.disclosures import record_disclosure
from pars.audit.service import record_event

__all__ = ["AuditAction", "Outcome", "record_disclosure", "record_event"]
