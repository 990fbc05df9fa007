"""The demonstration world (CONTRACT §12), city side: agencies, users of every city role, and
arrests at every stage of the workflow.

Every arrest goes through the same services as a real one, one transaction per step, with the
clock set to the moment the step happened. Steps of all arrests run in time order, so the audit
trail and the outbox read like months of real operation, oldest first.
"""

from __future__ import annotations

import json
import os
import random
import secrets
import uuid
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from pars.actors import SYSTEM, CityActor
from pars.audit.chain import CheckpointPolicy
from pars.audit.signing import load_signer
from pars.auth.models import User
from pars.auth.schemas import AgencyIn, UserIn
from pars.auth.service import actor_for, agency_by_code, create_agency, create_user, issue_key
from pars.auth.signin import set_password
from pars.clock import Clock, FrozenClock, SystemClock
from pars.db import make_session_factory
from pars.demo import partners
from pars.demo.partners import PartnerAct
from pars.demo.people import Person, random_person, random_victim, random_witness
from pars.demo.places import PLAIN_OFFENSES, random_arrest_details, random_charges, random_narrative
from pars.errors import DomainError
from pars.permissions import Role
from pars.records import intake, workflow
from pars.records.codes import PERSON_CODES
from pars.records.models import Arrest
from pars.records.schemas import (
    ArraignmentIn,
    ArrestIn,
    BailType,
    ChargingDecisionIn,
    CommitmentIn,
    ReleaseIn,
    SealIn,
)
from pars.settings import Settings
from pars.sharing.agreements import Policy
from pars.work import unit_of_work

AGENCIES = [
    AgencyIn(code="PPD", name="Philadelphia Police Department", ori="PAPEP0000", kind="city"),
    AgencyIn(code="DAO", name="District Attorney's Office", ori="PA051013A", kind="city", stakeholder=True),
    AgencyIn(code="FJD", name="First Judicial District", ori="PA051015J", kind="city", stakeholder=True),
    AgencyIn(code="CITY", name="City of Philadelphia, Office of the Mayor", kind="city", stakeholder=True),
    AgencyIn(code="DEFENDER", name="Defender Association of Philadelphia", kind="city"),
    AgencyIn(code="FBI", name="Federal Bureau of Investigation, Philadelphia", ori="PAFBIPH00", kind="partner"),
    AgencyIn(code="ATF", name="Bureau of Alcohol, Tobacco, Firearms and Explosives", ori="PAATFPH00", kind="partner"),
    AgencyIn(code="ICE", name="U.S. Immigration and Customs Enforcement", ori="PAICEPH00", kind="partner"),
]  # fmt: skip

# handle → (agency, name, roles). Handles are the keys of demo-keys.json.
USERS: dict[str, tuple[str, str, list[Role]]] = {
    "ppd.booking": ("PPD", "Officer Dana Kowalski (booking)", [Role.BOOKING]),
    "dao.charging": ("DAO", "ADA Marcus Bell (charging unit)", [Role.CHARGING]),
    "fjd.magistrate": ("FJD", "Magistrate Rosa Delgado", [Role.MAGISTRATE]),
    "dao.governance": ("DAO", "DAO data-sharing counsel", [Role.GOVERNANCE]),
    "fjd.governance": ("FJD", "FJD court administrator", [Role.GOVERNANCE]),
    "city.governance": ("CITY", "Mayor's office policy director", [Role.GOVERNANCE]),
    "city.oversight": ("CITY", "Office of the Inspector General analyst", [Role.OVERSIGHT]),
    "fbi.agent": ("FBI", "Special Agent J. Okafor", [Role.PARTNER]),
    "atf.agent": ("ATF", "Special Agent L. Moreau", [Role.PARTNER]),
    "ice.officer": ("ICE", "Deportation Officer R. Vance", [Role.PARTNER]),
}

HISTORY_DAYS = 120
FACILITIES = ("Curran-Fromhold Correctional Facility", "Detention Center", "Riverside Correctional Facility")


Payload = ArrestIn | ChargingDecisionIn | ArraignmentIn | CommitmentIn | ReleaseIn | SealIn

# Who takes each step: the user whose role the contract gives it.
PERFORMER: dict[type[Payload], str] = {
    ArrestIn: "ppd.booking",
    ChargingDecisionIn: "dao.charging",
    ArraignmentIn: "fjd.magistrate",
    CommitmentIn: "ppd.booking",
    ReleaseIn: "ppd.booking",
    SealIn: "fjd.magistrate",
}


