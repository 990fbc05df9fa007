"""The worker's round asks the gate about every endpoint's batch at once (``gate.deliver_many``),
which shares the grant look-up and the reading and projecting of each record among them. A
property test (hypothesis): whatever the batches (partners with and without an agreement, stated
purposes the agreement names or not, records in and out of scope, withdrawals, release notices
not owed), it answers exactly what ``gate.deliver`` answers batch by batch, and leaves the same
audit entries, in the same order, and the same disclosure rows."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import settings as examples
from hypothesis import strategies as st
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from pars.actors import PartnerActor
from pars.audit.chain import CheckpointPolicy
from pars.audit.models import AuditEntry, Disclosure
from pars.auth.models import User as UserRow
from pars.auth.service import actor_for
from pars.clock import FrozenClock
from pars.db import make_session_factory
from pars.sharing import gate
from pars.sharing.gate import FeedBatch, FeedItem, FeedKind, PartnerRequest
from pars.sharing.vocabulary import Channel
from pars.work import bind
from tests.conftest import User

Make = Callable[..., dict[str, Any]]
ZONE = ZoneInfo("America/New_York")
PURPOSES = ["criminal_investigation", "fugitive_apprehension", "curiosity", None]


def test_deliver_many_answers_and_audits_as_deliver_batch_by_batch(
    db: Engine, clock: FrozenClock, policy: CheckpointPolicy, agreement: Make, fbi: User, atf: User, book: Make
) -> None:
    agreement()
    in_scope = [uuid.UUID(book()["id"]) for _ in range(3)]
    out_of_scope = uuid.UUID(book(charges=[{"statute": "75 § 3802 §§ A1", "grade": "M"}])["id"])
    factory = make_session_factory(db)
    with factory() as lookup:
        actors = [actor_for(lookup.get_one(UserRow, uuid.UUID(user.id))) for user in (fbi, atf)]
    partners = [actor for actor in actors if isinstance(actor, PartnerActor)]
    assert len(partners) == 2
    arrests = [*in_scope, out_of_scope]
    items = st.builds(
        FeedItem,
        kind=st.sampled_from(list(FeedKind)),
        arrest_id=st.sampled_from(arrests),
        sequence=st.integers(1, 50),
        detainer_id=st.sampled_from([None, uuid.UUID(int=7)]),
    )
    batches = st.lists(
        st.builds(
            FeedBatch,
            actor=st.sampled_from(partners),
            items=st.lists(items, max_size=5),
            request=st.builds(
                PartnerRequest, st.sampled_from(PURPOSES), case_reference=st.none(), channel=st.just(Channel.FEED)
            ),
        ),
        max_size=4,
    )

    def trail(session: Session, since: int) -> list[tuple[Any, ...]]:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.seq > since).order_by(AuditEntry.seq))
        rows = session.scalars(select(Disclosure).order_by(Disclosure.id))
        return [
            *((e.action, e.outcome, e.target, e.agency, e.actor_id, e.details) for e in entries),
            *((d.agency, d.user_id, d.arrest_id, d.person_id, d.purpose, d.channel, d.fields) for d in rows),
        ]

    def run(answer: Callable[[Session], Any]) -> tuple[Any, list[tuple[Any, ...]]]:
        with factory() as session:
            bind(session, clock, policy=policy)
            since = session.scalar(select(AuditEntry.seq).order_by(AuditEntry.seq.desc()).limit(1)) or 0
            answered = answer(session)
            left = trail(session, since)
            session.rollback()
        return answered, left

    @examples(max_examples=30, deadline=None)
    @given(batches)
    def agree(asked: Sequence[FeedBatch]) -> None:
        one_by_one = run(lambda s: [gate.deliver(s, b.actor, b.items, b.request, zone=ZONE) for b in asked])
        together = run(lambda s: gate.deliver_many(s, asked, zone=ZONE))
        assert together == one_by_one

    agree()
