"""Each rule: a synthetic trail that must raise it, and a lawful trail of the same volume that
must not. A busy, case-bound partner is not a fishing expedition."""

from __future__ import annotations

from collections.abc import Callable

from pars.actors import Actor
from pars.audit import AuditAction
from pars.oversight.models import Alert
from pars.oversight.scan import ScanResult
from pars.settings import Settings
from tests.oversight.conftest import Ask, Person, Refuse, Trail, at
from tests.oversight.test_rules_cases import Look, Writer, write  # noqa: F401  (a fixture)


def rules_of(found: list[Alert]) -> list[tuple[str, str, str]]:
    return [(a.rule, a.agency, a.severity) for a in found]


def test_no_case_reference(
    trail: Trail, partner: Callable[..., Actor], people: Callable[[int], list[Person]],
    run_scan: Callable[..., ScanResult], alerts: Callable[..., list[Alert]],
) -> None:  # fmt: skip
    ice, fbi = partner("ICE"), partner("FBI")
    crowd = people(8)
    seqs = [s for i, p in enumerate(crowd[:6]) for s in trail.write(ice, at(0, 1 + i / 4), Ask([p]))]
    seqs += trail.write(ice, at(0, 3), Refuse("case_reference_required", agreement_id=None))
    # The lawful twin: the same seven queries, each naming its case.
    for i, p in enumerate(crowd[:7]):
        trail.write(fbi, at(0, 10 + i / 4), Ask([p], case=f"FBI-{i}"))
    run_scan()
    found = alerts()
    assert rules_of(found) == [("no_case_reference", "ICE", "medium")]
    assert found[0].evidence == seqs
    assert found[0].details["answered"] == 6 and found[0].details["refused"] == 1
    assert found[0].user_id is not None and str(found[0].user_id) == str(ice.user_id)


def test_broad_search(
    trail: Trail, partner: Callable[..., Actor], people: Callable[[int], list[Person]],
    run_scan: Callable[..., ScanResult], alerts: Callable[..., list[Alert]],
) -> None:  # fmt: skip
    ice, fbi, atf = partner("ICE"), partner("FBI"), partner("ATF")
    crowd = people(10)
    # Ten different people in one night, no case: a sweep. Two searches found nobody (keyed subjects).
    sweep = [s for i, p in enumerate(crowd[:8]) for s in trail.write(ice, at(0, 1 + i / 4), Ask([p], case="X"))]
    sweep += trail.write(ice, at(0, 3.5), Ask([], subject="a" * 32, case="X"))
    # The same volume, each person under its own case: a busy partner.
    for i, p in enumerate(crowd[:9]):
        trail.write(fbi, at(0, 1 + i / 4), Ask([p], case=f"FBI-{i}"))
    # The same people again and again under one case reference: few people, not broad.
    for i in range(9):
        trail.write(atf, at(0, 1 + i / 4), Ask([crowd[i % 3]], case="ATF-1"))
    run_scan()
    found = alerts("broad_search")
    assert rules_of(found) == [("broad_search", "ICE", "medium")]
    assert found[0].evidence == sweep and found[0].details["people"] == 9
    assert "under a single case reference" in found[0].summary


def test_broad_search_without_any_case_is_high(
    trail: Trail, partner: Callable[..., Actor], people: Callable[[int], list[Person]],
    run_scan: Callable[..., ScanResult], alerts: Callable[..., list[Alert]],
) -> None:  # fmt: skip
    ice = partner("ICE")
    for i, p in enumerate(people(8)):
        trail.write(ice, at(0, 2 + i / 8), Ask([p]))
    run_scan()
    assert rules_of(alerts("broad_search")) == [("broad_search", "ICE", "high")]
    assert "without any case reference" in alerts("broad_search")[0].summary


def test_protected_field_probe(
    trail: Trail, partner: Callable[..., Actor], people: Callable[[int], list[Person]],
    run_scan: Callable[..., ScanResult], alerts: Callable[..., list[Alert]],
) -> None:  # fmt: skip
    ice, fbi, atf = partner("ICE"), partner("FBI"), partner("ATF")
    person = people(1)[0]
    probe = trail.write(ice, at(0, 2), Refuse("protected_field_probe", parameters=["place_of_birth"], purpose=None))
    # The same volume, lawful: one search by name and birth date.
    trail.write(fbi, at(0, 2), Ask([person], case="FBI-1"))
    # Searches by parameters the agreement does not grant: three in a day is worth a (low) look.
    ungranted = trail.write(atf, at(0, 3), *[Refuse("parameter_not_granted", parameters=["dob"])] * 3)
    trail.write(atf, at(1, 3), *[Refuse("parameter_not_granted", parameters=["dob"])] * 2)
    run_scan()
    found = alerts()
    assert rules_of(found) == [("protected_field_probe", "ATF", "low"), ("protected_field_probe", "ICE", "high")]
    assert found[1].evidence == probe and found[1].details["parameters"] == {"place_of_birth": 1}
    assert found[0].evidence == ungranted