@dataclass(order=True)
class _Step:
    at: datetime
    order: int
    arrest: int = field(compare=False)  # the arrest a workflow step belongs to; -1 for partner acts
    payload: Payload | PartnerAct = field(compare=False)


def build_world(
    settings: Settings,
    engine: Engine,
    *,
    arrests: int,
    keys_file: Path,
    seed: int,
    console: Console,
    clock: Clock | None = None,
    receiver_port: int = 9000,
) -> dict[str, dict[str, Any]]:
    """Creates (or reuses) the demo agencies and users, issues each user a new key, adds
    `arrests` arrests, subscribes FBI's and ATF's webhooks to the demo receiver on
    `receiver_port`, and writes demo-keys.json (mode 0600). Returns what it wrote."""
    # Signed sessions: searches carry their keyed subject and registered cases hash their subjects
    # under the audit key, as they do when the API serves them.
    signing = CheckpointPolicy.from_settings(settings, load_signer(settings.audit_key_file))
    factory = make_session_factory(engine)
    now = (clock or SystemClock()).now()
    rng = random.Random(seed)  # noqa: S311 - a seeded world must be reproducible, not secret
    zone = settings.zone
    start = partners.history_start(now, zone, HISTORY_DAYS)
    plan = [*partners.agreement_steps(now, zone), *partners.activity(rng, start, now, zone)]
    # The demo's principals exist from before anything in its history.
    first = min(start, *(at for at, _ in plan)) - timedelta(days=1)
    with unit_of_work(factory, FrozenClock(first), policy=signing) as session:
        keys = _principals(session)
        actors = {handle: actor_for(session.get_one(User, uuid.UUID(k["user_id"]))) for handle, k in keys.items()}
    _write_keys(keys_file, keys)

    steps = sorted(
        [
            *_plan(rng, arrests, start=start, now=now, namesakes_before=partners.namesakes_before(now, zone)),
            *(_Step(at, -n, -1, act) for n, (at, act) in enumerate(plan, 1)),
        ]
    )
    ids: dict[int, uuid.UUID] = {}
    policy = Policy(
        frozenset(settings.protected_fields), frozenset(settings.prohibited_purposes), settings.agreement_quorum
    )
    with Progress(
        TextColumn("Building the demo world"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
        console=console, transient=False,
    ) as progress:  # fmt: skip
        task = progress.add_task("steps", total=len(steps))
        for step in steps:
            payload = step.payload
            if isinstance(payload, PartnerAct):
                actor = actors[payload.handle]
                work = unit_of_work(factory, FrozenClock(step.at), policy=signing, actor=actor)
                with suppress(DomainError), work as session:
                    partners.perform(session, actor, payload, at=step.at, rng=rng, policy=policy, zone=zone)
            else:
                with unit_of_work(factory, FrozenClock(step.at), policy=signing) as session:
                    performer = actors[PERFORMER[type(payload)]]
                    assert isinstance(performer, CityActor), performer
                    arrest = _execute(session, performer, payload, ids.get(step.arrest), zone=zone)
                    ids.setdefault(step.arrest, arrest.id)
            progress.advance(task)
    # Subscribed now, so the receiver gets what happens from here on, not the months of history.
    with unit_of_work(factory, FrozenClock(now), policy=signing) as session:
        partners.subscribe_receiver(session, actors, port=receiver_port)
    _summary(console, keys_file, keys, arrests)
    return keys


def _principals(session: Session) -> dict[str, dict[str, Any]]:
    for agency in AGENCIES:
        if agency_by_code(session, agency.code) is None:
            create_agency(session, SYSTEM, agency)
    keys: dict[str, dict[str, Any]] = {}
    for handle, (code, name, roles) in USERS.items():
        user = session.scalars(select(User).where(User.name == name)).first()
        if user is None:
            user, key = create_user(session, SYSTEM, UserIn(agency=code, name=name, roles=roles))
        else:  # a second run: the old key cannot be shown again, so the user gets a new one
            key = issue_key(session, SYSTEM, user)
        # Each run gives every demo user a new password; the first sign-in enrols an authenticator.
        password = secrets.token_urlsafe(12)
        set_password(session, SYSTEM, user.id, password, username=handle)
        keys[handle] = {
            "user_id": str(user.id),
            "username": handle,
            "name": name,
            "agency": code,
            "roles": [str(r) for r in roles],
            "api_key": key,
            "password": password,
        }
    return keys


def _write_keys(path: Path, keys: dict[str, dict[str, Any]]) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(keys, out, indent=2, ensure_ascii=False)
        out.write("\n")
    path.chmod(0o600)


def namesake_count(arrests: int) -> int:
    """How many of the arrests are of namesakes (a twentieth, at least six, at most 24; a third of
    a world too small for six)."""
    return min(max(6, arrests // 20), 24) if arrests >= 18 else arrests // 3


def _namesake(rng: random.Random, index: int, today: date, issued: set[str]) -> Person:
    """A Hispanic arrestee named like others (``partners.NAMESAKES``, in turn), so that a search
    by first and last name alone finds several people: Philadelphia has many José Rodríguez."""
    person = random_person(rng, today=today, issued=issued)
    for _ in range(500):
        if person["ethnicity"] == "Hispanic":
            break
        person = random_person(rng, today=today, issued=issued)
    first, last, sex = partners.NAMESAKES[index % len(partners.NAMESAKES)]
    person["name"] = {"first": first, "middle": None, "last": last, "suffix": None}
    person["sex"], person["aliases"] = sex, []
    return person


def _plan(
    rng: random.Random, count: int, *, start: datetime, now: datetime, namesakes_before: datetime
) -> Iterator[_Step]:
    """Every step of every arrest (the caller puts them in time order). The first arrests are of
    namesakes, made before ``namesakes_before`` (ICE's sweeps)."""
    people: list[Person] = []
    issued: set[str] = set()
    sequences: dict[str, int] = {}
    order = 0
    namesakes = namesake_count(count) if namesakes_before > start else 0
    for index in range(count):
        if index < namesakes:
            early = (namesakes_before - start).total_seconds()
            arrested_at = (start + timedelta(seconds=rng.uniform(0, early))).replace(microsecond=0)
            person = _namesake(rng, index, arrested_at.date(), issued)
            people.append(person)
            booking = _booking(rng, person, arrested_at, sequences)
            for at, payload in _lifecycle(rng, booking, arrested_at, now):
                yield _Step(at, order, index, payload)
                order += 1
            continue
        # A tenth of the arrests fall in the last two days, so the docket has waiting cases.
        span = (now - start).total_seconds() / 86400
        age = timedelta(hours=rng.uniform(1, 48)) if rng.random() < 0.1 else timedelta(days=rng.uniform(2, span))
        arrested_at = (now - age).replace(microsecond=0)
        # Some people are arrested again: the same person, found by SID or name and birth date.
        if people and rng.random() < 0.08:
            person = rng.choice(people)
        else:
            person = random_person(rng, today=arrested_at.date(), issued=issued)
            people.append(person)
        booking = _booking(rng, person, arrested_at, sequences)
        for at, payload in _lifecycle(rng, booking, arrested_at, now):
            yield _Step(at, order, index, payload)
            order += 1


def _coded(person: Person) -> Person:
    """The person as the booking page sends it: sex, race and ethnicity as their codes (the
    generators speak words, as a witness would)."""
    coded = dict(person)
    for name, codes in PERSON_CODES.items():
        code = codes.classify(person[name])  # type: ignore[literal-required]
        if code is not None:
            coded[name] = code.code
    return cast(Person, coded)


def _booking(rng: random.Random, person: Person, arrested_at: datetime, sequences: dict[str, int]) -> ArrestIn:
    details = random_arrest_details(rng, arrested_at=arrested_at, sequence=0)
    district = details["district"]
    sequences[district] = sequences.get(district, 0) + 1
    details = random_arrest_details(
        rng, arrested_at=arrested_at, sequence=sequences[district] * 7 + 100, district=district
    )
    charges = random_charges(rng)
    first = charges[0]
    offense = PLAIN_OFFENSES.get((first["title"], first["section"]), "a disturbance")
    violent = any(c["title"] == 18 and c["section"] in {"2701", "2702", "3701", "2706", "2501"} for c in charges)
    today = arrested_at.date()
    return ArrestIn.model_validate(
        {
            "person": _coded(person),
            "arrest": details,
            "charges": charges,
            "narrative": random_narrative(rng, offense, details["location"]),
            "victims": [random_victim(rng, today)] if violent else [],
            "witnesses": [random_witness(rng, today)] if rng.random() < 0.3 else [],
        }
    )


def _execute(
    session: Session, actor: CityActor, payload: Payload, arrest_id: uuid.UUID | None, *, zone: ZoneInfo
) -> Arrest:
    if isinstance(payload, ArrestIn):
        return intake.book_arrest(session, actor, payload)
    assert arrest_id is not None
    if isinstance(payload, ChargingDecisionIn):
        return workflow.record_charging_decision(session, actor, arrest_id, payload, zone=zone)
    if isinstance(payload, ArraignmentIn):
        return workflow.record_arraignment(session, actor, arrest_id, payload)
    if isinstance(payload, CommitmentIn):
        return workflow.record_commitment(session, actor, arrest_id, payload)
    if isinstance(payload, ReleaseIn):
        return workflow.record_release(session, actor, arrest_id, payload)
    return workflow.seal_arrest(session, actor, arrest_id, payload)


def _lifecycle(
    rng: random.Random, booking: ArrestIn, arrested_at: datetime, now: datetime
) -> Iterator[tuple[datetime, Payload]]:
    """The steps this arrest has gone through by `now`: the older the arrest, the further along."""
    booked_at = arrested_at + timedelta(minutes=rng.randint(20, 90))
    yield booked_at, booking
    charged_at = booked_at + timedelta(hours=rng.uniform(1, 9))
    if charged_at >= now:
        return
    if rng.random() < 0.08:
        yield charged_at, ChargingDecisionIn(decision="declined", notes="insufficient evidence")
        released_at = charged_at + timedelta(minutes=rng.randint(30, 180))
        if released_at < now and rng.random() < 0.85:
            yield released_at, ReleaseIn(released_at=released_at, reason="charges declined")
        return
    if rng.random() < 0.12 and len(booking.charges) > 1:
        yield (
            charged_at,
            ChargingDecisionIn(decision="modified", charges=booking.charges[:1], notes="remaining charges withdrawn"),
        )
    else:
        yield charged_at, ChargingDecisionIn(decision="approved")
    # Arraignment court sits about every four hours; some cases wait past the 24-hour mark.
    held_at = charged_at + timedelta(hours=rng.choice([2, 4, 6, 8, 12, 20, 30]))
    if held_at >= now:
        return
    bail = rng.choices(list(BailType), weights=[30, 20, 35, 10, 5])[0]
    amounts = {BailType.MONETARY: [500, 1000, 2500, 5000, 10000, 25000, 50000], BailType.UNSECURED: [1000, 2500, 5000]}
    yield (
        held_at,
        ArraignmentIn(
            held_at=held_at,
            bail_type=bail,
            bail_amount=Decimal(rng.choice(amounts[bail])) if bail in amounts else None,
            conditions="stay away from the complainant" if bail == BailType.NONMONETARY else None,
            next_hearing_at=held_at + timedelta(days=rng.randint(3, 10)),
        ),
    )
    step_at = held_at + timedelta(minutes=rng.randint(20, 120))
    if step_at >= now:
        return
    if bail in (BailType.MONETARY, BailType.DENIED) and rng.random() < 0.6:
        yield step_at, CommitmentIn(facility=rng.choice(FACILITIES))
        step_at += timedelta(days=rng.uniform(1, 30))
        if step_at >= now or rng.random() < 0.5:
            return
        yield (
            step_at,
            ReleaseIn(
                released_at=step_at, reason="bail posted" if bail == BailType.MONETARY else "released by court order"
            ),
        )
    else:
        yield step_at, ReleaseIn(released_at=step_at, reason="released on bail conditions")
    sealed_at = step_at + timedelta(days=rng.uniform(5, 40))
    if sealed_at < now and rng.random() < 0.03:
        yield sealed_at, SealIn(order_ref=f"CP-51-MD-{rng.randint(1, 9999999):07d}-{sealed_at.year}")


def _summary(console: Console, keys_file: Path, keys: dict[str, dict[str, Any]], arrests: int) -> None:
    table = Table(title=f"Demo users (keys and passwords in {keys_file}, mode 0600)")
    for column in ("user name", "agency", "roles"):
        table.add_column(column)
    for handle, entry in keys.items():
        table.add_row(handle, entry["agency"], ", ".join(entry["roles"]))
    console.print(table)
    console.print(
        f"{arrests} arrests added. Sign in at / with a user name and its password from {keys_file} (the first"
        " sign-in enrols an authenticator app); the API keys are there too, for /docs."
    )
