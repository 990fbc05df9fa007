"""The registered-case pages: a partner registers (with subjects, "Add a subject" without
JavaScript), lists and closes its cases; bad input is shown beside its field and changes nothing;
another agency's case is a 404; governance and oversight see every agency's cases with their
lookups from the audit trail, subjects only as a count; the search form offers the open cases."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from pars.audit.models import AuditEntry
from pars.permissions import Role
from pars.sharing.models import CaseSubject, RegisteredCase
from tests.conftest import User, arrest_body
from tests.sharing.conftest import partner_headers
from tests.web import partner_world
from tests.web.conftest import WebUser, csrf_of
from tests.web.partner_world import LIMITED_FIELDS

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
REFERENCE_RULE = "enter at most 64 printable characters, without control characters"


def _register(client: TestClient, *, subjects: Sequence[tuple[str, str, str]] = (), **fields: str | list[str]) -> Any:
    form = client.get("/partner/cases/new")
    assert form.status_code == 200, form.text
    data: dict[str, Any] = {
        "csrf": csrf_of(form.text),
        "action": "register",
        "reference": CASE,
        "title": "Kensington firearms trafficking",
        "opened": "2026-03-01",
        "subject_last": [s[0] for s in subjects] + [""],
        "subject_first": [s[1] for s in subjects] + [""],
        "subject_dob": [s[2] for s in subjects] + [""],
        **fields,
    }
    return client.post("/partner/cases/new", data=data)


def _counts(reader: Engine) -> tuple[int, int]:
    with reader.connect() as connection:
        cases = connection.execute(text("SELECT count(*) FROM registered_cases")).scalar_one()
        subjects = connection.execute(text("SELECT count(*) FROM case_subjects")).scalar_one()
    return int(cases), int(subjects)


def _errors(html: str) -> list[str]:
    """The error summary's lines, in order."""
    summary = html.split('id="error-summary"', 1)[1].split("</div>", 1)[0]
    return [re.sub(r"<[^>]+>", "", item).strip() for item in re.findall(r"<li>(.*?)</li>", summary, re.S)]


def _field_error(html: str, field: str) -> str:
    found = re.search(rf'id="{field}-error">([^<]*)<', html)
    assert found, f"no error beside {field}"
    return found.group(1)


def test_a_partner_registers_a_case_with_subjects_and_sees_it_listed(
    signed_in: SignedIn, fbi_web: WebUser, session: Session, reader_engine: Engine
) -> None:
    client = signed_in(fbi_web)
    home = client.get("/")
    assert '<a href="/partner/cases">Cases</a>' in home.text and 'href="/cases"' not in home.text
    form = client.get("/partner/cases/new")
    assert form.status_code == 200
    assert form.text.count('name="subject_last"') == 3  # three blank rows to start with
    # "Add a subject" without JavaScript: the form comes back as typed, with one more row.
    more = client.post(
        "/partner/cases/new",
        data={"csrf": csrf_of(form.text), "action": "add", "reference": CASE, "title": "T", "opened": "2026-03-01",
              "subject_last": ["Peña", "", ""], "subject_first": ["Ana", "", ""], "subject_dob": ["1990-05-04", "", ""]},
    )  # fmt: skip
    assert more.status_code == 200 and more.text.count('name="subject_last"') == 4
    assert 'id="subject-3-last"' in more.text and 'value="Peña"' in more.text and f'value="{CASE}"' in more.text
    assert _counts(reader_engine) == (0, 0)

    done = _register(client, subjects=[("Peña", "Ana", "1990-05-04"), ("Ortiz", "", "")])
    assert done.status_code == 303, done.text
    case_path = done.headers["location"]
    shown = client.get(case_path)
    assert shown.status_code == 200
    text = shown.text
    assert f"Case {CASE} registered with 2 subject(s)." in text
    assert "Kensington firearms trafficking" in text and "2 subjects" in text and "2026-03-01" in text
    assert "0 queries under this reference" in text and "Close this case" in text
    assert "Peña" not in text and "Ortiz" not in text  # subjects are never shown as names

    session.expire_all()
    [case] = session.scalars(select(RegisteredCase)).all()
    assert case.reference == CASE and case.subject_count == 2 and case.agency.code == "FBI"
    digests = session.scalars(select(CaseSubject.digest)).all()
    assert len(digests) == 2 and not any("Pe" in d or "Ortiz" in d.lower() for d in digests)
    [entry] = session.scalars(select(AuditEntry).where(AuditEntry.action == "case.register")).all()
    assert entry.details == {"reference": CASE, "subjects": 2} and entry.outcome == "ok"

    listed = client.get("/partner/cases")
    assert listed.status_code == 200
    row = listed.text.split(f">{CASE}</a>", 1)[1].split("</tr>", 1)[0]
    assert "Kensington firearms trafficking" in row and "open" in row
    assert re.findall(r"<td>(\d+)</td>", row) == ["2", "0"]  # subjects, lookups
    assert listed.text.count("<tr>") == 2  # the header and the one case


