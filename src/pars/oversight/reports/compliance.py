"""The compliance report (CONTRACT §10): one agreement's terms beside what its agency did in a
period, and each term broken, with the audit entries that show it.

The agreement's history is read from evidence, not from its current state: the versions and
their windows from the agreement, suspensions and lifts from the audit trail. Which entries
break which term is the list ``BREACH_TERMS`` below (docs/oversight.md explains each).
"""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from pars.actions import AuditAction
from pars.audit.models import AuditEntry
from pars.oversight import alerts as alert_service
from pars.oversight.alerts import ReviewOutcome
from pars.oversight.models import Alert
from pars.oversight.reports.period import Period, Row, stream_entries
from pars.oversight.rules import PROTECTED_PROBE, Severity
from pars.records.fields import ALWAYS_PRESENT
from pars.sharing.grants import Grant, compile_agreement
from pars.sharing.models import Agreement, AgreementVersion
from pars.sharing.vocabulary import Refused

QUERIES = (str(AuditAction.ARREST_READ), str(AuditAction.ARREST_SEARCH))
UNEXPLAINED = "unexplained"
UNEXPLAINED_REGISTERED = "unexplained_registered"
ACTIONS = (*QUERIES, str(AuditAction.FEED_DELIVER))
MAX_EVIDENCE = 5000
# The rules that judge what a search asked for and under which case: their alerts stand against the
# stated purposes at any severity (docs/oversight.md, "purpose limitation").
PURPOSE_RULES = ("demographic_skew", "refused_sweep", "case_reference_churn")
# Refusals that are evidence for the purpose-limitation question (what was asked, not what left).
PURPOSE_REFUSALS = (str(Refused.AMBIGUOUS), str(Refused.UNREGISTERED_CASE), str(Refused.TOO_BROAD))

BREACH_TERMS = {
    "in_force": "records leave only while a version is in force (approved, within its window, not suspended, "
    "not terminated), under that version",
    "fields": "each record carries only the fields the version grants",
    "purposes": "each request states one of the version's purposes",
    "channels": "records leave only through the version's channels",
    "require_case_reference": "each query names a case when the version requires it",
    "require_registered_case": "each query names an open case the agency registered when the version requires it",
    "daily_query_limit": "no query is answered beyond the version's daily limit",
    "protected_fields": "no search by protected or other record fields (CONTRACT §5)",
    "purpose_limitation": "the data is used only for the stated purposes: broken while a high-severity misuse "
    "alert, or an alert of demographic_skew, refused_sweep or case_reference_churn, stands unreviewed or reviewed "
    "without being dismissed, or any alert is confirmed",
}


@dataclass(frozen=True)
class _Suspension:
    start: datetime
    end: datetime | None


def period_of(agreement: Agreement, start: str | None, end: str | None, *, zone: ZoneInfo, now: datetime) -> Period:
    """Defaults: from the first version's effective date to the end of today, city time."""
    first = min(v.effective_from for v in agreement.versions)
    return Period.parse(start or first.isoformat(), end or now.astimezone(zone).date().isoformat(), zone=zone)


def compliance_report(session: Session, agreement: Agreement, period: Period, *, zone: ZoneInfo) -> dict[str, Any]:
    plan = compile_agreement(agreement)
    grants = [g for g in plan.grants if g.starts < period.end and g.ends > period.start]
    versions = {v.version: v for v in agreement.versions}
    suspensions = _suspensions(session, agreement.id)
    agency, agreement_id = agreement.agency.code, str(agreement.id)

    queries = refusals = disclosures = 0
    by_reason: Counter[str] = Counter()
    by_field: Counter[str] = Counter()
    purposes: Counter[str] = Counter()
    cases: Counter[str] = Counter()
    with_case = without_case = 0
    # Seqs of what bears on the stated purposes: refused searches by reason, unexplained lookups.
    indicators: dict[str, list[int]] = {name: [] for name in (*PURPOSE_REFUSALS, UNEXPLAINED, UNEXPLAINED_REGISTERED)}
    per_day: dict[str, list[Row]] = defaultdict(list)
    broken: dict[str, list[int]] = defaultdict(list)

    for row in stream_entries(session, period, actions=ACTIONS, agencies=[agency]):
        details = row.details
        if details.get("agreement_id", agreement_id) != agreement_id:
            continue  # the agency's requests under another of its agreements
        if row.action not in QUERIES and "agreement_id" not in details:
            continue  # a release notice, owed under a judicial warrant, not under this agreement
        if row.action in QUERIES:
            queries += 1
            purposes[details.get("purpose") or "unstated"] += 1
            per_day[row.at.astimezone(zone).date().isoformat()].append(row)
            if not row.ok:
                refusals += 1
                by_reason[details.get("reason") or "unknown"] += 1
                if details.get("reason") == PROTECTED_PROBE:
                    broken["protected_fields"].append(row.seq)
                _note_purpose(row, indicators)
                continue
        records = details.get("records") or []
        if not row.ok or details.get("type") == "withdrawal":
            continue
        disclosures += len(records)
        for name in details.get("fields") or []:
            by_field[name] += len(records)
        if row.action in QUERIES:
            case = (details.get("case_reference") or "").strip()
            with_case, without_case = with_case + bool(case), without_case + (not case)
            if case:
                cases[case] += 1
            _note_purpose(row, indicators)
        for term in _terms_broken(row, versions, _in_force(grants, suspensions, row.at)):
            broken[term].append(row.seq)

    quota = _quota(per_day, grants, suspensions, broken)
    alerts = alert_service.alerts_in(session, start=period.start, end=period.end, agency=agency)
    standing = [a for a in alerts if _breaks_purpose(a)]
    if standing:
        broken["purpose_limitation"] = sorted({s for a in standing for s in a.evidence})
    purpose_evidence = _purpose_evidence(indicators, alerts, standing)
    breaches = [_breach(term, seqs, standing, purpose_evidence) for term, seqs in broken.items() if seqs]
    return {
        "agreement_id": agreement_id,
        "agency": agency,
        "terms": [_terms(versions[g.version], g, zone) for g in grants],
        "period": period.shown(zone),
        "queries": queries,
        "disclosures": disclosures,
        "refusals": refusals,
        "refusals_by_reason": dict(sorted(by_reason.items())),
        "disclosures_by_field": dict(sorted(by_field.items())),
        "purposes": dict(sorted(purposes.items())),
        "case_references": {"with": with_case, "without": without_case, "distinct": len(cases)},
        "quota": quota,
        "alerts": len(alerts),
        "alerts_by_rule": dict(sorted(Counter(a.rule for a in alerts).items())),
        "alerts_open": sum(a.reviewed_at is None for a in alerts),
        "purpose_limitation_evidence": purpose_evidence,
        "breaches": sorted(breaches, key=lambda b: list(BREACH_TERMS).index(b["term"])),
        "in_breach": bool(breaches),
    }


