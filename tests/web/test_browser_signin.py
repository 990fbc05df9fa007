"""Signing in in a real browser (Debian's Chromium): TOTP enrolment from the page, and the lock
after five wrong passwords. Screenshots go to the test's temporary folder."""

from __future__ import annotations

from collections.abc import Callable

from pars.permissions import Role
from tests.web.conftest import Browser, WebUser


def test_sign_in_with_totp_enrolment_then_with_a_code(
    open_browser: Callable[..., Browser], web_user: Callable[..., WebUser]
) -> None:
    who = web_user(Role.BOOKING)
    tab = open_browser()
    tab.go("/")
    assert "/signin" in tab.page.url  # the start page needs a sign-in
    tab.sign_in(who)  # enrols: reads the key shown beside the QR code
    assert tab.page.get_by_role("heading", name="Welcome, PPD booking").is_visible()
    assert "Your authenticator is enrolled" in tab.page.inner_text("main")
    assert tab.page.get_by_role("link", name="Book an arrest").count() >= 1
    tab.shot("signed-in")
    tab.page.get_by_role("button", name="Sign out").click()
    assert "You have signed out." in tab.page.inner_text("main")

    phone = open_browser(phone=True)
    phone.sign_in(who)  # now a code, no QR code
    assert phone.page.get_by_role("heading", name="Welcome, PPD booking").is_visible()
    width = phone.page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390  # nothing wider than the phone's screen
    phone.shot("signed-in-phone")


def test_five_wrong_passwords_lock_the_account(
    open_browser: Callable[..., Browser], web_user: Callable[..., WebUser]
) -> None:
    who = web_user(Role.CHARGING, agency="DAO")
    tab = open_browser()
    tab.go("/signin")
    for attempt in range(5):
        tab.page.get_by_label("User name or user id").fill(who.login)
        tab.page.get_by_label("Password").fill(f"wrong password {attempt}")
        tab.page.get_by_role("button", name="Next").click()
        assert "the user name or password is not right" in tab.page.inner_text("main")
    tab.page.get_by_label("User name or user id").fill(who.login)
    tab.page.get_by_label("Password").fill(who.password)
    tab.page.get_by_role("button", name="Next").click()
    text = tab.page.inner_text("main")
    assert "this account is locked after 5 failed sign-ins in a row" in text
    assert tab.page.locator("text=Sign out").count() == 0
    tab.shot("locked")