def test_lookups_under_the_reference_are_counted_on_the_list(
    signed_in: SignedIn,
    fbi_web: WebUser,
    fbi: User,
    client: TestClient,
    limited: dict[str, Any],
    book: Callable[..., dict[str, Any]],
) -> None:
    book()
    browser = signed_in(fbi_web)
    assert _register(browser).status_code == 303
    params = {"last_name": "Peña", "dob": "1990-05-04"}
    for case in (CASE, CASE, "OTHER-1"):
        assert client.get("/api/v1/arrests", params=params, headers=partner_headers(fbi, case=case)).status_code == 200
    row = browser.get("/partner/cases").text.split(f">{CASE}</a>", 1)[1].split("</tr>", 1)[0]
    assert re.findall(r"<td>(\d+)</td>", row) == ["0", "2"]


def test_bad_input_is_shown_beside_its_field_and_saves_nothing(
    signed_in: SignedIn, fbi_web: WebUser, reader_engine: Engine
) -> None:
    client = signed_in(fbi_web)
    too_long = _register(client, reference="R" * 65)
    assert too_long.status_code == 400
    assert _field_error(too_long.text, "reference") == REFERENCE_RULE
    assert _errors(too_long.text) == [f"Case reference: {REFERENCE_RULE}"]
    assert 'id="reference"' in too_long.text and 'aria-invalid="true"' in too_long.text
    control = _register(client, reference="FBI\x07-1")
    assert control.status_code == 400 and "without control characters" in _field_error(control.text, "reference")

    # Several problems at once, listed in page order; what was typed stays in the form.
    several = _register(
        client,
        reference="R" * 70,
        title="",
        subjects=[("Peña", "Ana", "2026-02-30"), ("", "Luis", ""), ("Ortiz", "", "1990-13-01")],
    )
    assert several.status_code == 422
    assert _errors(several.text) == [
        f"Case reference: {REFERENCE_RULE}",
        "Title: enter a title for the case",
        "Subject 1, date of birth: enter a real date as YYYY-MM-DD",
        "Subject 2, last name: enter the last name, or clear the row",
        "Subject 3, date of birth: enter a real date as YYYY-MM-DD",
    ]
    assert _field_error(several.text, "subject-1-last") == "enter the last name, or clear the row"
    assert 'value="Luis"' in several.text and 'value="2026-02-30"' in several.text
    assert _counts(reader_engine) == (0, 0)

    # The service's own checks: a birth date after today, a duplicate reference.
    future = _register(client, subjects=[("Peña", "Ana", "2030-01-01")])
    assert future.status_code == 422
    assert _field_error(future.text, "subject-0-dob") == "must be a date from 1900-01-01 to today"
    assert _register(client).status_code == 303
    twice = _register(client, subjects=[("Ortiz", "", "")])
    assert twice.status_code == 409
    assert _field_error(twice.text, "reference") == "your agency has already registered a case with this reference"
    assert _counts(reader_engine) == (1, 0)


