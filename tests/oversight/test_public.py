"""The public transparency page on a known world: two agreements (FBI in force; ICE approved on a
split vote, suspended, lifted and terminated), three months of partner activity; the figures
and every term as JSON, CSV and HTML, read with no key and no session; counts from 1 to 10 as
"<11", and no published total giving a hidden count back."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable, Hashable
from datetime import datetime, timedelta
from typing import Any

import anyio
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from pars.actors import Actor
from pars.clock import FrozenClock
from pars.oversight.pages_public import PublicFigures, Snapshot
from pars.oversight.public import ADDITIVE, ALL, MEASURES, REASON, TOTAL, _relations
from pars.oversight.suppression import SMALL, WITHHELD, exposed
from pars.permissions import Role
from tests.conftest import START, User
from tests.oversight.conftest import Ask, Person, Refuse, Trail
from tests.sharing.conftest import agreement, approve, fbi, governors, propose  # noqa: F401


def city(text: str) -> datetime:
    return datetime.fromisoformat(text)


@pytest.fixture
def world(
    client: TestClient,
    clock: FrozenClock,
    governors: dict[str, User],  # noqa: F811
    make_user: Callable[..., User],
    agreement: Callable[..., dict[str, Any]],  # noqa: F811
    propose: Callable[..., dict[str, Any]],  # noqa: F811
    trail: Trail,
    partner: Callable[..., Actor],
    people: Callable[..., list[Person]],
) -> dict[str, Any]:
    crowd = people(20)  # booked now (the trail below only names them)
    clock.set(city("2025-11-03T12:00:00-05:00"))
    make_user(Role.PARTNER, agency="ICE")
    fbi_terms = agreement()  # effective January 1, 2026
    ice = propose(agency="ICE", title="ICE field office: arrest data", document_ref="MOU-ICE-2025",
                  effective_from="2025-12-01T00:00:00-05:00", expires_at="2026-12-01T00:00:00-05:00",
                  purposes=["criminal_investigation"], channels=["query"], require_case_reference=False,
                  daily_query_limit=None, scope={"titles": None})  # fmt: skip
    for code, vote in (("DAO", "yes"), ("CITY", "no"), ("FJD", "yes")):
        clock.advance(timedelta(hours=1))
        response = client.post(f"/api/v1/agreements/{ice['id']}/votes", json={"vote": vote},
                               headers=governors[code].headers)  # fmt: skip
        assert response.status_code == 200, response.text

    ice_actor, fbi_actor = partner("ICE"), partner("FBI")
    # ICE, December: 20 lookups of 20 people; January: 12 lookups and 4 ambiguous refusals.
    for i, person in enumerate(crowd):
        trail.write(ice_actor, city(f"2025-12-{i + 1:02d}T02:00:00-05:00"), Ask([person]))
    for i in range(12):
        trail.write(ice_actor, city(f"2026-01-{i + 1:02d}T02:00:00-05:00"), Ask([crowd[i]]))
    for i in range(4):
        trail.write(ice_actor, city(f"2026-01-{i + 20:02d}T03:00:00-05:00"), Refuse("ambiguous"))
    # FBI, January: 15 lookups of 15 people; February: 3 lookups.
    for i in range(15):
        trail.write(fbi_actor, city(f"2026-01-{i + 1:02d}T10:00:00-05:00"), Ask([crowd[i]], case=f"F-{i}"))
    for i in range(3):
        trail.write(fbi_actor, city(f"2026-02-{i + 1:02d}T10:00:00-05:00"), Ask([crowd[i]], case=f"F-{i}"))

    # ICE suspended by the city, lifted by DAO and FJD, then terminated.
    clock.set(city("2026-02-10T09:00:00-05:00"))
    reason = "Nightly name sweeps without a case reference"
    response = client.post(f"/api/v1/agreements/{ice['id']}/suspension", json={"reason": reason},
                           headers=governors["CITY"].headers)  # fmt: skip
    assert response.status_code == 200, response.text
    clock.set(city("2026-02-12T09:00:00-05:00"))
    for code in ("DAO", "FJD"):
        response = client.delete(f"/api/v1/agreements/{ice['id']}/suspension", headers=governors[code].headers)
        assert response.status_code == 200, response.text
    clock.set(city("2026-02-20T09:00:00-05:00"))
    ended = {"effective_at": "2026-02-20T09:00:00-05:00", "reason": "The city ended ICE's access"}
    response = client.post(f"/api/v1/agreements/{ice['id']}/termination", json=ended,
                           headers=governors["CITY"].headers)  # fmt: skip
    assert response.status_code == 200, response.text
    clock.set(START)  # March 17, 2026: December to February are the complete months
    return {"crowd": crowd, "fbi": fbi_terms, "ice": ice}


def published(body: dict[str, Any]) -> dict[Hashable, Any]:
    """The JSON's counts back as the keys the suppression ran on."""
    shown: dict[Hashable, Any] = {}
    for agency in body["agencies"]:
        for column, counts in [*((m["month"], m) for m in agency["months"]), (TOTAL, agency["totals"])]:
            for measure in MEASURES:
                shown[(agency["agency"], column, measure)] = counts[measure]
            for reason, value in counts["refused_by_reason"].items():
                shown[(agency["agency"], column, REASON + reason)] = value
    everyone = body["all_agencies"]
    for column, counts in [*((m["month"], m) for m in everyone["months"]), (TOTAL, everyone["totals"])]:
        for measure in ADDITIVE:
            shown[(ALL, column, measure)] = counts[measure]
    return shown


