"""Words of the feed: the states of subscriptions and of webhook jobs, where webhooks may go, and
why an attempt failed."""

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


class DeliveryError(StrEnum):
    """Why an attempt failed, as the deliveries list shows it (CONTRACT §9). Never the receiver's
    own bytes: an endpoint pointed at an internal service must not turn the list into a way of
    reading that service's answers."""

    TIMEOUT = "timeout"  # no complete status line and headers within the attempt's deadline
    CONNECTION_REFUSED = "connection_refused"
    CONNECTION_ERROR = "connection_error"  # reset, closed early, unreadable answer, unresolvable name
    TLS_ERROR = "tls_error"  # handshake or certificate verification failed
    HTTP_STATUS = "http_status"  # an answer other than 2xx; its code is in status_code
    FORBIDDEN_TARGET = "forbidden_target"  # the name resolved to an address the setting forbids
