"""Wake-ups inside one process: a commit that added outbox events, or a fan-out that added
stream events, wakes the worker and open event streams at once instead of at their next poll.

Across processes the same job is done by PostgreSQL ``LISTEN/NOTIFY`` (see ``pars.feed.worker``);
polling stays underneath both, so a lost wake-up only delays, never drops, an event.
"""

from __future__ import annotations

import threading

# The PostgreSQL channel that carries the same wake-ups between processes.
CHANNEL = "pars_feed"


class Wakeup:
    """A counter that only grows, and a condition to wait for it to grow."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._count = 0

    @property
    def count(self) -> int:
        return self._count

    def notify(self) -> None:
        with self._condition:
            self._count += 1
            self._condition.notify_all()

    def wait(self, seen: int, timeout: float) -> int:
        """Returns as soon as the count differs from ``seen``, or after ``timeout`` seconds."""
        with self._condition:
            self._condition.wait_for(lambda: self._count != seen, timeout=timeout)
            return self._count


WAKE = Wakeup()