def test_the_public_json_has_the_terms_history_and_suppressed_counts(
    world: dict[str, Any], client: TestClient, db: Engine
) -> None:
    response = client.get("/transparency.json")
    assert response.status_code == 200
    body = response.json()
    assert body["months"] == ["2025-12", "2026-01", "2026-02"]
    assert body["period"] == {"from": "2025-12-01T00:00:00-05:00", "to": "2026-03-01T00:00:00-05:00"}

    agreements = {a["agency"]: a for a in body["agreements"]}
    assert set(agreements) == {"FBI", "ICE"}
    ice = agreements["ICE"]
    assert ice["state"] == "terminated" and ice["termination_reason"] == "The city ended ICE's access"
    assert ice["terminated_at"] == "2026-02-20T09:00:00-05:00"
    assert ice["in_force_from"] == "2025-12-01T00:00:00-05:00" and ice["in_force_until"] == ice["terminated_at"]
    [suspension] = ice["suspensions"]
    assert suspension["reason"] == "Nightly name sweeps without a case reference"
    assert suspension["from"].startswith("2026-02-10T09:00") and suspension["until"].startswith("2026-02-12T09:00")
    assert sorted(v["agency"] for v in suspension["lift_votes"]) == ["DAO", "FJD"]
    [version] = ice["versions"]
    assert sorted((v["agency"], v["vote"]) for v in version["votes"]) == [
        ("CITY", "no"),
        ("DAO", "yes"),
        ("FJD", "yes"),
    ]
    assert version["purposes"] == ["criminal_investigation"] and version["channels"] == ["query"]
    assert version["status"] == "approved" and version["document_ref"] == "MOU-ICE-2025"
    assert "person.name" in version["fields"] and version["require_case_reference"] is False
    assert agreements["FBI"]["state"] == "in force" and agreements["FBI"]["versions"][0]["daily_query_limit"] == 500
    assert agreements["FBI"]["versions"][0]["scope"]["titles"] == [18]

    counts = {a["agency"]: a for a in body["agencies"]}
    ice_months = {m["month"]: m for m in counts["ICE"]["months"]}
    fbi_months = {m["month"]: m for m in counts["FBI"]["months"]}
    # ICE: 20 people in December, 12 in January (published), 20 different people in all; its
    # 4 ambiguous refusals in January are hidden, with the refusals they sum to.
    assert ice_months["2025-12"]["persons_disclosed"] == 20 and ice_months["2026-01"]["persons_disclosed"] == 12
    assert counts["ICE"]["totals"]["persons_disclosed"] == 20 and counts["ICE"]["totals"]["queries"] == 36
    assert ice_months["2026-01"]["refused"] == SMALL and ice_months["2026-01"]["refused_by_reason"] == {
        "ambiguous": SMALL
    }
    assert counts["ICE"]["totals"]["refused"] == SMALL and ice_months["2026-02"]["queries"] == 0
    # FBI: 15 queries in January, 3 in February (hidden), 18 in all: January is withheld with it,
    # and so are the months and totals that would give either back (the records, which are at
    # least the people published beside them, included).
    assert fbi_months["2026-02"]["queries"] == SMALL and fbi_months["2026-01"]["queries"] == WITHHELD
    assert counts["FBI"]["totals"]["queries"] == 18 and fbi_months["2025-12"]["queries"] == 0
    assert ice_months["2025-12"]["queries"] == WITHHELD and ice_months["2026-01"]["queries"] == WITHHELD
    everyone = {m["month"]: m for m in body["all_agencies"]["months"]}
    assert everyone["2026-01"]["queries"] == 31 and everyone["2026-02"]["queries"] == SMALL
    assert body["all_agencies"]["totals"]["queries"] == 54 and "persons_disclosed" not in everyone["2026-01"]
    # With every relation a reader knows, no hidden number has one possible value left.
    shown = published(body)
    relations = list(_relations(["ATF", "FBI", "ICE"] if "ATF" in counts else ["FBI", "ICE"], body["months"],
                                {a: sorted(counts[a]["totals"]["refused_by_reason"]) for a in counts}))  # fmt: skip
    assert exposed(shown, relations) == set()
    for relation in relations:
        if relation.exact:
            assert sum(isinstance(shown[k], str) for k in (relation.total, *relation.parts)) != 1, relation


