"""The public transparency page in Chromium, on the demonstration world: what a reader's browser
shows holds no one's name, date of birth, identifier or record id; it reads at desktop and at
phone width without scrolling sideways. Screenshots go to ``test-output/public/`` (git-ignored)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from pars.auth.models import User as UserRow
from pars.clock import FrozenClock
from pars.demo.world import build_world
from pars.oversight.commands import run_scan
from pars.records.models import Arrest, Person
from pars.settings import Settings
from tests.web.conftest import Browser, chromium, live, open_browser  # noqa: F401

OUTPUT = Path(__file__).resolve().parents[2] / "test-output" / "public"


def personal_data(session: Session) -> set[str]:
    """Every name, date of birth, identifier and record id in the database, as a page could print them."""
    found: set[str] = set()
    for arrest in session.scalars(select(Arrest)):
        found |= {arrest.first_name or "", arrest.last_name, str(arrest.id), str(arrest.person_id),
                  arrest.tracking_number, arrest.incident_number or "", arrest.docket_number or "",
                  arrest.ssn or "", arrest.sid or "", arrest.fbi_number or "", arrest.phone or "",
                  arrest.dob.isoformat(), arrest.dob.strftime("%m/%d/%Y")}  # fmt: skip
        found |= {alias.get("last", "") for alias in arrest.aliases if isinstance(alias, dict)}
    for person in session.scalars(select(Person)):
        found |= {person.ppn, person.sid or "", person.fbi_number or ""}
    found |= {str(user_id) for user_id in session.scalars(select(UserRow.id))}
    return {value for value in found if len(value) >= 3}


def test_the_public_page_shows_no_personal_data_at_desktop_and_phone_width(
    db: Engine,
    settings: Settings,
    clock: FrozenClock,
    session: Session,
    tmp_path: Path,
    open_browser: Callable[..., Browser],  # noqa: F811
) -> None:
    build_world(settings, db, arrests=60, keys_file=tmp_path / "keys.json", seed=11,
                console=Console(quiet=True), clock=clock)  # fmt: skip
    run_scan(settings, db, clock=clock)
    secrets = personal_data(session)
    assert len(secrets) > 200
    OUTPUT.mkdir(parents=True, exist_ok=True)

    for name, phone in (("desktop", False), ("phone", True)):
        browser = open_browser(phone=phone)
        browser.go("/transparency")
        page: Any = browser.page
        text: str = page.inner_text("body")
        assert "Arrest data shared with partner agencies" in text and "ICE" in text and "<11" in text
        leaked = sorted(s for s in secrets if re.search(rf"(?<![\w-]){re.escape(s)}(?![\w-])", text))
        assert leaked == [], leaked
        html: str = page.content()
        assert not [s for s in secrets if len(s) >= 8 and s in html]  # ids and numbers in the markup too
        assert page.locator("svg").count() == 2 and page.locator("script").count() == 0
        wider = page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
        assert wider is False, f"{name}: the page scrolls sideways"
        shot = browser.shot(f"public-{name}")
        (OUTPUT / shot.name).write_bytes(shot.read_bytes())
