"""Builds one seeded world and runs it: principals, agreements approved by the stakeholders,
arrests booked day by day, every partner act sent through the real services in time order
(the clock frozen at each act's instant, never slept), then the oversight scan over the trail.
"""

from __future__ import annotations

import random
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import scenarios
from scenarios import Act, Episode, Plan
from sqlalchemy import select
from world import ZONE, Database, Population, book_all, city_midnight, fresh_database, open_database

from pars.actors import SYSTEM, Actor
from pars.auth.models import User
from pars.auth.schemas import AgencyIn, UserIn
from pars.auth.service import actor_for, create_agency, create_user
from pars.clock import FrozenClock
from pars.errors import DomainError
from pars.oversight.models import Alert
from pars.oversight.scan import scan
from pars.permissions import Role
from pars.records.search import parse_search
from pars.sharing import agreements, cases, gate
from pars.sharing.agreements import Policy
from pars.sharing.gate import PartnerRequest
from pars.sharing.schemas import AgreementIn, CaseIn
from pars.work import unit_of_work

START = date(2026, 1, 5)  # a Monday; the partner traffic starts here, city time
PRIOR_WEEKS = 20  # arrests before the daily history, at a lower rate (people partners look up later)
HISTORY_WEEKS = 4  # arrests every day before partner traffic


@dataclass(frozen=True)
class Size:
    per_day: float  # arrests per day
    prior: int  # arrests in the PRIOR_WEEKS before


FULL = Size(per_day=90, prior=6000)
SMALL = Size(per_day=30, prior=1500)


@dataclass
class AlertRow:
    rule: str
    agency: str
    user: str | None  # handle
    start: datetime
    end: datetime
    severity: str
    summary: str


@dataclass
class WorldResult:
    seed: int
    episodes: list[Episode]
    alerts: list[AlertRow]
    queries: int
    refused: int
    arrests: int
    seconds: float


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run_world(seed: int, *, weeks: int, small: bool, database: str, workdir: Path) -> WorldResult:
    began = time.monotonic()
    rng = random.Random(seed)  # noqa: S311 - a seeded world must be reproducible, not secret
    size = SMALL if small else FULL
    start = city_midnight(START)
    population = Population(rng)
    prior_from = start - timedelta(weeks=HISTORY_WEEKS + PRIOR_WEEKS)
    for _ in range(size.prior):
        population.book(prior_from + timedelta(days=rng.uniform(0, 7 * PRIOR_WEEKS)))
    population.daily(START - timedelta(weeks=HISTORY_WEEKS), 7 * (HISTORY_WEEKS + weeks), size.per_day)
    world_plan = scenarios.plan(rng, population, start, weeks, small=small)
    first_instant = prior_from - timedelta(days=2)
    with fresh_database(database, workdir, f"s{seed}") as url, open_database(url, workdir, first_instant) as db:
        actors, clerk = _principals(db, world_plan, first_instant)
        _agreements(db, actors, world_plan, start)
        counts = _run(db, actors, clerk, population, world_plan, seed=seed, weeks=weeks, began=began)
        end = start + timedelta(weeks=weeks)
        progress(f"seed {seed}: scanning the trail")
        scan(db.factory, FrozenClock(end + timedelta(hours=1)), db.settings, policy=db.policy)
        alerts = _alerts(db, actors)
    return WorldResult(seed, world_plan.episodes, alerts, counts[0], counts[1], len(population.arrests),
                       time.monotonic() - began)  # fmt: skip


CITY = [("PPD", "Philadelphia Police Department", False), ("DAO", "District Attorney's Office", True),
        ("FJD", "First Judicial District", True), ("CITY", "City of Philadelphia", True)]  # fmt: skip


def _principals(db: Database, world_plan: Plan, at: datetime) -> tuple[dict[str, Actor], Actor]:
    actors: dict[str, Actor] = {}
    with unit_of_work(db.factory, FrozenClock(at), policy=db.policy) as session:
        for code, name, stakeholder in CITY:
            create_agency(session, SYSTEM, AgencyIn(code=code, name=name, kind="city", stakeholder=stakeholder))
        for partner in scenarios.PARTNERS:
            create_agency(session, SYSTEM, AgencyIn(code=partner.code, name=partner.name, kind="partner"))
        users = {"ppd.booking": ("PPD", [Role.BOOKING])} | {
            f"{code.lower()}.governance": (code, [Role.GOVERNANCE]) for code in ("DAO", "FJD", "CITY")
        }
        users |= {handle: (agency, [Role.PARTNER]) for handle, agency in world_plan.users.items()}
        for handle, (agency, roles) in users.items():
            user, _ = create_user(session, SYSTEM, UserIn(agency=agency, name=handle, roles=roles))
            actors[handle] = actor_for(session.get_one(User, user.id))
    return actors, actors["ppd.booking"]


