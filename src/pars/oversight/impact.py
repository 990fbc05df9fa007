"""The impact preview of an agreement version (issue 16 item 1, CONTRACT §6): what version n
would have covered over a period, as counts only, for those who vote on it.

- ``arrests``: arrests booked (``arrested_at``) in the period that the version's scope admits,
  decided by the gate's own SQL condition (`pars.sharing.grants.Scope.condition`, so sealed
  records never count); ``persons``: the different people of those arrests.
- ``fields``: per granted field, the admitted records that would have carried it: a field counts
  for a record when the version grants it and the record has a value for it (a name, a date of
  birth, charges, custody and identifiers always; a text member when not null or empty; a list
  when not empty; ``charging``/``arraignment`` once that step happened). `id`,
  `tracking_number` and `status` are always sent and not listed.
- ``disparate_impact``: the transparency report's table (its own function), the period's arrests
  by race and ethnicity beside the people admitted, each once, as their latest admitted arrest
  describes them.
- ``difference`` and ``received``: against the version in force now (or, when none is, the one
  in force last), if that is another version: arrests newly in or out of scope, fields added or
  removed; and the transparency report's counts for the agency (with the compliance report's
  breaches) over the part of the period that version was in force.

Every count is one SQL aggregate over the period's arrests; no record is loaded.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Text, and_, case, cast, func, literal, select, true, union_all
from sqlalchemy.orm import Session

from pars.actors import Actor
from pars.audit import AuditAction, record_event
from pars.clock import now
from pars.errors import NotFound
from pars.oversight.groups import disparate_impact, group_of
from pars.oversight.reports.compliance import compliance_report
from pars.oversight.reports.period import Period
from pars.oversight.reports.transparency import ArrestFacts, Counts, transparency_report
from pars.records.models import Arrest
from pars.sharing import agreements
from pars.sharing.grants import Grant, Scope, compile_agreement
from pars.sharing.models import Agreement, AgreementVersion

DEFAULT_DAYS = 365


def _text(column: Any) -> ColumnElement[bool]:
    return and_(column.is_not(None), column != "")


def _listed(column: Any) -> ColumnElement[bool]:
    """A JSON list or object with something in it (JSON null, [] and {} are no value)."""
    return and_(column.is_not(None), cast(column, Text).not_in(["null", "[]", "{}"]))


# When a record "has a value" for each field name (CONTRACT §4).
_PRESENT: dict[str, ColumnElement[bool]] = {
    "person.name": true(),
    "person.aliases": _listed(Arrest.aliases),
    "person.dob": true(),
    "person.sex": _text(Arrest.sex),
    "person.race": _text(Arrest.race),
    "person.ethnicity": _text(Arrest.ethnicity),
    "person.place_of_birth": _text(Arrest.place_of_birth),
    "person.citizenship": _text(Arrest.citizenship),
    "person.address": _listed(Arrest.address),
    "person.phone": _text(Arrest.phone),
    "person.ssn": _text(Arrest.ssn),
    "person.identifiers": true(),
    "arrest.arrested_at": true(),
    "arrest.location": _text(Arrest.location),
    "arrest.district": _text(Arrest.district),
    "arrest.incident_number": _text(Arrest.incident_number),
    "arrest.arresting_agency": _text(Arrest.arresting_agency),
    "arrest.arresting_officer": _text(Arrest.arresting_officer),
    "charges": true(),
    "charging": Arrest.charging_decision.is_not(None),
    "arraignment": Arrest.arraigned_at.is_not(None),
    "custody": true(),
    "narrative": _text(Arrest.narrative),
    "victims": _listed(Arrest.victims),
    "witnesses": _listed(Arrest.witnesses),
}


def default_period(today: date) -> tuple[str, str]:
    """The last 365 days, today included (city time)."""
    return (today - timedelta(days=DEFAULT_DAYS - 1)).isoformat(), today.isoformat()


@dataclass
class Tally:
    """The period's arrests counted once, by (race, ethnicity) of each row."""

    arrests: int = 0  # admitted by the version
    persons: int = 0  # the different people of those
    fields: Counter[str] = field(default_factory=Counter)
    added: int = 0  # admitted by the version and not by the compared one
    removed: int = 0  # admitted by the compared one and not by the version
    population: Counter[tuple[str, str]] = field(default_factory=Counter)  # every arrest of the period
    people: Counter[tuple[str, str]] = field(default_factory=Counter)  # admitted people, each once


def _booked(period: Period) -> ColumnElement[bool]:
    return and_(Arrest.arrested_at >= period.start, Arrest.arrested_at < period.end)


