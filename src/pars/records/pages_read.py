"""Finding and reading records (issue 7): the search page and the record page, with its
history, its disclosure accounting and the forms for the steps the reader's roles may take.

Both are for city users. A partner holds READ_RECORDS too, but only ever receives what its
agreement grants, through the sharing gate: here it gets a 403 page, and its own search page
(`partner`) instead.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from pars.actors import AnyActor, CityActor
from pars.api.deps import SessionDep
from pars.audit import AuditAction
from pars.audit.disclosures import list_disclosures
from pars.auth.service import user_names
from pars.errors import DomainError, Forbidden, Invalid, Refusal
from pars.permissions import Permission
from pars.records import history, search
from pars.records.codes import PERSON_CODES
from pars.records.pages_forms import BAIL_WORDS, ChargeRow, Errors, field_errors
from pars.records.schemas import Status
from pars.records.serialize import arrest_record
from pars.web.guard import allowed
from pars.web.render import page
from pars.work import refuse

router = APIRouter(include_in_schema=False)

SEARCH_FIELDS = (
    ("last_name", "Last name"), ("first_name", "First name"), ("dob", "Date of birth"),
    ("tracking_number", "Tracking number (OTN)"), ("ppn", "PPN"), ("sid", "SID"),
    ("incident_number", "DC number"), ("docket_number", "Docket number"), ("district", "District"),
)  # fmt: skip
PAGE_SIZE = 25
# What one page shows of a record's disclosure accounting; oversight's own page has the rest.
DISCLOSURES_SHOWN = 50


def city_reader(actor: Annotated[AnyActor, Depends(allowed(Permission.READ_RECORDS))]) -> CityActor:
    """City roles only: a partner reads records through its agreement, on its search page."""
    if not isinstance(actor, CityActor):
        raise Forbidden(
            "partners search records under their agreement, on the Search page",
            refusal=Refusal(AuditAction.AUTH_DENIED, None, {"permission": "city_records", "channel": "web"}),
        )
    return actor


CityReader = Annotated[CityActor, Depends(city_reader)]


@dataclass
class Failed:
    """A workflow form that came back with errors, to show again with what was sent."""

    form: str
    arrest_id: str
    values: dict[str, str] = field(default_factory=dict)
    errors: Errors = field(default_factory=dict)
    rows: list[ChargeRow] = field(default_factory=list)
    status: int = 422


@router.get("/arrests")
def search_page(request: Request, session: SessionDep, actor: CityReader) -> HTMLResponse:
    params = request.query_params
    values = {name: params.get(name, "").strip() for name, _ in SEARCH_FIELDS}
    values["status"] = params.get("status", "")
    filters = {name: value for name, value in values.items() if value}
    cursor = params.get("cursor") or None
    context: dict[str, Any] = {"fields": SEARCH_FIELDS, "values": values, "statuses": list(Status), "errors": {}}
    try:
        found = search.search_arrests(
            session, actor, search.SearchQuery(filters, limit=PAGE_SIZE, cursor=cursor, lenient=True)
        )
    except Invalid as error:
        refuse(session, error)
        context["errors"] = field_errors(error.errors)
        return page(request, "records/search.html", context, status=error.status)
    except DomainError as error:
        refuse(session, error)
        context["errors"] = {"form": error.detail}
        return page(request, "records/search.html", context, status=error.status)
    context["results"] = [arrest_record(a).model_dump(mode="json") for a in found.items]
    context["filtered"] = bool(filters)
    if found.next_cursor:
        context["next_page"] = "/arrests?" + urlencode({**filters, "cursor": found.next_cursor})
    return page(request, "records/search.html", context)


@router.get("/arrests/{arrest_id}")
def record_page(request: Request, session: SessionDep, actor: CityReader, arrest_id: uuid.UUID) -> HTMLResponse:
    return render_record(request, session, actor, arrest_id)


def render_record(
    request: Request, session: SessionDep, actor: CityActor, arrest_id: uuid.UUID, failed: Failed | None = None
) -> HTMLResponse:
    """The record page; `failed` shows a workflow form again with its errors (and the status)."""
    arrest = search.read_arrest(session, actor, arrest_id)
    record = arrest_record(arrest)
    disclosures = None
    if actor.may(Permission.READ_DISCLOSURES):
        disclosures = list_disclosures(
            session, actor, arrest_id=arrest.id, person_id=None, limit=DISCLOSURES_SHOWN, cursor=None
        )
    context = {
        "record": record.model_dump(mode="json"),
        "steps": history.record_history(session, arrest.id),
        "disclosures": disclosures,
        "names": user_names(session, [d.user_id for d in disclosures.items]) if disclosures else {},
        "failed": failed,
        "may": {p.value: actor.may(p) for p in Permission},
        "codes": PERSON_CODES,  # sex, race and ethnicity shown as words
        "bail_words": BAIL_WORDS,
    }
    return page(request, "records/record.html", context, status=failed.status if failed else 200)
