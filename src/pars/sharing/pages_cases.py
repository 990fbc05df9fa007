"""The registered-case pages (CONTRACT §7, issue 12 item 2).

Partners register the cases they work (reference, title, opening day, and the subjects as far as
they know them), list their agency's cases with how many subjects and lookups each has, and close
one after a confirmation. Governance and oversight see every agency's cases, by agency and state,
each with its lookups: the partner queries made under its reference, read from the audit trail
(`pars.sharing.case_lookups`).

Subjects are typed once and leave only as keyed hashes (`pars.sharing.cases`): no page shows a
subject's name, only how many a case has; a refused form shows back what was typed, nothing more.
"Add a subject" is a submit button (the form comes back with one more row); `static/cases.js`
adds the row in place instead.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from pars.actions import Outcome
from pars.actors import Actor
from pars.api.deps import SessionDep, get_settings
from pars.audit import AuditAction
from pars.auth.service import list_agencies, user_names
from pars.clock import now
from pars.errors import BadRequest, Conflict, DomainError, Forbidden, Invalid, NotFound, Refusal
from pars.pagination import MAX_LIMIT
from pars.permissions import Permission
from pars.settings import Settings
from pars.sharing import case_lookups, cases
from pars.sharing.case_lookups import CaseState
from pars.sharing.schemas import CaseIn
from pars.web.guard import Csrf, CsrfToken, allowed, error_page
from pars.web.render import flash, page, trail_link
from pars.work import refuse

router = APIRouter(include_in_schema=False)

CaseOwner = Annotated[Actor, Depends(allowed(Permission.REGISTER_CASES))]
SettingsDep = Annotated[Settings, Depends(get_settings)]
PAGE_SIZE = 25
BLANK_ROWS = 3  # subject rows a new form offers
MAX_ROWS = 500  # as many as the service takes
Errors = dict[str, str]


def _city_reader(actor: Annotated[Actor, Depends(allowed(Permission.READ_CASES))]) -> Actor:
    """Every agency's cases are for governance and oversight; a partner has its own pages."""
    if actor.is_partner:
        raise Forbidden(
            "your roles do not allow this page",
            refusal=Refusal(
                AuditAction.AUTH_DENIED,
                None,
                {"permission": str(Permission.READ_CASES), "scope": "every agency", "channel": "web"},
            ),
        )
    return actor


CaseReader = Annotated[Actor, Depends(_city_reader)]


def _state(text: str) -> CaseState:
    try:
        return CaseState(text)
    except ValueError:
        return CaseState.ALL


def _next_page(path: str, values: dict[str, str], cursor: str | None) -> str | None:
    if cursor is None:
        return None
    return f"{path}?" + urlencode({**{k: v for k, v in values.items() if v}, "cursor": cursor})


# --- the partner's cases --------------------------------------------------------------------


@router.get("/partner/cases")
def partner_cases(
    request: Request, session: SessionDep, actor: CaseOwner, state: str = "all", cursor: str = ""
) -> HTMLResponse:
    """The agency's cases, newest first, open and closed, with subjects and lookups counted."""
    chosen = _state(state)
    found = case_lookups.listing(session, actor, state=chosen, agency=None, limit=PAGE_SIZE, cursor=cursor or None)
    context = {
        "cases": found.items,
        "lookups": case_lookups.lookup_counts(session, found.items),
        "values": {"state": str(chosen)},
        "states": list(CaseState),
        "next_page": _next_page("/partner/cases", {"state": str(chosen)}, found.next_cursor),
    }
    return page(request, "cases/partner_list.html", context)


@dataclass
class SubjectRow:
    last: str = ""
    first: str = ""
    dob: str = ""

    @property
    def blank(self) -> bool:
        return not (self.last.strip() or self.first.strip() or self.dob.strip())


def _rows(last: list[str], first: list[str], dob: list[str], *, minimum: int = 0) -> list[SubjectRow]:
    count = min(MAX_ROWS, max(len(last), len(first), len(dob)))
    rows = [SubjectRow(*(values[i] if i < len(values) else "" for values in (last, first, dob))) for i in range(count)]
    return rows + [SubjectRow() for _ in range(max(0, minimum - len(rows)))]


def _form(
    request: Request, values: dict[str, str], rows: list[SubjectRow], errors: Errors | None = None, *, status: int = 200
) -> HTMLResponse:
    errors = errors or {}
    context = {"values": values, "rows": rows, "errors": dict(sorted(errors.items(), key=lambda e: _order(e[0])))}
    return page(request, "cases/new.html", context, status=status)


def _order(key: str) -> tuple[int, int, int]:
    """Errors in page order: the form, the case's fields, then each subject row's."""
    fixed = {"form": 0, "reference": 1, "title": 2, "opened": 3}
    if key in fixed:
        return (fixed[key], 0, 0)
    _, row, part = key.split("-", 2)
    return (4, int(row), ("last", "first", "dob").index(part))


