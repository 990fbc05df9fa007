"""The city side of an evaluation world: a Philadelphia-like arrestee population, booked every
day through the real records service, and a fresh database to hold it.

People come from the demonstration's name generators (``pars.demo.people``), re-weighted
towards the make-up of Philadelphia's arrestees rather than the demo's: about two thirds Black,
a fifth White, some 15 % of Hispanic ethnicity, a few percent Asian. The name pools are small
on purpose, as real surnames are concentrated: many people share a common last name, and
first and last name together, so namesakes exist and a search by name alone is ambiguous.

Nothing here knows the detectors: the population is what it would be without them.
"""

from __future__ import annotations

import os
import random
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from pars.actors import Actor
from pars.audit.chain import CheckpointPolicy
from pars.audit.signing import create_key_file, load_signer
from pars.auth.bootstrap import bootstrap
from pars.clock import FrozenClock
from pars.db import make_engine, make_session_factory
from pars.demo import people
from pars.demo.places import random_address, random_arrest_details, random_charges
from pars.migrate import upgrade
from pars.records import intake
from pars.records.schemas import ArrestIn
from pars.settings import Settings
from pars.work import unit_of_work

ZONE = ZoneInfo("America/New_York")

# Origin → share of the arrestees (percent). Philadelphia's arrests are about 2/3 Black,
# 1/5 White and 15-17 % Hispanic; these weights give that once the races within each origin
# (a Puerto Rican arrestee may be recorded White, Black or Unknown) are drawn.
ORIGIN_WEIGHTS: dict[str, float] = {
    "african_american": 62.0,
    "west_african": 2.5,
    "puerto_rican": 10.0,
    "dominican": 2.5,
    "mexican": 2.5,
    "irish": 5.5,
    "italian": 4.0,
    "anglo_german": 4.0,
    "polish": 1.5,
    "russian_ukrainian": 1.2,
    "jewish": 0.8,
    "vietnamese": 1.2,
    "cambodian": 0.5,
    "chinese": 0.8,
    "korean": 0.3,
    "arabic": 0.7,
}
HISPANIC_ORIGINS = ("puerto_rican", "dominican", "mexican")
REPEAT_RATE = 0.1  # of arrests, people arrested before


@dataclass
class Arrestee:
    """One booking as the world planned it, and its record id once booked."""

    index: int
    person: people.Person
    arrested_at: datetime
    charges: list[dict[str, Any]]
    arrest_id: uuid.UUID | None = None
    tracking_number: str | None = None

    @property
    def first(self) -> str | None:
        return self.person["name"]["first"]

    @property
    def last(self) -> str:
        last = self.person["name"]["last"]
        assert last is not None
        return last

    @property
    def dob(self) -> str:
        return self.person["dob"]

    @property
    def hispanic(self) -> bool:
        return self.person["ethnicity"] == "Hispanic"

    @property
    def person_key(self) -> tuple[str, str, str]:
        return (people.plain_spelling(self.last).casefold(), people.plain_spelling(self.first or "").casefold(),
                self.dob)  # fmt: skip

    def titles(self) -> set[int]:
        return {int(c["title"]) for c in self.charges}

    def sections(self) -> set[str]:
        return {str(c["section"]) for c in self.charges}

    def name_dob(self) -> dict[str, str]:
        params = {"last_name": self.last, "dob": self.dob}
        if self.first:
            params["first_name"] = self.first
        return params

    def subject(self) -> dict[str, str]:
        """As a registered case names its subject (CONTRACT §7)."""
        return {"last_name": self.last, "dob": self.dob} | ({"first_name": self.first} if self.first else {})


def _origin(rng: random.Random) -> tuple[str, Any]:
    names = list(ORIGIN_WEIGHTS)
    key = rng.choices(names, weights=[ORIGIN_WEIGHTS[n] for n in names])[0]
    return key, people._ORIGINS[key]


def arrestee_person(rng: random.Random, today: date, issued: set[str], *, origin: str | None = None) -> people.Person:
    """A person as ``pars.demo.people.random_person`` makes one, from the origin given or drawn
    with the evaluation's weights."""
    key, chosen = _origin(rng) if origin is None else (origin, people._ORIGINS[origin])
    del key
    sex = rng.choices(("M", "F", "X"), weights=(80, 19.5, 0.5))[0]
    name, roman = people._name(rng, chosen, sex)
    born, country, _ = rng.choices(chosen.born, weights=[w for _, _, w in chosen.born])[0]
    citizenship = "US" if country == "US" or rng.random() < chosen.naturalised else country
    sid = people._unique(rng, people._sid, issued) if rng.random() < 0.7 else None
    fbi = people._unique(rng, people._fbi_number, issued) if rng.random() < (0.75 if sid else 0.1) else None
    return {
        "name": name,
        "aliases": people._aliases(rng, chosen, name, roman, sex),
        "dob": people._arrest_age_dob(rng, today),
        "sex": sex,
        "race": people._race(rng, chosen),
        "ethnicity": people._ethnicity(rng, chosen),
        "place_of_birth": born,
        "citizenship": citizenship,
        "address": random_address(rng),
        "phone": people.random_phone(rng),
        "sid": sid,
        "fbi_number": fbi,
    }


def city_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=ZONE)


