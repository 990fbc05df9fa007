"""CONTRACT §7 on the pages: a NUL or other control character in a form field or a page's query
parameter is a 422 that names the field, never a 500 (PostgreSQL refuses NUL); the booking form
shows it beside the field; the partner form holds purpose and case reference to 64 characters."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pars.permissions import Role
from pars.records.models import Arrest
from tests.web import partner_world
from tests.web.conftest import WebUser, csrf_of
from tests.web.test_records import _error_of, _form

agreement = partner_world.agreement
approve = partner_world.approve
fbi = partner_world.fbi
fbi_web = partner_world.fbi_web
governors = partner_world.governors
limited = partner_world.limited
propose = partner_world.propose


def _count(session: Session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(Arrest)) or 0


@pytest.mark.parametrize(
    ("field", "value"), [("last_name", "Pe\x00a"), ("narrative", "a\x00b"), ("incident_number", "26\x0024")]
)
def test_a_nul_in_the_booking_form_is_shown_beside_its_field(
    web_user: Callable[..., WebUser],
    signed_in: Callable[[WebUser], TestClient],
    session: Session,
    field: str,
    value: str,
) -> None:
    booker = signed_in(web_user(Role.BOOKING))
    csrf = csrf_of(booker.get("/arrests/new").text)
    reply = booker.post("/arrests/new", data=_form(csrf, **{field: value}))
    assert reply.status_code == 422, reply.text
    assert "control characters" in _error_of(reply.text, field)
    assert _count(session) == 0


def test_a_nul_in_the_sign_in_form_is_422_not_500(browser_client: Callable[[], TestClient]) -> None:
    client = browser_client()
    form = client.get("/signin")
    reply = client.post("/signin", data={"login": "admin\x00", "password": "x", "csrf": csrf_of(form.text)})
    assert reply.status_code == 422
    assert "login" in reply.text and "control characters" in reply.text


def test_a_nul_in_the_partner_search_form_or_a_page_parameter_is_422(
    signed_in: Callable[[WebUser], TestClient], fbi_web: WebUser, limited: dict[str, Any], session: Session
) -> None:
    client = signed_in(fbi_web)
    form = client.get("/partner/search")
    data = {"csrf": csrf_of(form.text), "purpose": "criminal_investigation", "case_reference": "C-1"}
    for name in ("last_name", "case_reference", "purpose"):
        reply = client.post("/partner/search", data={**data, "last_name": "Pena", name: "A\x00B"})
        assert reply.status_code == 422, reply.text
        assert name in reply.text
    page = client.get(
        "/partner/arrests/6f1c0a56-8a51-4f63-9a5b-1a2b3c4d5e6f",
        params={"purpose": "criminal_investigation", "case_reference": "C\x00"},
    )
    assert page.status_code == 422 and "case_reference" in page.text


def test_the_partner_form_holds_the_case_reference_to_64_characters(
    signed_in: Callable[[WebUser], TestClient], fbi_web: WebUser, limited: dict[str, Any]
) -> None:
    client = signed_in(fbi_web)
    form = client.get("/partner/search")
    data = {"csrf": csrf_of(form.text), "purpose": "criminal_investigation", "case_reference": "C" * 65}
    reply = client.post("/partner/search", data={**data, "last_name": "Pena", "dob": "1990-05-04"})
    assert reply.status_code == 422
    assert "at most 64 characters" in reply.text
    assert 'action="/partner/search"' in reply.text  # the form again, with the error
