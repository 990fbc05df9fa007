"""Server-Sent Events over a real HTTP server (uvicorn in a thread, on the test's frozen clock):
resuming with Last-Event-ID gives no gap and no repeat, idle streams get keep-alive comments,
the stream closes when the agreement stops, and every channel carries only granted fields."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from pars.app import create_app
from pars.clock import FrozenClock
from pars.feed.worker import FeedWorker
from pars.settings import Settings
from tests.conftest import User, listening_socket
from tests.feed.conftest import feed_headers
from tests.feed.receivers import Receiver
from tests.sharing.conftest import MARK, marked_booking

Make = Callable[..., dict[str, Any]]


@pytest.fixture
def live(db: Engine, settings: Settings, clock: FrozenClock) -> Iterator[str]:
    app = create_app(settings, clock=clock, engine=db)
    app.state.feed_keepalive, app.state.feed_poll = 0.3, 0.1
    sock = listening_socket()
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=1)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(5)
    sock.close()


@dataclass
class Frame:
    id: str | None = None
    event: str | None = None
    data: str | None = None
    comment: str | None = None


def frames(response: httpx.Response) -> Iterator[Frame]:
    """Parses the stream into events and comments as they arrive."""
    current = Frame()
    for line in response.iter_lines():
        if line == "":
            if current != Frame():
                yield current
            current = Frame()
        elif line.startswith(":"):
            yield Frame(comment=line[1:].strip())
        else:
            name, _, value = line.partition(": ")
            if name in ("id", "event", "data"):
                setattr(current, name, value)


def read_events(response: httpx.Response, count: int) -> list[Frame]:
    events = []
    for frame in frames(response):
        if frame.id is not None:
            events.append(frame)
            if len(events) == count:
                break
    return events


def test_resuming_with_last_event_id_gives_no_gap_and_no_repeat(
    live: str, agreement: Make, fbi: User, book: Make, worker: FeedWorker
) -> None:
    agreement()
    booked = [book()["id"] for _ in range(3)]
    worker.fan_out()
    headers = feed_headers(fbi)
    with httpx.Client(base_url=live, timeout=30) as http:
        with http.stream("GET", "/api/v1/feed/stream", headers={**headers, "Last-Event-ID": "0"}) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            first = read_events(response, 2)
        assert [f.id for f in first] == ["00000000000000000001", "00000000000000000002"]
        assert [f.event for f in first] == ["pars.arrest.booked"] * 2
        booked += [book()["id"] for _ in range(2)]
        worker.fan_out()
        with http.stream(
            "GET", "/api/v1/feed/stream", headers={**headers, "Last-Event-ID": first[-1].id or ""}
        ) as response:
            rest = read_events(response, 3)
    ids = [f.id for f in first + rest]
    assert ids == [f"{n:020d}" for n in range(1, 6)]
    subjects = [json.loads(f.data or "")["subject"] for f in first + rest]
    assert subjects == booked


def test_a_new_stream_starts_after_the_connection_and_keeps_alive(
    live: str, agreement: Make, fbi: User, book: Make, worker: FeedWorker
) -> None:
    agreement()
    book()
    worker.fan_out()
    seen: list[Frame] = []
    with (
        httpx.Client(base_url=live, timeout=30) as http,
        http.stream("GET", "/api/v1/feed/stream", headers=feed_headers(fbi)) as response,
    ):
        for frame in frames(response):
            seen.append(frame)
            if frame.comment == "keep-alive" and not any(f.id for f in seen):
                new = book()["id"]
                worker.fan_out()
            if frame.id is not None:
                break
    assert any(f.comment == "keep-alive" for f in seen)
    assert [(f.id, json.loads(f.data or "")["subject"]) for f in seen if f.id] == [("00000000000000000002", new)]


def test_the_stream_closes_when_the_agreement_stops(
    live: str, agreement: Make, governors: dict[str, User], fbi: User, client: TestClient
) -> None:
    agreement_id = agreement()["id"]
    started = time.monotonic()
    with (
        httpx.Client(base_url=live, timeout=30) as http,
        http.stream("GET", "/api/v1/feed/stream", headers=feed_headers(fbi)) as response,
    ):
        comments = []
        for frame in frames(response):  # ends when the server closes the stream
            # Keep-alives come every 0.3 s, so a stream that never closes is noticed here: a
            # bound on a hang, not a speed the machine must reach.
            assert time.monotonic() - started < 60, "the stream did not close"
            comments.append(frame.comment)
            if frame.comment == "keep-alive" and len(comments) == 1:
                body = {"reason": "under review"}
                headers = governors["DAO"].headers
                assert client.post(
                    f"/api/v1/agreements/{agreement_id}/suspension", json=body, headers=headers
                ).is_success
    assert any("no longer allows" in (c or "") for c in comments)


def test_every_channel_carries_only_granted_fields(
    live: str,
    client: TestClient,
    agreement: Make,
    fbi: User,
    booking: User,
    subscribe: Make,
    receiver: Receiver,
    worker: FeedWorker,
) -> None:
    agreement(fields=["person.name", "arrest.arrested_at", "charges"])
    subscribe(fbi, receiver.url())
    record = client.post("/api/v1/arrests", json=marked_booking(), headers=booking.headers).json()
    worker.drain()
    assert receiver.wait_for(1)
    polled = client.get("/api/v1/feed", headers=feed_headers(fbi)).text
    with (
        httpx.Client(base_url=live, timeout=30) as http,
        http.stream("GET", "/api/v1/feed/stream", headers={**feed_headers(fbi), "Last-Event-ID": "0"}) as response,
    ):
        streamed = read_events(response, 1)[0].data or ""
    for text in (polled, streamed, receiver.received[0].body.decode()):
        assert record["id"] in text
        assert MARK not in text and "987-65-4321" not in text
