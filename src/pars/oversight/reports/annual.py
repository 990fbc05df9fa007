"""The annual report to the city council (issue 16, CCOPS-style): for one calendar year, city
time, each partner agreement and what happened to it during the year; what was shared and with
whom (the public page's monthly counts, ``pars.oversight.public``); the violations found (misuse
alerts and their review, compliance breaches with their evidence, ``reports.compliance``); the
complaints oversight recorded; and the disparate impact.

It goes to a public body and is published, so it follows the public page's small-cell rule
(``pars.oversight.suppression``): every count of queries, records, people, alerts and complaints
from 1 to 10 is "<11", and numbers that would give one back are withheld. Breach evidence is the
exception: it is listed by audit sequence number, in full, because it is how the council checks
a finding against the trail; it counts an agency's requests and names no one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Hashable, Iterable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from pars.actors import Actor
from pars.audit import AuditAction, record_event
from pars.clock import now
from pars.errors import Invalid
from pars.oversight import alerts as alert_service
from pars.oversight.alerts import ReviewOutcome
from pars.oversight.complaints import ComplaintOutcome, complaints_between
from pars.oversight.public import SUPPRESSION, agreements_shown, suppressed_counts
from pars.oversight.reports.compliance import compliance_report
from pars.oversight.reports.period import Period
from pars.oversight.reports.transparency import transparency_report
from pars.oversight.suppression import Relation, Shown, suppress
from pars.sharing import agreements as agreement_service
from pars.sharing.models import Agreement

FIRST_YEAR = 2000
EVIDENCE_LISTED = 40
OUTCOMES = ("confirmed", "dismissed", "noted", "open")

Step = Callable[[str], None]


def year_period(year: int, *, zone: ZoneInfo, now: datetime) -> Period:
    """January 1 to December 31 of ``year``, city time; the current year up to now."""
    current = now.astimezone(zone).year
    if not FIRST_YEAR <= year <= current:
        raise Invalid.one("year", f"must be a year from {FIRST_YEAR} to {current}")
    start = datetime(year, 1, 1, tzinfo=zone)
    return Period(start, min(datetime(year + 1, 1, 1, tzinfo=zone), now))


def annual_report(
    session: Session,
    year: int,
    *,
    zone: ZoneInfo,
    now: datetime,
    step: Step | None = None,
) -> dict[str, Any]:
    """The whole report as data (the HTML and the PDF are drawn from it)."""
    say = step or (lambda _: None)
    period = year_period(year, zone=zone, now=now)
    say("Counting what was shared, month by month")
    report = transparency_report(session, period, zone=zone, now=now)
    shared = suppressed_counts(report)
    say("Reading the agreements and their history")
    agreements = agreements_shown(session, zone=zone, now=now, start=period.start, end=period.end)
    for agreement in agreements:
        agreement["events"] = _events(agreement, period)
    say("Checking each agreement's terms against the trail")
    compliance = _compliance(session, period, zone)
    say("Counting alerts, complaints and the disparate impact")
    return {
        "year": year,
        "period": period.shown(zone),
        "complete": period.end == datetime(year + 1, 1, 1, tzinfo=zone),
        "published_at": now.astimezone(zone).isoformat(),
        "timezone": str(zone),
        "suppression": SUPPRESSION,
        "agreements": agreements,
        **shared,
        "alerts": _alerts(session, period),
        "compliance": compliance,
        "complaints": _complaints(session, period),
        "disparate_impact": _impact(report["disparate_impact"]),
    }


def _events(agreement: dict[str, Any], period: Period) -> list[dict[str, str]]:
    """What happened to the agreement during the year, in order: proposals, votes, approvals,
    suspensions and lifts, expiry, termination."""
    events = []
    for version in agreement["versions"]:
        n = version["version"]
        for vote in version["votes"]:
            events.append((vote["at"], f"{vote['agency']} voted {vote['vote']} on version {n}"))
        if version["in_force_from"]:
            events.append((version["in_force_from"], f"version {n} came in force"))
            if version["in_force_until"] and version["in_force_until"] != agreement["terminated_at"]:
                events.append((version["in_force_until"], f"version {n} ceased to be in force"))
        elif version["status"] == "rejected":
            last = version["votes"][-1]["at"] if version["votes"] else version["effective_from"]
            events.append((last, f"version {n} was rejected"))
    for suspension in agreement["suspensions"]:
        events.append((suspension["from"], f"suspended: {suspension['reason']}"))
        if suspension["until"]:
            voters = ", ".join(sorted(v["agency"] for v in suspension["lift_votes"]))
            events.append((suspension["until"], f"suspension lifted (votes of {voters})"))
    if agreement["terminated_at"]:
        events.append((agreement["terminated_at"], f"terminated: {agreement['termination_reason']}"))
    inside = sorted(
        ((datetime.fromisoformat(at), at, what) for at, what in events),
        key=lambda event: event[0],
    )
    return [{"at": at, "what": what} for moment, at, what in inside if period.start <= moment < period.end]


def _compliance(session: Session, period: Period, zone: ZoneInfo) -> list[dict[str, Any]]:
    """Each partner agreement in force during the year, judged over the part of the year it
    covers: its breaches with their evidence."""
    found = []
    for agreement in session.scalars(select(Agreement)).unique():
        if agreement.agency.kind != "partner" or not agreement.versions:
            continue
        approved = [v for v in agreement.versions if v.approved_at is not None]
        if not approved:
            continue
        report = compliance_report(session, agreement_service.load(session, agreement.id), period, zone=zone)
        if not report["terms"]:
            continue
        found.append({
            "agency": report["agency"],
            "title": report["terms"][-1]["title"],
            "in_breach": report["in_breach"],
            "breaches": [
                # The term and its evidence, not the compliance report's summary: that one counts
                # alerts by rule, which the alerts table publishes suppressed.
                {"term": b["term"], "rule": b["rule"], "evidence_count": len(b["evidence"]),
                 "evidence": b["evidence"][:EVIDENCE_LISTED]}
                for b in report["breaches"]
            ],
        })  # fmt: skip
    return sorted(found, key=lambda c: c["agency"])


def _alerts(session: Session, period: Period) -> dict[str, Any]:
    """Alerts whose window starts in the year, per agency: raised, and how review ended."""
    counts: dict[str, Counter[str]] = {}
    rules: dict[str, Counter[str]] = {}
    for alert in alert_service.alerts_in(session, start=period.start, end=period.end):
        if alert.window_start < period.start:
            continue
        outcome = "open" if alert.reviewed_at is None else (alert.review_outcome or str(ReviewOutcome.NOTED))
        counts.setdefault(alert.agency, Counter())[outcome] += 1
        rules.setdefault(alert.agency, Counter())[alert.rule] += 1
    table = _suppressed_table(counts, OUTCOMES)
    by_rule = _suppressed_table(rules, sorted({r for c in rules.values() for r in c}))
    return {"outcomes": OUTCOMES, "by_outcome": table, "rules": by_rule["columns"], "by_rule": by_rule}


def _complaints(session: Session, period: Period) -> dict[str, Any]:
    """Complaints received in the year, per agency and outcome: counts only (complainant and
    text stay with oversight)."""
    counts: dict[str, Counter[str]] = {}
    for complaint in complaints_between(session, period.start, period.end):
        counts.setdefault(complaint.agency, Counter())[str(complaint.outcome)] += 1
    return _suppressed_table(counts, [str(outcome) for outcome in ComplaintOutcome])


def _suppressed_table(counts: dict[str, Counter[str]], columns: Iterable[str]) -> dict[str, Any]:
    """Rows (agencies) by columns, with row totals, column totals and the grand total, through
    the small-cell rule with every sum a reader could use."""
    columns = list(columns)
    rows = sorted(counts)
    values: dict[Hashable, int] = {}
    for row in rows:
        for column in columns:
            values[(row, column)] = counts[row][column]
        values[(row, "total")] = sum(counts[row][c] for c in columns)
    for column in [*columns, "total"]:
        values[("total", column)] = sum(values[(row, column)] for row in rows)
    relations = [Relation((row, "total"), tuple((row, c) for c in columns)) for row in rows]
    relations += [Relation(("total", c), tuple((row, c) for row in rows)) for c in [*columns, "total"]]
    relations.append(Relation(("total", "total"), tuple(("total", c) for c in columns)))
    shown = suppress(values, relations)
    return {
        "columns": columns,
        "rows": [{"agency": row, **{c: shown[(row, c)] for c in [*columns, "total"]}} for row in rows],
        "totals": {c: shown[("total", c)] for c in [*columns, "total"]},
    }


def _impact(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The disparate-impact table with its counts suppressed; a share (and the ratio) is shown
    only beside a published count, since share times the published total would give it back."""
    values: dict[Hashable, int] = {}
    for i, row in enumerate(rows):
        values[(i, "arrests")], values[(i, "persons")] = row["arrests"], row["persons_disclosed"]
    values[("all", "arrests")] = sum(r["arrests"] for r in rows)
    values[("all", "persons")] = sum(r["persons_disclosed"] for r in rows)
    relations = [Relation(("all", name), tuple((i, name) for i in range(len(rows)))) for name in ("arrests", "persons")]
    shown: dict[Hashable, Shown] = suppress(values, relations)
    out = []
    for i, row in enumerate(rows):
        arrests, persons = shown[(i, "arrests")], shown[(i, "persons")]
        both = isinstance(arrests, int) and isinstance(persons, int)
        out.append({
            "race": row["race"], "ethnicity": row["ethnicity"], "arrests": arrests, "persons_disclosed": persons,
            "arrest_share": row["arrest_share"] if isinstance(arrests, int) else None,
            "disclosure_share": row["disclosure_share"] if isinstance(persons, int) else None,
            "ratio": row["ratio"] if both else None,
        })  # fmt: skip
    out.append({"race": "all", "ethnicity": "all", "arrests": shown[("all", "arrests")],
                "persons_disclosed": shown[("all", "persons")], "arrest_share": 1.0 if rows else None,
                "disclosure_share": 1.0 if rows else None, "ratio": None})  # fmt: skip
    return out


def produce(
    session: Session,
    actor: Actor,
    year: int,
    *,
    zone: ZoneInfo,
    step: Step | None = None,
) -> dict[str, Any]:
    """The report for ``year``, its reading on the trail (as every report's is)."""
    report = annual_report(session, year, zone=zone, now=now(session), step=step)
    record_event(session, actor, AuditAction.OVERSIGHT_REPORT_READ, None, {"report": "annual", "year": year})
    return report
