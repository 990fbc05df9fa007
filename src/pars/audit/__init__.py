"""The audit trail. Every action anywhere in PARS is written through ``record_event``; every
record that leaves for a partner is also accounted for through ``record_disclosure`` (or, for
many batches at once, ``record_disclosures``)."""

from pars.actions import AuditAction, Outcome
from pars.audit.disclosures import Disclosed, record_disclosure, record_disclosures
from pars.audit.service import record_event

__all__ = ["AuditAction", "Disclosed", "Outcome", "record_disclosure", "record_disclosures", "record_event"]
