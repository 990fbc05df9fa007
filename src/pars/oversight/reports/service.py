"""Producing a report for a reader: the period, the figures, and the reading on the trail."""

from __future__ import annotations

import uuid
from datetime import date
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from pars.actors import Actor
from pars.audit import AuditAction, record_event
from pars.clock import now
from pars.oversight.reports.compliance import compliance_report, period_of
from pars.oversight.reports.period import Period
from pars.oversight.reports.render import to_csv, to_html
from pars.oversight.reports.transparency import transparency_report
from pars.sharing import agreements


class ReportFormat(StrEnum):
    JSON = "json"
    CSV = "csv"
    HTML = "html"


def compliance(
    session: Session, actor: Actor, agreement_id: uuid.UUID, *, start: str | None, end: str | None, zone: ZoneInfo
) -> dict[str, Any]:
    """One agreement's terms beside its agency's conduct; the period defaults to the agreement's
    first effective date up to now."""
    agreement = agreements.load(session, agreement_id)
    period = period_of(agreement, start, end, zone=zone, now=now(session))
    report = compliance_report(session, agreement, period, zone=zone)
    record_event(
        session, actor, AuditAction.OVERSIGHT_REPORT_READ, agreement.id,
        {"report": "compliance", **period.shown(zone), "in_breach": report["in_breach"]},
    )  # fmt: skip
    return report


def transparency(
    session: Session, actor: Actor, *, start: str | None, end: str | None, zone: ZoneInfo, form: ReportFormat
) -> tuple[dict[str, Any], str | None]:
    """The report, and its CSV or HTML text when asked for. The period defaults to the current
    year, city time, up to today."""
    instant = now(session)
    today = instant.astimezone(zone).date()
    period = Period.parse(start or date(today.year, 1, 1).isoformat(), end or today.isoformat(), zone=zone)
    report = transparency_report(session, period, zone=zone, now=instant)
    record_event(
        session, actor, AuditAction.OVERSIGHT_REPORT_READ, None,
        {"report": "transparency", **period.shown(zone), "format": str(form)},
    )  # fmt: skip
    if form == ReportFormat.CSV:
        return report, to_csv(report)
    if form == ReportFormat.HTML:
        return report, to_html(report)
    return report, None
