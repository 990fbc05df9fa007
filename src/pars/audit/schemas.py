from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from pars.actions import Outcome


class AuditEntryOut(BaseModel):
    seq: int
    at: datetime
    actor: uuid.UUID | None = Field(description="the user id; null for the system itself")
    agency: str | None
    action: str
    outcome: Outcome
    target: str | None
    details: dict[str, Any]
    hash: str = Field(description="hex SHA-256 of the entry's canonical encoding (docs/audit.md)")


class AuditPage(BaseModel):
    items: list[AuditEntryOut]
    next_cursor: str | None


class ProblemOut(BaseModel):
    seq: int | None = Field(description="the entry concerned, when the finding is about an entry")
    checkpoint: int | None = Field(description="the checkpoint's size, when the finding is about a checkpoint")
    reason: str


class VerificationOut(BaseModel):
    ok: bool
    entries: int = Field(description="entries checked")
    first_bad_seq: int | None = Field(description="the first altered, removed or foreign entry")
    checkpoints: int = Field(description="checkpoints checked")
    problems: list[ProblemOut] = Field(description="every finding, first 100, entries in order")


class CheckpointOut(BaseModel):
    size: int = Field(description="entries 1..size are covered")
    head: str = Field(description="hex SHA-256 hash of entry `size`")
    at: datetime
    signature: str = Field(description="hex Ed25519 signature of the canonical checkpoint (docs/audit.md)")
    public_key: str = Field(description="hex of the 32-byte Ed25519 public key")


class DisclosureOut(BaseModel):
    at: datetime
    agency: str
    user: uuid.UUID | None = Field(description="the user id")
    agreement_id: uuid.UUID
    agreement_version: int
    purpose: str
    case_reference: str | None
    channel: str
    fields: list[str]
    arrest_id: uuid.UUID = Field(description="the record disclosed (useful when listing by person)")


class DisclosurePage(BaseModel):
    items: list[DisclosureOut]
    next_cursor: str | None
