"""The page shell every page shares: an address that only receives forms, or none at all, is a
page with the user's navigation (not a bare "Method Not Allowed"); a form shown again with errors
says "Error:" first in its title and moves focus to its error summary."""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi.testclient import TestClient

from pars.permissions import Role
from tests.web.conftest import Browser, WebUser

SignedIn = Callable[[WebUser], TestClient]
HTML = {"accept": "text/html"}


def _title(html: str) -> str:
    found = re.search(r"<title>(.*?)</title>", html, re.S)
    assert found, html[:300]
    return found.group(1)


def test_a_form_address_opened_as_a_page_keeps_the_navigation(
    signed_in: SignedIn, web_user: Callable[..., WebUser]
) -> None:
    officer = signed_in(web_user(Role.BOOKING, agency="PPD"))
    page = officer.get("/arrests/00000000-0000-0000-0000-000000000000/release", headers=HTML)
    assert page.status_code == 405
    assert "There is no page at this address" in page.text
    assert "This address only receives forms" in page.text
    assert 'href="/arrests/new"' in page.text and "Sign out" in page.text  # the navigation is there
    missing = officer.get("/no/such/page", headers=HTML)
    assert missing.status_code == 404 and "No such page" in missing.text and 'href="/arrests/new"' in missing.text


def test_an_error_page_without_a_session_has_no_navigation(browser_client: Callable[[], TestClient]) -> None:
    anonymous = browser_client()
    page = anonymous.get("/no/such/page", headers=HTML)
    assert page.status_code == 404 and "No such page" in page.text and "Sign out" not in page.text


def test_a_form_with_errors_says_so_in_its_title_and_focuses_its_summary(
    open_browser: Callable[..., Browser], web_user: Callable[..., WebUser]
) -> None:
    tab = open_browser()
    tab.sign_in(web_user(Role.BOOKING, agency="PPD"))
    tab.go("/arrests/new")
    assert not tab.page.title().startswith("Error:")
    tab.page.get_by_role("button", name=re.compile("^Book")).click()
    tab.page.wait_for_load_state()
    assert tab.page.title().startswith("Error: "), tab.page.title()
    focused = tab.page.evaluate("document.activeElement.textContent")
    assert "There is a problem" in focused, focused


def test_the_navigation_marks_one_item_the_longest_that_holds_the_page(
    signed_in: SignedIn, web_user: Callable[..., WebUser]
) -> None:
    officer = signed_in(web_user(Role.BOOKING, agency="PPD"))
    for path, current in (("/arrests/new", "Book an arrest"), ("/arrests", "Records"), ("/custody", "Custody")):
        marked = re.findall(r'<a href="[^"]+" aria-current="page">([^<]+)</a>', officer.get(path).text)
        assert marked == [current], (path, marked)
