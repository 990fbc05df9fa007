"""Finding records: the search parameters of CONTRACT §5, keyset pagination, and the docket.

Parameter names are checked before anything is read: a name that asks about a protected or other
record field is refused (403) and audited as a probe, so a search can never be run on, say,
place of birth; any other unknown name is a 400.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from pars.actors import CityActor
from pars.audit import AuditAction, record_event
from pars.audit.periods import within_range
from pars.clock import now
from pars.errors import BadRequest, Forbidden, Invalid, Refusal
from pars.pagination import Page, keyset_page, parse_limit
from pars.records.models import Arrest, Person
from pars.records.names import name_key
from pars.records.numbers import PPN_DIGITS, compact_tracking_number
from pars.records.repository import city_only, load_arrest
from pars.records.schemas import Status

# Search parameter → the record field a partner must be granted to use it (CONTRACT §5).
SEARCH_PARAMETERS: dict[str, str | None] = {
    "last_name": "person.name",
    "first_name": "person.name",
    "dob": "person.dob",
    "sid": "person.identifiers",
    "ppn": "person.identifiers",
    "incident_number": "arrest.incident_number",
    "docket_number": "charging",
    "arrested_from": "arrest.arrested_at",
    "arrested_to": "arrest.arrested_at",
    "district": "arrest.district",
    "tracking_number": None,
    "status": None,
}
PAGING_PARAMETERS = frozenset({"limit", "cursor"})

# Names of record fields that are not search parameters. Asking to search by one of them is a
# probe (the Philadelphia complaint was searches by place of birth), not a typo.
RECORD_FIELD_NAMES = frozenset(
    {
        "name", "middle_name", "suffix", "aliases", "alias", "sex", "gender", "race", "ethnicity",
        "place_of_birth", "birthplace", "country_of_birth", "citizenship", "nationality",
        "immigration_status", "address", "street", "city", "zip", "phone", "ssn", "fbi_number",
        "person_id", "location", "arresting_agency", "arresting_officer", "narrative", "victims",
        "witnesses", "charges", "statute", "grade", "bail_type", "bail_amount", "custody",
        "facility", "language",
    }
)  # fmt: skip


@dataclass(frozen=True)
class SearchQuery:
    filters: dict[str, str] = field(default_factory=dict)
    limit: int = 50
    cursor: str | None = None
    # The city's search page only (never the API nor a partner, CONTRACT §5): names match from
    # their start ("whit" finds White), a PPN without its leading zeros, a tracking number
    # without its letter or with other spacing. See `lenient_filters`.
    lenient: bool = False

    @property
    def parameter_names(self) -> list[str]:
        return sorted(self.filters)


def check_parameter_names(names: Iterable[str], declared: Collection[str]) -> None:
    extra = sorted(set(names) - set(declared))
    probes = [name for name in extra if _is_record_field(name)]
    if probes:
        raise Forbidden(
            f"searching by {', '.join(probes)} is not permitted",
            refusal=Refusal(AuditAction.ARREST_SEARCH, None, {"reason": "protected_field_probe", "parameters": probes}),
        )
    if extra:
        raise BadRequest(f"unknown query parameter: {', '.join(extra)}")


def parse_search(params: Mapping[str, str]) -> SearchQuery:
    check_parameter_names(params.keys(), SEARCH_PARAMETERS.keys() | PAGING_PARAMETERS)
    filters = {k: v for k, v in params.items() if k in SEARCH_PARAMETERS}
    return SearchQuery(filters=filters, limit=parse_limit(params.get("limit")), cursor=params.get("cursor"))


def _is_record_field(key: str) -> bool:
    leaf = key.rsplit(".", 1)[-1].lower()
    return leaf in RECORD_FIELD_NAMES or key.startswith(("person.", "arrest."))


def _parse_date(value: str, key: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise Invalid.one(key, "must be a date YYYY-MM-DD") from exc


def _parse_instant(value: str, key: str) -> datetime:
    try:
        instant = datetime.fromisoformat(value)
    except ValueError as exc:
        raise Invalid.one(key, "must be an ISO 8601 time with offset") from exc
    if instant.tzinfo is None:
        raise Invalid.one(key, "must carry an offset")
    return within_range(instant, key)


def where_filters(query: Select[Arrest], filters: Mapping[str, str]) -> Select[Arrest]:
    """Every filter becomes SQL; nothing is filtered in Python."""
    for key, value in filters.items():
        if key == "last_name":
            query = query.where(Arrest.last_key == name_key(value))
        elif key == "first_name":
            query = query.where(Arrest.first_key == name_key(value))
        elif key == "dob":
            query = query.where(Arrest.dob == _parse_date(value, key))
        elif key == "sid":
            query = query.where(Arrest.person.has(Person.sid == value))
        elif key == "ppn":
            query = query.where(Arrest.person.has(Person.ppn == value))
        elif key == "incident_number":
            query = query.where(Arrest.incident_number == value)
        elif key == "docket_number":
            query = query.where(Arrest.docket_number == value)
        elif key == "district":
            query = query.where(Arrest.district == value)
        elif key == "arrested_from":
            query = query.where(Arrest.arrested_at >= _parse_instant(value, key))
        elif key == "arrested_to":
            query = query.where(Arrest.arrested_at < _parse_instant(value, key))
        elif key == "tracking_number":
            compact = compact_tracking_number(value)
            if compact is None:
                raise Invalid.one(key, "is not a tracking number like N 917652-1 (or its check digit is wrong)")
            query = query.where(Arrest.tracking_number == compact)
        elif key == "status":
            if value not in set(Status):
                raise Invalid.one(key, f"must be one of {', '.join(Status)}")
            query = query.where(Arrest.status == value)
    return query


_TRACKING_TYPED = re.compile(r"^([A-Z]?)(\d{6})(\d?)$")


def lenient_filters(query: Select[Arrest], filters: Mapping[str, str]) -> tuple[Select[Arrest], dict[str, str]]:
    """The search page's forgiving reading of names, PPNs and tracking numbers, as SQL; the
    other filters are returned for `where_filters`."""
    rest = dict(filters)
    for key in ("last_name", "first_name"):
        value = name_key(rest.get(key))
        if value:
            del rest[key]
            column = Arrest.last_key if key == "last_name" else Arrest.first_key
            query = query.where(column.startswith(value, autoescape=True))
    ppn = rest.get("ppn", "").strip()
    if ppn.isdigit() and len(ppn) <= PPN_DIGITS:
        rest["ppn"] = ppn.zfill(PPN_DIGITS)
    typed = re.sub(r"[\s-]", "", rest.get("tracking_number", "")).upper()
    match = _TRACKING_TYPED.match(typed)
    if match is not None and not (match.group(1) and match.group(3)):
        # Without its letter or its check digit: any letter, any check digit (a wrong one with
        # both given is still refused as a typo by `where_filters`).
        del rest["tracking_number"]
        letter, six, check = match.groups()
        query = query.where(Arrest.tracking_number.like(f"{letter or '_'}{six}{check or '_'}"))
    elif match is not None:
        rest["tracking_number"] = typed
    return query, rest


def page_arrests(
    session: Session, query: Select[Arrest], *, limit: int, cursor: str | None, newest_first: bool
) -> Page[Arrest]:
    return keyset_page(
        session, query, at=Arrest.arrested_at, ident=Arrest.id, limit=limit, cursor=cursor, newest_first=newest_first
    )


def search_arrests(session: Session, actor: CityActor, search: SearchQuery) -> Page[Arrest]:
    """City search, newest arrest first. Partners search through the sharing gate instead."""
    city_only(actor)
    query, filters = (
        lenient_filters(select(Arrest), search.filters) if search.lenient else (select(Arrest), search.filters)
    )
    page = page_arrests(
        session,
        where_filters(query, filters),
        limit=search.limit,
        cursor=search.cursor,
        newest_first=True,
    )
    record_event(
        session,
        actor,
        AuditAction.ARREST_SEARCH,
        None,
        {"parameters": search.parameter_names, "results": len(page.items)},
    )
    return page


def read_arrest(session: Session, actor: CityActor, arrest_id: uuid.UUID) -> Arrest:
    arrest = load_arrest(session, actor, arrest_id)
    record_event(session, actor, AuditAction.ARREST_READ, arrest.id)
    return arrest


@dataclass(frozen=True)
class DocketEntry:
    arrest: Arrest
    hours_since_arrest: float
    overdue: bool


def arraignment_docket(
    session: Session, actor: CityActor, *, sla_hours: float, limit: int, cursor: str | None
) -> Page[DocketEntry]:
    """Cases waiting for preliminary arraignment (charges approved), oldest arrest first."""
    city_only(actor)
    page = _waiting(session, Status.CHARGES_APPROVED, timedelta(hours=sla_hours), limit=limit, cursor=cursor)
    record_event(session, actor, AuditAction.ARREST_DOCKET, None, {"results": len(page.items)})
    return page


def charging_queue(session: Session, actor: CityActor, *, limit: int, cursor: str | None) -> Page[DocketEntry]:
    """Arrests waiting for a charging decision (booked), oldest arrest first, with the hours
    since the arrest (the arraignment deadline runs from then, so the oldest wait is the most
    urgent). `overdue` is always false here: the SLA is the arraignment's, not charging's."""
    city_only(actor)
    page = _waiting(session, Status.BOOKED, None, limit=limit, cursor=cursor)
    record_event(
        session, actor, AuditAction.ARREST_SEARCH, None, {"parameters": ["status"], "results": len(page.items)}
    )
    return page


def _waiting(
    session: Session, status: Status, sla: timedelta | None, *, limit: int, cursor: str | None
) -> Page[DocketEntry]:
    query = select(Arrest).where(Arrest.status == status)
    page = page_arrests(session, query, limit=limit, cursor=cursor, newest_first=False)
    instant = now(session)
    entries = [
        DocketEntry(
            arrest=a,
            hours_since_arrest=round((instant - a.arrested_at).total_seconds() / 3600, 2),
            overdue=sla is not None and instant - a.arrested_at > sla,
        )
        for a in page.items
    ]
    return Page(entries, page.next_cursor)
