"""The scanner: incremental over the trail, one alert per pattern and window however the trail
is read, in order or not, in one batch or many, again from the start; and the worker runs it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from pars import worker as worker_module
from pars.actors import Actor, CityActor
from pars.audit.chain import CheckpointPolicy
from pars.audit.models import AuditEntry
from pars.clock import FrozenClock
from pars.db import make_session_factory
from pars.feed.worker import stop_worker
from pars.oversight import windows
from pars.oversight.models import Alert, ScanCursor
from pars.oversight.scan import ScanResult, rebuild, scan, scan_once
from pars.settings import Settings
from pars.work import unit_of_work
from tests.oversight.conftest import Ask, Person, Refuse, Trail, at
from tests.oversight.test_rules_cases import Deny, Look, Writer, arrested, write  # noqa: F401  (fixtures)

NEW_YORK = ZoneInfo("America/New_York")


def test_one_alert_per_window_however_the_trail_is_read(
    trail: Trail, partner: Callable[..., Actor], people: Callable[[int], list[Person]],
    run_scan: Callable[..., ScanResult], alerts: Callable[..., list[Alert]], db: Engine,
    policy: CheckpointPolicy,
) -> None:  # fmt: skip
    ice = partner("ICE")
    crowd = people(12)
    first = [s for i, p in enumerate(crowd[:6]) for s in trail.write(ice, at(0, 1 + i / 10), Ask([p]))]
    result = run_scan()
    assert result.queries == 6 and result.raised == 1 and result.caught_up
    assert [(a.rule, a.evidence) for a in alerts()] == [("no_case_reference", first)]
    # More of the same night: the same alerts grow, one more (broad_search) appears.
    more = [s for i, p in enumerate(crowd[6:]) for s in trail.write(ice, at(0, 2 + i / 10), Ask([p]))]
    result = run_scan(limit=3)  # in small batches
    assert result.raised == 1 and result.updated >= 1
    assert {(a.rule, tuple(a.evidence)) for a in alerts()} == {
        ("no_case_reference", tuple(first + more)),
        ("broad_search", tuple(first + more)),
    }
    # Scanning again finds nothing new; rebuilding the tallies and rescanning duplicates nothing.
    assert run_scan().queries == 0
    ids = {a.id for a in alerts()}
    with unit_of_work(make_session_factory(db), FrozenClock(at(1)), policy=policy) as work:
        rebuild(work)
    assert run_scan().queries == 12
    assert {a.id for a in alerts()} == ids and len(alerts()) == 2


def test_raising_is_on_the_trail_and_the_cursor_follows_seq_not_time(
    trail: Trail, partner: Callable[..., Actor], people: Callable[[int], list[Person]],
    run_scan: Callable[..., ScanResult], alerts: Callable[..., list[Alert]], session: Session,
) -> None:  # fmt: skip
    ice = partner("ICE")
    crowd = people(5)
    # Written newest first: the trail's order is not time's order (the demo writes history).
    for i, p in enumerate(reversed(crowd)):
        trail.write(ice, at(0, 5 - i / 10), Ask([p]))
    run_scan()
    (alert,) = alerts()
    assert alert.rule == "no_case_reference" and len(alert.evidence) == 5
    raised = session.scalars(select(AuditEntry).where(AuditEntry.action == "oversight.alert_raise")).all()
    assert [(e.target, e.details["rule"], e.agency) for e in raised] == [(str(alert.id), "no_case_reference", "PARS")]
    assert session.get_one(ScanCursor, "detectors").seq == max(trail.written)
    # The raise entry came after the queries: the next scan reads past it, and raises nothing.
    again = run_scan()
    assert (again.entries, again.queries, again.raised, again.through) == (1, 0, 0, max(trail.written) + 1)


def test_city_users_searches_are_not_partner_misuse(
    trail: Trail, people: Callable[[int], list[Person]], run_scan: Callable[..., ScanResult], alerts: Callable[..., list[Alert]],
) -> None:  # fmt: skip
    """A clerk reading ten records at night is the job; a probe by place of birth is not."""
    clerk = CityActor(None, "PPD", frozenset())
    for i, p in enumerate(people(10)):
        trail.write(clerk, at(0, 1 + i / 10), Ask([p]))
    trail.write(clerk, at(0, 3), Refuse("protected_field_probe", parameters=["citizenship"]))
    run_scan()
    assert [(a.rule, a.agency, a.severity) for a in alerts()] == [("protected_field_probe", "PPD", "high")]


def test_the_worker_raises_alerts_while_it_runs(
    db: Engine, settings: Settings, trail: Trail, partner: Callable[..., Actor],
    people: Callable[[int], list[Person]], alerts: Callable[..., list[Alert]],
) -> None:  # fmt: skip
    """`pars serve` and `pars worker` run the detectors every PARS_OVERSIGHT_SCAN_SECONDS; an
    alert appears well within the 30 seconds CONTRACT §10 allows."""
    ice = partner("ICE")
    crowd = people(6)
    tuned = settings.model_copy(update={"oversight_scan_seconds": 0.2})
    worker = worker_module.build(tuned, db, FrozenClock(at(1)), poll=0.1)
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,), daemon=True)
    thread.start()
    try:
        for i, p in enumerate(crowd):
            trail.write(ice, at(0, 1 + i / 10), Ask([p]))
        written = time.monotonic()
        while not alerts() and time.monotonic() - written < 30:
            time.sleep(0.1)
        assert [a.rule for a in alerts()] == ["no_case_reference"]
        assert time.monotonic() - written < 30
    finally:
        stop_worker(stop, worker.wake)
        thread.join(10)


def test_windows_follow_city_time_across_daylight_saving() -> None:
    # March 8, 2026: clocks go from 2:00 to 3:00 in Philadelphia; the city day has 23 hours.
    spring = datetime(2026, 3, 8, 12, tzinfo=UTC)
    day = windows.day(spring, NEW_YORK)
    assert day.end - day.start == timedelta(hours=23)
    assert day.start == datetime(2026, 3, 8, 5, tzinfo=UTC)
    # 1 a.m. on November 1, 2026 happens twice; both fall in the same night, which began on October 31.
    first, second = datetime(2026, 11, 1, 5, 30, tzinfo=UTC), datetime(2026, 11, 1, 6, 30, tzinfo=UTC)
    night_a, night_b = windows.night(first, NEW_YORK, 22, 6), windows.night(second, NEW_YORK, 22, 6)
    assert night_a == night_b and night_a is not None
    assert night_a.start == datetime(2026, 11, 1, 2, tzinfo=UTC) and night_a.end - night_a.start == timedelta(hours=9)
    assert windows.night(datetime(2026, 11, 1, 17, tzinfo=UTC), NEW_YORK, 22, 6) is None
    # Six-hour blocks and Monday-based weeks, in city time.
    block = windows.block(datetime(2026, 2, 4, 9, 30, tzinfo=UTC), NEW_YORK, 6)  # 04:30 EST
    assert (block.start, block.end) == (datetime(2026, 2, 4, 5, tzinfo=UTC), datetime(2026, 2, 4, 11, tzinfo=UTC))
    week = windows.span(datetime(2026, 2, 4, 9, tzinfo=UTC), NEW_YORK, 7)
    assert week.start.astimezone(NEW_YORK).strftime("%a %d") == "Mon 02" and week.end - week.start == timedelta(days=7)


def test_a_second_scanner_skips_while_one_holds_the_cursor(
    db: Engine, settings: Settings, trail: Trail, partner: Callable[..., Actor], people: Callable[[int], list[Person]],
    alerts: Callable[..., list[Alert]],
    policy: CheckpointPolicy,
) -> None:  # fmt: skip
    """PostgreSQL: scanners in several processes never count an entry twice; one that finds
    the cursor taken skips its round. (On SQLite the database's write lock queues them.)"""
    if db.dialect.name != "postgresql":
        pytest.skip("SQLite serialises writers with its own lock")
    ice = partner("ICE")
    factory = make_session_factory(db)
    scan(factory, FrozenClock(at(1)), settings, policy=policy)  # the cursor row exists from the first scan on
    for i, p in enumerate(people(6)):
        trail.write(ice, at(0, 1 + i / 10), Ask([p]))
    with unit_of_work(factory, FrozenClock(at(1)), policy=policy) as holder:
        first = scan_once(holder, settings, limit=1000)
        with unit_of_work(factory, FrozenClock(at(1)), policy=policy) as other:
            assert scan_once(other, settings, limit=1000).busy
        assert first.raised == 1
    assert len(alerts()) == 1 and scan(factory, FrozenClock(at(1)), settings, policy=policy).queries == 0


def test_the_new_rules_raise_once_per_window_however_the_trail_is_read(
    write: Writer, partner: Callable[..., Actor], arrested: Callable[..., list[Person]],  # noqa: F811
    run_scan: Callable[..., ScanResult], alerts: Callable[..., list[Alert]], db: Engine,
    policy: CheckpointPolicy,
) -> None:  # fmt: skip
    """refused_sweep, demographic_skew (per user) and repeated lookups under fresh references,
    read in batches of three entries, then rebuilt and read again: the same alerts."""
    week = at(-1, 9)
    hispanic = arrested(22, week, ethnicity="Hispanic")
    arrested(80, week, ethnicity="Non-Hispanic")
    sweeper, colleague = partner("ICE"), partner("ICE")
    write(sweeper, at(0, 9), *[Deny("ambiguous", persons=5, subject=f"{i:032x}") for i in range(7)])
    write(sweeper, at(0, 11), *[Look([p], case=f"I-{i}") for i, p in enumerate(hispanic[:21])])
    write(colleague, at(0, 12), Deny("ambiguous", persons=2))
    for d in range(5):  # one person, day after day, under a new reference each time
        write(colleague, at(d, 14), Look([hispanic[21]], case=f"S-{d}"))
    run_scan(limit=3)
    first = {(a.rule, a.user_id, tuple(a.evidence)) for a in alerts()}
    assert {(rule, user) for rule, user, _ in first} >= {
        ("refused_sweep", sweeper.user_id), ("demographic_skew", sweeper.user_id),
        ("repeated_person_lookup", colleague.user_id),
    }  # fmt: skip
    ids = {a.id for a in alerts()}
    with unit_of_work(make_session_factory(db), FrozenClock(at(1)), policy=policy) as work:
        rebuild(work)
    run_scan()
    assert {a.id for a in alerts()} == ids
    assert {(a.rule, a.user_id, tuple(a.evidence)) for a in alerts()} == first
