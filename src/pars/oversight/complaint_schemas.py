"""API shapes of complaints (issue 16 item 4; an extension of CONTRACT §10)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from pars.inputs import InboundModel
from pars.oversight.complaints import ComplaintOutcome

# Over FREE_TEXT_LENGTH: tab and newline are allowed (pars.inputs), other control characters not.
LongText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]


class ComplaintIn(InboundModel):
    model_config = ConfigDict(extra="forbid")

    complainant: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=400)] = Field(
        description="who complained, as free text (not necessarily a PARS user); never published"
    )
    received_at: AwareDatetime | None = Field(
        default=None, description="when the complaint was received (with offset); defaults to now"
    )
    agency: Annotated[str, StringConstraints(min_length=1, max_length=16)] = Field(
        description="the code of the partner agency the complaint is about"
    )
    text: LongText = Field(description="what the complaint says; never published")


class OutcomeIn(InboundModel):
    model_config = ConfigDict(extra="forbid")

    outcome: ComplaintOutcome
    note: LongText = Field(description="why: what the inquiry found, or who withdrew it and when")


class ComplaintOut(BaseModel):
    id: uuid.UUID
    complainant: str
    received_at: datetime
    agency: str
    text: str
    outcome: ComplaintOutcome
    outcome_note: str | None
    recorded_at: datetime
    recorded_by: uuid.UUID | None = Field(description="the oversight user who recorded it")
    updated_at: datetime
    closed_at: datetime | None = Field(description="when an outcome other than open was set")
    closed_by: uuid.UUID | None


class ComplaintPage(BaseModel):
    items: list[ComplaintOut]
    next_cursor: str | None
