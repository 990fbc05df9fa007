"""Rendering pages: one Jinja2 environment, the navigation each role sees, local times."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from pars.actors import Actor
from pars.auth.signin import IDLE_LIMIT
from pars.pagination import encode_cursor
from pars.permissions import Permission
from pars.settings import Settings

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")

FLASH_COOKIE = "pars_flash"
# Double-submit CSRF token: a random value in a cookie that every form posts back (`guard`).
CSRF_COOKIE = "pars_csrf"


@dataclass(frozen=True)
class NavItem:
    label: str
    path: str
    permission: Permission


# What each role sees in the header, in this order: a user sees the items its roles allow.
NAV = (
    NavItem("Book an arrest", "/arrests/new", Permission.CREATE_ARREST),
    NavItem("Charging queue", "/charging", Permission.DECIDE_CHARGES),
    NavItem("Docket", "/docket", Permission.READ_DOCKET),
    NavItem("Custody", "/custody", Permission.RELEASE),
    NavItem("Records", "/arrests", Permission.READ_RECORDS),
    NavItem("Agreements", "/agreements", Permission.READ_AGREEMENTS),
    NavItem("Search", "/partner/search", Permission.READ_FEED),
    NavItem("Cases", "/partner/cases", Permission.REGISTER_CASES),
    NavItem("Cases", "/cases", Permission.READ_CASES),
    NavItem("Alerts", "/oversight/alerts", Permission.READ_ALERTS),
    NavItem("Reports", "/oversight/reports", Permission.READ_REPORTS),
    NavItem("Audit trail", "/oversight/audit", Permission.READ_AUDIT),
    NavItem("Disclosures", "/oversight/disclosures", Permission.READ_DISCLOSURES),
    NavItem("Complaints", "/oversight/complaints", Permission.READ_COMPLAINTS),
)


def nav_for(actor: Actor | None) -> list[NavItem]:
    if actor is None:
        return []
    items = [item for item in NAV if actor.may(item.permission)]
    if actor.is_partner:  # a partner's "records" are what its search returns; its cases its own
        items = [item for item in items if item.path not in ("/arrests", "/cases")]
    return items


# The statuses of a form shown again with what was wrong in it.
FORM_ERRORS = frozenset({400, 409, 422})


def page(request: Request, template: str, context: dict[str, Any] | None = None, *, status: int = 200) -> HTMLResponse:
    """Renders `template` with what every page needs: the user, the navigation, the CSRF token,
    a one-time notice from the previous step, and the settings (for the time zone)."""
    actor: Actor | None = getattr(request.state, "actor", None)
    token, new_token = csrf_token(request)
    settings: Settings = request.app.state.settings
    notice = request.cookies.get(FLASH_COOKIE)
    response = templates.TemplateResponse(
        request,
        template,
        {
            "actor": actor,
            "nav": nav_for(actor),
            "csrf": token,
            "notice": notice,
            "zone": settings.timezone,
            "idle_seconds": int(IDLE_LIMIT.total_seconds()),
            # A form shown again with its errors: the title says so first (screen readers read it).
            "error_title": status in FORM_ERRORS,
            **(context or {}),
        },
        status_code=status,
    )
    if new_token:
        response.set_cookie(CSRF_COOKIE, token, httponly=True, samesite="strict", secure=True, path="/")
    if notice is not None:
        response.delete_cookie(FLASH_COOKIE, path="/")
    return response


def csrf_token(request: Request) -> tuple[str, bool]:
    """The browser's CSRF token, and whether it is new (to be set as a cookie)."""
    token = request.cookies.get(CSRF_COOKIE)
    if token and len(token) == 43:
        return token, False
    return secrets.token_urlsafe(32), True


def flash(response: Any, text: str) -> None:
    """A one-line notice shown on the next page (after a redirect), e.g. "Arrest booked"."""
    response.set_cookie(FLASH_COOKIE, text[:300], max_age=60, httponly=True, samesite="lax", secure=True, path="/")


def _install_filters() -> None:
    env = templates.env

    def local(value: datetime | str | None, zone: str, style: str = "minutes") -> str:
        """An instant as the jurisdiction's clock shows it: `{{ at | local(zone) }}`."""
        if value is None:
            return "—"
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        shown = value.astimezone(ZoneInfo(zone))
        return shown.strftime("%Y-%m-%d" if style == "date" else "%Y-%m-%d %H:%M %Z")

    def day(value: date | str | None) -> str:
        if value is None:
            return "—"
        return value if isinstance(value, str) else value.isoformat()

    env.filters["local"] = local
    env.filters["day"] = day


_install_filters()


def trail_link(seq: int) -> str:
    """The trail page that starts at entry `seq` (newest first, so its cursor is seq + 1)."""
    return "/oversight/audit?" + urlencode({"cursor": encode_cursor([seq + 1])})
