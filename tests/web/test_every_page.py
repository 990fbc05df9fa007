"""Every page, from the app's route table, opened in Chromium by a user who may see it, in a world
with arrests, agreements, alerts, a complaint and a partner's case:
- axe-core finds no violation (WCAG 2.1 A/AA and best practices);
- at phone width (390 px) nothing scrolls sideways, neither the page nor a box in it (a chart
  may: its labels stay readable at their size, and it scrolls inside its own figure);
- a screenshot at each width is kept in tests/.screenshots/<this test>/ (`<page>-desktop.png`,
  `<page>-phone.png`).
A new page fails here until this test knows who opens it (`WHO`)."""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient

from pars.permissions import Role
from tests.conftest import User
from tests.sharing.conftest import partner_headers
from tests.web import partner_world
from tests.web.axe import axe_or_skip, violations
from tests.web.conftest import Browser, WebUser
from tests.web.partner_world import World

agreement = partner_world.agreement
approve = partner_world.approve
fbi = partner_world.fbi
governors = partner_world.governors
propose = partner_world.propose
world = partner_world.world

# Who opens each page (the first prefix that matches); None: no one signed in.
WHO: list[tuple[str, tuple[Role, str] | None]] = [
    ("/signin", None),
    ("/transparency", None),
    ("/arrests/new", (Role.BOOKING, "PPD")),
    ("/arrests", (Role.BOOKING, "PPD")),
    ("/custody", (Role.BOOKING, "PPD")),
    ("/charging", (Role.CHARGING, "DAO")),
    ("/docket", (Role.MAGISTRATE, "FJD")),
    ("/agreements", (Role.GOVERNANCE, "CITY")),
    ("/cases", (Role.GOVERNANCE, "CITY")),
    ("/partner", (Role.PARTNER, "FBI")),
    ("/oversight", (Role.OVERSIGHT, "CITY")),
    ("/", (Role.BOOKING, "PPD")),
]
# Not pages: data a page's script or a download asks for.
NOT_PAGES = re.compile(r"(\.csv|\.json)$|^/(api/|static|docs|redoc|openapi|metrics|healthz|readyz|catalog/|session$)")


# What scrolls sideways: the page itself, or any box inside it (a table in a scrolling wrapper).
SIDEWAYS = """() => {
  const found = [];
  const page = document.scrollingElement;
  if (page.scrollWidth > page.clientWidth + 1) found.push(`the page is ${page.scrollWidth} px wide`);
  for (const el of document.querySelectorAll("body *:not(figure)")) {
    const overflow = getComputedStyle(el).overflowX;
    if ((overflow === "auto" || overflow === "scroll") && el.scrollWidth > el.clientWidth + 1) {
      found.push(`${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""}.${el.className} is ${el.scrollWidth} px wide in ${el.clientWidth}`);
    }
  }
  return found;
}"""


def _pages(app: FastAPI) -> list[str]:
    found = {
        str(route.path)
        for route in iter_route_contexts(app.routes)
        if isinstance(route.original_route, APIRoute) and "GET" in (route.methods or ())
    }
    return sorted(path for path in found if not NOT_PAGES.search(path))


def _who(path: str) -> tuple[Role, str] | None:
    for prefix, who in WHO:
        if path == prefix or path.startswith(prefix.rstrip("/") + "/") or (prefix == "/" and path == "/"):
            return who
    raise AssertionError(f"{path}: a new page; say in WHO who opens it")


def _name(path: str) -> str:
    return re.sub(r"[{}]", "", path.strip("/").replace("/", "-")) or "home"


def test_every_page_passes_axe_and_fits_a_phone(
    world: World,
    client: TestClient,
    fbi: User,
    make_user: Callable[..., User],
    web_user: Callable[..., WebUser],
    open_browser: Callable[..., Browser],
) -> None:
    axe_or_skip()
    oversight = make_user(Role.OVERSIGHT, agency="CITY")
    complaint = client.post(
        "/api/v1/oversight/complaints",
        json={"complainant": "A resident, by letter", "agency": "ICE", "text": "Asked about my status."},
        headers=oversight.headers,
    )
    assert complaint.status_code == 201, complaint.text
    case = client.post(
        "/api/v1/cases",
        json={"reference": "FBI-PH-2026-0042", "title": "Kensington firearms trafficking",
              "opened_at": "2026-03-01T09:00:00-05:00", "subjects": [{"last_name": "Lopez0", "first_name": "Ana0"}]},
        headers=fbi.headers,
    )  # fmt: skip
    assert case.status_code == 201, case.text
    alerts = client.get("/api/v1/oversight/alerts", headers=oversight.headers).json()["items"]
    shared = client.get(
        "/api/v1/arrests", params={"last_name": "Lopez0", "first_name": "Ana0"}, headers=partner_headers(fbi)
    )
    assert shared.status_code == 200 and shared.json()["items"], shared.text
    values = {
        "arrest_id": world.records[0]["id"],
        "agreement_id": world.fbi_agreement,
        "alert_id": alerts[0]["id"],
        "complaint_id": complaint.json()["id"],
        "case_id": case.json()["id"],
    }
    app = client.app
    assert isinstance(app, FastAPI)
    tabs: dict[tuple[Role, str] | None, tuple[Browser, Browser]] = {}
    found: dict[str, list[str]] = {}
    checked = 0
    for template in _pages(app):
        path = re.sub(r"{(\w+)}", lambda m: values[m.group(1)], template)
        if path.startswith("/partner/arrests/"):
            path = f"/partner/arrests/{shared.json()['items'][0]['id']}"
        who = _who(template)
        if who not in tabs:
            desktop, phone = open_browser(), open_browser(phone=True)
            if who is not None:
                user = web_user(who[0], agency=who[1])
                desktop.sign_in(user)
                phone.sign_in(user)
            tabs[who] = (desktop, phone)
        desktop, phone = tabs[who]
        desktop.go(path)
        assert desktop.page.locator("h1").count() >= 1, f"{path}: {desktop.page.content()[:500]}"
        problems = violations(desktop.page)
        desktop.shot(f"{_name(template)}-desktop")
        phone.go(path)
        problems += [f"scrolls sideways at 390 px: {what}" for what in phone.page.evaluate(SIDEWAYS)]
        phone.shot(f"{_name(template)}-phone")
        if problems:
            found[path] = problems
        checked += 1
    assert checked >= 30, checked
    assert not found, "\n".join(f"{path}:\n  " + "\n  ".join(lines) for path, lines in found.items())