def _breaks_purpose(alert: Alert) -> bool:
    if alert.review_outcome == ReviewOutcome.CONFIRMED:
        return True
    serious = alert.severity == Severity.HIGH or alert.rule in PURPOSE_RULES
    return serious and alert.review_outcome != ReviewOutcome.DISMISSED


def _note_purpose(row: Row, indicators: dict[str, list[int]]) -> None:
    """A query refused for what it asked (ambiguous, too broad, an unregistered case), or an
    answered lookup under a case reference whose people match no subject of that case (or under a
    reference that is no registered case: the audit's ``case.explained`` is false). Lawful work
    does either now and then (a common name, a subject not yet registered): these are counted as
    evidence for the purpose question; the rules judge them against the agency's norm."""
    details = row.details
    if not row.ok:
        if details.get("reason") in indicators:
            indicators[details["reason"]].append(row.seq)
        return
    looked_up = details.get("case")
    if details.get("records") and isinstance(looked_up, dict) and not looked_up.get("explained", False):
        indicators[UNEXPLAINED].append(row.seq)
        if looked_up.get("registered"):
            indicators[UNEXPLAINED_REGISTERED].append(row.seq)


def _purpose_evidence(indicators: dict[str, list[int]], alerts: list[Alert], standing: list[Alert]) -> dict[str, Any]:
    """What bears on "used only for the stated purposes", with the audit seqs of each kind:
    searches refused as ambiguous, as too broad, for an unregistered case; answered lookups their
    case does not explain; the alerts by rule (the three purpose rules always shown)."""
    counts = Counter(a.rule for a in alerts)
    by_rule = {rule: counts.get(rule, 0) for rule in PURPOSE_RULES} | dict(counts)
    names = {
        str(Refused.AMBIGUOUS): "ambiguous_refusals",
        str(Refused.UNREGISTERED_CASE): "unregistered_case_refusals",
        str(Refused.TOO_BROAD): "too_broad_refusals",
        UNEXPLAINED: "unexplained_lookups",
        UNEXPLAINED_REGISTERED: "unexplained_under_registered_case",
    }
    return {
        **{names[kind]: len(seqs) for kind, seqs in indicators.items()},
        "alerts_by_rule": dict(sorted(by_rule.items())),
        "standing_alerts": len(standing),
        "evidence": {names[kind]: seqs[:MAX_EVIDENCE] for kind, seqs in indicators.items()},
    }


def _in_force(grants: list[Grant], suspensions: list[_Suspension], at: datetime) -> Grant | None:
    if any(s.start <= at and (s.end is None or at < s.end) for s in suspensions):
        return None
    for grant in reversed(grants):  # newest approval first, as the gate decides
        if grant.starts <= at < grant.ends:
            return grant
    return None


def _terms_broken(row: Row, versions: dict[int, AgreementVersion], grant: Grant | None) -> list[str]:
    details = row.details
    version = versions.get(details.get("agreement_version", -1))
    if grant is None or version is None or grant.version != version.version:
        return ["in_force"]
    terms = []
    if set(details.get("fields") or []) - set(ALWAYS_PRESENT) - set(version.fields):
        terms.append("fields")
    if details.get("purpose") not in version.purposes:
        terms.append("purposes")
    if details.get("channel") not in version.channels:
        terms.append("channels")
    query = row.action in QUERIES
    if query and version.require_case_reference and not (details.get("case_reference") or "").strip():
        terms.append("require_case_reference")
    if query and version.require_registered_case and not (details.get("case") or {}).get("registered", False):
        terms.append("require_registered_case")
    return terms


