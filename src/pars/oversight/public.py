"""What the public sees without signing in (CONTRACT §10, "Public transparency"): every partner
agreement ever in force, with its terms and history, and per agency and month the counts of the
transparency report, small cells suppressed (``pars.oversight.suppression``).

- **Period**: the last ``PUBLIC_MONTHS`` complete calendar months, city time, never before the
  month the first partner agreement came in force. Only complete months: a month's figures
  appear once it is over, so a reader cannot difference two readings of a month in progress.
- **Counts**: those of ``reports.transparency`` (not restated here): queries, refusals and
  refusals by reason, records and persons disclosed, alerts raised and reviewed, detainer
  requests received and honoured; per agency and month, per agency over the period, and for
  all partner agencies together (persons are not summed across agencies: one person may be in
  several agencies' counts).
- **No personal data**: counts and agreement terms only; never a name, a date of birth, an
  identifier, a record, a user or a case reference; agencies are public bodies.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from pars.actions import AuditAction
from pars.audit.models import AuditEntry
from pars.oversight.reports.period import Period
from pars.oversight.reports.transparency import transparency_report
from pars.oversight.suppression import SMALL, THRESHOLD, WITHHELD, Kind, Relation, Shown, suppress
from pars.sharing import agreements
from pars.sharing.grants import compile_agreement
from pars.sharing.models import Agreement
from pars.sharing.standing import AgreementState, standing_of

PUBLIC_MONTHS = 12
TOTAL = "total"
ALL = "all"
# Per agency and month, in the order the tables show them.
MEASURES = (
    "queries", "refused", "records_disclosed", "persons_disclosed", "alerts", "alerts_reviewed",
    "detainers_received", "detainers_honoured",
)  # fmt: skip
# Summed over months and agencies; people are counted once however many months they appear in.
ADDITIVE = tuple(m for m in MEASURES if m != "persons_disclosed")
REASON = "refused:"
# What a reader knows without being told: each of these counts is at least the other.
BOUNDS = (
    ("queries", "refused"), ("records_disclosed", "persons_disclosed"), ("alerts", "alerts_reviewed"),
    ("detainers_received", "detainers_honoured"),
)  # fmt: skip
SUPPRESSION = {
    "small": SMALL,
    "withheld": WITHHELD,
    "rule": f"A count from 1 to {THRESHOLD - 1} is published as {SMALL!r}. Where a total, or the sum of the "
    f"refusals by reason, would give a hidden count back, another number of the same row or column (one of "
    f"{THRESHOLD} or more) is published as {WITHHELD!r}, until no published number pins a hidden one.",
}


def public_period(session: Session, *, zone: ZoneInfo, now: datetime) -> Period | None:
    """The last complete months (see the module's docstring); None before any complete month
    with an agreement in force."""
    starts = [g.starts for a in _ever_in_force(session, now) for g in compile_agreement(a).grants]
    if not starts:
        return None
    local = now.astimezone(zone)
    end = datetime(local.year, local.month, 1, tzinfo=zone)
    year, month = end.year, end.month - PUBLIC_MONTHS
    while month < 1:
        year, month = year - 1, month + 12
    first = min(starts).astimezone(zone)
    start = max(datetime(year, month, 1, tzinfo=zone), datetime(first.year, first.month, 1, tzinfo=zone))
    return Period(start, end) if start < end else None


def public_figures(session: Session, *, zone: ZoneInfo, now: datetime) -> dict[str, Any]:
    """The whole public document (the JSON form; the CSV and the page are drawn from it)."""
    period = public_period(session, zone=zone, now=now)
    report = None if period is None else transparency_report(session, period, zone=zone, now=now)
    counts = suppressed_counts(report) if report is not None else {"months": [], "agencies": [], "all_agencies": None}
    return {
        "published_at": now.astimezone(zone).isoformat(),
        "timezone": str(zone),
        "period": None if period is None else period.shown(zone),
        "suppression": SUPPRESSION,
        "agreements": agreements_shown(session, zone=zone, now=now),
        **counts,
    }


def agreements_shown(
    session: Session, *, zone: ZoneInfo, now: datetime, start: datetime | None = None, end: datetime | None = None
) -> list[dict[str, Any]]:
    """Every partner agreement in force at some instant before ``now`` (and, given a period, in
    force during it), with its terms, votes, suspensions and termination; agency by agency."""
    shown = []
    for agreement in _ever_in_force(session, now):
        plan = compile_agreement(agreement)
        ends = [_clip(g.ends, agreement) for g in plan.grants]
        first, last = min(g.starts for g in plan.grants), max(ends)
        if start is not None and end is not None and not (first < end and last > start):
            continue
        shown.append(_agreement(session, agreement, zone=zone, now=now, first=first, last=last))
    return sorted(shown, key=lambda a: (a["agency"], a["in_force_from"]))


def _ever_in_force(session: Session, now: datetime) -> list[Agreement]:
    found = []
    for agreement in session.scalars(select(Agreement)).unique():
        if agreement.agency.kind != "partner":
            continue
        grants = compile_agreement(agreement).grants
        if any(g.starts <= now and g.starts < _clip(g.ends, agreement) for g in grants):
            found.append(agreement)
    return found


# The published words for an agreement's standing (`pars.sharing.standing`); any other state
# (approved, not yet in force) is "not in force".
PUBLIC_STATES = {
    AgreementState.TERMINATED: "terminated",
    AgreementState.IN_FORCE: "in force",
    AgreementState.SUSPENDED: "suspended",
    AgreementState.EXPIRED: "expired",
}


def _clip(end: datetime, agreement: Agreement) -> datetime:
    return end if agreement.terminated_at is None else min(end, agreement.terminated_at)


def _agreement(
    session: Session, agreement: Agreement, *, zone: ZoneInfo, now: datetime, first: datetime, last: datetime
) -> dict[str, Any]:
    described = agreements.describe(agreement, now)
    plan = compile_agreement(agreement)
    windows = {g.version: (g.starts, _clip(g.ends, agreement)) for g in plan.grants}
    state = PUBLIC_STATES.get(standing_of(agreement, plan, now).state, "not in force")
    versions = []
    for version in described["versions"]:
        window = windows.get(version["version"])
        versions.append({
            **{k: v for k, v in version.items() if k != "votes"},
            "effective_from": _local(version["effective_from"], zone),
            "expires_at": _local(version["expires_at"], zone),
            "in_force_from": None if window is None else window[0].astimezone(zone).isoformat(),
            "in_force_until": None if window is None else window[1].astimezone(zone).isoformat(),
            "votes": [{**v, "at": _local(v["at"], zone)} for v in version["votes"]],
        })  # fmt: skip
    return {
        "agency": agreement.agency.code,
        "agency_name": agreement.agency.name,
        # The title it was in force under: a proposed amendment's title is listed with its version.
        "title": next((v["title"] for v in reversed(versions) if v["in_force_from"] is not None), None),
        "state": state,
        "in_force_from": first.astimezone(zone).isoformat(),
        "in_force_until": last.astimezone(zone).isoformat(),
        "versions": versions,
        "suspensions": _suspensions(session, agreement, zone),
        "terminated_at": None if (ended := agreement.terminated_at) is None else ended.astimezone(zone).isoformat(),
        "termination_reason": agreement.termination_reason,
    }


def _local(instant: str, zone: ZoneInfo) -> str:
    return datetime.fromisoformat(instant).astimezone(zone).isoformat()


def _suspensions(session: Session, agreement: Agreement, zone: ZoneInfo) -> list[dict[str, Any]]:
    """From the trail, as the compliance report reads them: each suspension with its reason, the
    agencies that voted to lift it, and when it lifted (null while it stands)."""
    c = AuditEntry.__table__.c
    rows = session.execute(
        select(c.at, c.action, c.details)
        .where(
            c.target == str(agreement.id),
            c.action.in_([str(AuditAction.AGREEMENT_SUSPEND), str(AuditAction.AGREEMENT_LIFT)]),
            c.outcome == "ok",
        )
        .order_by(c.seq)
    )
    spans: list[dict[str, Any]] = []
    for at, action, details in rows:
        if action == AuditAction.AGREEMENT_SUSPEND:
            reason = (details or {}).get("reason")
            spans.append({"from": at.astimezone(zone).isoformat(), "until": None, "reason": reason, "lift_votes": []})
        elif spans and spans[-1]["until"] is None:
            spans[-1]["until"] = at.astimezone(zone).isoformat()
    for ballot in agreements.lift_ballots(session, agreement):
        if 0 < ballot.round <= len(spans):
            spans[ballot.round - 1]["lift_votes"].append(
                {"agency": ballot.agency, "at": ballot.at.astimezone(zone).isoformat()}
            )
    return spans


def suppressed_counts(report: dict[str, Any]) -> dict[str, Any]:
    """The transparency report's counts as published: per agency and month, per agency over the
    period, and for all partner agencies; every number through ``suppress`` with every relation
    a reader could use (sums over months and agencies, refusals by reason against refusals,
    people over months bounded by the months, each count bounded by the one it is part of)."""
    rows = report["agencies"]
    months = [m["month"] for m in rows[0]["months"]] if rows else []
    columns = [*months, TOTAL]
    reasons = {a["agency"]: sorted(a["totals"]["refused_by_reason"]) for a in rows}
    values: dict[Hashable, int] = {}
    for agency in rows:
        code = agency["agency"]
        for column, counts in zip(columns, [*agency["months"], agency["totals"]], strict=True):
            for measure in MEASURES:
                values[(code, column, measure)] = counts[measure]
            for reason in reasons[code]:
                values[(code, column, REASON + reason)] = counts["refused_by_reason"].get(reason, 0)
    for column in columns:
        for measure in ADDITIVE:
            values[(ALL, column, measure)] = sum(values[(a["agency"], column, measure)] for a in rows)
    shown = suppress(values, list(_relations([a["agency"] for a in rows], months, reasons)))

    def cells(code: str, column: str, measures: Iterable[str]) -> dict[str, Any]:
        out: dict[str, Any] = {measure: shown[(code, column, measure)] for measure in measures}
        if code != ALL:
            out["refused_by_reason"] = {r: shown[(code, column, REASON + r)] for r in reasons[code]}
        return out

    return {
        "months": months,
        "agencies": [
            {
                "agency": a["agency"], "name": a["name"],
                "months": [{"month": m, **cells(a["agency"], m, MEASURES)} for m in months],
                "totals": cells(a["agency"], TOTAL, MEASURES),
            }
            for a in rows
        ],
        "all_agencies": {
            "months": [{"month": m, **cells(ALL, m, ADDITIVE)} for m in months],
            "totals": cells(ALL, TOTAL, ADDITIVE),
        },
    }  # fmt: skip


def _relations(codes: list[str], months: list[str], reasons: dict[str, list[str]]) -> Iterable[Relation]:
    columns = [*months, TOTAL]
    for code in codes:
        for measure in (*ADDITIVE, *(REASON + r for r in reasons[code])):
            yield Relation((code, TOTAL, measure), tuple((code, m, measure) for m in months))
        persons = "persons_disclosed"
        yield Relation((code, TOTAL, persons), tuple((code, m, persons) for m in months), Kind.DISTINCT)
        for column in columns:
            if reasons[code]:
                yield Relation((code, column, "refused"), tuple((code, column, REASON + r) for r in reasons[code]))
            for larger, smaller in BOUNDS:
                yield Relation((code, column, larger), ((code, column, smaller),), Kind.BOUND)
    for measure in ADDITIVE:
        for column in columns:
            yield Relation((ALL, column, measure), tuple((code, column, measure) for code in codes))
        yield Relation((ALL, TOTAL, measure), tuple((ALL, m, measure) for m in months))
    for column in columns:
        for larger, smaller in BOUNDS:
            if smaller in ADDITIVE:
                yield Relation((ALL, column, larger), ((ALL, column, smaller),), Kind.BOUND)


def number(value: Shown) -> float | None:
    """A published count for a chart: None when it is hidden (nothing is drawn for it)."""
    return float(value) if isinstance(value, int) else None
