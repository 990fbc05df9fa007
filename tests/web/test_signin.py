"""Signing in to the pages: password, then TOTP (enrolled with a QR code the first time), the
lock after 5 failures, CSRF on every form, the 30-minute idle lock, and cookies a script cannot
read."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pyotp
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from pars.actors import SYSTEM
from pars.audit.chain import CheckpointPolicy
from pars.auth.models import Credentials, WebSession
from pars.auth.signin import set_password
from pars.clock import FrozenClock
from pars.db import make_session_factory
from pars.permissions import Role
from pars.work import unit_of_work
from tests.conftest import audit_actions
from tests.web.conftest import PASSWORD, WebUser, csrf_of, secret_of, sign_in

NewBrowser = Callable[[], TestClient]


def _password(client: TestClient, who: WebUser, password: str | None = None, **extra: str) -> httpx.Response:
    form = client.get("/signin")
    data = {"login": who.login, "password": password or who.password, "csrf": csrf_of(form.text), **extra}
    reply: httpx.Response = client.post("/signin", data=data)
    return reply


def test_first_sign_in_enrols_an_authenticator_from_a_qr_code(
    browser_client: NewBrowser, web_user: Callable[..., WebUser], clock: FrozenClock, session: Session
) -> None:
    who = web_user(Role.BOOKING)
    client = browser_client()
    reply = client.post(
        "/signin", data={"login": who.login, "password": who.password, "csrf": csrf_of(client.get("/signin").text)}
    )
    assert reply.status_code == 303
    assert reply.headers["location"].startswith("/signin/enrol")
    enrol = client.get(reply.headers["location"])
    assert enrol.status_code == 200
    assert "<svg" in enrol.text and "QR code for your authenticator app" in enrol.text
    secret = secret_of(enrol.text)
    # The home page is not open yet: the password alone is half a sign-in.
    assert client.get("/").headers["location"].startswith("/signin")

    wrong = client.post("/signin/enrol", data={"code": "000000", "csrf": csrf_of(enrol.text), "next": "/"})
    assert wrong.status_code == 401
    assert "the code is not right" in wrong.text
    assert secret_of(wrong.text) == secret  # the same authenticator, not a new one

    right = client.post(
        "/signin/enrol", data={"code": pyotp.TOTP(secret).at(clock.now()), "csrf": csrf_of(enrol.text), "next": "/"}
    )
    assert right.status_code == 303 and right.headers["location"] == "/"
    home = client.get("/")
    assert home.status_code == 200
    assert "Welcome, PPD booking" in home.text
    assert 'href="/arrests/new"' in home.text  # the booking role's page
    assert 'href="/oversight/audit"' not in home.text
    assert "Your authenticator is enrolled" in home.text
    stored = session.scalars(select(Credentials).where(Credentials.username == who.login)).one()
    assert stored.totp_enrolled_at == clock.now()
    assert secret not in (stored.totp_sealed or "")  # sealed, not stored as is
    assert stored.password_hash and stored.password_hash.startswith("$argon2id$")
    assert PASSWORD not in stored.password_hash
    actions = audit_actions(session)
    assert ("auth.failed", "refused") in actions
    assert ("auth.totp_enrol", "ok") in actions and ("auth.sign_in", "ok") in actions


def test_later_sign_ins_ask_for_a_code_and_each_code_works_once(
    browser_client: NewBrowser, web_user: Callable[..., WebUser], clock: FrozenClock
) -> None:
    who = web_user(Role.MAGISTRATE, agency="FJD")
    sign_in(browser_client(), who, clock)
    second = browser_client()
    reply = _password(second, who)
    assert reply.headers["location"].startswith("/signin/code")
    page = second.get(reply.headers["location"])
    assert "<svg" not in page.text  # no new enrolment
    clock.advance(timedelta(seconds=30))
    code = who.code(clock)
    clock.advance(timedelta(seconds=30))
    # A code from the step before is still accepted (clock drift) ...
    ok = second.post("/signin/code", data={"code": code, "csrf": csrf_of(page.text), "next": "/docket"})
    assert ok.status_code == 303 and ok.headers["location"] == "/docket"
    # ... but only once.
    third = browser_client()
    page = third.get(_password(third, who).headers["location"])
    replay = third.post("/signin/code", data={"code": code, "csrf": csrf_of(page.text), "next": "/"})
    assert replay.status_code == 401
    assert "the code is not right" in replay.text
    assert third.get("/").status_code == 303


def test_five_wrong_passwords_lock_the_account_for_ten_minutes(
    browser_client: NewBrowser, web_user: Callable[..., WebUser], clock: FrozenClock, session: Session
) -> None:
    who = web_user(Role.CHARGING, agency="DAO")
    client = browser_client()
    for _ in range(4):
        reply = _password(client, who, "not the password at all")
        assert reply.status_code == 401
        assert "the user name or password is not right" in reply.text
        assert who.login in reply.text and "not the password" not in reply.text  # never echoed
    fifth = _password(client, who, "not the password at all")
    assert fifth.status_code == 401
    locked = _password(client, who)  # the right password, now refused
    assert locked.status_code == 401
    assert "locked after 5 failed sign-ins" in locked.text
    assert ("auth.locked", "ok") in audit_actions(session)
    clock.advance(timedelta(minutes=10, seconds=1))
    assert _password(client, who).status_code == 303


def test_an_unknown_user_reads_like_a_wrong_password(browser_client: NewBrowser) -> None:
    client = browser_client()
    reply = client.post(
        "/signin", data={"login": "nobody", "password": "whatever it is", "csrf": csrf_of(client.get("/signin").text)}
    )
    assert reply.status_code == 401
    assert "the user name or password is not right" in reply.text


def test_a_form_without_its_csrf_token_is_refused_and_changes_nothing(
    browser_client: NewBrowser, web_user: Callable[..., WebUser], session: Session
) -> None:
    who = web_user(Role.BOOKING)
    client = browser_client()
    client.get("/signin")  # the browser has its CSRF cookie, but the post does not carry it
    for data in (
        {"login": who.login, "password": who.password},
        {"login": who.login, "password": who.password, "csrf": "forged"},
    ):
        reply = client.post("/signin", data=data)
        assert reply.status_code == 403
        assert "security token is missing or out of date" in reply.text
    assert session.scalars(select(WebSession)).all() == []


def test_a_session_locks_after_thirty_minutes_idle(
    signed_in: Callable[[WebUser], TestClient], web_user: Callable[..., WebUser], clock: FrozenClock, session: Session
) -> None:
    client = signed_in(web_user(Role.OVERSIGHT, agency="CITY"))
    clock.advance(timedelta(minutes=29))
    assert client.get("/").status_code == 200  # activity restarts the idle clock
    clock.advance(timedelta(minutes=29))
    assert client.get("/").status_code == 200
    clock.advance(timedelta(minutes=31))
    reply = client.get("/?tab=open")
    assert reply.status_code == 303
    target = urlsplit(reply.headers["location"])
    assert target.path == "/signin"
    assert parse_qs(target.query) == {"next": ["/?tab=open"], "reason": ["idle"]}
    assert "locked after 30 minutes without activity" in client.get(reply.headers["location"]).text
    clock.advance(timedelta(seconds=1))
    assert client.get("/").status_code == 303  # still over: a new sign-in is needed
    assert any(a == ("auth.sign_out", "ok") for a in audit_actions(session))


def test_cookies_are_secure_http_only_and_same_site(
    browser_client: NewBrowser, web_user: Callable[..., WebUser], clock: FrozenClock
) -> None:
    who = web_user(Role.BOOKING)
    client = browser_client()
    first = client.get("/signin")
    assert _flags(first.headers.get_list("set-cookie"), "pars_csrf") >= {"httponly", "secure", "samesite=strict"}
    reply = _password(client, who)
    assert _flags(reply.headers.get_list("set-cookie"), "pars_session") >= {"httponly", "secure", "samesite=lax"}


def _flags(cookies: list[str], name: str) -> set[str]:
    for cookie in cookies:
        if cookie.startswith(f"{name}="):
            return {part.strip().lower() for part in cookie.split(";")[1:]}
    raise AssertionError(f"no {name} cookie set")


def test_sign_out_ends_the_session(
    signed_in: Callable[[WebUser], TestClient], web_user: Callable[..., WebUser]
) -> None:
    client = signed_in(web_user(Role.BOOKING))
    home = client.get("/")
    reply = client.post("/signout", data={"csrf": csrf_of(home.text)})
    assert reply.status_code == 303
    assert client.get("/").status_code == 303
    assert "You have signed out." in client.get("/signin").text


def test_after_sign_in_only_paths_on_this_site_are_followed(
    browser_client: NewBrowser, web_user: Callable[..., WebUser], clock: FrozenClock
) -> None:
    who = web_user(Role.BOOKING)
    client = browser_client()
    reply = _password(client, who, next="//evil.example/steal")
    assert reply.headers["location"] == "/signin/enrol?next=/"


def test_a_new_password_ends_open_sessions(
    signed_in: Callable[[WebUser], TestClient],
    web_user: Callable[..., WebUser],
    db: Engine,
    clock: FrozenClock,
    policy: CheckpointPolicy,
) -> None:
    who = web_user(Role.BOOKING)
    client = signed_in(who)
    with unit_of_work(make_session_factory(db), clock, policy=policy) as s:
        set_password(s, SYSTEM, uuid.UUID(who.user.id), "another long password")
    assert client.get("/").status_code == 303


def test_a_browser_gets_error_pages_and_the_api_keeps_problem_json(
    signed_in: Callable[[WebUser], TestClient], web_user: Callable[..., WebUser], client: TestClient
) -> None:
    browser = signed_in(web_user(Role.BOOKING))
    missing = browser.get("/no/such/page", headers={"accept": "text/html"})
    assert missing.status_code == 404 and "No such page" in missing.text
    assert "text/html" in missing.headers["content-type"]
    bad_id = browser.get("/arrests/not-an-id", headers={"accept": "text/html"})
    assert bad_id.status_code in (404, 422) and "<html" in bad_id.text
    api = client.get("/api/v1/no-such-thing", headers={"accept": "text/html"})
    assert api.status_code == 404
    assert api.headers["content-type"] == "application/problem+json"


def test_a_refused_form_is_shown_again_audited_and_changes_nothing_else(
    browser_client: NewBrowser, web_user: Callable[..., WebUser], session: Session
) -> None:
    """A page that shows its form again after a refusal does not commit: the request's unit of
    work rolls the act back and writes its refusal (`pars.work.refuse`)."""
    who = web_user(Role.BOOKING)
    client = browser_client()
    before = audit_actions(session)
    sessions = session.scalars(select(WebSession)).all()
    reply = _password(client, who, "not the password at all")
    assert isinstance(reply, Response)
    assert reply.status_code == 401 and "the user name or password is not right" in reply.text
    assert 'name="password"' in reply.text and who.login in reply.text  # the form again, the login kept
    assert "pars_session" not in reply.cookies
    assert audit_actions(session)[len(before) :] == [("auth.failed", "refused")]
    session.expire_all()
    assert session.scalars(select(WebSession)).all() == sessions