def test_no_personal_data_and_no_sign_in(world: dict[str, Any], client: TestClient) -> None:
    crowd: list[Person] = world["crowd"]
    texts = {path: client.get(path) for path in ("/transparency", "/transparency.json", "/transparency.csv")}
    for path, response in texts.items():
        assert response.status_code == 200, path
        assert "set-cookie" not in response.headers
        assert "script-src" not in response.headers["content-security-policy"]
        assert "default-src 'none'" in response.headers["content-security-policy"]
        for person in crowd:
            assert str(person.arrest_id) not in response.text and str(person.person_id) not in response.text
        assert "Person1" not in response.text and "Ana1" not in response.text and "F-1" not in response.text
    assert "<script" not in texts["/transparency"].text


def test_the_csv_holds_the_counts_then_the_agreements(world: dict[str, Any], client: TestClient) -> None:
    response = client.get("/transparency.csv")
    assert response.headers["content-type"].startswith("text/csv")
    counts, agreements = response.text.split("\n\n")
    rows = list(csv.DictReader(io.StringIO(counts)))
    by = {(r["agency"], r["month"]): r for r in rows}
    assert by[("ICE", "2025-12")]["persons_disclosed"] == "20" and by[("FBI", "2026-02")]["queries"] == "<11"
    assert by[("FBI", "2026-01")]["queries"] == "withheld" and by[("ICE", "2026-01")]["refused:ambiguous"] == "<11"
    assert ("ALL", "total") in by and by[("ALL", "total")]["persons_disclosed"] == ""
    terms = list(csv.DictReader(io.StringIO(agreements)))
    ice = next(t for t in terms if t["agency"] == "ICE")
    assert ice["agreement_state"] == "terminated" and ice["termination_reason"] == "The city ended ICE's access"
    assert "DAO yes" in ice["votes"] and "CITY no" in ice["votes"] and "Nightly name sweeps" in ice["suspensions"]


def test_the_page_shows_the_agreements_and_the_tables(world: dict[str, Any], client: TestClient) -> None:
    html = client.get("/transparency").text
    assert "ICE field office: arrest data" in html and "The city ended ICE&#39;s access" in html
    assert "Nightly name sweeps without a case reference" in html and "CITY no" in html
    assert html.count("<svg") == 2 and "&lt;11" in html and "withheld" in html
    assert 'href="/transparency.csv"' in html
    signin = client.get("/signin").text
    assert 'href="/transparency"' in signin


def test_figures_are_computed_once_and_served_from_the_copy(
    world: dict[str, Any], client: TestClient, trail: Trail, partner: Callable[..., Actor]
) -> None:
    cache: PublicFigures = client.app.state.public_figures  # type: ignore[attr-defined]
    first = client.get("/transparency.json").json()
    client.get("/transparency")
    client.get("/transparency.csv")
    assert cache.computations == 1
    # New activity in a published month shows after the copy is refreshed, not before.
    for i in range(30):
        trail.write(partner("ATF"), city(f"2026-02-{1 + i % 27:02d}T11:00:00-05:00"), Refuse("no_agreement_in_force"))
    assert client.get("/transparency.json").json() == first
    cache.invalidate()
    again = client.get("/transparency.json").json()
    assert cache.computations == 2
    atf = next(a for a in again["agencies"] if a["agency"] == "ATF")
    assert list(atf["totals"]["refused_by_reason"]) == ["no_agreement_in_force"]
    assert {m["month"]: m["queries"] for m in atf["months"]}["2026-01"] == 0


