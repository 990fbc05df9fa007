"""Agreements compiled into immutable grants (DESIGN principle 2).

A version compiles once into a `Grant`: sets of purposes, channels and fields, the projection
plan, the scope as a SQL condition, and the window in which it is in force. Deciding a request is
then a set lookup and projecting a record is picking its granted members. Plans are cached by
(agreement id, revision); every change bumps the revision, so each process recompiles on its next
request after a change made anywhere.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, and_, bindparam, exists, select, true
from sqlalchemy.orm import Session

from pars.auth.models import Agency
from pars.records.fields import ALWAYS_PRESENT, GRANTABLE
from pars.records.models import Arrest, Charge
from pars.records.record import ArrestRecord, SharedRecord
from pars.sharing.models import Agreement, AgreementVersion


@dataclass(frozen=True)
class Scope:
    grades: frozenset[str] | None
    titles: frozenset[int] | None
    sections: frozenset[str] | None
    statuses: frozenset[str] | None

    @classmethod
    def from_terms(cls, scope: dict[str, Any]) -> Scope:
        def members(key: str) -> frozenset[Any] | None:
            value = scope.get(key)
            return None if value is None else frozenset(value)

        return cls(members("grades"), members("titles"), members("sections"), members("statuses"))

    def condition(self) -> ColumnElement[bool]:
        """The scope as SQL, so records outside it never leave the database. Sealed records are
        never in scope. Built once per scope: grants are immutable and cached."""
        return self._condition

    @cached_property
    def _condition(self) -> ColumnElement[bool]:
        conditions: list[ColumnElement[bool]] = [Arrest.sealed.is_(False)]
        if self.statuses is not None:
            conditions.append(Arrest.status.in_(sorted(self.statuses)))
        charge: list[ColumnElement[bool]] = []
        if self.grades is not None:
            charge.append(Charge.grade.in_(sorted(self.grades)))
        if self.titles is not None:
            # `title + 0`, not `title`: without statistics SQLite otherwise answers the EXISTS
            # below through the (title, section, grade) index, reading every charge under the
            # title for each candidate arrest (search cost growing with the whole table); the
            # expression leaves it the per-arrest index on arrest_id, which PostgreSQL picks anyway.
            charge.append((Charge.title + 0).in_(sorted(self.titles)))
        if self.sections is not None:
            charge.append(Charge.section.in_(sorted(self.sections)))
        if charge:
            conditions.append(exists(select(Charge.id).where(Charge.arrest_id == Arrest.id, *charge)))
        return and_(true(), *conditions)

    def admits(self, record: ArrestRecord) -> bool:
        """The same decision as `condition`, on a record already built (`arrest_record`): for a
        record in memory, where a query per record would cost more than the decision. The two
        must agree; tests/sharing and the bench check it."""
        if record.sealed or (self.statuses is not None and record.status not in self.statuses):
            return False
        if self.grades is None and self.titles is None and self.sections is None:
            return True
        return any(
            (self.grades is None or charge.grade in self.grades)
            and (self.titles is None or charge.title in self.titles)
            and (self.sections is None or charge.section in self.sections)
            for charge in record.charges
        )


@dataclass(frozen=True)
class Grant:
    """One approved agreement version, ready to decide and project."""

    agreement_id: uuid.UUID
    version: int
    agency: str
    purposes: frozenset[str]
    channels: frozenset[str]
    fields: frozenset[str]
    scope: Scope
    require_case_reference: bool
    daily_query_limit: int | None
    starts: datetime
    ends: datetime  # exclusive
    # A query's case reference must name an open case the partner registered.
    require_registered_case: bool = False

    @cached_property
    def projection(self) -> tuple[tuple[str, tuple[str, ...] | None], ...]:
        """The granted members in the record's order: a member granted whole (None), or the
        granted members of one granted member by member (`person`: those of `person.*`
        granted; a member none of whose members is granted is left out). Computed once per
        grant (grants are immutable and cached), not once per projected record."""
        plan: list[tuple[str, tuple[str, ...] | None]] = []
        for member in GRANTABLE:
            if member.members is None:
                if member.name in self.fields:
                    plan.append((member.name, None))
                continue
            granted = tuple(m for m in member.members if f"{member.name}.{m}" in self.fields)
            if granted:
                plan.append((member.name, granted))
        return tuple(plan)

    @property
    def disclosed_fields(self) -> list[str]:
        """Every field name a projected record carries, as the disclosure names them."""
        return [*ALWAYS_PRESENT, *sorted(self.fields)]

    def project(self, record: ArrestRecord) -> SharedRecord:
        """Only the granted fields; an omitted field is absent (`MISSING`), not null. The
        members are the record's own (already validated) values, picked, not copied."""
        members: dict[str, Any] = {key: getattr(record, key) for key in ALWAYS_PRESENT}
        for name, granted in self.projection:
            value = getattr(record, name)
            members[name] = value if granted is None else {m: getattr(value, m) for m in granted}
        return SharedRecord.model_validate(members)


