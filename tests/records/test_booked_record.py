"""The booking's answer is made from the values written (`serialize.booked_record`), not from
the rows read back: it must equal, byte for byte, the record `arrest_record` makes of the arrest
loaded from the database afterwards, whatever the booking holds."""

from __future__ import annotations

import json
import random
import uuid
from datetime import timedelta, timezone
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine
from sqlalchemy.orm import selectinload

from pars.actors import CityActor
from pars.audit.chain import CheckpointPolicy
from pars.clock import FrozenClock
from pars.db import make_session_factory
from pars.demo.people import random_person
from pars.demo.places import random_arrest_details, random_charges
from pars.permissions import Role
from pars.records import intake
from pars.records.models import Arrest
from pars.records.schemas import ArrestIn
from pars.records.serialize import arrest_record, booked_record
from pars.work import unit_of_work

CLERK = CityActor(user_id=uuid.uuid4(), agency_code="PPD", roles=frozenset({Role.BOOKING}))


def _party(person: Any, *, with_dob: bool) -> dict[str, Any]:
    return {"name": person["name"], "dob": person["dob"] if with_dob else None,
            "address": person.get("address"), "phone": person.get("phone")}  # fmt: skip


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    seed=st.integers(0, 40),  # a small range: some bookings find the person booked before
    parties=st.integers(0, 2),
    aliases=st.integers(0, 2),
    identifiers=st.sampled_from(["none", "top", "nested"]),
    offset_hours=st.sampled_from([-4, 0, 5]),
)
def test_the_answer_equals_the_record_read_back(
    db: Engine,
    clock: FrozenClock,
    policy: CheckpointPolicy,
    seed: int,
    parties: int,
    aliases: int,
    identifiers: str,
    offset_hours: int,
) -> None:
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not a secret
    today = clock.now().date()
    person: dict[str, Any] = dict(random_person(rng, today=today))
    sid, fbi = person.pop("sid", None), person.pop("fbi_number", None)
    person.pop("identifiers", None)
    if identifiers == "top":
        person |= {"sid": sid, "fbi_number": fbi}
    elif identifiers == "nested":
        person["identifiers"] = {"sid": sid, "fbi_number": fbi}
    person["aliases"] = [{"first": f"Alias{n}", "last": person["name"]["last"]} for n in range(aliases)]
    arrested_at = (clock.now() - timedelta(hours=3)).astimezone(timezone(timedelta(hours=offset_hours)))
    body = {
        "person": person,
        "arrest": random_arrest_details(rng, arrested_at=arrested_at, sequence=seed),
        "charges": random_charges(rng),
        "narrative": None if seed % 3 == 0 else "Officers made the arrest.",
        "victims": [_party(random_person(rng, today=today), with_dob=n % 2 == 0) for n in range(parties)],
        "witnesses": [_party(random_person(rng, today=today), with_dob=True) for _ in range(parties // 2)],
    }
    payload = ArrestIn.model_validate_json(ArrestIn.model_validate(body).model_dump_json())
    factory = make_session_factory(db)
    with unit_of_work(factory, clock, policy=policy) as session:
        answer = booked_record(intake.book(session, CLERK, payload)).model_dump_json(by_alias=True)
    with unit_of_work(factory, clock, policy=policy) as session:
        arrest_id = uuid.UUID(json.loads(answer)["id"])
        loaded = session.get_one(Arrest, arrest_id, options=[selectinload(Arrest.charges), selectinload(Arrest.person)])
        assert arrest_record(loaded).model_dump_json(by_alias=True) == answer