def _agreements(db: Database, actors: dict[str, Actor], world_plan: Plan, start: datetime) -> None:
    """Every partner's agreement proposed by the city, approved by two stakeholders' votes,
    in force from eight weeks before the partner traffic; ICE's ends during it."""
    rules = Policy(frozenset(db.settings.protected_fields), frozenset(db.settings.prohibited_purposes),
                   db.settings.agreement_quorum)  # fmt: skip
    proposed = start - timedelta(weeks=9)
    for partner in scenarios.PARTNERS:
        expires = world_plan.ice_expiry if partner.code == "ICE" else start + timedelta(weeks=52)
        terms: dict[str, Any] = {
            "agency": partner.code, "title": f"{partner.name}: arrest data", "document_ref": f"MOU-{partner.code}-2025",
            "effective_from": start - timedelta(weeks=8), "expires_at": expires, "purposes": list(partner.purposes),
            "channels": ["query", "feed"], "fields": scenarios.FIELDS, "scope": partner.scope,
            "require_case_reference": partner.require_case_reference, "daily_query_limit": partner.daily_query_limit,
        }  # fmt: skip
        governance = actors["city.governance"]
        with unit_of_work(db.factory, FrozenClock(proposed), policy=db.policy, actor=governance) as session:
            agreement_id = agreements.propose(session, actors["city.governance"], AgreementIn.model_validate(terms),
                                              rules).id  # fmt: skip
        for n, voter in enumerate(("dao.governance", "fjd.governance"), start=1):
            voted = FrozenClock(proposed + timedelta(days=n))
            with unit_of_work(db.factory, voted, policy=db.policy, actor=actors[voter]) as session:
                agreements.vote(session, actors[voter], agreement_id, "yes", rules)


def _run(db: Database, actors: dict[str, Actor], clerk: Actor, population: Population, world_plan: Plan,
         *, seed: int, weeks: int, began: float) -> tuple[int, int]:  # fmt: skip
    """Books arrests and sends acts in time order; reports progress each simulated week."""
    pending = sorted(population.arrests, key=lambda a: a.arrested_at)
    booked, queries, refused = 0, 0, 0
    start, shown = city_midnight(START), -2
    for act in world_plan.acts:
        due = booked
        while due < len(pending) and pending[due].arrested_at + timedelta(hours=1) <= act.at:
            due += 1
        if due > booked:
            book_all(db, clerk, population, pending[booked:due])
            booked = due
        week = min(weeks, (act.at - start).days // 7 + 1)  # 0: the warm-up week
        if week != shown:
            shown = week
            elapsed = time.monotonic() - began
            progress(f"seed {seed}: week {week} of {weeks} ({act.at.astimezone(ZONE):%Y-%m-%d}) · {booked} arrests "
                     f"booked · {queries} partner queries ({refused} refused) · {elapsed:.0f} s")  # fmt: skip
        asked, refusals = _perform(db, actors[act.user], act)
        queries, refused = queries + asked, refused + refusals
    book_all(db, clerk, population, pending[booked:])
    return queries, refused


def _perform(db: Database, actor: Actor, act: Act) -> tuple[int, int]:
    """Sends one act; returns (partner queries made, of which refused)."""
    request = PartnerRequest(purpose=act.purpose, case_reference=act.case)
    if act.kind == "register":
        _register(db, actor, act)
        return 0, 0
    found: str | None = None
    try:
        with unit_of_work(db.factory, FrozenClock(act.at), policy=db.policy, actor=actor) as session:
            if act.kind == "probe":  # as the HTTP layer does first: a record field is a probe
                parse_search(act.params)
                raise AssertionError("a probe passed the parameter check")
            if act.kind == "read":
                target = act.arrest_id or (act.target.arrest_id if act.target else None)
                assert target is not None
                gate.read(session, actor, target, request, zone=ZONE)
                return 1, 0
            params = dict(act.params)
            if params.get("tracking_number") == "?":
                assert act.target is not None and act.target.tracking_number is not None
                params["tracking_number"] = act.target.tracking_number
            params = {k: v for k, v in params.items() if v}
            page = gate.search(session, actor, parse_search(params), request, zone=ZONE)
            found = str(page.items[0].id) if page.items else None
    except DomainError:
        return 1, 1
    if not (act.then_read and found):
        return 1, 0
    try:
        later = FrozenClock(act.at + timedelta(seconds=40))
        with unit_of_work(db.factory, later, policy=db.policy, actor=actor) as session:
            gate.read(session, actor, uuid.UUID(found), request, zone=ZONE)
    except DomainError:
        return 2, 1
    return 2, 0


def _register(db: Database, actor: Actor, act: Act) -> None:
    """A lawful partner registers the case it works, with its subjects (CONTRACT §7). The world
    gives each case a new reference, so a refusal here is a fault of the world: it is raised."""
    body = {"reference": act.case, "title": act.title, "opened_at": act.at, "subjects": act.subjects}
    with unit_of_work(db.factory, FrozenClock(act.at), policy=db.policy, actor=actor) as session:
        cases.register(session, actor, CaseIn.model_validate(body), zone=ZONE)


def _alerts(db: Database, actors: dict[str, Actor]) -> list[AlertRow]:
    handles = {actor.user_id: handle for handle, actor in actors.items()}
    with db.factory() as session:
        return [
            AlertRow(
                a.rule,
                a.agency,
                handles.get(a.user_id) if a.user_id else None,
                a.window_start,
                a.window_end,
                a.severity,
                a.summary,
            )
            for a in session.scalars(select(Alert).order_by(Alert.window_start))
        ]
