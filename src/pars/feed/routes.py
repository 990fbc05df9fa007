"""The feed over HTTP (CONTRACT §9): poll, Server-Sent Events, webhook subscriptions."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request, Response
from fastapi.responses import StreamingResponse

from pars.actors import PartnerActor
from pars.api.deps import API_PREFIX, Cursor, Limit, SessionDep, documented, get_settings
from pars.auth.deps import require_partner
from pars.feed import service, sse
from pars.feed.delivery import error_category
from pars.feed.events import format_sequence
from pars.feed.models import WebhookAttempt
from pars.feed.schemas import (
    AttemptOut,
    AttemptPage,
    FeedPage,
    NewSubscriptionOut,
    ReplayIn,
    ReplayOut,
    SubscriptionIn,
    SubscriptionOut,
    SubscriptionPage,
)
from pars.feed.targets import system_resolver
from pars.pagination import DEFAULT_LIMIT, parse_limit
from pars.permissions import Permission
from pars.settings import Settings
from pars.sharing.gate import PartnerRequest
from pars.sharing.vocabulary import Channel

router = APIRouter(prefix=API_PREFIX, tags=["feed"])

Reader = Annotated[PartnerActor, Depends(require_partner(Permission.READ_FEED))]
Subscriber = Annotated[PartnerActor, Depends(require_partner(Permission.SUBSCRIBE_FEED))]
SettingsDep = Annotated[Settings, Depends(get_settings)]


def feed_purpose(
    purpose: Annotated[
        str | None,
        Header(alias="PARS-Purpose", description="one of the agreement's purposes; record events are disclosed for it"),
    ] = None,
) -> PartnerRequest:
    """A feed serves no single case: PARS-Case-Reference is not asked for (CONTRACT §7 applies it to queries)."""
    return PartnerRequest(purpose=purpose, case_reference=None, channel=Channel.FEED)


Purpose = Annotated[PartnerRequest, Depends(feed_purpose)]


@router.get("/feed", **documented(FeedPage))
def poll(
    session: SessionDep,
    settings: SettingsDep,
    actor: Reader,
    partner: Purpose,
    after: str | None = None,
    limit: Limit = DEFAULT_LIMIT,
) -> dict[str, Any]:
    """The caller's stream after `after` (from its start without), as CloudEvents projected now.

    Record events leave only under an agreement in force with the `feed` channel and the stated
    purpose; release notices need neither. Events that may not leave are left out and audited."""
    start = service.parse_sequence(after, "after")
    items, last = service.poll(session, actor, partner, after=start, limit=parse_limit(limit), zone=settings.zone)
    return {"items": items, "next_cursor": format_sequence(last) if last or after is not None else None}


@router.get(
    "/feed/stream",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "Server-Sent Events"}},
)
def stream(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    actor: Reader,
    partner: Purpose,
    last_event_id: Annotated[
        str | None, Header(alias="Last-Event-ID", description="resume right after this sequence")
    ] = None,
) -> StreamingResponse:
    """`id:` is the sequence, `event:` the type, `data:` the CloudEvent; comment lines keep the
    connection alive. Without `Last-Event-ID`, starts with events made after the connection;
    closes when the agreement stops."""
    start = sse.open_stream(session, actor, partner, last_event_id)
    state = request.app.state
    context = sse.StreamContext(
        factory=state.session_factory,
        clock=state.clock,
        policy=state.checkpoint_policy,
        actor=actor,
        request=partner,
        zone=settings.zone,
        keepalive=getattr(state, "feed_keepalive", sse.KEEPALIVE_SECONDS),
        poll=getattr(state, "feed_poll", sse.POLL_SECONDS),
    )
    return StreamingResponse(
        sse.stream(context, start),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.post("/subscriptions", status_code=201, response_model=NewSubscriptionOut)
def subscribe(
    request: Request, body: SubscriptionIn, session: SessionDep, settings: SettingsDep, actor: Subscriber
) -> NewSubscriptionOut:
    """The secret (`whsec_…`) is shown only in this response: keep it to verify signatures.

    The URL's host must resolve only to addresses `PARS_WEBHOOK_PRIVATE_TARGETS` allows (422
    otherwise); it is checked again on every send."""
    resolve = getattr(request.app.state, "webhook_resolver", system_resolver)
    subscription = service.subscribe(session, actor, body, targets=settings.webhook_private_targets, resolve=resolve)
    return NewSubscriptionOut.model_validate(subscription, from_attributes=True)


@router.get("/subscriptions", response_model=SubscriptionPage)
def list_subscriptions(
    session: SessionDep, actor: Subscriber, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> SubscriptionPage:
    page = service.list_subscriptions(session, actor, limit=parse_limit(limit), cursor=cursor)
    return SubscriptionPage(
        items=[SubscriptionOut.model_validate(s, from_attributes=True) for s in page.items],
        next_cursor=page.next_cursor,
    )


@router.get("/subscriptions/{subscription_id}", response_model=SubscriptionOut)
def read_subscription(subscription_id: uuid.UUID, session: SessionDep, actor: Subscriber) -> SubscriptionOut:
    return SubscriptionOut.model_validate(
        service.read_subscription(session, actor, subscription_id), from_attributes=True
    )


@router.delete("/subscriptions/{subscription_id}", status_code=204)
def delete_subscription(subscription_id: uuid.UUID, session: SessionDep, actor: Subscriber) -> Response:
    """Stops deliveries at once; attempts in flight may still arrive."""
    service.delete_subscription(session, actor, subscription_id)
    return Response(status_code=204)


def _attempt(attempt: WebhookAttempt) -> AttemptOut:
    return AttemptOut(
        id=attempt.id,
        at=attempt.at,
        event_id=attempt.event_id,
        sequence=format_sequence(attempt.sequence),
        type=attempt.type,
        attempt=attempt.attempt,
        status="succeeded" if attempt.succeeded else "failed",
        status_code=attempt.status_code,
        latency_ms=attempt.latency_ms,
        error=error_category(attempt.error, attempt.status_code),
    )


@router.get("/subscriptions/{subscription_id}/deliveries", response_model=AttemptPage)
def deliveries(
    subscription_id: uuid.UUID,
    session: SessionDep,
    actor: Subscriber,
    status: str | None = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> AttemptPage:
    """Every attempt, newest first: time, status code, latency, error. `status=failed` lists failures."""
    page = service.attempts(session, actor, subscription_id, status=status, limit=parse_limit(limit), cursor=cursor)
    return AttemptPage(items=[_attempt(a) for a in page.items], next_cursor=page.next_cursor)


@router.post("/subscriptions/{subscription_id}/replay", status_code=202, response_model=ReplayOut)
def replay(subscription_id: uuid.UUID, body: ReplayIn, session: SessionDep, actor: Subscriber) -> ReplayOut:
    """Sends again every event after `after`, each through the gate at the moment it is sent."""
    after = service.parse_sequence(body.after, "after")
    queued = service.replay(session, actor, subscription_id, after=after)
    return ReplayOut(subscription_id=subscription_id, after=format_sequence(after), queued=queued)
