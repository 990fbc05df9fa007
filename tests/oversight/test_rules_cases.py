"""The rules evasion must not beat, each with its lawful twin: fresh case references
(case_reference_churn, broad_search, repeated_person_lookup), refused searches (refused_sweep),
and the context that makes lawful surges lawful (registered cases that explain a lookup, people
arrested in the last hours). Entries carry the members the gate writes (CONTRACT §7, COMMON
"Shared decisions"): ``case`` on answered queries, ``persons`` on ambiguous refusals."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from pars.actors import Actor, CityActor
from pars.audit import AuditAction, Outcome, record_disclosure, record_event
from pars.audit.chain import CheckpointPolicy
from pars.audit.models import AuditEntry
from pars.clock import FrozenClock
from pars.db import make_session_factory
from pars.oversight.models import Alert
from pars.oversight.scan import ScanResult
from pars.permissions import Role
from pars.records import intake
from pars.records.schemas import ArrestIn
from pars.settings import Settings
from pars.work import unit_of_work
from tests.conftest import User, arrest_body
from tests.oversight.conftest import AGREEMENT, FIELDS, Person, at


@dataclass(frozen=True)
class Look:
    """An answered query as the gate writes it, with the ``case`` member when a reference is given."""

    people: Sequence[Person] = ()
    case: str | None = None
    registered: bool = False
    subjects: int = 0
    explained: bool = False
    action: AuditAction = AuditAction.ARREST_SEARCH
    parameters: Sequence[str] = ("last_name", "first_name", "dob")
    subject: str | None = None


@dataclass(frozen=True)
class Deny:
    """A refused search: ``ambiguous`` (with ``persons``), ``search_too_broad``, ``unregistered_case``."""

    reason: str
    persons: int | None = None
    case: str | None = None
    subject: str | None = None
    parameters: Sequence[str] = ("last_name", "first_name")


Writer = Callable[..., list[int]]


@pytest.fixture
def write(db: Engine, policy: CheckpointPolicy) -> Writer:
    factory = make_session_factory(db)

    def put(actor: Actor, instant: datetime, *acts: Look | Deny) -> list[int]:
        with unit_of_work(factory, FrozenClock(instant), policy=policy, actor=actor) as session:
            before = session.scalar(select(func.max(AuditEntry.seq))) or 0
            for act in acts:
                if isinstance(act, Look):
                    extra: dict[str, Any] = {}
                    if act.action == AuditAction.ARREST_SEARCH:
                        extra["parameters"] = list(act.parameters)
                        if act.subject:
                            extra["subject"] = act.subject
                    if act.case is not None:
                        extra["case"] = {"registered": act.registered, "subjects": act.subjects,
                                         "explained": act.explained}  # fmt: skip
                    record_disclosure(
                        session, actor, act.action, agreement_id=AGREEMENT, agreement_version=1,
                        purpose="criminal_investigation", case_reference=act.case, channel="query",
                        records=[(p.arrest_id, p.person_id) for p in act.people], fields=FIELDS, details=extra,
                    )  # fmt: skip
                    continue
                details: dict[str, Any] = {"reason": act.reason, "purpose": "criminal_investigation",
                                           "case_reference": act.case, "channel": "query",
                                           "parameters": list(act.parameters)}  # fmt: skip
                if act.persons is not None:
                    details["persons"] = act.persons
                if act.subject:
                    details["subject"] = act.subject
                record_event(session, actor, AuditAction.ARREST_SEARCH, None, details, outcome=Outcome.REFUSED)
        with factory() as session:
            after = session.scalar(select(func.max(AuditEntry.seq))) or 0
        return list(range(before + 1, after + 1))

    return put


@pytest.fixture
def arrested(
    db: Engine, clock: FrozenClock, make_user: Callable[..., User], policy: CheckpointPolicy
) -> Callable[..., list[Person]]:
    """Books ``n`` people arrested at ``when``; keywords replace members of the person."""

    def book(n: int, when: datetime, **person: Any) -> list[Person]:
        clerk = make_user(Role.BOOKING)
        actor = CityActor(uuid.UUID(clerk.id), "PPD", frozenset({Role.BOOKING}))
        made = []
        with unit_of_work(make_session_factory(db), clock, policy=policy, actor=actor) as session:
            for i in range(n):
                body = arrest_body()
                body["person"] = {**body["person"], "name": {"first": f"Bo{i}", "last": f"P{uuid.uuid4().hex[:8]}"},
                                  "dob": f"19{60 + i % 40}-0{1 + i % 9}-1{i % 10}", **person}  # fmt: skip
                body["arrest"] = {**body["arrest"], "arrested_at": when.isoformat(),
                                  "incident_number": f"2624{uuid.uuid4().int % 10**6:06d}"}  # fmt: skip
                arrest = intake.book_arrest(session, actor, ArrestIn.model_validate(body))
                made.append(Person(arrest.id, arrest.person_id))
        return made

    return book


def found(alerts: Callable[..., list[Alert]], rule: str | None = None) -> list[tuple[str, str, str]]:
    return [(a.rule, a.agency, a.severity) for a in alerts(rule)]


LONG_AGO = at(-300)


def test_a_sweep_under_fresh_references_is_broad_search_but_a_task_force_case_is_not(
    write: Writer, partner: Callable[..., Actor], arrested: Callable[..., list[Person]],
    run_scan: Callable[..., ScanResult], alerts: Callable[..., list[Alert]],
) -> None:  # fmt: skip
    ice, fbi = partner("ICE"), partner("FBI")
    crowd = arrested(30, LONG_AGO)
    for day in range(8):  # both at work for a week: four lookups a day, each its own case
        write(ice, at(day, 10), *[Look([crowd[i]], case=f"ICE-{day}-{i}") for i in range(4)])
        write(fbi, at(day, 10), *[Look([crowd[i]], case=f"FBI-{day}-{i}", registered=True, subjects=1,
                                       explained=True) for i in range(4)])  # fmt: skip
    # ICE: 24 people in one night, each under a reference made up for it (no registered case).
    night = at(8, 1)
    sweep = [s for i, p in enumerate(crowd[:24]) for s in write(ice, night + timedelta(minutes=6 * i),
                                                                 Look([p], case=f"ICE-{i:04d}"))]  # fmt: skip
    # FBI's task force: 30 co-defendants under one registered case with 30 subjects, explained.
    for i, p in enumerate(crowd):
        write(fbi, night + timedelta(minutes=6 * i), Look([p], case="FBI-TF-1", registered=True, subjects=30,
                                                           explained=True))  # fmt: skip
    run_scan()
    assert found(alerts, "broad_search") == [("broad_search", "ICE", "medium")]
    alert = alerts("broad_search")[0]
    assert alert.evidence == sweep and alert.details["people"] == 24 and alert.details["references"] == 24
    assert "under 24 case references that are no registered case" in alert.summary
    assert str(alert.user_id) == str(ice.user_id)
    assert [a for a in alerts() if a.agency == "FBI"] == []


def test_refused_searches_count_toward_broad_search(
    write: Writer, partner: Callable[..., Actor], run_scan: Callable[..., ScanResult],
    alerts: Callable[..., list[Alert]],
) -> None:  # fmt: skip
    ice = partner("ICE")
    # Eight different common names tried under one reference: all refused as ambiguous.
    write(ice, at(0, 2), *[Deny("ambiguous", persons=9, case="ICE-1", subject=f"{i:032x}") for i in range(8)])
    run_scan()
    (alert,) = alerts("broad_search")
    assert alert.details["people"] == 8 and "under a single case reference" in alert.summary


def test_refused_sweep_and_its_lawful_twin(
    write: Writer, partner: Callable[..., Actor], arrested: Callable[..., list[Person]],
    run_scan: Callable[..., ScanResult], alerts: Callable[..., list[Alert]],
) -> None:  # fmt: skip
    ice, fbi = partner("ICE"), partner("FBI")
    person = arrested(1, LONG_AGO)[0]
    # ICE tries eight common names in a day, each refused as ambiguous or too broad.
    tries = [Deny("ambiguous", persons=11, subject=f"{i:032x}") for i in range(6)] + [Deny("search_too_broad")] * 2
    swept = write(ice, at(0, 14), *tries)
    # FBI's case work misses about six times a day (names not on file, a few ambiguous), every
    # day for ten days, then a day like the others: its own norm.
    for day in range(11):
        write(fbi, at(day, 10), Look([person], case=f"F-{day}"), *[Look([], case=f"F-{day}")] * 4,
              Deny("ambiguous", persons=2, subject=f"{day:032x}"), Deny("ambiguous", persons=2))  # fmt: skip
    run_scan()
    assert found(alerts, "refused_sweep") == [("refused_sweep", "ICE", "medium")]
    alert = alerts("refused_sweep")[0]
    assert alert.evidence == swept and alert.user_id == ice.user_id
    assert (alert.details["refused_ambiguous"], alert.details["refused_too_broad"]) == (6, 2)
    assert alert.details["persons_matched"] == 66 and alert.details["baseline_per_day"] is None


def test_refused_sweep_names_the_user(
    write: Writer, partner: Callable[..., Actor], run_scan: Callable[..., ScanResult],
    alerts: Callable[..., list[Alert]],
) -> None:  # fmt: skip
    """Two users of one agency: the one who swept has an alert of their own."""
    sweeper, colleague = partner("ICE"), partner("ICE")
    write(colleague, at(0, 9), Deny("ambiguous", persons=2), Deny("ambiguous", persons=3))
    swept = write(sweeper, at(0, 10), *[Deny("ambiguous", persons=8, subject=f"{i:032x}") for i in range(7)])
    run_scan()
    by_user = {a.user_id: a for a in alerts("refused_sweep")}
    assert sweeper.user_id in by_user and by_user[sweeper.user_id].evidence == swept
    assert f"user {sweeper.user_id}" in by_user[sweeper.user_id].summary
    assert colleague.user_id not in by_user


def test_case_reference_churn_against_the_agency_norm(
    write: Writer, partner: Callable[..., Actor], arrested: Callable[..., list[Person]],
    run_scan: Callable[..., ScanResult], alerts: Callable[..., list[Alert]], settings: Settings,
) -> None:  # fmt: skip
    tuned = settings.model_copy(update={"oversight_no_case_min": 1000, "oversight_broad_search_pooled_people": 1000,
                                        "oversight_volume_min": 1000})  # fmt: skip
    ice, warrants = partner("ICE"), partner("USMS")
    crowd = arrested(40, LONG_AGO)
    for day in range(9):
        # ICE's usual: three cases a day, each looked up twice (search, and again in the afternoon).
        for c in range(3):
            write(ice, at(day, 9), Look([crowd[c]], case=f"ICE-{day}-{c}"))
            write(ice, at(day, 15), Look([crowd[c]], case=f"ICE-{day}-{c}"))
        # The warrant unit: 25 warrants a day, each reference used once: its norm.
        write(warrants, at(day, 10), *[Look([crowd[i]], case=f"W-{day}-{i}") for i in range(25)])
    # Then ICE invents 30 references in one day, each used once; the unit keeps its rate.
    churn = write(ice, at(9, 20), *[Look([crowd[i]], case=f"X{i:05d}") for i in range(30)])
    write(warrants, at(9, 10), *[Look([crowd[i]], case=f"W-9-{i}") for i in range(25)])
    run_scan(tuned)
    assert found(alerts, "case_reference_churn") == [("case_reference_churn", "ICE", "medium")]
    alert = alerts("case_reference_churn")[0]
    assert alert.evidence == churn
    assert (alert.details["references"], alert.details["used_once"]) == (30, 30)
    assert alert.details["baseline_per_day"] == 3.0


def test_churn_of_a_new_partner_needs_more(
    write: Writer, partner: Callable[..., Actor], arrested: Callable[..., list[Person]],
    run_scan: Callable[..., ScanResult], alerts: Callable[..., list[Alert]], settings: Settings,
) -> None:  # fmt: skip
    """Without a history, PARS_OVERSIGHT_HIGH_FACTOR times the minimum: a new warrant unit at 25
    a day is not flagged on its first day; 50 invented references, refused as unregistered, are."""
    warrants, ice = partner("USMS"), partner("ICE")
    crowd = arrested(25, LONG_AGO)
    write(warrants, at(0, 10), *[Look([p], case=f"W-{i}") for i, p in enumerate(crowd)])
    write(ice, at(0, 22), *[Deny("unregistered_case", case=f"Z{i:04d}") for i in range(50)])
    run_scan()
    assert found(alerts, "case_reference_churn") == [("case_reference_churn", "ICE", "medium")]
    assert alerts("case_reference_churn")[0].details["refused_unregistered"] == 50


def test_repeated_lookups_under_fresh_references_and_the_custody_check(
    write: Writer, partner: Callable[..., Actor], arrested: Callable[..., list[Person]],
    run_scan: Callable[..., ScanResult], alerts: Callable[..., list[Alert]],
) -> None:  # fmt: skip
    ice, fbi, atf = partner("ICE"), partner("FBI"), partner("ATF")
    watched, defendant_a, defendant_b, other = arrested(4, LONG_AGO)
    # ICE looks one person up every day of the week, each time under a new reference.
    stalk = [s for d in range(6) for s in write(ice, at(d - 2, 8), Look([watched], case=f"ICE-{d:03d}"))]
    # FBI's daily custody check on two defendants of one registered case (explained), twice a day.
    for d in range(6):
        for hour in (9, 17):
            write(fbi, at(d - 2, hour), Look([defendant_a, defendant_b], case="FBI-77", registered=True,
                                             subjects=2, explained=True))  # fmt: skip
    # ATF looks up one person daily under one (unregistered) case: once a day, counted once a day.
    for d in range(2):
        write(atf, at(d, 9), Look([other], case="ATF-5"), Look([other], case="ATF-5"))
        write(atf, at(d, 16), Look([other], case="ATF-5"))
    run_scan()
    assert found(alerts, "repeated_person_lookup") == [("repeated_person_lookup", "ICE", "high")]
    alert = alerts("repeated_person_lookup")[0]
    assert alert.evidence == stalk and alert.details["most_references"] == 6
    assert alert.details["person_ids"] == [str(watched.person_id)]
    assert "under up to 6 different case references" in alert.summary


def test_a_ramp_up_after_the_citys_arrests_is_no_spike(
    write: Writer, partner: Callable[..., Actor], arrested: Callable[..., list[Person]],
    run_scan: Callable[..., ScanResult], alerts: Callable[..., list[Alert]], settings: Settings,
) -> None:  # fmt: skip
    tuned = settings.model_copy(update={"oversight_no_case_min": 1000})
    usms, ice = partner("USMS"), partner("ICE")
    old = arrested(60, LONG_AGO)
    fresh = arrested(50, at(9, 2))  # the city arrests 50 people in the night
    for day in range(9):
        # Five different people a day each, each under its own case.
        write(usms, at(day, 10), *[Look([old[day * 5 + i]], case=f"U-{day}-{i}") for i in range(5)])
        write(ice, at(day, 10), *[Look([old[day * 5 + i]], case=f"I-{day}-{i}") for i in range(5)])
    # The day after: USMS looks up the 50 new arrestees (under a registered round-up case, but
    # not as named subjects); ICE looks up 50 people arrested long ago.
    write(usms, at(9, 11), *[Look([p], case="U-ROUNDUP", registered=True, subjects=3) for p in fresh])
    burst = write(ice, at(9, 11), *[Look([p], case=f"I-9-{i}") for i, p in enumerate(old[:50])])
    run_scan(tuned)
    assert {a.agency for a in alerts("volume_spike")} == {"ICE"}
    assert alerts("volume_spike")[0].evidence == burst
    assert [a.agency for a in alerts("broad_search")] == ["ICE"]
    assert [a for a in alerts() if a.agency == "USMS"] == []


def test_meeting_the_same_person_again_by_chance_is_no_pattern(
    write: Writer, partner: Callable[..., Actor], arrested: Callable[..., list[Person]],
    run_scan: Callable[..., ScanResult], alerts: Callable[..., list[Alert]],
) -> None:  # fmt: skip
    """A busy unit among few people on file meets someone under three cases in a week; with that
    many lookups and so few people, chance does as much. One person of many, looked up on five
    days under five references by a quiet agency, is beyond it."""
    few = arrested(12, LONG_AGO)
    busy, quiet = partner("USMS"), partner("PSP")
    for d in range(5):
        write(busy, at(d, 10), *[Look([few[(d * 7 + i) % 12]], case=f"W-{d}-{i}") for i in range(7)])
    stalk = [s for d in range(5) for s in write(quiet, at(d, 20), Look([few[0]], case=f"PSP-{d:05d}"))]
    run_scan()
    assert found(alerts, "repeated_person_lookup") == [("repeated_person_lookup", "PSP", "high")]
    assert alerts("repeated_person_lookup")[0].evidence == stalk
