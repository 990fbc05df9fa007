"""Outbox events become each partner's stream: only partners whose agreement allows the feed and
whose scope holds the record, with their own sequences and event ids; withdrawals to partners
that received a record that left their scope; release notices to the detainer's agency only."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from cloudevents.core.bindings.http import HTTPMessage, from_structured
from cloudevents.core.formats.json import JSONFormat
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from pars.clock import FrozenClock
from pars.feed.models import FeedEvent, Subscription, WebhookJob
from pars.feed.worker import FeedWorker
from pars.permissions import Role
from pars.sharing.models import DetainerRequest
from tests.conftest import User, audit_actions
from tests.feed.conftest import ASSAULT_CHARGE, ATF_TERMS, FIREARMS_CHARGE, feed_headers

Make = Callable[..., dict[str, Any]]
WARRANT = {"number": "2:26-mj-00412", "court": "U.S. District Court, E.D. Pa.", "judge": "Hon. A. Rivera", "signed_at": "2026-03-16T10:00:00-04:00"}  # fmt: skip


def _stream(session: Session, agency: str) -> list[FeedEvent]:
    session.expire_all()
    return list(session.scalars(select(FeedEvent).where(FeedEvent.agency == agency).order_by(FeedEvent.sequence)))


def test_each_partner_gets_the_events_in_its_scope_with_its_own_sequence_and_ids(
    agreement: Make, atf: User, fbi: User, book: Make, worker: FeedWorker, session: Session, poll: Make
) -> None:
    agreement()
    agreement(**ATF_TERMS)
    assault = book(charges=ASSAULT_CHARGE)
    gun = book(charges=FIREARMS_CHARGE)
    worker.fan_out()

    fbi_stream, atf_stream = _stream(session, "FBI"), _stream(session, "ATF")
    assert [(e.sequence, str(e.arrest_id)) for e in fbi_stream] == [(1, assault["id"]), (2, gun["id"])]
    assert [(e.sequence, str(e.arrest_id)) for e in atf_stream] == [(1, gun["id"])]
    # The same change carries a different id for each partner: agencies cannot match them up.
    assert fbi_stream[1].outbox_seq == atf_stream[0].outbox_seq
    assert fbi_stream[1].event_id != atf_stream[0].event_id

    page = poll(fbi)
    assert [item["sequence"] for item in page["items"]] == ["00000000000000000001", "00000000000000000002"]
    assert page["next_cursor"] == "00000000000000000002"
    first = page["items"][0]
    assert first["specversion"] == "1.0" and first["source"] == "pars" and first["type"] == "pars.arrest.booked"
    assert first["id"] == str(fbi_stream[0].event_id) and first["subject"] == assault["id"]
    # Projected as the agreement allows: the granted fields, nothing else (no address, no narrative).
    assert set(first["data"]) == {"id", "tracking_number", "status", "person", "arrest", "charges", "custody"}
    assert set(first["data"]["person"]) == {"name", "dob", "identifiers"}
    parsed = from_structured(HTTPMessage({}, json.dumps(first).encode()), JSONFormat())
    assert parsed.get_id() == first["id"] and parsed.get_extension("sequence") == first["sequence"]

    atf_page = poll(atf, purpose="firearms_investigation")
    assert [item["subject"] for item in atf_page["items"]] == [gun["id"]]
    assert poll(fbi, after=page["next_cursor"]) == {"items": [], "next_cursor": "00000000000000000002"}


def test_without_the_feed_channel_nothing_is_due(
    agreement: Make, fbi: User, book: Make, worker: FeedWorker, session: Session, poll: Make
) -> None:
    agreement(channels=["query"])
    book()
    worker.fan_out()
    assert _stream(session, "FBI") == []
    assert poll(fbi) == {"items": [], "next_cursor": None}


def test_a_release_notice_goes_to_the_detainer_agency_only_even_without_an_agreement(
    client: TestClient,
    agreement: Make,
    fbi: User,
    make_user: Callable[..., User],
    walk: Make,
    worker: FeedWorker,
    session: Session,
) -> None:
    agreement()
    ice = make_user(Role.PARTNER, agency="ICE")
    record = walk("committed")
    for user, warrant in ((ice, WARRANT), (fbi, None)):
        body = {"arrest_id": record["id"], "type": "notification", "judicial_warrant": warrant}
        assert client.post("/api/v1/detainers", json=body, headers=user.headers).status_code == 201
    worker.fan_out()
    release = {"released_at": "2026-03-17T15:00:00-04:00", "reason": "bail posted"}
    booking = make_user(Role.BOOKING)
    client.post(f"/api/v1/arrests/{record['id']}/release", json=release, headers=booking.headers)
    worker.fan_out()

    notices = _stream(session, "ICE")
    assert [e.type for e in notices] == ["pars.release_notice"]
    assert all(e.type != "pars.release_notice" for e in _stream(session, "FBI"))  # its detainer was declined
    accepted = session.scalars(select(DetainerRequest).where(DetainerRequest.status == "accepted")).one()
    assert accepted.notified_at is not None and notices[0].detainer_id == accepted.id

    # ICE has no agreement at all: no purpose to state, and still its notice, with four fields only.
    page = client.get("/api/v1/feed", headers=ice.headers).json()
    assert [item["type"] for item in page["items"]] == ["pars.release_notice"]
    assert page["items"][0]["data"] == {
        "id": record["id"],
        "tracking_number": record["tracking_number"],
        "released_at": "2026-03-17T19:00:00+00:00",
        "detainer_id": str(accepted.id),
    }
    assert ("feed.deliver", "ok") in audit_actions(session)
    worker.fan_out()
    assert len(_stream(session, "ICE")) == 1  # owed once


def test_sealing_withdraws_the_record_from_partners_that_received_it(
    client: TestClient,
    agreement: Make,
    atf: User,
    fbi: User,
    book: Make,
    magistrate: User,
    worker: FeedWorker,
    session: Session,
    poll: Make,
) -> None:
    agreement()
    agreement(**ATF_TERMS)
    record = book(charges=FIREARMS_CHARGE)
    worker.fan_out()
    cursor = poll(fbi)["next_cursor"]  # FBI received it; ATF did not look
    client.post(f"/api/v1/arrests/{record['id']}/seal", json={"order_ref": "CP-51-MD-1"}, headers=magistrate.headers)
    worker.fan_out()

    assert [e.type for e in _stream(session, "FBI")] == ["pars.arrest.booked", "pars.arrest.withdrawn"]
    assert [e.type for e in _stream(session, "ATF")] == ["pars.arrest.booked"]
    withdrawn = poll(fbi, after=cursor)["items"]
    assert [(i["type"], i["data"]) for i in withdrawn] == [("pars.arrest.withdrawn", {"id": record["id"]})]
    # ATF's booked event is still in its stream, but a sealed record never leaves: withheld, audited.
    assert poll(atf, purpose="firearms_investigation")["items"] == []
    assert ("feed.withhold", "refused") in audit_actions(session)


def test_a_record_that_leaves_the_scope_is_withdrawn_once(
    client: TestClient,
    agreement: Make,
    fbi: User,
    walk: Make,
    book: Make,
    charging: User,
    magistrate: User,
    worker: FeedWorker,
    session: Session,
    poll: Make,
) -> None:
    agreement(scope={"titles": [18], "statuses": ["booked"]})
    record = book()
    worker.fan_out()
    assert [i["type"] for i in poll(fbi)["items"]] == ["pars.arrest.booked"]
    decision = client.post(
        f"/api/v1/arrests/{record['id']}/charging-decision", json={"decision": "approved"}, headers=charging.headers
    )
    assert decision.status_code == 200
    worker.fan_out()
    hearing = {"held_at": "2026-03-17T14:00:00-04:00", "bail_type": "ROR", "next_hearing_at": "2026-03-24T09:00:00-04:00"}  # fmt: skip
    client.post(f"/api/v1/arrests/{record['id']}/arraignment", json=hearing, headers=magistrate.headers)
    worker.fan_out()
    assert [e.type for e in _stream(session, "FBI")] == ["pars.arrest.booked", "pars.arrest.withdrawn"]


def test_the_feed_needs_a_purpose_of_the_agreement(
    client: TestClient, agreement: Make, fbi: User, book: Make, worker: FeedWorker, session: Session
) -> None:
    agreement()
    book()
    worker.fan_out()
    refused = client.get("/api/v1/feed", headers=feed_headers(fbi, "civil_immigration_enforcement"))
    assert refused.status_code == 403 and refused.headers["content-type"] == "application/problem+json"
    assert ("feed.read", "refused") in audit_actions(session)
    # No case reference is asked for: a feed serves no single case.
    assert len(client.get("/api/v1/feed", headers=feed_headers(fbi)).json()["items"]) == 1


def test_jobs_follow_the_events_and_the_subscriptions_that_existed_when_each_happened(
    agreement: Make, fbi: User, book: Make, subscribe: Make, worker: FeedWorker, session: Session, clock: FrozenClock
) -> None:
    """The jobs are written by one INSERT … SELECT: the same rows, in the same order (event by
    event, the subscriptions in the order they were read), as one job per event and active
    subscription made no later than the event."""
    agreement()
    first = subscribe(fbi, "http://127.0.0.1:9/a")
    second = subscribe(fbi, "http://127.0.0.1:9/b")
    early = [book(charges=ASSAULT_CHARGE) for _ in range(2)]
    clock.advance(timedelta(seconds=5))
    late = subscribe(fbi, "http://127.0.0.1:9/c")
    gone = subscribe(fbi, "http://127.0.0.1:9/d")
    session.execute(update(Subscription).where(Subscription.id == uuid.UUID(gone["id"])).values(status="deleted"))
    session.commit()
    later = [book(charges=ASSAULT_CHARGE) for _ in range(2)]
    worker.fan_out()

    session.expire_all()
    events = list(session.scalars(select(FeedEvent).where(FeedEvent.agency == "FBI").order_by(FeedEvent.id)))
    assert [str(e.arrest_id) for e in events] == [a["id"] for a in early + later]
    # As the fan-out reads them.
    query = select(Subscription.id, Subscription.agency, Subscription.created_at).where(
        Subscription.agency.in_(["FBI"]), Subscription.status == "active"
    )
    read = [row[0] for row in session.execute(query)]
    made = {uuid.UUID(s["id"]): s for s in (first, second, late)}
    expected = [
        (subscription, event.id, event.arrest_id, event.sequence)
        for event in events
        for subscription in read
        if subscription in made and (subscription != uuid.UUID(late["id"]) or event.arrest_id in
                                     {uuid.UUID(a["id"]) for a in later})
    ]  # fmt: skip
    jobs = session.scalars(select(WebhookJob).order_by(WebhookJob.id)).all()
    assert [(j.subscription_id, j.feed_event_id, j.arrest_id, j.sequence) for j in jobs] == expected
    assert {(j.status, j.attempts, j.next_attempt_at, j.created_at) for j in jobs} == {
        ("pending", 0, jobs[0].created_at, jobs[0].created_at)
    }
