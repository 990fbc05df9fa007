"""Alerts: raised by the scanner from the rules' findings, listed and reviewed by oversight
(CONTRACT §10). Raising is idempotent by key; reading and reviewing are audited."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pars.actors import SYSTEM, Actor
from pars.audit import AuditAction, record_event
from pars.audit.periods import parse_bound
from pars.clock import now
from pars.errors import Conflict, Invalid, NotFound
from pars.oversight.models import Alert
from pars.oversight.rules import RULE_NAMES, SEVERITY_ORDER, Context, Finding, Rule, Severity, TallyState
from pars.pagination import Page, keyset_page

_BATCH = 500


class ReviewOutcome(StrEnum):
    CONFIRMED = "confirmed"  # the reviewer found misuse
    DISMISSED = "dismissed"  # the reviewer found a lawful explanation
    NOTED = "noted"  # reviewed, no finding either way


def settle(session: Session, context: Context, touched: Sequence[tuple[Rule, TallyState]]) -> tuple[int, int]:
    """Judges every window the batch touched; raises an alert for each new finding and updates
    the alert of a window judged before. Returns (raised, updated)."""
    findings = []
    for rule, state in touched:
        finding = rule.judge(state, context)
        if finding is not None:
            findings.append((rule, state, finding))
    if not findings:
        return 0, 0
    keys = [state.key for _, state, _ in findings]
    existing: dict[str, Alert] = {}
    for first in range(0, len(keys), _BATCH):
        for alert in session.scalars(select(Alert).where(Alert.key.in_(keys[first : first + _BATCH]))):
            existing[alert.key] = alert
    instant, cap = now(session), context.settings.oversight_max_evidence
    raised = updated = 0
    for rule, state, finding in findings:
        evidence = sorted(finding.evidence)[:cap]
        details = {**finding.details, "entries_counted": state.count, "evidence_total": len(finding.evidence)}
        found = existing.get(state.key)
        if found is None:
            _raise(session, rule, state, finding, evidence, details, instant)
            raised += 1
        elif found.evidence != evidence or found.summary != finding.summary:
            # More of the same window: the same alert, with the evidence seen so far. Severity
            # only rises: what a reviewer was shown as high stays high.
            if SEVERITY_ORDER[finding.severity] > SEVERITY_ORDER[Severity(found.severity)]:
                found.severity = str(finding.severity)
            found.summary, found.evidence, found.details, found.updated_at = finding.summary, evidence, details, instant
            updated += 1
    return raised, updated


def _raise(
    session: Session,
    rule: Rule,
    state: TallyState,
    finding: Finding,
    evidence: list[int],
    details: dict[str, Any],
    instant: datetime,
) -> None:
    user = state.subject or finding.user or state.sole_user
    # The id is made here, not at flush, so the batch's alerts are written in one flush.
    alert = Alert(
        id=uuid.uuid4(),
        key=state.key, rule=rule.name, agency=state.agency, user_id=uuid.UUID(user) if user else None,
        severity=str(finding.severity), window_start=state.window.start, window_end=state.window.end,
        summary=finding.summary, evidence=evidence, details=details, raised_at=instant, updated_at=instant,
    )  # fmt: skip
    session.add(alert)
    record_event(
        session, SYSTEM, AuditAction.OVERSIGHT_ALERT_RAISE, alert.id,
        {"rule": rule.name, "agency": state.agency, "severity": alert.severity,
         "window_start": state.window.start.isoformat(), "evidence": len(evidence)},
    )  # fmt: skip


@dataclass(frozen=True)
class AlertFilter:
    agency: str | None = None
    rule: str | None = None
    start: str | None = None
    end: str | None = None
    reviewed: bool | None = None
    severity: Severity | None = None


def list_alerts(
    session: Session, actor: Actor, filters: AlertFilter, *, zone: ZoneInfo, limit: int, cursor: str | None
) -> Page[Alert]:
    """Newest window first. ``from``/``to`` select the alerts whose window overlaps the period."""
    query = select(Alert)
    if filters.rule is not None:
        if filters.rule not in RULE_NAMES:
            raise Invalid.one("rule", f"must be one of {', '.join(RULE_NAMES)}")
        query = query.where(Alert.rule == filters.rule)
    if filters.agency is not None:
        query = query.where(Alert.agency == filters.agency)
    if filters.start is not None:
        query = query.where(Alert.window_end > parse_bound(filters.start, zone=zone, field="from", end=False))
    if filters.end is not None:
        query = query.where(Alert.window_start < parse_bound(filters.end, zone=zone, field="to", end=True))
    if filters.reviewed is not None:
        query = query.where(Alert.reviewed_at.is_not(None) if filters.reviewed else Alert.reviewed_at.is_(None))
    if filters.severity is not None:
        query = query.where(Alert.severity == str(filters.severity))
    page: Page[Alert] = keyset_page(
        session, query, at=Alert.window_start, ident=Alert.id, limit=limit, cursor=cursor, newest_first=True
    )
    shown = {k: v for k, v in vars(filters).items() if v is not None}
    record_event(
        session, actor, AuditAction.OVERSIGHT_ALERTS_READ, None,
        {"filters": {k: str(v) for k, v in shown.items()}, "results": len(page.items)},
    )  # fmt: skip
    return page


def get_alert(session: Session, actor: Actor, alert_id: uuid.UUID) -> Alert:
    alert = session.get(Alert, alert_id)
    if alert is None:
        raise NotFound("no such alert")
    record_event(session, actor, AuditAction.OVERSIGHT_ALERTS_READ, alert.id, {"results": 1})
    return alert


def review_alert(session: Session, actor: Actor, alert_id: uuid.UUID, *, note: str, outcome: ReviewOutcome) -> Alert:
    """Marks the alert reviewed, once: a second review is 409, so the first reviewer's note is
    never overwritten (a further finding belongs in a new note on the trail, not over the old)."""
    alert = session.scalars(select(Alert).where(Alert.id == alert_id).with_for_update()).first()
    if alert is None:
        raise NotFound("no such alert")
    if alert.reviewed_at is not None:
        raise Conflict("the alert has already been reviewed")
    alert.reviewed_at, alert.reviewed_by = now(session), actor.user_id
    alert.review_note, alert.review_outcome = note, str(outcome)
    record_event(
        session, actor, AuditAction.OVERSIGHT_ALERT_REVIEW, alert.id,
        {"rule": alert.rule, "agency": alert.agency, "outcome": str(outcome), "note_length": len(note)},
    )  # fmt: skip
    return alert


def alerts_in(session: Session, *, start: datetime, end: datetime, agency: str | None = None) -> list[Alert]:
    """Alerts whose window overlaps [start, end), for the reports (their reads are audited there)."""
    query = select(Alert).where(Alert.window_start < end, Alert.window_end > start)
    if agency is not None:
        query = query.where(Alert.agency == agency)
    return list(session.scalars(query.order_by(Alert.window_start, Alert.id)))


def describe(alert: Alert) -> dict[str, Any]:
    """The alert as CONTRACT §10 shows it, plus its review."""
    review = None
    if alert.reviewed_at is not None:
        review = {"at": alert.reviewed_at, "by": alert.reviewed_by, "note": alert.review_note,
                  "outcome": alert.review_outcome}  # fmt: skip
    return {
        "id": alert.id, "rule": alert.rule, "agency": alert.agency, "user": alert.user_id,
        "severity": alert.severity, "window_start": alert.window_start, "window_end": alert.window_end,
        "summary": alert.summary, "evidence": alert.evidence, "reviewed": alert.reviewed_at is not None,
        "review": review, "raised_at": alert.raised_at, "details": alert.details,
    }  # fmt: skip


def unreviewed(session: Session) -> tuple[int, int]:
    """How many alerts wait for review, and how many of those are of high severity."""
    open_alerts = select(Alert.severity).where(Alert.reviewed_at.is_(None)).subquery()
    high = func.count().filter(open_alerts.c.severity == str(Severity.HIGH))
    count, highs = session.execute(select(func.count(), high).select_from(open_alerts)).one()
    return int(count), int(highs)