def _flag(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return case((condition, 1), else_=0)


def tally(session: Session, period: Period, scope: Scope, fields: list[str], compared: Scope | None) -> Tally:
    """One statement, one pass over the period's arrests: each scope condition (the gate's) is
    evaluated once per arrest in a materialised CTE (otherwise SQLite would repeat the EXISTS
    at every use), summed by race and ethnicity; the admitted arrests ranked per person (the
    latest is where they are counted, as the transparency report counts people disclosed).
    Needs SQLite 3.35 or PostgreSQL 12 (``AS MATERIALIZED``). Two arrests of one person at the
    very same instant would make "latest" either one: only their group could differ, and
    booking never records one person twice at once."""
    chosen = sorted(f for f in set(fields) if f in _PRESENT)
    rows = (
        select(
            Arrest.person_id,
            Arrest.arrested_at,
            Arrest.race,
            Arrest.ethnicity,
            _flag(scope.condition()).label("ours"),
            (_flag(compared.condition()) if compared is not None else literal(0)).label("theirs"),
            *(_flag(_PRESENT[f]).label(f"f{i}") for i, f in enumerate(chosen)),
        )
        .where(_booked(period))
        .cte("period_arrests")
        .prefix_with("MATERIALIZED")
    )
    # Two aggregates over the one materialised pass: every arrest by group; and the admitted
    # people, each ranked by their admitted arrests alone (a window over fewer rows).
    counted = select(
        rows.c.race, rows.c.ethnicity, func.count(), func.sum(rows.c.ours),
        func.sum(_flag(and_(rows.c.ours == 1, rows.c.theirs == 0))),
        func.sum(_flag(and_(rows.c.theirs == 1, rows.c.ours == 0))),
        *(func.sum(rows.c.ours * rows.c[f"f{i}"]) for i in range(len(chosen))),
        literal(0),
    ).group_by(rows.c.race, rows.c.ethnicity)  # fmt: skip
    nth = func.row_number().over(partition_by=rows.c.person_id, order_by=rows.c.arrested_at.desc())
    ranked = select(rows.c.race, rows.c.ethnicity, nth.label("nth")).where(rows.c.ours == 1).subquery("ranked")
    latest = (
        select(ranked.c.race, ranked.c.ethnicity, *(literal(0) for _ in range(4 + len(chosen))), func.count())
        .where(ranked.c.nth == 1)
        .group_by(ranked.c.race, ranked.c.ethnicity)
    )
    result = Tally(fields=Counter(dict.fromkeys(chosen, 0)))
    for race, ethnicity, everyone, ours, added, removed, *rest in session.execute(union_all(counted, latest)):
        group = group_of(race, ethnicity)
        *present, people = rest
        result.population[group] += everyone or 0
        result.people[group] += people or 0
        result.arrests += ours or 0
        result.persons += people or 0
        result.added += added or 0
        result.removed += removed or 0
        for name, count in zip(chosen, present, strict=True):
            result.fields[name] += count or 0
    return result


def _version(agreement: Agreement, number: int) -> AgreementVersion:
    found = next((v for v in agreement.versions if v.version == number), None)
    if found is None:
        raise NotFound("no such agreement version")
    return found


def _compared_grant(agreement: Agreement, instant: datetime) -> Grant | None:
    """The version in force now; when none is (expired, suspended), the one in force last."""
    plan = compile_agreement(agreement)
    grant = plan.in_force_at(instant)
    if grant is not None:
        return grant
    began = [g for g in plan.grants if g.starts <= instant and g.starts < g.ends]
    return max(began, key=lambda g: g.starts, default=None)


def preview(
    session: Session, actor: Actor, agreement_id: uuid.UUID, number: int, *,
    start: str | None, end: str | None, zone: ZoneInfo,
) -> dict[str, Any]:  # fmt: skip
    """The preview (CONTRACT §6); on the trail as ``agreement.impact_preview`` with the version,
    period and counts."""
    agreement = agreements.load(session, agreement_id)
    version = _version(agreement, number)
    instant = now(session)
    first, last = default_period(instant.astimezone(zone).date())
    period = Period.parse(start or first, end or last, zone=zone)
    scope = Scope.from_terms(version.scope)
    other = _compared_grant(agreement, instant)
    if other is not None and other.version == version.version:
        other = None
    counts = tally(session, period, scope, version.fields, None if other is None else other.scope)
    report: dict[str, Any] = {
        "agreement_id": str(agreement.id),
        "agency": agreement.agency.code,
        "version": version.version,
        "status": version.status,
        "period": period.shown(zone),
        "arrests": counts.arrests,
        "persons": counts.persons,
        "fields": dict(sorted(counts.fields.items())),
        "disparate_impact": disparate_impact(counts.population, counts.people),
        "difference": None,
        "received": None,
    }
    if other is not None:
        report["difference"] = {
            "against_version": other.version,
            "arrests_added": counts.added,
            "arrests_removed": counts.removed,
            "fields_added": sorted(set(version.fields) - other.fields),
            "fields_removed": sorted(other.fields - set(version.fields)),
        }
        report["received"] = _received(session, agreement, other, period, zone=zone)
    record_event(
        session, actor, AuditAction.AGREEMENT_IMPACT, agreement.id,
        {"version": version.version, **period.shown(zone), "arrests": counts.arrests, "persons": counts.persons},
    )  # fmt: skip
    return report


def _received(
    session: Session, agreement: Agreement, grant: Grant, period: Period, *, zone: ZoneInfo
) -> dict[str, Any]:
    """The transparency report's counts for the agency, and the compliance report's breaches,
    over the part of the period the compared version was in force."""
    start, end = max(period.start, grant.starts), min(period.end, grant.ends)
    code = agreement.agency.code
    if end <= start:
        return {"version": grant.version, "period": None, **Counts().shown(ArrestFacts(session)), "breaches": 0}
    under = Period(start, end)
    report = transparency_report(session, under, zone=zone, now=now(session))
    totals = next((row["totals"] for row in report["agencies"] if row["agency"] == code), None)
    if totals is None:
        totals = Counts().shown(ArrestFacts(session))
    breaches = compliance_report(session, agreement, under, zone=zone)["breaches"]
    return {
        "version": grant.version,
        "period": under.shown(zone),
        **totals,
        "breaches": len(breaches),
        "breached_terms": sorted({b["term"] for b in breaches}),
    }
