"""Page tests. `web_user` makes a user who can sign in to the pages; `signed_in` is a TestClient
(HTTPS, so the Secure cookies travel) that has signed that user in with password and TOTP;
`live` serves the app on a real port for the browser tests in Debian's Chromium."""

from __future__ import annotations

import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pyotp
import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from pars.actors import SYSTEM
from pars.app import create_app
from pars.audit.chain import CheckpointPolicy
from pars.auth.signin import set_password
from pars.clock import FrozenClock
from pars.db import make_session_factory
from pars.permissions import Role
from pars.settings import Settings
from pars.work import unit_of_work
from tests.browser import ARGS, CHROMIUM, browser_or_skip
from tests.conftest import User, listening_socket

SCREENSHOTS = Path(__file__).resolve().parent.parent / ".screenshots"

PASSWORD = "correct horse battery"


@dataclass
class WebUser:
    user: User
    login: str
    password: str
    secret: str | None = None  # the TOTP key, once enrolled

    def code(self, clock: FrozenClock) -> str:
        assert self.secret is not None, "not enrolled yet"
        return pyotp.TOTP(self.secret).at(clock.now())


@pytest.fixture
def web_user(
    db: Engine, clock: FrozenClock, make_user: Callable[..., User], policy: CheckpointPolicy
) -> Callable[..., WebUser]:
    def make(*roles: Role | str, agency: str | None = None, login: str | None = None) -> WebUser:
        user = make_user(*roles, agency=agency)
        login = login or f"u{uuid.uuid4().hex[:8]}"
        with unit_of_work(make_session_factory(db), clock, policy=policy) as session:
            set_password(session, SYSTEM, uuid.UUID(user.id), PASSWORD, username=login)
        return WebUser(user, login, PASSWORD)

    return make


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


def secret_of(html: str) -> str:
    found = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', html)
    assert found, "the enrolment page shows no key"
    return found.group(1).replace(" ", "")


@pytest.fixture
def browser_client(db: Engine, settings: Settings, clock: FrozenClock) -> Iterator[Callable[[], TestClient]]:
    """New browsers (cookie jars) on one app."""
    app = create_app(settings, clock=clock, engine=db)
    clients: list[TestClient] = []

    def new() -> TestClient:
        client = TestClient(app, base_url="https://testserver", follow_redirects=False)
        client.__enter__()
        clients.append(client)
        return client

    yield new
    for client in clients:
        client.__exit__(None, None, None)


def sign_in(client: TestClient, who: WebUser, clock: FrozenClock) -> None:
    """Password, then the code (enrolling the authenticator the first time)."""
    form = client.get("/signin")
    reply = client.post("/signin", data={"login": who.login, "password": who.password, "csrf": csrf_of(form.text)})
    assert reply.status_code == 303, reply.text
    step = client.get(reply.headers["location"])
    if "/signin/enrol" in reply.headers["location"]:
        who.secret = secret_of(step.text)
    else:
        clock.advance(timedelta(seconds=30))  # each code is accepted once
    path = reply.headers["location"].split("?")[0]
    done = client.post(path, data={"code": who.code(clock), "csrf": csrf_of(step.text), "next": "/"})
    assert done.status_code == 303, done.text
    assert done.headers["location"] == "/"


@pytest.fixture
def signed_in(browser_client: Callable[[], TestClient], clock: FrozenClock) -> Callable[[WebUser], TestClient]:
    def make(who: WebUser) -> TestClient:
        client = browser_client()
        sign_in(client, who, clock)
        return client

    return make


# --- the browser --------------------------------------------------------------------------------


@pytest.fixture
def live(db: Engine, settings: Settings, clock: FrozenClock) -> Iterator[str]:
    """The app on a real port (uvicorn in a thread); yields its base URL."""
    browser_or_skip()
    sock = listening_socket()
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings, clock=clock, engine=db), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)
    sock.close()


@pytest.fixture
def chromium() -> Iterator[Any]:
    """A headless Debian Chromium; every request off 127.0.0.1 is refused (nothing external)."""
    browser_or_skip()
    from playwright.sync_api import sync_playwright  # noqa: PLC0415 - a test-only dependency

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@dataclass
class Browser:
    """One person's browser tab, with the screenshots it took."""

    page: Any
    base: str
    shots: Path
    clock: FrozenClock

    def go(self, path: str) -> None:
        self.page.goto(self.base + path)

    def shot(self, name: str) -> Path:
        path = self.shots / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        assert path.stat().st_size > 1000
        return path

    def sign_in(self, who: WebUser) -> None:
        self.go("/signin")
        self.page.get_by_label("User name or user id").fill(who.login)
        self.page.get_by_label("Password").fill(who.password)
        self.page.get_by_role("button", name="Next").click()
        if "/signin/enrol" in self.page.url:
            who.secret = self.page.locator("#totp-secret").inner_text().replace(" ", "")
            assert self.page.locator("figure.qr svg").count() == 1
            self.page.get_by_label("Code from the app").fill(who.code(self.clock))
            self.page.get_by_role("button", name="Enrol and sign in").click()
        else:
            self.clock.advance(timedelta(seconds=30))
            self.page.get_by_label("Code").fill(who.code(self.clock))
            self.page.get_by_role("button", name="Sign in").click()
        # The click starts a navigation; on a busy machine the next page may still be on its way.
        self.page.wait_for_load_state()
        signed_in = self.page.locator("text=Sign out")
        signed_in.wait_for(timeout=60_000)
        assert signed_in.count() == 1, self.page.content()


@pytest.fixture
def open_browser(
    live: str, chromium: Any, request: pytest.FixtureRequest, clock: FrozenClock
) -> Callable[..., Browser]:
    """`open_browser()` opens a new tab at 1280×800 (`phone=True`: 390×844) with its own cookies.
    Its screenshots are kept in `tests/.screenshots/<test>/` (not in git) for people to look at."""
    shots = SCREENSHOTS / re.sub(r"[^\w.-]+", "_", request.node.name)
    shots.mkdir(parents=True, exist_ok=True)

    def refuse_external(route: Any) -> None:
        if route.request.url.startswith(live):
            route.continue_()
        else:
            route.abort()

    def make(*, phone: bool = False) -> Browser:
        viewport = {"width": 390, "height": 844} if phone else {"width": 1280, "height": 800}
        context = chromium.new_context(viewport=viewport)
        # Playwright's 30 s default bounds a hang; two test runs on a busy machine can need more.
        context.set_default_timeout(60_000)
        page = context.new_page()
        page.route("**/*", refuse_external)
        return Browser(page, live, shots, clock)

    return make