def test_a_change_to_an_agreement_refreshes_the_copy(
    world: dict[str, Any],
    client: TestClient,
    governors: dict[str, User],  # noqa: F811
) -> None:
    cache: PublicFigures = client.app.state.public_figures  # type: ignore[attr-defined]
    before = client.get("/transparency.json").json()
    assert next(a for a in before["agreements"] if a["agency"] == "FBI")["state"] == "in force"
    fbi_id = world["fbi"]["id"]
    response = client.post(f"/api/v1/agreements/{fbi_id}/suspension", json={"reason": "Audit of the task force"},
                           headers=governors["DAO"].headers)  # fmt: skip
    assert response.status_code == 200, response.text
    after = client.get("/transparency.json").json()
    fbi_after = next(a for a in after["agreements"] if a["agency"] == "FBI")
    assert fbi_after["state"] == "suspended" and fbi_after["suspensions"][0]["reason"] == "Audit of the task force"
    assert cache.computations == 2
    # A refused change (a second suspension) leaves the copy as it is.
    client.post(f"/api/v1/agreements/{fbi_id}/suspension", json={"reason": "again"}, headers=governors["DAO"].headers)
    client.get("/transparency.json")
    assert cache.computations == 2


def test_a_burst_of_requests_costs_one_computation() -> None:
    """Many requests at once for a cold cache: one computation; the others wait for it."""
    started, release = anyio.Event(), anyio.Event()
    calls: list[int] = []

    def compute() -> Snapshot:
        calls.append(1)
        anyio.from_thread.run_sync(started.set)
        anyio.from_thread.run(release.wait)
        return Snapshot(time.monotonic(), {"n": len(calls)}, "", "")

    async def main() -> list[Snapshot]:
        cache = PublicFigures(compute, ttl=3600)
        results: list[Snapshot] = []

        async def ask() -> None:
            results.append(await cache.get())

        async with anyio.create_task_group() as tasks:
            for _ in range(25):
                tasks.start_soon(ask)
            await started.wait()
            release.set()
        # A stale copy is served while a refresh runs.
        cache.invalidate()
        stale = cache.snapshot
        return [*results, stale] if stale is not None else results

    results = anyio.run(main)
    assert len(calls) == 1 and all(r.figures == {"n": 1} for r in results)


def test_a_failed_refresh_keeps_the_last_copy() -> None:
    outcomes: list[Snapshot | Exception] = [Snapshot(time.monotonic(), {"n": 1}, "", ""), OSError("database away")]

    def compute() -> Snapshot:
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    async def main() -> tuple[Snapshot, Snapshot]:
        cache = PublicFigures(compute, ttl=3600)
        first = await cache.get()
        cache.invalidate()
        return first, await cache.get()

    first, second = anyio.run(main)
    assert first.figures == second.figures == {"n": 1} and outcomes == []


def test_before_any_agreement_there_is_nothing_to_count(client: TestClient) -> None:
    body = client.get("/transparency.json").json()
    assert body["agreements"] == [] and body["months"] == [] and body["period"] is None
    assert "No partner agreement has been in force" in client.get("/transparency").text


def test_a_proposed_amendment_is_listed_but_the_agreement_keeps_the_title_it_is_in_force_under(
    world: dict[str, Any],
    client: TestClient,
    governors: dict[str, User],  # noqa: F811
) -> None:
    fbi_id = world["fbi"]["id"]
    current = client.get(f"/api/v1/agreements/{fbi_id}", headers=governors["DAO"].headers).json()["versions"][-1]
    terms = {k: current[k] for k in ("document_ref", "effective_from", "expires_at", "purposes", "channels", "fields",
                                     "scope", "require_case_reference", "require_registered_case", "daily_query_limit")}  # fmt: skip
    response = client.post(f"/api/v1/agreements/{fbi_id}/versions", json={**terms, "title": "FBI: wider terms asked"},
                           headers=governors["DAO"].headers)  # fmt: skip
    assert response.status_code == 201, response.text
    shown = next(a for a in client.get("/transparency.json").json()["agreements"] if a["agency"] == "FBI")
    assert shown["title"] == current["title"]
    assert [(v["title"], v["status"], v["in_force_from"]) for v in shown["versions"]][-1] == (
        "FBI: wider terms asked",
        "proposed",
        None,
    )
