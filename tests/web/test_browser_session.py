"""A shift on a shared terminal, in Debian's Chromium: Back after sign-out shows no record; two
minutes before the idle lock a warning offers to stay signed in; an arraignment form sent after
the lock comes back, through sign-in, on the docket with what the magistrate typed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from pars.permissions import Role
from tests.web.conftest import Browser, WebUser


def test_back_after_sign_out_shows_the_sign_in_page_not_the_record(
    open_browser: Callable[..., Browser], web_user: Callable[..., WebUser], walk: Callable[..., dict[str, Any]]
) -> None:
    record = walk("charges_approved", person={"name": {"last": "Castellano", "first": "Ines"}, "dob": "1988-02-14"})
    tab = open_browser()
    tab.sign_in(web_user(Role.BOOKING))
    tab.go(f"/arrests/{record['id']}")
    assert "Castellano" in tab.page.inner_text("main")
    tab.page.get_by_role("button", name="Sign out").click()
    tab.page.locator("text=You have signed out.").wait_for()
    tab.page.go_back()
    tab.page.wait_for_load_state()
    assert "/signin" in tab.page.url
    assert "Castellano" not in tab.page.content()
    assert "1988-02-14" not in tab.page.content()
    tab.shot("back-after-sign-out")


def test_a_warning_before_the_idle_lock_offers_to_stay_signed_in(
    open_browser: Callable[..., Browser], web_user: Callable[..., WebUser]
) -> None:
    tab = open_browser()
    tab.page.clock.install()
    tab.sign_in(web_user(Role.BOOKING))
    tab.go("/")
    warning = tab.page.get_by_role("alertdialog")
    assert warning.is_hidden()

    tab.clock.advance(timedelta(minutes=28))  # the server's clock and the page's move together
    tab.page.clock.fast_forward("28:00")
    warning.wait_for(state="visible")
    assert "Your session is about to lock" in warning.inner_text()
    assert "What you have typed on this page is kept" in warning.inner_text()
    tab.shot("idle-warning")
    warning.get_by_role("button", name="Stay signed in").click()
    warning.wait_for(state="hidden")

    tab.clock.advance(timedelta(minutes=29))  # 57 minutes after sign-in: "stay" kept it open
    tab.page.clock.fast_forward("29:00")
    warning.wait_for(state="visible")
    tab.clock.advance(timedelta(minutes=2))
    tab.page.clock.fast_forward("02:05")
    warning.get_by_role("heading", name="Your session has locked").wait_for()
    assert warning.get_by_role("button", name="Stay signed in").is_hidden()
    tab.go("/")
    assert "/signin" in tab.page.url
    assert "locked after 30 minutes without activity" in tab.page.inner_text("main")


def test_an_arraignment_sent_after_the_lock_comes_back_filled_in_after_sign_in(
    open_browser: Callable[..., Browser], web_user: Callable[..., WebUser], walk: Callable[..., dict[str, Any]]
) -> None:
    record = walk("charges_approved")
    tracking = record["tracking_number"]
    magistrate = web_user(Role.MAGISTRATE, agency="FJD")
    tab = open_browser()
    tab.sign_in(magistrate)
    tab.go(f"/docket/{record['id']}")  # the case's own page (issue 15)
    form = tab.page.locator("form#arraignment-form")
    form.get_by_label("Bail type").select_option("monetary")
    form.get_by_label("Bail amount ($)").fill("2500")
    form.get_by_label("Next hearing").fill("2026-03-24T09:00")
    form.get_by_label("Conditions").fill("No contact with the complainant")

    tab.clock.advance(timedelta(minutes=31))  # the magistrate was called away
    form.get_by_role("button", name="Record the arraignment").click()
    tab.page.wait_for_url("**/signin?**")
    assert "locked after 30 minutes without activity" in tab.page.inner_text("main")
    _sign_in_here(tab, magistrate)

    # The notice is the page's script at work: wait for it (deferred scripts run after parsing).
    tab.page.get_by_text("What you typed is back").wait_for()
    assert tab.page.url.endswith(f"/docket/{record['id']}")  # the page the form was on
    form = tab.page.locator("form#arraignment-form")
    assert form.get_by_label("Bail type").input_value() == "monetary"
    assert form.get_by_label("Bail amount ($)").input_value() == "2500"
    assert form.get_by_label("Next hearing").input_value() == "2026-03-24T09:00"
    assert form.get_by_label("Conditions").input_value() == "No contact with the complainant"
    tab.shot("arraignment-restored")
    form.get_by_role("button", name="Record the arraignment").click()
    tab.page.get_by_text(f"Arraigned {tracking} (monetary bail).").wait_for()  # the next page, not this one

    tab.go("/docket")  # the draft was used once: a later visit starts empty
    assert "What you typed is back" not in tab.page.inner_text("main")


def _sign_in_here(tab: Browser, who: WebUser) -> None:
    """Signs in on the sign-in page the browser was sent to (keeping where it leads back to)."""
    tab.page.get_by_label("User name or user id").fill(who.login)
    tab.page.get_by_label("Password").fill(who.password)
    tab.page.get_by_role("button", name="Next").click()
    tab.clock.advance(timedelta(seconds=30))  # each code is accepted once
    tab.page.get_by_label("Code").fill(who.code(tab.clock))
    tab.page.get_by_role("button", name="Sign in").click()
    tab.page.locator("text=Sign out").wait_for()