@router.get("/partner/cases/new")
def new_case(request: Request, session: SessionDep, settings: SettingsDep, actor: CaseOwner) -> HTMLResponse:
    today = now(session).astimezone(settings.zone).date()
    values = {"reference": "", "title": "", "opened": today.isoformat()}
    return _form(request, values, [SubjectRow() for _ in range(BLANK_ROWS)])


def _printable(text: str) -> bool:
    return text.isprintable()


def _case_input(
    values: dict[str, str], rows: list[SubjectRow], *, today: date, settings: Settings
) -> tuple[CaseIn | None, list[int], Errors]:
    """The service's input (blank rows dropped), which form row each subject came from, and
    every problem the page can see before asking the service."""
    errors: Errors = {}
    title = values["title"].strip()
    if not title:
        errors["title"] = "enter a title for the case"
    elif len(title) > 400 or not _printable(title):
        errors["title"] = "at most 400 characters, without control characters"
    opened_at: datetime | None = None
    if values["opened"].strip():
        try:
            opened = date.fromisoformat(values["opened"].strip())
        except ValueError:
            errors["opened"] = "enter a real date as YYYY-MM-DD"
        else:
            if opened > today:
                errors["opened"] = "a case cannot be opened after today"
            elif opened < cases.EARLIEST_DOB:
                errors["opened"] = "enter a date from 1900-01-01 to today"
            else:
                opened_at = datetime.combine(opened, time(0), tzinfo=settings.zone)
    subjects: list[dict[str, Any]] = []
    origin: list[int] = []
    for index, row in enumerate(rows):
        if row.blank:
            continue
        subject: dict[str, Any] = {"last_name": row.last.strip()}
        if not row.last.strip():
            errors[f"subject-{index}-last"] = "enter the last name, or clear the row"
        elif len(row.last.strip()) > 200 or not _printable(row.last.strip()):
            errors[f"subject-{index}-last"] = "at most 200 characters, without control characters"
        if row.first.strip():
            subject["first_name"] = row.first.strip()
            if len(row.first.strip()) > 200 or not _printable(row.first.strip()):
                errors[f"subject-{index}-first"] = "at most 200 characters, without control characters"
        if row.dob.strip():
            try:
                subject["dob"] = date.fromisoformat(row.dob.strip())
            except ValueError:
                errors[f"subject-{index}-dob"] = "enter a real date as YYYY-MM-DD"
        subjects.append(subject)
        origin.append(index)
    if errors:
        return None, origin, errors
    body = {"reference": values["reference"], "title": title, "opened_at": opened_at, "subjects": subjects}
    try:
        return CaseIn.model_validate(body), origin, {}
    except ValidationError as invalid:
        for error in invalid.errors():
            errors.setdefault(_field_of(".".join(str(p) for p in error["loc"]), origin), "this is not valid")
        return None, origin, errors


def _field_of(name: str, origin: list[int]) -> str:
    """The service's field name (`subjects[1].dob`, `subjects.1.dob`) as the form's (`subject-4-dob`)."""
    if not name.startswith("subjects"):
        return {"opened_at": "opened"}.get(name, name)
    parts = name.replace("[", ".").replace("]", "").split(".")
    if len(parts) >= 3 and parts[1].isdigit() and int(parts[1]) < len(origin):
        part = {"last_name": "last", "first_name": "first", "dob": "dob"}.get(parts[2], "last")
        return f"subject-{origin[int(parts[1])]}-{part}"
    return "form"


def _reference_problem(reference: str) -> str | None:
    try:
        cases.check_reference(reference)
    except (BadRequest, Invalid):
        return f"enter at most {cases.REFERENCE_MAX} printable characters, without control characters"
    return None


# The token only: the page checks every field itself and shows each problem beside its field
# (a reference with a control character is the service's 400, as on the API).
@router.post("/partner/cases/new", dependencies=[CsrfToken])
def register_case(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    actor: CaseOwner,
    action: Annotated[str, Form()] = "register",
    reference: Annotated[str, Form()] = "",
    title: Annotated[str, Form()] = "",
    opened: Annotated[str, Form()] = "",
    subject_last: Annotated[list[str], Form()] = [],  # noqa: B006 - FastAPI copies defaults
    subject_first: Annotated[list[str], Form()] = [],  # noqa: B006
    subject_dob: Annotated[list[str], Form()] = [],  # noqa: B006
) -> Response:
    values = {"reference": reference, "title": title, "opened": opened}
    rows = _rows(subject_last, subject_first, subject_dob)
    if action == "add":  # "Add a subject" without JavaScript: the same form, one more row
        rows = [*rows[: MAX_ROWS - 1], SubjectRow()]
        return _form(request, values, rows)
    today = now(session).astimezone(settings.zone).date()
    data, origin, errors = _case_input(values, rows, today=today, settings=settings)
    if data is None:
        if not reference.strip():
            errors["reference"] = "enter the case reference your queries will carry"
        elif (problem := _reference_problem(reference)) is not None:
            errors["reference"] = problem
        return _form(request, values, rows, errors, status=422)
    try:
        case = cases.register(session, actor, data, zone=settings.zone)
    except DomainError as error:
        refuse(session, error)
        return _form(request, values, rows, _service_errors(error, origin), status=error.status)
    response = RedirectResponse(f"/partner/cases/{case.id}", status_code=303)
    flash(response, f"Case {case.reference} registered with {case.subject_count} subject(s).")
    return response


