"""The arrest record as JSON (CONTRACT §4). The only place that turns rows into a record; the
sharing gate projects this dict for partners."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pars.catalog import statute_from_parts
from pars.records.models import Arrest, Charge
from pars.records.numbers import display_tracking_number


def iso(instant: datetime | None) -> str | None:
    """Instants leave PARS in UTC, whatever offset they arrived with."""
    return None if instant is None else instant.astimezone(UTC).isoformat()


def name_object(first: str | None, middle: str | None, last: str, suffix: str | None) -> dict[str, Any]:
    return {"first": first, "middle": middle, "last": last, "suffix": suffix}


def charge_object(charge: Charge) -> dict[str, Any]:
    statute = statute_from_parts(charge.title, charge.section, charge.subsection)
    return {
        "sequence": charge.sequence,
        "statute": statute.display,
        "title": charge.title,
        "section": charge.section,
        "subsection": charge.subsection,
        "grade": charge.grade,
        "description": charge.description,
        "counts": charge.counts,
        "status": charge.status,
    }


def arrest_record(arrest: Arrest) -> dict[str, Any]:
    person = arrest.person
    return {
        "id": str(arrest.id),
        "tracking_number": display_tracking_number(arrest.tracking_number),
        "status": arrest.status,
        "sealed": arrest.sealed,
        "person": {
            "name": name_object(arrest.first_name, arrest.middle_name, arrest.last_name, arrest.suffix),
            "aliases": arrest.aliases,
            "dob": arrest.dob.isoformat(),
            "sex": arrest.sex,
            "race": arrest.race,
            "ethnicity": arrest.ethnicity,
            "place_of_birth": arrest.place_of_birth,
            "citizenship": arrest.citizenship,
            "address": arrest.address,
            "phone": arrest.phone,
            "ssn": arrest.ssn,
            "identifiers": {
                "person_id": str(person.id),
                "ppn": person.ppn,
                "sid": arrest.sid or person.sid,
                "fbi_number": arrest.fbi_number or person.fbi_number,
            },
        },
        "arrest": {
            "arrested_at": iso(arrest.arrested_at),
            "location": arrest.location,
            "district": arrest.district,
            "incident_number": arrest.incident_number,
            "arresting_agency": arrest.arresting_agency,
            "arresting_officer": arrest.arresting_officer,
        },
        "charges": [charge_object(c) for c in arrest.charges],
        "charging": None
        if arrest.charging_decision is None
        else {
            "decision": arrest.charging_decision,
            "decided_at": iso(arrest.charging_decided_at),
            "docket_number": arrest.docket_number,
            "notes": arrest.charging_notes,
        },
        "arraignment": None
        if arrest.arraigned_at is None
        else {
            "held_at": iso(arrest.arraigned_at),
            "bail_type": arrest.bail_type,
            "bail_amount": None if arrest.bail_amount is None else float(arrest.bail_amount),
            "conditions": arrest.bail_conditions,
            "next_hearing_at": iso(arrest.next_hearing_at),
        },
        "custody": {
            "status": arrest.custody_status,
            "facility": arrest.facility,
            "released_at": iso(arrest.released_at),
            "release_reason": arrest.release_reason,
        },
        "narrative": arrest.narrative,
        "victims": arrest.victims,
        "witnesses": arrest.witnesses,
    }
