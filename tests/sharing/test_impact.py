"""The impact preview of an agreement version (issue 16 item 1, CONTRACT §6), on a known world
with exact counts: arrests in and out of scope, a sealed one, one outside the period, people
with repeat arrests, fields present and absent, several races and ethnicities; an amendment's
difference from the version in force and what the agency received under it; who may ask; and
(hypothesis) that `arrests` is what a brute-force reading of the scope admits."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given
from hypothesis import settings as examples
from hypothesis import strategies as st
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from pars.actors import SYSTEM, CityActor
from pars.audit.chain import CheckpointPolicy
from pars.audit.models import AuditEntry
from pars.auth.schemas import AgencyIn
from pars.auth.service import create_agency
from pars.clock import FrozenClock
from pars.db import make_session_factory
from pars.oversight import impact
from pars.permissions import Role
from pars.records import intake, workflow
from pars.records.schemas import ArrestIn, ChargingDecisionIn, SealIn
from pars.settings import Settings
from pars.sharing import agreements
from pars.sharing.agreements import Policy
from pars.sharing.schemas import AgreementIn
from pars.work import unit_of_work
from tests.conftest import START, User, arrest_body
from tests.sharing.conftest import partner_headers
from tests.sharing.test_properties import CHARGES, CITY, Spec, in_scope, scopes, specs

FIREARM = [{"statute": "18 § 6106 §§ A1", "grade": "F3"}]
DRUGS = [{"statute": "35 § 780-113 §§ A16", "grade": "M"}]
BURGLARY = [{"statute": "18 § 3502 §§ A1", "grade": "F1"}]
V2_TERMS = {
    "title": "FBI: firearms and drugs only",
    "effective_from": "2026-01-01T00:00:00-05:00",
    "expires_at": "2026-09-01T00:00:00-04:00",
    "purposes": ["criminal_investigation"],
    "channels": ["query"],
    "fields": ["person.name", "person.dob", "person.race", "person.phone", "charges", "narrative"],
    "scope": {"sections": ["6106", "780-113"]},
}


def _person(first: str, last: str, dob: str, race: str | None, ethnicity: str | None, **more: Any) -> dict[str, Any]:
    body: dict[str, Any] = arrest_body()["person"] | {
        "name": {"first": first, "middle": None, "last": last, "suffix": None}
    }
    return body | {"dob": dob, "race": race, "ethnicity": ethnicity} | more


ANA = _person("Ana", "Peña", "1990-05-04", "White", "Hispanic")
JOHN = _person("John", "Smith", "1985-01-02", "Black", "Non-Hispanic")
MEI = _person("Mei", "Chen", "1979-07-08", "Asian", "Non-Hispanic")
LUIS = _person("Luis", "Ortiz", "1970-10-11", "Black", "Hispanic")
OLD = _person("Ray", "Gunn", "1960-02-03", "White", "Non-Hispanic")


@pytest.fixture
def world(
    client: TestClient,
    book: Callable[..., dict[str, Any]],
    walk: Callable[..., dict[str, Any]],
    magistrate: User,
    agreement: Callable[..., dict[str, Any]],
    governors: dict[str, User],
    fbi: User,
) -> dict[str, Any]:
    """v1 (the conftest's: title 18, grades F1–M2) approved and in force from START; v2
    (firearms and drugs, other fields) proposed. Arrests of the last 365 days:
    #1 Ana, assault (v1); #2 Ana again, firearm, no phone (v1, v2); #3 John, firearm, no
    narrative (v1, v2); #4 John, firearm, sealed (neither); #5 Mei, drugs (v2 only);
    #6 Luis, burglary (v1 only); and Ray's firearm arrest of January 2025 (outside the period)."""
    arrests = [
        book(person=ANA),
        book(person=ANA | {"phone": None}, charges=FIREARM),
        book(person=JOHN, charges=FIREARM, narrative=None),
        walk("released", person=JOHN, charges=FIREARM),
        book(person=MEI, charges=DRUGS),
        book(person=LUIS, charges=BURGLARY),
    ]
    sealed = client.post(
        f"/api/v1/arrests/{arrests[3]['id']}/seal", json={"order_ref": "X-1"}, headers=magistrate.headers
    )
    assert sealed.status_code == 200, sealed.text
    when = arrest_body()["arrest"] | {"arrested_at": "2025-01-10T10:00:00-05:00"}
    book(person=OLD, charges=FIREARM, arrest=when)
    made = agreement()
    amended = client.post(f"/api/v1/agreements/{made['id']}/versions", json=V2_TERMS, headers=governors["CITY"].headers)
    assert amended.status_code == 201, amended.text
    # What FBI received under v1: one record disclosed, one refused as out of scope.
    assert client.get(f"/api/v1/arrests/{arrests[2]['id']}", headers=partner_headers(fbi)).status_code == 200
    assert client.get(f"/api/v1/arrests/{arrests[4]['id']}", headers=partner_headers(fbi)).status_code == 404
    return {"id": made["id"], "arrests": arrests}


@pytest.fixture
def oversight(make_user: Callable[..., User]) -> User:
    return make_user(Role.OVERSIGHT, agency="CITY")


def _impact(client: TestClient, user: User, agreement_id: str, version: int, **params: str) -> dict[str, Any]:
    answer = client.get(f"/api/v1/agreements/{agreement_id}/versions/{version}/impact", params=params,
                        headers=user.headers)  # fmt: skip
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def _table(preview: dict[str, Any]) -> dict[tuple[str, str], tuple[int, int, float | None]]:
    return {(r["race"], r["ethnicity"]): (r["arrests"], r["persons_disclosed"], r["ratio"])
            for r in preview["disparate_impact"]}  # fmt: skip


def test_the_proposed_amendment_is_previewed_with_exact_counts(
    client: TestClient, world: dict[str, Any], oversight: User, session: Session
) -> None:
    preview = _impact(client, oversight, world["id"], 2)
    assert preview["version"] == 2 and preview["status"] == "proposed" and preview["agency"] == "FBI"
    # The last 365 days, today included, city time.
    assert preview["period"] == {"from": "2025-03-18T00:00:00-04:00", "to": "2026-03-18T00:00:00-04:00"}
    assert preview["arrests"] == 3  # #2, #3, #5: never the sealed #4 nor Ray's of 2025
    assert preview["persons"] == 3  # Ana, John, Mei
    assert preview["fields"] == {
        "charges": 3, "narrative": 2, "person.dob": 3, "person.name": 3, "person.phone": 2, "person.race": 3,
    }  # fmt: skip
    # The period's six arrests (the sealed one included) beside the three people admitted, by the
    # code lists' words; groups of fewer than 11 people have no ratio (the page says "fewer than 11").
    assert _table(preview) == {
        ("Asian", "Not Hispanic or Latino"): (1, 1, None),
        ("Black or African American", "Hispanic or Latino"): (1, 0, None),
        ("Black or African American", "Not Hispanic or Latino"): (2, 1, None),
        ("White", "Hispanic or Latino"): (2, 1, None),
    }
    assert all(r["suppressed"] for r in preview["disparate_impact"])
    luis = next(
        r
        for r in preview["disparate_impact"]
        if r["ethnicity"] == "Hispanic or Latino" and r["race"] == "Black or African American"
    )
    assert luis["published"] == {"arrests": "fewer than 11", "persons_disclosed": 0}
    row = next(r for r in preview["disparate_impact"] if r["race"] == "Asian")
    assert row["arrest_share"] == 0.1667 and row["disclosure_share"] == 0.3333
    assert preview["difference"] == {
        "against_version": 1,
        "arrests_added": 1,  # Mei's drug arrest
        "arrests_removed": 2,  # Ana's assault, Luis's burglary
        "fields_added": ["narrative", "person.phone", "person.race"],
        "fields_removed": ["arrest.arrested_at", "custody", "person.identifiers"],
    }
    received = preview["received"]
    assert received["version"] == 1
    assert received["period"] == {"from": START.astimezone(CITY).isoformat(), "to": "2026-03-18T00:00:00-04:00"}
    assert received["queries"] == 2 and received["refused"] == 1
    assert received["refused_by_reason"] == {"not_found_or_out_of_scope": 1}
    assert received["records_disclosed"] == 1 and received["persons_disclosed"] == 1
    assert received["fields"]["person.name"] == 1
    assert received["breaches"] == 0
    # Only counts: no record, person or name leaves.
    text = str(preview)
    for arrest in world["arrests"]:
        assert arrest["id"] not in text and arrest["person"]["identifiers"]["person_id"] not in text
    assert "Peña" not in text and "Smith" not in text
    session.expire_all()
    entry = session.query(AuditEntry).filter(AuditEntry.action == "agreement.impact_preview").one()
    assert entry.target == world["id"] and entry.details["version"] == 2 and entry.details["arrests"] == 3


def test_the_version_in_force_has_no_difference_and_a_period_can_be_chosen(
    client: TestClient, world: dict[str, Any], make_user: Callable[..., User], governors: dict[str, User]
) -> None:
    preview = _impact(client, governors["DAO"], world["id"], 1)
    assert preview["arrests"] == 4 and preview["persons"] == 3  # #1, #2, #3, #6: Ana, John, Luis
    assert preview["fields"]["custody"] == 4 and preview["fields"]["arrest.arrested_at"] == 4
    assert preview["difference"] is None and preview["received"] is None
    long_ago = _impact(client, governors["DAO"], world["id"], 2, **{"from": "2025-01-01", "to": "2025-01-31"})
    assert long_ago["arrests"] == 1 and long_ago["persons"] == 1  # Ray's firearm arrest
    assert long_ago["period"] == {"from": "2025-01-01T00:00:00-05:00", "to": "2025-02-01T00:00:00-05:00"}
    assert long_ago["difference"]["arrests_added"] == 0 and long_ago["difference"]["arrests_removed"] == 0
    assert long_ago["received"]["period"] is None and long_ago["received"]["queries"] == 0
    one_day = _impact(client, governors["DAO"], world["id"], 2, **{"from": "2026-03-17", "to": "2026-03-17"})
    assert one_day["arrests"] == 3


def test_who_may_preview_and_what_is_refused(
    client: TestClient, world: dict[str, Any], oversight: User, fbi: User, booking: User, session: Session
) -> None:
    url = f"/api/v1/agreements/{world['id']}/versions/2/impact"
    assert client.get(url, headers=fbi.headers).status_code == 403
    assert client.get(url, headers=booking.headers).status_code == 403
    missing = client.get(f"/api/v1/agreements/{uuid.uuid4()}/versions/1/impact", headers=oversight.headers)
    assert missing.status_code == 404
    assert (
        client.get(f"/api/v1/agreements/{world['id']}/versions/9/impact", headers=oversight.headers).status_code == 404
    )
    for params, field in (({"from": "yesterday"}, "from"), ({"to": "2026-13-01"}, "to"),
                          ({"from": "2026-03-10", "to": "2026-03-01"}, "to")):  # fmt: skip
        refused = client.get(url, params=params, headers=oversight.headers)
        assert refused.status_code == 422, refused.text
        assert [e["field"] for e in refused.json()["errors"]] == [field]
    unknown = client.get(url, params={"period": "year"}, headers=oversight.headers)
    assert unknown.status_code == 400 and "period" in unknown.json()["detail"]
    session.expire_all()
    assert session.query(AuditEntry).filter(AuditEntry.action == "agreement.impact_preview").count() == 0


def test_the_preview_counts_what_a_brute_force_reading_of_the_scope_admits(
    db: Engine, clock: FrozenClock, settings: Settings, make_user: Callable[..., User], policy: CheckpointPolicy
) -> None:
    factory = make_session_factory(db)
    rules = Policy(
        frozenset(settings.protected_fields), frozenset(settings.prohibited_purposes), settings.agreement_quorum
    )
    make_user(Role.GOVERNANCE, agency="DAO")
    clerk_user = make_user(Role.BOOKING, Role.CHARGING, Role.MAGISTRATE, agency="PPD")
    clerk = CityActor(uuid.UUID(clerk_user.id), "PPD", frozenset({Role.BOOKING, Role.CHARGING, Role.MAGISTRATE}))  # fmt: skip
    viewer = CityActor(None, "CITY", frozenset({Role.OVERSIGHT}))
    codes = (f"Q{n:04d}" for n in itertools.count())
    days = itertools.count(1)

    @examples(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(scope=scopes, records=st.lists(specs, min_size=0, max_size=5))
    def check(scope: dict[str, Any], records: list[Spec]) -> None:
        # Each example's arrests on a day of their own, and the preview of that day.
        day = (START - timedelta(days=next(days))).astimezone(CITY)
        with unit_of_work(factory, clock, policy=policy) as session:
            code = next(codes)
            create_agency(session, SYSTEM, AgencyIn(code=code, name=code, kind="partner"))
            terms = AgreementIn(agency=code, title="t", effective_from=START, expires_at=START + timedelta(days=30),
                                purposes=["criminal_investigation"], channels=["query"], fields=["person.name"],
                                scope=scope)  # fmt: skip
            agreement = agreements.propose(session, SYSTEM, terms, rules)
            for spec in records:
                _book(session, clerk, spec, day.replace(hour=10).isoformat())
        with unit_of_work(factory, clock, policy=policy) as session:
            preview = impact.preview(session, viewer, agreement.id, 1, start=day.date().isoformat(),
                                     end=day.date().isoformat(), zone=CITY)  # fmt: skip
        assert preview["arrests"] == sum(in_scope(spec, scope) for spec in records)
        assert preview["fields"] == {"person.name": preview["arrests"]}

    check()


def _book(session: Session, clerk: CityActor, spec: Spec, arrested_at: str) -> None:
    body = arrest_body(
        charges=[{"statute": CHARGES[i][0], "grade": CHARGES[i][1]} for i in spec.charges],
        arrest=arrest_body()["arrest"] | {"arrested_at": arrested_at},
    )
    arrest = intake.book_arrest(session, clerk, ArrestIn.model_validate(body))
    if spec.step != "booked":
        decision = ChargingDecisionIn(decision="approved" if spec.step == "approved" else "declined")
        workflow.record_charging_decision(session, clerk, arrest.id, decision, zone=CITY)
    if spec.sealed:
        workflow.seal_arrest(session, clerk, arrest.id, SealIn(order_ref="ORDER"))
