"""Words of the sharing module: purposes, channels, version states, refusal reasons."""

from __future__ import annotations

from enum import StrEnum


class Purpose(StrEnum):
    CRIMINAL_INVESTIGATION = "criminal_investigation"
    FUGITIVE_APPREHENSION = "fugitive_apprehension"
    FIREARMS_INVESTIGATION = "firearms_investigation"
    COUNTERTERRORISM = "counterterrorism"
    PROSECUTION = "prosecution"
    PRETRIAL_SERVICES = "pretrial_services"
    # Known so that it can be refused by name (PARS_PROHIBITED_PURPOSES).
    CIVIL_IMMIGRATION_ENFORCEMENT = "civil_immigration_enforcement"


class Channel(StrEnum):
    QUERY = "query"
    FEED = "feed"


class VersionStatus(StrEnum):
    PROPOSED = "proposed"
    APPROVED = "approved"
    REJECTED = "rejected"
    SUPERSEDED = "superseded"


class Refused(StrEnum):
    """Why the gate refused; written to the audit trail as `details.reason`."""

    NO_AGREEMENT = "no_agreement_in_force"
    CHANNEL = "channel_not_permitted"
    PURPOSE = "purpose_not_permitted"
    CASE_REFERENCE = "case_reference_required"
    PARAMETER = "parameter_not_granted"
    TOO_BROAD = "search_too_broad"
    QUOTA = "daily_query_limit_reached"
    OUT_OF_SCOPE = "not_found_or_out_of_scope"
    # A search without an identifier matched more than one person: it discloses no one.
    AMBIGUOUS = "ambiguous"
    # The agreement requires a registered case and the reference names no open one.
    UNREGISTERED_CASE = "unregistered_case"
