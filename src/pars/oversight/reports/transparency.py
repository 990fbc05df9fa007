"""The transparency report (CONTRACT §10): per partner agency and month, what was shared, under
which purposes, what was refused, the alerts and their review, detainer requests; and the
disparate-impact table. Counting rules are in docs/oversight.md; in short:

- ``queries``: every ``arrest.read`` and ``arrest.search`` entry of the agency, refused included;
  ``refused``: those refused, and ``refused_by_reason`` (``ambiguous_refusals``: name searches
  that matched several people and disclosed no one); ``purposes``: queries by the purpose they
  stated ("unstated" when none);
- ``records_disclosed``: records that left, by query, feed or release notice (each record of
  each disclosing entry; a feed withdrawal, which only names a record the partner already
  holds, is not a disclosure); ``fields``: records that carried each field;
  ``persons_disclosed``: the different people those records were about;
- ``alerts``: alerts whose window starts in the month (``alerts_reviewed``, ``alerts_open``,
  ``alerts_by_rule``, which always names ``demographic_skew``, ``refused_sweep`` and
  ``case_reference_churn``);
- ``detainers_received``: detainer requests filed; ``detainers_honoured``: those accepted, which
  only means a release notice is owed (PARS holds no one on a detainer).
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pars.actions import AuditAction
from pars.auth.models import Agency
from pars.oversight import alerts as alert_service
from pars.oversight.groups import Group, disparate_impact, group_of
from pars.oversight.reports.compliance import PURPOSE_RULES
from pars.oversight.reports.period import Period, month_of, months_between, stream_entries
from pars.records.models import Arrest
from pars.sharing.models import AgreementVersion, DetainerRequest
from pars.sharing.vocabulary import Refused

QUERIES = (str(AuditAction.ARREST_READ), str(AuditAction.ARREST_SEARCH))
DISCLOSING = (*QUERIES, str(AuditAction.FEED_DELIVER))
UNSTATED = "unstated"
UNKNOWN = "unknown"
_BATCH = 500


@dataclass
class Counts:
    queries: int = 0
    refused: int = 0
    refused_by_reason: Counter[str] = field(default_factory=Counter)
    records_disclosed: int = 0
    fields: Counter[str] = field(default_factory=Counter)
    purposes: Counter[str] = field(default_factory=Counter)
    alerts: int = 0
    alerts_reviewed: int = 0
    alerts_by_rule: Counter[str] = field(default_factory=Counter)
    detainers_received: int = 0
    detainers_honoured: int = 0
    arrests: set[str] = field(default_factory=set)

    def add(self, other: Counts) -> None:
        for name in ("queries", "refused", "records_disclosed", "alerts", "alerts_reviewed", "detainers_received",
                     "detainers_honoured"):  # fmt: skip
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.refused_by_reason.update(other.refused_by_reason)
        self.fields.update(other.fields)
        self.purposes.update(other.purposes)
        self.alerts_by_rule.update(other.alerts_by_rule)
        self.arrests |= other.arrests

    def shown(self, people: ArrestFacts) -> dict[str, Any]:
        return {
            "queries": self.queries,
            "refused": self.refused,
            "refused_by_reason": dict(sorted(self.refused_by_reason.items())),
            "ambiguous_refusals": self.refused_by_reason[str(Refused.AMBIGUOUS)],
            "records_disclosed": self.records_disclosed,
            "persons_disclosed": len(people.persons(self.arrests)),
            "fields": dict(sorted(self.fields.items())),
            "purposes": dict(sorted(self.purposes.items())),
            "alerts": self.alerts,
            "alerts_reviewed": self.alerts_reviewed,
            "alerts_open": self.alerts - self.alerts_reviewed,
            # The rules of what searches asked for are always shown, zero included.
            "alerts_by_rule": dict(sorted((dict.fromkeys(PURPOSE_RULES, 0) | dict(self.alerts_by_rule)).items())),
            "detainers_received": self.detainers_received,
            "detainers_honoured": self.detainers_honoured,
        }


@dataclass(frozen=True)
class _Arrest:
    person: str
    race: str
    ethnicity: str
    arrested_at: datetime


class ArrestFacts:
    """Who each disclosed record was about, and how that record describes them."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.known: dict[str, _Arrest] = {}

    def load(self, arrest_ids: Iterable[str]) -> None:
        wanted = sorted({a for a in arrest_ids if a not in self.known})
        columns = (Arrest.id, Arrest.person_id, Arrest.race, Arrest.ethnicity, Arrest.arrested_at)
        for first in range(0, len(wanted), _BATCH):
            ids = [uuid.UUID(a) for a in wanted[first : first + _BATCH]]
            for arrest_id, person, race, ethnicity, at in self.session.execute(
                select(*columns).where(Arrest.id.in_(ids))
            ):
                self.known[str(arrest_id)] = _Arrest(str(person), *group_of(race, ethnicity), at)

    def persons(self, arrest_ids: Iterable[str]) -> set[str]:
        return {self.known[a].person for a in arrest_ids if a in self.known}

    def groups(self, arrest_ids: Iterable[str]) -> Counter[Group]:
        """People by (race, ethnicity) group (`pars.oversight.groups`), each counted once, as their
        latest disclosed record has it."""
        latest: dict[str, _Arrest] = {}
        for arrest_id in arrest_ids:
            fact = self.known.get(arrest_id)
            if fact is not None and (fact.person not in latest or fact.arrested_at > latest[fact.person].arrested_at):
                latest[fact.person] = fact
        return Counter((fact.race, fact.ethnicity) for fact in latest.values())


