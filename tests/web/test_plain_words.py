"""Issue 15, without a browser: a transparency report's downloads are named by the days they
cover (a report to 03-04 is `…-2026-03-04.csv`, not the exclusive end 03-05); the printable report
is one <main> landmark, and the page that embeds it keeps a single <main>; a suspension posted
without its confirmation suspends nothing; the words helpers say codes in plain words."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pars.oversight import words as oversight_words
from pars.permissions import Role
from pars.sharing import words
from tests.conftest import User
from tests.web import partner_world
from tests.web.conftest import WebUser, csrf_of
from tests.web.partner_world import World

agreement = partner_world.agreement
approve = partner_world.approve
fbi = partner_world.fbi
governors = partner_world.governors
propose = partner_world.propose
world = partner_world.world

SignedIn = Callable[[WebUser], TestClient]


@pytest.fixture
def oversight(web_user: Callable[..., WebUser]) -> WebUser:
    return web_user(Role.OVERSIGHT, agency="CITY")


def test_a_report_downloads_under_the_last_day_it_covers(signed_in: SignedIn, oversight: WebUser, world: World) -> None:
    client = signed_in(oversight)
    period = {"from": "2026-03-01", "to": "2026-03-04"}
    for kind in ("csv", "json"):
        reply = client.get(f"/oversight/reports/transparency.{kind}", params=period)
        assert reply.status_code == 200, reply.text
        assert (
            reply.headers["content-disposition"] == f'attachment; filename="transparency-2026-03-01-2026-03-04.{kind}"'
        )
    page = client.get("/oversight/reports/transparency", params=period).text
    assert 'value="2026-03-04"' in page  # the form shows the same last day


def test_the_printable_report_is_one_main_landmark(signed_in: SignedIn, oversight: WebUser, world: World) -> None:
    client = signed_in(oversight)
    period = {"from": "2026-03-01", "to": "2026-03-31"}
    printable = client.get("/oversight/reports/transparency/print", params=period).text
    assert printable.count("<main>") == 1 and printable.count("</main>") == 1
    body = printable[printable.index("<body>") + len("<body>") : printable.index("</body>")].strip()
    assert body.startswith("<main>") and body.endswith("</main>")  # nothing outside a landmark
    embedded = client.get("/oversight/reports/transparency", params=period).text
    assert embedded.count("<main") == 1  # the site's own; the report's is left out
    assert "broad search" in printable and "broad_search" not in printable


def test_a_suspension_without_its_confirmation_suspends_nothing(
    signed_in: SignedIn,
    web_user: Callable[..., WebUser],
    agreement: Callable[..., dict[str, Any]],
    client: TestClient,
    governors: dict[str, User],
) -> None:
    made = agreement()
    dao = signed_in(web_user(Role.GOVERNANCE, agency="DAO"))
    path = f"/agreements/{made['id']}"
    csrf = csrf_of(dao.get(path).text)
    asked = dao.post(f"{path}/suspension", data={"reason": "Audit", "csrf": csrf})
    assert asked.status_code == 200 and "Suspend the agreement with FBI?" in asked.text
    assert 'name="confirm" value="yes"' in asked.text and "Nothing has been suspended yet." in asked.text
    answer = client.get(f"/api/v1/agreements/{made['id']}", headers=governors["CITY"].headers).json()
    assert answer["suspended"] is False
    wrong = dao.post(f"{path}/suspension", data={"reason": "Audit", "confirm": "no", "csrf": csrf})
    assert wrong.status_code == 200 and "Yes, suspend now" in wrong.text
    done = dao.post(f"{path}/suspension", data={"reason": "Audit", "confirm": "yes", "csrf": csrf})
    assert done.status_code == 303
    answer = client.get(f"/api/v1/agreements/{made['id']}", headers=governors["CITY"].headers).json()
    assert answer["suspended"] is True


@pytest.mark.parametrize(
    ("said", "expected"),
    [
        (words.purpose("criminal_investigation"), "Criminal investigation"),
        (words.field("person.identifiers"), "Identifiers (SID, PPN, FBI number)"),
        (words.status("charges_approved"), "Charges approved"),
        (words.money(5000.0), "$5,000.00"),
        (words.name({"first": "Ana", "middle": "María", "last": "Peña", "suffix": None}), "Peña, Ana María"),
        (words.said("searched by place_of_birth under criminal_investigation"),
         "searched by place of birth under criminal investigation"),
        (oversight_words.rule("broad_search"), "broad search"),
        (oversight_words.action("arrest.search"), "Arrest records: records searched"),
        (", ".join(f"{k}: {v}" for k, v in oversight_words.details({"reason": "purpose_not_permitted", "count": 2})),
         "Records: 2, Reason: purpose not allowed"),
    ],
)  # fmt: skip
def test_codes_are_said_in_words(said: str, expected: str) -> None:
    assert said == expected
