"""Bench databases: a fresh schema, the principals, an FBI-like agreement, and many arrests fast.

Arrests are written straight into the tables (one multi-row INSERT per table and batch), with
the demo's generators for people, places and Pennsylvania charges, and the packaged catalog for
the descriptions: the rows are what booking writes, without an audit entry or an outbox event
each, so a 50,000-arrest database takes seconds instead of the minutes real bookings would.
Everything else (agencies, users, keys, the agreement, its votes) goes through the services.
"""

from __future__ import annotations

import os
import random
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import Engine, func, insert, select, text
from sqlalchemy.orm import Session, sessionmaker

from pars.actors import SYSTEM, Actor
from pars.audit.chain import CheckpointPolicy
from pars.audit.signing import create_key_file, load_signer
from pars.auth.bootstrap import bootstrap
from pars.auth.schemas import AgencyIn, UserIn
from pars.auth.service import actor_for, create_agency, create_user
from pars.catalog import get_catalog, statute_from_parts
from pars.clock import FrozenClock
from pars.db import make_engine, make_session_factory
from pars.demo.people import random_person
from pars.demo.places import random_arrest_details, random_charges
from pars.migrate import upgrade
from pars.models import metadata
from pars.permissions import Role
from pars.records.models import Arrest, Charge, Counter, Person
from pars.records.names import name_key
from pars.records.numbers import tracking_number
from pars.settings import Settings
from pars.sharing import agreements
from pars.sharing.agreements import Policy
from pars.sharing.schemas import AgreementIn
from pars.work import unit_of_work

