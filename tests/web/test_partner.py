"""The partner pages: search and read under the agreement in force, only what the gate returns,
its refusals on the page and on the trail, the quota, and the page for an agreement not in force."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from pars.audit.models import AuditEntry
from pars.clock import FrozenClock
from pars.permissions import Role
from tests.conftest import User, arrest_body
from tests.web import partner_world
from tests.web.conftest import WebUser, csrf_of
from tests.web.partner_world import HIDDEN, LIMITED_FIELDS

# The shared fixtures (tests/web/partner_world.py), made visible to pytest in this module.
agreement = partner_world.agreement
approve = partner_world.approve
fbi = partner_world.fbi
fbi_web = partner_world.fbi_web
governors = partner_world.governors
limited = partner_world.limited
propose = partner_world.propose


SignedIn = Callable[[WebUser], TestClient]
CASE = "FBI-PH-2026-0042"


def _search(client: TestClient, **fields: str) -> Any:
    form = client.get("/partner/search")
    assert form.status_code == 200, form.text
    data = {"csrf": csrf_of(form.text), "purpose": "criminal_investigation", "case_reference": CASE, **fields}
    return client.post("/partner/search", data=data)


def _entries(session: Session, action: str) -> list[AuditEntry]:
    session.expire_all()
    return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq)))


def _offered(html: str) -> set[str]:
    form = html.split('action="/partner/search"', 1)[1].split("</form>", 1)[0]
    return set(re.findall(r'<(?:input|select) id="([a-z_]+)"', form))


def test_the_form_offers_only_what_the_agreement_grants(
    signed_in: SignedIn, fbi_web: WebUser, limited: dict[str, Any]
) -> None:
    client = signed_in(fbi_web)
    form = client.get("/partner/search")
    assert form.status_code == 200
    text = form.text
    # Name, birth date, tracking number and status; nothing whose field the agreement lacks,
    # and never a protected field.
    assert _offered(text) == {
        "purpose",
        "case_reference",
        "last_name",
        "first_name",
        "dob",
        "tracking_number",
        "status",
    }
    assert "place_of_birth" not in text and "citizenship" not in text and "ssn" not in text
    assert '<option value="criminal_investigation">' in text and '<option value="fugitive_apprehension">' in text
    assert "civil_immigration_enforcement" not in text
    assert "Case reference (optional)" not in text  # required by the agreement; the server says so if it is empty
    assert "Your agreement requires the case each search serves." in text
    assert "in force until 2026-09-01 00:00 EDT" in text and "500 queries a day" in text


def test_a_search_shows_only_granted_fields_and_is_on_the_trail(
    signed_in: SignedIn,
    fbi_web: WebUser,
    limited: dict[str, Any],
    book: Callable[..., dict[str, Any]],
    session: Session,
) -> None:
    record = book()
    book(person={**arrest_body()["person"], "name": {"first": "Other", "last": "Person"}, "dob": "1980-01-01"})
    client = signed_in(fbi_web)
    found = _search(client, last_name="pena", dob="1990-05-04")
    assert found.status_code == 200, found.text
    html = found.text
    assert "1 record found" in html
    assert record["tracking_number"] in html and "Peña" in html and "1990-05-04" in html
    assert "18 § 2701 §§ A1" in html and "In custody" in html and "in_custody" not in html
    assert "Other" not in html  # the other person is not in the result
    for name, value in HIDDEN.items():
        assert value not in html, name
    assert "Arrested" not in html  # arrest.arrested_at is not granted: no label for it either

    [entry] = _entries(session, "arrest.search")
    assert entry.outcome == "ok" and entry.actor_id is not None
    assert entry.details["case_reference"] == CASE and entry.details["purpose"] == "criminal_investigation"
    assert entry.details["records"] == [record["id"]]
    assert sorted(entry.details["parameters"]) == ["dob", "last_name"]

    # The record page reads through the gate again, under the same purpose and case.
    link = re.search(r'href="(/partner/arrests/[^"]+)"', html)
    assert link
    page = client.get(link.group(1).replace("&amp;", "&"))
    assert page.status_code == 200, page.text
    assert f"Record {record['tracking_number']}" in page.text and "Peña" in page.text
    assert f"case {CASE}" in page.text
    for name, value in HIDDEN.items():
        assert value not in page.text, name
    [read] = _entries(session, "arrest.read")
    assert read.outcome == "ok" and read.target == record["id"] and read.details["case_reference"] == CASE


def test_the_record_page_asks_for_a_purpose_first_and_hides_what_is_out_of_scope(
    signed_in: SignedIn,
    fbi_web: WebUser,
    agreement: Callable[..., dict[str, Any]],
    book: Callable[..., dict[str, Any]],
    session: Session,
) -> None:
    agreement(fields=LIMITED_FIELDS, scope={"grades": ["F1"]})  # the booked M2 assault is out of scope
    record = book()
    client = signed_in(fbi_web)
    ask = client.get(f"/partner/arrests/{record['id']}")
    assert ask.status_code == 200
    assert "State why you need this record" in ask.text and 'name="purpose"' in ask.text
    assert _entries(session, "arrest.read") == []  # nothing asked of the gate yet
    hidden = client.get(f"/partner/arrests/{record['id']}", params={"purpose": "criminal_investigation",
                                                                   "case_reference": CASE})  # fmt: skip
    assert hidden.status_code == 404
    assert record["tracking_number"] not in hidden.text and "Peña" not in hidden.text
    [read] = _entries(session, "arrest.read")
    assert read.outcome == "refused" and read.details["reason"] == "not_found_or_out_of_scope"


def test_refusals_are_explained_on_the_form_and_written_to_the_trail(
    signed_in: SignedIn, fbi_web: WebUser, limited: dict[str, Any], book: Callable[..., dict[str, Any]],
    session: Session,
) -> None:  # fmt: skip
    book()
    client = signed_in(fbi_web)

    no_case = _search(client, last_name="Peña", dob="1990-05-04", case_reference="  ")
    assert no_case.status_code == 403
    assert "Enter the case this search serves: your agreement requires one" in no_case.text
    assert "There is a problem" in no_case.text and '<a href="#case_reference">' in no_case.text
    assert "<title>Error: Search arrest records" in no_case.text
    assert "PARS-Case-Reference" not in no_case.text
    assert 'value="Peña"' in no_case.text  # the form keeps what was typed

    broad = _search(client, last_name="Peña")
    assert broad.status_code == 403
    assert "Give a last name with a date of birth or a first name, or one of the numbers" in broad.text

    wrong_purpose = _search(client, last_name="Peña", dob="1990-05-04", purpose="counterterrorism")
    assert wrong_purpose.status_code == 403
    assert "Choose the purpose of this search: one your agreement allows" in wrong_purpose.text

    bad_date = _search(client, last_name="Peña", dob="04/05/1990")
    assert bad_date.status_code == 422
    assert 'id="dob" name="dob" type="date" value="04/05/1990" aria-invalid="true"' in bad_date.text
    assert "must be a date YYYY-MM-DD" in bad_date.text

    # A crafted form naming a protected field is a probe, refused and audited as over the API.
    probe = _search(client, last_name="Peña", dob="1990-05-04", place_of_birth="San Juan, PR")
    assert probe.status_code == 403 and "searching by place of birth is not permitted" in probe.text

    reasons = [e.details.get("reason") for e in _entries(session, "arrest.search")]
    assert reasons == ["case_reference_required", "search_too_broad", "purpose_not_permitted",
                       "protected_field_probe"]  # fmt: skip
    assert all(e.outcome == "refused" for e in _entries(session, "arrest.search"))


def test_over_the_daily_limit_the_page_says_when_to_try_again(
    signed_in: SignedIn,
    fbi_web: WebUser,
    agreement: Callable[..., dict[str, Any]],
    book: Callable[..., dict[str, Any]],
) -> None:
    agreement(fields=LIMITED_FIELDS, daily_query_limit=1)
    book()
    client = signed_in(fbi_web)
    assert _search(client, last_name="Peña", dob="1990-05-04").status_code == 200
    over = _search(client, last_name="Peña", dob="1990-05-04")
    assert over.status_code == 429
    assert "daily query limit is reached" in over.text
    # 15:00 in Philadelphia: the limit resets at midnight, city time, nine hours on.
    assert "Try again after <strong>2026-03-18 00:00 EDT</strong>" in over.text
    assert int(over.headers["Retry-After"]) == 9 * 3600 and "9 h 0 min left" in over.text


def test_no_agreement_at_all(signed_in: SignedIn, web_user: Callable[..., WebUser], session: Session) -> None:
    client = signed_in(web_user(Role.PARTNER, agency="ATF"))
    page = client.get("/partner/search")
    assert page.status_code == 403
    assert "ATF has no data-sharing agreement in force" in page.text
    assert "Your agency has <strong>no agreement</strong> with the city" in page.text
    assert 'name="purpose"' not in page.text
    # Opening a record is refused by the gate, and the refusal is on the trail.
    refused = client.get("/partner/arrests/00000000-0000-4000-8000-000000000001",
                         params={"purpose": "criminal_investigation"})  # fmt: skip
    assert refused.status_code == 403 and "no agreement" in refused.text
    [read] = _entries(session, "arrest.read")
    assert read.outcome == "refused" and read.details["reason"] == "no_agreement_in_force"


def test_an_expired_agreement_says_since_when_and_refusals_stay_on_the_trail(
    signed_in: SignedIn, fbi_web: WebUser, limited: dict[str, Any], clock: FrozenClock, session: Session
) -> None:
    client = signed_in(fbi_web)
    form = client.get("/partner/search")
    csrf = csrf_of(form.text)
    clock.set(datetime.fromisoformat("2026-09-01T00:00:00-04:00") - timedelta(minutes=5))
    client = signed_in(fbi_web)  # the first session locked while time passed
    csrf = csrf_of(client.get("/partner/search").text)
    clock.advance(timedelta(minutes=10))  # the agreement expires between the form and the search
    data = {"csrf": csrf, "purpose": "criminal_investigation", "case_reference": CASE, "last_name": "Peña",
            "dob": "1990-05-04"}  # fmt: skip
    refused = client.post("/partner/search", data=data)
    assert refused.status_code == 403
    text = refused.text
    assert "FBI has no data-sharing agreement in force" in text
    assert "<strong>expired</strong>" in text and "Expired since 2026-09-01 00:00 EDT" in text
    [entry] = _entries(session, "arrest.search")
    assert entry.outcome == "refused" and entry.details["reason"] == "no_agreement_in_force"
    assert client.get("/partner/search").status_code == 403


def test_suspended_and_terminated_agreements_are_named(
    signed_in: SignedIn,
    fbi_web: WebUser,
    limited: dict[str, Any],
    client: TestClient,
    governors: dict[str, User],
    clock: FrozenClock,
) -> None:
    path = f"/api/v1/agreements/{limited['id']}"
    suspended = client.post(f"{path}/suspension", json={"reason": "audit of nightly sweeps"},
                            headers=governors["DAO"].headers)  # fmt: skip
    assert suspended.status_code == 200, suspended.text
    page = signed_in(fbi_web).get("/partner/search")
    assert page.status_code == 403
    assert "<strong>suspended</strong>" in page.text
    assert "Suspended since 2026-03-17 15:00 EDT: audit of nightly sweeps" in page.text

    clock.advance(timedelta(hours=1))
    ended = client.post(f"{path}/termination", json={"effective_at": clock.now().isoformat(), "reason": "not renewed"},
                        headers=governors["CITY"].headers)  # fmt: skip
    assert ended.status_code == 200, ended.text
    page = signed_in(fbi_web).get("/partner/search")
    assert "<strong>terminated</strong>" in page.text
    assert "Terminated since 2026-03-17 16:00 EDT: not renewed" in page.text


def test_a_feed_only_agreement_offers_no_search(
    signed_in: SignedIn,
    fbi_web: WebUser,
    agreement: Callable[..., dict[str, Any]],
) -> None:
    agreement(fields=LIMITED_FIELDS, channels=["feed"])
    page = signed_in(fbi_web).get("/partner/search")
    assert page.status_code == 403
    assert "FBI's agreement does not allow searches" in page.text and "<strong>only the feed</strong>" in page.text
    assert 'name="last_name"' not in page.text


def test_only_partners_search_and_every_search_needs_the_form_token(
    signed_in: SignedIn, web_user: Callable[..., WebUser], fbi_web: WebUser, limited: dict[str, Any],
    session: Session,
) -> None:  # fmt: skip
    for who in (web_user(Role.BOOKING), web_user(Role.OVERSIGHT, agency="CITY")):
        client = signed_in(who)
        for path in ("/partner/search", "/partner/arrests/00000000-0000-4000-8000-000000000001"):
            refused = client.get(path)
            assert refused.status_code == 403, path
            assert "your roles do not allow this page" in refused.text
        assert 'href="/partner/search"' not in client.get("/").text
    partner = signed_in(fbi_web)
    assert 'href="/partner/search"' in partner.get("/").text
    forged = partner.post("/partner/search", data={"purpose": "criminal_investigation", "case_reference": CASE,
                                                   "last_name": "Peña", "dob": "1990-05-04"})  # fmt: skip
    assert forged.status_code == 403 and "security token is missing" in forged.text
    assert _entries(session, "arrest.search") == []
    denied = [e.details for e in _entries(session, "auth.denied")]
    assert denied and all(d["permission"] == "read_records" and d["channel"] == "web" for d in denied)


def test_a_name_shared_by_several_people_is_explained_and_asks_for_the_date_of_birth(
    signed_in: SignedIn,
    fbi_web: WebUser,
    limited: dict[str, Any],
    book: Callable[..., dict[str, Any]],
    session: Session,
) -> None:
    person = arrest_body()["person"]
    first = book()
    book(person={**person, "dob": "1985-11-30"})  # Ana Peña too, another person
    client = signed_in(fbi_web)
    refused = _search(client, last_name="Peña", first_name="Ana")
    assert refused.status_code == 403
    html = refused.text
    assert "2 different people match; add a date of birth or an identifier." in html
    assert '<a href="#dob">Add the date of birth</a>' in html
    # Nothing of either person is shown.
    assert first["tracking_number"] not in html and "1990-05-04" not in html and "1985-11-30" not in html
    # The form keeps what was typed, and the date of birth is the field to fill in.
    assert 'id="last_name" name="last_name" type="text" value="Peña"' in html
    assert 'id="first_name" name="first_name" type="text" value="Ana"' in html
    assert re.search(r'<div class="field warn">\s*<label for="dob">', html)
    assert 'id="dob" name="dob" type="date" value="" autofocus aria-describedby="dob-wanted"' in html
    assert f'value="{CASE}"' in html
    [entry] = _entries(session, "arrest.search")
    assert entry.outcome == "refused" and entry.details["reason"] == "ambiguous" and entry.details["persons"] == 2
    assert entry.details["parameters"] == ["first_name", "last_name"] and "subject" in entry.details

    found = _search(client, last_name="Peña", first_name="Ana", dob="1990-05-04")
    assert found.status_code == 200 and "1 record found" in found.text and first["tracking_number"] in found.text
    assert "different people match" not in found.text
