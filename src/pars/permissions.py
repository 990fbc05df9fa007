"""Roles and the actions each may take (CONTRACT §2). Anything not granted here is refused."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    BOOKING = "booking"
    CHARGING = "charging"
    MAGISTRATE = "magistrate"
    GOVERNANCE = "governance"
    OVERSIGHT = "oversight"
    PARTNER = "partner"


class Permission(StrEnum):
    MANAGE_PRINCIPALS = "manage_principals"
    LIST_AGENCIES = "list_agencies"
    READ_RECORDS = "read_records"
    CREATE_ARREST = "create_arrest"
    DECIDE_CHARGES = "decide_charges"
    ARRAIGN = "arraign"
    SEAL = "seal"
    READ_DOCKET = "read_docket"
    COMMIT = "commit"
    RELEASE = "release"
    READ_AUDIT = "read_audit"
    VERIFY_AUDIT = "verify_audit"
    READ_DISCLOSURES = "read_disclosures"
    READ_CHECKPOINT = "read_checkpoint"
    READ_AGREEMENTS = "read_agreements"
    GOVERN_AGREEMENTS = "govern_agreements"
    FILE_DETAINERS = "file_detainers"
    READ_FEED = "read_feed"
    SUBSCRIBE_FEED = "subscribe_feed"
    READ_ALERTS = "read_alerts"
    REVIEW_ALERTS = "review_alerts"
    READ_REPORTS = "read_reports"
    REGISTER_CASES = "register_cases"
    READ_CASES = "read_cases"
    READ_COMPLAINTS = "read_complaints"
    RECORD_COMPLAINTS = "record_complaints"
    PREVIEW_IMPACT = "preview_impact"


CITY_ROLES = frozenset(Role) - {Role.PARTNER}

_ALL = frozenset(Role)

ROLE_PERMISSIONS: dict[Permission, frozenset[Role]] = {
    Permission.MANAGE_PRINCIPALS: frozenset({Role.ADMIN}),
    Permission.LIST_AGENCIES: _ALL,
    # "Admin cannot read records": administration and data access are separate duties.
    Permission.READ_RECORDS: _ALL - {Role.ADMIN},
    Permission.CREATE_ARREST: frozenset({Role.BOOKING}),
    Permission.DECIDE_CHARGES: frozenset({Role.CHARGING}),
    Permission.ARRAIGN: frozenset({Role.MAGISTRATE}),
    Permission.SEAL: frozenset({Role.MAGISTRATE}),
    Permission.READ_DOCKET: frozenset({Role.MAGISTRATE}),
    Permission.COMMIT: frozenset({Role.BOOKING}),
    Permission.RELEASE: frozenset({Role.BOOKING}),
    Permission.READ_AUDIT: frozenset({Role.OVERSIGHT}),
    Permission.VERIFY_AUDIT: frozenset({Role.OVERSIGHT}),
    Permission.READ_DISCLOSURES: frozenset({Role.OVERSIGHT}),
    # Anyone may hold the trail to its published checkpoint; that is what publishing means.
    Permission.READ_CHECKPOINT: _ALL,
    # A partner reads only its own agency's agreements (the service filters).
    Permission.READ_AGREEMENTS: frozenset({Role.GOVERNANCE, Role.OVERSIGHT, Role.PARTNER}),
    # Propose, amend, vote, suspend, terminate; voting and suspending also need a stakeholder agency.
    Permission.GOVERN_AGREEMENTS: frozenset({Role.GOVERNANCE}),
    Permission.FILE_DETAINERS: frozenset({Role.PARTNER}),
    # The feed is the partner's own stream; the gate decides what of it may leave.
    Permission.READ_FEED: frozenset({Role.PARTNER}),
    Permission.SUBSCRIBE_FEED: frozenset({Role.PARTNER}),
    # Oversight reads alerts and reports; marking an alert reviewed is the one change it may make.
    Permission.READ_ALERTS: frozenset({Role.OVERSIGHT}),
    Permission.REVIEW_ALERTS: frozenset({Role.OVERSIGHT}),
    Permission.READ_REPORTS: frozenset({Role.OVERSIGHT}),
    # A partner registers and closes its own agency's cases; the cases explain its lookups.
    Permission.REGISTER_CASES: frozenset({Role.PARTNER}),
    # Governance and oversight read every agency's cases, a partner its own (the service filters).
    Permission.READ_CASES: frozenset({Role.GOVERNANCE, Role.OVERSIGHT, Role.PARTNER}),
    # Complaints about partner agencies are oversight's own record (issue 16): it reads them and
    # records them and their outcome, a change to its own files, never to a record or agreement.
    Permission.READ_COMPLAINTS: frozenset({Role.OVERSIGHT}),
    Permission.RECORD_COMPLAINTS: frozenset({Role.OVERSIGHT}),
    # What a proposed agreement version would cover: for those who vote on it and those who watch.
    Permission.PREVIEW_IMPACT: frozenset({Role.GOVERNANCE, Role.OVERSIGHT}),
}


def allows(roles: frozenset[Role], permission: Permission) -> bool:
    return bool(roles & ROLE_PERMISSIONS[permission])
