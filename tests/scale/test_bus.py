"""The NATS bus in one process: what a commit announces (and a rollback does not), how notices
merge, and two buses carrying a notice between them through the real NATS server."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Engine

from pars.audit.chain import CheckpointPolicy
from pars.clock import FrozenClock
from pars.db import make_session_factory
from pars.feed import bus
from pars.feed.bus import NatsBus, Notice
from pars.feed.worker import FeedWorker
from pars.outbox.events import EventType, emit
from pars.outbox.signals import StreamNews, Wakeup
from pars.settings import Settings
from pars.work import unit_of_work
from tests.conftest import User

Make = Callable[..., dict[str, Any]]


class Captured:
    """Stands in for the running bus: keeps what commits hand it."""

    def __init__(self) -> None:
        self.notices: list[Notice] = []

    def notify(self, notice: Notice) -> None:
        self.notices.append(notice)


def test_notices_merge_into_few_messages() -> None:
    pending = Notice()
    pending.merge(Notice(outbox=True))
    pending.merge(Notice(streams={"FBI": 3, "ATF": 9}))
    pending.merge(Notice(streams={"FBI": 7}, jobs=True))
    assert list(pending.messages("n1")) == [
        ("stream", {"node": "n1", "streams": {"FBI": 7, "ATF": 9}, "unknown": False}),
        ("outbox", {"node": "n1"}),
    ]
    assert list(Notice(jobs=True).messages("n1")) == [("jobs", {"node": "n1"})]
    assert not Notice()


def test_a_commit_announces_what_it_added_and_a_rollback_nothing(
    db: Engine,
    clock: FrozenClock,
    monkeypatch: pytest.MonkeyPatch,
    agreement: Make,
    fbi: User,
    book: Make,
    worker: FeedWorker,
    policy: CheckpointPolicy,
) -> None:
    agreement()
    captured = Captured()
    monkeypatch.setattr(bus, "_RUNNING", captured)
    record = book()  # a booking: an outbox event
    assert [n.outbox for n in captured.notices] == [True] and not captured.notices[0].streams

    captured.notices.clear()
    worker.fan_out()  # FBI's stream gets the booking, as sequence 1
    assert [n.streams for n in captured.notices] == [{"FBI": 1}]

    captured.notices.clear()
    factory = make_session_factory(db)

    def step_that_fails() -> None:
        with unit_of_work(factory, clock, policy=policy) as session:
            emit(session, EventType.UPDATED, uuid.UUID(record["id"]))
            session.flush()
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        step_that_fails()
    assert captured.notices == []


def test_two_buses_carry_a_notice_between_nodes(nats_url: str, nats_names: tuple[str, str]) -> None:
    stream, subject = nats_names
    settings = Settings(nats_url=nats_url, nats_stream=stream, nats_subject=subject)
    news_a, news_b, wake_b = StreamNews(), StreamNews(), Wakeup()
    a = NatsBus(settings, wake_worker=False, news=news_a).start()
    b = NatsBus(settings, wake_worker=True, news=news_b, wake=wake_b).start()
    try:
        assert a.wait_connected(30) and b.wait_connected(30)
        woken: list[float] = []
        news_b.listen("FBI", lambda: woken.append(time.monotonic()))
        sent = time.monotonic()
        a.notify(Notice(streams={"FBI": 42}))
        deadline = time.monotonic() + 30  # bounds a hang only
        while not woken and time.monotonic() < deadline:
            time.sleep(0.005)
        # Only NATS can wake it here (no database, no polling); how fast depends on how busy the
        # machine is, so the latency is reported, not asserted.
        assert woken, "no wake-up through NATS within 30 s"
        print(f"notice to wake-up through NATS: {(woken[0] - sent) * 1000:.1f} ms")
        assert news_b.latest("FBI") == 42 and wake_b.count >= 1
        assert news_a.latest("FBI") == 0  # a node ignores its own notices: its commit woke it already
    finally:
        a.stop()
        b.stop()
