"""The partner side of an evaluation world: agencies and their agreements, busy lawful work,
planted misuse episodes and lawful twins, each episode labelled.

Sizes, times and names are drawn per seed from what the complaint about ICE and ordinary
police work describe (a sweep is tens to a hundred-odd names in an afternoon or a night; a
warrant unit clears a handful of warrants per deputy per day; a stalker looks up one person
a day or two for weeks), never from the detectors' settings: a rule tuned to its own test
world proves nothing.

The plan is only data (``Act``s in time order and ``Episode`` labels); ``run.py``'s loop sends
each act through the real services (cases, gate, search parameter checks).
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from world import Arrestee, Population, arrestee_person, city_midnight

from pars.demo import people

FIREARMS = ["6105", "6106", "6108", "6110.2", "907"]
FIELDS = [
    "person.name", "person.aliases", "person.dob", "person.sex", "person.race", "person.identifiers",
    "arrest.arrested_at", "arrest.district", "arrest.incident_number", "charges", "charging", "custody",
]  # fmt: skip

# Misuse kinds, and the rules that CONTRACT §10 and issue 12 say should recognise each.
EXPECTED: dict[str, tuple[str, ...]] = {
    "name_sweep_refs": ("case_reference_churn", "demographic_skew"),
    "name_sweep_noref": ("no_case_reference", "broad_search", "demographic_skew"),
    "profiling_sweep": ("demographic_skew",),
    "protected_probe": ("protected_field_probe",),
    "volume_burst": ("volume_spike",),
    "night_bulk": ("off_hours_bulk",),
    "after_expiry": ("outside_scope_probe",),
    "stalking": ("repeated_person_lookup", "case_reference_churn"),
    "out_of_scope": ("outside_scope_probe",),
    "refused_sweep": ("refused_sweep",),
}
# Share of the people lawful partners look for who were never arrested in the city.
STRANGERS = 0.08
TWINS = ("task_force", "ramp_up", "custody_check")
# Which agencies a kind of misuse is planted in (a rogue user of a lawful agency, or an agency
# that works that way).
MISUSE_AGENCIES: dict[str, tuple[str, ...]] = {
    "name_sweep_refs": ("HSI", "CBP", "ICE", "DEA", "PSP"),
    "name_sweep_noref": ("ICE", "CBP"),
    "profiling_sweep": ("HSI", "ICE", "CBP", "PSP", "FBI"),
    "protected_probe": ("ICE", "CBP", "HSI", "USMS", "FBI"),
    "volume_burst": ("FBI", "USMS", "DEA", "HSI", "ATF"),
    "night_bulk": ("FBI", "DEA", "ATF", "HSI", "USMS"),
    "after_expiry": ("ICE",),
    "stalking": ("PSP", "FBI", "USMS", "DEA", "ATF", "HSI"),
    "out_of_scope": ("ATF", "DEA", "FBI"),
    "refused_sweep": ("CBP", "HSI", "ICE", "DEA", "USMS"),
}


@dataclass(frozen=True)
class Partner:
    code: str
    name: str
    purposes: tuple[str, ...]
    scope: dict[str, Any]
    require_case_reference: bool
    reference: str  # format of its case references, with {n} and {yy}
    case_workers: int  # users doing ordinary case work by name and date of birth
    cases_per_day: float  # per case worker, weekdays
    daily_query_limit: int = 2000

    def in_scope(self, arrestee: Arrestee) -> bool:
        titles, sections = self.scope.get("titles"), self.scope.get("sections")
        return any(
            (titles is None or int(c["title"]) in titles) and (sections is None or str(c["section"]) in sections)
            for c in arrestee.charges
        )


PARTNERS = (
    Partner("FBI", "Federal Bureau of Investigation, Philadelphia", ("criminal_investigation",),
            {"titles": [18, 35]}, True, "FBI-PH-{yy}-{n:05d}", 4, 1.0),
    Partner("USMS", "U.S. Marshals Service, Eastern District of Pennsylvania", ("fugitive_apprehension",),
            {}, True, "USMS-{yy}-W{n:06d}", 0, 0.0),
    Partner("PSP", "Pennsylvania State Police, Troop K", ("criminal_investigation",),
            {}, True, "PSP-K{yy}{n:06d}", 1, 1.0),
    Partner("DEA", "Drug Enforcement Administration, Philadelphia", ("criminal_investigation",),
            {"titles": [35, 18]}, True, "DEA-PH-{n:04d}", 3, 0.8),
    Partner("ATF", "ATF Philadelphia Field Division", ("firearms_investigation",),
            {"titles": [18], "sections": FIREARMS}, True, "ATF-{yy}-{n:04d}", 2, 0.8),
    Partner("USPO", "U.S. Probation and Pretrial Services, E.D. Pa.", ("pretrial_services",),
            {}, True, "USPO-CR-{n:05d}", 1, 0.5),
    Partner("HSI", "Homeland Security Investigations, Philadelphia", ("criminal_investigation",),
            {}, True, "HSI-PH-{yy}-{n:04d}", 3, 0.6),
    Partner("CBP", "U.S. Customs and Border Protection, Philadelphia", ("criminal_investigation",),
            {}, False, "CBP-{n:06d}", 2, 0.4),
    Partner("ICE", "ICE Philadelphia Field Office", ("criminal_investigation", "fugitive_apprehension"),
            {}, False, "ICE-ERO-{n:05d}", 3, 0.6),
)  # fmt: skip
BY_CODE = {p.code: p for p in PARTNERS}


@dataclass
class Act:
    """One partner request (or a case registration) at an instant."""

    at: datetime
    user: str  # handle, e.g. "fbi.2"
    kind: str  # "search" | "read" | "probe" | "register"
    purpose: str = "criminal_investigation"
    case: str | None = None
    params: dict[str, str] = field(default_factory=dict)
    then_read: bool = False  # read the record the search found
    target: Arrestee | None = None  # read: this arrestee's record
    arrest_id: uuid.UUID | None = None  # read: this id (a mistyped one)
    subjects: list[dict[str, str]] = field(default_factory=list)  # register
    title: str = ""


@dataclass
class Episode:
    kind: str
    agency: str
    user: str | None  # handle; None when several users of the agency take part
    start: datetime
    end: datetime
    rules: tuple[str, ...]  # the rules that should raise an alert (empty for a lawful twin)
    lawful: bool
    requests: int = 0

    @property
    def label(self) -> str:
        return f"{self.kind} {self.agency}{'/' + self.user if self.user else ''}"


@dataclass
class Plan:
    acts: list[Act]
    episodes: list[Episode]
    users: dict[str, str]  # handle → agency
    ice_expiry: datetime


def _handle(agency: str, name: str) -> str:
    return f"{agency.lower()}.{name}"


class Planner:
    """Draws one seed's partner traffic over ``weeks`` weeks from ``start`` (a Monday, city
    midnight), after a week of lawful warm-up so each partner has a history."""

    def __init__(self, rng: random.Random, population: Population, start: datetime, weeks: int, *, small: bool):
        self.rng, self.population, self.start, self.weeks, self.small = rng, population, start, weeks, small
        self.warmup = start - timedelta(days=7)
        self.end = start + timedelta(days=7 * weeks)
        self.acts: list[Act] = []
        self.episodes: list[Episode] = []
        self.users: dict[str, str] = {}
        self.busy: dict[str, set[int]] = {p.code: set() for p in PARTNERS}  # agency → weeks taken
        self.counters: dict[str, int] = {p.code: rng.randint(100, 9000) for p in PARTNERS}
        self.ice_expiry = start + timedelta(days=rng.randint(7 * max(2, weeks - 3), 7 * max(2, weeks - 1)) + 0.5)
        self.ice_expiry = city_midnight(self.ice_expiry.date())
        self.scale = 0.5 if small else 1.0
        self._workload: dict[tuple[str, date], float] = {}
        self._issued: set[str] = set()

    # -- helpers ------------------------------------------------------------------------------

    def user(self, agency: str, name: str) -> str:
        handle = _handle(agency, name)
        self.users[handle] = agency
        return handle

    def insider(self, agency: str) -> str:
        """One of the agency's own users, who also does its ordinary work (misuse is rarely a
        stranger's): a case worker, or a USMS deputy."""
        partner = BY_CODE[agency]
        name = str(self.rng.randint(1, partner.case_workers)) if partner.case_workers else "deputy1"
        return self.user(agency, name)

    def reference(self, agency: str) -> str:
        """The agency's next case reference, in its own format."""
        self.counters[agency] += self.rng.randint(1, 3)
        return BY_CODE[agency].reference.format(n=self.counters[agency], yy=self.start.year % 100)

    def invented(self, agency: str) -> str:
        """A reference that looks like the agency's own but names no case."""
        return BY_CODE[agency].reference.format(n=self.rng.randint(1, 99999), yy=self.start.year % 100)

    def days(self, first: datetime, last: datetime) -> Iterable[datetime]:
        day = city_midnight(first.date())
        while day < last:
            yield day
            day = city_midnight((day + timedelta(hours=30)).date())

    def office(self, day: datetime) -> datetime:
        return day + timedelta(hours=self.rng.triangular(7.5, 18.5, 11))

    def workload(self, agency: str, day: datetime) -> float:
        """How busy an agency is on a day, against its usual: most days near 1, now and then
        twice as busy (a court date, a trial), the same for all its users that day."""
        key = (agency, day.date())
        if key not in self._workload:
            surge = 2.0 if self.rng.random() < 0.03 else 1.0
            self._workload[key] = self.rng.lognormvariate(0, 0.3) * surge
        return self._workload[key]

    def stranger(self, at: datetime) -> Arrestee:
        """Someone a partner is after who was never arrested in the city: searched, not found."""
        return Arrestee(-1, arrestee_person(self.rng, at.date(), self._issued), at, [])

    def pick(self, at: datetime, *, recent_days: int | None = None, partner: Partner | None = None,
             hispanic: bool | None = None, older_than: int = 0) -> Arrestee | None:  # fmt: skip
        since = at - timedelta(days=recent_days) if recent_days else None
        pool = self.population.before(at - timedelta(days=older_than), since=since)
        if partner is not None:
            pool = [a for a in pool if partner.in_scope(a)]
        if hispanic is not None:
            pool = [a for a in pool if a.hispanic == hispanic]
        return self.rng.choice(pool) if pool else None

    def lookup(self, at: datetime, handle: str, target: Arrestee, case: str | None, purpose: str,
               *, by: str = "name_dob", read: bool = True) -> Act:  # fmt: skip
        if by == "tracking":
            params = {"tracking_number": "?"}  # filled in when booked (run.py)
        elif by == "name":
            params = {"last_name": target.last, "first_name": target.first or ""}
        else:
            params = target.name_dob()
        act = Act(at, handle, "search", purpose, case, params, then_read=read, target=target)
        self.acts.append(act)
        return act

    def register(self, at: datetime, handle: str, reference: str, subjects: list[Arrestee], title: str) -> None:
        self.acts.append(Act(at, handle, "register", case=reference, subjects=[s.subject() for s in subjects],
                             title=title))  # fmt: skip

    def week_of(self, instant: datetime) -> int:
        return (instant - self.start).days // 7

    def slot(self, kind: str, agencies: Iterable[str], weeks: int = 1, earliest: int = 0) -> tuple[str, int] | None:
        """An agency and a first week (from ``earliest``) with ``weeks`` weeks free."""
        options = [
            (agency, week)
            for agency in agencies
            for week in range(earliest, self.weeks - weeks + 1)
            if not any(w in self.busy[agency] for w in range(week, week + weeks))
            and (agency != "ICE" or kind == "after_expiry" or self.start + timedelta(days=7 * (week + weeks))
                 <= self.ice_expiry)
        ]  # fmt: skip
        if not options:
            return None
        agency, week = self.rng.choice(options)
        self.busy[agency].update(range(week, week + weeks))
        return agency, week

    def weekday_in(self, week: int) -> datetime:
        first = self.start + timedelta(days=7 * week)
        return city_midnight((first + timedelta(days=self.rng.randint(0, 4), hours=12)).date())

    # -- lawful background ----------------------------------------------------------------------

    def background(self) -> None:
        for partner in PARTNERS:
            for n in range(1, partner.case_workers + 1):
                self.case_work(partner, self.user(partner.code, str(n)))
        for n in range(1, 3 if self.small else 4):
            self.warrant_unit(self.user("USMS", f"deputy{n}"))
        for n in range(1, 2 if self.small else 3):
            self.night_shift(self.user("PSP", f"night{n}"))
        self.mistyped()

    def case_work(self, partner: Partner, handle: str) -> None:
        """Cases opened on weekdays, each registered with its subjects, each subject looked up
        by name and date of birth (sometimes by name alone first), some looked up again later
        under the same case; ATF works from tracking numbers it receives on its feed."""
        rng, purpose = self.rng, partner.purposes[0]
        end = min(self.end, self.ice_expiry) if partner.code == "ICE" else self.end
        for day in self.days(self.warmup, end):
            if day.weekday() >= 5 or rng.random() < 0.12:
                continue
            for _ in range(_poisson(rng, partner.cases_per_day * self.workload(partner.code, day))):
                opened = self.office(day)
                count = rng.choices((1, 2, 3, 4, 6), weights=(40, 25, 15, 12, 8))[0]
                subjects = [s for s in (self.pick(opened, partner=partner, recent_days=rng.choice((3, 30, None)))
                                        for _ in range(count)) if s is not None]  # fmt: skip
                # Some subjects were never arrested here: looked for, not found.
                subjects = [self.stranger(opened) if rng.random() < STRANGERS else s for s in subjects]
                if not subjects:
                    continue
                reference = self.reference(partner.code)
                self.register(opened, handle, reference, subjects, f"{partner.code} investigation")
                at = opened
                for subject in subjects:
                    at += timedelta(minutes=rng.uniform(2, 25))
                    if partner.code == "ATF" and subject.index >= 0 and subject.arrested_at > at - timedelta(days=3):
                        self.lookup(at, handle, subject, reference, purpose, by="tracking")
                        continue
                    if rng.random() < 0.1:  # a name alone first: refused as ambiguous when namesakes exist
                        self.lookup(at, handle, subject, reference, purpose, by="name", read=False)
                        at += timedelta(minutes=1)
                    self.lookup(at, handle, subject, reference, purpose)
                    if rng.random() < 0.3:  # looked up again days later, under the same case
                        later = self.office(day + timedelta(days=rng.randint(1, 12)))
                        if later < end:
                            self.lookup(later, handle, subject, reference, purpose)

    def warrant_unit(self, handle: str) -> None:
        """Each warrant is its own case, one subject, looked up once: references used once, at
        a steady rate, fugitives arrested weeks or months ago."""
        rng = self.rng
        for day in self.days(self.warmup, self.end):
            mean = (2 if day.weekday() >= 5 else 9) * self.scale * self.workload("USMS", day)
            for _ in range(_poisson(rng, mean)):
                at = self.office(day)
                fugitive = self.stranger(at) if rng.random() < STRANGERS else self.pick(at, older_than=14)
                if fugitive is None:
                    continue
                reference = self.reference("USMS")
                self.register(at, handle, reference, [fugitive], "warrant")
                self.lookup(at + timedelta(minutes=1), handle, fugitive, reference, "fugitive_apprehension")

    def night_shift(self, handle: str) -> None:
        """A unit that works 22:00 to 06:00 every night: the people of the night's stops, each
        its own incident; some arrested in the last days or weeks, most at any time before."""
        rng = self.rng
        for day in self.days(self.warmup, self.end):
            for _ in range(_poisson(rng, 8 * self.scale * self.workload("PSP", day))):
                at = day + timedelta(hours=22 + rng.uniform(0, 7.5))
                person = self.pick(at, recent_days=rng.choices((2, 14, None), weights=(15, 25, 60))[0])
                if person is None:
                    continue
                reference = self.reference("PSP")
                self.register(at, handle, reference, [person], "incident")
                self.lookup(at + timedelta(minutes=1), handle, person, reference, "criminal_investigation")

    def mistyped(self) -> None:
        """Now and then a record id copied wrong: one refused read, as lawful as any."""
        rng = self.rng
        for partner in PARTNERS:
            for day in self.days(self.warmup, self.end):
                if day.weekday() < 5 and rng.random() < 0.08 and (partner.code != "ICE" or day < self.ice_expiry):
                    handle = _handle(partner.code, "1") if partner.case_workers else _handle(partner.code, "deputy1")
                    wrong = uuid.UUID(int=rng.getrandbits(128))
                    reference = self.reference(partner.code)
                    self.acts.append(
                        Act(self.office(day), handle, "read", partner.purposes[0], reference, arrest_id=wrong)
                    )

    # -- lawful twins ------------------------------------------------------------------------------

    def task_force(self) -> None:
        """An FBI task force indicts 30 co-defendants of one case and looks them all up in a
        day or two under that one case, registered with its 30 subjects."""
        placed = self.slot("task_force", ("FBI",))
        if placed is None:
            return
        _, week = placed
        handle, rng = self.user("FBI", "taskforce"), self.rng
        day = self.weekday_in(week)
        opened = day + timedelta(hours=8.5)
        pool = self.population.before(opened, since=opened - timedelta(days=120))
        defendants = rng.sample([a for a in pool if BY_CODE["FBI"].in_scope(a)], 30)
        reference = self.reference("FBI")
        self.register(opened, handle, reference, defendants, "Operation: drug trafficking organisation, 30 defendants")
        at = opened
        for defendant in defendants:
            at += timedelta(minutes=rng.uniform(4, 25))
            if at.hour >= 18:
                at = city_midnight((at + timedelta(days=1)).date()) + timedelta(hours=8.5)
            self.lookup(at, handle, defendant, reference, "criminal_investigation")
        self.episodes.append(Episode("task_force", "FBI", handle, opened, at + timedelta(minutes=5), (), True, 60))

    def ramp_up(self) -> None:
        """The city arrests 50 people in one operation; the next day DEA looks up each of them
        under its operation's case (registered, its subjects not known in advance)."""
        placed = self.slot("ramp_up", ("DEA",))
        if placed is None:
            return
        _, week = placed
        handle, rng = self.user("DEA", "operation"), self.rng
        day = self.weekday_in(week)
        raid = day - timedelta(days=1) if day.weekday() > 0 else day
        drugs = [{"title": 35, "section": "780-113", "subsection": "A30", "grade": "F", "counts": 1}]
        arrested = [
            self.population.book(raid + timedelta(hours=5 + rng.uniform(0, 4)), charges=drugs) for _ in range(50)
        ]
        day = raid + timedelta(days=1)
        reference = self.reference("DEA")
        opened = day + timedelta(hours=8)
        self.register(opened, handle, reference, [], "Operation follow-up: arrests of the day before")
        at = opened
        for person in arrested:
            at += timedelta(minutes=rng.uniform(3, 10))
            self.lookup(at, handle, person, reference, "criminal_investigation")
        self.episodes.append(Episode("ramp_up", "DEA", handle, opened, at + timedelta(minutes=5), (), True, 100))

    def custody_check(self) -> None:
        """Pretrial services checks every weekday morning whether the two defendants of one
        case are still in custody: the same two people, the same case, every day."""
        handle, rng = self.user("USPO", "custody"), self.rng
        self.busy["USPO"].update(range(self.weeks))
        opened = self.warmup + timedelta(hours=9)
        pool = self.population.before(opened, since=opened - timedelta(days=10))
        defendants = rng.sample(pool, 2)
        reference = self.reference("USPO")
        self.register(opened, handle, reference, defendants, "United States v. two defendants")
        count = 0
        for day in self.days(self.start, self.end):
            if day.weekday() >= 5:
                continue
            at = day + timedelta(hours=rng.uniform(8, 9.5))
            for defendant in defendants:
                self.lookup(at, handle, defendant, reference, "pretrial_services")
                at += timedelta(minutes=rng.uniform(1, 5))
                count += 2
        self.episodes.append(Episode("custody_check", "USPO", handle, self.start, self.end, (), True, count))

    # -- misuse ----------------------------------------------------------------------------------

    def misuse(self) -> None:
        counts = {kind: 1 if self.small else self.rng.choice((1, 1, 2)) for kind in EXPECTED}
        counts["after_expiry"] = 1
        first = ["after_expiry", "name_sweep_noref"]
        order = [*first, *[k for k in EXPECTED if k not in first]]
        for kind in order:
            for _ in range(counts[kind]):
                getattr(self, kind)()

    def _episode(self, kind: str, agency: str, user: str | None, acts: list[Act]) -> None:
        if not acts:
            return
        start = min(a.at for a in acts) - timedelta(minutes=1)
        end = max(a.at for a in acts) + timedelta(minutes=5)
        self.episodes.append(Episode(kind, agency, user, start, end, EXPECTED[kind], False, len(acts)))

    def _mark(self) -> int:
        return len(self.acts)

    def _since(self, mark: int) -> list[Act]:
        return self.acts[mark:]

    def _sweep(self, kind: str, *, references: bool) -> None:
        """Common Hispanic first and last names typed one after the other, an afternoon or a
        night; each search under a new made-up reference (or none); what is found is read."""
        placed = self.slot(kind, MISUSE_AGENCIES[kind])
        if placed is None:
            return
        agency, week = placed
        rng, handle = self.rng, self.insider(agency)
        purpose = BY_CODE[agency].purposes[0]
        day = self.weekday_in(week)
        night = not references and rng.random() < 0.5
        at = day + timedelta(hours=22.5 if night else rng.uniform(9, 13))
        length = timedelta(hours=rng.uniform(3, 7))
        searches = rng.randint(30, 120)
        mark = self._mark()
        for i in range(searches):
            when = at + length * i / searches
            first, last = common_hispanic_name(rng)
            case = self.invented(agency) if references else None
            self.acts.append(Act(when, handle, "search", purpose, case, {"last_name": last, "first_name": first},
                                 then_read=True))  # fmt: skip
        self._episode(kind, agency, handle, self._since(mark))

    def name_sweep_refs(self) -> None:
        self._sweep("name_sweep_refs", references=True)

    def name_sweep_noref(self) -> None:
        self._sweep("name_sweep_noref", references=False)

    def profiling_sweep(self) -> None:
        """Looking up mostly Hispanic people, by name and date of birth, under plausible
        references (each used for a few lookups), in office hours over one to two weeks."""
        span = self.rng.choice((1, 2))
        placed = self.slot("profiling_sweep", MISUSE_AGENCIES["profiling_sweep"], weeks=span)
        if placed is None:
            return
        agency, week = placed
        rng, handle = self.rng, self.insider(agency)
        purpose, mark = BY_CODE[agency].purposes[0], self._mark()
        first = self.start + timedelta(days=7 * week)
        share = rng.uniform(0.75, 0.95)
        for day in self.days(first, first + timedelta(days=7 * span)):
            if day.weekday() >= 5:
                continue
            case, used = self.invented(agency), 0
            for _ in range(rng.randint(6, 20)):
                target = self.pick(day, hispanic=rng.random() < share)
                if target is None:
                    continue
                if used >= rng.randint(1, 4):
                    case, used = self.invented(agency), 0
                self.lookup(self.office(day), handle, target, case, purpose)
                used += 1
        self._episode("profiling_sweep", agency, handle, self._since(mark))

    def protected_probe(self) -> None:
        """A few searches by place of birth, citizenship or ethnicity among ordinary ones."""
        placed = self.slot("protected_probe", MISUSE_AGENCIES["protected_probe"])
        if placed is None:
            return
        agency, week = placed
        rng, handle = self.rng, self.insider(agency)
        day, mark = self.weekday_in(week), self._mark()
        at = day + timedelta(hours=rng.uniform(9, 15))
        probes = [{"place_of_birth": "Puebla, Mexico"}, {"citizenship": "MX"}, {"citizenship": "DO"},
                  {"last_name": "Hernández", "ethnicity": "Hispanic"}, {"place_of_birth": "Santo Domingo"},
                  {"race": "Black", "district": "24"}, {"country_of_birth": "Honduras"}]  # fmt: skip
        for params in rng.sample(probes, rng.randint(1, 5)):
            at += timedelta(minutes=rng.uniform(1, 20))
            self.acts.append(Act(at, handle, "probe", BY_CODE[agency].purposes[0], self.invented(agency), params))
        self._episode("protected_probe", agency, handle, self._since(mark))

    def volume_burst(self) -> None:
        """One user pulls a few hundred records in a working day, under a handful of cases."""
        placed = self.slot("volume_burst", MISUSE_AGENCIES["volume_burst"])
        if placed is None:
            return
        agency, week = placed
        rng, handle = self.rng, self.insider(agency)
        partner = BY_CODE[agency]
        day, mark = self.weekday_in(week), self._mark()
        count = rng.randint(150, 400)
        at, length = day + timedelta(hours=rng.uniform(8, 10)), timedelta(hours=rng.uniform(6, 9))
        case = self.invented(agency)
        for i in range(count):
            if rng.random() < 0.03:
                case = self.invented(agency)
            target = self.pick(at, partner=partner)
            if target is not None:
                self.lookup(at + length * i / count, handle, target, case, partner.purposes[0])
        self._episode("volume_burst", agency, handle, self._since(mark))

    def night_bulk(self) -> None:
        """A day-shift user working through a list in the middle of the night."""
        placed = self.slot("night_bulk", MISUSE_AGENCIES["night_bulk"])
        if placed is None:
            return
        agency, week = placed
        rng, handle = self.rng, self.insider(agency)
        partner = BY_CODE[agency]
        day, mark = self.weekday_in(week), self._mark()
        count = rng.randint(40, 150)
        at, length = day + timedelta(hours=rng.uniform(22.5, 24)), timedelta(hours=rng.uniform(3, 5))
        case = self.invented(agency)
        for i in range(count):
            if rng.random() < 0.1:
                case = self.invented(agency)
            target = self.pick(at, partner=partner)
            if target is not None:
                self.lookup(at + length * i / count, handle, target, case, partner.purposes[0])
        self._episode("night_bulk", agency, handle, self._since(mark))

    def after_expiry(self) -> None:
        """ICE's officers keep asking after its agreement ended, on most days, a few times."""
        rng, mark = self.rng, self._mark()
        first_week = self.week_of(self.ice_expiry)
        self.busy["ICE"].update(range(first_week, self.weeks))
        handles = [_handle("ICE", str(n)) for n in range(1, BY_CODE["ICE"].case_workers + 1)]
        for day in self.days(self.ice_expiry, self.end):
            if rng.random() < 0.35:
                continue
            for _ in range(rng.randint(1, 6)):
                at = self.office(day)
                first, last = common_hispanic_name(rng)
                self.acts.append(Act(at, rng.choice(handles), "search", "criminal_investigation", None,
                                     {"last_name": last, "first_name": first}, then_read=True))  # fmt: skip
        self._episode("after_expiry", "ICE", None, self._since(mark))

    def stalking(self) -> None:
        """One person looked up again and again for one to three weeks, each time under a new
        reference that looks like the agency's own."""
        span = self.rng.choice((1, 2, 3))
        placed = self.slot("stalking", MISUSE_AGENCIES["stalking"], weeks=span)
        if placed is None:
            return
        agency, week = placed
        rng, handle = self.rng, self.insider(agency)
        partner = BY_CODE[agency]
        first = self.start + timedelta(days=7 * week)
        person = self.pick(first, partner=partner)
        if person is None:
            return
        mark, rate = self._mark(), rng.uniform(0.4, 0.8)
        for day in self.days(first, first + timedelta(days=7 * span)):
            if rng.random() > rate:
                continue
            for _ in range(rng.choice((1, 1, 2))):
                at = day + timedelta(hours=rng.uniform(7, 23))
                self.lookup(at, handle, person, self.invented(agency), partner.purposes[0])
        self._episode("stalking", agency, handle, self._since(mark))

    def out_of_scope(self) -> None:
        """Reads of record ids the agreement does not cover, worked through from a list passed
        around, over one to three days: 6 to 40 in all, many times the odd mistyped id."""
        placed = self.slot("out_of_scope", MISUSE_AGENCIES["out_of_scope"])
        if placed is None:
            return
        agency, week = placed
        rng, handle = self.rng, self.insider(agency)
        partner = BY_CODE[agency]
        day, mark = self.weekday_in(week), self._mark()
        outside = [a for a in self.population.before(day) if not partner.in_scope(a)]
        listed = rng.sample(outside, min(len(outside), rng.randint(6, 40)))
        days = rng.randint(1, 3)
        for n, target in enumerate(listed):
            at = self.office(day + timedelta(days=n * days // len(listed)))
            self.acts.append(Act(at, handle, "read", partner.purposes[0], self.invented(agency), target=target))
        self._episode("out_of_scope", agency, handle, self._since(mark))

    def refused_sweep(self) -> None:
        """All day: "all Rodríguez" (a last name alone, too broad) and common first and last
        names (ambiguous where namesakes exist), refused again and again."""
        placed = self.slot("refused_sweep", MISUSE_AGENCIES["refused_sweep"])
        if placed is None:
            return
        agency, week = placed
        rng, handle = self.rng, self.insider(agency)
        partner = BY_CODE[agency]
        day, mark = self.weekday_in(week), self._mark()
        count = rng.randint(30, 100)
        case = self.invented(agency) if partner.require_case_reference else None
        for i in range(count):
            at = day + timedelta(hours=8 + 10 * i / count)
            first, last = common_hispanic_name(rng) if rng.random() < 0.7 else common_name(rng)
            params = {"last_name": last} if rng.random() < 0.5 else {"last_name": last, "first_name": first}
            self.acts.append(Act(at, handle, "search", partner.purposes[0], case, params))
        self._episode("refused_sweep", agency, handle, self._since(mark))


def _poisson(rng: random.Random, mean: float) -> int:
    """A Poisson draw (Knuth's method: the means here are small)."""
    if mean <= 0:
        return 0
    limit, k, product = pow(2.718281828459045, -mean), 0, rng.random()
    while product > limit:
        k += 1
        product *= rng.random()
    return k


_HISPANIC = [people._ORIGINS[o] for o in ("puerto_rican", "dominican", "mexican")]
_ALL = list(people._ORIGINS.values())


def common_hispanic_name(rng: random.Random) -> tuple[str, str]:
    """A first and last name as someone sweeping for Hispanic people would type them: the
    commonest given names and surnames (the head of each pool), accents or not."""
    origin = rng.choice(_HISPANIC)
    first = rng.choice(origin.male[:12] if rng.random() < 0.85 else origin.female[:12])
    last = rng.choice(origin.last[:15])
    if rng.random() < 0.5:
        first, last = people.plain_spelling(first), people.plain_spelling(last)
    return first, last


def common_name(rng: random.Random) -> tuple[str, str]:
    origin = rng.choice(_ALL[:3])
    return rng.choice(origin.male[:10]), rng.choice(origin.last[:10])


def plan(rng: random.Random, population: Population, start: datetime, weeks: int, *, small: bool) -> Plan:
    planner = Planner(rng, population, start, weeks, small=small)
    # Twins and misuse first (they book arrests and take weeks), then the background.
    planner.custody_check()
    planner.task_force()
    planner.ramp_up()
    planner.misuse()
    planner.background()
    acts = sorted(planner.acts, key=lambda a: a.at)
    return Plan(acts, sorted(planner.episodes, key=lambda e: e.start), planner.users, planner.ice_expiry)


def first_monday(day: date) -> date:
    return day + timedelta(days=(7 - day.weekday()) % 7)
