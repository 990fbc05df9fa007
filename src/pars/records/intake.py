"""Booking: validation against the offense catalog, identity resolution and numbering."""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, TypeVar, cast

from sqlalchemy import Select, Table, bindparam, insert, select, union
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from pars.actors import CityActor
from pars.audit import AuditAction, record_event
from pars.catalog import (
    GradeNotRecorded,
    Offense,
    StatuteSyntaxError,
    UnknownStatute,
    get_catalog,
    parse_statute,
    statute_from_parts,
)
from pars.clock import now
from pars.errors import FieldError, Invalid
from pars.outbox.events import EventType, emit
from pars.records.models import Arrest, Charge, Person
from pars.records.names import name_key
from pars.records.numbers import next_values, tracking_number
from pars.records.repository import city_only
from pars.records.schemas import ArrestIn, ChargeIn, ChargeStatus, Custody, PersonIn, Status

EARLIEST_DOB = date(1900, 1, 1)
# Clocks of booking terminals drift; a little future is tolerated, more is a typing error.
FUTURE_TOLERANCE = timedelta(minutes=5)


@dataclass(frozen=True)
class ResolvedCharge:
    offense: Offense
    grade: str
    counts: int


def resolve_charges(charges: list[ChargeIn], *, field: str = "charges") -> list[ResolvedCharge]:
    """Every statute must be in the catalog and every grade recorded for it; all problems are
    reported at once, each naming its charge."""
    catalog = get_catalog()
    resolved: list[ResolvedCharge] = []
    errors: list[FieldError] = []
    for index, charge in enumerate(charges):
        where = f"{field}[{index}]"
        try:
            if charge.statute is not None:
                statute = parse_statute(charge.statute)
            else:
                assert charge.title is not None and charge.section is not None
                statute = statute_from_parts(charge.title, charge.section, charge.subsection)
            offense = catalog.validate(statute, charge.grade)
        except StatuteSyntaxError as exc:
            errors.append(FieldError(f"{where}.statute", str(exc)))
        except UnknownStatute as exc:
            errors.append(FieldError(f"{where}.statute", str(exc)))
        except GradeNotRecorded as exc:
            errors.append(FieldError(f"{where}.grade", str(exc)))
        else:
            grade = charge.grade.strip().upper()
            resolved.append(ResolvedCharge(offense=offense, grade=grade, counts=charge.counts))
    if errors:
        raise Invalid(errors)
    return resolved


def not_in_future(session: Session, instant: datetime, field: str) -> None:
    if instant > now(session) + FUTURE_TOLERANCE:
        raise Invalid.one(field, "is in the future")


def _validate_dates(session: Session, payload: ArrestIn) -> None:
    errors: list[FieldError] = []
    arrested_at = payload.arrest.arrested_at
    if arrested_at > now(session) + FUTURE_TOLERANCE:
        errors.append(FieldError("arrest.arrested_at", "is more than 5 minutes in the future"))
    dob = payload.person.dob
    if dob < EARLIEST_DOB:
        errors.append(FieldError("person.dob", "is before 1900-01-01"))
    elif dob > arrested_at.date():
        errors.append(FieldError("person.dob", "is after the arrest"))
    if errors:
        raise Invalid(errors)


def resolve_person(session: Session, person: PersonIn) -> tuple[Person, bool]:
    """Same SID, else same FBI number, else same normalised last + first name and dob: the same
    person (same person_id and PPN). Otherwise a new person with a new PPN.

    One query finds the candidates of all three rules; the order of the rules is applied here.
    A new person (the second value True) is not in the session yet and has no PPN: the caller
    draws it and writes the row (`book_arrest`)."""
    sid, fbi = person.resolved_sid, person.resolved_fbi_number
    last, first = name_key(person.name.last), name_key(person.name.first)
    query = _candidates(by_sid=bool(sid), by_fbi=bool(fbi), first_known=first is not None)
    params = {"last": last, "first": first, "dob": person.dob, "sid": sid, "fbi": fbi}
    candidates = session.execute(query, params).all()
    row = (
        next((c for c in candidates if sid and c.sid == sid), None)
        or next((c for c in candidates if fbi and c.fbi_number == fbi), None)
        # Neither identifier matched, so every candidate left came by name and birth date.
        or next(iter(candidates), None)
    )
    found = None if row is None else _loaded(session, Person(**row._asdict()))
    if found is None:
        return Person(id=uuid.uuid4(), ppn=None, sid=sid, fbi_number=fbi, created_at=now(session)), True
    # A later booking may be the first to carry an identifier; the identity keeps it.
    if sid and found.sid is None:
        found.sid = sid
    if fbi and found.fbi_number is None:
        found.fbi_number = fbi
    return found, False


@functools.cache
def _candidates(*, by_sid: bool, by_fbi: bool, first_known: bool) -> Select[Any]:
    """The persons that one of the three rules finds, oldest first, as rows; built once for each
    combination of the rules that apply (a missing first name matches a missing one)."""
    by_name = select(_ARRESTS.c.person_id).where(
        _ARRESTS.c.last_key == bindparam("last"),
        _ARRESTS.c.first_key == bindparam("first") if first_known else _ARRESTS.c.first_key.is_(None),
        _ARRESTS.c.dob == bindparam("dob"),
    )
    rules = [by_name]
    if by_sid:
        rules.append(select(_PERSONS.c.id).where(_PERSONS.c.sid == bindparam("sid")))
    if by_fbi:
        rules.append(select(_PERSONS.c.id).where(_PERSONS.c.fbi_number == bindparam("fbi")))
    # A union, not an OR: each rule keeps its own index on PostgreSQL too.
    matches = union(*rules) if len(rules) > 1 else rules[0]
    return select(*_PERSONS.columns).where(_PERSONS.c.id.in_(matches)).order_by(_PERSONS.c.created_at, _PERSONS.c.id)


