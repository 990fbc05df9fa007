"""The records search page forgives what an officer types (issue 15): part of a name, a PPN
without its leading zeros, a tracking number without its letter or spaced otherwise. The API's
parameters keep their meaning (CONTRACT §5: names match whole, normalised)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from pars.permissions import Role
from tests.conftest import User
from tests.web.conftest import WebUser


def test_partial_names_short_ppns_and_loose_tracking_numbers(
    book: Callable[..., dict[str, Any]],
    web_user: Callable[..., WebUser],
    signed_in: Callable[[WebUser], TestClient],
    client: TestClient,
    booking: User,
) -> None:
    white = book(person={"name": {"last": "White", "first": "Anne"}, "dob": "1980-01-02"})
    whitfield = book(person={"name": {"last": "Whitfield", "first": "Bo"}, "dob": "1981-01-02"})
    smith = book(person={"name": {"last": "Smith", "first": "Whit"}, "dob": "1982-01-02"})
    page = signed_in(web_user(Role.BOOKING))

    def found(**params: str) -> set[str]:
        answer = page.get("/arrests", params=params)
        assert answer.status_code == 200, answer.text
        return {r["tracking_number"] for r in (white, whitfield, smith) if r["tracking_number"] in answer.text}

    assert found(last_name="whit") == {white["tracking_number"], whitfield["tracking_number"]}
    assert found(last_name="WHITE") == {white["tracking_number"]}
    assert found(first_name="whi") == {smith["tracking_number"]}
    ppn = white["person"]["identifiers"]["ppn"]
    assert ppn.startswith("0")
    assert found(ppn=ppn.lstrip("0")) == found(ppn=ppn) == {white["tracking_number"]}
    tracking = whitfield["tracking_number"]  # "N 000002-x"
    letter, digits = tracking[0], tracking[2:].replace("-", "")
    for typed in (digits, f"{digits[:6]}-{digits[6]}", f"{letter}{digits}", f"{letter.lower()} {digits[:6]} {digits[6]}",
                  f"{letter}{digits[:6]}"):  # fmt: skip
        assert found(tracking_number=typed) == {tracking}, typed
    wrong = page.get("/arrests", params={"tracking_number": f"{letter}{digits[:6]}{(int(digits[6]) + 1) % 10}"})
    assert wrong.status_code == 422 and "Enter a tracking number like N 917652-1 (check its last digit)" in wrong.text

    # The API is unchanged: a name matches whole, a PPN as issued.
    api = client.get("/api/v1/arrests", params={"last_name": "whit"}, headers=booking.headers)
    assert api.status_code == 200 and api.json()["items"] == []
    api = client.get("/api/v1/arrests", params={"ppn": ppn.lstrip("0")}, headers=booking.headers)
    assert api.status_code == 200 and api.json()["items"] == []
    api = client.get("/api/v1/arrests", params={"last_name": "White"}, headers=booking.headers)
    assert [r["tracking_number"] for r in api.json()["items"]] == [white["tracking_number"]]