def test_volume_spike(
    trail: Trail, partner: Callable[..., Actor], people: Callable[[int], list[Person]],
    run_scan: Callable[..., ScanResult], alerts: Callable[..., list[Alert]], settings: Settings,
) -> None:  # fmt: skip
    tuned = settings.model_copy(update={"oversight_volume_min": 20, "oversight_no_case_min": 1000})
    ice, fbi = partner("ICE"), partner("FBI")
    person = people(1)[0]
    ask = Ask([person], case="C-1")
    # ICE: 4 a day for 8 days, then 25. FBI: 25 a day for 8 days, then 25 (busy, but its usual).
    for day in range(8):
        trail.write(ice, at(day, 11), *[ask] * 4)
        trail.write(fbi, at(day, 11), *[ask] * 25)
    spike = trail.write(ice, at(8, 11), *[ask] * 25)
    trail.write(fbi, at(8, 11), *[ask] * 25)
    run_scan(tuned)
    found = alerts("volume_spike")
    assert rules_of(found) == [("volume_spike", "ICE", "medium")]
    assert found[0].evidence == spike and found[0].details["baseline_per_day"] == 4.0
    # The agency had one user: one alert, naming that user, not a second one for the user.
    assert found[0].user_id == ice.user_id


def test_volume_spike_needs_a_history(
    trail: Trail, partner: Callable[..., Actor], people: Callable[[int], list[Person]],
    run_scan: Callable[..., ScanResult], alerts: Callable[..., list[Alert]], settings: Settings,
) -> None:  # fmt: skip
    tuned = settings.model_copy(update={"oversight_volume_min": 20, "oversight_no_case_min": 1000})
    ice = partner("ICE")
    ask = Ask(people(1), case="C-1")
    trail.write(ice, at(0, 11), *[ask] * 2)
    trail.write(ice, at(3, 11), *[ask] * 60)  # three days of history: no pattern to compare with yet
    run_scan(tuned)
    assert alerts("volume_spike") == []


def test_off_hours_bulk(
    trail: Trail, partner: Callable[..., Actor], people: Callable[[int], list[Person]],
    run_scan: Callable[..., ScanResult], alerts: Callable[..., list[Alert]], settings: Settings,
) -> None:  # fmt: skip
    tuned = settings.model_copy(update={"oversight_volume_min": 1000, "oversight_no_case_min": 1000})
    ice, night_shift = partner("ICE"), partner("USMS")
    ask = Ask(people(1), case="C-1")
    # ICE works office hours for ten days, then 15 queries at 2 a.m.; the marshals' night shift
    # makes 15 queries every night, and then 15 more.
    for day in range(10):
        trail.write(ice, at(day, 14), *[ask] * 15)
        trail.write(night_shift, at(day, 2), *[ask] * 15)
    burst = trail.write(ice, at(10, 2), *[ask] * 15)
    trail.write(night_shift, at(10, 2), *[ask] * 15)
    run_scan(tuned)
    found = alerts("off_hours_bulk")
    assert rules_of(found) == [("off_hours_bulk", "ICE", "medium")]
    assert found[0].evidence == burst and "in the night of Fri 2026-02-13" in found[0].summary


def test_outside_scope_probe(
    trail: Trail, partner: Callable[..., Actor], people: Callable[[int], list[Person]],
    run_scan: Callable[..., ScanResult], alerts: Callable[..., list[Alert]],
) -> None:  # fmt: skip
    ice, atf, fbi = partner("ICE"), partner("ATF"), partner("FBI")
    # After its agreement ended, ICE keeps asking: three times in a week.
    ended = [s for d in range(3) for s in trail.write(ice, at(d, 1), Refuse("no_agreement_in_force"))]
    # ATF reads records outside its (firearms) scope, five times in a week.
    scope = [s for d in range(5) for s in trail.write(atf, at(d, 10), Refuse("not_found_or_out_of_scope",
             action=AuditAction.ARREST_READ, case="ATF-1"))]  # fmt: skip
    # FBI: the same volume, lawful: reads in scope, and one mistyped id a week.
    for d, someone in enumerate(people(4)):
        trail.write(fbi, at(d, 10), Ask([someone], case=f"F-{d}", action=AuditAction.ARREST_READ))
    for week in range(2):
        trail.write(fbi, at(7 * week, 10), Refuse("not_found_or_out_of_scope", action=AuditAction.ARREST_READ))
    run_scan()
    found = alerts()
    assert rules_of(found) == [("outside_scope_probe", "ATF", "medium"), ("outside_scope_probe", "ICE", "high")]
    assert found[0].evidence == scope and found[1].evidence == ended


def test_repeated_person_lookup(
    trail: Trail, write: Writer, partner: Callable[..., Actor], people: Callable[[int], list[Person]],  # noqa: F811
    run_scan: Callable[..., ScanResult], alerts: Callable[..., list[Alert]],
) -> None:  # fmt: skip
    ice, fbi, atf = partner("ICE"), partner("FBI"), partner("ATF")
    watched, other = people(2)
    # ICE checks on one person every day, without a case.
    looks = [s for d in range(3) for s in trail.write(ice, at(d, 2), Ask([watched]))]
    # FBI looks the same person up as often, each time for a new case of which they are a subject.
    for d in range(3):
        write(fbi, at(d, 11), Look([watched], case=f"FBI-{d}", registered=True, subjects=1, explained=True))
    # And once more under two further cases that do not name them: two references are no pattern.
    for d in range(2):
        write(fbi, at(d, 15), Look([watched], case=f"FBI-X{d}"))
    # ATF searches and then reads what it found, twice a day for one case: one lookup each time.
    for d in range(2):
        trail.write(atf, at(d, 11), Ask([other], case="ATF-9"))
        trail.write(atf, at(d, 11.05), Ask([other], case="ATF-9", action=AuditAction.ARREST_READ))
    run_scan()
    found = alerts()
    assert rules_of(found) == [("repeated_person_lookup", "ICE", "high")]
    assert found[0].evidence == looks
    assert found[0].details["person_ids"] == [str(watched.person_id)]
