"""The vocabulary of the audit trail (CONTRACT §10); the README lists every action."""

from __future__ import annotations

from enum import StrEnum


class Outcome(StrEnum):
    OK = "ok"
    REFUSED = "refused"
    ERROR = "error"


class AuditAction(StrEnum):
    AUTH_FAILED = "auth.failed"
    # Authenticated, but the role does not allow the action.
    AUTH_DENIED = "auth.denied"

    ADMIN_AGENCY_CREATE = "admin.agency_create"
    ADMIN_AGENCY_LIST = "admin.agency_list"
    ADMIN_USER_CREATE = "admin.user_create"
    ADMIN_KEY_ISSUE = "admin.key_issue"
    ADMIN_KEY_REVOKE = "admin.key_revoke"
    SYSTEM_INIT = "admin.system_init"

    ARREST_CREATE = "arrest.create"
    ARREST_READ = "arrest.read"
    ARREST_SEARCH = "arrest.search"
    ARREST_CHARGING_DECISION = "arrest.charging_decision"
    ARREST_ARRAIGNMENT = "arrest.arraignment"
    ARREST_COMMITMENT = "arrest.commitment"
    ARREST_RELEASE = "arrest.release"
    ARREST_SEAL = "arrest.seal"
    ARREST_DOCKET = "arrest.docket_read"