@dataclass(frozen=True)
class Plan:
    """An agreement compiled: its grants (in order of approval) and the agreement-wide stops."""

    agreement_id: uuid.UUID
    revision: int
    suspended: bool
    terminated_at: datetime | None
    grants: tuple[Grant, ...]

    def in_force_at(self, instant: datetime) -> Grant | None:
        if self.suspended or (self.terminated_at is not None and instant >= self.terminated_at):
            return None
        # Newest approval first: a later approval supersedes from its own start.
        for grant in reversed(self.grants):
            if grant.starts <= instant < grant.ends:
                return grant
        return None


def compile_agreement(agreement: Agreement) -> Plan:
    """A version is in force from max(effective_from, approval) until it expires or a version
    approved after it takes effect, whichever is first."""
    approved = sorted(
        (v for v in agreement.versions if v.approved_at is not None),
        key=lambda v: (v.approved_at, v.version),
    )
    starts = [max(v.effective_from, v.approved_at) for v in approved if v.approved_at is not None]
    grants = []
    for index, version in enumerate(approved):
        later = [s for s in starts[index + 1 :] if s >= starts[index]]
        ends = min([version.expires_at, *later])
        grants.append(_grant(agreement, version, starts[index], ends))
    return Plan(agreement.id, agreement.revision, agreement.suspended, agreement.terminated_at, tuple(grants))


def _grant(agreement: Agreement, version: AgreementVersion, starts: datetime, ends: datetime) -> Grant:
    return Grant(
        agreement_id=agreement.id,
        version=version.version,
        agency=agreement.agency.code,
        purposes=frozenset(version.purposes),
        channels=frozenset(version.channels),
        fields=frozenset(version.fields),
        scope=Scope.from_terms(version.scope),
        require_case_reference=version.require_case_reference,
        require_registered_case=version.require_registered_case,
        daily_query_limit=version.daily_query_limit,
        starts=starts,
        ends=ends,
    )


class PlanCache:
    def __init__(self) -> None:
        self._plans: dict[uuid.UUID, Plan] = {}
        self._lock = threading.Lock()

    def plan(self, session: Session, agreement_id: uuid.UUID, revision: int) -> Plan:
        cached = self._plans.get(agreement_id)
        if cached is not None and cached.revision == revision:
            return cached
        agreement = session.get_one(Agreement, agreement_id)
        plan = compile_agreement(agreement)
        with self._lock:
            self._plans[agreement_id] = plan
        return plan

    def clear(self) -> None:
        with self._lock:
            self._plans.clear()


# A process-global cache the gate reads on every partner request. What: each agreement's
# compiled plan (its grants, scopes as SQL). Bound: one plan per agreement (agreements number
# about as many as partner agencies; a terminated one stays, a few hundred bytes). Invalidated:
# by the agreement's revision, which every change bumps (read on each request, one indexed
# query), so a change made by any process is compiled here on the next request; `clear` for tests.
PLANS = PlanCache()


# Built once: this runs on every partner request. Its first two columns are what `grant_among`
# reads; the gate adds its quota's columns to it (`pars.sharing.gate.core`), one round trip.
# Core (table columns), not ORM attributes: an ORM-enabled select costs more to run, for nothing here.
_agreements, _agencies = cast(Table, Agreement.__table__), cast(Table, Agency.__table__)
AGREEMENTS_OF = (
    select(_agreements.c.id, _agreements.c.revision)
    .join_from(_agreements, _agencies)
    .where(_agencies.c.code == bindparam("agency"))
)


def grant_in_force(session: Session, agency_code: str, instant: datetime) -> Grant | None:
    """The grant of the agency's agreement in force at `instant`, if any. One small indexed
    query per call; compiling happens only after a change."""
    return grant_among(session, session.execute(AGREEMENTS_OF, {"agency": agency_code}).all(), instant)


def grant_among(session: Session, agreements: Iterable[Sequence[Any]], instant: datetime) -> Grant | None:
    """The grant in force at `instant` among the agency's agreements, rows of `AGREEMENTS_OF`
    (agreement id, revision, ...) read in this request: the revision read now, not a cached
    one, is what makes a change made on another node stop the very next request."""
    for row in agreements:
        grant = PLANS.plan(session, row[0], row[1]).in_force_at(instant)
        if grant is not None:
            return grant
    return None
