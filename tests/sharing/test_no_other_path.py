"""No route hands a partner anything its grant does not allow (DESIGN principle 1).

Every route of the app, from its route table (API operations, pages, the public page, whatever is
added later, documented or not), is called as a partner: with FBI's API key, and again in FBI's
signed-in browser session, about a record whose every ungranted field holds a marker. No answer
may contain a marker. A new route or page that handed a record to a partner without the gate
would fail here; the feed's channels (poll, stream and webhook, which no request reaches) are swept by
`tests/feed/test_sse.py::test_every_channel_carries_only_granted_fields`.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from pars.actors import SYSTEM
from pars.audit.chain import CheckpointPolicy
from pars.auth.signin import set_password
from pars.clock import FrozenClock
from pars.db import make_session_factory
from pars.work import unit_of_work
from tests.conftest import User
from tests.sharing.conftest import MARK, marked_booking, partner_headers
from tests.web.conftest import PASSWORD, WebUser, csrf_of, sign_in

ZERO_ID = "00000000-0000-0000-0000-000000000000"


def _operations(client: TestClient) -> list[tuple[str, str]]:
    """(method, path template) of every route in the app's route table; signing out last."""
    app = client.app
    assert isinstance(app, FastAPI)
    found = {
        (method, str(route.path))
        for route in iter_route_contexts(app.routes)
        if isinstance(route.original_route, APIRoute)
        for method in route.methods or ()
    }
    return sorted(found, key=lambda op: (op[1] == "/signout", op[1], op[0]))


def _leaks(text: str) -> bool:
    return MARK in text or "987-65-4321" in text


def test_every_route_and_page_answers_a_partner_only_with_granted_fields(
    client: TestClient,
    agreement: Callable[..., dict[str, Any]],
    fbi: User,
    booking: User,
    db: Engine,
    clock: FrozenClock,
    policy: CheckpointPolicy,
) -> None:
    agreement_id = agreement(fields=["person.name", "arrest.arrested_at", "charges"])["id"]
    record = client.post("/api/v1/arrests", json=marked_booking(), headers=booking.headers).json()
    assert MARK in str(client.get(f"/api/v1/arrests/{record['id']}", headers=booking.headers).json())

    values = {"arrest_id": record["id"], "agreement_id": agreement_id, "user_id": fbi.id}
    query = {"tracking_number": record["tracking_number"], "last_name": "Peña", "first_name": "Ana"}
    headers = partner_headers(fbi)
    browser = _signed_in_partner(client, fbi, db, clock, policy)
    form = {**query, "purpose": headers["PARS-Purpose"], "case_reference": headers["PARS-Case-Reference"]}
    # The partner's search page shows the record (so the sweep below reaches it), without a marker.
    found = _page_call(browser, "POST", "/partner/search", form)
    assert record["tracking_number"] in found and not _leaks(found)
    swept = {"api": 0, "page": 0}
    for method, template in _operations(client):
        path = re.sub(r"{(\w+)}", lambda m: values.get(m.group(1), ZERO_ID), template)
        if template.startswith("/api/"):
            text = _api_call(client, method, path, headers, query)
            swept["api"] += 1
        else:
            text = _page_call(browser, method, path, form)
            swept["page"] += 1
        assert not _leaks(text), f"{method} {template} leaked an ungranted field"
    assert swept["api"] > 40 and swept["page"] > 50, swept
    shared = client.get(f"/api/v1/arrests/{record['id']}", headers=headers).json()
    assert shared["person"] == {"name": record["person"]["name"]}
    search = client.get("/api/v1/arrests", params=query, headers=headers).json()
    assert [r["id"] for r in search["items"]] == [record["id"]]


def _api_call(client: TestClient, method: str, path: str, headers: dict[str, str], query: dict[str, str]) -> str:
    params = query if method == "GET" and path == "/api/v1/arrests" else None
    body: dict[str, Any] | None = {} if method in ("POST", "PUT", "PATCH") else None
    if path == "/api/v1/feed/stream":
        # An event stream never ends by itself: read what it sends first (Last-Event-ID 0: the
        # whole stream), then hang up.
        with client.stream("GET", path, headers={**headers, "Last-Event-ID": "0"}) as stream:
            return str(next(stream.iter_text()))
    return str(client.request(method, path, params=params, json=body, headers=headers).text)


def _page_call(browser: TestClient, method: str, path: str, form: dict[str, str]) -> str:
    if method == "GET":
        return str(browser.get(path).text)
    page = browser.get("/partner/search")
    return str(browser.post(path, data={**form, "csrf": csrf_of(page.text)}).text)


def _signed_in_partner(
    client: TestClient, fbi: User, db: Engine, clock: FrozenClock, policy: CheckpointPolicy
) -> TestClient:
    """FBI's user in a browser of its own (cookies), signed in with password and code."""
    login = f"fbi{fbi.id[:8]}"
    with unit_of_work(make_session_factory(db), clock, policy=policy) as session:
        set_password(session, SYSTEM, uuid.UUID(fbi.id), PASSWORD, username=login)
    browser = TestClient(client.app, base_url="https://testserver", follow_redirects=False)
    sign_in(browser, WebUser(fbi, login, PASSWORD), clock)
    return browser