def _service_errors(error: DomainError, origin: list[int]) -> Errors:
    """The service's refusal beside the field it concerns: the reference (400, 409), a subject (422)."""
    if isinstance(error, BadRequest):
        return {"reference": f"enter at most {cases.REFERENCE_MAX} printable characters, without control characters"}
    if isinstance(error, Conflict):
        return {"reference": "your agency has already registered a case with this reference"}
    if isinstance(error, Invalid):
        found: Errors = {}
        for item in error.errors:
            found.setdefault(_field_of(item.field, origin), item.message)
        return found
    return {"form": error.detail}


def _own_case(session: Session, actor: Actor, case_id: uuid.UUID) -> dict[str, Any]:
    case = cases.visible(session, actor, case_id)
    return {"case": case, "lookups": case_lookups.lookup_counts(session, [case])[case.id]}


@router.get("/partner/cases/{case_id}")
def partner_case(request: Request, session: SessionDep, actor: CaseOwner, case_id: uuid.UUID) -> HTMLResponse:
    """Another agency's case is a 404, as over the API."""
    return page(request, "cases/partner_case.html", _own_case(session, actor, case_id))


@router.get("/partner/cases/{case_id}/close")
def confirm_close(request: Request, session: SessionDep, actor: CaseOwner, case_id: uuid.UUID) -> HTMLResponse:
    """The confirmation: closing cannot be undone, and later queries under the reference name no
    open case."""
    return page(request, "cases/close.html", _own_case(session, actor, case_id))


@router.post("/partner/cases/{case_id}/close", dependencies=[Csrf])
def close_case(
    request: Request,
    session: SessionDep,
    actor: CaseOwner,
    case_id: uuid.UUID,
    confirm: Annotated[str, Form()] = "",
) -> Response:
    if confirm != "yes":
        return RedirectResponse(f"/partner/cases/{case_id}/close", status_code=303)
    try:
        case = cases.close(session, actor, case_id)
    except DomainError as error:
        refuse(session, error)
        if isinstance(error, NotFound):
            return error_page(request, error.status, error.title, error.detail)
        context = _own_case(session, actor, case_id) | {"problem": error.detail}
        return page(request, "cases/close.html", context, status=error.status)
    response = RedirectResponse(f"/partner/cases/{case.id}", status_code=303)
    flash(response, f"Case {case.reference} closed.")
    return response


# --- every agency's cases (governance, oversight) -------------------------------------------


@router.get("/cases")
def all_cases(
    request: Request, session: SessionDep, actor: CaseReader, agency: str = "", state: str = "all", cursor: str = ""
) -> HTMLResponse:
    chosen = _state(state)
    values = {"agency": agency.strip().upper(), "state": str(chosen)}
    found = case_lookups.listing(
        session, actor, state=chosen, agency=values["agency"] or None, limit=PAGE_SIZE, cursor=cursor or None
    )
    partners = [a for a in list_agencies(session, actor, limit=MAX_LIMIT, cursor=None).items if a.kind == "partner"]
    context = {
        "cases": found.items,
        "lookups": case_lookups.lookup_counts(session, found.items),
        "values": values,
        "states": list(CaseState),
        "partners": partners,
        "next_page": _next_page("/cases", values, found.next_cursor),
    }
    return page(request, "cases/list.html", context)


@router.get("/cases/{case_id}")
def case_detail(request: Request, session: SessionDep, actor: CaseReader, case_id: uuid.UUID) -> HTMLResponse:
    """The case and its lookups, newest first: who asked, what, what came back, explained or not."""
    case, found, total = case_lookups.case_with_lookups(session, actor, case_id)
    answered = [lookup for lookup in found if lookup.outcome == Outcome.OK]
    context = {
        "case": case,
        "lookups": found,
        "total": total,
        "answered": len(answered),
        "explained": sum(1 for lookup in answered if lookup.explained),
        "names": user_names(session, [lookup.user_id for lookup in found]),
        "trail": {lookup.seq: trail_link(lookup.seq) for lookup in found} if actor.may(Permission.READ_AUDIT) else {},
    }
    return page(request, "cases/case.html", context)
