"""API shapes of the feed (CONTRACT §9)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from pars.feed.vocabulary import DeliveryError
from pars.inputs import InboundModel


class SubscriptionIn(InboundModel):
    model_config = ConfigDict(extra="forbid")

    url: Annotated[str, StringConstraints(min_length=1, max_length=2000)] = Field(
        description="https://…, or plain http:// to a loopback host only"
    )
    purpose: Annotated[str, StringConstraints(min_length=1, max_length=64)] = Field(
        description="one of the purposes of the agency's agreement in force; every delivery is disclosed for it"
    )


class SubscriptionOut(BaseModel):
    id: uuid.UUID
    url: str
    purpose: str
    status: Literal["active", "disabled"] = Field(description="disabled: the endpoint answered 410 Gone")
    status_reason: str | None
    created_at: datetime


class NewSubscriptionOut(SubscriptionOut):
    secret: str = Field(description="whsec_…: verifies the webhook-signature header; shown only now")


class SubscriptionPage(BaseModel):
    items: list[SubscriptionOut]
    next_cursor: str | None


class AttemptOut(BaseModel):
    id: int
    at: datetime
    event_id: uuid.UUID = Field(description="the CloudEvent id, sent as webhook-id")
    sequence: str
    type: str
    attempt: int = Field(description="1 for the first attempt to send this event, 2 for the first retry, …")
    status: Literal["succeeded", "failed"]
    status_code: int | None = Field(description="null when no HTTP response came (refused, timed out)")
    latency_ms: int
    error: DeliveryError | None = Field(
        description="why it failed: timeout, connection_refused, connection_error, tls_error, http_status "
        "(the code is in status_code) or forbidden_target (the host resolved to an address webhooks may not go "
        "to); never what the receiver answered"
    )


class AttemptPage(BaseModel):
    items: list[AttemptOut]
    next_cursor: str | None


class ReplayIn(InboundModel):
    model_config = ConfigDict(extra="forbid")

    after: Annotated[str, StringConstraints(pattern=r"^\d{1,20}$")] = Field(
        description="a sequence of the agency's stream: every event after it is sent again, through the gate, now"
    )


class ReplayOut(BaseModel):
    subscription_id: uuid.UUID
    after: str
    queued: int


class FeedPage(BaseModel):
    """Each item is a CloudEvent 1.0 in structured JSON, its data projected for the caller."""

    items: list[dict[str, Any]]
    next_cursor: str | None = Field(description="the last sequence examined: pass it as `after` to continue")