@dataclass
class Population:
    """Every booking of the world, in time order once ``sort``ed."""

    rng: random.Random
    arrests: list[Arrestee] = field(default_factory=list)
    _issued: set[str] = field(default_factory=set)
    _sequences: dict[str, int] = field(default_factory=dict)
    _details: dict[int, dict[str, Any]] = field(default_factory=dict)

    def book(self, at: datetime, *, person: people.Person | None = None, origin: str | None = None,
             charges: list[dict[str, Any]] | None = None, district: str | None = None) -> Arrestee:  # fmt: skip
        """Plans one arrest at ``at``: a new person, or one arrested before (REPEAT_RATE)."""
        rng = self.rng
        if person is None:
            if self.arrests and origin is None and rng.random() < REPEAT_RATE:
                person = rng.choice(self.arrests).person
            else:
                person = arrestee_person(rng, at.date(), self._issued, origin=origin)
        details = random_arrest_details(rng, arrested_at=at, sequence=0, district=district)
        chosen = details["district"]
        self._sequences[chosen] = self._sequences.get(chosen, 0) + 1
        details = random_arrest_details(rng, arrested_at=at, sequence=self._sequences[chosen] * 7 + 100,
                                        district=chosen)  # fmt: skip
        arrestee = Arrestee(len(self.arrests), person, at, charges or random_charges(rng))
        self.arrests.append(arrestee)
        self._details[arrestee.index] = details
        return arrestee

    def daily(self, first: date, days: int, per_day: float) -> None:
        """Ordinary arrests, every day: fewer on Sundays and Mondays, most in the evening."""
        for offset in range(days):
            day = first + timedelta(days=offset)
            weekday = day.weekday()
            mean = per_day * (0.8 if weekday in (0, 6) else 1.1 if weekday in (4, 5) else 1.0)
            for _ in range(max(0, round(self.rng.gauss(mean, mean**0.5)))):
                hour = self.rng.choices(range(24), weights=_ARREST_HOURS)[0]
                at = city_midnight(day) + timedelta(hours=hour, minutes=self.rng.uniform(0, 59.9))
                self.book(at)

    def booking(self, arrestee: Arrestee) -> ArrestIn:
        return ArrestIn.model_validate(
            {"person": arrestee.person, "arrest": self._details[arrestee.index], "charges": arrestee.charges}
        )

    def before(self, at: datetime, *, since: datetime | None = None) -> list[Arrestee]:
        """Arrestees booked (booking takes under an hour) before ``at``."""
        cut = at - timedelta(hours=1)
        return [a for a in self.arrests if a.arrested_at < cut and (since is None or a.arrested_at >= since)]


# Arrests by hour of the day, city time: few before dawn, most from afternoon to midnight.
_ARREST_HOURS = [4, 3, 2, 2, 1, 1, 2, 3, 4, 5, 5, 6, 6, 6, 7, 7, 8, 8, 8, 8, 8, 7, 6, 5]
BOOKING_DELAY = timedelta(minutes=40)


def book_all(db: Database, clerk: Actor, population: Population, arrests: list[Arrestee]) -> None:
    """Books these arrests through ``pars.records.intake``, one transaction per batch that
    fits in an hour, the clock at the batch's last booking time."""
    batch: list[Arrestee] = []

    def flush() -> None:
        if not batch:
            return
        at = batch[-1].arrested_at + BOOKING_DELAY
        with unit_of_work(db.factory, FrozenClock(at), policy=db.policy, actor=clerk) as session:
            for arrestee in batch:
                arrest = intake.book_arrest(session, clerk, population.booking(arrestee))
                arrestee.arrest_id, arrestee.tracking_number = arrest.id, arrest.tracking_number
        batch.clear()

    for arrestee in sorted(arrests, key=lambda a: a.arrested_at):
        if batch and arrestee.arrested_at - batch[0].arrested_at >= timedelta(hours=1):
            flush()
        batch.append(arrestee)
    flush()


# ---------------------------------------------------------------------------------------------
# Databases


@contextmanager
def fresh_database(target: str, workdir: Path, label: str) -> Iterator[str]:
    """A URL of an empty database: a new SQLite file under ``workdir`` (``target`` "sqlite"),
    or a new database on the PostgreSQL server of ``target`` (dropped afterwards)."""
    if not target.startswith("postgresql"):
        path = workdir / f"eval-{label}-{uuid.uuid4().hex[:6]}.db"
        try:
            yield f"sqlite:///{path}"
        finally:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    admin_url = target.replace("postgresql+psycopg://", "postgresql://", 1)
    name = f"pars_eval_{label}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = admin_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class Database:
    engine: Engine
    factory: sessionmaker[Session]
    settings: Settings
    policy: CheckpointPolicy


@contextmanager
def open_database(url: str, workdir: Path, at: datetime) -> Iterator[Database]:
    """Migrated and bootstrapped as ``pars init`` leaves it, with an audit signing key, so the
    gate writes the keyed ``subject`` of every search (tests/conftest.py builds it the same way)."""
    key_file = workdir / f"audit-{uuid.uuid4().hex[:6]}.key"
    create_key_file(key_file)
    settings = Settings(database_url=url, audit_key_file=key_file)
    engine = make_engine(url)
    try:
        upgrade(engine)
        policy = CheckpointPolicy(load_signer(key_file), every_entries=5000, every=timedelta(hours=6))
        factory = make_session_factory(engine)
        with unit_of_work(factory, FrozenClock(at), policy=policy) as session:
            bootstrap(session, admin_key=None)
        yield Database(engine, factory, settings, policy)
    finally:
        engine.dispose()
        key_file.unlink(missing_ok=True)


def temporary_workdir() -> tempfile.TemporaryDirectory[str]:
    return tempfile.TemporaryDirectory(prefix="pars-eval-", dir=os.environ.get("TMPDIR"))