def _quota(
    per_day: dict[str, list[Row]], grants: list[Grant], suspensions: list[_Suspension], broken: dict[str, list[int]]
) -> dict[str, Any]:
    """Queries per city day against the limit in force that day; an answer beyond it breaks it."""
    busiest, over = 0, []
    for day, rows in per_day.items():
        busiest = max(busiest, len(rows))
        grant = _in_force(grants, suspensions, rows[0].at)
        limit = None if grant is None else grant.daily_query_limit
        if limit is not None and len(rows) > limit:
            over.append(day)
            broken["daily_query_limit"].extend(r.seq for r in sorted(rows, key=lambda r: (r.at, r.seq))[limit:] if r.ok)
    limits = sorted({g.daily_query_limit for g in grants if g.daily_query_limit is not None})
    return {"limits": limits, "busiest_day": busiest, "days_over_limit": sorted(over)}


def _suspensions(session: Session, agreement_id: uuid.UUID) -> list[_Suspension]:
    """From the trail: each ``agreement.suspend`` until the ``agreement.lift`` after it."""
    c = AuditEntry.__table__.c
    rows = session.execute(
        select(c.at, c.action)
        .where(
            c.target == str(agreement_id),
            c.action.in_([str(AuditAction.AGREEMENT_SUSPEND), str(AuditAction.AGREEMENT_LIFT)]),
            c.outcome == "ok",
        )
        .order_by(c.seq)
    )
    spans: list[_Suspension] = []
    for at, action in rows:
        if action == AuditAction.AGREEMENT_SUSPEND:
            spans.append(_Suspension(at, None))
        elif spans and spans[-1].end is None:
            spans[-1] = _Suspension(spans[-1].start, at)
    return spans


def _terms(version: AgreementVersion, grant: Grant, zone: ZoneInfo) -> dict[str, Any]:
    """The version as GET /agreements shows it, and when it was actually in force."""
    return {
        "version": version.version, "status": version.status, "title": version.title,
        "document_ref": version.document_ref, "effective_from": version.effective_from.isoformat(),
        "expires_at": version.expires_at.isoformat(), "purposes": version.purposes, "channels": version.channels,
        "fields": version.fields, "scope": version.scope, "require_case_reference": version.require_case_reference,
        "require_registered_case": version.require_registered_case, "daily_query_limit": version.daily_query_limit,
        "in_force_from": grant.starts.astimezone(zone).isoformat(),
        "in_force_until": grant.ends.astimezone(zone).isoformat(),
    }  # fmt: skip


def _breach(term: str, seqs: list[int], standing: list[Alert], purpose: dict[str, Any]) -> dict[str, Any]:
    evidence = sorted(set(seqs))
    count = len(evidence)
    summaries = {
        "in_force": f"{count} disclosures when no version was in force, or under another version than the one in force",
        "fields": f"{count} disclosures carried fields the version does not grant",
        "purposes": f"{count} disclosures under a purpose the version does not name",
        "channels": f"{count} disclosures through a channel the version does not allow",
        "require_case_reference": f"{count} queries answered without the case reference the version requires",
        "require_registered_case": f"{count} queries answered under a reference that names no registered open case",
        "daily_query_limit": f"{count} queries answered beyond the daily limit",
        "protected_fields": f"{count} attempts to search by protected or other record fields",
    }
    breach: dict[str, Any] = {"term": term, "rule": BREACH_TERMS[term], "evidence": evidence[:MAX_EVIDENCE]}
    if term == "purpose_limitation":
        by_rule = Counter(a.rule for a in standing)
        rules = ", ".join(f"{n} {rule}" for rule, n in sorted(by_rule.items()))
        unreviewed = sum(a.reviewed_at is None for a in standing)
        reviewed = len(standing) - unreviewed
        breach["summary"] = (
            f"{len(standing)} misuse alerts stand against the stated purposes ({rules}): "
            f"{unreviewed} not yet reviewed, {reviewed} reviewed and not dismissed; "
            f"{purpose['ambiguous_refusals']} searches refused as ambiguous, "
            f"{purpose['unregistered_case_refusals']} for an unregistered case, "
            f"{purpose['unexplained_lookups']} lookups their case does not explain"
        )
        breach["alerts"] = [str(a.id) for a in standing]
        evidence_by_rule: dict[str, set[int]] = defaultdict(set)
        for alert in standing:
            evidence_by_rule[alert.rule].update(alert.evidence)
        breach["evidence_by_rule"] = {
            rule: sorted(found)[:MAX_EVIDENCE] for rule, found in sorted(evidence_by_rule.items())
        }
        breach["indicators"] = purpose["evidence"]
    else:
        breach["summary"] = summaries[term]
    return breach
