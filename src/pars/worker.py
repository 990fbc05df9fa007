"""The worker process, `pars worker` or a thread of `pars serve`: the feed's delivery loop
(`pars.feed.worker`) with each feature's periodic jobs composed into it (misuse detection), its
commits signing audit checkpoints when due like every other writer."""

from __future__ import annotations

import signal
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import anyio
from fastapi import FastAPI
from sqlalchemy import Engine

from pars.audit.chain import checkpoint_policy
from pars.clock import Clock, SystemClock
from pars.db import command_engine, make_session_factory
from pars.feed.bus import connected_to
from pars.feed.worker import FeedWorker, Periodic, WorkerOptions, stop_worker
from pars.oversight.scan import scan as oversight_scan
from pars.settings import Settings


def build(settings: Settings, engine: Engine, clock: Clock, **options: object) -> FeedWorker:
    """A worker whose commits sign audit checkpoints when due, like every other writer."""
    factory = make_session_factory(engine)
    policy = checkpoint_policy(settings)
    # Misuse detection rides along, so alerts follow the activity within the scan interval.
    every = settings.oversight_scan_seconds
    detectors = Periodic("oversight.scan", every, lambda: oversight_scan(factory, clock, settings, policy=policy))
    worker_options = WorkerOptions.from_settings(settings, **options)
    return FeedWorker(factory, clock, worker_options, checkpoints=policy, periodic=[detectors])


def run_in_foreground(settings: Settings, *, lease: timedelta | None, poll: float) -> None:
    """`pars worker`: until SIGTERM or SIGINT."""
    engine = command_engine(settings)
    options: dict[str, object] = {"poll": poll} if lease is None else {"poll": poll, "lease": lease}
    worker = build(settings, engine, SystemClock(), **options)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop_worker(stop, worker.wake))
    try:
        # With PARS_NATS_URL, other nodes' commits wake this worker over NATS too.
        with connected_to(settings, wake_worker=True):
            worker.run(stop, engine=engine)
    finally:
        engine.dispose()


@dataclass
class Background:
    """The worker as a thread of `pars serve`."""

    thread: threading.Thread
    stop: threading.Event

    def close(self, timeout: float = 30.0) -> None:
        stop_worker(self.stop)
        self.thread.join(timeout)


def attach(app: FastAPI, settings: Settings) -> None:
    """Runs the worker as a thread of the server for as long as the server runs: started with
    the application, stopped (the batch in hand finished and recorded) when the server shuts
    down, before the server process exits on SIGTERM."""
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(application: Any) -> AsyncIterator[Any]:
        async with inner(application) as state:
            background = start_in_background(settings)
            try:
                yield state
            finally:
                await anyio.to_thread.run_sync(background.close)

    app.router.lifespan_context = lifespan


def start_in_background(settings: Settings) -> Background:
    engine = command_engine(settings)
    worker = build(settings, engine, SystemClock())
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,), kwargs={"engine": engine}, name="pars-feed-worker")
    thread.daemon = True
    thread.start()
    return Background(thread, stop)