def transparency_report(session: Session, period: Period, *, zone: ZoneInfo, now: datetime) -> dict[str, Any]:
    agencies: dict[str, str] = dict(
        session.execute(select(Agency.code, Agency.name).where(Agency.kind == "partner")).all()
    )
    months = months_between(period, zone)
    table: dict[str, dict[str, Counts]] = {code: {m: Counts() for m in months} for code in agencies}
    # Records disclosed under each (agreement, version), per agency.
    under: dict[str, Counter[tuple[str, int | None]]] = {code: Counter() for code in agencies}

    for row in stream_entries(session, period, actions=DISCLOSING, agencies=sorted(agencies)):
        counts = table[row.agency][month_of(row.at, zone)]
        details = row.details
        if row.action in QUERIES:
            counts.queries += 1
            counts.refused += not row.ok
            if not row.ok:
                counts.refused_by_reason[details.get("reason") or UNKNOWN] += 1
            counts.purposes[details.get("purpose") or UNSTATED] += 1
        records = details.get("records") or []
        if row.ok and records and details.get("type") != "withdrawal":
            counts.records_disclosed += len(records)
            for name in details.get("fields") or []:
                counts.fields[name] += len(records)
            counts.arrests.update(records)
            if "agreement_id" in details:
                under[row.agency][(details["agreement_id"], details.get("agreement_version"))] += len(records)

    for alert in alert_service.alerts_in(session, start=period.start, end=period.end):
        if alert.agency in table and alert.window_start >= period.start:
            counts = table[alert.agency][month_of(alert.window_start, zone)]
            counts.alerts += 1
            counts.alerts_reviewed += alert.reviewed_at is not None
            counts.alerts_by_rule[alert.rule] += 1

    detainers = session.execute(
        select(Agency.code, DetainerRequest.created_at, DetainerRequest.status)
        .join(Agency, Agency.id == DetainerRequest.agency_id)
        .where(DetainerRequest.created_at >= period.start, DetainerRequest.created_at < period.end)
    )
    for code, created_at, status in detainers:
        if code in table:
            counts = table[code][month_of(created_at, zone)]
            counts.detainers_received += 1
            counts.detainers_honoured += status == "accepted"

    facts = ArrestFacts(session)
    facts.load(a for by_month in table.values() for c in by_month.values() for a in c.arrests)
    rows, disclosed_by_agency, everyone = [], {}, set()
    for code in sorted(table):
        totals = Counts()
        for counts in table[code].values():
            totals.add(counts)
        rows.append({
            "agency": code, "name": agencies[code],
            "months": [{"month": m, **table[code][m].shown(facts)} for m in months],
            "totals": totals.shown(facts),
            "agreements": _agreements(session, under[code]),
        })  # fmt: skip
        disclosed_by_agency[code] = totals.arrests
        everyone |= totals.arrests

    population = _arrest_population(session, period)
    return {
        "period": period.shown(zone),
        "generated_at": now.astimezone(zone).isoformat(),
        "timezone": str(zone),
        "agencies": rows,
        "disparate_impact": disparate_impact(population, facts.groups(everyone)),
        "disparate_impact_by_agency": {
            code: disparate_impact(population, facts.groups(arrests)) for code, arrests in disclosed_by_agency.items()
        },
        "alerts": [_alert_line(a) for a in alert_service.alerts_in(session, start=period.start, end=period.end)],
    }


def _agreements(session: Session, disclosed: Counter[tuple[str, int | None]]) -> list[dict[str, Any]]:
    """The agreement versions records left under, with their titles and purposes."""
    shown = []
    for (agreement_id, version), records in sorted(disclosed.items(), key=lambda item: (item[0][0], item[0][1] or 0)):
        terms = session.scalars(
            select(AgreementVersion).where(
                AgreementVersion.agreement_id == uuid.UUID(agreement_id), AgreementVersion.version == version
            )
        ).first()
        shown.append({
            "agreement_id": agreement_id, "version": version, "records_disclosed": records,
            "title": None if terms is None else terms.title, "purposes": [] if terms is None else terms.purposes,
        })  # fmt: skip
    return shown


def _arrest_population(session: Session, period: Period) -> Counter[Group]:
    rows = session.execute(
        select(Arrest.race, Arrest.ethnicity, func.count())
        .where(Arrest.arrested_at >= period.start, Arrest.arrested_at < period.end)
        .group_by(Arrest.race, Arrest.ethnicity)
    )
    population: Counter[Group] = Counter()
    for race, ethnicity, count in rows:
        population[group_of(race, ethnicity)] += count
    return population


def _alert_line(alert: Any) -> dict[str, Any]:
    return {
        "id": str(alert.id), "rule": alert.rule, "agency": alert.agency, "severity": alert.severity,
        "window_start": alert.window_start.isoformat(), "window_end": alert.window_end.isoformat(),
        "summary": alert.summary, "evidence": alert.evidence, "reviewed": alert.reviewed_at is not None,
        "outcome": alert.review_outcome,
    }  # fmt: skip
