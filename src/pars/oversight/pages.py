"""The oversight pages (issue 7 item 8): alerts and their review, the audit trail and its
verification, the accounting of disclosures for a person; the reports are in
`pages_reports`, mounted on the same router.

Oversight reads and never changes anything but an alert's review. Every page calls the service
behind the matching API route (`pars.oversight.alerts`, `pars.audit.trail`,
`pars.audit.disclosures`), so each read is on the trail as the API's is.
"""

from __future__ import annotations

import re
import uuid
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from pars.actions import AuditAction, Outcome
from pars.actors import Actor, CityActor
from pars.api.deps import SessionDep, get_settings
from pars.audit import disclosures, trail
from pars.audit.models import AuditEntry, Disclosure
from pars.auth.models import Agency, User
from pars.auth.service import user_names
from pars.errors import DomainError, FieldError, Invalid, NotFound
from pars.oversight import alerts, pages_reports, words
from pars.oversight.models import Alert
from pars.oversight.rules import RULE_NAMES
from pars.oversight.schemas import ReviewIn
from pars.pagination import Page
from pars.permissions import Permission
from pars.records import search
from pars.records.models import Arrest
from pars.records.numbers import display_tracking_number
from pars.records.search import SearchQuery
from pars.settings import Settings
from pars.sharing import words as sharing_words
from pars.sharing.models import Agreement
from pars.web.guard import Csrf, allowed, allowed_city, error_page, safe_next
from pars.web.render import flash, page, templates, trail_link
from pars.work import refuse

router = APIRouter(include_in_schema=False)
router.include_router(pages_reports.router)
words.install(templates.env)

SettingsDep = Annotated[Settings, Depends(get_settings)]
AlertReader = Annotated[Actor, Depends(allowed(Permission.READ_ALERTS))]
Reviewer = Annotated[Actor, Depends(allowed(Permission.REVIEW_ALERTS))]
TrailReader = Annotated[Actor, Depends(allowed(Permission.READ_AUDIT))]
Verifier = Annotated[Actor, Depends(allowed(Permission.VERIFY_AUDIT))]
DisclosureReader = Annotated[CityActor, Depends(allowed_city(Permission.READ_DISCLOSURES))]
From = Annotated[str, Query(alias="from")]
To = Annotated[str, Query(alias="to")]

PAGE_SIZE = 25
TRAIL_PAGE_SIZE = 50
EVIDENCE_SHOWN = 20
OUTCOMES = ("noted", "confirmed", "dismissed")
STATUSES = {"open": False, "reviewed": True, "all": None}


def _errors(error: DomainError) -> dict[str, str]:
    if isinstance(error, Invalid):
        return {e.field: e.message for e in error.errors}
    return {"form": error.detail}


# --- alerts ---------------------------------------------------------------------------------


def _alert_view(alert: Alert) -> dict[str, Any]:
    shown = alerts.describe(alert)
    return shown | {
        "evidence_links": [(seq, trail_link(seq)) for seq in alert.evidence[:EVIDENCE_SHOWN]],
        "evidence_more": max(0, len(alert.evidence) - EVIDENCE_SHOWN),
        "measurements": {k: v for k, v in (alert.details or {}).items() if not isinstance(v, (dict, list))},
        "rule_words": words.rule(alert.rule),
    }


@router.get("/oversight/alerts")
def alert_list(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    actor: AlertReader,
    rule: str = "",
    agency: str = "",
    status: str = "open",
    cursor: str = "",
) -> HTMLResponse:
    """Open alerts by default (the ones to review); with "all", the open ones of each page first."""
    status = status if status in STATUSES else "open"
    values = {"rule": rule, "agency": agency.strip().upper(), "status": status}
    filters = alerts.AlertFilter(agency=values["agency"] or None, rule=rule or None, reviewed=STATUSES[status])
    context: dict[str, Any] = {
        "values": values, "rules": RULE_NAMES, "statuses": STATUSES, "outcomes": OUTCOMES, "errors": {},
    }  # fmt: skip
    try:
        found = alerts.list_alerts(session, actor, filters, zone=settings.zone, limit=PAGE_SIZE, cursor=cursor or None)
    except DomainError as error:
        refuse(session, error)
        return page(request, "oversight/alerts.html", context | {"errors": _errors(error)}, status=error.status)
    items = sorted(found.items, key=lambda a: a.reviewed_at is not None)
    more = None
    if found.next_cursor:
        more = "/oversight/alerts?" + urlencode({**values, "cursor": found.next_cursor})
    context |= {
        "alerts": [_alert_view(a) for a in items],
        "names": user_names(session, [a.user_id for a in items] + [a.reviewed_by for a in items]),
        "next_page": more,
        "back": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
    }
    return page(request, "oversight/alerts.html", context)


