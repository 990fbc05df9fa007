"""The oversight pages: alerts and their review, the compliance and transparency reports, the
audit trail with its filters and verification, and disclosure accounting for a person. Oversight
reads, and changes nothing but an alert's review."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from pars.audit.models import AuditEntry
from pars.oversight.models import Alert
from pars.permissions import Role
from tests.audit.conftest import tampering
from tests.web import partner_world
from tests.web.conftest import WebUser, csrf_of
from tests.web.partner_world import World

# The shared fixtures (tests/web/partner_world.py), made visible to pytest in this module.
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


def _alerts(session: Session) -> list[Alert]:
    session.expire_all()
    return list(session.scalars(select(Alert).order_by(Alert.rule)))


def _actions(session: Session, agency: str = "CITY") -> list[str]:
    session.expire_all()
    return list(session.scalars(select(AuditEntry.action).where(AuditEntry.agency == agency)))


def test_alerts_are_listed_open_first_with_their_evidence_and_filtered(
    signed_in: SignedIn, oversight: WebUser, world: World, session: Session
) -> None:
    client = signed_in(oversight)
    page = client.get("/oversight/alerts")
    assert page.status_code == 200, page.text
    html = page.text
    assert "3 alerts shown" in html
    for rule in ("Broad search", "No case reference", "Search by a protected field"):
        assert rule in html
    assert "broad_search" not in html.replace('value="broad_search"', "")
    assert html.count('action="/oversight/alerts/') == 3  # a review form for each open alert
    probe = next(a for a in _alerts(session) if a.rule == "protected_field_probe")
    assert 'href="/oversight/audit?cursor=' in html and f"#{probe.evidence[0]}" in html
    assert "2026-03-18 00:00 EDT to 2026-03-19 00:00 EDT" in html  # the city day, local time
    assert "ICE partner" in html  # the user, by name

    assert "1 alert shown" in client.get("/oversight/alerts", params={"rule": "broad_search"}).text
    assert "0 alerts shown" in client.get("/oversight/alerts", params={"agency": "fbi"}).text
    assert "0 alerts shown" in client.get("/oversight/alerts", params={"status": "reviewed"}).text
    wrong = client.get("/oversight/alerts", params={"rule": "nonsense"})
    assert wrong.status_code == 422 and "must be one of" in wrong.text


def test_marking_an_alert_reviewed_once_with_a_note(
    signed_in: SignedIn, oversight: WebUser, world: World, session: Session
) -> None:
    client = signed_in(oversight)
    listing = client.get("/oversight/alerts")
    csrf = csrf_of(listing.text)
    broad = next(a for a in _alerts(session) if a.rule == "broad_search")
    path = f"/oversight/alerts/{broad.id}/review"

    empty = client.post(path, data={"csrf": csrf, "note": "   ", "outcome": "confirmed"})
    assert empty.status_code == 422
    assert "Write a note" in empty.text and 'aria-invalid="true"' in empty.text
    assert _alerts(session)[0].reviewed_at is None

    forged = client.post(path, data={"note": "Sweep.", "outcome": "confirmed"})
    assert forged.status_code == 403 and "security token is missing" in forged.text
    assert all(a.reviewed_at is None for a in _alerts(session))

    done = client.post(path, data={"csrf": csrf, "note": "Nightly sweep; referred to the DA.", "outcome": "confirmed",
                                   "back": "/oversight/alerts?status=all"})  # fmt: skip
    assert done.status_code == 303 and done.headers["location"] == "/oversight/alerts?status=all"
    after = client.get(done.headers["location"])
    assert "Alert marked reviewed (confirmed)." in after.text
    assert "Nightly sweep; referred to the DA." in after.text
    # Open ones first: the reviewed alert comes after the two still open.
    assert after.text.index("Nightly sweep") > after.text.rindex('action="/oversight/alerts/')
    reviewed = next(a for a in _alerts(session) if a.rule == "broad_search")
    assert reviewed.review_outcome == "confirmed" and reviewed.reviewed_by is not None

    again = client.post(path, data={"csrf": csrf, "note": "Again.", "outcome": "dismissed"})
    assert again.status_code == 409 and "already been reviewed" in again.text
    assert str(next(a for a in _alerts(session) if a.rule == "broad_search").review_note).startswith("Nightly")
    assert _actions(session).count("oversight.alert_review") == 1

    one = client.get(f"/oversight/alerts/{broad.id}")
    assert one.status_code == 200 and "Reviewed" in one.text and "confirmed" in one.text


def test_compliance_report_shows_each_term_kept_or_broken(
    signed_in: SignedIn, oversight: WebUser, world: World, session: Session
) -> None:
    client = signed_in(oversight)
    index = client.get("/oversight/reports")
    assert index.status_code == 200
    assert f'href="/oversight/reports/compliance/{world.ice_agreement}"' in index.text
    assert "in force (version 1)" in index.text
    chosen = client.get("/oversight/reports/compliance", params={"agreement": world.ice_agreement})
    assert chosen.status_code == 303
    assert chosen.headers["location"] == f"/oversight/reports/compliance/{world.ice_agreement}"

    page = client.get(chosen.headers["location"])
    assert page.status_code == 200, page.text
    html = page.text
    assert "Compliance report: ICE" in html and "<strong>In breach</strong>: 2 terms broken" in html
    broken = re.findall(r'<tr class="broken" id="term-([a-z_]+)"', html)
    assert broken == ["protected_fields", "purpose_limitation"]
    kept = re.findall(r'<tr id="term-([a-z_]+)"', html)
    assert set(kept) == {
        "in_force",
        "fields",
        "purposes",
        "channels",
        "require_case_reference",
        "require_registered_case",
        "daily_query_limit",
    }
    probe = session.scalars(select(AuditEntry.seq).where(AuditEntry.agency == "ICE",
                                                         AuditEntry.outcome == "refused")).one()  # fmt: skip
    assert f"#{probe}</a>" in html
    assert "10 (1 refused)" in html and "0 answered queries with one, 9 without" in html

    fbi = client.get(f"/oversight/reports/compliance/{world.fbi_agreement}")
    assert "<strong>Kept</strong>: no term broken" in fbi.text and 'class="broken"' not in fbi.text

    bad = client.get(f"/oversight/reports/compliance/{world.fbi_agreement}", params={"from": "2026-04-01",
                                                                                      "to": "2026-03-01"})  # fmt: skip
    assert bad.status_code == 422 and "must be after from" in bad.text
    assert client.get("/oversight/reports/compliance/00000000-0000-4000-8000-000000000001").status_code == 404
    assert _actions(session).count("oversight.report_read") == 2  # the refused period changed nothing


def test_transparency_report_with_charts_and_downloads(
    signed_in: SignedIn, oversight: WebUser, world: World, session: Session
) -> None:
    client = signed_in(oversight)
    page = client.get("/oversight/reports/transparency", params={"from": "2026-03-01", "to": "2026-03-31"})
    assert page.status_code == 200, page.text
    html = page.text
    assert html.count("<svg") == 3 and "Queries per month by partner agency" in html
    assert "Arrest data shared with partner agencies" in html and "Disparate impact" in html
    assert "<style>" not in html  # the renderer's own page style stays on its own page
    assert re.search(r"<td><strong>ICE</strong>[^<]*</td>\s*<td>10</td>\s*<td>1</td>\s*<td>9</td>", html)
    assert 'value="2026-03-01"' in html and 'value="2026-03-31"' in html

    csv_reply = client.get("/oversight/reports/transparency.csv", params={"from": "2026-03-01", "to": "2026-03-31"})
    assert csv_reply.status_code == 200 and csv_reply.headers["content-type"].startswith("text/csv")
    assert "attachment" in csv_reply.headers["content-disposition"]
    rows = {(r["agency"], r["month"]): r for r in csv.DictReader(io.StringIO(csv_reply.text))}
    assert rows[("ICE", "2026-03")]["queries"] == "10" and rows[("FBI", "2026-03")]["queries"] == "3"

    json_reply = client.get("/oversight/reports/transparency.json", params={"from": "2026-03-01", "to": "2026-03-31"})
    body: dict[str, Any] = json_reply.json()
    assert {a["agency"]: a["totals"]["records_disclosed"] for a in body["agencies"]} == {"FBI": 3, "ICE": 9}

    printable = client.get("/oversight/reports/transparency/print", params={"from": "2026-03-01", "to": "2026-03-31"})
    assert printable.status_code == 200 and printable.headers["content-security-policy"].startswith(
        "default-src 'none'"
    )
    assert printable.text.startswith("<!DOCTYPE html>") and printable.text.count("<svg") == 3

    wrong = client.get("/oversight/reports/transparency", params={"from": "March", "to": "2026-03-31"})
    assert wrong.status_code == 422 and 'aria-invalid="true"' in wrong.text
    reads = session.scalars(select(AuditEntry).where(AuditEntry.action == "oversight.report_read")).all()
    assert sorted(e.details["format"] for e in reads) == ["csv", "html", "html", "json"]


def test_audit_trail_filters_pages_and_shows_local_times(
    signed_in: SignedIn, oversight: WebUser, world: World, session: Session
) -> None:
    client = signed_in(oversight)
    page = client.get("/oversight/audit", params={"agency": "ice", "action": "arrest.search"})
    assert page.status_code == 200, page.text
    html = page.text
    assert "10 entries, newest first" in html
    assert html.count("<div>Arrest records: records searched</div>") == 10
    assert "2026-03-18 02:00:00 EDT" in html  # the first sweep, in city time
    assert html.count('class="badge bad">Refused<') == 1
    refused = client.get("/oversight/audit", params={"agency": "ICE", "outcome": "refused"})
    assert "1 entry" in refused.text and "<dt>Searched by</dt><dd>Place of birth</dd>" in refused.text
    assert "protected_field_probe" not in refused.text
    by_user = client.get("/oversight/audit", params={"user": world.fbi.id, "action": "arrest.*"})
    assert "3 entries" in by_user.text
    by_date = client.get("/oversight/audit", params={"agency": "ICE", "from": "2026-03-19"})
    assert "0 entries" in by_date.text

    first = client.get("/oversight/audit")
    more = re.search(r'href="(/oversight/audit\?cursor=[^"]+)" rel="next"', first.text)
    assert more, "a trail this long has a next page"
    second = client.get(more.group(1).replace("&amp;", "&"))
    seqs = [int(s) for s in re.findall(r'<tr id="seq-(\d+)"', first.text + second.text)]
    # Keyset pages: the second starts where the first ended, newest first, no entry twice or skipped.
    assert len(re.findall(r'<tr id="seq-', first.text)) == 50
    assert seqs == list(range(seqs[0], seqs[0] - len(seqs), -1)) and seqs[-1] == 1

    wrong = client.get("/oversight/audit", params={"user": "someone", "from": "yesterday"})
    assert wrong.status_code == 422
    assert "There is a problem" in wrong.text and "choose a user from the list" in wrong.text
    assert '<select id="user" name="user" aria-invalid="true"' in wrong.text
    assert "<title>Error: Audit trail" in wrong.text


def test_verify_now_reports_an_intact_trail_and_then_the_first_bad_entry(
    signed_in: SignedIn, oversight: WebUser, db: Engine, session: Session
) -> None:
    client = signed_in(oversight)
    csrf = csrf_of(client.get("/oversight/audit").text)
    forged = client.post("/oversight/audit/verify", data={})
    assert forged.status_code == 403 and "audit.verify" not in _actions(session)

    intact = client.post("/oversight/audit/verify", data={"csrf": csrf})
    assert intact.status_code == 200, intact.text
    entries = len(_actions(session, "PARS")) + len(_actions(session, "CITY")) + len(_actions(session, "PPD"))
    assert "<strong>Intact.</strong>" in intact.text
    assert re.search(r"All [\d,]+ entries link and hash correctly, and \d+ signed checkpoints? verified", intact.text)
    assert "Latest signed checkpoint" in intact.text and entries > 0
    verify = session.scalars(select(AuditEntry).where(AuditEntry.action == "audit.verify")).one()
    assert verify.details["ok"] is True

    with tampering(db) as conn:
        conn.execute(text("UPDATE audit_entries SET action = 'arrest.create' WHERE seq = 3"))
    broken = client.post("/oversight/audit/verify", data={"csrf": csrf})
    assert broken.status_code == 200
    assert "<strong>Not intact.</strong>" in broken.text and ">#3</a>" in broken.text
    assert "Entry #3" in broken.text


def test_disclosures_of_a_person_by_name_and_dob_or_tracking_number(
    signed_in: SignedIn, oversight: WebUser, world: World
) -> None:
    client = signed_in(oversight)
    form = client.get("/oversight/disclosures")
    assert form.status_code == 200
    csrf = csrf_of(form.text)
    record = world.records[1]
    found = client.post("/oversight/disclosures", data={"csrf": csrf, "last_name": "lopez1", "dob": "1990-05-04"})
    assert found.status_code == 200, found.text
    html = found.text
    assert "Lopez1, Ana1" in html and "2 disclosures" in html
    assert html.count('<td data-label="Received by"><div>ICE<br>') == 1
    assert html.count('<td data-label="Received by"><div>FBI<br>') == 1
    assert "FBI-1" in html and "none</td>" in html  # FBI's case; ICE named none
    assert record["tracking_number"] in html and "Date of birth, Identifiers (SID, PPN, FBI number)" in html
    assert "Criminal investigation" in html and "2026-03-18 02:01 EDT" in html

    by_number = client.post("/oversight/disclosures", data={"csrf": csrf,
                                                            "tracking_number": world.records[5]["tracking_number"]})  # fmt: skip
    assert "Lopez5, Ana5" in by_number.text and "<p>1 disclosure.</p>" in by_number.text

    nobody = client.post("/oversight/disclosures", data={"csrf": csrf, "last_name": "Nobody", "dob": "1970-01-01"})
    assert "No person on file matches this search." in nobody.text
    vague = client.post("/oversight/disclosures", data={"csrf": csrf, "last_name": "Lopez1"})
    assert vague.status_code == 422 and "Give a last name with a date of birth" in vague.text
    bad = client.post("/oversight/disclosures", data={"csrf": csrf, "tracking_number": "nonsense"})
    assert bad.status_code == 422 and "is not a tracking number" in bad.text


def test_only_oversight_opens_these_pages(
    signed_in: SignedIn,
    web_user: Callable[..., WebUser],
    fbi: Any,
    session: Session,
) -> None:
    paths = ("/oversight/alerts", "/oversight/reports", "/oversight/audit", "/oversight/disclosures",
             "/oversight/reports/transparency", "/oversight/reports/transparency.csv")  # fmt: skip
    for who in (web_user(Role.BOOKING), web_user(Role.PARTNER, agency="FBI"), web_user(Role.GOVERNANCE, agency="DAO")):
        client = signed_in(who)
        for path in paths:
            refused = client.get(path)
            assert refused.status_code == 403, (who.user.agency, path)
            assert "your roles do not allow this page" in refused.text
        csrf = csrf_of(client.get("/").text)
        assert client.post("/oversight/audit/verify", data={"csrf": csrf}).status_code == 403
    assert "oversight.report_read" not in _actions(session, "PPD") + _actions(session, "FBI")
    assert "audit.verify" not in [a for agency in ("PPD", "FBI", "DAO") for a in _actions(session, agency)]
