"""A signed-in browser session on a shared terminal: nothing signed-in is cached, the page can
ask how long the session has left without extending it, "stay signed in" extends it, and a form
sent after the idle lock leads back, through sign-in, to the page it was on."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from pars.clock import FrozenClock
from pars.permissions import Role
from tests.conftest import User, audit_actions
from tests.web.conftest import WebUser, csrf_of

SignedIn = Callable[[WebUser], TestClient]


def test_signed_in_pages_and_api_answers_are_never_cached(
    signed_in: SignedIn,
    web_user: Callable[..., WebUser],
    walk: Callable[..., dict[str, Any]],
    client: TestClient,
    booking: User,
) -> None:
    record = walk("charges_approved")
    browser = signed_in(web_user(Role.BOOKING))
    page = browser.get(f"/arrests/{record['id']}")
    assert page.status_code == 200
    assert record["person"]["name"]["last"] in page.text
    assert page.headers["cache-control"] == "no-store"
    assert browser.get("/signin").headers["cache-control"] == "no-store"
    assert "no-store" not in browser.get("/static/pars.js").headers.get("cache-control", "")  # no record in it
    api = client.get(f"/api/v1/arrests/{record['id']}", headers=booking.headers)
    assert api.json()["id"] == record["id"]
    assert api.headers["cache-control"] == "no-store"


def test_the_page_asks_the_time_left_without_extending_the_session(
    signed_in: SignedIn, web_user: Callable[..., WebUser], clock: FrozenClock
) -> None:
    browser = signed_in(web_user(Role.BOOKING))
    assert browser.get("/session").json() == {"seconds_left": 1800}
    clock.advance(timedelta(minutes=28))
    assert browser.get("/session").json() == {"seconds_left": 120}
    clock.advance(timedelta(seconds=30))
    assert browser.get("/session").json() == {"seconds_left": 90}  # asking is not activity


def test_stay_signed_in_restarts_the_idle_clock_and_a_locked_session_stays_locked(
    signed_in: SignedIn, web_user: Callable[..., WebUser], clock: FrozenClock, session: Session
) -> None:
    browser = signed_in(web_user(Role.BOOKING))
    token = csrf_of(browser.get("/").text)
    clock.advance(timedelta(minutes=29))
    kept = browser.post("/session/keepalive", data={"csrf": token})
    assert kept.status_code == 200
    assert kept.json() == {"seconds_left": 1800}
    clock.advance(timedelta(minutes=29))
    assert browser.get("/").status_code == 200  # 58 minutes after sign-in, 29 after "stay"
    clock.advance(timedelta(minutes=31))
    late = browser.post("/session/keepalive", data={"csrf": token})
    assert late.status_code == 401
    assert late.json() == {"seconds_left": 0}
    assert browser.get("/").status_code == 303  # the lock holds
    assert ("auth.sign_out", "ok") in audit_actions(session)
    assert browser.post("/session/keepalive", data={}).status_code == 403  # no CSRF token


def test_without_a_session_the_time_left_is_zero(browser_client: Callable[[], TestClient]) -> None:
    assert browser_client().get("/session").json() == {"seconds_left": 0}


def test_a_form_sent_after_the_lock_leads_back_to_its_page_not_its_post_address(
    signed_in: SignedIn, web_user: Callable[..., WebUser], walk: Callable[..., dict[str, Any]], clock: FrozenClock
) -> None:
    record = walk("charges_approved")
    browser = signed_in(web_user(Role.MAGISTRATE, agency="FJD"))
    docket = browser.get("/docket?district=")
    clock.advance(timedelta(minutes=31))
    sent = browser.post(
        f"/arrests/{record['id']}/arraignment",
        data={"csrf": csrf_of(docket.text), "bail_type": "monetary", "bail_amount": "2500"},
        headers={"referer": "https://testserver/docket?district="},
    )
    assert sent.status_code == 303
    target = urlsplit(sent.headers["location"])
    assert target.path == "/signin"
    assert parse_qs(target.query) == {"next": ["/docket?district="], "reason": ["idle"]}

    foreign = browser.post(
        f"/arrests/{record['id']}/arraignment",
        data={"csrf": csrf_of(docket.text)},
        headers={"referer": "https://elsewhere.example/docket"},
    )
    assert parse_qs(urlsplit(foreign.headers["location"]).query)["next"] == ["/"]
