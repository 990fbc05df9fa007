"""The arrest record built from its rows (CONTRACT §4). The only place that turns rows into a
record (`pars.records.record.ArrestRecord`, validated as it is built); the sharing gate projects
it for partners."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

from pars.catalog import statute_from_parts
from pars.records.intake import Booking
from pars.records.models import Arrest, Charge
from pars.records.numbers import display_tracking_number
from pars.records.record import (
    AddressOut,
    ArraignmentOut,
    ArrestDetailsOut,
    ArrestRecord,
    ChargeOut,
    ChargingOut,
    CustodyOut,
    IdentifiersOut,
    NameOut,
    PartyOut,
    PersonOut,
)


class Written(SimpleNamespace):
    """A row as the values just inserted for it, read as attributes like the mapped object a
    load would make, without the ORM's instrumentation (`booked_record`)."""


def iso(instant: datetime | None) -> str | None:
    """Instants leave PARS in UTC, whatever offset they arrived with (as `shape.Instant` does)."""
    return None if instant is None else instant.astimezone(UTC).isoformat()


def name_object(arrest: Arrest | Written) -> NameOut:
    return NameOut(first=arrest.first_name, middle=arrest.middle_name, last=arrest.last_name, suffix=arrest.suffix)


def charge_object(charge: Charge | Written) -> ChargeOut:
    statute = statute_from_parts(charge.title, charge.section, charge.subsection)
    return ChargeOut(
        sequence=charge.sequence,
        statute=statute.display,
        title=charge.title,
        section=charge.section,
        subsection=charge.subsection,
        grade=charge.grade,
        description=charge.description,
        counts=charge.counts,
        status=charge.status,
    )


def arrest_record(arrest: Arrest | Written) -> ArrestRecord:
    """Keyword by keyword, so the checker (pydantic's mypy plugin) holds every member to the
    definition. Members kept as JSON (aliases, address, victims, witnesses) were written from the
    inputs' models (`pars.records.intake`) and are validated here again."""
    person = arrest.person
    return ArrestRecord(
        id=arrest.id,
        tracking_number=display_tracking_number(arrest.tracking_number),
        status=arrest.status,
        sealed=arrest.sealed,
        person=PersonOut(
            name=name_object(arrest),
            aliases=[NameOut.model_validate(a) for a in arrest.aliases],
            dob=arrest.dob,
            sex=arrest.sex,
            race=arrest.race,
            ethnicity=arrest.ethnicity,
            place_of_birth=arrest.place_of_birth,
            citizenship=arrest.citizenship,
            address=None if arrest.address is None else AddressOut.model_validate(arrest.address),
            phone=arrest.phone,
            ssn=arrest.ssn,
            identifiers=IdentifiersOut(
                person_id=person.id,
                ppn=person.ppn,
                sid=arrest.sid or person.sid,
                fbi_number=arrest.fbi_number or person.fbi_number,
            ),
        ),
        arrest=ArrestDetailsOut(
            arrested_at=arrest.arrested_at,
            location=arrest.location,
            district=arrest.district,
            incident_number=arrest.incident_number,
            arresting_agency=arrest.arresting_agency,
            arresting_officer=arrest.arresting_officer,
        ),
        charges=[charge_object(c) for c in arrest.charges],
        charging=None
        if arrest.charging_decision is None
        else ChargingOut(
            decision=arrest.charging_decision,
            decided_at=arrest.charging_decided_at,
            docket_number=arrest.docket_number,
            notes=arrest.charging_notes,
        ),
        arraignment=None
        if arrest.arraigned_at is None
        else ArraignmentOut(
            held_at=arrest.arraigned_at,
            bail_type=arrest.bail_type,
            bail_amount=None if arrest.bail_amount is None else float(arrest.bail_amount),
            conditions=arrest.bail_conditions,
            next_hearing_at=arrest.next_hearing_at,
        ),
        custody=CustodyOut(
            status=arrest.custody_status,
            facility=arrest.facility,
            released_at=arrest.released_at,
            release_reason=arrest.release_reason,
        ),
        narrative=arrest.narrative,
        victims=[PartyOut.model_validate(v) for v in arrest.victims],
        witnesses=[PartyOut.model_validate(w) for w in arrest.witnesses],
    )


def booked_record(booking: Booking) -> ArrestRecord:
    """The record of an arrest just booked, made from the values written (`pars.records.intake.book`)
    exactly as `arrest_record` makes it from the arrest loaded back."""
    charges = [Written(**c) for c in booking.charges]
    return arrest_record(Written(**booking.row, person=booking.person, charges=charges))
