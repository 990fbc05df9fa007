"""Property tests of the gate (hypothesis): whatever the agreement, the records and the moment,
a partner never receives a field outside its grant, a protected field, a record outside scope,
anything outside the validity window, or anything under an unregistered case when the agreement
requires registered cases — through get and through search — and a city user always receives
the whole record. And whatever people share a name, a name search without an identifier
discloses the arrests of one person or of no one."""

from __future__ import annotations

import itertools
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given
from hypothesis import settings as examples
from hypothesis import strategies as st
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from pars.actors import SYSTEM, CityActor
from pars.audit.chain import CheckpointPolicy
from pars.auth.schemas import AgencyIn, UserIn
from pars.auth.service import actor_for, create_agency, create_user
from pars.clock import FrozenClock
from pars.db import make_session_factory
from pars.permissions import Role
from pars.records import intake, workflow
from pars.records.fields import RECORD_FIELDS
from pars.records.models import Arrest
from pars.records.names import name_key
from pars.records.record import SharedRecord
from pars.records.schemas import ArrestIn, ChargingDecisionIn, SealIn
from pars.records.serialize import arrest_record
from pars.settings import Settings
from pars.sharing import agreements, cases
from pars.sharing.agreements import Policy
from pars.sharing.grants import Grant, Scope
from pars.sharing.schemas import AgreementIn, CaseIn
from pars.work import unit_of_work
from tests.conftest import START, User, arrest_body

PROTECTED = {"person.place_of_birth", "person.citizenship", "person.ssn", "victims", "witnesses"}
GRANTABLE = sorted(set(RECORD_FIELDS) - PROTECTED)
# (statute, grade, title, section) choices that the catalog accepts.
CHARGES = [
    ("18 § 2701 §§ A1", "M2", 18, "2701"),
    ("18 § 6106 §§ A1", "F3", 18, "6106"),
    ("18 § 3502 §§ A1", "F1", 18, "3502"),
    ("35 § 780-113 §§ A16", "M", 35, "780-113"),
    ("75 § 3802 §§ A1", "M", 75, "3802"),
]
EFFECTIVE, EXPIRES = (
    datetime.fromisoformat("2026-01-01T00:00:00-05:00"),
    datetime.fromisoformat("2026-09-01T00:00:00-04:00"),
)
MOMENTS = {
    "before": START - timedelta(hours=1),  # approved at START: not in force before
    "inside": START + timedelta(days=1),
    "last_ms": EXPIRES - timedelta(milliseconds=1),
    "expires_at": EXPIRES,
    "after": EXPIRES + timedelta(days=3),
}
IN_WINDOW = {"inside", "last_ms"}
CITY = ZoneInfo("America/New_York")


def optional_set(elements: st.SearchStrategy[Any]) -> st.SearchStrategy[list[Any] | None]:
    return st.none() | st.sets(elements, min_size=1).map(sorted)


@dataclass(frozen=True)
class Spec:
    charges: tuple[int, ...]
    step: str  # booked | approved | declined
    sealed: bool


scopes = st.fixed_dictionaries(
    {
        "grades": optional_set(st.sampled_from(["F1", "F2", "F3", "M1", "M2", "M"])),
        "titles": optional_set(st.sampled_from([18, 35, 75])),
        "sections": optional_set(st.sampled_from(["2701", "6106", "3502", "780-113", "3802"])),
        "statuses": optional_set(st.sampled_from(["booked", "charges_approved", "charges_declined"])),
    }
)
specs = st.builds(
    Spec,
    charges=st.lists(st.integers(0, len(CHARGES) - 1), min_size=1, max_size=2, unique=True).map(tuple),
    step=st.sampled_from(["booked", "approved", "declined"]),
    sealed=st.booleans(),
)


def in_scope(spec: Spec, scope: dict[str, Any]) -> bool:
    """The contract's rule, written independently of the gate."""
    status = {"booked": "booked", "approved": "charges_approved", "declined": "charges_declined"}[spec.step]
    if spec.sealed or (scope["statuses"] is not None and status not in scope["statuses"]):
        return False
    restrictions = [scope[k] for k in ("grades", "titles", "sections")]
    if all(r is None for r in restrictions):
        return True
    for index in spec.charges:
        _, grade, title, section = CHARGES[index]
        if all(r is None or v in r for r, v in zip(restrictions, (grade, title, section), strict=True)):
            return True
    return False