POSTGRES_ADMIN_URL = os.environ.get("PARS_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
ADMIN_KEY = "pars_bench_admin_key_0123456789abcdefghijklmnop"

# The agreement every bench partner works under: CONTRACT §6's FBI example, with a quota no
# bench run reaches (the quota check itself still runs on every request).
FIELDS = ["person.name", "person.dob", "person.identifiers", "arrest.arrested_at", "charges", "custody"]
SCOPE: dict[str, Any] = {"grades": ["F1", "F2", "F3", "M1", "M2"], "titles": [18], "sections": None, "statuses": None}
PURPOSE = "criminal_investigation"
CITY = {"PPD": False, "DAO": True, "FJD": True, "CITY": True}
STATUSES = ("booked", "charges_approved", "charges_declined", "arraigned", "committed", "released")


def terms(agency: str, *, now: datetime, scope: dict[str, Any] | None = None) -> AgreementIn:
    return AgreementIn.model_validate(
        {"agency": agency, "title": f"{agency} bench agreement", "document_ref": f"MOU-BENCH-{agency}",
         "effective_from": now - timedelta(days=30), "expires_at": now + timedelta(days=365),
         "purposes": [PURPOSE, "fugitive_apprehension"], "channels": ["query", "feed"], "fields": FIELDS,
         "scope": scope or SCOPE, "require_case_reference": True, "daily_query_limit": 10_000_000}
    )  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Databases


@contextmanager
def database(kind: str, workdir: Path) -> Iterator[str]:
    """A URL of an empty database of `kind` ("sqlite" or "postgresql"), removed afterwards."""
    if kind == "sqlite":
        path = workdir / f"bench-{uuid.uuid4().hex[:8]}.db"
        try:
            yield f"sqlite:///{path}"
        finally:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    name = f"pars_bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=5) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def postgres_available() -> str | None:
    """None when the bench PostgreSQL answers, else why not."""
    try:
        with psycopg.connect(POSTGRES_ADMIN_URL, connect_timeout=3):
            return None
    except psycopg.OperationalError as exc:
        return str(exc).strip()


def database_version(url: str) -> str:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "sqlite":
                return "SQLite " + str(conn.execute(text("select sqlite_version()")).scalar())
            return "PostgreSQL " + str(conn.execute(text("show server_version")).scalar()).split(" ")[0]
    finally:
        engine.dispose()


def empty_schema(engine: Engine) -> None:
    """Drops every PARS table (for modules that want a database again from nothing)."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        else:
            metadata.drop_all(conn)
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))


# ---------------------------------------------------------------------------------------------
# Principals and agreements


@dataclass
class World:
    """What a bench database holds besides its arrests: settings, keys by handle, actors."""

    settings: Settings
    engine: Engine
    keys: dict[str, str]
    actors: dict[str, Actor]
    partners: list[str]


def settings_for(url: str, workdir: Path) -> Settings:
    key = workdir / "bench-audit.key"
    if not key.exists():
        create_key_file(key)
    return Settings(database_url=url, audit_key_file=key, admin_key=ADMIN_KEY)


def build(url: str, workdir: Path, *, partners: int = 1, now: datetime | None = None) -> World:
    """Migrates an empty database, bootstraps it as `pars init` does, and adds the city
    agencies (PPD booking, DAO/FJD/CITY governance) and `partners` partner agencies (FBI first,
    then P02, P03, ...), each with one user and one approved agreement in force at `now`."""
    settings = settings_for(url, workdir)
    engine = make_engine(url)
    upgrade(engine)
    world = World(settings=settings, engine=engine, keys={}, actors={}, partners=[])
    clock = FrozenClock((now or datetime.now(UTC)) - timedelta(minutes=1))
    with unit_of_work(_factory(world), clock, policy=_policy(world)) as session:
        bootstrap(session, admin_key=ADMIN_KEY)
        for code, stakeholder in CITY.items():
            create_agency(session, SYSTEM, AgencyIn(code=code, name=f"{code} (bench)", kind="city",
                                                    stakeholder=stakeholder))  # fmt: skip
        for handle, code, role in [("booking", "PPD", Role.BOOKING), *((f"{c.lower()}.gov", c, Role.GOVERNANCE)
                                                                        for c in CITY)]:  # fmt: skip
            user, key = create_user(session, SYSTEM, UserIn(agency=code, name=f"bench {handle}", roles=[role]))
            world.keys[handle], world.actors[handle] = key, actor_for(user)
    add_partners(world, partners, now=now)
    return world


def _factory(world: World) -> sessionmaker[Session]:
    return make_session_factory(world.engine)


def _policy(world: World) -> CheckpointPolicy:
    """Units of work sign checkpoints and hash search subjects as the API's do."""
    return CheckpointPolicy.from_settings(world.settings, load_signer(world.settings.audit_key_file))


def add_partners(world: World, count: int, *, now: datetime | None = None) -> None:
    """`count` more partner agencies, each with a user and an approved agreement (the services'
    own propose and vote), in force at `now`."""
    instant = now or datetime.now(UTC)
    clock = FrozenClock(instant - timedelta(minutes=1))
    factory = _factory(world)
    first = len(world.partners) + 1
    codes = ["FBI" if n == 1 else f"P{n:02d}" for n in range(first, first + count)]
    with unit_of_work(factory, clock, policy=_policy(world)) as session:
        for code in codes:
            create_agency(session, SYSTEM, AgencyIn(code=code, name=f"{code} (bench partner)", kind="partner"))
            user, key = create_user(session, SYSTEM, UserIn(agency=code, name=f"bench {code}", roles=[Role.PARTNER]))
            world.keys[code.lower()], world.actors[code.lower()] = key, actor_for(user)
    settings = world.settings
    rules = Policy(
        frozenset(settings.protected_fields), frozenset(settings.prohibited_purposes), settings.agreement_quorum
    )
    for code in codes:
        with unit_of_work(factory, clock, policy=_policy(world), actor=world.actors["city.gov"]) as session:
            agreement = agreements.propose(session, world.actors["city.gov"], terms(code, now=instant), rules)
        for voter in ("dao.gov", "fjd.gov"):
            with unit_of_work(factory, clock, policy=_policy(world), actor=world.actors[voter]) as session:
                agreements.vote(session, world.actors[voter], agreement.id, "yes", rules)
    world.partners.extend(codes)


# ---------------------------------------------------------------------------------------------
# Arrests


def arrest_rows(count: int, *, seed: int, start: int = 0, now: datetime | None = None) -> Iterator[
    tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]
]:  # fmt: skip
    """(person row, arrest row, charge rows) for `count` arrests, as booking would write them,
    spread over the last year and every workflow status (2% sealed)."""
    rng = random.Random(seed)  # noqa: S311 - reproducible bench data, not a secret
    catalog = get_catalog()
    instant = (now or datetime.now(UTC)).replace(microsecond=0)
    issued: set[str] = set()
    for n in range(start, start + count):
        arrested_at = instant - timedelta(minutes=rng.randint(60, 365 * 24 * 60))
        person = random_person(rng, today=arrested_at.date(), issued=issued)
        details = random_arrest_details(rng, arrested_at=arrested_at, sequence=n)
        person_id, arrest_id = uuid.uuid4(), uuid.uuid4()
        name = person["name"]
        status = rng.choices(STATUSES, weights=(10, 15, 5, 20, 20, 30))[0]
        person_row = {"id": person_id, "ppn": f"{n + 1:07d}", "sid": person["sid"], "fbi_number": person["fbi_number"],
                      "created_at": arrested_at}  # fmt: skip
        arrest_row = {
            "id": arrest_id, "tracking_number": tracking_number(n + 1), "person_id": person_id, "status": status,
            "sealed": rng.random() < 0.02, "first_name": name["first"], "middle_name": name["middle"],
            "last_name": name["last"], "suffix": name["suffix"], "last_key": name_key(name["last"]),
            "first_key": name_key(name["first"]), "aliases": person["aliases"],
            "dob": date.fromisoformat(person["dob"]),
            "sex": person["sex"], "race": person["race"], "ethnicity": person["ethnicity"],
            "place_of_birth": person["place_of_birth"], "citizenship": person["citizenship"],
            "address": person["address"], "phone": person["phone"], "ssn": None, "sid": person["sid"],
            "fbi_number": person["fbi_number"], "arrested_at": arrested_at, "location": details["location"],
            "district": details["district"], "incident_number": f"{details['incident_number']}-{n}",
            "arresting_agency": "PPD", "arresting_officer": details["arresting_officer"],
            "narrative": "Bench arrest.", "victims": [], "witnesses": [],
            "custody_status": "released" if status in ("released", "charges_declined") else "in_custody",
            "released_at": arrested_at + timedelta(hours=20) if status == "released" else None,
            "release_reason": "bail posted" if status == "released" else None,
            "created_at": arrested_at, "updated_at": arrested_at,
        }  # fmt: skip
        charges = []
        for sequence, charge in enumerate(random_charges(rng), start=1):
            statute = statute_from_parts(charge["title"], charge["section"], charge["subsection"])
            offense = catalog.validate(statute, charge["grade"])
            charges.append({
                "id": uuid.uuid4(), "arrest_id": arrest_id, "sequence": sequence, "title": statute.title,
                "section": statute.section, "subsection": statute.subsection, "grade": charge["grade"],
                "description": offense.description, "counts": charge["counts"], "status": "proposed",
            })  # fmt: skip
        yield person_row, arrest_row, charges


def add_arrests(engine: Engine, count: int, *, seed: int = 1, batch: int = 2000) -> None:
    """Appends `count` arrests (numbered after those already there) in batches."""
    with engine.begin() as conn:
        start = int(conn.execute(select(func.count()).select_from(Arrest)).scalar() or 0)
    rows = arrest_rows(count, seed=seed + start, start=start)
    done = 0
    while done < count:
        people, arrests, charges = [], [], []
        for person, arrest, charge_rows in (next(rows) for _ in range(min(batch, count - done))):
            people.append(person)
            arrests.append(arrest)
            charges.extend(charge_rows)
        with engine.begin() as conn:
            conn.execute(insert(Person), people)
            conn.execute(insert(Arrest), arrests)
            conn.execute(insert(Charge), charges)
        done += len(arrests)
    with engine.begin() as conn:
        # Later real bookings draw numbers after the seeded ones.
        for name in ("tracking_number", "ppn"):
            conn.execute(Counter.__table__.delete().where(Counter.name == name))
            conn.execute(insert(Counter).values(name=name, value=start + count))
        if engine.dialect.name == "postgresql":
            conn.execute(text("ANALYZE"))
