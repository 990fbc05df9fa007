from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from pars.inputs import InboundModel
from pars.records.schemas import Status

Text = Annotated[str, StringConstraints(min_length=1, max_length=400)]


class Scope(InboundModel):
    """Absent or null members do not restrict. A record is in scope when one of its charges
    matches every charge restriction given and its status is listed."""

    model_config = ConfigDict(extra="forbid")

    grades: list[Annotated[str, StringConstraints(min_length=1, max_length=4)]] | None = None
    titles: list[int] | None = None
    sections: list[Annotated[str, StringConstraints(min_length=1, max_length=16)]] | None = None
    statuses: list[Status] | None = None


class TermsIn(InboundModel):
    model_config = ConfigDict(extra="forbid")

    title: Text
    document_ref: Text | None = None
    effective_from: AwareDatetime
    expires_at: AwareDatetime = Field(description="exclusive: at this instant nothing more is disclosed")
    purposes: list[str] = Field(min_length=1)
    channels: list[str] = Field(min_length=1)
    fields: list[str] = Field(min_length=1)
    scope: Scope = Field(default_factory=Scope)
    require_case_reference: bool = True
    require_registered_case: bool = Field(
        default=False, description="a query's PARS-Case-Reference must name an open case the partner registered"
    )
    daily_query_limit: int | None = Field(default=None, ge=1)


class AgreementIn(TermsIn):
    agency: str


class VoteIn(InboundModel):
    model_config = ConfigDict(extra="forbid")

    vote: Literal["yes", "no"]


class SuspensionIn(InboundModel):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, StringConstraints(min_length=1, max_length=2000)]


class TerminationIn(InboundModel):
    model_config = ConfigDict(extra="forbid")

    effective_at: AwareDatetime
    reason: Annotated[str, StringConstraints(min_length=1, max_length=2000)]


class VoteOut(BaseModel):
    agency: str
    vote: Literal["yes", "no"]
    at: str


class VersionOut(BaseModel):
    version: int
    status: str
    title: str
    document_ref: str | None
    effective_from: str
    expires_at: str
    purposes: list[str]
    channels: list[str]
    fields: list[str]
    scope: dict[str, Any]
    require_case_reference: bool
    require_registered_case: bool
    daily_query_limit: int | None
    votes: list[VoteOut]


class AgreementOut(BaseModel):
    id: uuid.UUID
    agency: str
    in_force: bool
    current_version: int | None
    suspended: bool
    terminated_at: str | None
    versions: list[VersionOut]


class AgreementPage(BaseModel):
    items: list[AgreementOut]
    next_cursor: str | None


class JudicialWarrant(InboundModel):
    model_config = ConfigDict(extra="forbid")

    number: Annotated[str, StringConstraints(max_length=200)] | None = None
    court: Annotated[str, StringConstraints(max_length=200)] | None = None
    judge: Annotated[str, StringConstraints(max_length=200)] | None = None
    signed_at: AwareDatetime | None = None


class DetainerIn(InboundModel):
    model_config = ConfigDict(extra="forbid")

    arrest_id: uuid.UUID
    type: Literal["hold", "notification"]
    judicial_warrant: JudicialWarrant | None = None
    document_ref: Annotated[str, StringConstraints(max_length=400)] | None = None


class DetainerOut(BaseModel):
    id: uuid.UUID
    arrest_id: uuid.UUID
    status: Literal["accepted", "declined"]
    reason: str


class DetainerPage(BaseModel):
    items: list[DetainerOut]
    next_cursor: str | None


NamePart = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class CaseSubjectIn(InboundModel):
    """Whom a case is about, as far as the partner knows. Kept only as a keyed hash."""

    model_config = ConfigDict(extra="forbid")

    last_name: NamePart
    first_name: NamePart | None = None
    dob: date | None = None


class CaseIn(InboundModel):
    model_config = ConfigDict(extra="forbid")
    checked_by_service = frozenset({"reference"})

    # Its length and characters are checked by the service (400, CONTRACT §7), not here (422).
    reference: str = Field(description="what the partner's queries carry as PARS-Case-Reference; at most 64 "
                           "printable characters, unique per agency")  # fmt: skip
    title: Text
    opened_at: AwareDatetime | None = Field(default=None, description="defaults to now")
    subjects: list[CaseSubjectIn] = Field(default_factory=list, max_length=500)


class CaseOut(BaseModel):
    id: uuid.UUID
    agency: str
    reference: str
    title: str
    opened_at: str
    closed_at: str | None
    subjects: int = Field(description="how many subjects the case names (they are kept only as keyed hashes)")


class CasePage(BaseModel):
    items: list[CaseOut]
    next_cursor: str | None
