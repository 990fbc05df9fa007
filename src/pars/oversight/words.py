"""The oversight module's codes as the pages say them (issue 15): alert rules and findings, audit
outcomes and actions, complaint outcomes. The API keeps the codes; only pages use these."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment

from pars.sharing import words as sharing_words
from pars.sharing.words import plain

RULES: dict[str, str] = {
    "no_case_reference": "no case reference",
    "broad_search": "broad search",
    "protected_field_probe": "search by a protected field",
    "volume_spike": "sudden rise in queries",
    "off_hours_bulk": "many lookups at night",
    "outside_scope_probe": "requests outside the agreement",
    "repeated_person_lookup": "same person looked up again and again",
    "demographic_skew": "searches skewed by race or ethnicity",
    "refused_sweep": "many refused searches",
    "case_reference_churn": "many different case references",
}

# The compliance report's terms: a name and what each asks, in words (`reports.compliance.BREACH_TERMS`).
TERMS: dict[str, tuple[str, str]] = {
    "in_force": ("Agreement in force", "records leave only while a version is in force (approved, within its "
                 "dates, not suspended, not terminated), under that version"),
    "fields": ("Fields granted", "each record carries only the fields the version grants"),
    "purposes": ("Purposes", "each request states one of the version's purposes"),
    "channels": ("Channels", "records leave only through the version's channels"),
    "require_case_reference": ("Case reference", "each query names a case when the version requires it"),
    "require_registered_case": ("Registered case", "each query names an open case the agency registered, when "
                                "the version requires it"),
    "daily_query_limit": ("Daily query limit", "no query is answered beyond the version's daily limit"),
    "protected_fields": ("Protected fields", "no search by a protected field or by any other field of the record "
                         "that searches do not offer"),
    "purpose_limitation": ("Purpose limitation", "the data is used only for the stated purposes: broken while a "
                           "high-severity misuse alert, or an alert of skewed searches, many refused searches or "
                           "many different case references, stands unreviewed or reviewed without being "
                           "dismissed, or any alert is confirmed"),
}  # fmt: skip

SEVERITIES = {"high": "High", "medium": "Medium", "low": "Low"}

FINDINGS = {
    "noted": "Noted: no finding",
    "confirmed": "Confirmed: misuse",
    "dismissed": "Dismissed: lawful explanation",
}

OUTCOMES = {"ok": "Done", "refused": "Refused", "error": "Failed"}

# The areas of the trail's actions, and the words of the actions whose code says too little.
AREAS = {
    "auth": "Sign-in",
    "admin": "Administration",
    "audit": "Audit trail",
    "arrest": "Arrest records",
    "agreement": "Agreements",
    "case": "Partner cases",
    "detainer": "Detainers",
    "feed": "Real-time feed",
    "oversight": "Oversight",
}
ACTIONS = {
    "auth.failed": "sign-in failed",
    "auth.denied": "access denied",
    "auth.succeeded": "access granted",
    "auth.locked": "account locked",
    "auth.sign_in": "signed in",
    "auth.totp_enrol": "set up a one-time code",
    "auth.sign_out": "signed out",
    "admin.agency_create": "agency added",
    "admin.agency_list": "agencies listed",
    "admin.user_create": "user added",
    "admin.key_issue": "API key issued",
    "admin.key_revoke": "API key revoked",
    "admin.password_set": "password set",
    "admin.system_init": "system set up",
    "audit.read": "trail read",
    "audit.verify": "trail verified",
    "audit.checkpoint_read": "checkpoint read",
    "audit.disclosures_read": "disclosures read",
    "audit.export": "trail exported",
    "arrest.create": "arrest booked",
    "arrest.read": "record read",
    "arrest.search": "records searched",
    "arrest.charging_decision": "charging decision",
    "arrest.arraignment": "arraignment",
    "arrest.commitment": "committed to jail",
    "arrest.release": "released",
    "arrest.seal": "record sealed",
    "arrest.docket_read": "docket read",
    "agreement.propose": "agreement proposed",
    "agreement.amend": "amendment proposed",
    "agreement.vote": "vote cast",
    "agreement.approve": "version approved",
    "agreement.reject": "version rejected",
    "agreement.suspend": "agreement suspended",
    "agreement.lift_vote": "vote to lift a suspension",
    "agreement.lift": "suspension lifted",
    "agreement.terminate": "agreement terminated",
    "agreement.read": "agreement read",
    "agreement.impact_preview": "impact preview read",
    "case.register": "case registered",
    "case.close": "case closed",
    "case.read": "case read",
    "detainer.file": "detainer request filed",
    "detainer.read": "detainer read",
    "feed.read": "feed read",
    "feed.deliver": "event delivered",
    "feed.withhold": "event withheld",
    "feed.subscribe": "webhook subscribed",
    "feed.unsubscribe": "webhook unsubscribed",
    "feed.subscription_read": "webhook subscriptions read",
    "feed.subscription_disable": "webhook disabled",
    "feed.replay": "feed replayed",
    "oversight.scan": "detectors run",
    "oversight.alert_raise": "alert raised",
    "oversight.alerts_read": "alerts read",
    "oversight.alert_review": "alert reviewed",
    "oversight.report_read": "report read",
    "oversight.complaint_record": "complaint recorded",
    "oversight.complaint_outcome": "complaint outcome set",
    "oversight.complaints_read": "complaints read",
}

# Keys of an audit entry's details, in words (others: their words, `plain`).
DETAIL_KEYS = {
    "reason": "Reason",
    "purpose": "Purpose",
    "case_reference": "Case reference",
    "filters": "Searched by",
    "parameters": "Searched by",
    "count": "Records",
    "results": "Results",
    "fields": "Fields",
    "channel": "Channel",
    "agreement_id": "Agreement",
    "agreement_version": "Agreement version",
    "tracking_number": "Tracking number",
    "persons": "People matched",
    "rule": "Rule",
    "severity": "Severity",
    "outcome": "Outcome",
    "status": "Status",
}


def rule(code: str) -> str:
    return RULES.get(code, plain(code).lower())


def action(code: str) -> str:
    """`arrest.search` → "Arrest records: records searched"."""
    area = AREAS.get(code.partition(".")[0], plain(code.partition(".")[0]))
    return f"{area}: {ACTIONS.get(code, plain(code.partition('.')[2]).lower())}"


def outcome(code: str) -> str:
    return OUTCOMES.get(code, plain(code))


def _value(key: str, value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None:
        return "none"
    if isinstance(value, dict):
        return "; ".join(f"{_key(k)}: {_value(k, v)}" for k, v in value.items()) or "none"
    if isinstance(value, list):
        return ", ".join(_value(key, v) for v in value) or "none"
    say = _SAID.get(key)
    return say(str(value)) if say else sharing_words.said(str(value))


_SAID: dict[str, Callable[[str], str]] = {
    "purpose": sharing_words.purpose,
    "purposes": sharing_words.purpose,
    "channels": sharing_words.channel,
    "statuses": sharing_words.status,
    "reason": sharing_words.refusal,
    "rule": rule,
    "fields": sharing_words.field,
    "parameters": sharing_words.field,
    "channel": sharing_words.channel,
    "status": sharing_words.status,
    "from_status": sharing_words.status,
    "to_status": sharing_words.status,
}


def _key(key: str) -> str:
    return DETAIL_KEYS.get(key, sharing_words.field(key) if "." in key else plain(key))


def details(value: dict[str, Any] | None) -> list[tuple[str, str]]:
    """An audit entry's details as "key: value" lines in words (never the raw JSON)."""
    return [(_key(k), _value(k, v)) for k, v in sorted((value or {}).items())]


def moment(value: datetime, zone: ZoneInfo) -> str:
    """An instant as a person says it: "4 Dec, 14:02"."""
    shown = value.astimezone(zone)
    return f"{shown.day} {shown:%b}, {shown:%H:%M}"


def install(env: Environment) -> None:
    sharing_words.install(env)
    env.filters.update({"rule_words": rule, "action_words": action, "outcome_words": outcome})
