"""More requests at once than the pool has connections: they wait their turn (Admission) instead
of every thread waiting for a connection held by a request that waits for a thread."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable

import httpx
import uvicorn
from sqlalchemy import Engine

from pars.app import create_app
from pars.clock import FrozenClock
from pars.db import make_engine
from pars.permissions import Role
from pars.settings import Settings
from tests.conftest import User, listening_socket


def test_a_burst_larger_than_the_thread_pool_is_served_without_errors(
    db: Engine, settings: Settings, clock: FrozenClock, make_user: Callable[..., User]
) -> None:
    booking = make_user(Role.BOOKING)
    # Two connections, and a pool that gives up quickly: without admission control, 80 requests
    # at once leave every worker thread waiting for a connection, and requests fail after 3 s.
    small = make_engine(settings.database_url, pool_size=1, max_overflow=1, pool_timeout=3)
    sock = listening_socket()  # bound now: a second test run cannot take the port meanwhile
    port = sock.getsockname()[1]
    # The queue may take a while to drain on a busy machine: waiting in it is not what is tested.
    patient = settings.model_copy(update={"http_admission_timeout": 120})
    server = uvicorn.Server(
        uvicorn.Config(create_app(patient, clock=clock, engine=small), host="127.0.0.1", port=port, log_level="error")
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    try:

        async def burst() -> list[int]:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
                replies = await asyncio.gather(
                    *(client.get("/api/v1/agencies", headers=booking.headers) for _ in range(80))
                )
                return [r.status_code for r in replies]

        assert asyncio.run(burst()) == [200] * 80
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
        small.dispose()