def _loaded(session: Session, person: Person) -> Person:
    """The session's object for a person row read as columns: the one it holds already, or this
    one made persistent as a load would leave it (no statement either way)."""
    make_transient_to_detached(person)
    return session.merge(person, load=False)


@dataclass(frozen=True)
class Booking:
    """A booking as written: the arrest's row, its charges' rows (in order) and the person,
    which the record is made of (`pars.records.serialize.booked_record`) without reading them
    back or making ORM objects of them. The person is the session's object when it was found,
    else a new one that is not in the session."""

    row: dict[str, Any]
    charges: list[dict[str, Any]]
    person: Person


def book_arrest(session: Session, actor: CityActor, payload: ArrestIn) -> Arrest:
    """`book`, with the rows written made persistent in the session as they are, as a load
    would leave them (`make_transient_to_detached`): for callers that go on with the arrest."""
    booking = book(session, actor, payload)
    arrest = _persistent(session, Arrest(**booking.row))
    if booking.person not in session:
        _persistent(session, booking.person)
    # Set once the rows are persistent: loaded state, not a change to flush.
    set_committed_value(arrest, "person", booking.person)
    set_committed_value(arrest, "charges", [_persistent(session, Charge(**c)) for c in booking.charges])
    return arrest


def book(session: Session, actor: CityActor, payload: ArrestIn) -> Booking:
    """Validates, resolves the person, numbers the arrest and writes it.

    The rows are written with Core inserts (the person when new, the arrest, its charges in one
    executemany), not by the ORM's flush: every column's value is known here. The numbers are
    drawn last, just before the writes: on PostgreSQL their counters' row locks are then held
    for the least time until the commit.

    Everything that needs no statement (the rows, but for the person and the numbers) is done
    before the first one: on SQLite the write lock is held from that first statement (identity
    resolution) to the commit, and every other booking waits for it."""
    city_only(actor)
    _validate_dates(session, payload)
    charges = resolve_charges(payload.charges)
    p, instant = payload.person, now(session)
    arrest_id = uuid.uuid4()
    row = dict.fromkeys(_ARREST_COLUMNS) | {
        "id": arrest_id,
        "status": Status.BOOKED,
        "sealed": False,
        "first_name": p.name.first,
        "middle_name": p.name.middle,
        "last_name": p.name.last,
        "suffix": p.name.suffix,
        "last_key": name_key(p.name.last),
        "first_key": name_key(p.name.first),
        "aliases": [a.model_dump() for a in p.aliases],
        "dob": p.dob,
        "sex": p.sex,
        "race": p.race,
        "ethnicity": p.ethnicity,
        "place_of_birth": p.place_of_birth,
        "citizenship": p.citizenship,
        "address": p.address.model_dump() if p.address else None,
        "phone": p.phone,
        "ssn": p.ssn,
        "sid": p.resolved_sid,
        "fbi_number": p.resolved_fbi_number,
        **payload.arrest.model_dump(),
        "narrative": payload.narrative,
        "victims": [v.model_dump(mode="json") for v in payload.victims],
        "witnesses": [w.model_dump(mode="json") for w in payload.witnesses],
        "custody_status": Custody.IN_CUSTODY,
        "created_at": instant,
        "updated_at": instant,
    }
    charge_rows = [
        {
            "id": uuid.uuid4(),
            "arrest_id": arrest_id,
            "sequence": index,
            "title": c.offense.statute.title,
            "section": c.offense.statute.section,
            "subsection": c.offense.statute.subsection,
            "grade": c.grade,
            "description": c.offense.description,
            "counts": c.counts,
            "status": ChargeStatus.PROPOSED,
        }
        for index, c in enumerate(charges, start=1)
    ]
    person, new_person = resolve_person(session, p)
    row["person_id"] = person.id
    # The event (its row, and PostgreSQL's NOTIFY) is written before the numbers are drawn: from
    # the draw to the commit, concurrent bookings wait for the counters' row locks, so as little
    # as possible happens in between.
    emit(session, EventType.BOOKED, arrest_id)
    drawn = next_values(session, "tracking_number", *(["ppn"] if new_person else []))
    if new_person:
        person.ppn = f"{drawn['ppn']:07d}"
        session.execute(insert(_PERSONS), _columns(person, _PERSON_COLUMNS))
    row["tracking_number"] = tracking_number(drawn["tracking_number"])
    session.execute(insert(_ARRESTS), row)
    session.execute(insert(_CHARGES), charge_rows)
    record_event(
        session,
        actor,
        AuditAction.ARREST_CREATE,
        arrest_id,
        {"tracking_number": row["tracking_number"], "person_id": str(person.id), "charges": len(charges)},
    )
    return Booking(row=row, charges=charge_rows, person=person)


_PERSONS = cast(Table, Person.__table__)
_ARRESTS = cast(Table, Arrest.__table__)
_CHARGES = cast(Table, Charge.__table__)
_PERSON_COLUMNS = tuple(c.key for c in _PERSONS.columns)
_ARREST_COLUMNS = tuple(c.key for c in _ARRESTS.columns)


def _columns(obj: object, keys: tuple[str, ...]) -> dict[str, object]:
    return {key: getattr(obj, key) for key in keys}


_Row = TypeVar("_Row", Person, Arrest, Charge)


def _persistent(session: Session, obj: _Row) -> _Row:
    """An object whose row was just inserted, made persistent in ``session`` as if loaded."""
    make_transient_to_detached(obj)
    session.add(obj)
    return obj
