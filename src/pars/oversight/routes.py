"""The oversight API (CONTRACT §10): alerts, their review, the compliance and transparency
reports. Role `oversight` only; every read and every review is itself on the audit trail."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import HTMLResponse, JSONResponse, Response

from pars.actors import Actor
from pars.api.deps import API_PREFIX, Cursor, Limit, SessionDep, get_settings
from pars.auth.deps import require
from pars.oversight import alerts, complaints, impact
from pars.oversight.complaint_schemas import ComplaintIn, ComplaintOut, ComplaintPage, OutcomeIn
from pars.oversight.complaints import ComplaintFilter, ComplaintOutcome, NewComplaint
from pars.oversight.impact_schemas import ImpactOut
from pars.oversight.reports import service as reports
from pars.oversight.reports.service import ReportFormat
from pars.oversight.rules import Severity
from pars.oversight.schemas import AlertOut, AlertPage, ComplianceOut, ReviewIn, TransparencyOut
from pars.pagination import DEFAULT_LIMIT, parse_limit
from pars.permissions import Permission
from pars.settings import Settings

router = APIRouter(prefix=API_PREFIX, tags=["oversight"])

SettingsDep = Annotated[Settings, Depends(get_settings)]
From = Annotated[str | None, Query(alias="from", description="date (city time, inclusive) or instant")]
To = Annotated[str | None, Query(alias="to", description="date (city time, inclusive) or instant (exclusive)")]


@router.get("/oversight/alerts", response_model=AlertPage)
def list_alerts(
    session: SessionDep,
    actor: Annotated[Actor, Depends(require(Permission.READ_ALERTS))],
    settings: SettingsDep,
    agency: str | None = None,
    rule: str | None = None,
    start: From = None,
    end: To = None,
    reviewed: bool | None = None,
    severity: Severity | None = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> AlertPage:
    """Newest window first; `from`/`to` select alerts whose window overlaps the period."""
    filters = alerts.AlertFilter(agency, rule, start, end, reviewed, severity)
    page = alerts.list_alerts(session, actor, filters, zone=settings.zone, limit=parse_limit(limit), cursor=cursor)
    return AlertPage(
        items=[AlertOut.model_validate(alerts.describe(a)) for a in page.items], next_cursor=page.next_cursor
    )


@router.get("/oversight/alerts/{alert_id}", response_model=AlertOut)
def get_alert(
    session: SessionDep, actor: Annotated[Actor, Depends(require(Permission.READ_ALERTS))], alert_id: uuid.UUID
) -> AlertOut:
    return AlertOut.model_validate(alerts.describe(alerts.get_alert(session, actor, alert_id)))


@router.post("/oversight/alerts/{alert_id}/review", response_model=AlertOut)
def review_alert(
    session: SessionDep,
    actor: Annotated[Actor, Depends(require(Permission.REVIEW_ALERTS))],
    alert_id: uuid.UUID,
    body: ReviewIn,
) -> AlertOut:
    """Marks the alert reviewed, with a note and an outcome; once only (then 409)."""
    alert = alerts.review_alert(session, actor, alert_id, note=body.note, outcome=body.outcome)
    return AlertOut.model_validate(alerts.describe(alert))


@router.post("/oversight/complaints", response_model=ComplaintOut, status_code=201)
def record_complaint(
    session: SessionDep,
    actor: Annotated[Actor, Depends(require(Permission.RECORD_COMPLAINTS))],
    body: ComplaintIn,
) -> ComplaintOut:
    """Records an open complaint about a partner agency. Complainant and text are kept for
    oversight only: the trail keeps their lengths, the public page counts complaints."""
    data = NewComplaint(complainant=body.complainant, received_at=body.received_at, agency=body.agency, text=body.text)
    return ComplaintOut.model_validate(complaints.as_record(complaints.record_complaint(session, actor, data)),
                                       from_attributes=True)  # fmt: skip


@router.get("/oversight/complaints", response_model=ComplaintPage)
def list_complaints(
    session: SessionDep,
    actor: Annotated[Actor, Depends(require(Permission.READ_COMPLAINTS))],
    settings: SettingsDep,
    agency: str | None = None,
    outcome: ComplaintOutcome | None = None,
    start: From = None,
    end: To = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> ComplaintPage:
    """Newest received first; `from`/`to` bound the day received (city time, inclusive)."""
    filters = ComplaintFilter(agency=agency, outcome=outcome, start=start, end=end)
    page = complaints.list_complaints(
        session, actor, filters, zone=settings.zone, limit=parse_limit(limit), cursor=cursor
    )
    items = [ComplaintOut.model_validate(complaints.as_record(c), from_attributes=True) for c in page.items]
    return ComplaintPage(items=items, next_cursor=page.next_cursor)


@router.get("/oversight/complaints/{complaint_id}", response_model=ComplaintOut)
def get_complaint(
    session: SessionDep,
    actor: Annotated[Actor, Depends(require(Permission.READ_COMPLAINTS))],
    complaint_id: uuid.UUID,
) -> ComplaintOut:
    complaint = complaints.get_complaint(session, actor, complaint_id)
    return ComplaintOut.model_validate(complaints.as_record(complaint), from_attributes=True)


@router.post("/oversight/complaints/{complaint_id}/outcome", response_model=ComplaintOut)
def complaint_outcome(
    session: SessionDep,
    actor: Annotated[Actor, Depends(require(Permission.RECORD_COMPLAINTS))],
    complaint_id: uuid.UUID,
    body: OutcomeIn,
) -> ComplaintOut:
    """Sets the outcome (open, substantiated, not_substantiated, withdrawn) with a note; it may
    change again later, and every change is on the audit trail."""
    complaint = complaints.set_outcome(session, actor, complaint_id, outcome=body.outcome, note=body.note)
    return ComplaintOut.model_validate(complaints.as_record(complaint), from_attributes=True)


@router.get("/agreements/{agreement_id}/versions/{version}/impact", response_model=ImpactOut, tags=["agreements"])
def impact_preview(
    session: SessionDep,
    actor: Annotated[Actor, Depends(require(Permission.PREVIEW_IMPACT))],
    settings: SettingsDep,
    agreement_id: uuid.UUID,
    version: int,
    start: Annotated[str | None, Query(alias="from", description="date, city time, inclusive")] = None,
    end: Annotated[str | None, Query(alias="to", description="date, city time, inclusive")] = None,
) -> dict[str, Any]:
    """What version n would have covered in the period (default: the last 365 days, today
    included), as counts only: arrests its scope admits (never sealed), people, records per
    field, the disparate-impact table, and against the version in force the difference and what
    the agency received under it. Lives beside the reports it reuses (oversight depends on
    sharing, not the reverse)."""
    return impact.preview(session, actor, agreement_id, version, start=start, end=end, zone=settings.zone)


@router.get("/reports/compliance/{agreement_id}", response_model=ComplianceOut)
def compliance_report(
    session: SessionDep,
    actor: Annotated[Actor, Depends(require(Permission.READ_REPORTS))],
    settings: SettingsDep,
    agreement_id: uuid.UUID,
    start: From = None,
    end: To = None,
) -> dict[str, Any]:
    """The agreement's terms in the period beside what its agency did, and each term broken,
    with the audit entries that show it. The period defaults to the agreement's whole life."""
    return reports.compliance(session, actor, agreement_id, start=start, end=end, zone=settings.zone)