def test_a_partner_never_receives_more_than_its_grant(
    db: Engine, client: TestClient, clock: FrozenClock, settings: Settings, booking: User, policy: CheckpointPolicy
) -> None:
    factory = make_session_factory(db)
    rules = Policy(
        frozenset(settings.protected_fields), frozenset(settings.prohibited_purposes), settings.agreement_quorum
    )
    codes = (f"P{n:04d}" for n in itertools.count())
    with unit_of_work(factory, clock, policy=policy) as session:
        voters = []
        for code in ("DAO", "FJD"):
            create_agency(session, SYSTEM, AgencyIn(code=code, name=code, kind="city", stakeholder=True))
            user, _ = create_user(session, SYSTEM, UserIn(agency=code, name=code, roles=[Role.GOVERNANCE]))
            voters.append(actor_for(user))
        clerk_user, _ = create_user(
            session, SYSTEM, UserIn(agency="PPD", name="clerk", roles=[Role.BOOKING, Role.CHARGING, Role.MAGISTRATE])
        )
        clerk = actor_for(clerk_user)
        assert isinstance(clerk, CityActor)

    @examples(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(
        fields=st.sets(st.sampled_from(GRANTABLE), min_size=1),
        scope=scopes,
        records=st.lists(specs, min_size=1, max_size=3),
        moment=st.sampled_from(sorted(MOMENTS)),
        case_required=st.booleans(),
        registered_required=st.booleans(),
        case_registered=st.booleans(),
    )
    def check(
        fields: set[str],
        scope: dict[str, Any],
        records: list[Spec],
        moment: str,
        case_required: bool,
        registered_required: bool,
        case_registered: bool,
    ) -> None:
        clock.set(START)
        code = next(codes)
        with unit_of_work(factory, clock, policy=policy) as session:
            create_agency(session, SYSTEM, AgencyIn(code=code, name=code, kind="partner"))
            partner, key = create_user(session, SYSTEM, UserIn(agency=code, name=code, roles=[Role.PARTNER]))
            terms = AgreementIn(
                agency=code, title="t", effective_from=EFFECTIVE, expires_at=EXPIRES,
                purposes=["criminal_investigation"], channels=["query"], fields=sorted(fields),
                scope=scope, require_case_reference=case_required, require_registered_case=registered_required,
            )  # fmt: skip
            agreement = agreements.propose(session, SYSTEM, terms, rules)
            for voter in voters:
                agreements.vote(session, voter, agreement.id, "yes", rules)
            if case_registered:
                cases.register(session, actor_for(partner), CaseIn(reference="C-9", title="a case"), zone=CITY)
            ids = [_book(session, clerk, spec) for spec in records]
        clock.set(MOMENTS[moment])
        headers = {
            "Authorization": f"Bearer {key}",
            "PARS-Purpose": "criminal_investigation",
            "PARS-Case-Reference": "C-9",
        }
        for spec, (arrest_id, tracking) in zip(records, ids, strict=True):
            expected = moment in IN_WINDOW and in_scope(spec, scope)
            got = client.get(f"/api/v1/arrests/{arrest_id}", headers=headers)
            found = client.get("/api/v1/arrests", params={"tracking_number": tracking}, headers=headers)
            if moment not in IN_WINDOW or (registered_required and not case_registered):
                assert got.status_code == 403 and found.status_code == 403
                assert "items" not in found.json() and "person" not in got.json()
                continue
            assert got.status_code == (200 if expected else 404)
            assert [r["id"] for r in found.json()["items"]] == ([str(arrest_id)] if expected else [])
            full = client.get(f"/api/v1/arrests/{arrest_id}", headers=booking.headers).json()
            assert {f.split(".")[0] for f in RECORD_FIELDS} <= set(full)
            for shared in [got.json()] * expected + found.json()["items"]:
                _assert_within_grant(shared, fields, full)

    check()


def _book(session: Any, clerk: Any, spec: Spec) -> tuple[uuid.UUID, str]:
    body = arrest_body(charges=[{"statute": CHARGES[i][0], "grade": CHARGES[i][1]} for i in spec.charges])
    arrest = intake.book_arrest(session, clerk, ArrestIn.model_validate(body))
    if spec.step != "booked":
        decision = ChargingDecisionIn(decision="approved" if spec.step == "approved" else "declined")
        workflow.record_charging_decision(session, clerk, arrest.id, decision, zone=CITY)
    if spec.sealed:
        workflow.seal_arrest(session, clerk, arrest.id, SealIn(order_ref="ORDER"))
    return arrest.id, f"{arrest.tracking_number[0]} {arrest.tracking_number[1:7]}-{arrest.tracking_number[7]}"


def _assert_within_grant(shared: dict[str, Any], fields: set[str], full: dict[str, Any]) -> None:
    """Exactly the granted fields, each as the city's record holds it, and nothing protected."""
    allowed_top = {"id", "tracking_number", "status"} | {f for f in fields if "." not in f}
    person = {f.split(".", 1)[1] for f in fields if f.startswith("person.")}
    arrest = {f.split(".", 1)[1] for f in fields if f.startswith("arrest.")}
    expected_top = allowed_top | ({"person"} if person else set()) | ({"arrest"} if arrest else set())
    assert set(shared) == expected_top
    assert set(shared.get("person", {})) == person
    assert set(shared.get("arrest", {})) == arrest
    assert not {"place_of_birth", "citizenship", "ssn"} & set(shared.get("person", {}))
    assert not {"victims", "witnesses", "sealed"} & set(shared)
    for name, value in shared.items():
        if name in ("person", "arrest"):
            assert value == {member: full[name][member] for member in value}, name
        else:
            assert value == full[name], name


# Names written several ways (accents, case) and a few dates: namesakes arise often.
LAST_NAMES = ["Peña", "PENA", "Ortiz", "Ortíz"]
FIRST_NAMES = ["Ana", "ANA", "Luis"]
BIRTHS = ["1990-05-04", "1985-11-30"]
people = st.tuples(st.sampled_from(LAST_NAMES), st.sampled_from(FIRST_NAMES), st.sampled_from(BIRTHS))


def test_a_name_search_never_discloses_two_people(
    db: Engine, client: TestClient, clock: FrozenClock, settings: Settings, booking: User, policy: CheckpointPolicy
) -> None:
    """Whatever people were booked under whatever spellings, a search by last and first name
    (with or without a date of birth) returns every arrest of the one person it matches, or is
    refused as ambiguous naming how many people it matched; never arrests of two people."""
    factory = make_session_factory(db)
    rules = Policy(
        frozenset(settings.protected_fields), frozenset(settings.prohibited_purposes), settings.agreement_quorum
    )
    with unit_of_work(factory, clock, policy=policy) as session:
        for code in ("DAO", "FJD"):
            create_agency(session, SYSTEM, AgencyIn(code=code, name=code, kind="city", stakeholder=True))
        voters = [
            actor_for(create_user(session, SYSTEM, UserIn(agency=code, name=code, roles=[Role.GOVERNANCE]))[0])
            for code in ("DAO", "FJD")
        ]
        clerk = actor_for(create_user(session, SYSTEM, UserIn(agency="PPD", name="clerk", roles=[Role.BOOKING]))[0])
        assert isinstance(clerk, CityActor)
        create_agency(session, SYSTEM, AgencyIn(code="FBI", name="FBI", kind="partner"))
        _, key = create_user(session, SYSTEM, UserIn(agency="FBI", name="FBI", roles=[Role.PARTNER]))
        terms = AgreementIn(
            agency="FBI", title="t", effective_from=EFFECTIVE, expires_at=EXPIRES, purposes=["criminal_investigation"],
            channels=["query"], fields=["person.name", "person.dob", "charges"], require_case_reference=False,
        )  # fmt: skip
        agreement = agreements.propose(session, SYSTEM, terms, rules)
        for voter in voters:
            agreements.vote(session, voter, agreement.id, "yes", rules)
    headers = {"Authorization": f"Bearer {key}", "PARS-Purpose": "criminal_investigation"}
    rounds = itertools.count()

    @examples(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(booked=st.lists(people, min_size=1, max_size=5), asked=people, with_dob=st.booleans())
    def check(booked: list[tuple[str, str, str]], asked: tuple[str, str, str], with_dob: bool) -> None:
        # A suffix of this example's own keeps earlier examples' people out of its searches.
        suffix = f"x{next(rounds)}"
        person_of: dict[str, tuple[str | None, str | None, str]] = {}
        with unit_of_work(factory, clock, policy=policy) as session:
            for last, first, dob in booked:
                body = arrest_body()
                body["person"] |= {"name": {"first": first, "last": last + suffix}, "dob": dob}
                arrest = intake.book_arrest(session, clerk, ArrestIn.model_validate(body))
                person_of[str(arrest.id)] = (name_key(last), name_key(first), dob)
        last, first, dob = asked
        params = {"last_name": last + suffix, "first_name": first} | ({"dob": dob} if with_dob else {})
        matching = {
            arrest_id: person
            for arrest_id, person in person_of.items()
            if person[:2] == (name_key(last), name_key(first)) and (not with_dob or person[2] == dob)
        }
        found = client.get("/api/v1/arrests", params={**params, "limit": "100"}, headers=headers)
        persons = set(matching.values())
        if len(persons) > 1:
            first = client.get("/api/v1/arrests", params={**params, "limit": "1"}, headers=headers)
            for refused in (found, first):
                assert refused.status_code == 403
                assert refused.json()["reason"] == "ambiguous" and refused.json()["persons"] == len(persons)
                assert "items" not in refused.json()
            return
        assert found.status_code == 200, found.text
        returned = [item["id"] for item in found.json()["items"]]
        assert sorted(returned) == sorted(matching)
        assert len({person_of[arrest_id] for arrest_id in returned}) <= 1
        # Page by page (the first page counts in its own statement, later ones before theirs):
        # the same arrests, newest first, as the one page.
        paged, cursor = [], None
        while True:
            page = client.get(
                "/api/v1/arrests", params={**params, "limit": "1"} | ({"cursor": cursor} if cursor else {}),
                headers=headers,
            )  # fmt: skip
            assert page.status_code == 200, page.text
            paged += [item["id"] for item in page.json()["items"]]
            cursor = page.json()["next_cursor"]
            if cursor is None:
                break
        assert paged == returned

    check()


def test_a_projection_holds_exactly_the_granted_fields_as_the_record_holds_them(
    walk: Callable[..., dict[str, Any]], session: Session
) -> None:
    """`Grant.project` on real records in every state, whatever fields are granted (protected
    ones too: keeping them out of agreements is the agreements' rule, the projection is
    mechanical): the result is a `SharedRecord` whose JSON has the head, exactly the granted
    fields (a `person` or `arrest` only with a granted member of its own), each as the city's
    record has it, byte for byte, and never a member that was not granted, not even as null."""
    person = {**arrest_body()["person"], "aliases": [{"first": "Annie", "last": "Pena"}], "sid": "S-1"}
    party = {"name": {"first": "Kim", "last": "Lee"}, "dob": "1980-01-01", "phone": "215-555-0100"}
    for status in ("booked", "charges_approved", "arraigned", "released"):
        walk(status, person=person, victims=[party], witnesses=[party])
    session.expire_all()
    records = [arrest_record(arrest) for arrest in session.scalars(select(Arrest))]
    cities = [json.loads(record.model_dump_json()) for record in records]

    @examples(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(fields=st.sets(st.sampled_from(RECORD_FIELDS)), index=st.integers(0, len(records) - 1))
    def check(fields: set[str], index: int) -> None:
        grant = Grant(
            agreement_id=uuid.uuid4(), version=1, agency="P", purposes=frozenset({"criminal_investigation"}),
            channels=frozenset({"query"}), fields=frozenset(fields), scope=Scope.from_terms({}),
            require_case_reference=False, daily_query_limit=None, starts=EFFECTIVE, ends=EXPIRES,
        )  # fmt: skip
        projected = grant.project(records[index])
        assert isinstance(projected, SharedRecord)
        shared, city = json.loads(projected.model_dump_json()), cities[index]
        wanted = {"id", "tracking_number", "status"} | {f.split(".", 1)[0] for f in fields}
        assert set(shared) == wanted
        for name, value in shared.items():
            members = {f.split(".", 1)[1] for f in fields if f.startswith(f"{name}.")}
            if name in ("person", "arrest"):
                assert set(value) == members and value == {m: city[name][m] for m in members}
            else:
                assert value == city[name]
        # The page and the feed see the same JSON as the API.
        assert projected.model_dump(mode="json") == shared

    check()
