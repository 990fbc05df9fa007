"""The city's daily work pages (issue 7): booking an arrest, with statute search over the offense
catalog. The other records pages live beside this module and are mounted on its `router`:
`pages_work` (charging queue, docket, workflow steps), `pages_read` (search, record page).

Booking works without JavaScript: "Look up" re-renders the form with the statutes matching a
row's text and "Use" picks one; `static/records.js` does the same as you type, from the small
JSON route `/catalog/statutes`.

Sex, race and ethnicity are chosen from the code lists (`records.codes`): the page shows words
and sends the NCIC/UCR code; the API still stores whatever a client sends (CONTRACT §4).

A booking is sent once (issue 15 item 5): the form carries a one-time token
(`records.form_tokens`), so a second POST of the same form books nothing and leads to the first
arrest; and a DC number already on another arrest is booked again only once the officer has
confirmed it. Enter in a text field does not book: the form's first (default) button is a
"keep typing" one that only shows the form again, and `static/booking.js` stops Enter there
altogether.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from pars.actors import CityActor
from pars.api.deps import SessionDep, get_settings
from pars.catalog import get_catalog
from pars.errors import Conflict, DomainError, Invalid
from pars.permissions import Permission
from pars.records import form_tokens, history, intake, pages_read, pages_work, search
from pars.records.codes import PERSON_CODES
from pars.records.models import Arrest
from pars.records.numbers import display_tracking_number
from pars.records.pages_forms import (
    ChargeRow,
    Errors,
    aliases_payload,
    charge_rows,
    charges_payload,
    field_errors,
    local_instant,
    offense_for,
    optional,
    validation_errors,
)
from pars.records.schemas import ArrestIn, ChargeIn
from pars.settings import Settings
from pars.web.guard import CsrfToken, WebActor, allowed_city
from pars.web.render import flash, page
from pars.work import refuse

router = APIRouter(include_in_schema=False)

Booker = Annotated[CityActor, Depends(allowed_city(Permission.CREATE_ARREST))]
SettingsDep = Annotated[Settings, Depends(get_settings)]

# How many statutes a search shows: enough to choose from, small enough to read.
SEARCH_RESULTS = 12

PERSON_FIELDS = (
    "last_name", "first_name", "middle_name", "suffix", "dob", "sex", "race", "ethnicity", "place_of_birth",
    "citizenship", "street", "city", "state", "zip", "phone", "ssn", "sid", "fbi_number", "aliases",
)  # fmt: skip
ARREST_FIELDS = ("arrested_at", "location", "district", "incident_number", "arresting_agency", "arresting_officer")
TEXT_FIELDS = (*PERSON_FIELDS, *ARREST_FIELDS, "narrative")


@router.get("/catalog/statutes")
def statutes(actor: WebActor, q: str = "") -> JSONResponse:
    """Search-as-you-type for the booking form: statutes by number or words, with their grades."""
    found = get_catalog().search(q[:100], limit=SEARCH_RESULTS)
    items = [
        {"statute": o.statute.display, "description": o.description, "grades": list(o.usual_grades),
         "rare": [g for g in o.usual_grades if o.rare_grade(g)]}
        for o in found
    ]  # fmt: skip
    return JSONResponse({"items": items})


# The form's own fields besides the record's: the one-time token and the confirmed DC number.
FORM_FIELDS = ("form_token", "confirm_incident")


@router.get("/arrests/new")
def booking_form(request: Request, actor: Booker) -> HTMLResponse:
    values = dict.fromkeys((*TEXT_FIELDS, *FORM_FIELDS), "")
    values["arresting_agency"] = actor.agency_code or ""
    values["form_token"] = form_tokens.new_token()
    return _form(request, values, charge_rows([], [], [], minimum=2))


@dataclass(frozen=True)
class Repeated:
    """Another arrest with the DC number being booked: the officer confirms before booking again."""

    incident_number: str
    tracking_number: str
    arrest_id: str
    booked_at: datetime | None
    booked_by: str | None


def _form(
    request: Request,
    values: dict[str, str],
    rows: list[ChargeRow],
    errors: Errors | None = None,
    *,
    status: int = 200,
    repeated: Repeated | None = None,
) -> HTMLResponse:
    if not form_tokens.well_formed(values.get("form_token", "")):
        values["form_token"] = form_tokens.new_token()
    context = {
        "values": values, "rows": rows, "errors": errors or {}, "repeated": repeated,
        "codes": {name: codes.choices() for name, codes in PERSON_CODES.items()},
    }  # fmt: skip
    return page(request, "records/new.html", context, status=status)


async def booking_values(request: Request) -> dict[str, str]:
    """The form's plain text fields, by name (there are too many for one parameter each)."""
    form = await request.form()
    return {name: str(form.get(name) or "") for name in (*TEXT_FIELDS, *FORM_FIELDS)}


@router.post("/arrests/new", dependencies=[CsrfToken])  # ArrestIn checks every text: errors in the form
def book(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    actor: Booker,
    values: Annotated[dict[str, str], Depends(booking_values)],
    action: Annotated[str, Form()] = "book",
    charge_statute: Annotated[list[str], Form()] = [],  # noqa: B006 - FastAPI copies defaults
    charge_grade: Annotated[list[str], Form()] = [],  # noqa: B006
    charge_counts: Annotated[list[str], Form()] = [],  # noqa: B006
) -> Response:
    rows = charge_rows(charge_statute, charge_grade, charge_counts)
    token = values["form_token"] if form_tokens.well_formed(values["form_token"]) else None
    if action != "book":
        return _form(request, values, _adjust_rows(rows, action))
    if token is not None and actor.user_id is not None:
        first = form_tokens.spent_on(session, actor.user_id, token)
        if first is not None:
            return _already_booked(session, first)
    return _book(request, session, settings, actor, values, rows, token)


