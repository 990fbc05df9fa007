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
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, Text, and_, case, cast, func, not_, select, true
from sqlalchemy.orm import Session

from pars.audit import AuditAction, record_event
from pars.auth.principal import Actor
from pars.clock import now
from pars.errors import NotFound
from pars.oversight.reports.compliance import compliance_report
from pars.oversight.reports.period import Period
from pars.oversight.reports.transparency import (
    UNKNOWN,
    ArrestFacts,
    Counts,
    _arrest_population,
    disparate_impact,
    transparency_report,
)
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


@dataclass(frozen=True)
class Admitted:
    arrests: int
    persons: int
    fields: dict[str, int]


def _booked(period: Period) -> ColumnElement[bool]:
    return and_(Arrest.arrested_at >= period.start, Arrest.arrested_at < period.end)


def admitted(session: Session, scope: Scope, fields: list[str], period: Period) -> Admitted:
    """One aggregate over the period's arrests the scope admits."""
    chosen = sorted(f for f in set(fields) if f in _PRESENT)
    columns: list[Any] = [func.count(), func.count(Arrest.person_id.distinct())]
    columns += [func.coalesce(func.sum(case((_PRESENT[f], 1), else_=0)), 0) for f in chosen]
    row = session.execute(select(*columns).where(_booked(period), scope.condition())).one()
    return Admitted(arrests=row[0], persons=row[1], fields=dict(zip(chosen, row[2:], strict=True)))


def _count(session: Session, query: Select[Any]) -> int:
    return int(session.scalar(query) or 0)


def people_by_group(session: Session, scope: Scope, period: Period) -> Counter[tuple[str, str]]:
    """The admitted people by (race, ethnicity), each once, as their latest admitted arrest in
    the period has it: the rule the transparency report applies to people disclosed."""
    latest = (
        select(
            Arrest.race,
            Arrest.ethnicity,
            func.row_number()
            .over(partition_by=Arrest.person_id, order_by=(Arrest.arrested_at.desc(), Arrest.id.desc()))
            .label("nth"),
        )
        .where(_booked(period), scope.condition())
        .subquery()
    )
    rows = session.execute(
        select(latest.c.race, latest.c.ethnicity, func.count())
        .where(latest.c.nth == 1)
        .group_by(latest.c.race, latest.c.ethnicity)
    )
    groups: Counter[tuple[str, str]] = Counter()
    for race, ethnicity, count in rows:
        groups[(race or UNKNOWN, ethnicity or UNKNOWN)] += count
    return groups


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
    mine = admitted(session, scope, version.fields, period)
    people = people_by_group(session, scope, period)
    report: dict[str, Any] = {
        "agreement_id": str(agreement.id),
        "agency": agreement.agency.code,
        "version": version.version,
        "status": version.status,
        "period": period.shown(zone),
        "arrests": mine.arrests,
        "persons": mine.persons,
        "fields": mine.fields,
        "disparate_impact": disparate_impact(_arrest_population(session, period), people),
        "difference": None,
        "received": None,
    }
    other = _compared_grant(agreement, instant)
    if other is not None and other.version != version.version:
        report["difference"] = _difference(session, scope, set(version.fields), other, period)
        report["received"] = _received(session, agreement, other, period, zone=zone)
    record_event(
        session, actor, AuditAction.AGREEMENT_IMPACT, agreement.id,
        {"version": version.version, **period.shown(zone), "arrests": mine.arrests, "persons": mine.persons},
    )  # fmt: skip
    return report


def _difference(session: Session, scope: Scope, fields: set[str], other: Grant, period: Period) -> dict[str, Any]:
    theirs = other.scope.condition()
    ours = scope.condition()
    counted = select(func.count()).select_from(Arrest).where(_booked(period))
    return {
        "against_version": other.version,
        "arrests_added": _count(session, counted.where(ours, not_(theirs))),
        "arrests_removed": _count(session, counted.where(theirs, not_(ours))),
        "fields_added": sorted(fields - other.fields),
        "fields_removed": sorted(other.fields - fields),
    }


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
