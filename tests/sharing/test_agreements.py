"""CONTRACT §6: agreements, versions, votes, suspension, termination, overlap."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from pars.clock import FrozenClock
from pars.permissions import Role
from tests.conftest import User, audit_actions
from tests.sharing.conftest import TERMS

Make = Callable[..., dict[str, Any]]


def test_proposal_is_version_one_and_not_in_force(propose: Make, session: Session) -> None:
    body = propose()
    assert body["agency"] == "FBI"
    assert body["in_force"] is False and body["current_version"] is None
    assert body["suspended"] is False and body["terminated_at"] is None
    (version,) = body["versions"]
    assert version["version"] == 1 and version["status"] == "proposed" and version["votes"] == []
    assert version["fields"] == TERMS["fields"] and version["purposes"] == TERMS["purposes"]
    assert version["effective_from"] == "2026-01-01T05:00:00+00:00"
    assert version["expires_at"] == "2026-09-01T04:00:00+00:00"
    assert version["scope"] == TERMS["scope"] | {"statuses": None}
    assert version["require_case_reference"] is True and version["daily_query_limit"] == 500
    assert ("agreement.propose", "ok") in audit_actions(session)


def test_quorum_of_yes_votes_approves(client: TestClient, propose: Make, governors: dict[str, User]) -> None:
    agreement_id = propose()["id"]
    first = client.post(
        f"/api/v1/agreements/{agreement_id}/votes", json={"vote": "yes"}, headers=governors["DAO"].headers
    )
    assert first.json()["versions"][0]["status"] == "proposed"
    assert first.json()["in_force"] is False
    second = client.post(
        f"/api/v1/agreements/{agreement_id}/votes", json={"vote": "yes"}, headers=governors["FJD"].headers
    )
    body = second.json()
    assert body["versions"][0]["status"] == "approved"
    assert body["in_force"] is True and body["current_version"] == 1
    assert [(v["agency"], v["vote"]) for v in body["versions"][0]["votes"]] == [("DAO", "yes"), ("FJD", "yes")]


def test_rejected_when_quorum_can_no_longer_be_reached(
    client: TestClient, propose: Make, governors: dict[str, User]
) -> None:
    agreement_id = propose()["id"]
    client.post(f"/api/v1/agreements/{agreement_id}/votes", json={"vote": "no"}, headers=governors["DAO"].headers)
    body = client.post(
        f"/api/v1/agreements/{agreement_id}/votes", json={"vote": "no"}, headers=governors["CITY"].headers
    ).json()
    assert body["versions"][0]["status"] == "rejected" and body["in_force"] is False
    late = client.post(
        f"/api/v1/agreements/{agreement_id}/votes", json={"vote": "yes"}, headers=governors["FJD"].headers
    )
    assert late.status_code == 409


def test_second_vote_by_the_same_agency_is_409(
    client: TestClient, propose: Make, make_user: Callable[..., User]
) -> None:
    agreement_id = propose()["id"]
    one, two = make_user(Role.GOVERNANCE, agency="DAO"), make_user(Role.GOVERNANCE, agency="DAO")
    assert (
        client.post(f"/api/v1/agreements/{agreement_id}/votes", json={"vote": "yes"}, headers=one.headers).status_code
        == 200
    )
    again = client.post(f"/api/v1/agreements/{agreement_id}/votes", json={"vote": "no"}, headers=two.headers)
    assert again.status_code == 409 and "DAO" in again.json()["detail"]


def test_non_stakeholder_cannot_vote_or_suspend(
    client: TestClient, agreement: Make, governors: dict[str, User]
) -> None:
    agreement_id = agreement()["id"]
    ppd = governors["PPD"]
    assert (
        client.post(f"/api/v1/agreements/{agreement_id}/votes", json={"vote": "yes"}, headers=ppd.headers).status_code
        == 403
    )
    suspended = client.post(f"/api/v1/agreements/{agreement_id}/suspension", json={"reason": "x"}, headers=ppd.headers)
    assert suspended.status_code == 403
    assert client.get(f"/api/v1/agreements/{agreement_id}", headers=ppd.headers).json()["suspended"] is False


def test_vote_without_a_proposed_version_is_409(
    client: TestClient, agreement: Make, governors: dict[str, User]
) -> None:
    agreement_id = agreement()["id"]
    response = client.post(
        f"/api/v1/agreements/{agreement_id}/votes", json={"vote": "yes"}, headers=governors["CITY"].headers
    )
    assert response.status_code == 409


PROTECTED = ["person.place_of_birth", "person.citizenship", "person.ssn", "victims", "witnesses"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        *[({"fields": ["person.name", name]}, "fields[1]") for name in PROTECTED],
        ({"fields": ["person.shoe_size"]}, "fields[0]"),
        ({"purposes": ["civil_immigration_enforcement"]}, "purposes[0]"),
        ({"purposes": ["curiosity"]}, "purposes[0]"),
        ({"channels": ["fax"]}, "channels[0]"),
        ({"effective_from": "2026-01-01T00:00:00"}, "effective_from"),
        ({"expires_at": "2025-12-31T00:00:00-05:00"}, "expires_at"),
        ({"agency": "PPD"}, "agency"),
        ({"agency": "NOPE"}, "agency"),
        ({"scope": {"statuses": ["escaped"]}}, "scope.statuses[0]"),
    ],
)
def test_invalid_agreement_is_422_and_not_stored(
    client: TestClient, governors: dict[str, User], fbi: User, changes: dict[str, Any], field: str
) -> None:
    response = client.post("/api/v1/agreements", json={**TERMS, **changes}, headers=governors["CITY"].headers)
    assert response.status_code == 422, response.text
    assert field in {e["field"] for e in response.json()["errors"]}
    listed = client.get("/api/v1/agreements", headers=governors["CITY"].headers).json()
    assert listed["items"] == []


def test_overlapping_agreement_of_the_same_agency_is_409(
    client: TestClient, agreement: Make, propose: Make, governors: dict[str, User]
) -> None:
    agreement()
    overlapping = client.post(
        "/api/v1/agreements", json={**TERMS, "effective_from": "2026-08-01T00:00:00-04:00", "expires_at": "2027-01-01T00:00:00-05:00"},
        headers=governors["CITY"].headers,
    )  # fmt: skip
    assert overlapping.status_code == 409
    following = propose(effective_from="2026-09-01T00:00:00-04:00", expires_at="2027-09-01T00:00:00-04:00")
    assert following["versions"][0]["status"] == "proposed"


def test_overlap_is_checked_again_at_approval(
    client: TestClient, propose: Make, approve: Callable[[str], dict[str, Any]], governors: dict[str, User]
) -> None:
    first, second = propose()["id"], propose()["id"]  # both only proposed: no conflict yet
    approve(first)
    client.post(f"/api/v1/agreements/{second}/votes", json={"vote": "yes"}, headers=governors["DAO"].headers)
    blocked = client.post(f"/api/v1/agreements/{second}/votes", json={"vote": "yes"}, headers=governors["FJD"].headers)
    assert blocked.status_code == 409
    again = client.get(f"/api/v1/agreements/{second}", headers=governors["CITY"].headers).json()
    assert again["versions"][0]["status"] == "proposed"
    assert [v["agency"] for v in again["versions"][0]["votes"]] == ["DAO"]


def test_amendment_takes_effect_only_when_approved(
    client: TestClient, agreement: Make, approve: Callable[[str], dict[str, Any]], governors: dict[str, User]
) -> None:
    agreement_id = agreement()["id"]
    terms = {k: v for k, v in TERMS.items() if k != "agency"} | {"fields": ["person.name", "charges"]}
    amended = client.post(f"/api/v1/agreements/{agreement_id}/versions", json=terms, headers=governors["CITY"].headers)
    assert amended.status_code == 201
    body = amended.json()
    assert [v["status"] for v in body["versions"]] == ["approved", "proposed"]
    assert body["current_version"] == 1
    approved = approve(agreement_id)
    assert [v["status"] for v in approved["versions"]] == ["superseded", "approved"]
    assert approved["current_version"] == 2


def test_renewal_with_a_later_window_keeps_the_old_version_until_it_starts(
    client: TestClient,
    agreement: Make,
    approve: Callable[[str], dict[str, Any]],
    governors: dict[str, User],
    clock: FrozenClock,
) -> None:
    agreement_id = agreement()["id"]
    renewal = {k: v for k, v in TERMS.items() if k != "agency"} | {
        "effective_from": "2026-09-01T00:00:00-04:00", "expires_at": "2027-09-01T00:00:00-04:00",
    }  # fmt: skip
    client.post(f"/api/v1/agreements/{agreement_id}/versions", json=renewal, headers=governors["CITY"].headers)
    assert approve(agreement_id)["current_version"] == 1
    clock.set(clock.now().replace(month=9, day=1, hour=4, minute=0))
    assert (
        client.get(f"/api/v1/agreements/{agreement_id}", headers=governors["CITY"].headers).json()["current_version"]
        == 2
    )


def test_suspension_by_one_stakeholder_and_lift_by_quorum(
    client: TestClient, agreement: Make, governors: dict[str, User], session: Session
) -> None:
    agreement_id = agreement()["id"]
    url = f"/api/v1/agreements/{agreement_id}/suspension"
    suspended = client.post(
        url, json={"reason": "audit found searches without case numbers"}, headers=governors["FJD"].headers
    )
    assert suspended.json()["suspended"] is True and suspended.json()["in_force"] is False
    assert client.post(url, json={"reason": "again"}, headers=governors["DAO"].headers).status_code == 409
    one = client.delete(url, headers=governors["FJD"].headers)
    assert one.json()["suspended"] is True
    assert client.delete(url, headers=governors["FJD"].headers).status_code == 409
    lifted = client.delete(url, headers=governors["DAO"].headers)
    assert lifted.json()["suspended"] is False and lifted.json()["in_force"] is True
    assert client.delete(url, headers=governors["DAO"].headers).status_code == 409
    actions = [a for a, _ in audit_actions(session)]
    assert actions.count("agreement.lift_vote") == 2 and "agreement.lift" in actions and "agreement.suspend" in actions


def test_termination_now_in_the_future_and_the_past(
    client: TestClient, agreement: Make, governors: dict[str, User], clock: FrozenClock
) -> None:
    url = "/api/v1/agreements/{}/termination"
    headers = governors["PPD"].headers  # governance of any city agency may terminate
    too_old = (clock.now() - timedelta(minutes=6)).isoformat()
    agreement_id = agreement()["id"]
    stale = client.post(url.format(agreement_id), json={"effective_at": too_old, "reason": "x"}, headers=headers)
    assert stale.status_code == 422
    recent = (clock.now() - timedelta(minutes=4)).isoformat()
    ended = client.post(
        url.format(agreement_id), json={"effective_at": recent, "reason": "city ended it"}, headers=headers
    )
    assert ended.status_code == 200
    assert ended.json()["terminated_at"] == clock.now().isoformat() and ended.json()["in_force"] is False
    assert (
        client.post(url.format(agreement_id), json={"effective_at": recent, "reason": "x"}, headers=headers).status_code
        == 409
    )


def test_partner_sees_only_its_own_agreements(
    client: TestClient, agreement: Make, make_user: Callable[..., User], fbi: User, governors: dict[str, User]
) -> None:
    fbi_agreement = agreement()["id"]
    make_user(Role.PARTNER, agency="ATF")
    atf_agreement = agreement(agency="ATF")["id"]
    listed = client.get("/api/v1/agreements", headers=fbi.headers).json()["items"]
    assert [a["id"] for a in listed] == [fbi_agreement]
    assert client.get(f"/api/v1/agreements/{atf_agreement}", headers=fbi.headers).status_code == 404
    everything = client.get("/api/v1/agreements", headers=governors["CITY"].headers).json()["items"]
    assert {a["id"] for a in everything} == {fbi_agreement, atf_agreement}


@pytest.mark.parametrize("role", ["booking", "charging", "magistrate", "oversight", "partner"])
def test_only_governance_proposes(client: TestClient, make_user: Callable[..., User], fbi: User, role: str) -> None:
    user = make_user(role, agency="FBI" if role == "partner" else "CITY")
    assert client.post("/api/v1/agreements", json=TERMS, headers=user.headers).status_code == 403