def _book(
    request: Request,
    session: Session,
    settings: Settings,
    actor: CityActor,
    values: dict[str, str],
    rows: list[ChargeRow],
    token: str | None,
) -> Response:
    payload, origin, errors = charges_payload(rows)
    body = _arrest_payload(values, payload, settings)
    try:
        arrest_in = ArrestIn.model_validate(body)
    except ValidationError as error:
        errors = {**_catalog_errors(payload, origin), **errors, **validation_errors(error, origin)}
    if errors:
        return _form(request, values, rows, errors, status=422)
    repeated = _repeated_incident(session, actor, values)
    if repeated is not None:
        return _form(request, values, rows, status=409, repeated=repeated)
    try:
        arrest = intake.book_arrest(session, actor, arrest_in)
    except Invalid as error:
        refuse(session, error)
        return _form(request, values, rows, field_errors(error.errors, origin), status=error.status)
    except DomainError as error:
        refuse(session, error)
        return _form(request, values, rows, {"form": error.detail}, status=error.status)
    if token is not None and actor.user_id is not None:
        first = form_tokens.spend(session, actor.user_id, token, arrest.id)
        if first is not None:  # a copy of this form booked while this one did: keep that one
            refuse(session, Conflict("this booking form was already sent and booked"))
            return _already_booked(session, first)
    response = RedirectResponse(f"/arrests/{arrest.id}", status_code=303)
    tracking = display_tracking_number(arrest.tracking_number)
    flash(response, f"Arrest booked. Tracking number (OTN) {tracking}, PPN {arrest.person.ppn}.")
    return response


def _already_booked(session: Session, arrest_id: uuid.UUID) -> Response:
    tracking = session.scalar(select(Arrest.tracking_number).where(Arrest.id == arrest_id))
    response = RedirectResponse(f"/arrests/{arrest_id}", status_code=303)
    shown = display_tracking_number(tracking) if tracking else "an earlier arrest"
    flash(response, f"This booking was already saved as {shown}. Nothing was booked again.")
    return response


def _repeated_incident(session: Session, actor: CityActor, values: dict[str, str]) -> Repeated | None:
    """The newest other arrest with this DC number, unless the officer confirmed this very number."""
    number = values["incident_number"].strip()
    if not number or values["confirm_incident"].strip() == number:
        return None
    found = search.search_arrests(session, actor, search.SearchQuery({"incident_number": number}, limit=1)).items
    if not found:
        return None
    other = found[0]
    booking = next(iter(history.record_history(session, other.id)), None)
    return Repeated(
        incident_number=number,
        tracking_number=display_tracking_number(other.tracking_number),
        arrest_id=str(other.id),
        booked_at=booking.at if booking else other.created_at,
        booked_by=booking.user if booking else None,
    )


def _adjust_rows(rows: list[ChargeRow], action: str) -> list[ChargeRow]:
    """The form's helper buttons: `add` a row, `lookup-N` the statutes matching row N, and
    `use-N:<statute>` to take one of them; `enter` (Enter in a text field) changes nothing."""
    verb, _, rest = action.partition("-")
    if verb == "add":
        rows.append(ChargeRow())
        return rows
    index_text, _, statute = rest.partition(":")
    if not index_text.isdigit() or int(index_text) >= len(rows):
        return rows
    row = rows[int(index_text)]
    if verb == "lookup" and row.statute:
        row.matches = get_catalog().search(row.statute, limit=SEARCH_RESULTS)
        row.looked_up = True
    elif verb == "use" and statute:
        row.statute, row.offense = statute, offense_for(statute)
        if row.offense is not None and row.grade.upper() not in row.offense.grades:
            row.grade = row.offense.ordered_grades[0] if len(row.offense.grades) == 1 else ""
    return rows


def _catalog_errors(payload: list[dict[str, Any]], origin: list[int]) -> Errors:
    """Statute and grade problems too, when the form has others: all of them at once."""
    charges: list[ChargeIn] = []
    rows: list[int] = []
    for index, charge in enumerate(payload):
        try:
            charges.append(ChargeIn.model_validate(charge))
        except ValidationError:
            continue
        rows.append(origin[index])
    try:
        intake.resolve_charges(charges)
    except Invalid as error:
        return field_errors(error.errors, rows)
    return {}


def _arrest_payload(values: dict[str, str], charges: list[dict[str, Any]], settings: Settings) -> dict[str, Any]:
    v = {name: optional(value) for name, value in values.items()}
    address = {key: v[key] for key in ("street", "city", "state", "zip")}
    person: dict[str, Any] = {
        "name": {"first": v["first_name"], "middle": v["middle_name"], "last": v["last_name"], "suffix": v["suffix"]},
        "aliases": aliases_payload(values["aliases"]),
        "dob": v["dob"],
        **{key: v[key] for key in ("sex", "race", "ethnicity", "place_of_birth", "citizenship", "phone", "ssn")},
        "address": address if any(address.values()) else None,
        "sid": v["sid"],
        "fbi_number": v["fbi_number"],
    }
    arrest: dict[str, Any] = {key: v[key] for key in ARREST_FIELDS}
    arrest["arrested_at"] = local_instant(values["arrested_at"], settings.zone)
    return {"person": person, "arrest": arrest, "charges": charges, "narrative": v["narrative"]}


router.include_router(pages_work.router)
router.include_router(pages_read.router)
