from __future__ import annotations

import uuid
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from pars.inputs import InboundModel
from pars.permissions import Role


class AgencyIn(InboundModel):
    model_config = ConfigDict(extra="forbid")

    code: Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Z0-9_]{1,15}$")] = Field(examples=["PPD"])
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    ori: Annotated[str, StringConstraints(pattern=r"^[A-Z0-9]{9}$")] | None = None
    kind: Literal["city", "partner"]
    stakeholder: bool = False


class AgencyOut(BaseModel):
    code: str
    name: str
    ori: str | None
    kind: Literal["city", "partner"]
    stakeholder: bool


class AgencyPage(BaseModel):
    items: list[AgencyOut]
    next_cursor: str | None


class UserIn(InboundModel):
    model_config = ConfigDict(extra="forbid")

    agency: str
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    roles: list[Role] = Field(min_length=1)


class UserOut(BaseModel):
    id: uuid.UUID
    agency: str
    name: str
    roles: list[Role]


class NewUserOut(UserOut):
    api_key: str = Field(description="shown this once; only its digest is stored")
