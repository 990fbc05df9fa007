"""Wake-ups: a commit that added outbox events, or a fan-out that added stream events, wakes the
worker and open event streams at once instead of at their next poll.

Inside one process that is ``WAKE`` (a ``Session`` ``after_commit`` hook in ``pars.outbox.events``).
Between processes it is PostgreSQL ``LISTEN/NOTIFY`` (see ``pars.feed.worker``) and, when
``PARS_NATS_URL`` is set, NATS JetStream (``pars.feed.bus``), whose notices of new stream events
arrive here as ``NEWS``. Polling stays underneath all of them, so a lost wake-up only delays,
never drops, an event.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

# The PostgreSQL channel that carries the same wake-ups between processes.
CHANNEL = "pars_feed"

Listener = Callable[[], None]


class Wakeup:
    """A counter that only grows, a condition to wait for it to grow (threads), and listeners
    called on every growth (how an asyncio task is woken: its listener only schedules a call on
    its loop, so a listener must never block)."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._count = 0
        self._listeners: set[Listener] = set()

    @property
    def count(self) -> int:
        return self._count

    def notify(self) -> None:
        with self._condition:
            self._count += 1
            self._condition.notify_all()
            listeners = list(self._listeners)
        for listener in listeners:
            listener()

    def wait(self, seen: int, timeout: float) -> int:
        """Returns as soon as the count differs from ``seen``, or after ``timeout`` seconds."""
        with self._condition:
            self._condition.wait_for(lambda: self._count != seen, timeout=timeout)
            return self._count

    def listen(self, listener: Listener) -> Callable[[], None]:
        """Calls ``listener`` on every notify until the returned function is called."""
        with self._condition:
            self._listeners.add(listener)
        return lambda: self._forget(listener)

    def _forget(self, listener: Listener) -> None:
        with self._condition:
            self._listeners.discard(listener)


class StreamNews:
    """The newest sequence of each partner's stream that another node announced (over NATS),
    and the open streams of that partner to wake when it grows. Only numbers travel: a woken
    stream reads the events from the database and the gate decides them, as always."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._latest: dict[str, int] = {}
        self._listeners: dict[str, set[Listener]] = {}

    def announce(self, agency: str, sequence: int) -> None:
        with self._lock:
            if sequence <= self._latest.get(agency, 0):
                return
            self._latest[agency] = sequence
            listeners = list(self._listeners.get(agency, ()))
        for listener in listeners:
            listener()

    def announce_all(self) -> None:
        """Some partner's stream grew, which one is not known: every open stream looks."""
        with self._lock:
            listeners = [listener for group in self._listeners.values() for listener in group]
        for listener in listeners:
            listener()

    def latest(self, agency: str) -> int:
        return self._latest.get(agency, 0)

    def listen(self, agency: str, listener: Listener) -> Callable[[], None]:
        with self._lock:
            self._listeners.setdefault(agency, set()).add(listener)
        return lambda: self._forget(agency, listener)

    def _forget(self, agency: str, listener: Listener) -> None:
        with self._lock:
            listeners = self._listeners.get(agency)
            if listeners is not None:
                listeners.discard(listener)
                if not listeners:
                    del self._listeners[agency]


WAKE = Wakeup()
NEWS = StreamNews()
