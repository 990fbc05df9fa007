"""The arrest record (CONTRACT §4), defined once.

`ArrestRecord` is the whole record as a city user receives it: every member present (null where
the contract allows). `SharedRecord` is the record as a partner receives it: the head (`id`,
`tracking_number`, `status`) and, of every other member, only those its agreement grants; an
ungranted member is absent from the JSON, not null (`pydantic.MISSING`). Both, the dotted field
names agreements grant (`pars.records.fields`) and the labels the pages show derive from the
members below (`pars.records.shape`): adding a member to the record is one edit here.

Members are written in the order the JSON has always had; a member's ``title`` is its label on
the pages, and every member a partner may be granted must have one.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from pars.records.schemas import BailType, ChargeStatus, Custody, Status
from pars.records.shape import Instant, Sharing, shared_from


class NameOut(BaseModel):
    first: str | None
    middle: str | None
    last: str
    suffix: str | None


class AddressOut(BaseModel):
    street: str | None
    city: str | None
    state: str | None
    zip: str | None


class IdentifiersOut(BaseModel):
    person_id: Annotated[uuid.UUID, Field(title="Person id")]
    ppn: Annotated[str, Field(title="PPN")]
    sid: Annotated[str | None, Field(title="SID")]
    fbi_number: Annotated[str | None, Field(title="FBI number")]


class PersonOut(BaseModel):
    name: Annotated[NameOut, Field(title="Name")]
    aliases: Annotated[list[NameOut], Field(title="Aliases")]
    dob: Annotated[date, Field(title="Date of birth")]
    sex: Annotated[str | None, Field(title="Sex")]
    race: Annotated[str | None, Field(title="Race")]
    ethnicity: Annotated[str | None, Field(title="Ethnicity")]
    place_of_birth: Annotated[str | None, Field(title="Place of birth")]
    citizenship: Annotated[str | None, Field(title="Citizenship")]
    address: Annotated[AddressOut | None, Field(title="Address")]
    phone: Annotated[str | None, Field(title="Phone")]
    ssn: Annotated[str | None, Field(title="SSN")]
    identifiers: Annotated[IdentifiersOut, Field(title="Identifiers")]


class ArrestDetailsOut(BaseModel):
    arrested_at: Annotated[Instant, Field(title="Arrested")]
    location: Annotated[str | None, Field(title="Location")]
    district: Annotated[str | None, Field(title="District")]
    incident_number: Annotated[str | None, Field(title="Incident number")]
    arresting_agency: Annotated[str | None, Field(title="Arresting agency")]
    arresting_officer: Annotated[str | None, Field(title="Arresting officer")]


class ChargeOut(BaseModel):
    sequence: Annotated[int, Field(title="No.")]
    statute: Annotated[str, Field(title="Statute", examples=["18 § 2701 §§ A1"])]
    title: int
    section: str
    subsection: str | None
    grade: Annotated[str, Field(title="Grade")]
    description: Annotated[str, Field(title="Description")]
    counts: Annotated[int, Field(title="Counts")]
    status: Annotated[ChargeStatus, Field(title="Status")]


class ChargingOut(BaseModel):
    decision: Literal["approved", "declined", "modified"]
    decided_at: Annotated[Instant | None, Field(title="Decided")]
    docket_number: Annotated[str | None, Field(title="Docket number")]
    notes: str | None


class ArraignmentOut(BaseModel):
    held_at: Annotated[Instant, Field(title="Held")]
    bail_type: Annotated[BailType | None, Field(title="Bail type")]
    bail_amount: Annotated[float | None, Field(title="Bail amount")]
    conditions: str | None
    next_hearing_at: Annotated[Instant | None, Field(title="Next hearing")]


class CustodyOut(BaseModel):
    status: Annotated[Custody, Field(title="Status")]
    facility: str | None
    released_at: Annotated[Instant | None, Field(title="Released")]
    release_reason: Annotated[str | None, Field(title="Release reason")]


class PartyOut(BaseModel):
    """A victim or a witness (protected: never granted to a partner)."""

    name: NameOut
    dob: date | None
    address: AddressOut | None
    phone: str | None


class RecordHead(BaseModel):
    """The members every record carries, a partner's too, whatever its agreement grants."""

    id: Annotated[uuid.UUID, Field(title="Record id")]
    tracking_number: Annotated[str, Field(title="Tracking number", examples=["N 917652-1"])]
    status: Annotated[Status, Field(title="Status")]


class ArrestRecord(RecordHead):
    """The whole record, as a city user receives it."""

    sealed: Annotated[bool, Sharing.CITY_ONLY]
    person: Annotated[PersonOut, Sharing.BY_MEMBER, Field(title="Person")]
    arrest: Annotated[ArrestDetailsOut, Sharing.BY_MEMBER, Field(title="Arrest")]
    charges: Annotated[list[ChargeOut], Field(title="Charges")]
    charging: Annotated[ChargingOut | None, Field(title="Charging decision")]
    arraignment: Annotated[ArraignmentOut | None, Field(title="Arraignment")]
    custody: Annotated[CustodyOut, Field(title="Custody")]
    narrative: Annotated[str | None, Field(title="Narrative")]
    victims: Annotated[list[PartyOut], Field(title="Victims")]
    witnesses: Annotated[list[PartyOut], Field(title="Witnesses")]


@shared_from(ArrestRecord, RecordHead)
class SharedRecord(RecordHead):
    """The record as a partner receives it (CONTRACT §7): the head, and of the other members
    only those its agreement grants; `person` and `arrest` hold only their granted members. An
    ungranted member is absent, not null. The members beyond the head are made from
    `ArrestRecord` (`pars.records.shape.shared_from`)."""


class ArrestPage(BaseModel):
    items: list[ArrestRecord]
    next_cursor: str | None


class SharedPage(BaseModel):
    items: list[SharedRecord]
    next_cursor: str | None


class DocketItem(BaseModel):
    """A case waiting for preliminary arraignment (CONTRACT §5, the arraignment docket)."""

    arrest_id: uuid.UUID
    tracking_number: str
    name: NameOut
    arrested_at: Instant
    hours_since_arrest: float
    overdue: bool
    charges: list[ChargeOut]


class DocketPage(BaseModel):
    items: list[DocketItem]
    next_cursor: str | None