def test_closing_a_case_asks_first(signed_in: SignedIn, fbi_web: WebUser, session: Session) -> None:
    client = signed_in(fbi_web)
    case_path = _register(client, subjects=[("Ortiz", "", "")]).headers["location"]
    confirm = client.get(f"{case_path}/close")
    assert confirm.status_code == 200
    assert f"Close case {CASE}?" in confirm.text and "Closing cannot be undone." in confirm.text
    # A post without the confirmation only leads back to it.
    unconfirmed = client.post(f"{case_path}/close", data={"csrf": csrf_of(confirm.text)})
    assert unconfirmed.status_code == 303 and unconfirmed.headers["location"] == f"{case_path}/close"
    session.expire_all()
    assert session.scalars(select(RegisteredCase.closed_at)).one() is None

    closed = client.post(f"{case_path}/close", data={"csrf": csrf_of(confirm.text), "confirm": "yes"})
    assert closed.status_code == 303 and closed.headers["location"] == case_path
    page = client.get(case_path).text
    assert f"Case {CASE} closed." in page and "closed 2026-" in page and "Close this case" not in page
    session.expire_all()
    assert session.scalars(select(RegisteredCase.closed_at)).one() is not None
    assert CASE not in client.get("/partner/cases?state=open").text
    assert CASE in client.get("/partner/cases?state=closed").text

    again = client.post(f"{case_path}/close", data={"csrf": csrf_of(confirm.text), "confirm": "yes"})
    assert again.status_code == 409 and "the case is already closed" in again.text


def test_pages_deny_other_agencies_and_other_roles(
    signed_in: SignedIn,
    fbi_web: WebUser,
    web_user: Callable[..., WebUser],
    make_user: Callable[..., User],
    session: Session,
) -> None:
    fbi_client = signed_in(fbi_web)
    case_path = _register(fbi_client).headers["location"]
    make_user(Role.PARTNER, agency="ICE")
    ice = signed_in(web_user(Role.PARTNER, agency="ICE"))
    assert CASE not in ice.get("/partner/cases").text
    for path in (case_path, f"{case_path}/close"):
        missing = ice.get(path)
        assert missing.status_code == 404 and "no such case" in missing.text
    form = ice.get("/partner/cases/new")
    refused = ice.post(f"{case_path}/close", data={"csrf": csrf_of(form.text), "confirm": "yes"})
    assert refused.status_code == 404
    session.expire_all()
    assert session.scalars(select(RegisteredCase.closed_at)).one() is None
    # A partner's cases are its own pages: every agency's cases are not for it.
    assert ice.get("/cases").status_code == 403
    assert ice.get(f"/cases/{case_path.rsplit('/', 1)[1]}").status_code == 403
    booking = signed_in(web_user(Role.BOOKING, agency="PPD"))
    for path in ("/partner/cases", "/partner/cases/new", "/cases", case_path):
        assert booking.get(path).status_code == 403, path
    assert "Cases" not in booking.get("/").text


