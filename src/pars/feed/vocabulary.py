"""Words of the feed: the states of subscriptions and of webhook jobs."""

from __future__ import annotations

from enum import StrEnum


class SubscriptionStatus(StrEnum):
    ACTIVE = "active"
    DISABLED = "disabled"  # the endpoint answered 410 Gone
    DELETED = "deleted"  # by the partner


class JobStatus(StrEnum):
    PENDING = "pending"  # to send (again)
    DELIVERED = "delivered"  # a 2xx came back
    WITHHELD = "withheld"  # the gate refused it at send time
    CANCELLED = "cancelled"  # the subscription ended, or a replay superseded it