def _alert_page(
    request: Request,
    session: Session,
    actor: Actor,
    alert_id: uuid.UUID,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    alert = alerts.get_alert(session, actor, alert_id)
    context = {
        "alert": _alert_view(alert),
        "names": user_names(session, [alert.user_id, alert.reviewed_by]),
        "outcomes": OUTCOMES,
        "errors": errors or {},
        "values": values or {},
        "back": f"/oversight/alerts/{alert_id}",
    }
    return page(request, "oversight/alert.html", context, status=status)


@router.get("/oversight/alerts/{alert_id}")
def alert_detail(request: Request, session: SessionDep, actor: AlertReader, alert_id: uuid.UUID) -> HTMLResponse:
    return _alert_page(request, session, actor, alert_id)


@router.post("/oversight/alerts/{alert_id}/review", dependencies=[Csrf])
def review(
    request: Request,
    session: SessionDep,
    actor: Reviewer,
    alert_id: uuid.UUID,
    note: Annotated[str, Form()] = "",
    outcome: Annotated[str, Form()] = "noted",
    back: Annotated[str, Form()] = "",
) -> Response:
    """Marking an alert reviewed: the one change oversight may make, once per alert."""
    values = {"note": note, "outcome": outcome}
    try:
        body = ReviewIn.model_validate({"note": note.strip(), "outcome": outcome})
    except ValidationError as invalid:
        errors = {str(e["loc"][0]): _message(str(e["loc"][0]), e["msg"]) for e in invalid.errors()}
        if outcome not in OUTCOMES:
            errors["outcome"] = _message("outcome", "")
        return _alert_page(request, session, actor, alert_id, errors=errors, values=values, status=422)
    try:
        alerts.review_alert(session, actor, alert_id, note=body.note, outcome=body.outcome)
    except DomainError as error:
        refuse(session, error)
        if isinstance(error, NotFound):
            return error_page(request, error.status, error.title, error.detail)
        return _alert_page(
            request, session, actor, alert_id, errors={"form": error.detail}, values=values, status=error.status
        )
    response = RedirectResponse(safe_next(back or f"/oversight/alerts/{alert_id}"), status_code=303)
    flash(response, f"Alert marked reviewed ({body.outcome}).")  # the finding's word, as the form offers it
    return response


def _message(field: str, message: str) -> str:
    if field == "note":
        return "Write a note (up to 4000 characters): what you found, and why"
    if field == "outcome":
        return "Choose a finding: noted, confirmed or dismissed"
    return message


# --- the audit trail ------------------------------------------------------------------------


_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def _ids_in(value: Any) -> set[str]:
    if isinstance(value, str):
        return {value} if _UUID.match(value) else set()
    if isinstance(value, dict):
        return set().union(*(_ids_in(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(_ids_in(v) for v in value)) if value else set()
    return set()


def _targets(session: Session, entries: list[AuditEntry]) -> dict[str, str]:
    """What the ids on these entries name, in words: a record's tracking number, an agreement's
    agency, a user's name, an alert's rule. Ids nothing here names are shown as "—"."""
    found: set[str] = set()
    for entry in entries:
        found |= _ids_in(entry.target or "") | _ids_in(entry.details or {})
    ids = [uuid.UUID(i) for i in found]
    if not ids:
        return {}
    named: dict[str, str] = {}
    for ident, number in session.execute(select(Arrest.id, Arrest.tracking_number).where(Arrest.id.in_(ids))):
        named[str(ident)] = f"record {display_tracking_number(number)}"
    rows = session.execute(select(Agreement.id, Agency.code).join(Agency).where(Agreement.id.in_(ids)))
    for ident, code in rows:
        named[str(ident)] = f"agreement with {code}"
    for ident, name in user_names(session, ids).items():
        named[str(ident)] = name
    for ident, rule, agency in session.execute(select(Alert.id, Alert.rule, Alert.agency).where(Alert.id.in_(ids))):
        named[str(ident)] = f"alert: {words.rule(rule)} by {agency}"
    return named


def _entry_row(entry: AuditEntry, settings: Settings, named: dict[str, str]) -> dict[str, Any]:
    def say(value: Any) -> Any:
        if isinstance(value, str) and _UUID.match(value):
            return named.get(value, "—")
        if isinstance(value, dict):
            return {k: say(v) for k, v in value.items()}
        if isinstance(value, list):
            return [say(v) for v in value]
        return value

    target = entry.target or ""
    return {
        "seq": entry.seq,
        "at": entry.at.astimezone(settings.zone).strftime("%Y-%m-%d %H:%M:%S %Z"),
        "actor": entry.actor_id,
        "agency": entry.agency,
        "action": entry.action,
        "outcome": entry.outcome,
        "target": named.get(target, "—") if _UUID.match(target) else target,
        "details": words.details(say(entry.details or {})),
        "hash": entry.hash,
    }


def _trail_filters(
    action: str, agency: str, user: str, outcome: str, start: str, end: str
) -> tuple[dict[str, Any], list[FieldError]]:
    errors = []
    actor_id = None
    if user.strip():
        try:
            actor_id = uuid.UUID(user.strip())
        except ValueError:
            errors.append(FieldError("user", "choose a user from the list"))
    chosen = None
    if outcome:
        try:
            chosen = Outcome(outcome)
        except ValueError:
            errors.append(FieldError("outcome", "choose done, refused or failed"))
    filters = {
        "actor_id": actor_id, "agency": agency.strip().upper() or None, "action": action.strip() or None,
        "outcome": chosen, "start": start or None, "end": end or None,
    }  # fmt: skip
    return filters, errors


@router.get("/oversight/audit")
def audit_trail(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    actor: TrailReader,
    action: str = "",
    agency: str = "",
    user: str = "",
    outcome: str = "",
    start: From = "",
    end: To = "",
    cursor: str = "",
) -> HTMLResponse:
    """Newest entry first, in pages of 50; dates are city days, both included."""
    values = {"action": action, "agency": agency, "user": user, "outcome": outcome, "from": start, "to": end}
    context: dict[str, Any] = {
        "values": values, "actions": _actions(), "outcomes": [str(o) for o in Outcome],
        "errors": {}, "users": _users(session),
    }  # fmt: skip
    filters, wrong = _trail_filters(action, agency, user, outcome, start, end)
    try:
        if wrong:
            raise Invalid(wrong)
        found = trail.read_trail(
            session, actor, **filters, zone=settings.zone, limit=TRAIL_PAGE_SIZE, cursor=cursor or None
        )
    except DomainError as error:
        refuse(session, error)
        return page(request, "oversight/audit.html", context | {"errors": _errors(error)}, status=error.status)
    more = None
    if found.next_cursor:
        more = "/oversight/audit?" + urlencode({**{k: v for k, v in values.items() if v}, "cursor": found.next_cursor})
    named = _targets(session, found.items)
    context |= {
        "entries": [_entry_row(e, settings, named) for e in found.items],
        "names": user_names(session, [e.actor_id for e in found.items]),
        "next_page": more,
        "paged": bool(cursor),
    }
    return page(request, "oversight/audit.html", context)


def _actions() -> list[dict[str, str]]:
    """The trail's actions as the filter offers them, grouped by area (kept in the enum's order)."""
    shown = []
    for action in AuditAction:
        area = str(action).partition(".")[0]
        shown.append({"area": area, "area_words": words.AREAS.get(area, area), "code": str(action),
                      "words": words.ACTIONS.get(str(action), str(action))})  # fmt: skip
    return shown


def _users(session: Session) -> list[tuple[str, str]]:
    """Every user, as the trail's filter offers them: (id, "Name (AGENCY)"), by agency and name."""
    rows = session.execute(select(User.id, User.name, Agency.code).join(Agency).order_by(Agency.code, User.name))
    return [(str(ident), f"{name} ({code})") for ident, name, code in rows]


@router.post("/oversight/audit/verify", dependencies=[Csrf])
def verify_now(request: Request, session: SessionDep, actor: Verifier) -> HTMLResponse:
    """Recomputes the whole chain and every checkpoint signature under the key this process
    trusts, as `GET /api/v1/audit/verify` does, and shows the latest signed checkpoint."""
    try:
        checkpoint = trail.latest_checkpoint(session, actor)
    except NotFound as none_yet:
        refuse(session, none_yet)
        checkpoint = None
    public_key: str = request.app.state.audit_signer.public_key
    result = trail.verify(session, actor, public_key=public_key)
    bad = result.first_bad_seq
    context = {"result": result, "checkpoint": checkpoint, "problems": result.problems[:10],
               "bad_link": None if bad is None else trail_link(bad)}  # fmt: skip
    return page(request, "oversight/verified.html", context)


# --- disclosures ----------------------------------------------------------------------------


PERSON_FIELDS = ("last_name", "first_name", "dob", "tracking_number", "sid")


@router.get("/oversight/disclosures")
def disclosure_form(
    request: Request, session: SessionDep, actor: DisclosureReader, person: str = "", cursor: str = ""
) -> HTMLResponse:
    """The search form; with `person` (an id from a result), the older disclosures of that person."""
    if not person:
        return page(request, "oversight/disclosures.html", {"values": {}, "errors": {}})
    try:
        person_id = uuid.UUID(person)
    except ValueError:
        return error_page(request, 404, "Not found", "no such person")
    found = disclosures.list_disclosures(
        session, actor, arrest_id=None, person_id=person_id, limit=100, cursor=cursor or None
    )
    people = [_person_view(session, person_id, [], found)]
    return page(request, "oversight/disclosures.html", {"values": {}, "errors": {}, "people": people, "paged": True})


@router.post("/oversight/disclosures", dependencies=[Csrf])
def disclosure_search(
    request: Request,
    session: SessionDep,
    actor: DisclosureReader,
    last_name: Annotated[str, Form()] = "",
    first_name: Annotated[str, Form()] = "",
    dob: Annotated[str, Form()] = "",
    tracking_number: Annotated[str, Form()] = "",
    sid: Annotated[str, Form()] = "",
) -> HTMLResponse:
    """Who received a person's records: the person is found by name and birth date, tracking
    number or SID (a records search, audited), then each of their records' disclosures is read
    from the accounting (audited too)."""
    values = {"last_name": last_name, "first_name": first_name, "dob": dob, "tracking_number": tracking_number,
              "sid": sid}  # fmt: skip
    filters = {k: v.strip() for k, v in values.items() if v.strip()}
    try:
        if not ({"last_name", "dob"} <= filters.keys() or {"tracking_number", "sid"} & filters.keys()):
            raise Invalid.one("form", "Give a last name with a date of birth, or a tracking number, or a SID.")
        arrests = search.search_arrests(session, actor, SearchQuery(filters=filters, limit=100)).items
    except DomainError as error:
        refuse(session, error)
        context = {"values": values, "errors": _errors(error)}
        return page(request, "oversight/disclosures.html", context, status=error.status)
    people: list[dict[str, Any]] = []
    for person_id in dict.fromkeys(a.person_id for a in arrests):
        theirs = search.search_arrests(
            session, actor, SearchQuery(filters={"ppn": _ppn(arrests, person_id)}, limit=100)
        ).items
        found = disclosures.list_disclosures(
            session, actor, arrest_id=None, person_id=person_id, limit=100, cursor=None
        )
        people.append(_person_view(session, person_id, theirs, found))
    shown: dict[str, Any] = {"values": values, "errors": {}, "people": people, "searched": True}
    return page(request, "oversight/disclosures.html", shown)


def _ppn(arrests: list[Arrest], person_id: uuid.UUID) -> str:
    return next(a.person.ppn for a in arrests if a.person_id == person_id)


def _name_of(arrest: Arrest) -> str:
    parts = {"first": arrest.first_name, "middle": arrest.middle_name, "last": arrest.last_name}
    return sharing_words.name(parts | {"suffix": arrest.suffix})


def _person_view(
    session: Session, person_id: uuid.UUID, arrests: list[Arrest], found: Page[Disclosure]
) -> dict[str, Any]:
    tracking = {a.id: display_tracking_number(a.tracking_number) for a in arrests}
    latest = arrests[0] if arrests else None
    return {
        "id": person_id,
        "name": None if latest is None else _name_of(latest),
        "dob": None if latest is None else latest.dob,
        "ppn": None if latest is None else latest.person.ppn,
        "arrests": [(a.id, tracking[a.id], a.arrested_at) for a in arrests],
        "rows": found.items,
        "tracking": tracking,
        "names": user_names(session, [d.user_id for d in found.items]),
        "older": None if not found.next_cursor else "/oversight/disclosures?"
        + urlencode({"person": str(person_id), "cursor": found.next_cursor}),
    }  # fmt: skip
