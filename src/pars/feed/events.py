"""Stream events as CloudEvents 1.0, structured JSON (CONTRACT §9), built with the CloudEvents
SDK so that what partners parse with it is what we wrote with it."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any, Protocol

from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent

from pars.outbox.events import EventType
from pars.sharing.gate import FeedItem, FeedKind

SOURCE = "pars"
CONTENT_TYPE = JSONFormat.CONTENT_TYPE  # application/cloudevents+json
SEQUENCE_DIGITS = 20
_FORMAT = JSONFormat()


def format_sequence(sequence: int) -> str:
    """Zero-padded, so that sequences sort as text the way they sort as numbers."""
    return f"{sequence:0{SEQUENCE_DIGITS}d}"


def kind_of(event_type: str) -> FeedKind:
    if event_type == EventType.WITHDRAWN:
        return FeedKind.WITHDRAWAL
    if event_type == EventType.RELEASE_NOTICE:
        return FeedKind.RELEASE_NOTICE
    return FeedKind.RECORD


class StreamEvent(Protocol):
    """What a stream event carries out: a ``FeedEvent`` row, or a worker's claimed copy of one."""

    @property
    def event_id(self) -> uuid.UUID: ...
    @property
    def type(self) -> str: ...
    @property
    def arrest_id(self) -> uuid.UUID: ...
    @property
    def sequence(self) -> int: ...
    @property
    def detainer_id(self) -> uuid.UUID | None: ...
    @property
    def occurred_at(self) -> datetime: ...


def feed_item(event: StreamEvent) -> FeedItem:
    return FeedItem(kind_of(event.type), event.arrest_id, event.sequence, event.detainer_id)


def cloud_event(event: StreamEvent, data: dict[str, Any]) -> CloudEvent:
    """``data`` is what the gate let out for this partner at this instant."""
    return CloudEvent(
        {
            "specversion": "1.0",
            "id": str(event.event_id),
            "source": SOURCE,
            "type": event.type,
            "subject": str(event.arrest_id),
            "time": event.occurred_at,
            "sequence": format_sequence(event.sequence),
            "datacontenttype": "application/json",
        },
        data,
    )


def to_json(event: StreamEvent, data: dict[str, Any]) -> bytes:
    """Structured-mode JSON on one line (a Server-Sent Events ``data:`` line needs that)."""
    return _FORMAT.write(cloud_event(event, data))


def to_dict(event: StreamEvent, data: dict[str, Any]) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(to_json(event, data))
    return parsed
