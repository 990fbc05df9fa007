"""Subscriptions over HTTP: who may subscribe, to which URLs, for which purposes; each agency sees
its own only; the secret is shown once; poll paging."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from pars.feed.worker import FeedWorker
from pars.permissions import Role
from tests.conftest import User, audit_actions
from tests.feed.conftest import feed_headers

Make = Callable[..., dict[str, Any]]


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("https://hooks.fbi.example.gov/pars", 201),
        ("http://127.0.0.1:9000/fbi", 201),
        ("http://localhost/fbi", 201),
        ("http://[::1]:8080/fbi", 201),
        ("http://hooks.fbi.example.gov/pars", 422),
        ("http://10.0.0.5/pars", 422),
        ("ftp://hooks.fbi.example.gov/pars", 422),
        ("https://user:pw@hooks.fbi.example.gov/", 422),
        ("not a url", 422),
    ],
)
def test_a_subscription_url_is_https_or_loopback(
    client: TestClient, agreement: Make, fbi: User, url: str, status: int
) -> None:
    agreement()
    response = client.post(
        "/api/v1/subscriptions", json={"url": url, "purpose": "criminal_investigation"}, headers=fbi.headers
    )
    assert response.status_code == status, response.text
    if status == 422:
        assert response.json()["errors"][0]["field"] == "url"


def test_subscriptions_belong_to_the_agency_and_the_secret_is_shown_once(
    client: TestClient, agreement: Make, fbi: User, make_user: Callable[..., User], session: Session
) -> None:
    agreement()
    body = {"url": "https://hooks.fbi.example.gov/pars", "purpose": "criminal_investigation"}
    created = client.post("/api/v1/subscriptions", json=body, headers=fbi.headers).json()
    assert set(created) == {"id", "url", "purpose", "status", "status_reason", "created_at", "secret"}
    assert created["secret"].startswith("whsec_") and created["status"] == "active"

    listed = client.get("/api/v1/subscriptions", headers=fbi.headers).json()
    assert [s["id"] for s in listed["items"]] == [created["id"]] and "secret" not in listed["items"][0]
    shown = client.get(f"/api/v1/subscriptions/{created['id']}", headers=fbi.headers).json()
    assert shown["url"] == body["url"] and "secret" not in shown

    atf = make_user(Role.PARTNER, agency="ATF")
    assert client.get(f"/api/v1/subscriptions/{created['id']}", headers=atf.headers).status_code == 404
    assert client.get("/api/v1/subscriptions", headers=atf.headers).json()["items"] == []
    assert client.delete(f"/api/v1/subscriptions/{created['id']}", headers=atf.headers).status_code == 404
    city = make_user(Role.BOOKING)
    assert client.post("/api/v1/subscriptions", json=body, headers=city.headers).status_code == 403
    assert client.get("/api/v1/feed", headers=city.headers).status_code == 403

    assert client.delete(f"/api/v1/subscriptions/{created['id']}", headers=fbi.headers).status_code == 204
    assert client.get(f"/api/v1/subscriptions/{created['id']}", headers=fbi.headers).status_code == 404
    actions = [a for a, _ in audit_actions(session)]
    assert {"feed.subscribe", "feed.subscription_read", "feed.unsubscribe"} <= set(actions)


def test_the_purpose_must_be_one_of_the_agreement(client: TestClient, agreement: Make, fbi: User) -> None:
    body = {"url": "https://hooks.fbi.example.gov/pars", "purpose": "criminal_investigation"}
    no_agreement = client.post("/api/v1/subscriptions", json=body, headers=fbi.headers)
    assert no_agreement.status_code == 422 and no_agreement.json()["errors"][0]["field"] == "purpose"
    agreement()
    wrong = {**body, "purpose": "civil_immigration_enforcement"}
    assert client.post("/api/v1/subscriptions", json=wrong, headers=fbi.headers).status_code == 422
    assert client.post("/api/v1/subscriptions", json=body, headers=fbi.headers).status_code == 201


def test_polling_pages_through_the_stream(
    client: TestClient, agreement: Make, fbi: User, book: Make, worker: FeedWorker
) -> None:
    agreement()
    for _ in range(5):
        book()
    worker.fan_out()
    seen: list[str] = []
    after = None
    for _ in range(4):
        params: dict[str, Any] = {"limit": 2} if after is None else {"limit": 2, "after": after}
        page = client.get("/api/v1/feed", params=params, headers=feed_headers(fbi)).json()
        seen += [item["sequence"] for item in page["items"]]
        after = page["next_cursor"]
    assert seen == [f"{n:020d}" for n in range(1, 6)]
    assert after == f"{5:020d}"
    # A sequence may be written without its zeros; anything else is refused.
    assert len(client.get("/api/v1/feed", params={"after": "3"}, headers=feed_headers(fbi)).json()["items"]) == 2
    assert client.get("/api/v1/feed", params={"after": "three"}, headers=feed_headers(fbi)).status_code == 422
