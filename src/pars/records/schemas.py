"""API shapes of arrest processing (CONTRACT §4–5): the inputs and their vocabularies. What
the API answers (the record, city users' and partners', and the docket) is `pars.records.record`.

Inputs forbid unknown members, so a misspelt field is a 422 naming it rather than silently
dropped data.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AwareDatetime, ConfigDict, Field, StringConstraints, model_validator

from pars.inputs import InboundModel

NamePart = Annotated[str, StringConstraints(min_length=1, max_length=200)]
ShortText = Annotated[str, StringConstraints(max_length=400)]


class Status(StrEnum):
    BOOKED = "booked"
    CHARGES_APPROVED = "charges_approved"
    CHARGES_DECLINED = "charges_declined"
    ARRAIGNED = "arraigned"
    COMMITTED = "committed"
    RELEASED = "released"


class Custody(StrEnum):
    IN_CUSTODY = "in_custody"
    COMMITTED = "committed"
    RELEASED = "released"


class ChargeStatus(StrEnum):
    PROPOSED = "proposed"
    APPROVED = "approved"
    DECLINED = "declined"


class BailType(StrEnum):
    ROR = "ROR"
    UNSECURED = "unsecured"
    MONETARY = "monetary"
    NONMONETARY = "nonmonetary"
    DENIED = "denied"


class Input(InboundModel):
    model_config = ConfigDict(extra="forbid")


class Name(Input):
    first: NamePart | None = None
    middle: NamePart | None = None
    last: NamePart
    suffix: NamePart | None = None


class Address(Input):
    street: ShortText | None = None
    city: ShortText | None = None
    state: ShortText | None = None
    zip: Annotated[str, StringConstraints(max_length=10)] | None = None


class IdentifiersIn(Input):
    sid: Annotated[str, StringConstraints(min_length=1, max_length=32)] | None = None
    fbi_number: Annotated[str, StringConstraints(min_length=1, max_length=32)] | None = None


class PersonIn(Input):
    name: Name
    aliases: list[Name] = Field(default_factory=list, max_length=20)
    dob: date
    sex: Annotated[str, StringConstraints(max_length=32)] | None = None
    race: Annotated[str, StringConstraints(max_length=64)] | None = None
    ethnicity: Annotated[str, StringConstraints(max_length=64)] | None = None
    place_of_birth: Annotated[str, StringConstraints(max_length=200)] | None = None
    citizenship: Annotated[str, StringConstraints(max_length=200)] | None = None
    address: Address | None = None
    phone: Annotated[str, StringConstraints(max_length=40)] | None = None
    ssn: Annotated[str, StringConstraints(pattern=r"^\d{3}-?\d{2}-?\d{4}$")] | None = None
    identifiers: IdentifiersIn | None = None
    # Shorthand for identifiers.sid / identifiers.fbi_number.
    sid: Annotated[str, StringConstraints(min_length=1, max_length=32)] | None = None
    fbi_number: Annotated[str, StringConstraints(min_length=1, max_length=32)] | None = None

    @property
    def resolved_sid(self) -> str | None:
        return self.sid or (self.identifiers.sid if self.identifiers else None)

    @property
    def resolved_fbi_number(self) -> str | None:
        return self.fbi_number or (self.identifiers.fbi_number if self.identifiers else None)


class ArrestDetailsIn(Input):
    arrested_at: AwareDatetime
    location: ShortText | None = None
    district: Annotated[str, StringConstraints(max_length=8)] | None = None
    incident_number: Annotated[str, StringConstraints(max_length=32)] | None = None
    arresting_agency: Annotated[str, StringConstraints(max_length=16)] | None = None
    arresting_officer: Annotated[str, StringConstraints(max_length=32)] | None = None


class ChargeIn(Input):
    """A charge by display-form statute (`18 § 2701 §§ A1`, optional trailing `*`) or by parts."""

    statute: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None
    title: int | None = None
    section: Annotated[str, StringConstraints(min_length=1, max_length=16)] | None = None
    subsection: Annotated[str, StringConstraints(max_length=16)] | None = None
    grade: Annotated[str, StringConstraints(min_length=1, max_length=4)]
    counts: int = Field(default=1, ge=1, le=999)

    @model_validator(mode="after")
    def _statute_given(self) -> ChargeIn:
        if self.statute is None and (self.title is None or self.section is None):
            raise ValueError("give either statute or title and section")
        return self


class PartyIn(Input):
    name: Name
    dob: date | None = None
    address: Address | None = None
    phone: Annotated[str, StringConstraints(max_length=40)] | None = None


class ArrestIn(Input):
    person: PersonIn
    arrest: ArrestDetailsIn
    charges: list[ChargeIn] = Field(min_length=1, max_length=50)
    narrative: Annotated[str, StringConstraints(max_length=20000)] | None = None
    victims: list[PartyIn] = Field(default_factory=list, max_length=50)
    witnesses: list[PartyIn] = Field(default_factory=list, max_length=50)


class ChargingDecisionIn(Input):
    decision: Literal["approved", "declined", "modified"]
    charges: list[ChargeIn] | None = Field(default=None, min_length=1, max_length=50)
    notes: Annotated[str, StringConstraints(max_length=4000)] | None = None


class ArraignmentIn(Input):
    held_at: AwareDatetime
    bail_type: BailType
    bail_amount: Decimal | None = Field(default=None, max_digits=14, decimal_places=2)
    conditions: Annotated[str, StringConstraints(max_length=4000)] | None = None
    next_hearing_at: AwareDatetime


class CommitmentIn(Input):
    facility: Annotated[str, StringConstraints(min_length=1, max_length=200)]


class ReleaseIn(Input):
    released_at: AwareDatetime
    reason: Annotated[str, StringConstraints(min_length=1, max_length=400)]


class SealIn(Input):
    order_ref: Annotated[str, StringConstraints(min_length=1, max_length=200)]