def test_oversight_sees_every_agencys_cases_with_their_lookups(
    signed_in: SignedIn,
    web_user: Callable[..., WebUser],
    client: TestClient,
    fbi: User,
    make_user: Callable[..., User],
    limited: dict[str, Any],
    book: Callable[..., dict[str, Any]],
) -> None:
    ana = book()
    book(person={**arrest_body()["person"], "name": {"first": "José", "last": "Rivera"}, "dob": "1985-11-02"})
    body = {"reference": CASE, "title": "Kensington firearms trafficking",
            "subjects": [{"last_name": "Peña", "first_name": "Ana", "dob": "1990-05-04"}]}  # fmt: skip
    case = client.post("/api/v1/cases", json=body, headers=fbi.headers).json()
    ice = make_user(Role.PARTNER, agency="ICE")
    ice_case = client.post("/api/v1/cases", json={"reference": "ICE-1", "title": "ICE case"}, headers=ice.headers)
    assert ice_case.status_code == 201
    # Under the case: a lookup of its subject (explained), one of someone else (not), one refused.
    headers = partner_headers(fbi, case=CASE)
    found = client.get("/api/v1/arrests", params={"last_name": "Peña", "dob": "1990-05-04"}, headers=headers)
    assert [r["id"] for r in found.json()["items"]] == [ana["id"]]
    other = client.get("/api/v1/arrests", params={"last_name": "Rivera", "first_name": "José"}, headers=headers)
    assert other.status_code == 200 and len(other.json()["items"]) == 1
    wrong = partner_headers(fbi, purpose="counterterrorism", case=CASE)
    assert client.get(f"/api/v1/arrests/{ana['id']}", headers=wrong).status_code == 403
    assert client.get("/api/v1/arrests", params={"last_name": "Peña", "dob": "1990-05-04"},
                      headers=partner_headers(fbi, case="ELSEWHERE")).status_code == 200  # fmt: skip

    watcher = web_user(Role.OVERSIGHT, agency="CITY")
    oversight = signed_in(watcher)
    assert '<a href="/cases">Cases</a>' in oversight.get("/").text
    listed = oversight.get("/cases")
    assert listed.status_code == 200
    assert CASE in listed.text and "ICE-1" in listed.text and "2 cases shown" in listed.text
    fbi_row = listed.text.split(f">{CASE}</a>", 1)[1].split("</tr>", 1)[0]
    assert re.findall(r"<td>(\d+)</td>", fbi_row) == ["1", "3"]  # one subject, three lookups
    only_ice = oversight.get("/cases?agency=ICE&state=open")
    assert "ICE-1" in only_ice.text and CASE not in only_ice.text and "1 case shown" in only_ice.text
    assert "No registered case matches" in oversight.get("/cases?state=closed").text

    detail = oversight.get(f"/cases/{case['id']}")
    assert detail.status_code == 200
    text = detail.text
    assert f"FBI case {CASE}" in text and "1 subject" in text
    assert "3 queries under this reference; of the 2 answered, 1 explained by a subject of the case" in text
    rows = re.findall(r'<tr id="lookup-\d+">(.*?)</tr>', text, re.S)
    assert len(rows) == 3
    cells = [[re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", r, re.S)] for r in rows]
    # Newest first: the refused read, the search for someone else, the search for the subject.
    assert [c[2:] for c in cells] == [
        ["read", "refused: purpose not allowed", "0", "—", "—"],
        ["search", "answered", "1", "yes", "unexplained"],
        ["search", "answered", "1", "yes", "explained"],
    ]
    assert all(c[1] == "FBI partner" for c in cells) and "/oversight/audit?cursor=" in text
    assert "Peña" not in text and "Rivera" not in text and "1990-05-04" not in text

    governance = signed_in(web_user(Role.GOVERNANCE, agency="DAO"))
    seen = governance.get(f"/cases/{case['id']}")
    assert seen.status_code == 200 and "explained" in seen.text
    assert "/oversight/audit?cursor=" not in seen.text  # the trail is oversight's


def test_the_search_form_offers_the_open_registered_cases(
    signed_in: SignedIn, fbi_web: WebUser, agreement: Callable[..., dict[str, Any]]
) -> None:
    agreement(fields=LIMITED_FIELDS, require_registered_case=True)
    client = signed_in(fbi_web)
    form = client.get("/partner/search").text
    assert 'list="open-cases"' not in form and "none is open: register one first" in form
    assert _register(client).status_code == 303
    other = _register(client, reference="FBI-PH-2026-0099").headers["location"]
    confirm = client.get(f"{other}/close")
    client.post(f"{other}/close", data={"csrf": csrf_of(confirm.text), "confirm": "yes"})
    form = client.get("/partner/search").text
    datalist = form.split('<datalist id="open-cases">', 1)[1].split("</datalist>", 1)[0]
    assert datalist == f'<option value="{CASE}">'
    assert 'list="open-cases"' in form and "choose it from the list" in form


# Any text at all, control characters and very long strings included.
_TEXT = st.text(st.characters(codec="utf-8"), max_size=80)  # UTF-8 carries no lone surrogate


@pytest.fixture
def fbi_client(signed_in: SignedIn, fbi_web: WebUser) -> TestClient:
    """FBI's partner, signed in once for every example of a property test."""
    return signed_in(fbi_web)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(reference=_TEXT, title=_TEXT, last=_TEXT, dob=st.one_of(_TEXT, st.dates().map(str)))
def test_any_form_input_registers_cleanly_or_changes_nothing(
    fbi_client: TestClient, reader_engine: Engine, reference: str, title: str, last: str, dob: str
) -> None:
    """Whatever is typed, the answer is a registered case or the form with its errors (400, 409,
    422), never a server error, and a refused form leaves no case and no subject behind."""
    before = _counts(reader_engine)
    reply = _register(fbi_client, reference=reference, title=title, subject_last=[last], subject_first=[""],
                      subject_dob=[dob])  # fmt: skip
    after = _counts(reader_engine)
    if reply.status_code == 303:
        assert after[0] == before[0] + 1 and after[1] - before[1] == (1 if (last + dob).strip() else 0)
    else:
        assert reply.status_code in (400, 409, 422), reply.text
        assert after == before
        assert "Nothing was saved." in reply.text and 'id="error-summary"' in reply.text
