"""No route hands a partner anything its grant does not allow (DESIGN principle 1).

Every route of the app is called as a partner, with a record whose every ungranted field holds a
marker; no response may contain a marker. A new route that serialised a record for a partner
without the gate would fail here.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import User, arrest_body
from tests.sharing.conftest import partner_headers

MARK = "ZZMARK"


def _marked_booking() -> dict[str, Any]:
    body = copy.deepcopy(arrest_body(charges=[{"statute": "18 § 6106 §§ A1", "grade": "F3"}]))
    person = body["person"]
    person["aliases"] = [{"first": f"{MARK}alias", "last": f"{MARK}alias"}]
    person["sex"], person["race"], person["ethnicity"] = f"{MARK}sex", f"{MARK}race", f"{MARK}eth"
    person["place_of_birth"], person["citizenship"] = f"{MARK}pob", f"{MARK}cit"
    person["address"] = {"street": f"{MARK}street", "city": f"{MARK}city", "state": "PA", "zip": "19134"}
    person["phone"], person["ssn"] = f"{MARK}phone", "987-65-4321"
    person["identifiers"] = {"sid": f"{MARK}sid", "fbi_number": f"{MARK}fbi"}
    body["arrest"]["location"] = f"{MARK}location"
    body["arrest"]["incident_number"] = f"{MARK}dc"
    body["arrest"]["arresting_officer"] = f"{MARK}badge"
    body["narrative"] = f"{MARK}narrative"
    body["victims"] = [{"name": {"first": f"{MARK}victim", "last": f"{MARK}victim"}, "phone": f"{MARK}vphone"}]
    body["witnesses"] = [{"name": {"first": f"{MARK}witness", "last": f"{MARK}witness"}}]
    return body


def test_every_route_answers_a_partner_only_with_granted_fields(
    client: TestClient, agreement: Callable[..., dict[str, Any]], fbi: User, booking: User
) -> None:
    agreement_id = agreement(fields=["person.name", "arrest.arrested_at", "charges"])["id"]
    record = client.post("/api/v1/arrests", json=_marked_booking(), headers=booking.headers).json()
    assert MARK in str(client.get(f"/api/v1/arrests/{record['id']}", headers=booking.headers).json())

    values = {"arrest_id": record["id"], "agreement_id": agreement_id, "user_id": fbi.id}
    query = {"tracking_number": record["tracking_number"], "last_name": "Peña", "first_name": "Ana"}
    headers = partner_headers(fbi)
    called = 0
    # Every documented route, from the OpenAPI schema, so a new route is covered without editing this.
    for template, operations in client.get("/openapi.json").json()["paths"].items():
        path = re.sub(r"{(\w+)}", lambda m: values.get(m.group(1), "00000000-0000-0000-0000-000000000000"), template)
        for method in operations:
            params = query if method == "get" and path == "/api/v1/arrests" else None
            body = {} if method in ("post", "put", "patch") else None
            if "text/event-stream" in str(operations[method].get("responses")):
                # An event stream never ends by itself: read what it sends first (Last-Event-ID 0:
                # the whole stream), then hang up.
                with client.stream("GET", path, headers={**headers, "Last-Event-ID": "0"}) as stream:
                    text = next(stream.iter_text())
            else:
                text = client.request(method.upper(), path, params=params, json=body, headers=headers).text
            called += 1
            assert MARK not in text, f"{method} {template} leaked an ungranted field"
            assert "987-65-4321" not in text, f"{method} {template} leaked the SSN"
    assert called > 15
    shared = client.get(f"/api/v1/arrests/{record['id']}", headers=headers).json()
    assert shared["person"] == {"name": record["person"]["name"]}
    search = client.get("/api/v1/arrests", params=query, headers=headers).json()
    assert [r["id"] for r in search["items"]] == [record["id"]]