PAGE_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'"
TRANSPARENCY_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "model": TransparencyOut,
        "content": {"text/csv": {"schema": {"type": "string"}}, "text/html": {"schema": {"type": "string"}}},
        "description": "JSON, or one CSV row per agency and month, or a printable HTML page with charts",
    }
}


@router.get("/reports/transparency", response_model=None, responses=TRANSPARENCY_RESPONSES)
def transparency_report(
    session: SessionDep,
    actor: Annotated[Actor, Depends(require(Permission.READ_REPORTS))],
    settings: SettingsDep,
    start: From = None,
    end: To = None,
    form: Annotated[ReportFormat, Query(alias="format")] = ReportFormat.JSON,
) -> Response:
    """Per partner agency and month: queries, refusals, records and people disclosed, fields,
    purposes, alerts, detainer requests; and the disparate-impact table. The period defaults to
    the current year up to today (city time)."""
    report, text = reports.transparency(session, actor, start=start, end=end, zone=settings.zone, form=form)
    if form == ReportFormat.HTML:
        # The page draws everything itself: a browser may load nothing else for it.
        return HTMLResponse(text, headers={"Content-Security-Policy": PAGE_POLICY})
    if form == ReportFormat.CSV:
        name = f"transparency-{report['period']['from'][:10]}-{report['period']['to'][:10]}.csv"
        return Response(
            text,
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    return JSONResponse(TransparencyOut.model_validate(report).model_dump(mode="json", by_alias=True))
