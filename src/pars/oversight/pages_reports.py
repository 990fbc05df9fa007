"""The oversight report pages (issue 7 item 8): the compliance report of one agreement and the
transparency report with its charts, through the web session (no API key needed).

Both come from `pars.oversight.reports.service`, as over the API, so each reading is audited
(`oversight.report_read`). The transparency page embeds what the report's own renderer draws
(`reports.render.to_html`: tables and SVG charts, autoescaped) inside the site's layout; the
same page stands alone for printing, and CSV and JSON download from here too.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session

from pars.actors import Actor
from pars.api.deps import SessionDep, get_settings
from pars.clock import now
from pars.errors import DomainError, Invalid
from pars.oversight import words
from pars.oversight.models import Alert
from pars.oversight.reports import service as reports
from pars.oversight.reports.compliance import BREACH_TERMS
from pars.oversight.reports.service import ReportFormat
from pars.oversight.routes import PAGE_POLICY
from pars.oversight.schemas import TransparencyOut
from pars.permissions import Permission
from pars.settings import Settings
from pars.sharing import agreements
from pars.web.guard import allowed
from pars.web.render import page, trail_link
from pars.work import refuse

router = APIRouter(include_in_schema=False)

SettingsDep = Annotated[Settings, Depends(get_settings)]
ReportReader = Annotated[Actor, Depends(allowed(Permission.READ_REPORTS))]
From = Annotated[str, Query(alias="from")]
To = Annotated[str, Query(alias="to")]
EVIDENCE_SHOWN = 30


def _period_query(start: str, end: str) -> str:
    shown = {k: v for k, v in (("from", start), ("to", end)) if v}
    return f"?{urlencode(shown)}" if shown else ""


@router.get("/oversight/reports")
def report_index(request: Request, session: SessionDep, settings: SettingsDep, actor: ReportReader) -> HTMLResponse:
    """Every agreement, for its compliance report; and the period of a transparency report."""
    listed = agreements.listing(session, actor, limit=100, cursor=None).items
    instant = now(session)
    rows = []
    for agreement in listed:
        shown = agreements.describe(agreement, instant)
        latest = agreement.versions[-1] if agreement.versions else None
        rows.append(shown | {"title": latest.title if latest else ""})
    rows.sort(key=lambda r: (r["agency"], r["title"]))
    today = instant.astimezone(settings.zone).date()
    context = {"agreements": rows, "year_start": f"{today.year}-01-01", "today": today.isoformat()}
    return page(request, "oversight/reports.html", context)


@router.get("/oversight/reports/compliance")
def choose_compliance(actor: ReportReader, agreement: uuid.UUID, start: From = "", end: To = "") -> Response:
    """The index form's GET lands here; the report lives at the agreement's own address."""
    return RedirectResponse(f"/oversight/reports/compliance/{agreement}{_period_query(start, end)}", status_code=303)


@router.get("/oversight/reports/compliance/{agreement_id}")
def compliance(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    actor: ReportReader,
    agreement_id: uuid.UUID,
    start: From = "",
    end: To = "",
) -> HTMLResponse:
    """Each term of the agreement, kept or broken, with the audit entries that break it."""
    values = {"from": start, "to": end}
    try:
        report = reports.compliance(session, actor, agreement_id, start=start or None, end=end or None,
                                    zone=settings.zone)  # fmt: skip
    except Invalid as error:
        refuse(session, error)
        context = {"values": values, "errors": {e.field: e.message for e in error.errors}, "agreement_id": agreement_id}
        return page(request, "oversight/compliance.html", context, status=error.status)
    broken = {b["term"]: b for b in report["breaches"]}
    named = _alerts_named(session, [a for b in report["breaches"] for a in (b.get("alerts") or [])], settings)
    terms = []
    for term, asked in BREACH_TERMS.items():
        name, rule = words.TERMS.get(term, (term.replace("_", " ").capitalize(), asked))
        breach = broken.get(term)
        evidence = breach["evidence"] if breach else []
        terms.append({
            "term": term, "name": name, "rule": rule, "broken": breach is not None,
            "summary": breach["summary"] if breach else "",
            "evidence": [(seq, trail_link(seq)) for seq in evidence[:EVIDENCE_SHOWN]],
            "more": max(0, len(evidence) - EVIDENCE_SHOWN),
            "alerts": [(str(a), named.get(str(a), "an alert")) for a in (breach or {}).get("alerts") or []],
        })  # fmt: skip
    context = {"values": values, "errors": {}, "agreement_id": agreement_id, "report": report, "terms": terms}
    return page(request, "oversight/compliance.html", context)


def _alerts_named(session: Session, ids: list[Any], settings: Settings) -> dict[str, str]:
    """An alert as people name it: "alert of 4 Dec, 14:02 — broad search by ATF" (never its id)."""
    wanted = [uuid.UUID(str(i)) for i in ids]
    if not wanted:
        return {}
    rows = session.execute(select(Alert.id, Alert.rule, Alert.agency, Alert.window_start).where(Alert.id.in_(wanted)))
    return {
        str(ident): f"alert of {words.moment(start, settings.zone)} — {words.rule(rule)} by {agency}"
        for ident, rule, agency, start in rows
    }


def _transparency(
    session: Session, settings: Settings, actor: Actor, start: str, end: str, form: ReportFormat
) -> tuple[dict[str, Any], str | None]:
    return reports.transparency(session, actor, start=start or None, end=end or None, zone=settings.zone, form=form)


def _body(document: str) -> Markup:
    """The report page's body, to sit inside the site's layout: its own <style> is left behind
    (the site's stylesheet has a section for it). The renderer autoescapes every value."""
    start, end = document.find("<body>"), document.rfind("</body>")
    if start < 0 or end < 0:
        return Markup("")
    inner = document[start + len("<body>") : end]
    # The printable page's own <main> landmark: the site's layout has one already.
    inner = inner.replace("<main>", "", 1)
    cut = inner.rfind("</main>")
    if cut >= 0:
        inner = inner[:cut] + inner[cut + len("</main>") :]
    return Markup(inner)  # noqa: S704 - rendered by an autoescaping template


@router.get("/oversight/reports/transparency")
def transparency(
    request: Request, session: SessionDep, settings: SettingsDep, actor: ReportReader, start: From = "", end: To = ""
) -> HTMLResponse:
    """The report with its charts, per partner agency and month; the period defaults to this
    year up to today (city time)."""
    values = {"from": start, "to": end}
    try:
        report, document = _transparency(session, settings, actor, start, end, ReportFormat.HTML)
    except DomainError as error:
        refuse(session, error)
        errors = {e.field: e.message for e in error.errors} if isinstance(error, Invalid) else {"form": error.detail}
        return page(request, "oversight/transparency.html", {"values": values, "errors": errors}, status=error.status)
    period = {"from": report["period"]["from"][:10], "to": _last_day(report["period"]["to"], settings)}
    links = _period_query(period["from"], period["to"])
    context = {
        "values": period, "errors": {}, "report": report, "embedded": _body(document or ""),
        "links": {
            "csv": f"/oversight/reports/transparency.csv{links}",
            "json": f"/oversight/reports/transparency.json{links}",
            "print": f"/oversight/reports/transparency/print{links}",
        },
    }  # fmt: skip
    return page(request, "oversight/transparency.html", context)


def _last_day(end: str, settings: Settings) -> str:
    """The report's exclusive end as the last city day it covers (what the form shows)."""
    return (datetime.fromisoformat(end) - timedelta(microseconds=1)).astimezone(settings.zone).date().isoformat()


def _file_period(report: dict[str, Any], settings: Settings) -> str:
    """A download's dates as the page shows them: the first and the last day covered (a report to
    12-04 ends at 12-05 00:00, exclusive, but is named …-2026-12-04)."""
    first = datetime.fromisoformat(report["period"]["from"]).astimezone(settings.zone).date().isoformat()
    return f"{first}-{_last_day(report['period']['to'], settings)}"


@router.get("/oversight/reports/transparency/print")
def transparency_print(
    session: SessionDep, settings: SettingsDep, actor: ReportReader, start: From = "", end: To = ""
) -> HTMLResponse:
    """The report's own printable page, as the API serves it: it may load nothing else."""
    _, document = _transparency(session, settings, actor, start, end, ReportFormat.HTML)
    return HTMLResponse(document or "", headers={"Content-Security-Policy": PAGE_POLICY})


@router.get("/oversight/reports/transparency.csv")
def transparency_csv(
    session: SessionDep, settings: SettingsDep, actor: ReportReader, start: From = "", end: To = ""
) -> Response:
    report, text = _transparency(session, settings, actor, start, end, ReportFormat.CSV)
    name = f"transparency-{_file_period(report, settings)}.csv"
    return Response(
        text or "", media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )  # fmt: skip


@router.get("/oversight/reports/transparency.json")
def transparency_json(
    session: SessionDep, settings: SettingsDep, actor: ReportReader, start: From = "", end: To = ""
) -> Response:
    report, _ = _transparency(session, settings, actor, start, end, ReportFormat.JSON)
    name = f"transparency-{_file_period(report, settings)}.json"
    body = TransparencyOut.model_validate(report).model_dump(mode="json", by_alias=True)
    return JSONResponse(body, headers={"Content-Disposition": f'attachment; filename="{name}"'})
